// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* Defines the maps declared in maps.bpf.h, and the license every program shares. */
#define AM_DEFINE_MAPS
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
