// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* What a trace must not keep of a kernel record; see redact.h. */
#include "redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "accessmon.h"
#include "http.h"

#define HIDDEN '*'
#define NAME_MAX_KEPT 15

enum scrub_state {
	AT_REQUEST_LINE, /* kept: the method, the target and the version */
	AT_NAME,	 /* a header's name, up to its colon: kept */
	IN_KEPT_VALUE,	 /* a value the pipeline reads */
	IN_HIDDEN_VALUE, /* any other value, or a line that is not a header */
	IN_BODY,	 /* Content-Length bytes after the head */
	IN_RESYNC,	 /* after bytes never captured: up to the next blank line */
};

/* Reading a Content-Length value as http_parse_request does. */
enum length_state { LENGTH_LEADING, LENGTH_DIGITS, LENGTH_TRAILING, LENGTH_INVALID };

/* Where one connection's request stream stands. */
struct flow {
	uint64_t cookie;
	uint64_t last_used;
	uint32_t next_seq;
	enum scrub_state state;
	bool line_blank;    /* nothing on this line so far */
	bool line_cr;	    /* ... but a '\r': blank only if '\n' follows */
	bool length_header; /* the kept value is Content-Length's */
	uint8_t name_len;   /* NAME_MAX_KEPT + 1: longer than any name kept */
	char name[NAME_MAX_KEPT + 1];
	enum length_state length_state;
	uint64_t length_value;	 /* this line's */
	uint64_t content_length; /* the head's, the last line's */
	uint64_t body_left;
	uint32_t window; /* the last four bytes, while resynchronising */
};

struct redactor {
	struct flow flows[REDACT_FLOWS_MAX];
	size_t n_flows;
	uint64_t clock; /* counts uses, for least-recently-used */
	uint8_t *buf;
	size_t buf_len;
};

struct redactor *redactor_new(void)
{
	return calloc(1, sizeof(struct redactor));
}

void redactor_free(struct redactor *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r);
}

size_t redactor_flows(const struct redactor *r)
{
	return r->n_flows;
}

static void zero_after_nul(char *s, size_t n)
{
	size_t len = strnlen(s, n);

	if (len < n)
		memset(s + len, 0, n - len);
}

static void clean_task(struct am_task *task)
{
	zero_after_nul(task->comm, sizeof(task->comm));
}

static struct flow *flow_find(struct redactor *r, uint64_t cookie)
{
	for (size_t i = 0; i < r->n_flows; i++)
		if (r->flows[i].cookie == cookie)
			return &r->flows[i];
	return NULL;
}

static void flow_forget(struct redactor *r, uint64_t cookie)
{
	struct flow *flow = flow_find(r, cookie);

	if (flow)
		*flow = r->flows[--r->n_flows];
}

/* A connection seen for the first time: its stream starts at `seq`. */
static struct flow *flow_start(struct redactor *r, uint64_t cookie, uint32_t seq)
{
	struct flow *flow;

	if (r->n_flows < REDACT_FLOWS_MAX) {
		flow = &r->flows[r->n_flows++];
	} else {
		flow = &r->flows[0];
		for (size_t i = 1; i < r->n_flows; i++)
			if (r->flows[i].last_used < flow->last_used)
				flow = &r->flows[i];
	}
	memset(flow, 0, sizeof(*flow));
	flow->cookie = cookie;
	flow->next_seq = seq;
	flow->state = AT_REQUEST_LINE;
	flow->line_blank = true;
	return flow;
}

static void start_line(struct flow *flow)
{
	flow->state = AT_NAME;
	flow->line_blank = true;
	flow->line_cr = false;
	flow->name_len = 0;
}

/* The headers whose values the pipeline reads (user/http.c). */
static void end_name(struct flow *flow)
{
	bool kept = false;

	if (flow->name_len <= NAME_MAX_KEPT) {
		flow->name[flow->name_len] = '\0';
		flow->length_header = strcmp(flow->name, "content-length") == 0;
		kept = flow->length_header || strcmp(flow->name, "host") == 0 ||
		       strcmp(flow->name, "metadata") == 0;
	}
	if (flow->length_header) {
		flow->length_state = LENGTH_LEADING;
		flow->length_value = 0;
	}
	flow->state = kept ? IN_KEPT_VALUE : IN_HIDDEN_VALUE;
}

