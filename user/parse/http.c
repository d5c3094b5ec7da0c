// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* HTTP/1.x request heads, their framing, and IMDS paths in canonical form; see http.h. */
#include "parse/http.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void percent_decode(const char *src, size_t len, char *out, size_t out_len)
{
	size_t i = 0, o = 0;

	while (i < len && o + 1 < out_len) {
		int high, low;

		if (src[i] == '%' && i + 2 < len && (high = hex_value(src[i + 1])) >= 0 &&
		    (low = hex_value(src[i + 2])) >= 0) {
			out[o++] = (char)(high << 4 | low);
			i += 3;
		} else {
			out[o++] = src[i++];
		}
	}
	out[o] = '\0';
}

static void copy_bounded(char *out, size_t out_len, const char *src, size_t len)
{
	size_t n = len < out_len - 1 ? len : out_len - 1;

	memcpy(out, src, n);
	out[n] = '\0';
}

/* Finds the end of the head: the offset past the blank line, or 0. */
static size_t head_end(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* --- the canonical path --------------------------------------------------------- */

/*
 * Decodes until nothing more decodes (three rounds at most): IMDS decodes once,
 * but a proxy or framework in front may decode again, and at worst one did.
 */
static void decode_fully(const char *src, size_t len, char *out, size_t out_len, uint32_t *odd)
{
	char a[HTTP_VALUE_MAX * 3], b[HTTP_VALUE_MAX * 3];
	int round;

	copy_bounded(a, sizeof(a), src, len);
	for (round = 0; round < 3 && strchr(a, '%'); round++) {
		const char *p;

		/* An encoded slash or backslash would become a separator. */
		for (p = a; (p = strchr(p, '%')); p++)
			if (p[1] && p[2] &&
			    (strncasecmp(p, "%2f", 3) == 0 || strncasecmp(p, "%5c", 3) == 0))
				*odd |= HTTP_PATH_ENCODED_SLASH;
		percent_decode(a, strlen(a), b, sizeof(b));
		if (strcmp(a, b) == 0)
			break;
		strcpy(a, b);
	}
	copy_bounded(out, out_len, a, strlen(a));
}

void http_canonical_path(const char *target, size_t len, char *out, size_t out_len,
			 uint32_t *oddities)
{
	char decoded[HTTP_VALUE_MAX * 3], result[HTTP_VALUE_MAX * 3];
	size_t starts[256], n_segments = 0, o = 0;
	const char *fragment;
	uint32_t odd = 0;
	char *p;

	/* An absolute-form target (a proxy's) keeps only its path. */
	if (len > 7 && (strncasecmp(target, "http://", 7) == 0 ||
			(len > 8 && strncasecmp(target, "https://", 8) == 0))) {
		const char *authority = target + (target[4] == ':' ? 7 : 8);
		const char *slash = memchr(authority, '/', len - (size_t)(authority - target));

		odd |= HTTP_PATH_ABSOLUTE_FORM;
		len -= slash ? (size_t)(slash - target) : len;
		target = slash ? slash : target + len;
	}
	fragment = memchr(target, '#', len);
	if (fragment)
		len = (size_t)(fragment - target);
	decode_fully(target, len, decoded, sizeof(decoded), &odd);
	for (p = decoded; *p; p++) {
		if (*p == '\\') {
			*p = '/';
			odd |= HTTP_PATH_BACKSLASH;
		} else if (isupper((unsigned char)*p)) {
			*p = (char)tolower((unsigned char)*p);
			odd |= HTTP_PATH_CASE;
		}
	}
	/* Segments: empty ones and "." dropped, ".." takes back the one before. */
	for (p = decoded; *p;) {
		char *end = strchr(p, '/'), *param;
		size_t seg_len;

		if (!end)
			end = p + strlen(p);
		param = memchr(p, ';', (size_t)(end - p));
		seg_len = (size_t)((param ? param : end) - p);
		if (param)
			odd |= HTTP_PATH_PARAMETER;
		if (seg_len == 0) {
			if (p != decoded && *end == '/')
				odd |= HTTP_PATH_EMPTY_SEGMENT;
		} else if (seg_len == 1 && p[0] == '.') {
			odd |= HTTP_PATH_DOT_SEGMENT;
		} else if (seg_len == 2 && p[0] == '.' && p[1] == '.') {
			odd |= HTTP_PATH_DOT_SEGMENT;
			if (n_segments)
				o = starts[--n_segments];
		} else if (n_segments < sizeof(starts) / sizeof(starts[0]) &&
			   o + seg_len + 1 < sizeof(result)) {
			starts[n_segments++] = o;
			result[o++] = '/';
			memcpy(result + o, p, seg_len);
			o += seg_len;
		}
		p = *end ? end + 1 : end;
	}
	if (n_segments && p > decoded + 1 && p[-1] == '/')
		odd |= HTTP_PATH_TRAILING_SLASH;
	if (o == 0)
		result[o++] = '/';
	result[o] = '\0';
	copy_bounded(out, out_len, result, o);
	if (oddities)
		*oddities |= odd;
}

/* --- the query -------------------------------------------------------------------- */

/* A parameter name as compared: decoded, lower case, blanks, '-' and '_' left out. */
static void name_key(const char *name, size_t len, char *out, size_t out_len)
{
	char decoded[64];
	size_t o = 0;

	decode_fully(name, len < sizeof(decoded) * 3 ? len : sizeof(decoded) * 3, decoded,
		     sizeof(decoded), &(uint32_t){0});
	for (const char *p = decoded; *p && o + 1 < out_len; p++) {
		if (*p == '-' || *p == '_' || *p == ' ' || *p == '+' || *p == '\t')
			continue;
		out[o++] = (char)tolower((unsigned char)*p);
	}
	out[o] = '\0';
}

/* A value as IMDS reads it: decoded once, blanks around it left out. */
static void value_of(const char *value, size_t len, char *out, size_t out_len)
{
	size_t start = 0, end;

	percent_decode(value, len, out, out_len);
	end = strlen(out);
	while (start < end && (out[start] == ' ' || out[start] == '\t' || out[start] == '+'))
		start++;
	while (end > start && (out[end - 1] == ' ' || out[end - 1] == '\t' || out[end - 1] == '+'))
		end--;
	memmove(out, out + start, end - start);
	out[end - start] = '\0';
}

static const struct {
	const char *key; /* as name_key() leaves it */
	enum imds_selector kind;
} selector_keys[] = {
	{"clientid", IMDS_CLIENT_ID},	    {"objectid", IMDS_OBJECT_ID},
	{"principalid", IMDS_PRINCIPAL_ID}, {"msiresid", IMDS_MSI_RES_ID},
	{"miresid", IMDS_MI_RES_ID},
};

static void add_selector(struct http_request *req, enum imds_selector kind, const char *value)
{
	size_t i;

	for (i = 0; i < req->n_selectors; i++) {
		if (strcasecmp(req->selectors[i].value, value) == 0)
			return; /* the same value again */
		if (req->selectors[i].kind == kind)
			req->ambiguous = true;
	}
	/* Two selectors of different kinds: IMDS takes one; which, is ambiguous too. */
	if (req->n_selectors)
		req->ambiguous = true;
	if (req->n_selectors == HTTP_SELECTORS_MAX) {
		req->selectors_cut = true;
		return;
	}
	req->selectors[req->n_selectors].kind = (uint8_t)kind;
	copy_bounded(req->selectors[req->n_selectors].value, HTTP_ID_MAX, value, strlen(value));
	req->n_selectors++;
}

static void add_resource(struct http_request *req, const char *value)
{
	size_t i;

	for (i = 0; i < req->n_resources; i++)
		if (strcmp(req->resources[i], value) == 0)
			return;
	if (req->n_resources)
		req->ambiguous = true;
	if (req->n_resources == HTTP_RESOURCES_MAX) {
		req->selectors_cut = true;
		return;
	}
	copy_bounded(req->resources[req->n_resources++], HTTP_VALUE_MAX, value, strlen(value));
}

static void query_param(struct http_request *req, const char *name, size_t name_len,
			const char *value, size_t value_len)
{
	char key[32], decoded[HTTP_VALUE_MAX];
	size_t i;

	name_key(name, name_len, key, sizeof(key));
	value_of(value, value_len, decoded, sizeof(decoded));
	if (strcmp(key, "resource") == 0) {
		add_resource(req, decoded);
		return;
	}
	if (strcmp(key, "apiversion") == 0) {
		copy_bounded(req->api_version, sizeof(req->api_version), decoded, strlen(decoded));
		return;
	}
	for (i = 0; i < sizeof(selector_keys) / sizeof(selector_keys[0]); i++)
		if (strcmp(key, selector_keys[i].key) == 0 && decoded[0])
			add_selector(req, selector_keys[i].kind, decoded);
}

static void parse_target(struct http_request *req, const char *target, size_t len)
{
	const char *query = memchr(target, '?', len);
	size_t path_len = query ? (size_t)(query - target) : len;
	const char *p, *end = target + len, *path = target;

	http_canonical_path(target, path_len, req->canonical_path, sizeof(req->canonical_path),
			    &req->oddities);
	if (req->oddities & HTTP_PATH_ABSOLUTE_FORM) {
		const char *slash = memchr(target + 8, '/', path_len > 8 ? path_len - 8 : 0);

		path = slash ? slash : target + path_len;
	}
	percent_decode(path, (size_t)(target + path_len - path), req->path, sizeof(req->path));
	if (!query)
		return;
	/*
	 * A fragment is never sent by a client that means well; a server may take it
	 * off the query or leave it on the last value. Judged at worst: taken off, so
	 * that "client_id=<kubelet>#x" selects the kubelet identity.
	 */
	{
		const char *fragment = memchr(query, '#', (size_t)(end - query));

		if (fragment)
			end = fragment;
	}
	/* '&' separates parameters, and ';' too where a framework takes it so. */
	for (p = query + 1; p < end;) {
		const char *sep = p;
		const char *eq;

		while (sep < end && *sep != '&' && *sep != ';')
			sep++;
		eq = memchr(p, '=', (size_t)(sep - p));
		if (eq)
			query_param(req, p, (size_t)(eq - p), eq + 1, (size_t)(sep - eq - 1));
		p = sep + 1;
	}
}

/* --- the head ----------------------------------------------------------------------- */

uint64_t http_length_digit(uint64_t value, char digit)
{
	if (value >= HTTP_CONTENT_LENGTH_MAX)
		return HTTP_CONTENT_LENGTH_MAX;
	value = value * 10 + (uint64_t)(digit - '0');
	return value < HTTP_CONTENT_LENGTH_MAX ? value : HTTP_CONTENT_LENGTH_MAX;
}

/* Digits only (blanks around them): the length; else -1, a length that cannot be read. */
static int64_t content_length(const char *value, size_t len)
{
	uint64_t n = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -1;
		n = http_length_digit(n, value[i]);
	}
	return (int64_t)n;
}

