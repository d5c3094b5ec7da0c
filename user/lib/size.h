/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* A size as a user writes it: a number of bytes, or with a K, M or G suffix. */
#ifndef ACCESSMON_LIB_SIZE_H
#define ACCESSMON_LIB_SIZE_H

#include <stdint.h>

/*
 * 0, or -EINVAL when text is not a size: anything before the digits (a space, a
 * sign), another suffix, trailing text, or more than 64 bits.
 */
int parse_size(const char *text, uint64_t *out);

#endif /* ACCESSMON_LIB_SIZE_H */
