// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy decision in BPF (bpf/lib/policy.bpf.h) with BPF_PROG_TEST_RUN:
 * policies compiled from YAML by src/policy, written to the test object's
 * maps, then crafted conversions: every selector, range edges, addr + size
 * wrapping, rate buckets refilled by a crafted clock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>

#include "gmemtrace.h"
#include "policy.h"
#include "test_policy.skel.h"

static struct test_policy_bpf *skel;
static struct gmt_policy pol;

#define HDR "version: 1\ndefault: allow\nrules:\n"

static int setup(void **state)
{
	if (geteuid() == 0)
		skel = test_policy_bpf__open_and_load();
	return 0;
}

static int teardown(void **state)
{
	test_policy_bpf__destroy(skel);
	return 0;
}

/* compile YAML and load it into the maps; buckets start empty */
static void load(const char *yaml)
{
	struct gmt_policy_error e;
	struct gmt_pol_bucket_key k, next;
	__u32 i, zero = 0;

	if (!skel)
		skip();	/* not root, or no BPF here */
	if (gmt_policy_parse(yaml, strlen(yaml), &pol, &e))
		fail_msg("%u:%u: %s", e.line, e.col, e.msg);
	assert_int_equal(bpf_map__update_elem(skel->maps.t_pol_hdr, &zero, sizeof(zero),
					      &pol.abi.hdr, sizeof(pol.abi.hdr), 0), 0);
	for (i = 0; i < GMT_POLICY_MAX_RULES; i++)
		assert_int_equal(bpf_map__update_elem(skel->maps.t_pol_rules, &i, sizeof(i),
						      &pol.abi.rules[i],
						      sizeof(pol.abi.rules[i]), 0), 0);
	while (!bpf_map__get_next_key(skel->maps.t_pol_buckets, NULL, &next, sizeof(next))) {
		k = next;
		bpf_map__delete_elem(skel->maps.t_pol_buckets, &k, sizeof(k), 0);
	}
}

/* a G1 to_private conversion of 4 KiB by pid 100 (the VM's creator) */
static struct gmt_pol_conv conv(void)
{
	struct gmt_pol_conv c = { .start = 0x100000, .size = 4096, .tgid = 100, .uid = 1000,
				  .vm_pid = 100, .vm_id = 1, .gen = GMT_GEN_G1,
				  .dir = GMT_DIR_TO_PRIVATE, .now_ns = 1000000000ULL };

	strcpy(c.comm, "qemu");
	return c;
}

/* the rule id that decided (0: the default) */
static __u32 decide(const struct gmt_pol_conv *c)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	skel->bss->t_conv = *c;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.t_policy), &opts), 0);
	assert_int_equal(skel->bss->t_ret, 0);
	return skel->bss->t_verdict.id;
}

static void test_default_and_order(void **state)
{
	struct gmt_pol_conv c;

	load("version: 1\ndefault: deny\ndefault_errno: EACCES\n");
	c = conv();
	assert_int_equal(decide(&c), 0);
	assert_int_equal(skel->bss->t_verdict.action, GMT_PA_DENY);
	assert_int_equal(skel->bss->t_verdict.err, EACCES);
	assert_int_equal(skel->bss->t_verdict.index, GMT_POLICY_MAX_RULES);
	load(HDR "  - {id: 5, action: audit, match: {pid: 100}}\n"
	     "  - {id: 6, action: deny, errno: EBUSY}\n");
	assert_int_equal(decide(&c), 5);
	assert_int_equal(skel->bss->t_verdict.action, GMT_PA_AUDIT);
	c.tgid = 101;
	assert_int_equal(decide(&c), 6);
	assert_int_equal(skel->bss->t_verdict.err, EBUSY);
	assert_int_equal(skel->bss->t_verdict.index, 1);
}

static void test_process_selectors(void **state)
{
	struct gmt_pol_conv c = conv();

	load(HDR "  - {id: 1, action: deny, match: {comm: qemu}}\n"
	     "  - {id: 2, action: deny, match: {uid: 0}}\n"
	     "  - {id: 3, action: deny, match: {exe: /bin/sh}}\n"
	     "  - {id: 4, action: deny, match: {vm: {caller_is_creator: false}}}\n"
	     "  - {id: 5, action: deny, match: {vm: {creator_pid: 7}}}\n");
	assert_int_equal(decide(&c), 1);
	strcpy(c.comm, "qemu2");
	assert_int_equal(decide(&c), 0);
	c.uid = 0;
	assert_int_equal(decide(&c), 2);
	c.uid = 5;
	c.exe_dev = pol.abi.rules[2].exe_dev;
	c.exe_ino = pol.abi.rules[2].exe_ino;
	assert_int_equal(decide(&c), 3);
	c.exe_ino++;
	c.tgid = 200;	/* got the VM fd from its creator, pid 100 */
	assert_int_equal(decide(&c), 4);
	c.tgid = c.vm_pid = 7;
	assert_int_equal(decide(&c), 5);
}

