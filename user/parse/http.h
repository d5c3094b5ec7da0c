/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * HTTP/1.x requests as a pod sent them to IMDS or WireServer, and what they asked
 * for. The input is the reassembled byte stream of one connection: requests may
 * be split across writes, pipelined, framed by Content-Length or chunked. Only the
 * request line, the Host and Metadata headers and the query parameters IMDS
 * selects identities with are kept; no other header, and no body, is recorded.
 *
 * A pod that has read this file will try to make the monitor see something other
 * than what IMDS sees, so the parser reads at least as liberally as IMDS does and
 * judges ambiguity at its worst: parameter names in any case and encoding, every
 * value of a repeated selector, the path in one canonical form (docs/HOW-IT-WORKS.md,
 * "What is read of IMDS and WireServer"), and a path it cannot classify is a token
 * request. Framing it cannot follow makes the rest of the connection unreadable,
 * which the rules judge as a token request for a node identity.
 */
#ifndef ACCESSMON_HTTP_H
#define ACCESSMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request head longer than this is reported truncated (the rest is read as lost). */
#define HTTP_MAX_REQUEST_HEAD 65536
#define HTTP_VALUE_MAX 512
/* Bytes of an identity selector's value kept (resource ids run to some 300). */
#define HTTP_ID_MAX 384
/* Selector values and resources kept per request; more set selectors_cut. */
#define HTTP_SELECTORS_MAX 8
#define HTTP_RESOURCES_MAX 4
/* A Content-Length or chunk size beyond this reads as this (the rest is body). */
#define HTTP_CONTENT_LENGTH_MAX (1ull << 40)

enum imds_category {
	IMDS_NONE = 0,
	IMDS_IDENTITY_TOKEN,
	IMDS_IDENTITY_INFO,
	IMDS_INSTANCE,
	IMDS_ATTESTED,
	IMDS_LOADBALANCER,
	IMDS_SCHEDULED_EVENTS,
	IMDS_VERSIONS,
	IMDS_UNCLASSIFIED, /* a path IMDS may answer that no category names: judged a token request */
};

/* The parameters IMDS selects a managed identity with. */
enum imds_selector {
	IMDS_CLIENT_ID = 0,
	IMDS_OBJECT_ID,
	IMDS_PRINCIPAL_ID,
	IMDS_MSI_RES_ID,
	IMDS_MI_RES_ID,
	IMDS_SELECTOR_KINDS,
};

struct http_selector {
	uint8_t kind; /* enum imds_selector */
	char value[HTTP_ID_MAX];
};

/* Set in http_request.oddities: what canonicalizing the path changed. */
#define HTTP_PATH_ENCODED_SLASH 0x01 /* %2F or %5C (also once more encoded) */
#define HTTP_PATH_BACKSLASH 0x02
#define HTTP_PATH_EMPTY_SEGMENT 0x04  /* // */
#define HTTP_PATH_DOT_SEGMENT 0x08    /* /./ or /../ */
#define HTTP_PATH_TRAILING_SLASH 0x10
#define HTTP_PATH_CASE 0x20	      /* letters not in lower case */
#define HTTP_PATH_PARAMETER 0x40      /* ;param in a segment */
#define HTTP_PATH_ABSOLUTE_FORM 0x80  /* http://host/... */

struct http_request {
	char method[16];
	char path[HTTP_VALUE_MAX];	     /* percent-decoded once, without the query */
	char canonical_path[HTTP_VALUE_MAX]; /* what the path is classified by */
	uint32_t oddities;		     /* HTTP_PATH_* */
	char version[16];
	char host[256];
	bool metadata_header; /* "Metadata: true" */
	/* Query parameters IMDS reads, names in any case, percent-decoded. */
	char resources[HTTP_RESOURCES_MAX][HTTP_VALUE_MAX];
	uint8_t n_resources;
	char api_version[64];
	struct http_selector selectors[HTTP_SELECTORS_MAX];
	uint8_t n_selectors;
	bool selectors_cut; /* more selector values or resources than were kept */
	bool ambiguous;	    /* one parameter given twice with different values */
	bool truncated;	    /* the request was longer than what could be read */
	bool incomplete;    /* bytes of the connection were lost: this is judged at its worst */
};