static void end_head(struct flow *flow)
{
	flow->body_left = flow->content_length;
	flow->content_length = 0;
	flow->state = flow->body_left ? IN_BODY : AT_REQUEST_LINE;
	flow->line_blank = true;
}

/* One byte of a Content-Length value: digits between spaces, like http.c reads it. */
static void length_byte(struct flow *flow, uint8_t c)
{
	bool digit = c >= '0' && c <= '9';

	switch (flow->length_state) {
	case LENGTH_LEADING:
		if (c == ' ' || c == '\t')
			return;
		/* fall through */
	case LENGTH_DIGITS:
		if (digit) {
			flow->length_state = LENGTH_DIGITS;
			flow->length_value = http_length_digit(flow->length_value, c);
			return;
		}
		if (flow->length_state == LENGTH_DIGITS && (c == ' ' || c == '\r')) {
			flow->length_state = LENGTH_TRAILING;
			return;
		}
		flow->length_state = LENGTH_INVALID;
		return;
	case LENGTH_TRAILING:
		if (c != ' ' && c != '\r')
			flow->length_state = LENGTH_INVALID;
		return;
	case LENGTH_INVALID:
		return;
	}
}

static void end_length(struct flow *flow)
{
	bool valid = flow->length_state == LENGTH_DIGITS || flow->length_state == LENGTH_TRAILING;

	flow->content_length = valid ? flow->length_value : 0;
}

