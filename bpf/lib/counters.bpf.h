/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Drop and error counters: every path that loses information bumps one, so
 * user space can report it instead of staying silent.
 *
 * - gmt_counters (enum gmt_counter): what was lost (an event, a VM name...);
 * - gmt_err_sites (enum gmt_site): which helper call failed, and how, as
 *   tetragon's errmetrics counts helper failures per call site. Only the
 *   failure branch touches it: a success costs the compare the caller makes
 *   anyway.
 *
 * Both maps are __weak: every unit that includes this file defines them, and
 * the static linker (bpftool gen object) keeps one, so the linked gmemtrace
 * object, refs and the BPF tests each have a single copy.
 */
#ifndef GMT_LIB_COUNTERS_BPF_H
#define GMT_LIB_COUNTERS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GMT_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} gmt_counters SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GMT_SITE_MAX);
	__type(key, __u32);
	__type(value, struct gmt_site_err);
} gmt_err_sites SEC(".maps") __weak;

static __always_inline void gmt_count_add(__u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&gmt_counters, &which);

	if (v)
		*v += n;	/* per-CPU: no atomic needed */
}

static __always_inline void gmt_count(__u32 which)
{
	gmt_count_add(which, 1);
}

/* a helper failed at `site` with `err`: kept out of line of the success path */
static __always_inline void gmt_site_fail(__u32 site, long err)
{
	struct gmt_site_err *e = bpf_map_lookup_elem(&gmt_err_sites, &site);

	if (e) {
		e->count++;
		e->last_err = err;
	}
}

/*
 * The return value of a helper that reports failure as a negative errno,
 * counted at `site` when negative: `if (GMT_CHK(site, bpf_probe_read_user(...)))`.
 */
#define GMT_CHK(site, call)					\
	({							\
		long __gmt_ret = (call);			\
		if (__gmt_ret < 0)				\
			gmt_site_fail((site), __gmt_ret);	\
		__gmt_ret;					\
	})

/* bpf_ringbuf_reserve at `site`: NULL counted as a site failure and a drop */
#define GMT_RB_RESERVE(site, rb, size)				\
	({							\
		void *__gmt_p = bpf_ringbuf_reserve((rb), (size), 0);	\
		if (!__gmt_p) {					\
			gmt_site_fail((site), -1);		\
			gmt_count(GMT_CNT_RB_DROPS);		\
		}						\
		__gmt_p;					\
	})

#endif /* GMT_LIB_COUNTERS_BPF_H */
