// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * socket(2) at its exit, when the syscall tracepoints are in use (see socket.bpf.h;
 * the raw sys_exit hook in open.bpf.c does the same otherwise). It fires only for
 * socket(2), and reads the arguments from the saved registers as the open hooks do.
 */
#include "socket.bpf.h"
#include <bpf/bpf_tracing.h>

SEC("tracepoint/syscalls/sys_exit_socket")
int am_exit_socket(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

	/* x86_64: socket(family, type, protocol) in di, si, dx. */
	report_socket(ctx->ret, (__u32)regs->di, (__u32)regs->si, (__u32)regs->dx, 0);
	return 0;
}
