/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The monitor's HTTP endpoint (--listen): /metrics in Prometheus text format,
 * /healthz (the event loop is turning) and /readyz (probes attached, first
 * inventory loaded). One thread answers every client at once, each within a
 * time limit; it reads only what the event loop published, never the loop's
 * own state.
 */
#ifndef ACCESSMON_HTTPD_H
#define ACCESSMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* /healthz fails when the event loop has not turned for this long. */
#define HTTPD_STALL_NS (10ull * 1000000000ull)

struct httpd;

/* Binds host:port and starts answering; NULL with err set (port taken, say). */
struct httpd *httpd_start(const char *host, const char *port, struct am_error *err);
void httpd_stop(struct httpd *httpd);
/* The text /metrics serves from now on (copied). */
void httpd_publish_metrics(struct httpd *httpd, const char *text, size_t len);
/* The event loop turned at this CLOCK_MONOTONIC time. */
void httpd_heartbeat(struct httpd *httpd, uint64_t now_ns);
void httpd_set_ready(struct httpd *httpd, bool ready);
/* The port actually bound (for port 0). */
int httpd_port(const struct httpd *httpd);

#endif /* ACCESSMON_HTTPD_H */
