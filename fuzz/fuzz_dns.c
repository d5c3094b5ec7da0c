// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer target: DNS answers as a hostile pod or resolver could shape them. */
#include <stdint.h>
#include <stdlib.h>

#include "parse/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_message msg;
	struct am_error err;

	dns_parse(data, size, &msg, &err);
	return 0;
}
