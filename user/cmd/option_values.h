/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The forms option values take, each checked completely, whether they come
 * from the command line or --config. A size (parse_size) is in lib/size.h.
 */
#ifndef ACCESSMON_CMD_OPTION_VALUES_H
#define ACCESSMON_CMD_OPTION_VALUES_H

#include <stdint.h>

#include "cmd/options.h"
#include "event/line.h"
#include "lib/error.h"

/* --format: json or text. */
int parse_format(const char *arg, enum output_format *format, struct am_error *err);
/* A whole number of seconds within [min, max], for `option`. */
int parse_seconds(const char *option, const char *arg, unsigned long min, unsigned long max,
		  unsigned int *out, struct am_error *err);
/* --ringbuf-size: a power of two from 4096 to 1 GiB. */
int parse_ringbuf_size(const char *text, uint32_t *out, struct am_error *err);
/* PORT, HOST:PORT or [IPV6]:PORT; a port alone listens on loopback only. */
int parse_listen(struct monitor_options *options, const char *text, struct am_error *err);

#endif /* ACCESSMON_CMD_OPTION_VALUES_H */
