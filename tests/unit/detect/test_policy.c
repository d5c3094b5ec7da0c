// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: the policy (detect/policy.h): allow entries and their conditions,
 * severity overrides, errors that say where, and every problem at once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "detect/policy.h"
#include "tree.h"

static struct policy *policy_from(const char *text, struct am_error *err)
{
	cJSON *root = cJSON_Parse(text);
	struct policy *policy = policy_parse(root, "p.json", err);

	cJSON_Delete(root);
	return policy;
}

static void policy_files(void **state)
{
	struct policy_subject s = {.rule = "imds-access", .namespace = "shop", .pod_name = "web-1",
				   .exe = "/usr/bin/curl"};
	struct am_error err;
	struct policy *policy;

	(void)state;
	policy = policy_from("{\"allow\":[{\"comment\":\"health\",\"rules\":[\"imds-access\"],"
			     "\"namespace\":\"shop\",\"exe\":[\"/usr/bin/curl\"]}],"
			     "\"severity\":{\"wireserver-access\":\"critical\"}}",
			     &err);
	assert_non_null(policy);
	assert_string_equal(policy_allows(policy, &s), "health");
	s.exe = "/usr/bin/wget";
	assert_null(policy_allows(policy, &s));
	assert_int_equal(policy_severity(policy, "wireserver-access", SEVERITY_HIGH),
			 SEVERITY_CRITICAL);
	assert_int_equal(policy_severity(policy, "imds-access", SEVERITY_MEDIUM), SEVERITY_MEDIUM);
	policy_free(policy);

	assert_null(policy_from("{\"allow\":[{\"rules\":[\"imds\"]}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0].rules[0]: unknown rule \"imds\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"namespaces\":\"x\"}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0]: unknown condition \"namespaces\"");
	assert_null(policy_from("{\"allow\":[{\"namespace\":\"x\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].rules: missing"));
	assert_null(policy_from("{\"severity\":{\"imds-access\":\"urgent\"}}", &err));
	assert_non_null(strstr(err.msg, "severity.imds-access"));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"proxy_sidecar\":\"yes\"}]}", &err));
	assert_non_null(strstr(err.msg, "proxy_sidecar: expected true or false"));
	assert_null(policy_load("/nonexistent/policy.json", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/policy.json: cannot open"));
	assert_int_equal(severity_parse("high"), SEVERITY_HIGH);
	assert_int_equal(severity_parse("nope"), SEVERITY_NONE);
}

/* Problems policy_check reports, joined by newlines. */
static char problems[2048];

static void note_problem(void *ctx, const char *message)
{
	(void)ctx;
	strncat(problems, message, sizeof(problems) - strlen(problems) - 2);
	strcat(problems, "\n");
}

/* Secret files are judged by kind, path (at a directory) and access; images at a repository. */
static void policy_secret_and_image_conditions(void **state)
{
	struct policy_subject s = {.rule = "foreign-token-read",
				   .namespace = "kube-system",
				   .service_account = "driver",
				   .image = "mcr.microsoft.com/oss/driver:v1",
				   .secret_kind = "csi-secret",
				   .secret_path = "/var/lib/kubelet/pods/u1/volumes/kubernetes.io~csi/v/mount/k"};
	struct am_error err;
	struct policy *policy;
	cJSON *root;

	(void)state;
	policy = policy_from("{\"allow\":[{\"comment\":\"driver\",\"source\":\"its manifest\","
			     "\"rules\":[\"foreign-token-read\",\"secret-tampering\"],"
			     "\"service_account\":\"driver\","
			     "\"image_prefix\":\"mcr.microsoft.com/oss/driver\","
			     "\"secret_kind\":[\"csi-secret\"],"
			     "\"secret_path_prefix\":\"/var/lib/kubelet/pods\",\"access\":\"read\"}]}",
			     &err);
	assert_non_null(policy);
	assert_string_equal(policy_allows(policy, &s), "driver");
	/* access: "read" is an open that cannot write. */
	s.secret_write = true;
	assert_null(policy_allows(policy, &s));
	s.secret_write = false;
	/* Another kind, a path beside the prefix, no secret at all. */
	s.secret_kind = "secret-volume";
	assert_null(policy_allows(policy, &s));
	s.secret_kind = "csi-secret";
	s.secret_path = "/var/lib/kubelet/pods2/u1/k";
	assert_null(policy_allows(policy, &s));
	s.secret_path = NULL;
	s.secret_kind = NULL;
	assert_null(policy_allows(policy, &s));
	s.secret_kind = "csi-secret";
	s.secret_path = "/var/lib/kubelet/pods";
	assert_non_null(policy_allows(policy, &s));
	/* An image prefix names one repository: any tag or digest, no other repository. */
	s.image = "mcr.microsoft.com/oss/driver@sha256:0123";
	assert_non_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver/sub:v1";
	assert_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver-debug:v1";
	assert_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com/oss/driver";
	assert_non_null(policy_allows(policy, &s));
	s.image = NULL;
	assert_null(policy_allows(policy, &s));
	policy_free(policy);
	/* Ending in '/', it names every repository below: a registry, never a longer host. */
	policy = policy_from("{\"allow\":[{\"rules\":\"raw-socket\","
			     "\"image_prefix\":\"mcr.microsoft.com/\"}]}",
			     &err);
	assert_non_null(policy);
	memset(&s, 0, sizeof(s));
	s.rule = "raw-socket";
	s.image = "mcr.microsoft.com/oss/cilium/cilium:1.16.6";
	assert_non_null(policy_allows(policy, &s));
	s.image = "mcr.microsoft.com.example.net/oss/cilium/cilium:1.16.6";
	assert_null(policy_allows(policy, &s));
	policy_free(policy);

	/* Errors say where and what is expected. */
	assert_null(policy_from("{\"allow\":[{\"rules\":\"secret-tampering\","
				"\"secret_kind\":\"csi-secrets\"}]}",
				&err));
	assert_non_null(strstr(err.msg, "p.json: allow[0].secret_kind[0]: unknown secret kind "
					"\"csi-secrets\"; known: node-cloud-config, "));
	assert_non_null(strstr(err.msg, ", csi-secret, "));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"secret_path_prefix\":\"etc\"}]}",
				&err));
	assert_string_equal(err.msg, "p.json: allow[0].secret_path_prefix[0]: expected an absolute "
				     "path, not \"etc\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"access\":\"rw\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].access: expected \"read\""));
	assert_null(policy_from("{\"allow\":[{\"rules\":[\"imds-access\"],"
				"\"secret_kind\":\"csi-secret\"}]}",
				&err));
	assert_string_equal(err.msg, "p.json: allow[0]: secret_kind, secret_path_prefix and access "
				     "match only node-credential-read, foreign-token-read and "
				     "secret-tampering, not \"imds-access\"");
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"image_prefix\":\"\"}]}", &err));
	assert_non_null(strstr(err.msg, "allow[0].image_prefix[0]: expected a repository"));
	assert_null(policy_from("{\"allow\":[{\"rules\":\"*\",\"source\":[\"x\"]}]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0].source: expected a string");
	/* policy_check reports every entry's problem, not the first only. */
	root = cJSON_Parse("{\"allow\":[{\"rules\":\"*\",\"access\":1},"
			   "{\"rules\":\"*\",\"secret_kind\":\"nope\"}]}");
	problems[0] = '\0';
	assert_int_equal(policy_check(root, "p.json", note_problem, NULL), 2);
	assert_non_null(strstr(problems, "p.json: allow[0].access: expected"));
	assert_non_null(strstr(problems, "p.json: allow[1].secret_kind[0]: unknown secret kind"));
	cJSON_Delete(root);
	/* The built-in policy checks clean. */
	root = cJSON_Parse(POLICY_DEFAULT_JSON);
	assert_int_equal(policy_check(root, "default", note_problem, NULL), 0);
	cJSON_Delete(root);
}

