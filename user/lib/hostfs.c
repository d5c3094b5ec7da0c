// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Paths on the node under --host-root; see hostfs.h. */
#include "lib/hostfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *host_path(const char *host_root, const char *path)
{
	size_t root_len = strlen(host_root);
	char *joined;

	while (root_len > 0 && host_root[root_len - 1] == '/')
		root_len--;
	while (*path == '/')
		path++;
	joined = malloc(root_len + strlen(path) + 2);
	if (joined)
		sprintf(joined, "%.*s/%s", (int)root_len, host_root, path);
	return joined;
}
