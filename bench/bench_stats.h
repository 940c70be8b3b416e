/* SPDX-License-Identifier: GPL-2.0-only */
/* The clock and the median the small benchmarks (gmt-bench-holders,
 * gmt-bench-pins) time their chunks with. */
#ifndef GMT_BENCH_STATS_H
#define GMT_BENCH_STATS_H

#include <stdlib.h>
#include <time.h>
#include <linux/types.h>

static inline __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* the median of v (sorted in place) */
static inline double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

#endif /* GMT_BENCH_STATS_H */
