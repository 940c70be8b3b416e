/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The compiled policy: what `gmemtrace policy check` prints and what the
 * BPF decision (bpf/lib/policy.bpf.h) reads from maps. Fixed-size so a
 * policy is one array update per rule; shared by BPF and user space, so
 * only __u8..__u64 and char arrays, with the sizes pinned below.
 */
#ifndef GMT_POLICY_H
#define GMT_POLICY_H

#define GMT_POLICY_VERSION	1
#define GMT_POLICY_MAX_RULES	64
#define GMT_POLICY_COMM_LEN	16
#define GMT_POLICY_MAX_ERRNO	4095	/* the kernel's MAX_ERRNO */

enum gmt_pol_action {
	GMT_PA_ALLOW	= 0,
	GMT_PA_DENY	= 1,
	GMT_PA_AUDIT	= 2,	/* allow and report */
	GMT_PA_MAX,
};

/* which selectors a rule has: a rule matches when all of them match */
enum gmt_pol_match {
	GMT_PM_COMM		= 1 << 0,
	GMT_PM_PID		= 1 << 1,	/* the caller's process (tgid) */
	GMT_PM_EXE		= 1 << 2,	/* the caller's executable: dev + inode */
	GMT_PM_CGROUP		= 1 << 3,	/* the caller's cgroup or below */
	GMT_PM_UID		= 1 << 4,
	GMT_PM_VM_PID		= 1 << 5,	/* the process that created the VM */
	GMT_PM_VM_CGROUP	= 1 << 6,	/* its own cgroup at creation (exact) */
	GMT_PM_VM_OWNER		= 1 << 7,	/* caller is / is not the VM's creator */
	GMT_PM_GEN		= 1 << 8,
	GMT_PM_DIR		= 1 << 9,
	GMT_PM_RANGE		= 1 << 10,
	GMT_PM_SIZE		= 1 << 11,
	GMT_PM_RATE		= 1 << 12,	/* matches when the VM is over the rate */
	GMT_PM_ALL		= (1 << 13) - 1,
};

enum gmt_pol_space {
	GMT_PR_GPA	= 1,	/* G1: guest physical address */
	GMT_PR_GMEM	= 2,	/* G2/G3: guest_memfd offset */
};

enum gmt_pol_rate_kind {
	GMT_PRATE_BYTES		= 1,
	GMT_PRATE_CONVERSIONS	= 2,
};

struct gmt_policy_rule {
	__u32 id;		/* the policy's id, unique, > 0 */
	__u32 match;		/* enum gmt_pol_match bits */
	__u8 action;		/* enum gmt_pol_action */
	__u8 gens;		/* 1 << enum gmt_gen */
	__u8 dirs;		/* 1 << enum gmt_dir */
	__u8 range_space;	/* enum gmt_pol_space */
	__u8 range_inside;	/* 1: whole conversion inside; 0: any overlap */
	__u8 rate_kind;		/* enum gmt_pol_rate_kind */
	__u16 err;		/* errno returned by deny */
	__u32 pid;
	__u32 uid;
	__u32 vm_pid;
	__u8 vm_owner;		/* 1: caller is the creator, 0: is not */
	__u8 cgroup_level;	/* depth of cgroup below the root (ancestor match) */
	__u8 vm_cgroup_level;
	__u8 pad;
	__u64 exe_dev;		/* the kernel's dev_t: MAJOR << 20 | MINOR */
	__u64 exe_ino;
	__u64 cgroup;		/* cgroup v2 id */
	__u64 vm_cgroup;
	__u64 range_start;	/* [start, end) */
	__u64 range_end;
	__u64 size_min;		/* inclusive */
	__u64 size_max;
	__u64 rate;		/* tokens per second */
	__u64 burst;		/* bucket size in tokens */
	char comm[GMT_POLICY_COMM_LEN];
};

/* what enforce does when the kernel's copy of a conversion's argument is not
 * what the hook decided on (a racing thread changed it in between) */
enum gmt_pol_toctou {
	GMT_PTOCTOU_REPORT = 0,	/* a policy_toctou record */
	GMT_PTOCTOU_KILL = 1,	/* and, in enforce mode, SIGKILL of the thread */
	GMT_PTOCTOU_MAX,
};

/*
 * The range rules of one space, as an index (src/policy/index.c): rule
 * bit i is rule i.
 *
 * Most conversions lie inside one elementary interval: the stretch between
 * two neighbouring rule edges (bounds). One count in bounds finds it, and
 * cover[k] holds the rules whose range covers interval k: for a conversion
 * inside it they are exactly those that overlap it and those it is inside.
 * Outside the hull [bounds[0], last bound) no range rule can match: no
 * count at all.
 *
 * A conversion across an edge takes the general path: overlap of [s, e) is
 * "start < e and end > s", inside is "start <= s and end >= e": each half
 * is a count in a sorted array, then a prefix (starts) or suffix (ends)
 * mask. Unused slots of starts/ends/bounds are ~0 and the masks saturate
 * (cover's past the last bound are 0), so no count needs the number of
 * rules.
 */
#define GMT_POLICY_MAX_BOUNDS	(2 * GMT_POLICY_MAX_RULES)

