// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The --config file: a JSON object whose keys are the monitor's long options,
 * read into the options before the command line is applied on top; every
 * problem is placed at its key's line and column. See options.h.
 */
#include "cmd/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cmd/options_private.h"
#include "lib/json_input.h"

/* Text lines and columns are 1-based; the key's first occurrence stands for it. */
static void key_position(const char *text, const char *key, int *line, int *column)
{
	size_t key_len = strlen(key);
	const char *at = text, *p;

	*line = 1;
	*column = 1;
	while ((at = strchr(at, '"'))) {
		if (strncmp(at + 1, key, key_len) == 0 && at[1 + key_len] == '"') {
			p = at + 2 + key_len;
			while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
				p++;
			if (*p == ':')
				break;
		}
		at++;
	}
	if (!at)
		return;
	for (p = text; p < at; p++) {
		if (*p == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

/* The file again as text, for positions; NULL when it cannot be read. */
static char *read_text(const char *path)
{
	size_t cap = JSON_INPUT_MAX_BYTES, len;
	FILE *f = fopen(path, "re");
	char *text;

	if (!f)
		return NULL;
	text = malloc(cap + 1);
	len = text ? fread(text, 1, cap, f) : 0;
	if (text)
		text[len] = '\0';
	if (text && len == cap) {
		free(text);
		text = NULL;
		errno = EFBIG;
	}
	fclose(f);
	return text;
}

/* Where problems go while a config is read: to check-config, or the first one fails it. */
struct config_reader {
	options_problem_fn problem;
	void *ctx;
	const char *path;
	const char *text;
	int problems;
};

static void config_problem(struct config_reader *reader, const char *key, const char *message)
{
	int line = 0, column = 0;

	if (reader->text)
		key_position(reader->text, key, &line, &column);
	reader->problems++;
	if (reader->problem)
		reader->problem(reader->ctx, reader->path, line, column, message);
}

/* One config member, as if it were given on the command line. */
static int config_member(struct monitor_options *options, const cJSON *member, cJSON *numbers,
			 struct config_reader *reader, struct am_error *err)
{
	const struct option *o = monitor_option_find(member->string);
	const cJSON *item;
	int rc;

	if (!o || o->val == 'h' || o->val == OPT_CONFIG) {
		am_error_set(err, "unknown option \"%s\" (the keys are the long options of "
				  "'accessmon monitor --help', without the dashes)",
			     member->string);
		return -EINVAL;
	}
	if (o->has_arg == no_argument) {
		if (!cJSON_IsBool(member)) {
			am_error_set(err, "\"%s\": expected true or false", member->string);
			return -EINVAL;
		}
		return cJSON_IsTrue(member) ? monitor_option_apply(options, o->val, NULL, true, err)
					    : 0;
	}
	if (cJSON_IsArray(member) && (o->val == OPT_WATCH || o->val == OPT_SINK)) {
		int first = 0;

		/* Each item on its own, so check-config names every bad one. */
		cJSON_ArrayForEach(item, member)
		{
			if (!cJSON_IsString(item)) {
				am_error_set(err, "\"%s\": expected an array of strings", member->string);
				rc = -EINVAL;
			} else {
				rc = monitor_option_apply(options, o->val, item->valuestring, true,
							  err);
			}
			if (rc && !reader->problem)
				return rc;
			if (rc) {
				config_problem(reader, member->string, err->msg);
				first = first ? first : rc;
			}
		}
		return first ? 1 : 0;
	}
	if (cJSON_IsString(member))
		return monitor_option_apply(options, o->val, member->valuestring, true, err);
	/* In range before the cast: a double past long long's range is undefined to convert. */
	if (cJSON_IsNumber(member) && member->valuedouble >= 0 && member->valuedouble < 1e15 &&
	    member->valuedouble == (double)(long long)member->valuedouble &&
	    o->val != OPT_WATCH && o->val != OPT_SINK) {
		char number[32];
		cJSON *kept;

		/* The option keeps a pointer to its text: the tree owns it. */
		snprintf(number, sizeof(number), "%lld", (long long)member->valuedouble);
		kept = cJSON_CreateString(number);
		if (!kept) {
			am_error_set(err, "out of memory");
			return -ENOMEM;
		}
		cJSON_AddItemToArray(numbers, kept);
		return monitor_option_apply(options, o->val, kept->valuestring, true, err);
	}
	am_error_set(err, "\"%s\": expected %s", member->string,
		     o->val == OPT_WATCH || o->val == OPT_SINK ? "a string or an array of strings"
							       : "a string or a whole number");
	return -EINVAL;
}

int monitor_options_apply_config(struct monitor_options *options, cJSON *root,
				 const char *source, const char *text, options_problem_fn problem,
				 void *ctx, struct am_error *err)
{
	struct config_reader reader = {problem, ctx, source, text, 0};
	const cJSON *member;
	cJSON *numbers;

	/* Whatever happens, the tree is the options' now: their strings point into it. */
	cJSON_Delete(options->config_root);
	options->config_root = root;
	if (!cJSON_IsObject(root)) {
		am_error_set(err, "%s: expected a JSON object of options, like {\"events\": true}",
			     source);
		return -EINVAL;
	}
	/* Numbers become option text; it lives in the tree, as the strings do. */
	numbers = cJSON_CreateArray();
	if (!numbers) {
		am_error_set(err, "out of memory");
		return -ENOMEM;
	}
	cJSON_AddItemToObject(root, "", numbers);
	cJSON_ArrayForEach(member, root)
	{
		struct am_error why;
		int rc;

		if (member == numbers)
			continue;
		rc = config_member(options, member, numbers, &reader, &why);
		if (rc == 0 || rc == 1)
			continue; /* 1: its items' problems are said already */
		if (!problem) {
			int line = 0, column = 0;

			if (text)
				key_position(text, member->string, &line, &column);
			am_error_set(err, "%s:%d:%d: %s", source, line, column, why.msg);
			reader.problems++;
			break;
		}
		config_problem(&reader, member->string, why.msg);
	}
	return reader.problems;
}

int monitor_options_load_config(const char *path, struct monitor_options *options,
				options_problem_fn problem, void *ctx, struct am_error *err)
{
	char *text = read_text(path);
	cJSON *root;
	int rc;

	if (!text) {
		am_error_set(err, "%s: %s", path, strerror(errno ? errno : EIO));
		return -EINVAL;
	}
	root = json_input_parse(path, text, strlen(text), err);
	if (!root) {
		free(text);
		return -EINVAL;
	}
	rc = monitor_options_apply_config(options, root, path, text, problem, ctx, err);
	free(text);
	return rc;
}
