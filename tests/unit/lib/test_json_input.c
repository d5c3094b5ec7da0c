// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: JSON from outside (lib/json_input.h): errors name the source, line
 * and column, tell a document cut short from a wrong one, and files are bounded.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json_input.h"
#include "tree.h"

static void documents_and_members(void **state)
{
	const char text[] = "{\"name\":\"kv\",\"count\":3,\"nested\":{\"name\":\"inner\"}}";
	struct am_error err;
	cJSON *root;

	(void)state;
	root = json_input_parse("doc.json", text, strlen(text), &err);
	assert_non_null(root);
	assert_string_equal(json_member_string(root, "name"), "kv");
	/* Missing, or of another type: no string. */
	assert_null(json_member_string(root, "missing"));
	assert_null(json_member_string(root, "count"));
	assert_null(json_member_string(root, "nested"));
	/* Member names are case-sensitive. */
	assert_null(json_member_string(root, "Name"));
	assert_null(json_member_string(NULL, "name"));
	cJSON_Delete(root);
	/* Only len bytes are read: what follows them is not the document's. */
	root = json_input_parse("doc.json", "[1]garbage", 3, &err);
	assert_non_null(root);
	cJSON_Delete(root);
}

static void errors_name_the_place(void **state)
{
	static const struct {
		const char *text;
		int error;
		const char *message;
	} cases[] = {
		{"", ENODATA, "doc.json: empty input, expected a JSON document"},
		/* Cut short: a file still being written says so, to be read again. */
		{"{\"a\": [1, 2", ENODATA, "doc.json:1:11: invalid JSON: input ends too early"},
		{"{\n  \"a\": \"whole\"", ENODATA, "doc.json:2:"},
		/* Wrong: where parsing stopped, by line, column and byte. */
		{"{\n  \"a\": tru,\n  \"b\": 1\n}", EINVAL, "doc.json:2:8: invalid JSON near byte 9"},
		{"[1,,2]", EINVAL, "doc.json:1:4: invalid JSON near byte 3"},
		{"\n\n\n   }, 1", EINVAL, "doc.json:4:4: invalid JSON near byte 6"},
	};
	struct am_error err;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		err.msg[0] = '\0';
		assert_null(json_input_parse("doc.json", cases[i].text, strlen(cases[i].text), &err));
		if (errno != cases[i].error || !strstr(err.msg, cases[i].message))
			fail_msg("'%s': errno %d, '%s'; expected %d, '%s'", cases[i].text, errno,
				 err.msg, cases[i].error, cases[i].message);
	}
}

static void files(void **state)
{
	char path[128];
	struct am_error err;
	cJSON *root;

	(void)state;
	tree_make("json");
	tree_write("/ok.json", "{\"items\": []}\n");
	snprintf(path, sizeof(path), "%s/ok.json", tree_root);
	root = json_input_load_file(path, &err);
	assert_non_null(root);
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(root, "items")));
	cJSON_Delete(root);
	/* The file's own path, line and column. */
	tree_write("/bad.json", "{\"items\": [\n  1,\n  oops]}");
	snprintf(path, sizeof(path), "%s/bad.json", tree_root);
	assert_null(json_input_load_file(path, &err));
	assert_non_null(strstr(err.msg, "/bad.json:3:"));
	tree_write("/empty.json", "");
	snprintf(path, sizeof(path), "%s/empty.json", tree_root);
	assert_null(json_input_load_file(path, &err));
	assert_non_null(strstr(err.msg, "/empty.json: empty input"));
	/* Not there, or not a file. */
	snprintf(path, sizeof(path), "%s/missing.json", tree_root);
	assert_null(json_input_load_file(path, &err));
	assert_non_null(strstr(err.msg, "/missing.json: cannot open: No such file or directory"));
	assert_null(json_input_load_file(tree_root, &err));
	assert_non_null(strstr(err.msg, ": not a regular file"));
	assert_null(json_input_load_file("/dev/null", &err));
	assert_string_equal(err.msg, "/dev/null: not a regular file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(documents_and_members),
		cmocka_unit_test(errors_name_the_place),
		cmocka_unit_test_teardown(files, tree_remove),
	};

	return cmocka_run_group_tests_name("json_input", tests, NULL, NULL);
}
