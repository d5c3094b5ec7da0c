/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * HTTP/1.x requests as a pod sent them to IMDS or WireServer, and what they asked
 * for. The input is the captured byte stream of one connection: requests may be
 * split across writes, pipelined, or cut short by the capture limit. Only the
 * request line, the Host and Metadata headers and the query parameters IMDS
 * selects identities with are kept; no other header, and no body, is recorded.
 */
#ifndef ACCESSMON_HTTP_H
#define ACCESSMON_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A request head longer than this is reported truncated. */
#define HTTP_MAX_REQUEST_HEAD 8192
#define HTTP_VALUE_MAX 512
/* A Content-Length beyond this reads as this (the rest of the connection is body). */
#define HTTP_CONTENT_LENGTH_MAX (1ull << 40)

enum imds_category {
	IMDS_NONE = 0,
	IMDS_IDENTITY_TOKEN,
	IMDS_IDENTITY_INFO,
	IMDS_INSTANCE,
	IMDS_ATTESTED,
	IMDS_OTHER,
};

struct http_request {
	char method[16];
	char path[HTTP_VALUE_MAX];	  /* percent-decoded, without the query */
	char version[16];
	char host[256];
	bool metadata_header;		  /* "Metadata: true" */
	/* Query parameters IMDS reads, percent-decoded; "" when absent. */
	char resource[HTTP_VALUE_MAX];
	char api_version[64];
	char client_id[HTTP_VALUE_MAX];
	char object_id[HTTP_VALUE_MAX];
	char msi_res_id[HTTP_VALUE_MAX];
	char mi_res_id[HTTP_VALUE_MAX];
	bool has_resource, has_client_id, has_object_id, has_msi_res_id, has_mi_res_id;
	bool truncated; /* the request was longer than what was captured */
};

enum http_parse_result {
	HTTP_NEED_MORE = 0, /* no complete request head yet */
	HTTP_COMPLETE = 1,  /* a request; *consumed bytes belong to it (head and body) */
	HTTP_MALFORMED = -1,
};

/*
 * Parses the request starting at buf. When the body is declared but not all
 * there, *consumed still covers what is there and *body_missing what is not.
 */
enum http_parse_result http_parse_request(const char *buf, size_t len, struct http_request *req,
					  size_t *consumed, size_t *body_missing,
					  const char **error);

/*
 * A Content-Length value so far, with one more decimal digit; saturates at
 * HTTP_CONTENT_LENGTH_MAX. Shared with the trace's redaction, which must read
 * the length exactly as the parser does.
 */
uint64_t http_length_digit(uint64_t value, char digit);

/* The "HTTP/1.1 200 OK" status of an answer's first bytes, or -1. */
int http_parse_status(const char *buf, size_t len);

/* IMDS's answer to the path: /metadata is matched case-insensitively as IMDS does. */
enum imds_category imds_classify(const char *path);
const char *imds_category_name(enum imds_category category);

/* Decodes %XX escapes of src into out (at most out_len - 1 bytes). */
void percent_decode(const char *src, size_t len, char *out, size_t out_len);

#endif /* ACCESSMON_HTTP_H */
