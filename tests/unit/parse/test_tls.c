// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the server name of a TLS ClientHello (parse/tls.h), from a hello as
 * curl sends it, cut, split over records, and lying.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse/tls.h"

/* A ClientHello as curl 7.88 (OpenSSL 3) sends it, cut to what matters. */
static size_t client_hello(unsigned char *buf, const char *sni, bool with_sni)
{
	size_t n = 0, name_len = strlen(sni), ext_start, hs_start, rec_start;

	buf[n++] = 0x16;
	buf[n++] = 0x03;
	buf[n++] = 0x01;
	rec_start = n;
	n += 2;
	buf[n++] = 0x01;
	hs_start = n;
	n += 3;
	buf[n++] = 0x03;
	buf[n++] = 0x03;
	memset(buf + n, 0x42, 32);
	n += 32;
	buf[n++] = 32; /* session id */
	memset(buf + n, 0x17, 32);
	n += 32;
	buf[n++] = 0;
	buf[n++] = 4; /* cipher suites */
	buf[n++] = 0x13;
	buf[n++] = 0x01;
	buf[n++] = 0x13;
	buf[n++] = 0x02;
	buf[n++] = 1; /* compression */
	buf[n++] = 0;
	ext_start = n;
	n += 2;
	/* An extension before the name: supported groups. */
	buf[n++] = 0x00;
	buf[n++] = 0x0a;
	buf[n++] = 0;
	buf[n++] = 4;
	buf[n++] = 0;
	buf[n++] = 2;
	buf[n++] = 0x00;
	buf[n++] = 0x1d;
	if (with_sni) {
		buf[n++] = 0;
		buf[n++] = 0;
		buf[n++] = (unsigned char)((name_len + 5) >> 8);
		buf[n++] = (unsigned char)(name_len + 5);
		buf[n++] = (unsigned char)((name_len + 3) >> 8);
		buf[n++] = (unsigned char)(name_len + 3);
		buf[n++] = 0;
		buf[n++] = (unsigned char)(name_len >> 8);
		buf[n++] = (unsigned char)name_len;
		memcpy(buf + n, sni, name_len);
		n += name_len;
	}
	buf[ext_start] = (unsigned char)((n - ext_start - 2) >> 8);
	buf[ext_start + 1] = (unsigned char)(n - ext_start - 2);
	buf[hs_start] = 0;
	buf[hs_start + 1] = (unsigned char)((n - hs_start - 3) >> 8);
	buf[hs_start + 2] = (unsigned char)(n - hs_start - 3);
	buf[rec_start] = (unsigned char)((n - rec_start - 2) >> 8);
	buf[rec_start + 1] = (unsigned char)(n - rec_start - 2);
	return n;
}

static void tls_server_names(void **state)
{
	unsigned char hello[512];
	char sni[256];
	size_t n, i;

	(void)state;
	n = client_hello(hello, "KV-Payments.Vault.Azure.NET.", true);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), 0);
	assert_string_equal(sni, "kv-payments.vault.azure.net");
	/* Cut anywhere before the name: "need more", never a crash. */
	for (i = 0; i < n - 1; i++)
		assert_int_equal(tls_client_hello_sni(hello, i, sni, sizeof(sni)), -EAGAIN);
	n = client_hello(hello, "", false);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), -ENOENT);
	assert_int_equal(tls_client_hello_sni((const unsigned char *)"GET / HTTP/1.1", 14, sni,
					      sizeof(sni)),
			 -EINVAL);
	/* A name length that lies: more bytes than there are. */
	n = client_hello(hello, "a.example", true);
	hello[n - strlen("a.example") - 2] = 0xff;
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), -EAGAIN);
	/* A zero-length name is not a name. */
	n = client_hello(hello, "", true);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), -EINVAL);
}

/* The hello's handshake bytes in two records, the first holding `first` of them. */
static size_t split_in_two(const unsigned char *hello, size_t n, size_t first, unsigned char *out)
{
	size_t rest = n - 5 - first;

	memcpy(out, hello, 3);
	out[3] = (unsigned char)(first >> 8);
	out[4] = (unsigned char)first;
	memcpy(out + 5, hello + 5, first);
	memcpy(out + 5 + first, hello, 3);
	out[8 + first] = (unsigned char)(rest >> 8);
	out[9 + first] = (unsigned char)rest;
	memcpy(out + 10 + first, hello + 5 + first, rest);
	return n + 5;
}

static void tls_hello_over_several_records(void **state)
{
	unsigned char hello[512], split[520];
	char sni[256];
	size_t n, len, first;

	(void)state;
	n = client_hello(hello, "myreg.azurecr.io", true);
	/* Wherever the record boundary falls, even inside the handshake header. */
	for (first = 1; first < n - 5; first++) {
		len = split_in_two(hello, n, first, split);
		memset(sni, 0, sizeof(sni));
		if (tls_client_hello_sni(split, len, sni, sizeof(sni)) != 0)
			fail_msg("split after %zu bytes: no name", first);
		assert_string_equal(sni, "myreg.azurecr.io");
		/* The second record not all there yet. */
		assert_int_equal(tls_client_hello_sni(split, len - 1, sni, sizeof(sni)), -EAGAIN);
	}
}

static void tls_what_is_not_a_named_hello(void **state)
{
	/* A handshake record holding a ServerHello. */
	static const unsigned char server_hello[] = {0x16, 0x03, 0x03, 0x00, 0x04,
						     0x02, 0x00, 0x00, 0x00};
	/* A ClientHello claiming 16 KiB of body: more than is ever read. */
	static const unsigned char giant[] = {0x16, 0x03, 0x01, 0x00, 0x04,
					      0x01, 0x00, 0x40, 0x00};
	unsigned char hello[1024];
	char long_name[TLS_SNI_MAX + 2], sni[TLS_SNI_MAX + 1], small[8];
	size_t n;

	(void)state;
	assert_int_equal(tls_client_hello_sni(server_hello, sizeof(server_hello), sni, sizeof(sni)),
			 -EINVAL);
	assert_int_equal(tls_client_hello_sni(giant, sizeof(giant), sni, sizeof(sni)), -E2BIG);
	/* A name longer than a host name can be, or than the caller's buffer. */
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	n = client_hello(hello, long_name, true);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), -EINVAL);
	n = client_hello(hello, "a.example", true);
	assert_int_equal(tls_client_hello_sni(hello, n, small, sizeof(small)), -EINVAL);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), 0);
	assert_string_equal(sni, "a.example");
	/* A lone dot stays what it is. */
	n = client_hello(hello, ".", true);
	assert_int_equal(tls_client_hello_sni(hello, n, sni, sizeof(sni)), 0);
	assert_string_equal(sni, ".");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls_server_names),
		cmocka_unit_test(tls_hello_over_several_records),
		cmocka_unit_test(tls_what_is_not_a_named_hello),
	};

	return cmocka_run_group_tests_name("tls", tests, NULL, NULL);
}
