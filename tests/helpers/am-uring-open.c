// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: opens a file through io_uring (IORING_OP_OPENAT), never through
 * the open syscalls, so tests can prove io_uring opens are seen. Raw syscalls,
 * no liburing. Prints the fd or the error; exits 0 when the open succeeded.
 *
 *   am-uring-open PATH
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct io_uring_params params;
	struct io_uring_sqe *sqes, *sqe;
	struct io_uring_cqe *cqes;
	unsigned int *sq_tail, *sq_array, *cq_head, *cq_tail, tail;
	void *sq_ring, *cq_ring;
	int ring, res;

	if (argc != 2) {
		fprintf(stderr, "usage: am-uring-open PATH\n");
		return 2;
	}
	memset(&params, 0, sizeof(params));
	ring = (int)syscall(__NR_io_uring_setup, 4, &params);
	if (ring < 0) {
		printf("error %d io_uring_setup: %s\n", errno, strerror(errno));
		return 1;
	}
	sq_ring = mmap(NULL, params.sq_off.array + params.sq_entries * sizeof(unsigned int),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
	cq_ring = mmap(NULL, params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe),
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
	sqes = mmap(NULL, params.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq_ring == MAP_FAILED || cq_ring == MAP_FAILED || sqes == MAP_FAILED) {
		printf("error %d mmap: %s\n", errno, strerror(errno));
		return 1;
	}
	sq_tail = (unsigned int *)((char *)sq_ring + params.sq_off.tail);
	sq_array = (unsigned int *)((char *)sq_ring + params.sq_off.array);
	cq_head = (unsigned int *)((char *)cq_ring + params.cq_off.head);
	cq_tail = (unsigned int *)((char *)cq_ring + params.cq_off.tail);
	cqes = (struct io_uring_cqe *)((char *)cq_ring + params.cq_off.cqes);

	tail = *sq_tail;
	sqe = &sqes[tail & (params.sq_entries - 1)];
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_OPENAT;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)argv[1];
	sqe->open_flags = O_RDONLY;
	sq_array[tail & (params.sq_entries - 1)] = tail & (params.sq_entries - 1);
	__atomic_store_n(sq_tail, tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
		printf("error %d io_uring_enter: %s\n", errno, strerror(errno));
		return 1;
	}
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		printf("error no completion\n");
		return 1;
	}
	res = cqes[*cq_head & (params.cq_entries - 1)].res;
	__atomic_store_n(cq_head, *cq_head + 1, __ATOMIC_RELEASE);
	if (res < 0) {
		printf("error %d %s\n", -res, strerror(-res));
		return 1;
	}
	printf("fd %d\n", res);
	close(res);
	return 0;
}
