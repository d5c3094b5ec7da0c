/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `accessmon monitor`: the live source wired to the pipeline. */
#ifndef ACCESSMON_MONITOR_H
#define ACCESSMON_MONITOR_H

int monitor_main(int argc, char **argv);

#endif /* ACCESSMON_MONITOR_H */
