// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: HTTP request streams a pod sends to IMDS, parsed request by
 * request as the flow table does, and answers' status lines. The same stream,
 * cut into segments and cleaned for the trace (redact.c), must parse exactly as
 * the original did: a replay raises the alerts the live run raised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "accessmon.h"
#include "http.h"
#include "redact.h"

/* Cleans data as segments of at most `cut` bytes of one connection, into out. */
static void clean_stream(const uint8_t *data, size_t size, size_t cut, uint8_t *out)
{
	static struct am_payload_record record;
	struct redactor *redactor = redactor_new();
	size_t offset = 0;

	if (!redactor)
		abort();
	while (offset < size) {
		size_t len = size - offset < cut ? size - offset : cut;
		const struct am_payload_record *clean;

		memset(&record, 0, sizeof(record));
		record.header.type = AM_REC_PAYLOAD;
		record.header.size = sizeof(record);
		record.cookie = 1;
		record.kind = AM_PAYLOAD_HTTP_REQUEST;
		record.seq = 1000 + (uint32_t)offset;
		record.payload_len = record.captured = (uint32_t)len;
		memcpy(record.data, data + offset, len);
		clean = redactor_clean(redactor, &record, sizeof(record));
		if (!clean || clean->captured != len)
			abort();
		memcpy(out + offset, clean->data, len);
		offset += len;
	}
	redactor_free(redactor);
}

static void same_requests(const char *a, const char *b, size_t size)
{
	static struct http_request ra, rb;
	size_t ca, cb, ma, mb, offset = 0;
	const char *ea, *eb;

	while (offset < size) {
		enum http_parse_result xa = http_parse_request(a + offset, size - offset, &ra, &ca,
							       &ma, &ea);
		enum http_parse_result xb = http_parse_request(b + offset, size - offset, &rb, &cb,
							       &mb, &eb);

		if (xa != xb || (xa == HTTP_MALFORMED && strcmp(ea, eb) != 0))
			abort();
		if (xa != HTTP_COMPLETE)
			return;
		if (ca != cb || ma != mb || strcmp(ra.method, rb.method) || strcmp(ra.path, rb.path) ||
		    strcmp(ra.host, rb.host) || ra.metadata_header != rb.metadata_header ||
		    strcmp(ra.resource, rb.resource) || strcmp(ra.client_id, rb.client_id) ||
		    strcmp(ra.mi_res_id, rb.mi_res_id) || ra.truncated != rb.truncated)
			abort();
		if (ca == 0 || ma)
			return; /* the flow table skips the missing body from here */
		offset += ca;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request request;
	const char *buf = (const char *)data, *error;
	size_t consumed, missing, offset = 0, cut;
	uint8_t *clean;

	while (offset < size) {
		enum http_parse_result result = http_parse_request(
			buf + offset, size - offset, &request, &consumed, &missing, &error);

		if (result != HTTP_COMPLETE || consumed == 0)
			break;
		imds_classify(request.path);
		offset += consumed;
	}
	http_parse_status(buf, size);

	if (size < 1 || size > 8 * AM_PAYLOAD_LEN)
		return 0;
	/* The first byte picks where segments end; the rest is the stream. */
	cut = (size_t)data[0] % AM_PAYLOAD_LEN + 1;
	clean = malloc(size);
	if (!clean)
		return 0;
	clean_stream(data + 1, size - 1, cut, clean);
	same_requests(buf + 1, (const char *)clean, size - 1);
	free(clean);
	return 0;
}