struct gmt_policy_range_index {
	__u64 starts[GMT_POLICY_MAX_RULES];		/* ascending, then ~0 */
	__u64 ends[GMT_POLICY_MAX_RULES];		/* ascending, then ~0 */
	__u64 start_prefix[GMT_POLICY_MAX_RULES + 1];	/* [k]: rules of starts[0..k) */
	__u64 end_suffix[GMT_POLICY_MAX_RULES + 1];	/* [k]: rules of ends[k..) */
	__u64 overlap;		/* the space's rules with match: overlap */
	__u64 inside;		/* ... with match: inside */
	__u64 first_step;	/* the searches' first step: the least power of two
				 * P with 2P >= the space's range rules (the slots
				 * past them are ~0), so few rules take few steps */
	__u64 bounds[GMT_POLICY_MAX_BOUNDS];	/* the distinct edges, ascending, then ~0 */
	__u64 cover[GMT_POLICY_MAX_BOUNDS + 1];	/* [k]: rules covering [bounds[k-1], bounds[k]) */
	__u64 bound_step;	/* first_step for bounds */
	__u64 hull_end;		/* the last bound (0 without range rules); the
				 * first is bounds[0] (~0 without any) */
};

/* enum gmt_gen (4) x enum gmt_dir (2), checked in src/policy/index.c */
#define GMT_POL_GEN_DIRS	8
#define GMT_POL_GEN_DIR(gen, dir)	((((gen) & 3) << 1) | ((dir) & 1))

/*
 * A prefilter, exact for generation, direction and range (the rules are
 * still checked in full): the candidates of a conversion are
 * by_gen_dir & (no_range | the range index's), walked lowest bit first, so
 * first-match order is kept and a rule that cannot match costs nothing.
 */
struct gmt_policy_index {
	__u64 by_gen_dir[GMT_POL_GEN_DIRS];	/* [GMT_POL_GEN_DIR(gen, dir)] */
	__u32 needs[GMT_POL_GEN_DIRS];		/* OR of those rules' match bits */
	__u64 no_range;					/* rules without a range */
	struct gmt_policy_range_index space[2];		/* GMT_PR_GPA - 1, GMT_PR_GMEM - 1 */
};

struct gmt_policy_hdr {
	__u32 version;
	__u32 nr_rules;
	__u8 default_action;	/* when no rule matches */
	__u8 toctou;		/* enum gmt_pol_toctou: a racing argument seen */
	__u16 default_err;
	__u32 match_any;	/* OR of the rules' match bits: the hook reads
				 * only what some rule selects on */
	struct gmt_policy_index index;
};

struct gmt_policy_abi {
	struct gmt_policy_hdr hdr;
	struct gmt_policy_rule rules[GMT_POLICY_MAX_RULES];
};

/* One conversion as the decision sees it (bpf/lib/policy.bpf.h) */
struct gmt_pol_conv {
	__u64 start;		/* GPA (G1) or guest_memfd offset (G2/G3) */
	__u64 size;
	__u64 exe_dev;		/* the caller's executable, kernel dev_t */
	__u64 exe_ino;
	__u64 vm_id;		/* the VM's identity: its rate buckets */
	__u64 vm_cgroup;	/* the creator's cgroup id at KVM_CREATE_VM */
	__u64 now_ns;
	__u32 tgid;
	__u32 uid;
	__u32 vm_pid;		/* the VM's creator */
	__u8 gen;		/* enum gmt_gen */
	__u8 dir;		/* enum gmt_dir */
	__u8 pad[2];
	char comm[GMT_POLICY_COMM_LEN];
};

struct gmt_pol_verdict {
	__u32 id;		/* the rule's id; 0: the default action */
	__u32 index;		/* its place in the policy; GMT_POLICY_MAX_RULES: default */
	__u8 action;		/* enum gmt_pol_action */
	__u8 pad;
	__u16 err;		/* errno when action is deny */
	__u32 pad2;
};

/* a rate rule's bucket for one VM (LRU hash: a gone VM's buckets age out) */
struct gmt_pol_bucket_key {
	__u64 vm_id;
	__u32 index;
	__u32 pad;
};

struct gmt_pol_bucket {
	__u64 tokens;		/* scaled by 1e9: refill is elapsed ns * rate */
	__u64 last_ns;
};

/*
 * Bench only (tests/live/live_bench_policy.c, docs/bench.md): pieces of the
 * hook a bench variant leaves out, one at a time, to measure each in one
 * run. The hook's rodata cfg_pol_bench_skip is 0 everywhere else, and the
 * verifier drops the tests on it.
 */
enum gmt_pol_bench_skip {
	GMT_POL_BENCH_NO_COPY	= 1 << 0,	/* no bpf_copy_from_user: the bench's values */
	GMT_POL_BENCH_NO_KIND	= 1 << 1,	/* the fd is taken to be of the cmd's kind */
	GMT_POL_BENCH_NO_DECIDE	= 1 << 2,	/* the default action, no rule looked at */
	GMT_POL_BENCH_NO_COUNT	= 1 << 3,	/* no per-rule counter */
	GMT_POL_BENCH_NO_BODY	= 1 << 4,	/* return 0 once the generation is known */
};

/* the map layout depends on these: a change is an ABI change */
_Static_assert(sizeof(struct gmt_policy_rule) == 128, "gmt_policy_rule ABI size");
_Static_assert(sizeof(struct gmt_policy_range_index) == 8 * (4 * 64 + 5 + 2 * 128 + 3),
	       "gmt_policy_range_index ABI size");
_Static_assert(sizeof(struct gmt_policy_index) == 8 * 8 + 4 * 8 + 8 + 2 * 4160,
	       "gmt_policy_index ABI size");
_Static_assert(sizeof(struct gmt_policy_hdr) == 16 + 8424, "gmt_policy_hdr ABI size");
_Static_assert(sizeof(struct gmt_policy_abi) == 16 + 8424 + 128 * GMT_POLICY_MAX_RULES,
	       "gmt_policy_abi ABI size");

_Static_assert(sizeof(struct gmt_pol_conv) == 88, "gmt_pol_conv ABI size");
_Static_assert(sizeof(struct gmt_pol_verdict) == 16, "gmt_pol_verdict ABI size");

#endif /* GMT_POLICY_H */
