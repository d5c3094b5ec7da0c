/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `accessmon inventory`: print the node's identities and pods as the monitor sees them. */
#ifndef ACCESSMON_INVENTORY_COMMAND_H
#define ACCESSMON_INVENTORY_COMMAND_H

int inventory_main(int argc, char **argv);

#endif /* ACCESSMON_INVENTORY_COMMAND_H */
