// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests: what a destination is (name/destinations.h), from host names in
 * every cloud and from the node-local addresses of IMDS and WireServer.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "name/destinations.h"

static void classify(const char *host, enum destination_service service,
		     enum destination_cloud cloud, const char *resource)
{
	struct destination_class out;

	destination_classify_host(host, &out);
	assert_int_equal(out.service, service);
	assert_int_equal(out.cloud, cloud);
	assert_string_equal(out.resource, resource);
}

static void host_names_in_every_cloud(void **state)
{
	(void)state;
	classify("kv-payments.vault.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, "kv-payments");
	classify("kv.vault.azure.cn", SERVICE_KEYVAULT, CLOUD_CHINA, "kv");
	classify("kv.vault.usgovcloudapi.net", SERVICE_KEYVAULT, CLOUD_USGOV, "kv");
	classify("kv.privatelink.vaultcore.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, "kv");
	classify("hsm1.managedhsm.azure.net", SERVICE_MANAGED_HSM, CLOUD_PUBLIC, "hsm1");
	classify("hsm1.managedhsm.usgovcloudapi.net", SERVICE_MANAGED_HSM, CLOUD_USGOV, "hsm1");
	classify("myreg.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("myreg.azurecr.cn", SERVICE_ACR, CLOUD_CHINA, "myreg");
	classify("myreg.azurecr.us", SERVICE_ACR, CLOUD_USGOV, "myreg");
	classify("myreg.eastus.data.azurecr.io", SERVICE_ACR_DATA, CLOUD_PUBLIC, "myreg");
	classify("myreg.westeurope.geo.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("myreg.privatelink.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, "myreg");
	classify("login.microsoftonline.com", SERVICE_ENTRA_LOGIN, CLOUD_PUBLIC, "");
	classify("login.chinacloudapi.cn", SERVICE_ENTRA_LOGIN, CLOUD_CHINA, "");
	classify("login.microsoftonline.us", SERVICE_ENTRA_LOGIN, CLOUD_USGOV, "");
	classify("management.azure.com", SERVICE_RESOURCE_MANAGER, CLOUD_PUBLIC, "");
	classify("management.chinacloudapi.cn", SERVICE_RESOURCE_MANAGER, CLOUD_CHINA, "");
	classify("management.usgovcloudapi.net", SERVICE_RESOURCE_MANAGER, CLOUD_USGOV, "");
	classify("acct1.blob.core.windows.net", SERVICE_STORAGE_BLOB, CLOUD_PUBLIC, "acct1");
	classify("example.com", SERVICE_OTHER, CLOUD_NONE, "");
	/* Look-alikes are not Azure. */
	classify("vault.azure.net.evil.example", SERVICE_OTHER, CLOUD_NONE, "");
	classify("notazurecr.io", SERVICE_OTHER, CLOUD_NONE, "");
	classify("azurecr.io", SERVICE_OTHER, CLOUD_NONE, "");
	classify("", SERVICE_NONE, CLOUD_NONE, "");
}

static void node_local_endpoints(void **state)
{
	uint8_t imds[16] = {169, 254, 169, 254}, wireserver[16] = {168, 63, 129, 16};
	uint8_t other[16] = {10, 0, 0, 1};

	(void)state;
	/* The address alone: NAT in the pod's namespace can turn any port into IMDS's. */
	assert_int_equal(destination_fixed(4, imds), SERVICE_IMDS);
	assert_int_equal(destination_fixed(4, wireserver), SERVICE_WIRESERVER);
	assert_int_equal(destination_fixed(4, other), SERVICE_NONE);
	/* An IPv6 address with IMDS's bytes first is no IMDS (mapped ones arrive as 4). */
	assert_int_equal(destination_fixed(6, imds), SERVICE_NONE);
	assert_string_equal(destination_service_name(SERVICE_ACR_DATA), "acr-data");
	assert_string_equal(destination_cloud_name(CLOUD_USGOV), "usgov");
}

static void resources_are_the_first_label(void **state)
{
	char host[DESTINATION_RESOURCE_MAX + 64];

	(void)state;
	/* Names below a vault's still name the vault by their first label. */
	classify("a.b.vault.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, "a");
	classify("hsm1.managedhsm.azure.cn", SERVICE_MANAGED_HSM, CLOUD_CHINA, "hsm1");
	classify("acct1.blob.core.usgovcloudapi.net", SERVICE_STORAGE_BLOB, CLOUD_USGOV, "acct1");
	/* The suffix alone, with nothing before it, is no resource. */
	classify("vault.azure.net", SERVICE_OTHER, CLOUD_NONE, "");
	classify("login.windows.net", SERVICE_ENTRA_LOGIN, CLOUD_PUBLIC, "");
	/* A name the suffix only ends in without a label boundary is not Azure. */
	classify("evilvault.azure.net", SERVICE_OTHER, CLOUD_NONE, "");
	/* A giant first label is cut to the buffer, never past it. */
	memset(host, 'k', DESTINATION_RESOURCE_MAX + 10);
	strcpy(host + DESTINATION_RESOURCE_MAX + 10, ".vault.azure.net");
	{
		struct destination_class out;

		destination_classify_host(host, &out);
		assert_int_equal(out.service, SERVICE_KEYVAULT);
		assert_int_equal(strlen(out.resource), DESTINATION_RESOURCE_MAX - 1);
		assert_memory_equal(out.resource, host, DESTINATION_RESOURCE_MAX - 1);
	}
}

static void names_and_families(void **state)
{
	enum destination_service service;

	(void)state;
	/* Every service has a name; SERVICE_NONE has none. */
	for (service = SERVICE_IMDS; service <= SERVICE_OTHER; service++)
		assert_non_null(destination_service_name(service));
	assert_null(destination_service_name(SERVICE_NONE));
	assert_string_equal(destination_service_name(SERVICE_KEYVAULT), "keyvault");
	assert_string_equal(destination_service_name(SERVICE_ENTRA_LOGIN), "entra-login");
	assert_string_equal(destination_cloud_name(CLOUD_PUBLIC), "public");
	assert_string_equal(destination_cloud_name(CLOUD_CHINA), "china");
	assert_null(destination_cloud_name(CLOUD_NONE));
	/* A credential for a vault works on a managed HSM; one for a registry on its data host. */
	assert_int_equal(destination_family(SERVICE_KEYVAULT), 1);
	assert_int_equal(destination_family(SERVICE_MANAGED_HSM), 1);
	assert_int_equal(destination_family(SERVICE_ACR), 2);
	assert_int_equal(destination_family(SERVICE_ACR_DATA), 2);
	assert_int_equal(destination_family(SERVICE_ENTRA_LOGIN), 3);
	assert_int_equal(destination_family(SERVICE_STORAGE_BLOB), 0);
	assert_int_equal(destination_family(SERVICE_IMDS), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(host_names_in_every_cloud),
		cmocka_unit_test(node_local_endpoints),
		cmocka_unit_test(resources_are_the_first_label),
		cmocka_unit_test(names_and_families),
	};

	return cmocka_run_group_tests_name("destinations", tests, NULL, NULL);
}
