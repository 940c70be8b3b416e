/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Drop and error counters: every path that loses information bumps one, so
 * user space can report it instead of staying silent (enum gmt_counter).
 */
#ifndef GMT_COUNTERS_BPF_H
#define GMT_COUNTERS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GMT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} gmt_counters SEC(".maps");

static __always_inline void gmt_count(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&gmt_counters, &which);

	if (v)
		*v += 1;	/* per-CPU: no atomic needed */
}

#endif /* GMT_COUNTERS_BPF_H */
