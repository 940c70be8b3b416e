/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy decision (docs/policy.md): the first rule whose selectors all
 * match decides, else the default. Rules and header are array maps filled
 * from struct gmt_policy_abi; rate rules keep a token bucket per VM and
 * rule in an LRU hash. The maps are arguments so tests/bpf runs this on
 * its own maps with crafted conversions.
 *
 * The caller's cgroup is matched as an ancestor at the rule's level:
 * GMT_POL_ANCESTOR_CGROUP(level) (the current task's by default).
 */
#ifndef GMT_LIB_POLICY_BPF_H
#define GMT_LIB_POLICY_BPF_H

#include "gmt_policy.h"

#ifndef GMT_POL_ANCESTOR_CGROUP
#define GMT_POL_ANCESTOR_CGROUP(level)	bpf_get_current_ancestor_cgroup_id(level)
#endif

#define GMT_POL_SCALE	1000000000ULL	/* tokens per unit: refill per ns */

static __always_inline bool gmt_pol_comm_eq(const char *a, const char *b)
{
	int i;

	for (i = 0; i < GMT_POLICY_COMM_LEN; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

/* [start, start + size) against the rule's range; a wrapping conversion
 * reaches the top of the space (it overlaps, it is never inside) */
static __always_inline bool gmt_pol_range(const struct gmt_policy_rule *r,
					  const struct gmt_pol_conv *c)
{
	__u64 end = c->start + c->size;
	bool wraps = end < c->start;

	if (r->range_space == GMT_PR_GPA ? c->gen != GMT_GEN_G1 : c->gen == GMT_GEN_G1)
		return false;
	if (wraps)
		end = ~0ULL;
	if (r->range_inside)
		return !wraps && c->start >= r->range_start && end <= r->range_end;
	return c->start < r->range_end && r->range_start < end;
}

/* the caller and the VM: cheap compares first */
static __always_inline bool gmt_pol_who(const struct gmt_policy_rule *r,
					const struct gmt_pol_conv *c)
{
	__u32 m = r->match;

	if ((m & GMT_PM_PID) && c->tgid != r->pid)
		return false;
	if ((m & GMT_PM_UID) && c->uid != r->uid)
		return false;
	if ((m & GMT_PM_VM_PID) && c->vm_pid != r->vm_pid)
		return false;
	if ((m & GMT_PM_VM_OWNER) && (c->tgid == c->vm_pid) != !!r->vm_owner)
		return false;
	if ((m & GMT_PM_VM_CGROUP) && c->vm_cgroup != r->vm_cgroup)
		return false;
	if ((m & GMT_PM_EXE) && (c->exe_dev != r->exe_dev || c->exe_ino != r->exe_ino))
		return false;
	if ((m & GMT_PM_COMM) && !gmt_pol_comm_eq(c->comm, r->comm))
		return false;
	if ((m & GMT_PM_CGROUP) && GMT_POL_ANCESTOR_CGROUP(r->cgroup_level) != r->cgroup)
		return false;
	return true;
}

static __always_inline bool gmt_pol_what(const struct gmt_policy_rule *r,
					 const struct gmt_pol_conv *c)
{
	__u32 m = r->match;

	if ((m & GMT_PM_GEN) && !(r->gens & (1u << (c->gen & 7))))
		return false;
	if ((m & GMT_PM_DIR) && !(r->dirs & (1u << (c->dir & 7))))
		return false;
	if ((m & GMT_PM_SIZE) && (c->size < r->size_min || c->size > r->size_max))
		return false;
	if ((m & GMT_PM_RANGE) && !gmt_pol_range(r, c))
		return false;
	return true;
}

/* true when the VM is over the rule's rate; else the conversion's tokens
 * are taken. Not atomic across CPUs: concurrent conversions of one VM may
 * both pass on the last tokens (the limit is approximate by that much). */
static __always_inline bool gmt_pol_over_rate(void *buckets, const struct gmt_policy_rule *r,
					      const struct gmt_pol_conv *c, __u32 index)
{
	struct gmt_pol_bucket_key k = { .vm_id = c->vm_id, .index = index };
	__u64 cap = r->burst * GMT_POL_SCALE, cost, elapsed, fill;
	struct gmt_pol_bucket *b, nb;

	cost = r->rate_kind == GMT_PRATE_BYTES ? c->size : 1;
	if (cost > r->burst)
		return true;	/* never fits, and cost * SCALE could wrap */
	cost *= GMT_POL_SCALE;
	b = bpf_map_lookup_elem(buckets, &k);
	if (!b) {
		/* a new VM starts with a full bucket */
		nb.tokens = cap - cost;
		nb.last_ns = c->now_ns;
		bpf_map_update_elem(buckets, &k, &nb, BPF_ANY);
		return false;
	}
	elapsed = c->now_ns > b->last_ns ? c->now_ns - b->last_ns : 0;
	/* rate and burst are at most 2^33 (policy compile): no overflow */
	if (elapsed > cap / r->rate + 1)
		elapsed = cap / r->rate + 1;
	fill = b->tokens + elapsed * r->rate;
	if (fill > cap)
		fill = cap;
	b->last_ns = c->now_ns;
	if (fill < cost) {
		b->tokens = fill;
		return true;
	}
	b->tokens = fill - cost;
	return false;
}

/*
 * One rule's selectors, except the rate, as a global function: the verifier
 * checks it once, on its own, and the rule loop below sees only its result.
 * Inlined into the loop, every selector's branch of every one of the 64
 * steps was a pending state: Debian 6.12's verifier refused the hook with
 * E2BIG ("The sequence of 8193 jumps is too complex"). The pointers are
 * checked because a global function's caller is not trusted to pass any.
 */
__noinline int gmt_pol_rule_matches(const struct gmt_policy_rule *r, const struct gmt_pol_conv *c)
{
	if (!r || !c)
		return 0;
	return gmt_pol_who(r, c) && gmt_pol_what(r, c);
}

/* 1 when a < x, unsigned: the borrow of a - x. BPF has no setcc, so a
 * compare would be a branch, and the verifier would walk every path of
 * the searches below (2^7 each). The barrier keeps clang from folding it
 * back into a compare. */
static __always_inline __u64 gmt_pol_below(__u64 a, __u64 x)
{
	__u64 d = a - x;

	asm volatile("" : "+r"(d));
	return ((~a & x) | (~(a ^ x) & d)) >> 63;
}

/* how many of the ascending a[0..64) are below x (or_equal: at most x):
 * a branch-free binary search from step first (a power of two, 2 * first
 * at least the entries before the ~0 tail: a count past them lands on the
 * saturated masks); the answer is 0..64 */
static __always_inline __u32 gmt_pol_count(const __u64 *a, __u64 x, bool or_equal, __u64 first)
{
	__u32 pos = 0, step;

#pragma unroll
	for (step = 32; step; step >>= 1) {
		__u64 v;

		if (step > first)
			continue;	/* the index's, not the data's: one branch */
		v = a[(pos + step - 1) & 63];

		pos += step * (or_equal ? 1 - gmt_pol_below(x, v) : gmt_pol_below(v, x));
	}
	pos += or_equal ? 1 - gmt_pol_below(x, a[pos & 63]) : gmt_pol_below(a[pos & 63], x);
	return pos & 127;
}

/*
 * How many bounds are at most s: s's elementary interval, 0..128. A plain
 * binary search with branches (a few instructions a step, where the
 * branch-free steps above take ~25), in a global function: the verifier
 * walks its 2^7 paths once, on its own, and the caller sees one result.
 */
__noinline __u32 gmt_pol_interval(const struct gmt_policy_range_index *x, __u64 s)
{
	__u32 pos = 0, step;

	if (!x)
		return GMT_POLICY_MAX_BOUNDS;
#pragma unroll
	for (step = GMT_POLICY_MAX_BOUNDS / 2; step; step >>= 1) {
		if (step > x->bound_step)
			continue;
		if (x->bounds[(pos + step - 1) & (GMT_POLICY_MAX_BOUNDS - 1)] <= s)
			pos += step;
	}
	if (x->bounds[pos & (GMT_POLICY_MAX_BOUNDS - 1)] <= s)
		pos++;
	return pos;
}

/*
 * The rules that may match this conversion (src/policy/index.c), exact
 * for generation, direction and range: overlap of [s, e) is start < e and
 * end > s; inside is start <= s and end >= e. A wrapping conversion
 * reaches the top of the space, as gmt_pol_range() has it.
 */
static __always_inline __u64 gmt_pol_candidates(const struct gmt_policy_hdr *h,
						const struct gmt_pol_conv *c)
{
	const struct gmt_policy_range_index *x;
	__u64 cand, s = c->start, e = c->start + c->size, ranged = 0, kinds;
	bool wraps = e < s;
	__u32 lo, hi, k;

	cand = h->index.by_gen_dir[GMT_POL_GEN_DIR(c->gen, c->dir)];
	if (!(cand & ~h->index.no_range))
		return cand;
	if (wraps)
		e = ~0ULL;
	x = &h->index.space[c->gen == GMT_GEN_G1 ? GMT_PR_GPA - 1 : GMT_PR_GMEM - 1];
	/* an empty conversion (the kernel refuses it) can sit on an edge
	 * and inside a rule: only the general path below is exact for it */
	if (s < e) {
		/* outside the hull: no range rule overlaps, none contains it */
		if (e <= x->bounds[0] || s >= x->hull_end)
			return cand & h->index.no_range;
		/* inside one elementary interval: one count */
		k = gmt_pol_interval(x, s);
		if (k < GMT_POLICY_MAX_BOUNDS && e <= x->bounds[k]) {
			kinds = wraps ? x->overlap : x->overlap | x->inside;
			return cand & (h->index.no_range | (x->cover[k] & kinds));
		}
	}
	if (x->overlap) {
		lo = gmt_pol_count(x->starts, e, false, x->first_step);
		hi = gmt_pol_count(x->ends, s, true, x->first_step);
		if (lo <= GMT_POLICY_MAX_RULES && hi <= GMT_POLICY_MAX_RULES)
			ranged |= x->overlap & x->start_prefix[lo] & x->end_suffix[hi];
	}
	if (x->inside && !wraps) {
		lo = gmt_pol_count(x->starts, s, true, x->first_step);
		hi = gmt_pol_count(x->ends, e, false, x->first_step);
		if (lo <= GMT_POLICY_MAX_RULES && hi <= GMT_POLICY_MAX_RULES)
			ranged |= x->inside & x->start_prefix[lo] & x->end_suffix[hi];
	}
	return cand & (h->index.no_range | ranged);
}

/* the lowest set bit's place (de Bruijn: BPF has no ctz) */
static const __u8 gmt_pol_debruijn[64] = {
	0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4,
	62, 55, 59, 36, 53, 51, 43, 22, 45, 39, 33, 30, 24, 18, 12, 5,
	63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
	46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6,
};

static __always_inline __u32 gmt_pol_lowest(__u64 m)
{
	return gmt_pol_debruijn[((m & -m) * 0x03f79d71b4cb0a89ULL) >> 58];
}

/*
 * The candidates are walked lowest first (first match kept) with the
 * open-coded number iterator (6.4+), so the verifier checks one step until
 * its states converge instead of 64.
 */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* the verdict for one conversion under the header h of rules_map's policy
 * (the caller's lookup: one per conversion); 0, or -1 if h is empty */
static __always_inline int gmt_policy_decide_hdr(const struct gmt_policy_hdr *h, void *rules_map,
						 void *buckets, const struct gmt_pol_conv *c,
						 struct gmt_pol_verdict *v)
{
	const struct gmt_policy_rule *r, *hit = NULL;
	struct bpf_iter_num it;
	__u32 i, hit_i = 0, nr;
	__u64 cand;

	if (h->version != GMT_POLICY_VERSION)
		return -1;
	nr = h->nr_rules < GMT_POLICY_MAX_RULES ? h->nr_rules : GMT_POLICY_MAX_RULES;
	cand = gmt_pol_candidates(h, c);
	if (!cand)
		goto dflt;
	bpf_iter_num_new(&it, 0, (int)nr);
	while (bpf_iter_num_next(&it)) {
		if (!cand)
			break;
		i = gmt_pol_lowest(cand);
		cand &= cand - 1;
		if (i >= nr)
			break;	/* the compiler sets no such bit */
		r = bpf_map_lookup_elem(rules_map, &i);
		if (!r)
			break;
		if (!gmt_pol_rule_matches(r, c))
			continue;
		/* last: a bucket is charged only when the rest matched */
		if ((r->match & GMT_PM_RATE) && !gmt_pol_over_rate(buckets, r, c, i))
			continue;
		hit = r;
		hit_i = i;
		break;
	}
	bpf_iter_num_destroy(&it);
	if (hit) {
		v->id = hit->id;
		v->index = hit_i;
		v->action = hit->action;
		v->err = hit->err;
		return 0;
	}
dflt:
	v->id = 0;
	v->index = GMT_POLICY_MAX_RULES;
	v->action = h->default_action;
	v->err = h->default_err;
	return 0;
}

/* the same, looking the header up in hdr_map */
static __always_inline int gmt_policy_decide(void *hdr_map, void *rules_map, void *buckets,
					     const struct gmt_pol_conv *c,
					     struct gmt_pol_verdict *v)
{
	const struct gmt_policy_hdr *h;
	__u32 zero = 0;

	h = bpf_map_lookup_elem(hdr_map, &zero);
	if (!h)
		return -1;
	return gmt_policy_decide_hdr(h, rules_map, buckets, c, v);
}

#endif /* GMT_LIB_POLICY_BPF_H */
