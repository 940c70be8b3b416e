// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy hook's cost (issue 10's targets; docs/bench.md), measured where
 * BPF LSM programs load: the VM rows. A benchmark, run only when asked for
 * (GMT_TESTS names bench_policy, or GMT_BENCH=1): otherwise SKIP.
 *
 *   make vmtest VM_KERNELS=sw-protected-7.3 TESTS=bench_policy
 *
 * In one run, rounds rotate these configurations of the file_ioctl hook:
 *   bare      nothing attached
 *   empty     an empty sleepable LSM program (returns 0)
 *   hook      gmemtrace's gmt_pol_lsm as enforce loads it (enforce mode, TOCTOU
 *             stash on), with a 32-rule policy none of whose rules matches: 32
 *             GPA ranges 2 MiB long, 4 MiB apart, the conversion in the gap
 *             after the 16th (the range index is searched)
 *   hook1     the same with only its first rule: what is fixed, what is per rule
 *   hookout   the 32 rules far above the conversion (outside the index's hull:
 *             no search)
 * and the breakdown, hook with one piece left out (rodata cfg_pol_bench_skip,
 * enum gmt_pol_bench_skip; the verifier drops the tests in gmemtrace):
 *   nostash   no TOCTOU stash (toctou off)
 *   nocopy    no bpf_copy_from_user of the argument
 *   nokind    no fd kind check
 *   nodecide  no decision: the default action
 *   nocount   no per-rule counter
 *   bones     all four of nostash, nocopy, nodecide, nocount: what is left
 *   floor     returns once the generation is known (cmd and fd kind only)
 * and two loops:
 *   unrelated   FIONREAD on a pipe (every ioctl on the host passes the hook)
 *   conversion  KVM_SET_MEMORY_ATTRIBUTES on a VM fd with flags = 1: the hook
 *               decides it in full (all 32 rules, then the default allow; the
 *               decision does not read flags) and the kernel answers EINVAL
 *               at once, so the loop times the hook, not a conversion
 * Ratios: (hook - bare) / (empty - bare), paired within a round, medians; a
 * piece's cost is hook - variant, paired within a round, medians.
 * Targets: unrelated <= 1.2, conversion <= 2.0. Reported, not asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "live_util.h"
#include "gmemtrace.h"
#include "gmt_policy.h"
#include "kvm_uapi.h"
#include "gmemtrace.skel.h"
#include "policy.h"

#define ROUNDS		21
#define MAX_ROUNDS	64
#define CHUNKS		20
#define NR_RULES	32
#define UNRELATED_MAX	1.2
#define CONVERSION_MAX	2.0

enum { CFG_BARE, CFG_EMPTY, CFG_HOOK, CFG_HOOK1, CFG_MAX = 12 };

/* the rules' GPAs: 2 MiB ranges 4 MiB apart from RULES_AT (hookout: from
 * RULES_FAR); the conversion sits in the gap after the 16th */
#define RULES_AT	(1ULL << 40)
#define RULES_FAR	(1ULL << 44)
#define RULE_STRIDE	0x400000ULL
#define RULE_SIZE	0x200000ULL
#define CONV_GPA	(RULES_AT + 15 * RULE_STRIDE + 0x300000ULL)

/* the hook's configurations: a skeleton each, but hook1 shares hook's */
static const struct bench_cfg {
	const char *name;
	__u32 skip;		/* enum gmt_pol_bench_skip */
	bool no_stash;
	__u32 rules;
	bool far;
} cfgs[CFG_MAX] = {
	[CFG_BARE] = { "bare" },
	[CFG_EMPTY] = { "empty" },
	[CFG_HOOK] = { "hook", 0, false, NR_RULES },
	[CFG_HOOK1] = { "hook1", 0, false, 1 },
	{ "hookout", 0, false, NR_RULES, true },
	{ "nostash", 0, true, NR_RULES },
	{ "nocopy", GMT_POL_BENCH_NO_COPY, false, NR_RULES },
	{ "nokind", GMT_POL_BENCH_NO_KIND, false, NR_RULES },
	{ "nodecide", GMT_POL_BENCH_NO_DECIDE, false, NR_RULES },
	{ "nocount", GMT_POL_BENCH_NO_COUNT, false, NR_RULES },
	{ "bones", GMT_POL_BENCH_NO_COPY | GMT_POL_BENCH_NO_DECIDE | GMT_POL_BENCH_NO_COUNT,
	  true, NR_RULES },
	{ "floor", GMT_POL_BENCH_NO_BODY, false, NR_RULES },
};

