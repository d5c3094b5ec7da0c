// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target: HTTP request streams a pod sends to IMDS, parsed request by
 * request as the flow table does, and answers' status lines.
 */
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request request;
	const char *buf = (const char *)data, *error;
	size_t consumed, missing, offset = 0;

	while (offset < size) {
		enum http_parse_result result = http_parse_request(
			buf + offset, size - offset, &request, &consumed, &missing, &error);

		if (result != HTTP_COMPLETE || consumed == 0)
			break;
		imds_classify(request.path);
		offset += consumed;
	}
	http_parse_status(buf, size);
	return 0;
}
