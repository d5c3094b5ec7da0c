/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a trace file must not keep of a kernel record. A record is written to the
 * trace byte for byte, so whatever it carries beyond what the pipeline reads
 * would go to disk with it:
 *  - ring buffer memory is not cleared: the bytes after a string's NUL, after a
 *    payload's captured bytes or after an exec's arguments are whatever an older
 *    record left there (another pod's request, say). They become zeros. Which
 *    strings and bytes each record type has is in its entry of event/records.h.
 *  - an HTTP request to IMDS or WireServer keeps its request lines and the
 *    values of the headers the pipeline reads (Host, Metadata, Content-Length,
 *    Transfer-Encoding); every other header keeps its name, its value becomes
 *    '*'s, and so do bodies and chunks' bytes (their sizes stay).
 *  - an HTTP answer keeps its status line; the rest becomes '*'s.
 * Lengths never change, and line ends stay wherever the framing may look for
 * them, so a replay reassembles the same streams and raises the same alerts as
 * the live run did. Each connection's stream is read by the pipeline's own flow
 * table (flows.h), which says how every byte was read: head, body, chunk, or
 * passed over. A byte it does not read (a retransmission, a connection it does
 * not follow) is hidden.
 */
#ifndef ACCESSMON_REDACT_H
#define ACCESSMON_REDACT_H

#include <stddef.h>
#include <stdint.h>

struct redactor;

/*
 * Connections followed at once, as many as the pipeline follows; the least
 * recently used one is forgotten first.
 */
#define REDACT_FLOWS_MAX 65536

struct redactor *redactor_new(void);
void redactor_free(struct redactor *redactor);

/*
 * The record as the trace may keep it: `data` itself when there is nothing to
 * take out, or a cleaned copy, valid until the next call. `size` never changes.
 * NULL only when memory ran out (the caller then drops the record, counted).
 */
const void *redactor_clean(struct redactor *redactor, const void *data, size_t size);

/* How many connections are followed now (for tests). */
size_t redactor_flows(const struct redactor *redactor);

#endif /* ACCESSMON_REDACT_H */