static bool token_char(char c)
{
	return isalpha((unsigned char)c) || c == '-';
}

/* One header of the head; framing collects what decides the body. */
static void header(struct http_request *req, const char *name, size_t name_len, const char *value,
		   size_t value_len, struct http_framing *framing, int *lengths, bool *chunked,
		   bool *other_coding)
{
	if (name_len == 8 && strncasecmp(name, "metadata", 8) == 0) {
		req->metadata_header = value_len == 4 && strncasecmp(value, "true", 4) == 0;
	} else if (name_len == 4 && strncasecmp(name, "host", 4) == 0) {
		copy_bounded(req->host, sizeof(req->host), value, value_len);
	} else if (name_len == 14 && strncasecmp(name, "content-length", 14) == 0) {
		int64_t n = content_length(value, value_len);

		if (n < 0 || (*lengths && framing->length != (uint64_t)n))
			*other_coding = true; /* unreadable, or two that disagree */
		else
			framing->length = (uint64_t)n;
		(*lengths)++;
	} else if (name_len == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
		if (value_len == 7 && strncasecmp(value, "chunked", 7) == 0 && !*chunked)
			*chunked = true;
		else
			*other_coding = true;
	}
}

enum http_parse_result http_parse_request(const char *buf, size_t len, struct http_request *req,
					   size_t *consumed, struct http_framing *framing,
					   const char **error)
{
	const char *line_end, *sp1, *sp2, *p, *end;
	bool chunked = false, other_coding = false;
	size_t head, blank, i;
	int lengths = 0;

	memset(req, 0, sizeof(*req));
	memset(framing, 0, sizeof(*framing));
	*consumed = 0;
	*error = NULL;
	/* Tolerate the blank lines some clients send between pipelined requests. */
	for (blank = 0; blank < len && (buf[blank] == '\r' || buf[blank] == '\n'); blank++)
		;
	buf += blank;
	len -= blank;
	for (i = 0; i < len && i < sizeof(req->method) && token_char(buf[i]); i++)
		;
	if (len > 0 && (i == 0 || (i < len && buf[i] != ' ') || i >= sizeof(req->method))) {
		*error = "not an HTTP request line";
		return HTTP_MALFORMED;
	}
	head = head_end(buf, len);
	if (!head)
		return HTTP_NEED_MORE; /* the caller bounds how much it waits for */
	end = buf + head;
	line_end = memchr(buf, '\n', head);
	sp1 = memchr(buf, ' ', (size_t)(line_end - buf));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(line_end - sp1 - 1)) : NULL;
	if (!sp1 || !sp2) {
		*error = "request line is not METHOD TARGET VERSION";
		return HTTP_MALFORMED;
	}
	copy_bounded(req->method, sizeof(req->method), buf, (size_t)(sp1 - buf));
	parse_target(req, sp1 + 1, (size_t)(sp2 - sp1 - 1));
	copy_bounded(req->version, sizeof(req->version), sp2 + 1,
		     (size_t)(line_end - sp2 - 1 - (line_end[-1] == '\r')));
	if (strncmp(req->version, "HTTP/", 5) != 0) {
		*error = "request line does not end in an HTTP version";
		return HTTP_MALFORMED;
	}
	for (p = line_end + 1; p < end;) {
		const char *next = memchr(p, '\n', (size_t)(end - p));
		const char *colon = memchr(p, ':', (size_t)((next ? next : end) - p));
		size_t name_len, value_len;
		const char *value;

		if (!next)
			break;
		if (colon) {
			name_len = (size_t)(colon - p);
			value = colon + 1;
			while (value < next && (*value == ' ' || *value == '\t'))
				value++;
			value_len = (size_t)(next - value);
			while (value_len && (value[value_len - 1] == '\r' || value[value_len - 1] == ' ' ||
					     value[value_len - 1] == '\t'))
				value_len--;
			header(req, p, name_len, value, value_len, framing, &lengths, &chunked,
			       &other_coding);
		}
		p = next + 1;
	}
	/* Both, or a coding but chunked: where the next request starts cannot be known. */
	if (other_coding || (chunked && lengths))
		framing->body = HTTP_BODY_UNKNOWN;
	else if (chunked)
		framing->body = HTTP_BODY_CHUNKED;
	else if (lengths && framing->length)
		framing->body = HTTP_BODY_LENGTH;
	*consumed = blank + head;
	return HTTP_COMPLETE;
}

