// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Sizes as options and sink specs write them; see size.h. */
#include "lib/size.h"

#include <errno.h>
#include <stdlib.h>

int parse_size(const char *text, uint64_t *out)
{
	unsigned long long value;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	}
	if (shift) {
		/* A size the suffix would carry past 64 bits is no size. */
		if (value > UINT64_MAX >> shift)
			return -EINVAL;
		value <<= shift;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = value;
	return 0;
}