enum http_parse_result {
	HTTP_NEED_MORE = 0, /* no complete request head yet */
	HTTP_COMPLETE = 1,  /* a request; *consumed bytes belong to its head */
	HTTP_MALFORMED = -1,
};

/* How a request's body is framed: what follows its head on the connection. */
enum http_body {
	HTTP_BODY_NONE = 0,
	HTTP_BODY_LENGTH,  /* Content-Length bytes */
	HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	HTTP_BODY_UNKNOWN, /* framing the parser cannot follow (two lengths, another coding) */
};

struct http_framing {
	enum http_body body;
	uint64_t length; /* HTTP_BODY_LENGTH: the body's bytes */
};

/*
 * Parses the request head starting at buf: the request, *consumed bytes of head
 * (blank lines before it included), and how its body is framed.
 */
enum http_parse_result http_parse_request(const char *buf, size_t len, struct http_request *req,
					   size_t *consumed, struct http_framing *framing,
					   const char **error);

/*
 * A Content-Length value so far, with one more decimal digit; saturates at
 * HTTP_CONTENT_LENGTH_MAX. Shared with the trace's redaction, which must read
 * the length exactly as the parser does.
 */
uint64_t http_length_digit(uint64_t value, char digit);

/*
 * A chunked body being skipped: fed the body's bytes as they come, it says where
 * the chunks end. The framing the trace's redaction mirrors.
 */
struct http_chunks {
	enum {
		CHUNK_SIZE = 0,	  /* hex digits of the next chunk's size */
		CHUNK_EXTENSION,  /* ;name=value up to the line's end */
		CHUNK_DATA,	  /* the chunk's bytes */
		CHUNK_DATA_END,	  /* the CRLF after them */
		CHUNK_TRAILER,	  /* trailer lines after the last chunk, up to a blank one */
		CHUNK_DONE,
		CHUNK_BAD,
	} state;
	uint64_t left;	   /* CHUNK_DATA: bytes left; CHUNK_SIZE: the size so far */
	bool digits;	   /* CHUNK_SIZE: a digit was seen */
	bool line_blank;   /* CHUNK_TRAILER: nothing on this line yet */
};

/*
 * Feeds len body bytes; returns how many belong to the chunked body (fewer than
 * len once it ends: the rest is the next request). state CHUNK_BAD: not chunked
 * as HTTP frames it; the rest of the connection cannot be read.
 */
size_t http_chunks_feed(struct http_chunks *chunks, const char *buf, size_t len);

/* The "HTTP/1.1 200 OK" status of an answer's first bytes, or -1. */
int http_parse_status(const char *buf, size_t len);

/*
 * The canonical form of a request target's path (docs/HOW-IT-WORKS.md, "What is read
 * of IMDS and WireServer"): decoded, backslashes and encoded slashes as slashes, empty
 * and dot segments and ;parameters gone, no trailing slash, lower case. Sets the
 * HTTP_PATH_* oddities it met.
 */
void http_canonical_path(const char *target, size_t len, char *out, size_t out_len,
			 uint32_t *oddities);

/* IMDS's answer to a canonical path; anything else under any name is IMDS_UNCLASSIFIED. */
enum imds_category imds_classify(const char *canonical_path);
const char *imds_category_name(enum imds_category category);
/* Whether the request is judged a token request: the token path, or one unclassified. */
bool imds_is_token_request(const struct http_request *req);
const char *imds_selector_name(enum imds_selector kind);
/* The first value of a selector, or NULL. */
const char *http_selector_first(const struct http_request *req, enum imds_selector kind);
/* The first resource, or NULL. */
const char *http_resource(const struct http_request *req);

/* Decodes %XX escapes of src into out (at most out_len - 1 bytes). */
void percent_decode(const char *src, size_t len, char *out, size_t out_len);

#endif /* ACCESSMON_HTTP_H */
