/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a destination is: the Azure service, the vault or registry, the cloud,
 * from a host name (every form in the notes, sovereign clouds included) or from
 * the node-local addresses of IMDS and WireServer.
 */
#ifndef ACCESSMON_DESTINATIONS_H
#define ACCESSMON_DESTINATIONS_H

#include <stdint.h>

enum destination_service {
	SERVICE_NONE = 0,
	SERVICE_IMDS,
	SERVICE_WIRESERVER,
	SERVICE_KEYVAULT,
	SERVICE_MANAGED_HSM,
	SERVICE_ACR,
	SERVICE_ACR_DATA,
	SERVICE_ENTRA_LOGIN,
	SERVICE_RESOURCE_MANAGER,
	SERVICE_STORAGE_BLOB,
	SERVICE_OTHER,
};

enum destination_cloud {
	CLOUD_NONE = 0,
	CLOUD_PUBLIC,
	CLOUD_CHINA,
	CLOUD_USGOV,
};

#define DESTINATION_RESOURCE_MAX 64

struct destination_class {
	enum destination_service service;
	enum destination_cloud cloud;
	char resource[DESTINATION_RESOURCE_MAX]; /* vault, HSM, registry or account name */
};

/* Classifies a lower-case host name without a trailing dot. */
void destination_classify_host(const char *host, struct destination_class *out);
/* IMDS (169.254.169.254) and WireServer (168.63.129.16), on any port and protocol. */
enum destination_service destination_fixed(uint8_t family, const uint8_t addr[16]);

const char *destination_service_name(enum destination_service service);
/*
 * The services a credential is used on, in families (a vault and a managed HSM;
 * a registry and its data host; the login host): 1, 2, 3; 0 for any other.
 */
int destination_family(enum destination_service service);
const char *destination_cloud_name(enum destination_cloud cloud);

#endif /* ACCESSMON_DESTINATIONS_H */
