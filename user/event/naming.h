/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a destination is named, as every stage after naming sees it: the service
 * and cloud (name/destinations.c classifies), the host and where the name came from
 * (name/flows.c and the DNS cache decide).
 */
#ifndef ACCESSMON_EVENT_NAMING_H
#define ACCESSMON_EVENT_NAMING_H

#include <stdbool.h>

struct service_tag;

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

enum name_source {
	NAME_NONE = 0,
	NAME_DNS,
	NAME_SNI,
	NAME_FIXED,
	NAME_SERVICE_TAG,
};

struct naming {
	char host[256];
	enum name_source source;
	struct destination_class cls;
	const struct service_tag *tag;
	/*
	 * The TLS server name and the name the pod's DNS gave differ (mismatch). The
	 * server name names the destination, and dns_host keeps the DNS name; unless
	 * the DNS name is of a vault, registry or login host and the server name of
	 * none: then the DNS name stays the destination (judged at worst), and sni
	 * keeps the server name.
	 */
	char dns_host[256];
	char sni[256];
	bool mismatch;
	bool hello_unread; /* a ClientHello was sent but could not be read whole */
};

#endif /* ACCESSMON_EVENT_NAMING_H */