/* --- chunked bodies ----------------------------------------------------------------- */

size_t http_chunks_feed(struct http_chunks *c, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && c->state != CHUNK_DONE && c->state != CHUNK_BAD) {
		char ch = buf[i];

		switch (c->state) {
		case CHUNK_SIZE: {
			int digit = hex_value(ch);

			if (digit >= 0) {
				c->left = c->left >= HTTP_CONTENT_LENGTH_MAX >> 4
						  ? HTTP_CONTENT_LENGTH_MAX
						  : (c->left << 4) | (uint64_t)digit;
				c->digits = true;
			} else if (!c->digits) {
				c->state = CHUNK_BAD;
				break;
			} else if (ch == ';' || ch == ' ' || ch == '\t') {
				c->state = CHUNK_EXTENSION;
			} else if (ch == '\r') {
				c->state = CHUNK_EXTENSION; /* the '\n' ends it */
			} else if (ch == '\n') {
				c->state = c->left ? CHUNK_DATA : CHUNK_TRAILER;
				c->line_blank = true;
			} else {
				c->state = CHUNK_BAD;
			}
			i++;
			break;
		}
		case CHUNK_EXTENSION:
			if (ch == '\n') {
				c->state = c->left ? CHUNK_DATA : CHUNK_TRAILER;
				c->line_blank = true;
			}
			i++;
			break;
		case CHUNK_DATA: {
			size_t take = len - i < c->left ? len - i : (size_t)c->left;

			c->left -= take;
			i += take;
			if (!c->left)
				c->state = CHUNK_DATA_END;
			break;
		}
		case CHUNK_DATA_END:
			if (ch == '\n') {
				c->state = CHUNK_SIZE;
				c->digits = false;
				c->left = 0;
			} else if (ch != '\r') {
				c->state = CHUNK_BAD;
				break;
			}
			i++;
			break;
		case CHUNK_TRAILER:
			if (ch == '\n') {
				if (c->line_blank)
					c->state = CHUNK_DONE;
				c->line_blank = true;
			} else if (ch != '\r') {
				c->line_blank = false;
			}
			i++;
			break;
		default:
			break;
		}
	}
	return c->state == CHUNK_BAD ? len : i;
}

