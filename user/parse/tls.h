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

/* The largest ClientHello read (a handshake message, over any number of records). */
#define TLS_HELLO_MAX 16384

/*
 * The server name of the ClientHello at the start of a connection's bytes, which
 * may be split over several TLS records. 0 with the name in out (lower case);
 * -ENOENT: a ClientHello without SNI; -EAGAIN: not all there yet; -EINVAL: not a
 * ClientHello; -E2BIG: a hello longer than TLS_HELLO_MAX.
 */
int tls_client_hello_sni(const uint8_t *data, size_t len, char *out, size_t out_len);

#endif /* ACCESSMON_TLS_H */
