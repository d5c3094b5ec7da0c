/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Paths on the node. Every host path the monitor reads is prefixed with
 * --host-root (default "/"), so it can run in a container with the host mounted
 * at /host, and tests can build a fake node tree.
 */
#ifndef ACCESSMON_HOSTFS_H
#define ACCESSMON_HOSTFS_H

/* host_root + path, without a doubled slash; malloc'd, NULL when out of memory. */
char *host_path(const char *host_root, const char *path);

#endif /* ACCESSMON_HOSTFS_H */
