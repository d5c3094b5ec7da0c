/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `accessmon policy --show-default`: the built-in policy, each entry with its source. */
#ifndef ACCESSMON_POLICY_COMMAND_H
#define ACCESSMON_POLICY_COMMAND_H

int policy_main(int argc, char **argv);

#endif /* ACCESSMON_POLICY_COMMAND_H */