/* --- answers and IMDS ----------------------------------------------------------------- */

int http_parse_status(const char *buf, size_t len)
{
	int status = 0, i;

	if (len < 12 || strncmp(buf, "HTTP/", 5) != 0)
		return -1;
	for (i = 5; i < (int)len && buf[i] != ' '; i++)
		;
	if (i + 3 >= (int)len)
		return -1;
	for (int d = 1; d <= 3; d++) {
		if (!isdigit((unsigned char)buf[i + d]))
			return -1;
		status = status * 10 + (buf[i + d] - '0');
	}
	return status;
}

/* Whether path is prefix, or prefix and more below it. */
static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

enum imds_category imds_classify(const char *path)
{
	if (strcmp(path, "/metadata/identity/oauth2/token") == 0)
		return IMDS_IDENTITY_TOKEN;
	if (strcmp(path, "/metadata/identity") == 0 || strcmp(path, "/metadata/identity/info") == 0)
		return IMDS_IDENTITY_INFO;
	if (under(path, "/metadata/instance"))
		return IMDS_INSTANCE;
	if (under(path, "/metadata/attested"))
		return IMDS_ATTESTED;
	if (under(path, "/metadata/loadbalancer"))
		return IMDS_LOADBALANCER;
	if (under(path, "/metadata/scheduledevents"))
		return IMDS_SCHEDULED_EVENTS;
	if (strcmp(path, "/metadata/versions") == 0)
		return IMDS_VERSIONS;
	return IMDS_UNCLASSIFIED;
}

