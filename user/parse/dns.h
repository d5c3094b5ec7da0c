/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * DNS answers, parsed from the bytes a pod received. Input is hostile: lengths
 * may lie, compression pointers may loop or point forward, names may be giant.
 * Every read is bounded; a bad message gives an error, never a crash or a hang.
 */
#ifndef ACCESSMON_DNS_H
#define ACCESSMON_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define DNS_NAME_MAX 255
#define DNS_MAX_RECORDS 64

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_AAAA = 28,
};

struct dns_record {
	char name[DNS_NAME_MAX + 1]; /* lower case, no trailing dot */
	uint16_t type;		     /* enum dns_type; other types are skipped */
	uint32_t ttl;
	uint8_t family; /* 4 or 6 for A and AAAA */
	uint8_t addr[16];
	char target[DNS_NAME_MAX + 1]; /* CNAME target */
};

struct dns_message {
	uint16_t id;
	bool response;
	uint8_t rcode;
	char question[DNS_NAME_MAX + 1];
	uint16_t question_type;
	size_t n_records; /* A, AAAA and CNAME answers kept */
	struct dns_record records[DNS_MAX_RECORDS];
};

/* Parses one DNS message (without the TCP length prefix). */
int dns_parse(const uint8_t *data, size_t len, struct dns_message *out, struct am_error *err);

#endif /* ACCESSMON_DNS_H */
