// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the DNS answer parser (parse/dns.h), with a real capture, messages
 * built field by field, and hostile input.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse/dns.h"

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

/* A message under construction: a header, then names and records appended. */
struct message {
	uint8_t data[4096];
	size_t len;
};

static void put8(struct message *m, uint8_t value)
{
	assert_true(m->len < sizeof(m->data));
	m->data[m->len++] = value;
}

static void put16(struct message *m, uint16_t value)
{
	put8(m, (uint8_t)(value >> 8));
	put8(m, (uint8_t)value);
}

static void put32(struct message *m, uint32_t value)
{
	put16(m, (uint16_t)(value >> 16));
	put16(m, (uint16_t)value);
}

/* "a.b" as labels, ending with the root. */
static void put_name(struct message *m, const char *name)
{
	while (*name) {
		size_t len = strcspn(name, ".");

		put8(m, (uint8_t)len);
		assert_true(m->len + len <= sizeof(m->data));
		memcpy(m->data + m->len, name, len);
		m->len += len;
		name += len;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

/* A response with one question and `answers` answers to come; flags as given. */
static void begin(struct message *m, uint16_t id, uint16_t flags, const char *question,
		  uint16_t answers)
{
	m->len = 0;
	put16(m, id);
	put16(m, flags);
	put16(m, 1);
	put16(m, answers);
	put16(m, 0);
	put16(m, 0);
	put_name(m, question);
	put16(m, DNS_TYPE_A);
	put16(m, 1);
}

static void answer(struct message *m, const char *name, uint16_t type, uint32_t ttl,
		   const void *rdata, uint16_t rdlength)
{
	put_name(m, name);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, rdlength);
	assert_true(m->len + rdlength <= sizeof(m->data));
	memcpy(m->data + m->len, rdata, rdlength);
	m->len += rdlength;
}

static void dns_kept_and_skipped_records(void **state)
{
	static const uint8_t v4[4] = {10, 1, 2, 3}, v6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
							       0, 0, 0, 0, 0, 0, 0, 7};
	struct dns_message *msg = malloc(sizeof(*msg));
	struct message *m = malloc(sizeof(*m));
	struct am_error err;

	(void)state;
	begin(m, 0x1234, 0x8180, "KV.Vault.Azure.NET", 4);
	answer(m, "KV.Vault.Azure.NET", DNS_TYPE_AAAA, 30, v6, 16);
	/* A TXT record and an A record of the wrong size are skipped, not errors. */
	answer(m, "kv.vault.azure.net", 16, 30, "\x03" "abc", 4);
	answer(m, "kv.vault.azure.net", DNS_TYPE_A, 30, v4, 3);
	answer(m, "kv.vault.azure.net", DNS_TYPE_A, 4294967295u, v4, 4);
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), 0);
	assert_int_equal(msg->id, 0x1234);
	assert_true(msg->response);
	assert_int_equal(msg->question_type, DNS_TYPE_A);
	/* Names come out in lower case. */
	assert_string_equal(msg->question, "kv.vault.azure.net");
	assert_int_equal(msg->n_records, 2);
	assert_int_equal(msg->records[0].type, DNS_TYPE_AAAA);
	assert_int_equal(msg->records[0].family, 6);
	assert_memory_equal(msg->records[0].addr, v6, 16);
	assert_string_equal(msg->records[0].name, "kv.vault.azure.net");
	assert_int_equal(msg->records[1].family, 4);
	assert_memory_equal(msg->records[1].addr, v4, 4);
	assert_int_equal(msg->records[1].ttl, 4294967295u);

	/* A query is no response; an NXDOMAIN keeps its code. */
	begin(m, 7, 0x0100, "a.example", 0);
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), 0);
	assert_false(msg->response);
	begin(m, 7, 0x8183, "a.example", 0);
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), 0);
	assert_int_equal(msg->rcode, 3);
	assert_int_equal(msg->n_records, 0);
	free(m);
	free(msg);
}

static void dns_records_are_bounded(void **state)
{
	struct dns_message *msg = malloc(sizeof(*msg));
	struct message *m = malloc(sizeof(*m));
	struct am_error err;
	uint8_t addr[4] = {10, 0, 0, 0};
	int i;

	(void)state;
	begin(m, 1, 0x8180, "many.example", DNS_MAX_RECORDS + 36);
	for (i = 0; i < DNS_MAX_RECORDS + 36; i++) {
		addr[3] = (uint8_t)i;
		/* A pointer to the question's name: 12 is where it starts. */
		put16(m, 0xc00c);
		put16(m, DNS_TYPE_A);
		put16(m, 1);
		put32(m, 60);
		put16(m, 4);
		memcpy(m->data + m->len, addr, 4);
		m->len += 4;
	}
	/* The rest are read past, not kept, and not an error. */
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), 0);
	assert_int_equal(msg->n_records, DNS_MAX_RECORDS);
	assert_string_equal(msg->records[DNS_MAX_RECORDS - 1].name, "many.example");
	assert_int_equal(msg->records[DNS_MAX_RECORDS - 1].addr[3], DNS_MAX_RECORDS - 1);
	free(m);
	free(msg);
}

static void dns_errors_say_where(void **state)
{
	struct dns_message *msg = malloc(sizeof(*msg));
	struct message *m = malloc(sizeof(*m));
	struct am_error err;

	(void)state;
	/* The question's type and class cut off. */
	begin(m, 1, 0x8180, "a.example", 0);
	assert_int_equal(dns_parse(m->data, m->len - 2, msg, &err), -EINVAL);
	assert_string_equal(err.msg, "DNS question 0 at byte 23: truncated");
	/* A label of the obsolete 0x40 type. */
	begin(m, 1, 0x8180, "a.example", 0);
	m->data[12] = 0x41;
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), -EINVAL);
	assert_string_equal(err.msg, "DNS question 0 at byte 12: truncated or malformed name");
	/* An answer's fixed part cut short. */
	begin(m, 1, 0x8180, "a.example", 1);
	put_name(m, "a.example");
	put16(m, DNS_TYPE_A);
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), -EINVAL);
	assert_string_equal(err.msg, "DNS answer 0 at byte 38: truncated");
	/* A CNAME whose target points past its own data. */
	begin(m, 1, 0x8180, "a.example", 1);
	answer(m, "a.example", DNS_TYPE_CNAME, 5, "\x01" "b\xc0", 3);
	assert_int_equal(dns_parse(m->data, m->len, msg, &err), -EINVAL);
	assert_string_equal(err.msg, "DNS answer 0: CNAME target: truncated or malformed name");
	free(m);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_real_answer_with_cname_chain),
		cmocka_unit_test(dns_hostile_messages),
		cmocka_unit_test(dns_kept_and_skipped_records),
		cmocka_unit_test(dns_records_are_bounded),
		cmocka_unit_test(dns_errors_say_where),
	};

	return cmocka_run_group_tests_name("dns", tests, NULL, NULL);
}
