/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Alert sinks: where the monitor's lines go. Several at once: standard output, a
 * file with size-based rotation, syslog (RFC 5424 over /dev/log, UDP or TCP) and
 * an HTTP(S) webhook that POSTs batches of JSON lines. Each sink has its own
 * thread and a bounded queue, so a slow or dead sink never stalls the event loop:
 * what a full queue cannot take is dropped and counted, and the caller reports it
 * on the other sinks (sinks_take_drops) and in metrics (sinks_stats).
 *
 * The event loop appends lines to a shared batch (sinks_write) and hands the
 * batch to every sink at once (sinks_publish); sinks share one copy of it.
 */
#ifndef ACCESSMON_SINKS_H
#define ACCESSMON_SINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "sinks/sink_spec.h"

struct sink_stats {
	const char *name;
	const char *kind;
	uint64_t queued_bytes;
	uint64_t queued_lines;
	uint64_t written_lines;
	uint64_t dropped_lines;
	uint64_t failures; /* failed writes, sends or POSTs, each retried */
	bool up;	   /* the last write, send or POST worked */
};

struct sinks;

/*
 * Starts a thread per sink. `host` names this node in syslog headers. NULL with
 * err set when a sink cannot start (a file that cannot be created, a webhook
 * token file that cannot be read); a receiver that is down is not an error, it
 * is retried.
 */
struct sinks *sinks_start(const struct sink_spec *specs, size_t n_specs, const char *host,
			  struct am_error *err);
/*
 * Replaces the set with `specs` (a reload): sinks whose spec is unchanged keep
 * running with their queues; removed ones drain for at most drain_ms, and what
 * they could not deliver by then is counted in *undelivered.
 */
int sinks_reconfigure(struct sinks *sinks, const struct sink_spec *specs, size_t n_specs,
		      unsigned int drain_ms, uint64_t *undelivered, struct am_error *err);
/* Appends one line (without newline) to the batch being built. */
void sinks_write(struct sinks *sinks, const char *line, size_t len, const struct line_meta *meta);
/* Hands the batch to every sink; a sink whose queue is full drops it, counted. */
void sinks_publish(struct sinks *sinks);
/*
 * Lines a sink dropped since it was last reported, at most once per
 * min_interval_ns for each sink (0: whatever is new): returns the sink's index,
 * or -1 when there is nothing to report now. Call repeatedly until -1. The
 * interval matters: the report is a line too, which a sink that is still full
 * drops in turn.
 */
int sinks_take_drops(struct sinks *sinks, uint64_t now_ns, uint64_t min_interval_ns,
		     uint64_t *dropped, uint64_t *dropped_total, const char **name, char *reason,
		     size_t reason_len);
size_t sinks_count(const struct sinks *sinks);
void sinks_stats(struct sinks *sinks, size_t index, struct sink_stats *stats);
/*
 * Publishes, then waits at most drain_ms for every queue to empty, and stops.
 * Returns the lines dropped and not yet taken by sinks_take_drops(): those that
 * could not be delivered in time.
 */
uint64_t sinks_stop(struct sinks *sinks, unsigned int drain_ms);

#endif /* ACCESSMON_SINKS_H */
