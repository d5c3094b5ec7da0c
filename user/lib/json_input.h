/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Reading JSON from outside (files, HTTP answers) with bounded size and errors
 * that name the source and the line and column where parsing stopped.
 */
#ifndef ACCESSMON_JSON_INPUT_H
#define ACCESSMON_JSON_INPUT_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/error.h"

#define JSON_INPUT_MAX_BYTES (64u << 20)

/*
 * Parses len bytes named `source`; NULL with err filled on failure, and errno
 * ENODATA when the input is empty or cut short (a file still being written, say),
 * EINVAL when it is wrong.
 */
cJSON *json_input_parse(const char *source, const char *text, size_t len, struct am_error *err);
/* Reads and parses a file; NULL with err filled on failure. */
cJSON *json_input_load_file(const char *path, struct am_error *err);

/* Member lookups that accept a missing member but not one of the wrong type. */
const char *json_member_string(const cJSON *object, const char *name);

#endif /* ACCESSMON_JSON_INPUT_H */
