/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What a destination is: the Azure service, the vault or registry, the cloud,
 * from a host name (every form in the notes, sovereign clouds included) or from
 * the node-local addresses of IMDS and WireServer.
 */
#ifndef ACCESSMON_DESTINATIONS_H
#define ACCESSMON_DESTINATIONS_H

#include <stdint.h>

#include "event/naming.h"

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