/* the 32 rules, compiled as enforce compiles them (the index included) */
static struct gmt_policy_abi bench_abi;

static long iters = 20000;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* of a copy: the rounds stay paired for the next median */
static double median(const double *in, int n)
{
	double v[MAX_ROUNDS];

	if (n > MAX_ROUNDS)
		n = MAX_ROUNDS;
	memcpy(v, in, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per ioctl: the median of CHUNKS timed pieces; *fastest: the fastest
 * piece, the one a busy host (other VMs preempting this one) disturbed least */
static double time_ioctl(int fd, unsigned long cmd, void *arg, double *fastest)
{
	long per = iters / CHUNKS, i;
	double chunk[CHUNKS];
	int c;

	for (c = 0; c < CHUNKS; c++) {
		double t0 = now_ns();

		for (i = 0; i < per; i++)
			ioctl(fd, cmd, arg);
		chunk[c] = (now_ns() - t0) / per;
	}
	*fastest = chunk[0];
	for (c = 1; c < CHUNKS; c++)
		if (chunk[c] < *fastest)
			*fastest = chunk[c];
	return median(chunk, CHUNKS);
}

/* an empty sleepable LSM program on file_ioctl: r0 = 0; exit */
static int empty_lsm_attach(void)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_LSM_MAC,
		    .prog_flags = BPF_F_SLEEPABLE);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, fd, link;

	if (!vmlinux)
		return -1;
	id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_ioctl", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0)
		return -1;
	o.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_LSM, "empty_lsm", "GPL", insns, 2, &o);
	if (fd < 0)
		return -1;
	link = bpf_raw_tracepoint_open(NULL, fd);
	close(fd);	/* the link holds it */
	return link;
}

/*
 * The live policy: the first nr of 32 rules that each get as far as the
 * range (G1, to_private, a GPA range beside the loop's, or far from it),
 * none matching (the default allows), with the header and index enforce
 * compiles. Written again before each configuration's turn, since hook and
 * hook1 share a skeleton.
 */
static int policy_rules(struct gmemtrace_bpf *skel, __u32 nr, bool far)
{
	struct gmt_policy_hdr *h = &bench_abi.hdr;
	__u32 zero = 0, i;

	memset(&bench_abi, 0, sizeof(bench_abi));
	for (i = 0; i < nr; i++) {
		struct gmt_policy_rule r = {
			.id = i + 1, .action = GMT_PA_DENY, .err = EPERM,
			.match = GMT_PM_GEN | GMT_PM_DIR | GMT_PM_RANGE,
			.gens = 1 << GMT_GEN_G1, .dirs = 1 << GMT_DIR_TO_PRIVATE,
			.range_space = GMT_PR_GPA,
			.range_start = (far ? RULES_FAR : RULES_AT) + i * RULE_STRIDE,
		};

		r.range_end = r.range_start + RULE_SIZE;
		bench_abi.rules[i] = r;
		h->match_any |= r.match;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.gmt_pol_rules0), &i, &r, BPF_ANY))
			return -1;
	}
	h->version = GMT_POLICY_VERSION;
	h->nr_rules = nr;
	h->default_action = GMT_PA_ALLOW;
	gmt_policy_index(&bench_abi);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.gmt_pol_hdr0), &zero, h, BPF_ANY);
}

/* a type of the running kernel's BTF, vmlinux or the kvm module's */
static bool kernel_has(const char *name, int kind)
{
	struct btf *vmlinux = btf__load_vmlinux_btf(), *kvm = NULL;
	bool found = false;

	if (!vmlinux)
		return false;
	found = btf__find_by_name_kind(vmlinux, name, kind) > 0;
	if (!found && !access("/sys/kernel/btf/kvm", R_OK)) {
		kvm = btf__parse_split("/sys/kernel/btf/kvm", vmlinux);
		found = kvm && btf__find_by_name_kind(kvm, name, kind) > 0;
	}
	btf__free(kvm);
	btf__free(vmlinux);
	return found;
}

/* enforce stashes for the generations a kernel-side program compares
 * (src/core/loader.c toctou_gens): their targets, as its plan finds them */
static __u8 enforce_toctou_gens(void)
{
	__u8 gens = 0;

	if (kernel_has("btf_trace_kvm_vm_set_mem_attributes", BTF_KIND_TYPEDEF))
		gens |= 1 << GMT_GEN_G1;
	if (kernel_has("__kvm_gmem_set_attributes", BTF_KIND_FUNC))
		gens |= 1 << GMT_GEN_G3;
	return gens;
}

