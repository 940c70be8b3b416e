// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "gmemtrace.h"
#include "hist.h"

/* the BPF side's slot function, compiled for user space */
#ifndef __always_inline
#define __always_inline inline
#endif
#include "../../bpf/lib/hist.bpf.h"

__u32 gmt_hist_slot_of(__u64 v)
{
	return gmt_hist_slot(v);
}

void gmt_hist_bounds(__u32 slot, __u64 *lo, __u64 *hi)
{
	__u32 b, sub;

	if (slot < GMT_HIST_SUB) {
		*lo = *hi = slot;
		return;
	}
	b = slot / GMT_HIST_SUB + GMT_HIST_SUB_BITS - 1;
	sub = slot % GMT_HIST_SUB;
	*lo = (__u64)(GMT_HIST_SUB + sub) << (b - GMT_HIST_SUB_BITS);
	*hi = *lo + (1ULL << (b - GMT_HIST_SUB_BITS)) - 1;
	if (slot == GMT_HIST_SLOTS - 1)
		*hi = ~0ULL;	/* the last slot also holds everything above */
}

__u64 gmt_hist_total(const __u64 *hist)
{
	__u64 n = 0;
	int i;

	for (i = 0; i < GMT_HIST_SLOTS; i++)
		n += hist[i];
	return n;
}

__u64 gmt_hist_percentile(const __u64 *hist, double p)
{
	__u64 total = gmt_hist_total(hist), seen = 0, lo, hi;
	double rank;
	int i;

	if (!total)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	/* nearest-rank: the smallest value with at least p% at or below it */
	rank = p / 100.0 * total;
	if (rank < 1)
		rank = 1;
	for (i = 0; i < GMT_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		if (seen + hist[i] >= rank) {
			double frac = (rank - seen) / hist[i];

			gmt_hist_bounds(i, &lo, &hi);
			if (hi == ~0ULL)
				return lo;
			return lo + (__u64)(frac * (hi - lo));
		}
		seen += hist[i];
	}
	return 0;
}

void gmt_hist_log2(const __u64 *hist, __u64 *out, int nout)
{
	__u64 lo, hi;
	int i, b;

	memset(out, 0, sizeof(*out) * nout);
	for (i = 0; i < GMT_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		gmt_hist_bounds(i, &lo, &hi);
		b = lo ? 63 - __builtin_clzll(lo) : 0;
		if (b >= nout)
			b = nout - 1;
		out[b] += hist[i];
	}
}
