// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: tracepoint arguments read from BTF, io_uring_complete's form on
 * the kernels that differ (built here as each kernel's BTF has them), and the
 * verifier's reason picked out of a libbpf load log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <bpf/btf.h>

#include "kernel/kernel_info.h"

struct types {
	int void_ptr, u8, u32, u64, s64, int32, boolean;
};

static struct types base_types(struct btf *btf)
{
	struct types t;

	t.void_ptr = btf__add_ptr(btf, 0);
	t.u8 = btf__add_int(btf, "unsigned char", 1, 0);
	t.u32 = btf__add_int(btf, "unsigned int", 4, 0);
	t.u64 = btf__add_int(btf, "long long unsigned int", 8, 0);
	t.s64 = btf__add_int(btf, "long int", 8, BTF_INT_SIGNED);
	t.int32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	t.boolean = btf__add_int(btf, "_Bool", 1, BTF_INT_BOOL);
	return t;
}

/* typedef void (*btf_trace_<name>)(void *__data, args...), as the kernel declares it. */
static void add_tracepoint(struct btf *btf, const char *name, const int *args, int n)
{
	char typedef_name[128];
	int data = btf__add_ptr(btf, 0), proto, i, ptr;

	/* Parameters go to the type added last: every type they use comes first. */
	proto = btf__add_func_proto(btf, 0);
	assert_true(proto > 0);
	assert_int_equal(btf__add_func_param(btf, "", data), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(btf__add_func_param(btf, "", args[i]), 0);
	ptr = btf__add_ptr(btf, proto);
	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	assert_true(btf__add_typedef(btf, typedef_name, ptr) > 0);
}

/* Linux 5.10: (void *ctx, u64 user_data, long res). */
static void io_uring_510_reads_user_data(void **state)
{
	struct btf *btf = btf__new_empty();
	struct types t = base_types(btf);
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];

	(void)state;
	add_tracepoint(btf, "io_uring_complete", (int[]){t.void_ptr, t.u64, t.s64}, 3);
	add_tracepoint(btf, "io_uring_create",
		       (int[]){t.int32, t.void_ptr, t.u32, t.u32, t.u32}, 5);
	assert_int_equal(kernel_info_tracepoint_args(btf, "io_uring_complete", args), 3);
	assert_int_equal(args[0], TP_ARG_POINTER);
	assert_int_equal(args[1], TP_ARG_INT64);
	assert_int_equal(args[2], TP_ARG_INT64);
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_USER_DATA);
	assert_true(kernel_info_io_uring_create_readable(btf));
	btf__free(btf);
}

/* Linux 5.15: (void *ctx, u64 user_data, int res, unsigned cflags), a typedef'd u64. */
static void io_uring_515_reads_user_data(void **state)
{
	struct btf *btf = btf__new_empty();
	struct types t = base_types(btf);
	int u64_typedef = btf__add_typedef(btf, "u64", t.u64);
	int const_u64 = btf__add_const(btf, u64_typedef);

	(void)state;
	add_tracepoint(btf, "io_uring_complete", (int[]){t.void_ptr, const_u64, t.int32, t.u32}, 4);
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_USER_DATA);
	assert_string_equal(io_uring_form_name(IO_URING_FORM_USER_DATA), "user-data");
	btf__free(btf);
}

/* 5.18 to 6.x: (void *ctx, void *req, ...) in two shapes. */
static void io_uring_518_and_later_read_the_request(void **state)
{
	struct btf *btf = btf__new_empty();
	struct types t = base_types(btf);
	int cqe = btf__add_struct(btf, "io_uring_cqe", 16);
	int cqe_ptr = btf__add_ptr(btf, cqe);

	(void)state;
	add_tracepoint(btf, "io_uring_complete",
		       (int[]){t.void_ptr, t.void_ptr, t.u64, t.int32, t.u32, t.u64, t.u64}, 7);
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_REQUEST);
	btf__free(btf);

	btf = btf__new_empty();
	t = base_types(btf);
	cqe = btf__add_struct(btf, "io_uring_cqe", 16);
	cqe_ptr = btf__add_ptr(btf, cqe);
	add_tracepoint(btf, "io_uring_complete", (int[]){t.void_ptr, t.void_ptr, cqe_ptr}, 3);
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_REQUEST);
	btf__free(btf);
}

