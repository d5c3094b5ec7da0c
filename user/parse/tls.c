// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* SNI from a TLS ClientHello; see tls.h. */
#include "parse/tls.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#define TLS_HANDSHAKE 22
#define TLS_CLIENT_HELLO 1
#define TLS_EXT_SERVER_NAME 0

/* A cursor over the bytes that are there; reads past the end fail with -EAGAIN. */
struct cursor {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

static int skip(struct cursor *c, size_t n)
{
	if (c->len - c->pos < n)
		return -EAGAIN;
	c->pos += n;
	return 0;
}

static int read8(struct cursor *c, size_t *out)
{
	if (c->len - c->pos < 1)
		return -EAGAIN;
	*out = c->data[c->pos++];
	return 0;
}

static int read16(struct cursor *c, size_t *out)
{
	if (c->len - c->pos < 2)
		return -EAGAIN;
	*out = (size_t)c->data[c->pos] << 8 | c->data[c->pos + 1];
	c->pos += 2;
	return 0;
}

static int read24(struct cursor *c, size_t *out)
{
	if (c->len - c->pos < 3)
		return -EAGAIN;
	*out = (size_t)c->data[c->pos] << 16 | (size_t)c->data[c->pos + 1] << 8 |
	       c->data[c->pos + 2];
	c->pos += 3;
	return 0;
}

static int server_name(struct cursor *c, size_t ext_len, char *out, size_t out_len)
{
	size_t list_len, type, name_len, end = c->pos + ext_len, i;
	int rc;

	if ((rc = read16(c, &list_len)))
		return rc;
	while (c->pos < end) {
		if ((rc = read8(c, &type)) || (rc = read16(c, &name_len)))
			return rc;
		if (c->len - c->pos < name_len)
			return -EAGAIN;
		if (type != 0) {
			c->pos += name_len;
			continue;
		}
		if (name_len == 0 || name_len > TLS_SNI_MAX || name_len >= out_len)
			return -EINVAL;
		for (i = 0; i < name_len; i++)
			out[i] = (char)tolower(c->data[c->pos + i]);
		out[name_len] = '\0';
		/* A name ending in a dot means the same host. */
		if (name_len > 1 && out[name_len - 1] == '.')
			out[name_len - 1] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* The ClientHello's body, from its version on: its server name, if any. */
static int hello_sni(struct cursor c, char *out, size_t out_len)
{
	size_t value, ext_total, type, ext_len, end;
	int rc;

	/* Version, random, session id, cipher suites, compression methods. */
	if ((rc = skip(&c, 2 + 32)) || (rc = read8(&c, &value)) || (rc = skip(&c, value)) ||
	    (rc = read16(&c, &value)) || (rc = skip(&c, value)) || (rc = read8(&c, &value)) ||
	    (rc = skip(&c, value)))
		return rc;
	if (c.pos == c.len)
		return -ENOENT; /* no extensions at all */
	if ((rc = read16(&c, &ext_total)))
		return rc;
	end = c.pos + ext_total;
	while (c.pos < end) {
		if ((rc = read16(&c, &type)) || (rc = read16(&c, &ext_len)))
			return rc;
		if (type == TLS_EXT_SERVER_NAME)
			return server_name(&c, ext_len, out, out_len);
		if ((rc = skip(&c, ext_len)))
			return rc;
	}
	return -ENOENT;
}

/*
 * The handshake bytes of the records at the start of a connection, put together:
 * a ClientHello may be split over several TLS records (each with its own header),
 * as over several segments. Returns the handshake bytes collected, or -EINVAL when
 * the bytes are not TLS handshake records.
 */
static long collect_handshake(const uint8_t *data, size_t len, uint8_t *out, size_t out_cap)
{
	size_t pos = 0, n = 0;

	while (pos < len) {
		size_t record_len, take;

		if (data[pos] != TLS_HANDSHAKE)
			return n ? (long)n : -EINVAL;
		if (len - pos < 5)
			break;
		record_len = (size_t)data[pos + 3] << 8 | data[pos + 4];
		take = len - pos - 5 < record_len ? len - pos - 5 : record_len;
		if (take > out_cap - n)
			take = out_cap - n;
		memcpy(out + n, data + pos + 5, take);
		n += take;
		if (take < record_len)
			break; /* this record is not all there yet */
		pos += 5 + record_len;
	}
	return (long)n;
}

int tls_client_hello_sni(const uint8_t *data, size_t len, char *out, size_t out_len)
{
	uint8_t handshake[TLS_HELLO_MAX];
	size_t type, body;
	long n;
	struct cursor c;
	int rc;

	if (len < 1)
		return -EAGAIN;
	n = collect_handshake(data, len, handshake, sizeof(handshake));
	if (n < 0)
		return (int)n;
	c = (struct cursor){handshake, (size_t)n, 0};
	/* Handshake header: ClientHello, 24-bit length; then the hello must be all there. */
	if ((rc = read8(&c, &type)))
		return rc;
	if (type != TLS_CLIENT_HELLO)
		return -EINVAL;
	if ((rc = read24(&c, &body)))
		return rc;
	if (body > sizeof(handshake) - 4)
		return -E2BIG;
	if (c.len - c.pos < body)
		return -EAGAIN;
	c.len = c.pos + body;
	return hello_sni(c, out, out_len);
}
