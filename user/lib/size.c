// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Sizes as options and sink specs write them; see size.h. */
#include "lib/size.h"

#include <errno.h>
#include <stdlib.h>

int parse_size(const char *text, uint64_t *out)
{
	unsigned long long value;
	char *end;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno || end == text || text[0] == '-')
		return -EINVAL;
	switch (*end) {
	case 'K':
	case 'k':
		value <<= 10;
		end++;
		break;
	case 'M':
	case 'm':
		value <<= 20;
		end++;
		break;
	case 'G':
	case 'g':
		value <<= 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = value;
	return 0;
}
