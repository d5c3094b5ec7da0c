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
 *   am-open handle DIR PATH      name_to_handle_at(PATH), then open_by_handle_at
 *                                with a mount fd of DIR: no name reaches the open
 *   am-open write PATH           openat(AT_FDCWD, PATH, O_WRONLY | O_APPEND)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The file's handle first, then an open by the handle alone. */
static int open_by_handle(const char *mount_dir, const char *path)
{
	struct file_handle *handle = malloc(sizeof(*handle) + MAX_HANDLE_SZ);
	int mount_id, mount_fd, rc;

	if (!handle)
		return 2;
	handle->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, handle, &mount_id, AT_SYMLINK_FOLLOW) != 0) {
		free(handle);
		return report(-1);
	}
	mount_fd = open(mount_dir, O_RDONLY | O_DIRECTORY);
	if (mount_fd < 0) {
		free(handle);
		return report(-1);
	}
	rc = report(open_by_handle_at(mount_fd, handle, O_RDONLY));
	close(mount_fd);
	free(handle);
	return rc;
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
	if (argc == 4 && strcmp(argv[1], "handle") == 0)
		return open_by_handle(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "write") == 0)
		return report(openat(AT_FDCWD, argv[2], O_WRONLY | O_APPEND));
	fprintf(stderr, "usage: am-open open|openat|openat2|write PATH | am-open dirfd DIR NAME |"
			" am-open handle DIR PATH\n");
	return 2;
}
