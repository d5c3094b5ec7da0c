/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `accessmon replay` and `accessmon trace info`: recorded traces, read back. */
#ifndef ACCESSMON_REPLAY_COMMAND_H
#define ACCESSMON_REPLAY_COMMAND_H

int replay_main(int argc, char **argv);
int trace_main(int argc, char **argv);

#endif /* ACCESSMON_REPLAY_COMMAND_H */
