/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What output's files share behind output.h. output.c writes a record's frame
 * (type, time) and the monitor's own records; subjects.c the members about who
 * did it, kept per process and cgroup; json.c and text.c what each kind of record
 * says in either format; format.c the values all of them write; filter.c what a
 * replay keeps. Nothing outside output/ includes this.
 */
#ifndef ACCESSMON_OUTPUT_OUTPUT_PRIVATE_H
#define ACCESSMON_OUTPUT_OUTPUT_PRIVATE_H

#include <stdint.h>

#include "output/output.h"

/* json.c and text.c: a record's members after its subject, by its kind. */
void output_json_details(struct jsonw *w, const struct event_view *view);
void output_text_details(struct jsonw *w, const struct event_view *view);

/* format.c: values both formats write. */
const char *output_access_mode(uint32_t flags);
const char *output_socket_via(const struct am_socket_record *socket);

#endif /* ACCESSMON_OUTPUT_OUTPUT_PRIVATE_H */