/* What a recording carries is the policy itself: read back, it judges the same. */
static void compact_json_reads_back(void **state)
{
	struct policy_subject s = {.rule = "imds-access", .namespace = "shop"};
	struct policy *policy, *again;
	struct am_error err;

	(void)state;
	policy = policy_from("{\n  \"allow\": [{\"comment\": \"shop\", \"rules\": \"*\",\n"
			     "  \"namespace\": \"shop\"}],\n  \"severity\": {\"raw-socket\": \"low\"}\n}",
			     &err);
	assert_non_null(policy);
	assert_null(strchr(policy_json(policy), '\n'));
	again = policy_from(policy_json(policy), &err);
	assert_non_null(again);
	assert_string_equal(policy_json(again), policy_json(policy));
	assert_string_equal(policy_allows(again, &s), "shop");
	s.namespace = "other";
	assert_null(policy_allows(again, &s));
	assert_int_equal(policy_severity(again, "raw-socket", SEVERITY_HIGH), SEVERITY_LOW);
	policy_free(again);
	policy_free(policy);
	policy_free(NULL);
}

static void documents_of_the_wrong_shape(void **state)
{
	struct am_error err;
	char text[1024];
	size_t len;
	int i;

	(void)state;
	assert_null(policy_from("[]", &err));
	assert_string_equal(err.msg, "p.json: expected a policy object");
	assert_null(policy_from("{\"allow\":{}}", &err));
	assert_string_equal(err.msg, "p.json: allow must be an array and severity an object");
	assert_null(policy_from("{\"allow\":[\"imds-access\"]}", &err));
	assert_string_equal(err.msg, "p.json: allow[0]: expected an object");
	assert_null(policy_from("{\"severity\":{\"no-such-rule\":\"low\"}}", &err));
	assert_non_null(strstr(err.msg, "severity.no-such-rule: expected a rule name"));
	assert_null(policy_from("{\"severity\":{\"imds-access\":3}}", &err));
	assert_non_null(strstr(err.msg, "severity.imds-access"));
	/* Values per condition are bounded. */
	len = (size_t)snprintf(text, sizeof(text), "{\"allow\":[{\"rules\":\"*\",\"namespace\":[");
	for (i = 0; i < 17; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"ns%d\"", i ? "," : "", i);
	snprintf(text + len, sizeof(text) - len, "]}]}");
	assert_null(policy_from(text, &err));
	assert_string_equal(err.msg, "p.json: allow[0].namespace: at most 16 values");
	/* An empty policy allows nothing and changes no severity. */
	{
		struct policy *policy = policy_from("{}", &err);
		struct policy_subject s = {.rule = "imds-access"};

		assert_non_null(policy);
		assert_null(policy_allows(policy, &s));
		assert_int_equal(policy_severity(policy, "imds-access", SEVERITY_MEDIUM),
				 SEVERITY_MEDIUM);
		policy_free(policy);
	}
	/* policy_check on the document's shape: each problem once. */
	{
		cJSON *root = cJSON_Parse("{\"allow\":1,\"severity\":[]}");

		problems[0] = '\0';
		assert_int_equal(policy_check(root, "p.json", note_problem, NULL), 2);
		assert_non_null(strstr(problems, "p.json: allow must be an array\n"));
		assert_non_null(strstr(problems, "p.json: severity must be an object\n"));
		cJSON_Delete(root);
	}
}

