// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What a kernel's BTF and verifier log say; see kernel_info.h. */
#include "kernel/kernel_info.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

static enum tracepoint_arg classify(const struct btf *btf, __u32 type_id)
{
	const struct btf_type *type;
	int resolved = btf__resolve_type(btf, type_id);

	if (resolved < 0)
		return TP_ARG_OTHER;
	type = btf__type_by_id(btf, (__u32)resolved);
	if (!type)
		return TP_ARG_OTHER;
	if (btf_is_ptr(type))
		return TP_ARG_POINTER;
	if (btf_is_enum(type))
		return TP_ARG_INT32;
	if (!btf_is_int(type))
		return TP_ARG_OTHER;
	if (btf_int_encoding(type) & BTF_INT_BOOL)
		return TP_ARG_BOOL;
	switch (type->size) {
	case 1:
		return TP_ARG_INT8;
	case 2:
		return TP_ARG_INT16;
	case 4:
		return TP_ARG_INT32;
	case 8:
		return TP_ARG_INT64;
	default:
		return TP_ARG_OTHER;
	}
}

/*
 * A BTF tracepoint is typedef void (*btf_trace_<name>)(void *__data, args...);
 * the first parameter is the tracepoint's own data, not an argument.
 */
int kernel_info_tracepoint_args(const struct btf *btf, const char *name,
				enum tracepoint_arg args[TRACEPOINT_MAX_ARGS])
{
	const struct btf_param *params;
	const struct btf_type *type;
	char typedef_name[128];
	int id, n, i;

	if (snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name) >=
	    (int)sizeof(typedef_name))
		return -ENOENT;
	id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -ENOENT;
	type = btf__type_by_id(btf, (__u32)id);
	type = type ? btf__type_by_id(btf, type->type) : NULL;
	if (!type || !btf_is_ptr(type))
		return -EINVAL;
	type = btf__type_by_id(btf, type->type);
	if (!type || !btf_is_func_proto(type) || btf_vlen(type) < 1)
		return -EINVAL;
	params = btf_params(type);
	n = btf_vlen(type) - 1;
	if (n > TRACEPOINT_MAX_ARGS)
		n = TRACEPOINT_MAX_ARGS;
	for (i = 0; i < n; i++)
		args[i] = classify(btf, params[i + 1].type);
	return n;
}

bool kernel_info_has_tracepoint(const struct btf *btf, const char *name)
{
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];

	return kernel_info_tracepoint_args(btf, name, args) >= 0;
}

/*
 * 5.5 to 5.17: (void *ctx, u64 user_data, long res[, unsigned cflags]).
 * 5.18 on:    (void *ctx, void *req, ...), the result read from the request.
 */
enum io_uring_form kernel_info_io_uring_form(const struct btf *btf)
{
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];
	int n = kernel_info_tracepoint_args(btf, "io_uring_complete", args);

	if (n == -ENOENT)
		return IO_URING_FORM_NONE;
	if (n < 2 || args[0] != TP_ARG_POINTER)
		return IO_URING_FORM_UNKNOWN;
	if (args[1] == TP_ARG_POINTER)
		return IO_URING_FORM_REQUEST;
	if (n >= 3 && args[1] == TP_ARG_INT64 && (args[2] == TP_ARG_INT32 || args[2] == TP_ARG_INT64))
		return IO_URING_FORM_USER_DATA;
	return IO_URING_FORM_UNKNOWN;
}

/* (int fd, void *ctx, u32 sq_entries, u32 cq_entries, u32 flags) since 5.5. */
bool kernel_info_io_uring_create_readable(const struct btf *btf)
{
	enum tracepoint_arg args[TRACEPOINT_MAX_ARGS];
	int n = kernel_info_tracepoint_args(btf, "io_uring_create", args);

	return n >= 2 && args[1] == TP_ARG_POINTER;
}

const char *io_uring_form_name(enum io_uring_form form)
{
	switch (form) {
	case IO_URING_FORM_NONE:
		return "none";
	case IO_URING_FORM_REQUEST:
		return "request";
	case IO_URING_FORM_USER_DATA:
		return "user-data";
	default:
		return "unknown";
	}
}

static bool starts_with(const char *line, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(line, prefix, n) == 0;
}

/* Instruction dumps ("12: (85) call ..."), register states ("0: R1=ctx"), branches. */
static bool is_numbered(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isdigit((unsigned char)line[i]))
		i++;
	return i > 0 && i < len && line[i] == ':';
}

static bool is_noise(const char *line, size_t len)
{
	static const char *const prefixes[] = {
		"; ",	       "processed ", "verification time", "stack depth", "func#",
		"from ",       "mark_precise", "last_idx", "parent ",	 "regs=",
		"Live regs",   "Global function", "Func#",	 "reg type unsupported",
		"libbpf: ",
	};
	size_t i;

	if (len == 0 || is_numbered(line, len))
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (starts_with(line, len, prefixes[i]))
			return true;
	return false;
}

static void copy_line(const char *line, size_t len, char *out, size_t size)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(out, line, len);
	out[len] = '\0';
}

void kernel_info_verifier_reason(const char *log, char *reason, size_t size)
{
	static const char libbpf_prefix[] = "libbpf: ";
	const char *line = log, *end, *verifier = NULL, *libbpf = NULL;
	size_t verifier_len = 0, libbpf_len = 0;
	bool in_log = false;

	if (size == 0)
		return;
	reason[0] = '\0';
	for (; line && *line; line = *end ? end + 1 : end) {
		size_t len;

		end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		len = (size_t)(end - line);
		if (memmem(line, len, "-- BEGIN PROG LOAD LOG --", 25)) {
			in_log = true;
			continue;
		}
		if (starts_with(line, len, "-- END PROG LOAD LOG --")) {
			in_log = false;
			continue;
		}
		if (in_log) {
			if (!is_noise(line, len)) {
				verifier = line;
				verifier_len = len;
			}
			continue;
		}
		/* Outside a verifier log: libbpf's own last word, not its summary of the failure. */
		if (starts_with(line, len, libbpf_prefix) &&
		    !memmem(line, len, "failed to load object", 21) &&
		    !memmem(line, len, "failed to load: ", 16)) {
			libbpf = line + sizeof(libbpf_prefix) - 1;
			libbpf_len = len - (sizeof(libbpf_prefix) - 1);
		}
	}
	if (verifier)
		copy_line(verifier, verifier_len, reason, size);
	else if (libbpf)
		copy_line(libbpf, libbpf_len, reason, size);
}
