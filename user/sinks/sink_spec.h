/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What a --sink says, parsed without side effects (sinks.h runs them). */
#ifndef ACCESSMON_SINK_SPEC_H
#define ACCESSMON_SINK_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "event/line.h"
#include "lib/error.h"

enum sink_kind {
	SINK_STDOUT = 0,
	SINK_FILE,
	SINK_SYSLOG,
	SINK_WEBHOOK,
};

enum syslog_transport {
	SYSLOG_UNIX = 0,
	SYSLOG_UDP,
	SYSLOG_TCP,
};

#define SINK_DEFAULT_QUEUE_BYTES (8ull << 20)
#define SINK_DEFAULT_FILE_MAX_SIZE (100ull << 20)
#define SINK_DEFAULT_FILE_KEEP 5
#define SINK_DEFAULT_BATCH_LINES 500
#define SINK_DEFAULT_BATCH_BYTES (1ull << 20)
#define SINK_DEFAULT_FLUSH_MS 1000
#define SINK_DEFAULT_TIMEOUT_MS 10000
/* Retries back off from the first delay, doubling up to the last. */
#define SINK_RETRY_FIRST_MS 250
#define SINK_RETRY_MAX_MS 30000

/* One --sink, parsed; no side effects. Strings are owned. */
struct sink_spec {
	enum sink_kind kind;
	char *text;   /* as given: compares specs across a reload */
	char *name;   /* for messages and metrics: no credentials, no query */
	char *target; /* file path, syslog socket path or host, webhook URL */
	char *port;   /* syslog UDP/TCP */
	enum syslog_transport transport;
	int facility; /* syslog facility number */
	uint64_t queue_bytes;
	uint64_t max_size; /* file rotation */
	unsigned int keep;
	unsigned int batch_lines; /* webhook */
	uint64_t batch_bytes;
	unsigned int flush_ms;
	unsigned int timeout_ms;
	char *token_file; /* webhook bearer token; else $ACCESSMON_WEBHOOK_TOKEN */
	char *ca_file;
	bool insecure;
};

/*
 * Parses TYPE[:TARGET][,key=value...]; 0 or -EINVAL with err saying what is wrong.
 *   stdout
 *   file:PATH[,max-size=SIZE][,keep=N]
 *   syslog[:unix:PATH | :udp:HOST:PORT | :tcp:HOST:PORT][,facility=NAME]
 *   webhook:URL[,token-file=F][,ca-file=F][,insecure][,batch-lines=N]
 *          [,batch-bytes=SIZE][,flush-ms=N][,timeout-ms=N]
 * Every type also takes queue=SIZE.
 */
int sink_spec_parse(const char *text, struct sink_spec *spec, struct am_error *err);
void sink_spec_release(struct sink_spec *spec);

const char *sink_kind_name(enum sink_kind kind);
/* A copy with its own strings; 0 or -ENOMEM. */
int sink_spec_copy(struct sink_spec *to, const struct sink_spec *from);

#endif /* ACCESSMON_SINK_SPEC_H */