/* gmemtrace's hook alone, loaded as enforce loads it, less what cfg skips */
static struct gmemtrace_bpf *hook_load(const struct bench_cfg *cfg)
{
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	struct bpf_program *p;

	if (!skel)
		return NULL;
	bpf_map__set_max_entries(skel->maps.gmt_events, 1 << 20);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.gmt_pol_lsm);
	skel->rodata->cfg_pol_mode = GMT_POL_ENFORCE;
	skel->rodata->cfg_pol_toctou_gens = cfg->no_stash ? 0 : enforce_toctou_gens();
	skel->rodata->cfg_pol_bench_skip = cfg->skip;
	skel->rodata->cfg_pol_bench_gpa = CONV_GPA;
	if (gmemtrace_bpf__load(skel) || policy_rules(skel, cfg->rules, cfg->far)) {
		gmemtrace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* the hook's size; with "jitdump" in GMT_TESTS its JIT image and verified
 * instructions as hex lines, for objdump on the host (docs/bench.md) */
static void jit_dump(struct gmemtrace_bpf *skel, const char *tag)
{
	static unsigned char img[65536], x[65536];
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info), i;

	info.jited_prog_insns = (unsigned long)img;
	info.jited_prog_len = sizeof(img);
	info.xlated_prog_insns = (unsigned long)x;
	info.xlated_prog_len = sizeof(x);
	if (bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.gmt_pol_lsm), &info, &len))
		return;
	print_message("JITLEN %s %u XLATED %u\n", tag, info.jited_prog_len, info.xlated_prog_len);
	if (!getenv("GMT_TESTS") || !strstr(getenv("GMT_TESTS"), "jitdump"))
		return;
	for (i = 0; i < info.jited_prog_len; i++)
		printf("%s%02x%s", i % 32 ? "" : "JIT ", img[i], i % 32 == 31 ? "\n" : "");
	printf("\n");
	for (i = 0; i < info.xlated_prog_len; i++)
		printf("%s%02x%s", i % 32 ? "" : "XL ", x[i], i % 32 == 31 ? "\n" : "");
	printf("\n");
}

static double paired_median(double (*add)[MAX_ROUNDS], int a, int b, int rounds)
{
	double d[MAX_ROUNDS];
	int r;

	for (r = 0; r < rounds; r++)
		d[r] = add[a][r] - add[b][r];
	return median(d, rounds);
}

