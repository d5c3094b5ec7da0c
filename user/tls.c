// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* SNI from a TLS ClientHello; see tls.h. */
#include "tls.h"

#include <ctype.h>
#include <errno.h>

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

int tls_client_hello_sni(const uint8_t *data, size_t len, char *out, size_t out_len)
{
	struct cursor c = {data, len, 0};
	size_t value, ext_total, type, ext_len, end;
	int rc;

	if (len < 1)
		return -EAGAIN;
	if (data[0] != TLS_HANDSHAKE)
		return -EINVAL;
	/* Record header: type, version, length. */
	if ((rc = skip(&c, 3)) || (rc = read16(&c, &value)))
		return rc;
	/* Handshake header: ClientHello, 24-bit length. */
	if ((rc = read8(&c, &type)))
		return rc;
	if (type != TLS_CLIENT_HELLO)
		return -EINVAL;
	if ((rc = read24(&c, &value)))
		return rc;
	/* Version, random, session id, cipher suites, compression methods. */
	if ((rc = skip(&c, 2 + 32)) || (rc = read8(&c, &value)) || (rc = skip(&c, value)) ||
	    (rc = read16(&c, &value)) || (rc = skip(&c, value)) || (rc = read8(&c, &value)) ||
	    (rc = skip(&c, value)))
		return rc;
	if (c.pos == c.len)
		return -EAGAIN;
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
