// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: opens a file through one exact syscall form, so end-to-end tests
 * can prove each form is seen. Prints the fd or the error; exits 0 if the open
 * succeeded, 1 if it failed, 2 on bad usage.
 *
 *   am-open open PATH            open(2)
 *   am-open openat PATH          openat(AT_FDCWD, PATH)
 *   am-open dirfd DIR NAME       openat(open(DIR), NAME): relative to a directory fd
 *   am-open openat2 PATH         openat2(AT_FDCWD, PATH)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report(int fd)
{
	if (fd < 0) {
		printf("error %d %s\n", errno, strerror(errno));
		return 1;
	}
	printf("fd %d\n", fd);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "open") == 0)
		return report((int)syscall(SYS_open, argv[2], O_RDONLY));
	if (argc == 3 && strcmp(argv[1], "openat") == 0)
		return report(openat(AT_FDCWD, argv[2], O_RDONLY));
	if (argc == 4 && strcmp(argv[1], "dirfd") == 0) {
		int dir = open(argv[2], O_RDONLY | O_DIRECTORY);

		if (dir < 0)
			return report(dir);
		return report(openat(dir, argv[3], O_RDONLY));
	}
	if (argc == 3 && strcmp(argv[1], "openat2") == 0) {
		struct open_how how = {.flags = O_RDONLY};

		return report((int)syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof(how)));
	}
	fprintf(stderr, "usage: am-open open|openat|openat2 PATH | am-open dirfd DIR NAME\n");
	return 2;
}