static void test_bench_policy(void **state)
{
	static double unrel[CFG_MAX][MAX_ROUNDS], conv[CFG_MAX][MAX_ROUNDS];
	static double add_u[CFG_MAX][MAX_ROUNDS], add_c[CFG_MAX][MAX_ROUNDS];
	static double fast_u[CFG_MAX][MAX_ROUNDS], fast_c[CFG_MAX][MAX_ROUNDS];
	double ru[MAX_ROUNDS], rc[MAX_ROUNDS], fru[MAX_ROUNDS], frc[MAX_ROUNDS], dummy;
	struct gmt_kvm_memory_attributes attr = { .address = CONV_GPA, .size = 4096,
						  .attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE,
						  .flags = 1 };
	struct gmemtrace_bpf *skel[CFG_MAX] = { NULL };
	int pipefd[2], kvm, vm, avail, round, rounds = ROUNDS, k, i;
	bool loaded = true;
	cpu_set_t cpus;

	if (!live_bench_wanted("bench_policy")) {
		print_message("SKIP: a benchmark: run it with TESTS=bench_policy (or GMT_BENCH=1)\n");
		skip();
	}
	if (getenv("GMT_BENCH_ITERS"))
		iters = atol(getenv("GMT_BENCH_ITERS"));
	if (getenv("GMT_BENCH_ROUNDS"))
		rounds = atoi(getenv("GMT_BENCH_ROUNDS"));
	if (rounds < 1 || rounds > MAX_ROUNDS)
		rounds = ROUNDS;
	if (geteuid())
		skip();
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		skip();
	vm = ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	assert_int_equal(pipe(pipefd), 0);
	for (i = CFG_HOOK; i < CFG_MAX; i++) {
		if (i == CFG_HOOK1)
			continue;
		skel[i] = hook_load(&cfgs[i]);
		loaded &= skel[i] != NULL;
	}
	skel[CFG_HOOK1] = skel[CFG_HOOK];
	k = empty_lsm_attach();
	if (!loaded || k < 0) {
		if (k >= 0)
			close(k);
		for (i = CFG_HOOK; i < CFG_MAX; i++)
			if (i != CFG_HOOK1)
				gmemtrace_bpf__destroy(skel[i]);
		live_cannot_run("LSM", "gmt_pol_lsm or an empty lsm.s program does not load here");
		return;
	}
	close(k);
	print_message("bench_policy: G1 TOCTOU stash %s (as enforce on this kernel)\n",
		      enforce_toctou_gens() & (1 << GMT_GEN_G1) ? "on" : "off: nothing compares");
	jit_dump(skel[CFG_HOOK], "hook");
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	/* warm up */
	time_ioctl(pipefd[0], FIONREAD, &avail, &dummy);
	time_ioctl(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr, &dummy);
	for (round = 0; round < rounds; round++) {
		for (i = 0; i < CFG_MAX; i++) {
			int cfg = (i + round) % CFG_MAX, link = -1;
			struct bpf_link *hl = NULL;

			if (cfg == CFG_EMPTY)
				link = empty_lsm_attach();
			else if (cfg >= CFG_HOOK)
				hl = policy_rules(skel[cfg], cfgs[cfg].rules, cfgs[cfg].far) ? NULL :
				     bpf_program__attach(skel[cfg]->progs.gmt_pol_lsm);
			assert_true(cfg == CFG_BARE || link >= 0 || hl);
			unrel[cfg][round] = time_ioctl(pipefd[0], FIONREAD, &avail,
						       &fast_u[cfg][round]);
			conv[cfg][round] = time_ioctl(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr,
						      &fast_c[cfg][round]);
			if (link >= 0)
				close(link);
			bpf_link__destroy(hl);
		}
		for (i = CFG_EMPTY; i < CFG_MAX; i++) {
			add_u[i][round] = unrel[i][round] - unrel[CFG_BARE][round];
			add_c[i][round] = conv[i][round] - conv[CFG_BARE][round];
		}
		ru[round] = add_u[CFG_HOOK][round] / add_u[CFG_EMPTY][round];
		rc[round] = add_c[CFG_HOOK][round] / add_c[CFG_EMPTY][round];
		fru[round] = (fast_u[CFG_HOOK][round] - fast_u[CFG_BARE][round]) /
			     (fast_u[CFG_EMPTY][round] - fast_u[CFG_BARE][round]);
		frc[round] = (fast_c[CFG_HOOK][round] - fast_c[CFG_BARE][round]) /
			     (fast_c[CFG_EMPTY][round] - fast_c[CFG_BARE][round]);
	}
	print_message("bench_policy: %d rounds x %ld ioctls, CPU 0; ns per ioctl (median over "
		      "rounds); added: over bare, paired per round\n", rounds, iters);
	for (k = 0; k < CFG_MAX; k++)
		print_message("  %-8s unrelated (FIONREAD) %8.1f added %7.1f   conversion (G1) "
			      "%8.1f added %7.1f\n", cfgs[k].name, median(unrel[k], rounds),
			      k ? median(add_u[k], rounds) : 0.0, median(conv[k], rounds),
			      k ? median(add_c[k], rounds) : 0.0);
	/* what each left-out piece costs a conversion: hook - variant */
	for (k = CFG_HOOK1 + 1; k < CFG_MAX; k++)
		print_message("  piece: hook - %-8s conversion %7.1f ns, unrelated %7.1f ns\n",
			      cfgs[k].name, paired_median(add_c, CFG_HOOK, k, rounds),
			      paired_median(add_u, CFG_HOOK, k, rounds));
	print_message("  ratio hook/empty: unrelated %.2f (target <= %.1f), conversion %.2f "
		      "(target <= %.1f)\n", median(ru, rounds), UNRELATED_MAX,
		      median(rc, rounds), CONVERSION_MAX);
	/* the same from each configuration's fastest chunk: steadier on a busy host */
	for (k = CFG_EMPTY; k < CFG_MAX; k++) {
		double d[MAX_ROUNDS];

		for (round = 0; round < rounds; round++)
			d[round] = fast_c[k][round] - fast_c[CFG_BARE][round];
		print_message("  fastest chunks: %-8s conversion added %7.1f ns\n", cfgs[k].name,
			      median(d, rounds));
	}
	print_message("  ratio hook/empty, fastest chunks: unrelated %.2f, conversion %.2f\n",
		      median(fru, rounds), median(frc, rounds));
	for (i = CFG_HOOK; i < CFG_MAX; i++)
		if (i != CFG_HOOK1)
			gmemtrace_bpf__destroy(skel[i]);
	close(pipefd[0]);
	close(pipefd[1]);
	close(vm);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bench_policy, live_teardown),
	};

	return cmocka_run_group_tests_name("live_bench_policy", tests, NULL, NULL);
}