static void policy_files_on_disk(void **state)
{
	struct policy_subject s = {.rule = "raw-socket", .host = true, .host_unit = "x.service"};
	struct policy *policy;
	struct am_error err;
	char path[128];

	(void)state;
	tree_make("policy");
	tree_write("/policy.json", "{\"allow\": [\n  {\"rules\": [\"raw-socket\"],\n"
				   "   \"host_unit\": \"x.service\", \"comment\": \"x\"}]}\n");
	snprintf(path, sizeof(path), "%s/policy.json", tree_root);
	policy = policy_load(path, &err);
	if (!policy)
		fail_msg("%s", err.msg);
	assert_string_equal(policy_allows(policy, &s), "x");
	policy_free(policy);
	/* Invalid JSON: the file, line and column; wrong content: the file and the field. */
	tree_write("/policy.json", "{\"allow\": [\n  {\"rules\": }]}");
	assert_null(policy_load(path, &err));
	assert_non_null(strstr(err.msg, "/policy.json:2:"));
	tree_write("/policy.json", "{\"allow\": [{\"rules\": \"*\", \"pod\": \"x\"}]}");
	assert_null(policy_load(path, &err));
	assert_non_null(strstr(err.msg, "/policy.json: allow[0]: unknown condition \"pod\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_files),
		cmocka_unit_test(policy_secret_and_image_conditions),
		cmocka_unit_test(compact_json_reads_back),
		cmocka_unit_test(documents_of_the_wrong_shape),
		cmocka_unit_test_teardown(policy_files_on_disk, tree_remove),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
