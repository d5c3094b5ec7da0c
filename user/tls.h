/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The server name (SNI) of a TLS ClientHello, from the first bytes a client sent
 * on a connection. Hostile input: every length is checked against what is there.
 */
#ifndef ACCESSMON_TLS_H
#define ACCESSMON_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_SNI_MAX 255

/*
 * 0 with the name in out (lower case); -ENOENT: a ClientHello without SNI;
 * -EAGAIN: cut short before the name; -EINVAL: not a ClientHello.
 */
int tls_client_hello_sni(const uint8_t *data, size_t len, char *out, size_t out_len);

#endif /* ACCESSMON_TLS_H */
