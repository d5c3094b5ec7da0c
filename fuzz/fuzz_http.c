// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: HTTP request heads a pod sends to IMDS, parsed one after
 * another as the flow table does (bodies skipped by their framing, chunked ones
 * through the chunk reader), every path canonicalised and classified, and
 * answers' status lines. Properties: the parser never reads past what it is
 * given, consumes what it says, and canonicalising a canonical path changes
 * nothing (unless decoding made '%', '#' or '?' of escapes). How whole connections are read, and cleaned for a trace, is
 * fuzz_flows.c's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request request;
	const char *buf = (const char *)data, *error;
	struct http_framing framing;
	struct http_chunks chunks;
	size_t consumed, offset = 0;

	while (offset < size) {
		enum http_parse_result result = http_parse_request(
			buf + offset, size - offset, &request, &consumed, &framing, &error);
		char again[HTTP_VALUE_MAX];
		uint32_t odd = 0;

		if (result != HTTP_COMPLETE)
			break;
		if (consumed == 0 || consumed > size - offset)
			abort();
		imds_classify(request.canonical_path);
		imds_is_token_request(&request);
		http_canonical_path(request.canonical_path, strlen(request.canonical_path), again,
				    sizeof(again), &odd);
		/* The canonical form is a fixed point, but for what decoding made of escapes. */
		if (!strpbrk(request.canonical_path, "%#?") &&
		    strcmp(again, request.canonical_path) != 0)
			abort();
		offset += consumed;
		if (framing.body == HTTP_BODY_LENGTH) {
			if (framing.length >= size - offset)
				break;
			offset += framing.length;
		} else if (framing.body == HTTP_BODY_CHUNKED) {
			memset(&chunks, 0, sizeof(chunks));
			offset += http_chunks_feed(&chunks, buf + offset, size - offset);
			if (chunks.state != CHUNK_DONE)
				break;
		} else if (framing.body == HTTP_BODY_UNKNOWN) {
			break;
		}
	}
	http_parse_status(buf, size);
	return 0;
}
