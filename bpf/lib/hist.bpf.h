/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Log-linear histogram slot (see GMT_HIST_* in gmemtrace.h). The same
 * function is compiled for user space (src/model/hist.c) so tests check it.
 */
#ifndef GMT_LIB_HIST_BPF_H
#define GMT_LIB_HIST_BPF_H

/* floor(log2(v)) for v > 0, branch-free so the verifier sees no loop */
static __always_inline __u32 gmt_log2_u64(__u64 v)
{
	__u32 r, shift;

	r = (v > 0xFFFFFFFFULL) << 5; v >>= r;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 gmt_hist_slot(__u64 v)
{
	__u32 b, slot;

	if (v < GMT_HIST_SUB)
		return (__u32)v;
	b = gmt_log2_u64(v);
	slot = (b - GMT_HIST_SUB_BITS + 1) * GMT_HIST_SUB +
	       (__u32)((v >> (b - GMT_HIST_SUB_BITS)) & (GMT_HIST_SUB - 1));
	if (slot >= GMT_HIST_SLOTS)
		slot = GMT_HIST_SLOTS - 1;
	return slot;
}

#endif /* GMT_LIB_HIST_BPF_H */
