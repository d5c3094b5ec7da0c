/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `accessmon check-config`: every problem of a config, policy or identity directory. */
#ifndef ACCESSMON_CHECK_CONFIG_COMMAND_H
#define ACCESSMON_CHECK_CONFIG_COMMAND_H

int check_config_main(int argc, char **argv);

#endif /* ACCESSMON_CHECK_CONFIG_COMMAND_H */