const char *imds_category_name(enum imds_category category)
{
	switch (category) {
	case IMDS_IDENTITY_TOKEN:
		return "identity-token";
	case IMDS_IDENTITY_INFO:
		return "identity-info";
	case IMDS_INSTANCE:
		return "instance";
	case IMDS_ATTESTED:
		return "attested";
	case IMDS_LOADBALANCER:
		return "loadbalancer";
	case IMDS_SCHEDULED_EVENTS:
		return "scheduledevents";
	case IMDS_VERSIONS:
		return "versions";
	default:
		return "unclassified";
	}
}

bool imds_is_token_request(const struct http_request *req)
{
	enum imds_category category = imds_classify(req->canonical_path);

	return category == IMDS_IDENTITY_TOKEN || category == IMDS_UNCLASSIFIED || req->incomplete;
}

const char *imds_selector_name(enum imds_selector kind)
{
	static const char *const names[IMDS_SELECTOR_KINDS] = {
		"client_id", "object_id", "principal_id", "msi_res_id", "mi_res_id"};

	return (unsigned int)kind < IMDS_SELECTOR_KINDS ? names[kind] : NULL;
}

const char *http_selector_first(const struct http_request *req, enum imds_selector kind)
{
	size_t i;

	for (i = 0; i < req->n_selectors; i++)
		if (req->selectors[i].kind == kind)
			return req->selectors[i].value;
	return NULL;
}

const char *http_resource(const struct http_request *req)
{
	return req->n_resources ? req->resources[0] : NULL;
}
