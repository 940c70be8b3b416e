// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy decision (bpf/lib/policy.bpf.h) on crafted conversions, run
 * with BPF_PROG_TEST_RUN by tests/bpf/test_bpf_policy.c: the runner fills
 * the maps from a compiled YAML policy and the conversion in .bss.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "gmemtrace.h"

/* the caller's cgroup ancestry, crafted by the runner */
__u64 t_cg_anc[8] = {};
#define GMT_POL_ANCESTOR_CGROUP(level)	t_cg_anc[(level) & 7]

#include "lib/policy.bpf.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gmt_policy_hdr);
} t_pol_hdr SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GMT_POLICY_MAX_RULES);
	__type(key, __u32);
	__type(value, struct gmt_policy_rule);
} t_pol_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct gmt_pol_bucket_key);
	__type(value, struct gmt_pol_bucket);
} t_pol_buckets SEC(".maps");

struct gmt_pol_conv t_conv = {};
struct gmt_pol_verdict t_verdict = {};
__u64 t_cand = 0;	/* the index's candidates for t_conv */
int t_ret = 0;

SEC("syscall")
int t_policy(void *ctx)
{
	struct gmt_pol_conv c = t_conv;
	struct gmt_pol_verdict v = {};

	const struct gmt_policy_hdr *h;
	__u32 zero = 0;

	t_ret = gmt_policy_decide(&t_pol_hdr, &t_pol_rules, &t_pol_buckets, &c, &v);
	t_verdict = v;
	h = bpf_map_lookup_elem(&t_pol_hdr, &zero);
	if (h)
		t_cand = gmt_pol_candidates(h, &c);
	return 0;
}
