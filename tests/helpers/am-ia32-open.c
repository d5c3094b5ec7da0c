// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: a 64-bit program that opens a file through the 32-bit (ia32)
 * syscall entry, `int $0x80`, which any x86_64 process may use (unless the kernel
 * was booted with ia32_emulation=false). The kernel reads only the low 32 bits of
 * each argument register, so every pointer it is given lives in memory mapped
 * with MAP_32BIT. Prints the fd or the error as am-open does; exits 0 if the call
 * succeeded, 1 if it failed, 2 on bad usage.
 *
 *   am-ia32-open open PATH          ia32 open (5)
 *   am-ia32-open openat PATH        ia32 openat (295), AT_FDCWD
 *   am-ia32-open openat2 PATH       ia32 openat2 (437), AT_FDCWD
 *   am-ia32-open creat PATH         ia32 creat (8)
 *   am-ia32-open handle DIR PATH    name_to_handle_at(PATH) (64-bit), then ia32
 *                                   open_by_handle_at (342) with a mount fd of DIR
 *   am-ia32-open open_tree PATH     ia32 open_tree (428): an open the probes do not decode
 *   am-ia32-open socket             ia32 socket (359): AF_INET, SOCK_RAW, IPPROTO_ICMP
 *   am-ia32-open socketcall         ia32 socketcall (102) SYS_SOCKET, the same socket
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* i386 syscall numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define IA32_OPEN 5
#define IA32_CREAT 8
#define IA32_SOCKETCALL 102
#define IA32_OPENAT 295
#define IA32_OPEN_BY_HANDLE_AT 342
#define IA32_SOCKET 359
#define IA32_OPEN_TREE 428
#define IA32_OPENAT2 437
#define SYS_SOCKET_CALL 1 /* socketcall's call number for socket(2) */

/* The low memory every argument the kernel reads through a pointer is copied to. */
#define LOW_SIZE 8192
static char *low;

/* One syscall through int $0x80: number in eax, arguments in ebx, ecx, edx, esi. */
static long ia32_syscall(long nr, long a, long b, long c, long d)
{
	long ret;

	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

static long low_pointer(const void *p)
{
	return (long)(uintptr_t)p;
}

/* PATH into the low memory; its 32-bit address, or -1 if it does not fit. */
static long low_path(const char *path)
{
	size_t len = strlen(path);

	if (len >= LOW_SIZE / 2) {
		fprintf(stderr, "am-ia32-open: path too long\n");
		return -1;
	}
	memcpy(low, path, len + 1);
	return low_pointer(low);
}

static int report(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		printf("error %d %s\n", errno, strerror(errno));
		return 1;
	}
	printf("fd %ld\n", ret);
	close((int)ret);
	return 0;
}

/* The file's handle by the 64-bit call, then the ia32 open by the handle alone. */
static int open_by_handle(const char *mount_dir, const char *path)
{
	struct file_handle *handle = (struct file_handle *)(low + LOW_SIZE / 2);
	int mount_id, mount_fd, rc;

	handle->handle_bytes = LOW_SIZE / 2 - sizeof(*handle);
	if (handle->handle_bytes > MAX_HANDLE_SZ)
		handle->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, handle, &mount_id, AT_SYMLINK_FOLLOW) != 0)
		return report(-errno);
	mount_fd = open(mount_dir, O_RDONLY | O_DIRECTORY);
	if (mount_fd < 0)
		return report(-errno);
	rc = report(
	    ia32_syscall(IA32_OPEN_BY_HANDLE_AT, mount_fd, low_pointer(handle), O_RDONLY, 0));
	close(mount_fd);
	return rc;
}

static int socketcall_socket(void)
{
	uint32_t *args = (uint32_t *)(low + LOW_SIZE / 2);

	args[0] = AF_INET;
	args[1] = SOCK_RAW;
	args[2] = IPPROTO_ICMP;
	return report(ia32_syscall(IA32_SOCKETCALL, SYS_SOCKET_CALL, low_pointer(args), 0, 0));
}

int main(int argc, char **argv)
{
	long path;

	low = mmap(NULL, LOW_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT,
		   -1, 0);
	if (low == MAP_FAILED) {
		perror("am-ia32-open: mmap(MAP_32BIT)");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "socket") == 0)
		return report(ia32_syscall(IA32_SOCKET, AF_INET, SOCK_RAW, IPPROTO_ICMP, 0));
	if (argc == 2 && strcmp(argv[1], "socketcall") == 0)
		return socketcall_socket();
	if (argc == 4 && strcmp(argv[1], "handle") == 0)
		return open_by_handle(argv[2], argv[3]);
	if (argc != 3 || (path = low_path(argv[2])) < 0)
		goto usage;
	if (strcmp(argv[1], "open") == 0)
		return report(ia32_syscall(IA32_OPEN, path, O_RDONLY, 0, 0));
	if (strcmp(argv[1], "openat") == 0)
		return report(ia32_syscall(IA32_OPENAT, AT_FDCWD, path, O_RDONLY, 0));
	if (strcmp(argv[1], "creat") == 0)
		return report(ia32_syscall(IA32_CREAT, path, 0600, 0, 0));
	if (strcmp(argv[1], "openat2") == 0) {
		struct open_how *how = (struct open_how *)(low + LOW_SIZE / 2);

		memset(how, 0, sizeof(*how));
		how->flags = O_RDONLY;
		return report(
		    ia32_syscall(IA32_OPENAT2, AT_FDCWD, path, low_pointer(how), sizeof(*how)));
	}
	if (strcmp(argv[1], "open_tree") == 0)
		return report(ia32_syscall(IA32_OPEN_TREE, AT_FDCWD, path,
					   O_CLOEXEC /* OPEN_TREE_CLOEXEC */, 0));
usage:
	fprintf(stderr, "usage: am-ia32-open open|openat|openat2|creat|open_tree PATH |"
			" am-ia32-open handle DIR PATH | am-ia32-open socket|socketcall\n");
	return 2;
}
