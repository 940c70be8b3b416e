/* SPDX-License-Identifier: GPL-2.0-only */
/* Latency histograms: slot math shared with BPF, bounds, percentiles. */
#ifndef GMT_HIST_H
#define GMT_HIST_H

#include <linux/types.h>

__u32 gmt_hist_slot_of(__u64 v);
/* inclusive value range of a slot */
void gmt_hist_bounds(__u32 slot, __u64 *lo, __u64 *hi);
__u64 gmt_hist_total(const __u64 *hist);
/* p in [0,100]; linear interpolation inside the slot; 0 if empty */
__u64 gmt_hist_percentile(const __u64 *hist, double p);
/* sum the log-linear slots into power-of-two buckets [2^i, 2^(i+1)) */
void gmt_hist_log2(const __u64 *hist, __u64 *out, int nout);

#endif /* GMT_HIST_H */
