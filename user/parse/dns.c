// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* A bounded DNS message parser; see dns.h. */
#include "parse/dns.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define DNS_HEADER_LEN 12
/* Compression pointers followed for one name at most. */
#define DNS_MAX_JUMPS 32

static uint16_t read16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t read32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Reads the name at *offset into out and moves *offset past it. Pointers must go
 * strictly backwards, which rules out loops whatever their shape.
 */
static int read_name(const uint8_t *data, size_t len, size_t *offset, char *out)
{
	size_t pos = *offset, out_len = 0, end = 0, lowest = *offset;
	int jumps = 0;

	out[0] = '\0';
	for (;;) {
		uint8_t label;

		if (pos >= len)
			return -EINVAL;
		label = data[pos];
		if (label == 0) {
			if (!end)
				end = pos + 1;
			break;
		}
		if ((label & 0xc0) == 0xc0) {
			size_t target;

			if (pos + 1 >= len)
				return -EINVAL;
			target = (size_t)((label & 0x3f) << 8 | data[pos + 1]);
			if (target >= lowest || ++jumps > DNS_MAX_JUMPS)
				return -ELOOP;
			if (!end)
				end = pos + 2;
			lowest = target;
			pos = target;
			continue;
		}
		if (label & 0xc0)
			return -EINVAL; /* the 0x40 and 0x80 label types are obsolete */
		if (pos + 1 + label > len)
			return -EINVAL;
		if (out_len + (out_len ? 1 : 0) + label > DNS_NAME_MAX)
			return -ENAMETOOLONG;
		if (out_len)
			out[out_len++] = '.';
		for (size_t i = 0; i < label; i++)
			out[out_len++] = (char)tolower(data[pos + 1 + i]);
		out[out_len] = '\0';
		pos += 1 + label;
	}
	*offset = end;
	return 0;
}

static const char *reason(int rc)
{
	switch (rc) {
	case -ELOOP:
		return "compression pointer loop";
	case -ENAMETOOLONG:
		return "name longer than 255 bytes";
	default:
		return "truncated or malformed name";
	}
}

int dns_parse(const uint8_t *data, size_t len, struct dns_message *out, struct am_error *err)
{
	size_t offset = DNS_HEADER_LEN, i;
	uint16_t questions, answers;
	char name[DNS_NAME_MAX + 1];
	int rc;

	memset(out, 0, offsetof(struct dns_message, records));
	if (len < DNS_HEADER_LEN) {
		am_error_set(err, "DNS message of %zu bytes is shorter than its header", len);
		return -EINVAL;
	}
	out->id = read16(data);
	out->response = data[2] & 0x80;
	out->rcode = data[3] & 0x0f;
	questions = read16(data + 4);
	answers = read16(data + 6);
	for (i = 0; i < questions; i++) {
		rc = read_name(data, len, &offset, name);
		if (rc || offset + 4 > len) {
			am_error_set(err, "DNS question %zu at byte %zu: %s", i, offset,
				     rc ? reason(rc) : "truncated");
			return rc ? rc : -EINVAL;
		}
		if (i == 0) {
			memcpy(out->question, name, sizeof(name));
			out->question_type = read16(data + offset);
		}
		offset += 4;
	}
	for (i = 0; i < answers; i++) {
		struct dns_record *record;
		uint16_t type, rdlength;
		uint32_t ttl;
		size_t rdata;

		rc = read_name(data, len, &offset, name);
		if (rc || offset + 10 > len) {
			am_error_set(err, "DNS answer %zu at byte %zu: %s", i, offset,
				     rc ? reason(rc) : "truncated");
			return rc ? rc : -EINVAL;
		}
		type = read16(data + offset);
		ttl = read32(data + offset + 4);
		rdlength = read16(data + offset + 8);
		rdata = offset + 10;
		if (rdata + rdlength > len) {
			am_error_set(err, "DNS answer %zu at byte %zu: data length %u runs past the "
					  "message",
				     i, offset, rdlength);
			return -EINVAL;
		}
		offset = rdata + rdlength;
		if (out->n_records >= DNS_MAX_RECORDS)
			continue;
		record = &out->records[out->n_records];
		if (type == DNS_TYPE_A && rdlength == 4) {
			memset(record->addr, 0, sizeof(record->addr));
			memcpy(record->addr, data + rdata, 4);
			record->family = 4;
		} else if (type == DNS_TYPE_AAAA && rdlength == 16) {
			memcpy(record->addr, data + rdata, 16);
			record->family = 6;
		} else if (type == DNS_TYPE_CNAME) {
			size_t target = rdata;

			record->family = 0;
			rc = read_name(data, rdata + rdlength, &target, record->target);
			if (rc) {
				am_error_set(err, "DNS answer %zu: CNAME target: %s", i, reason(rc));
				return rc;
			}
		} else {
			continue;
		}
		memcpy(record->name, name, sizeof(name));
		record->type = type;
		record->ttl = ttl;
		out->n_records++;
	}
	return 0;
}
