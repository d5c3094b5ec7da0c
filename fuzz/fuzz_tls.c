// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* libFuzzer target: the first bytes of a TLS connection, read for the server name. */
#include <stdint.h>

#include "name/destinations.h"
#include "parse/tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct destination_class class;
	char sni[TLS_SNI_MAX + 1];

	if (tls_client_hello_sni(data, size, sni, sizeof(sni)) == 0)
		destination_classify_host(sni, &class);
	return 0;
}