static bool token_char(uint8_t c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void scrub_byte(struct flow *flow, uint8_t *c)
{
	switch (flow->state) {
	case AT_REQUEST_LINE:
		/* Blank lines between pipelined requests are skipped, as the parser does. */
		if (*c == '\n') {
			if (!flow->line_blank)
				start_line(flow);
		} else if (*c != '\r') {
			flow->line_blank = false;
		}
		return;
	case AT_NAME:
		if (flow->line_cr) {
			/* "\r\n" ends the head; a '\r' then anything else begins no header. */
			flow->line_cr = false;
			if (*c == '\n') {
				end_head(flow);
				return;
			}
			flow->line_blank = false;
			flow->state = IN_HIDDEN_VALUE;
			if (*c != '\r')
				*c = HIDDEN;
			return;
		}
		if (*c == '\n') {
			if (flow->line_blank)
				end_head(flow);
			else
				start_line(flow);
		} else if (*c == '\r' && flow->line_blank) {
			flow->line_cr = true;
		} else if (*c == ':' && !flow->line_blank) {
			end_name(flow);
		} else if (token_char(*c)) {
			flow->line_blank = false;
			if (flow->name_len < NAME_MAX_KEPT)
				flow->name[flow->name_len++] = (char)tolower(*c);
			else
				flow->name_len = NAME_MAX_KEPT + 1;
		} else {
			/* Not a header line: none of it is kept from here. */
			flow->line_blank = false;
			flow->state = IN_HIDDEN_VALUE;
			*c = HIDDEN;
		}
		return;
	case IN_KEPT_VALUE:
		if (*c == '\n') {
			if (flow->length_header)
				end_length(flow);
			start_line(flow);
		} else if (flow->length_header) {
			length_byte(flow, *c);
		}
		return;
	case IN_HIDDEN_VALUE:
		if (*c == '\n')
			start_line(flow);
		else if (*c != '\r')
			*c = HIDDEN;
		return;
	case IN_BODY:
		*c = HIDDEN;
		if (--flow->body_left == 0) {
			flow->state = AT_REQUEST_LINE;
			flow->line_blank = true;
		}
		return;
	case IN_RESYNC:
		/* As the flow table does after a gap: the next request follows a blank line. */
		flow->window = flow->window << 8 | *c;
		if (*c != '\r' && *c != '\n')
			*c = HIDDEN;
		if (flow->window == 0x0d0a0d0au) {
			flow->state = AT_REQUEST_LINE;
			flow->line_blank = true;
		}
		return;
	}
}

static void resync(struct flow *flow, uint32_t next_seq)
{
	flow->state = IN_RESYNC;
	flow->window = 0;
	flow->next_seq = next_seq;
}

static void clean_request(struct redactor *r, struct am_payload_record *record, uint32_t captured)
{
	struct flow *flow = flow_find(r, record->cookie);
	int32_t ahead;

	if (!flow)
		flow = flow_start(r, record->cookie, record->seq);
	flow->last_used = ++r->clock;
	ahead = (int32_t)(record->seq - flow->next_seq);
	if (ahead != 0) {
		/*
		 * Again (a retransmission), or after a gap: the flow table reads none of
		 * it, and after a gap it looks for the next request past a blank line.
		 */
		memset(record->data, HIDDEN, captured);
		if (ahead > 0)
			resync(flow, record->seq + record->payload_len);
		return;
	}
	for (uint32_t i = 0; i < captured; i++)
		scrub_byte(flow, &record->data[i]);
	flow->next_seq = record->seq + record->payload_len;
	if (captured < record->payload_len)
		resync(flow, flow->next_seq); /* bytes the kernel did not capture */
}

static void clean_payload(struct redactor *r, struct am_payload_record *record)
{
	uint32_t captured = record->captured < AM_PAYLOAD_LEN ? record->captured : AM_PAYLOAD_LEN;
	uint8_t *line_end;

	memset(record->data + captured, 0, AM_PAYLOAD_LEN - captured);
	switch (record->kind) {
	case AM_PAYLOAD_HTTP_REQUEST:
		clean_request(r, record, captured);
		break;
	case AM_PAYLOAD_HTTP_RESPONSE:
		/* The status line is all the pipeline reads of an answer. */
		line_end = memchr(record->data, '\n', captured);
		if (line_end)
			memset(line_end + 1, HIDDEN,
			       captured - (size_t)(line_end + 1 - record->data));
		break;
	default:
		break; /* TLS hellos and DNS answers hold names, which the records show anyway */
	}
}

static void clean_record(struct redactor *r, void *data, size_t size)
{
	struct am_record_header *header = data;

	switch (header->type) {
	case AM_REC_FORK:
		if (size >= sizeof(struct am_fork_record))
			clean_task(&((struct am_fork_record *)data)->task);
		break;
	case AM_REC_OPEN:
		if (size >= sizeof(struct am_open_record)) {
			struct am_open_record *open = data;

			clean_task(&open->task);
			zero_after_nul(open->path, sizeof(open->path));
			zero_after_nul(open->name, sizeof(open->name));
		}
		break;
	case AM_REC_CGROUP_MKDIR:
	case AM_REC_CGROUP_RMDIR:
		if (size >= sizeof(struct am_cgroup_record)) {
			struct am_cgroup_record *cgroup = data;

			zero_after_nul(cgroup->path, sizeof(cgroup->path));
		}
		break;
	case AM_REC_EXEC:
		if (size >= sizeof(struct am_exec_record)) {
			struct am_exec_record *exec = data;
			size_t used = exec->args_size < AM_ARGS_LEN ? exec->args_size : AM_ARGS_LEN;

			clean_task(&exec->task);
			zero_after_nul(exec->exe, sizeof(exec->exe));
			memset(exec->args + used, 0, AM_ARGS_LEN - used);
		}
		break;
	case AM_REC_PAYLOAD:
		if (size >= sizeof(struct am_payload_record))
			clean_payload(r, data);
		break;
	default:
		break;
	}
}

/*
 * Whether a record can carry bytes that are not its own. Connects and sends (the
 * most frequent records) cannot: their only string is the comm that
 * bpf_get_current_comm fills, zero-padded; repeat records are made by user space
 * from zeroed memory; exits and closes hold no string. They are recorded as they
 * are, without a copy.
 */
static bool needs_cleaning(uint16_t type)
{
	switch (type) {
	case AM_REC_FORK: /* the child's comm, read as a string */
	case AM_REC_OPEN:
	case AM_REC_CGROUP_MKDIR:
	case AM_REC_CGROUP_RMDIR:
	case AM_REC_EXEC:
	case AM_REC_PAYLOAD:
		return true;
	default:
		return false;
	}
}

const void *redactor_clean(struct redactor *r, const void *data, size_t size)
{
	const struct am_record_header *header = data;

	if (size < sizeof(*header))
		return data;
	if (header->type == AM_REC_FLOW_CLOSE && size >= sizeof(struct am_flow_close_record))
		flow_forget(r, ((const struct am_flow_close_record *)data)->cookie);
	if (!needs_cleaning(header->type))
		return data;
	if (size > r->buf_len) {
		uint8_t *buf = realloc(r->buf, size);

		if (!buf)
			return NULL;
		r->buf = buf;
		r->buf_len = size;
	}
	memcpy(r->buf, data, size);
	clean_record(r, r->buf, size);
	return r->buf;
}