static void test_cgroup_ancestor(void **state)
{
	struct gmt_pol_conv c = conv();
	char y[512];

	/* the cgroup v2 mount: below /sys/fs/cgroup on a hybrid host */
	snprintf(y, sizeof(y), HDR "  - {id: 9, action: deny, match: {cgroup: %s}}\n",
		 access("/sys/fs/cgroup/unified", F_OK) ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified");
	load(y);

	memset(skel->bss->t_cg_anc, 0, sizeof(skel->bss->t_cg_anc));
	assert_int_equal(decide(&c), 0);
	skel->bss->t_cg_anc[pol.abi.rules[0].cgroup_level] = pol.abi.rules[0].cgroup;
	assert_int_equal(decide(&c), 9);
}

static void test_generation_direction_size(void **state)
{
	struct gmt_pol_conv c = conv();

	load(HDR "  - {id: 1, action: deny, match: {uapi: g3, direction: to_shared}}\n"
	     "  - {id: 2, action: deny, match: {size: {min: 8K, max: 16K}}}\n");
	assert_int_equal(decide(&c), 0);
	c.gen = GMT_GEN_G3;
	assert_int_equal(decide(&c), 0);
	c.dir = GMT_DIR_TO_SHARED;
	assert_int_equal(decide(&c), 1);
	c.gen = GMT_GEN_G2;
	c.size = 8191;
	assert_int_equal(decide(&c), 0);
	c.size = 8192;
	assert_int_equal(decide(&c), 2);
	c.size = 16384;
	assert_int_equal(decide(&c), 2);
	c.size = 16385;
	assert_int_equal(decide(&c), 0);
}

static void test_range_edges_and_wrap(void **state)
{
	struct gmt_pol_conv c = conv();

	load(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, start: 0x10000, "
	     "end: 0x20000}}}\n"
	     "  - {id: 2, action: audit, match: {range: {space: offset, start: 0x10000, "
	     "end: 0x20000, match: inside}}}\n");
	c.start = 0xf000;		/* ends exactly at the range: no overlap */
	assert_int_equal(decide(&c), 0);
	c.start = 0xf001;
	assert_int_equal(decide(&c), 1);
	c.start = 0x1f000;
	assert_int_equal(decide(&c), 1);
	c.start = 0x20000;		/* starts at its end */
	assert_int_equal(decide(&c), 0);
	c.start = 0xfffffffffffff000ULL;	/* start + size wraps: reaches the top */
	c.size = 0x2000;
	assert_int_equal(decide(&c), 0);
	c.start = 0x8000;
	c.size = ~0ULL;			/* wraps and covers the range */
	assert_int_equal(decide(&c), 1);
	c.gen = GMT_GEN_G3;		/* offsets: the gpa rule does not apply */
	assert_int_equal(decide(&c), 0);
	c.start = 0x10000;
	c.size = 0x10000;
	assert_int_equal(decide(&c), 2);
	c.size = 0x10001;
	assert_int_equal(decide(&c), 0);
	c.start = 0x1f000;
	c.size = ~0ULL;			/* wraps: never inside */
	assert_int_equal(decide(&c), 0);
}

static void test_rate_buckets(void **state)
{
	struct gmt_pol_conv c = conv();
	int i;

	load(HDR "  - {id: 1, action: deny, match: {rate: {conversions_per_second: 10, burst: 3}}}\n"
	     "  - {id: 2, action: deny, match: {rate: {bytes_per_second: 8K, burst: 8K}}}\n");
	/* 3 conversions of the burst pass rule 1; each takes 4K of rule 2's 8K */
	assert_int_equal(decide(&c), 0);
	assert_int_equal(decide(&c), 0);
	assert_int_equal(decide(&c), 2);	/* 12K in no time: over 8K */
	assert_int_equal(decide(&c), 1);	/* the 4th in no time */
	c.vm_id = 2;				/* another VM: its own buckets */
	assert_int_equal(decide(&c), 0);
	c.vm_id = 1;
	c.now_ns += 100000000;			/* 100 ms: 1 conversion, 819 bytes */
	assert_int_equal(decide(&c), 2);
	c.now_ns += 400000000;			/* 500 ms in all: 4 K refilled */
	assert_int_equal(decide(&c), 0);
	c.now_ns += 10000000000ULL;		/* long idle: capped at the burst */
	for (i = 0; i < 2; i++)
		assert_int_equal(decide(&c), 0);
	assert_int_equal(decide(&c), 2);
	c.size = 8193;				/* bigger than the burst: never fits */
	c.now_ns += 10000000000ULL;
	assert_int_equal(decide(&c), 2);
}

/* the decision without the index: the rule walk as docs/policy.md has it,
 * for the selectors the index tests use (gen, dir, range, size, pid) */
static bool ref_range(const struct gmt_policy_rule *r, const struct gmt_pol_conv *c)
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

/* the rules gen, dir and range leave: what the index must give, exactly */
static __u64 ref_candidates(const struct gmt_pol_conv *c)
{
	__u64 m = 0;
	unsigned int i;

	for (i = 0; i < pol.abi.hdr.nr_rules; i++) {
		const struct gmt_policy_rule *r = &pol.abi.rules[i];

		if ((r->match & GMT_PM_GEN) && !(r->gens & (1u << c->gen)))
			continue;
		if ((r->match & GMT_PM_DIR) && !(r->dirs & (1u << c->dir)))
			continue;
		if ((r->match & GMT_PM_RANGE) && !ref_range(r, c))
			continue;
		m |= 1ULL << i;
	}
	return m;
}

static __u32 ref_decide(const struct gmt_pol_conv *c)
{
	unsigned int i;

	for (i = 0; i < pol.abi.hdr.nr_rules; i++) {
		const struct gmt_policy_rule *r = &pol.abi.rules[i];

		if ((r->match & GMT_PM_GEN) && !(r->gens & (1u << c->gen)))
			continue;
		if ((r->match & GMT_PM_DIR) && !(r->dirs & (1u << c->dir)))
			continue;
		if ((r->match & GMT_PM_PID) && r->pid != c->tgid)
			continue;
		if ((r->match & GMT_PM_SIZE) && (c->size < r->size_min || c->size > r->size_max))
			continue;
		if ((r->match & GMT_PM_RANGE) && !ref_range(r, c))
			continue;
		return r->id;
	}
	return 0;
}

static __u64 rnd_state = 0x9e3779b97f4a7c15ULL;

static __u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* every conversion at, just below and just above each edge of each range
 * rule, with sizes that end there, wrap or are empty: the index (a
 * prefilter) must give the walk's first match every time */
/* the walk's first match, and the index's candidates exactly */
static void check_one(const struct gmt_pol_conv *c)
{
	assert_int_equal(decide(c), ref_decide(c));
	if (skel->bss->t_cand != ref_candidates(c))
		fail_msg("candidates 0x%llx, want 0x%llx: gen %u dir %u start 0x%llx size 0x%llx",
			 (unsigned long long)skel->bss->t_cand,
			 (unsigned long long)ref_candidates(c), c->gen, c->dir,
			 (unsigned long long)c->start, (unsigned long long)c->size);
}

static void check_against_walk(struct gmt_pol_conv c)
{
	static const __u64 sizes[] = { 0, 1, 0xfff, 0x1000, 0x10000, 1ULL << 40, ~0ULL,
				       0x8000000000000000ULL };
	unsigned int i, j, k, n = 0;
	__u64 at[3];

	for (i = 0; i < pol.abi.hdr.nr_rules; i++) {
		const struct gmt_policy_rule *r = &pol.abi.rules[i];

		if (!(r->match & GMT_PM_RANGE))
			continue;
		for (j = 0; j < 2; j++) {
			__u64 e = j ? r->range_end : r->range_start;

			at[0] = e - 1;
			at[1] = e;
			at[2] = e + 1;
			for (k = 0; k < 3 * 8; k++) {
				c.start = at[k % 3];
				c.size = sizes[k / 3];
				check_one(&c);
				/* a conversion that ends exactly at the edge */
				c.size = at[k % 3] > sizes[k / 3] ? sizes[k / 3] : at[k % 3];
				c.start = at[k % 3] - c.size;
				check_one(&c);
				n += 2;
			}
		}
	}
	for (i = 0; i < 2000; i++) {
		c.start = rnd() & 0x3ffffff;
		c.size = (rnd() & 7) == 0 ? rnd() : rnd() & 0x3fffff;
		c.gen = 1 + rnd() % 3;
		c.dir = rnd() & 1;
		c.tgid = 100 + (rnd() & 1);
		check_one(&c);
		n++;
	}
	assert_true(n > 2000);
}

static void test_index_edges_order_overflow(void **state)
{
	struct gmt_pol_conv c = conv();

	/* overlapping and nested ranges, a shared start, the top of the
	 * space, inside and overlap mixed, gen/dir/size/pid rules between */
	load(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, start: 0x10000, "
	     "end: 0x20000, match: inside}}}\n"
	     "  - {id: 2, action: deny, match: {uapi: g3, direction: to_shared}}\n"
	     "  - {id: 3, action: deny, match: {range: {space: gpa, start: 0x10000, end: 0x11000}}}\n"
	     "  - {id: 4, action: audit, match: {range: {space: offset, start: 0, size: 4K}}}\n"
	     "  - {id: 5, action: deny, match: {pid: 101, range: {space: gpa, start: 0x18000, "
	     "end: 0x30000}}}\n"
	     "  - {id: 6, action: deny, match: {range: {space: gpa, start: 0xfffffffffffff000, "
	     "end: 0xffffffffffffffff}}}\n"
	     "  - {id: 7, action: deny, match: {size: {min: 2M}, direction: to_private}}\n"
	     "  - {id: 8, action: deny, match: {range: {space: offset, start: 0x2000, "
	     "end: 0x2001, match: inside}}}\n"
	     "  - {id: 9, action: deny, match: {uapi: [g2, g3], range: {space: offset, "
	     "start: 0x1000000, size: 1G, match: inside}}}\n"
	     "  - {id: 10, action: deny, match: {range: {space: gpa, start: 0, size: 1}}}\n");
	c.start = 0x10000;		/* inside rule 1 and overlapping rule 3: 1 first */
	c.size = 0x1000;
	assert_int_equal(decide(&c), 1);
	c.size = 0x10001;		/* one byte past rule 1: rule 3 */
	assert_int_equal(decide(&c), 3);
	c.start = 0xffffffffffffe000ULL;	/* wraps: reaches rule 6 */
	c.size = 0x4000;
	assert_int_equal(decide(&c), 6);
	c.start = 0;			/* rule 10's single byte */
	c.size = 1;
	assert_int_equal(decide(&c), 10);
	c.gen = GMT_GEN_G3;		/* offsets now: rule 4 */
	assert_int_equal(decide(&c), 4);
	c.dir = GMT_DIR_TO_SHARED;	/* rule 2 comes first */
	assert_int_equal(decide(&c), 2);
	c.dir = GMT_DIR_TO_PRIVATE;
	c.start = 0x2000;		/* inside rule 8's one byte */
	assert_int_equal(decide(&c), 8);
	c.size = 2;
	assert_int_equal(decide(&c), 0);
	check_against_walk(conv());
}

/* 64 range rules, the most a policy holds: the masks' top bit and every
 * slot of the sorted arrays are used */
static void test_index_full_policy(void **state)
{
	char *y = malloc(64 * 160 + 64), *p;
	unsigned int i;

	assert_non_null(y);
	p = y + sprintf(y, HDR);
	for (i = 0; i < GMT_POLICY_MAX_RULES; i++) {
		__u64 start = (rnd() & 0x3ffffff) & ~0xfffULL, size = (rnd() & 0xffffff) + 1;

		p += sprintf(p, "  - {id: %u, action: deny, match: {%srange: {space: %s, "
			     "start: 0x%llx, size: 0x%llx, match: %s}}}\n", i + 1,
			     i % 5 == 0 ? "pid: 101, " : "", i % 3 ? "gpa" : "offset",
			     (unsigned long long)start, (unsigned long long)size,
			     i % 4 ? "overlap" : "inside");
	}
	load(y);
	free(y);
	assert_int_equal(pol.abi.hdr.nr_rules, GMT_POLICY_MAX_RULES);
	check_against_walk(conv());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_and_order),
		cmocka_unit_test(test_process_selectors),
		cmocka_unit_test(test_cgroup_ancestor),
		cmocka_unit_test(test_generation_direction_size),
		cmocka_unit_test(test_range_edges_and_wrap),
		cmocka_unit_test(test_rate_buckets),
		cmocka_unit_test(test_index_edges_order_overflow),
		cmocka_unit_test(test_index_full_policy),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
