// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the parsers of what pods send and receive (DNS answers, HTTP request
 * heads, TLS ClientHellos), with real captures and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse/dns.h"
#include "parse/http.h"
#include "parse/tls.h"

/*
 * A real answer for myreg.azurecr.io as a resolver sends it (captured with
 * tcpdump, ids and TTLs kept): two CNAMEs into the privatelink zone, then an A.
 */
static const unsigned char registry_answer[] = {
	0x8a, 0x3b, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	/* question: myreg.azurecr.io A IN */
	0x05, 'm', 'y', 'r', 'e', 'g', 0x07, 'a', 'z', 'u', 'r', 'e', 'c', 'r', 0x02, 'i', 'o', 0x00,
	0x00, 0x01, 0x00, 0x01,
	/* myreg.azurecr.io CNAME myreg.privatelink.azurecr.io (compressed) */
	0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x14,
	0x05, 'm', 'y', 'r', 'e', 'g', 0x0b, 'p', 'r', 'i', 'v', 'a', 't', 'e', 'l', 'i', 'n', 'k',
	0xc0, 0x12,
	/* myreg.privatelink.azurecr.io CNAME r1.eastus.cloudapp.azure.com */
	0xc0, 0x2e, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x1e,
	0x02, 'r', '1', 0x06, 'e', 'a', 's', 't', 'u', 's', 0x08, 'c', 'l', 'o', 'u', 'd', 'a', 'p',
	'p', 0x05, 'a', 'z', 'u', 'r', 'e', 0x03, 'c', 'o', 'm', 0x00,
	/* r1.eastus.cloudapp.azure.com A 20.62.128.5 */
	0xc0, 0x4e, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x04, 20, 62, 128, 5,
};

static void dns_real_answer_with_cname_chain(void **state)
{
	struct dns_message *msg = malloc(sizeof(*msg));
	struct am_error err;

	(void)state;
	assert_int_equal(dns_parse(registry_answer, sizeof(registry_answer), msg, &err), 0);
	assert_true(msg->response);
	assert_int_equal(msg->rcode, 0);
	assert_string_equal(msg->question, "myreg.azurecr.io");
	assert_int_equal(msg->n_records, 3);
	assert_int_equal(msg->records[0].type, DNS_TYPE_CNAME);
	assert_string_equal(msg->records[0].name, "myreg.azurecr.io");
	assert_string_equal(msg->records[0].target, "myreg.privatelink.azurecr.io");
	assert_int_equal(msg->records[0].ttl, 3600);
	assert_string_equal(msg->records[1].target, "r1.eastus.cloudapp.azure.com");
	assert_int_equal(msg->records[2].type, DNS_TYPE_A);
	assert_string_equal(msg->records[2].name, "r1.eastus.cloudapp.azure.com");
	assert_memory_equal(msg->records[2].addr, ((unsigned char[]){20, 62, 128, 5}), 4);
	free(msg);
}

static void dns_hostile_messages(void **state)
{
	struct dns_message *msg = malloc(sizeof(*msg));
	unsigned char buf[600];
	struct am_error err;
	size_t i;

	(void)state;
	/* Shorter than a header. */
	assert_int_equal(dns_parse(registry_answer, 11, msg, &err), -EINVAL);
	/* Every cut of a real answer fails cleanly or parses what is whole. */
	for (i = 12; i < sizeof(registry_answer); i++)
		assert_true(dns_parse(registry_answer, i, msg, &err) <= 0);
	/* A pointer to itself, and a pointer forward. */
	memcpy(buf, registry_answer, 34);
	buf[34] = 0xc0;
	buf[35] = 34;
	assert_int_equal(dns_parse(buf, 36 + 10, msg, &err), -ELOOP);
	assert_non_null(strstr(err.msg, "compression pointer loop"));
	buf[35] = 40;
	assert_int_equal(dns_parse(buf, 46, msg, &err), -ELOOP);
	/* A name longer than 255 bytes. */
	memset(buf, 0, sizeof(buf));
	buf[5] = 1; /* one question */
	for (i = 0; i < 5; i++) {
		buf[12 + i * 64] = 63;
		memset(buf + 13 + i * 64, 'a', 63);
	}
	assert_int_equal(dns_parse(buf, 12 + 5 * 64 + 5, msg, &err), -ENAMETOOLONG);
	/* An answer whose data length runs past the message. */
	memcpy(buf, registry_answer, sizeof(registry_answer));
	buf[sizeof(registry_answer) - 5] = 0xff;
	assert_int_equal(dns_parse(buf, sizeof(registry_answer), msg, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "runs past the message"));
	/* Counts that lie: 65535 answers in a short message. */
	memcpy(buf, registry_answer, sizeof(registry_answer));
	buf[6] = buf[7] = 0xff;
	assert_true(dns_parse(buf, sizeof(registry_answer), msg, &err) < 0);
	free(msg);
}

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_real_answer_with_cname_chain),
		cmocka_unit_test(dns_hostile_messages),
		cmocka_unit_test(tls_server_names),
	};

	return cmocka_run_group_tests_name("parsers", tests, NULL, NULL);
}
