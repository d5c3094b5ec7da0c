// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Host names and node addresses to Azure services; see destinations.h. */
#include "name/destinations.h"

#include <stdio.h>
#include <string.h>

struct suffix_rule {
	const char *suffix; /* matched at a label boundary */
	enum destination_service service;
	enum destination_cloud cloud;
	int resource_labels; /* labels before the suffix that name the resource: 0 or 1 */
};

/* Longer, more specific suffixes first. */
static const struct suffix_rule rules[] = {
	{".privatelink.vaultcore.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, 1},
	{".vault.azure.net", SERVICE_KEYVAULT, CLOUD_PUBLIC, 1},
	{".vault.azure.cn", SERVICE_KEYVAULT, CLOUD_CHINA, 1},
	{".vault.usgovcloudapi.net", SERVICE_KEYVAULT, CLOUD_USGOV, 1},
	{".managedhsm.azure.net", SERVICE_MANAGED_HSM, CLOUD_PUBLIC, 1},
	{".managedhsm.azure.cn", SERVICE_MANAGED_HSM, CLOUD_CHINA, 1},
	{".managedhsm.usgovcloudapi.net", SERVICE_MANAGED_HSM, CLOUD_USGOV, 1},
	{".privatelink.azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, 1},
	{".azurecr.io", SERVICE_ACR, CLOUD_PUBLIC, 1},
	{".azurecr.cn", SERVICE_ACR, CLOUD_CHINA, 1},
	{".azurecr.us", SERVICE_ACR, CLOUD_USGOV, 1},
	{".blob.core.windows.net", SERVICE_STORAGE_BLOB, CLOUD_PUBLIC, 1},
	{".blob.core.chinacloudapi.cn", SERVICE_STORAGE_BLOB, CLOUD_CHINA, 1},
	{".blob.core.usgovcloudapi.net", SERVICE_STORAGE_BLOB, CLOUD_USGOV, 1},
};

static const struct {
	const char *host;
	enum destination_service service;
	enum destination_cloud cloud;
} exact[] = {
	{"login.microsoftonline.com", SERVICE_ENTRA_LOGIN, CLOUD_PUBLIC},
	{"login.windows.net", SERVICE_ENTRA_LOGIN, CLOUD_PUBLIC},
	{"login.chinacloudapi.cn", SERVICE_ENTRA_LOGIN, CLOUD_CHINA},
	{"login.partner.microsoftonline.cn", SERVICE_ENTRA_LOGIN, CLOUD_CHINA},
	{"login.microsoftonline.us", SERVICE_ENTRA_LOGIN, CLOUD_USGOV},
	{"management.azure.com", SERVICE_RESOURCE_MANAGER, CLOUD_PUBLIC},
	{"management.core.windows.net", SERVICE_RESOURCE_MANAGER, CLOUD_PUBLIC},
	{"management.chinacloudapi.cn", SERVICE_RESOURCE_MANAGER, CLOUD_CHINA},
	{"management.usgovcloudapi.net", SERVICE_RESOURCE_MANAGER, CLOUD_USGOV},
};

/* The first label of host, when it is all there is before the suffix. */
static void first_label(const char *host, size_t prefix_len, char *out)
{
	const char *dot = memchr(host, '.', prefix_len);
	size_t n = dot ? (size_t)(dot - host) : prefix_len;

	if (n >= DESTINATION_RESOURCE_MAX)
		n = DESTINATION_RESOURCE_MAX - 1;
	memcpy(out, host, n);
	out[n] = '\0';
}

void destination_classify_host(const char *host, struct destination_class *out)
{
	size_t host_len = strlen(host), i;

	memset(out, 0, sizeof(*out));
	if (!host_len)
		return;
	for (i = 0; i < sizeof(exact) / sizeof(exact[0]); i++) {
		if (strcmp(host, exact[i].host) == 0) {
			out->service = exact[i].service;
			out->cloud = exact[i].cloud;
			return;
		}
	}
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t suffix_len = strlen(rules[i].suffix), prefix_len;
		const char *region_dot;

		if (host_len <= suffix_len ||
		    strcmp(host + host_len - suffix_len, rules[i].suffix) != 0)
			continue;
		prefix_len = host_len - suffix_len;
		out->service = rules[i].service;
		out->cloud = rules[i].cloud;
		first_label(host, prefix_len, out->resource);
		/*
		 * ACR: <reg>.<region>.data.azurecr.io is a dedicated data endpoint,
		 * <reg>.<region>.geo.azurecr.io a geo-replica; both name the registry.
		 */
		if (rules[i].service == SERVICE_ACR) {
			region_dot = memchr(host, '.', prefix_len);
			if (region_dot && prefix_len >= 5 &&
			    strncmp(host + prefix_len - 5, ".data", 5) == 0)
				out->service = SERVICE_ACR_DATA;
		}
		return;
	}
	out->service = SERVICE_OTHER;
}

enum destination_service destination_fixed(uint8_t family, const uint8_t addr[16])
{
	static const uint8_t imds[4] = {169, 254, 169, 254};
	static const uint8_t wireserver[4] = {168, 63, 129, 16};

	/*
	 * Every port and protocol: IMDS serves HTTP on 80 only, but a packet to another
	 * port can be turned to it by NAT in the pod's own namespace, and a probe of the
	 * address is a contact all the same.
	 */
	if (family != 4)
		return SERVICE_NONE;
	if (memcmp(addr, imds, 4) == 0)
		return SERVICE_IMDS;
	if (memcmp(addr, wireserver, 4) == 0)
		return SERVICE_WIRESERVER;
	return SERVICE_NONE;
}

int destination_family(enum destination_service service)
{
	switch (service) {
	case SERVICE_KEYVAULT:
	case SERVICE_MANAGED_HSM:
		return 1;
	case SERVICE_ACR:
	case SERVICE_ACR_DATA:
		return 2;
	case SERVICE_ENTRA_LOGIN:
		return 3;
	default:
		return 0;
	}
}

const char *destination_service_name(enum destination_service service)
{
	switch (service) {
	case SERVICE_IMDS:
		return "imds";
	case SERVICE_WIRESERVER:
		return "wireserver";
	case SERVICE_KEYVAULT:
		return "keyvault";
	case SERVICE_MANAGED_HSM:
		return "managed-hsm";
	case SERVICE_ACR:
		return "acr";
	case SERVICE_ACR_DATA:
		return "acr-data";
	case SERVICE_ENTRA_LOGIN:
		return "entra-login";
	case SERVICE_RESOURCE_MANAGER:
		return "resource-manager";
	case SERVICE_STORAGE_BLOB:
		return "storage-blob";
	case SERVICE_OTHER:
		return "other";
	default:
		return NULL;
	}
}

const char *destination_cloud_name(enum destination_cloud cloud)
{
	switch (cloud) {
	case CLOUD_PUBLIC:
		return "public";
	case CLOUD_CHINA:
		return "china";
	case CLOUD_USGOV:
		return "usgov";
	default:
		return NULL;
	}
}