static void io_uring_missing_or_strange(void **state)
{
	struct btf *btf = btf__new_empty();
	struct types t = base_types(btf);
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];

	(void)state;
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_NONE);
	assert_false(kernel_info_has_tracepoint(btf, "io_uring_complete"));
	assert_int_equal(kernel_info_tracepoint_args(btf, "io_uring_complete", args), -ENOENT);
	/* A ring and then a bool: no user_data, no request. */
	add_tracepoint(btf, "io_uring_complete", (int[]){t.void_ptr, t.boolean, t.int32}, 3);
	assert_int_equal(kernel_info_io_uring_form(btf), IO_URING_FORM_UNKNOWN);
	/* The creator probe reads a pointer second. */
	add_tracepoint(btf, "io_uring_create", (int[]){t.void_ptr, t.int32}, 2);
	assert_false(kernel_info_io_uring_create_readable(btf));
	btf__free(btf);
}

/* A typedef of that name that is no function pointer is not a tracepoint to read. */
static void a_typedef_of_another_shape_is_refused(void **state)
{
	struct btf *btf = btf__new_empty();
	struct types t = base_types(btf);
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];
	int many[TRACEPOINT_MAX_ARGS + 3], i;

	(void)state;
	assert_true(btf__add_typedef(btf, "btf_trace_odd", t.u64) > 0);
	assert_int_equal(kernel_info_tracepoint_args(btf, "odd", args), -EINVAL);
	for (i = 0; i < TRACEPOINT_MAX_ARGS + 3; i++)
		many[i] = i % 2 ? t.u8 : t.boolean;
	add_tracepoint(btf, "many", many, TRACEPOINT_MAX_ARGS + 3);
	assert_int_equal(kernel_info_tracepoint_args(btf, "many", args), TRACEPOINT_MAX_ARGS);
	assert_int_equal(args[0], TP_ARG_BOOL);
	assert_int_equal(args[1], TP_ARG_INT8);
	btf__free(btf);
}

static void the_verifier_reason_is_its_last_word(void **state)
{
	static const char log[] =
		"libbpf: prog 'am_sock_set_state': BPF program load failed: Invalid argument\n"
		"libbpf: prog 'am_sock_set_state': -- BEGIN PROG LOAD LOG --\n"
		"reg type unsupported for arg#0 function am_sock_set_state#28\n"
		"0: R1=ctx(off=0,imm=0) R10=fp0\n"
		"; int BPF_PROG(am_sock_set_state, struct sock *sk, int oldstate, int newstate)\n"
		"0: (79) r7 = *(u64 *)(r1 +0)\n"
		"9: (85) call bpf_sk_storage_get#107\n"
		"unknown func bpf_sk_storage_get#107\n"
		"processed 10 insns (limit 1000000) max_states_per_insn 0 total_states 0\n"
		"-- END PROG LOAD LOG --\n"
		"libbpf: prog 'am_sock_set_state': failed to load: -22\n"
		"libbpf: failed to load object 'accessmon_bpf'\n";
	char reason[128];

	(void)state;
	kernel_info_verifier_reason(log, reason, sizeof(reason));
	assert_string_equal(reason, "unknown func bpf_sk_storage_get#107");
	/* Cut to the room given. */
	kernel_info_verifier_reason(log, reason, 8);
	assert_string_equal(reason, "unknown");
}

static void without_a_verifier_log_libbpf_says_why(void **state)
{
	static const char log[] =
		"libbpf: prog 'am_io_uring_complete': failed to find kernel BTF type ID of "
		"'io_uring_complete': -3\n"
		"libbpf: prog 'am_io_uring_complete': failed to prepare load attributes: -3\n"
		"libbpf: prog 'am_io_uring_complete': failed to load: -3\n"
		"libbpf: failed to load object 'accessmon_bpf'\n";
	char reason[256];

	(void)state;
	kernel_info_verifier_reason(log, reason, sizeof(reason));
	assert_string_equal(reason, "prog 'am_io_uring_complete': failed to prepare load "
				    "attributes: -3");
	kernel_info_verifier_reason("", reason, sizeof(reason));
	assert_string_equal(reason, "");
	/* A log cut short inside the verifier's output still names its last line. */
	kernel_info_verifier_reason("libbpf: x: -- BEGIN PROG LOAD LOG --\nR2 !read_ok\n0: (b7)",
				    reason, sizeof(reason));
	assert_string_equal(reason, "R2 !read_ok");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(io_uring_510_reads_user_data),
		cmocka_unit_test(io_uring_515_reads_user_data),
		cmocka_unit_test(io_uring_518_and_later_read_the_request),
		cmocka_unit_test(io_uring_missing_or_strange),
		cmocka_unit_test(a_typedef_of_another_shape_is_refused),
		cmocka_unit_test(the_verifier_reason_is_its_last_word),
		cmocka_unit_test(without_a_verifier_log_libbpf_says_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
