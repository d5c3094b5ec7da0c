// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * `accessmon policy --show-default [--json]`: the built-in policy, as a table a
 * person reads (each entry: what it is for, whom it matches, what it lets them
 * touch, and where that behaviour is documented) or as its JSON text, the start
 * of a policy file of one's own.
 */
#include "cmd/policy_command.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "detect/policy.h"

#define LINE_WIDTH 100
#define LABEL_WIDTH 10

/* The conditions an entry states, in the order a reader wants them, and under which heading. */
static const struct {
	const char *key;
	const char *label;
	bool who; /* whom it matches; else what it may touch */
} conditions[] = {
	{"host_unit", "host unit", true},
	{"host", "host processes", true},
	{"namespace", "namespace", true},
	{"service_account", "service account", true},
	{"container", "container", true},
	{"image_prefix", "image", true},
	{"pod_name_prefix", "pod name prefix", true},
	{"exe", "executable", true},
	{"proxy_sidecar", "pods with the workload identity proxy sidecar", true},
	{"identity_kind", "identity", false},
	{"secret_kind", "secret kind", false},
	{"secret_path_prefix", "path", false},
	{"access", "access", false},
};

static void usage(FILE *out)
{
	fputs("Usage: accessmon policy --show-default [--json]\n"
	      "\n"
	      "Print the built-in policy (what applies without --policy): each allow entry\n"
	      "with the AKS component it matches, what that component may touch, and the\n"
	      "public manifest or documentation it was built from.\n"
	      "\n"
	      "  --show-default  print the built-in policy\n"
	      "  --json          as its JSON text: a start for a policy file of your own\n"
	      "  -h, --help      show this help\n",
	      out);
}

/* Appends to buf, cut short rather than overrun. */
static void append(char *buf, size_t len, const char *text)
{
	size_t used = strlen(buf);

	if (used + 1 < len)
		snprintf(buf + used, len - used, "%s", text);
}

/* A condition's value as words: a string, or strings joined by commas. */
static void value_text(const cJSON *value, char *buf, size_t len)
{
	const cJSON *item;

	buf[0] = '\0';
	if (cJSON_IsString(value)) {
		append(buf, len, value->valuestring);
		return;
	}
	cJSON_ArrayForEach(item, value)
	{
		if (item != value->child)
			append(buf, len, ", ");
		append(buf, len, cJSON_IsString(item) ? item->valuestring : "?");
	}
}

/* Text after a first-line prefix, wrapped at spaces, its lines under its first. */
static void print_wrapped(FILE *out, const char *prefix, const char *text)
{
	size_t indent = strlen(prefix), width = LINE_WIDTH - indent;
	const char *p = text;

	fputs(prefix, out);
	while (strlen(p) > width) {
		const char *cut = p + width;

		while (cut > p && *cut != ' ')
			cut--;
		if (cut == p)
			cut = p + width; /* one long word: cut it */
		fprintf(out, "%.*s\n%*s", (int)(cut - p), p, (int)indent, "");
		p = *cut == ' ' ? cut + 1 : cut;
	}
	fprintf(out, "%s\n", p);
}

/* "   label     text". */
static void print_field(FILE *out, const char *label, const char *text)
{
	char prefix[3 + LABEL_WIDTH + 1];

	snprintf(prefix, sizeof(prefix), "   %-*s", LABEL_WIDTH, label);
	print_wrapped(out, prefix, text);
}

/* The conditions of one heading, "label value; label value". */
static void conditions_text(const cJSON *entry, bool who, char *buf, size_t len)
{
	char value[2048];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++) {
		const cJSON *item = cJSON_GetObjectItemCaseSensitive(entry, conditions[i].key);

		if (!item || conditions[i].who != who)
			continue;
		if (buf[0])
			append(buf, len, "; ");
		if (cJSON_IsBool(item)) {
			/* A flag reads as what it selects: "host processes", "not host processes". */
			append(buf, len, cJSON_IsTrue(item) ? "" : "not ");
			append(buf, len, conditions[i].label);
			continue;
		}
		value_text(item, value, sizeof(value));
		if (strcmp(conditions[i].key, "access") == 0) {
			append(buf, len, strcmp(value, "write") == 0 ? "opens that can write"
								    : "opens that cannot write");
			continue;
		}
		append(buf, len, conditions[i].label);
		append(buf, len, " ");
		append(buf, len, value);
	}
}

static void describe_entry(FILE *out, const cJSON *entry, int number)
{
	const cJSON *comment = cJSON_GetObjectItemCaseSensitive(entry, "comment");
	const cJSON *source = cJSON_GetObjectItemCaseSensitive(entry, "source");
	const cJSON *rules = cJSON_GetObjectItemCaseSensitive(entry, "rules");
	char text[4096], prefix[16];

	snprintf(prefix, sizeof(prefix), "%d. ", number);
	print_wrapped(out, prefix, cJSON_IsString(comment) ? comment->valuestring : "(no comment)");
	conditions_text(entry, true, text, sizeof(text));
	print_field(out, "who", text[0] ? text : "anyone");
	value_text(rules, text, sizeof(text));
	print_field(out, "rules", strcmp(text, "*") == 0 ? "every rule" : text);
	conditions_text(entry, false, text, sizeof(text));
	if (text[0])
		print_field(out, "touching", text);
	print_field(out, "source", cJSON_IsString(source) ? source->valuestring : "(none given)");
	fputc('\n', out);
}

static void describe(FILE *out, const cJSON *root)
{
	const cJSON *allow = cJSON_GetObjectItemCaseSensitive(root, "allow");
	const cJSON *severity = cJSON_GetObjectItemCaseSensitive(root, "severity");
	const cJSON *item;
	int number = 0;

	fprintf(out,
		"The built-in policy: %d allow entries. An entry silences the rules it names when\n"
		"every condition it states holds; an image matches at a repository boundary, a\n"
		"path at a directory. 'accessmon policy --show-default --json' prints the JSON.\n\n",
		cJSON_GetArraySize(allow));
	cJSON_ArrayForEach(item, allow)
		describe_entry(out, item, ++number);
	cJSON_ArrayForEach(item, severity)
		fprintf(out, "severity: %s is %s\n", item->string,
			cJSON_IsString(item) ? item->valuestring : "?");
}

int policy_main(int argc, char **argv)
{
	bool show_default = false, json = false;
	cJSON *root;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--show-default") == 0) {
			show_default = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			fprintf(stderr, "accessmon policy: unknown option '%s'; see 'accessmon policy "
					"--help'\n",
				argv[i]);
			return 2;
		}
	}
	if (!show_default) {
		usage(stderr);
		return 2;
	}
	if (json) {
		fputs(POLICY_DEFAULT_JSON, stdout);
		return 0;
	}
	root = cJSON_Parse(POLICY_DEFAULT_JSON);
	if (!root) {
		fprintf(stderr, "accessmon policy: the built-in policy is not JSON\n");
		return 1;
	}
	describe(stdout, root);
	cJSON_Delete(root);
	return 0;
}
