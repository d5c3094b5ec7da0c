/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Clock readings in nanoseconds, as every module counts time. */
#ifndef ACCESSMON_CLOCK_H
#define ACCESSMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* For intervals and deadlines: never jumps with the wall clock. */
static inline uint64_t monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif /* ACCESSMON_CLOCK_H */
