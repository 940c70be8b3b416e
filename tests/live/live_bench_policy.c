// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy hook's cost (issue 10's targets; docs/bench.md), measured where
 * BPF LSM programs load: the VM rows. A benchmark, run only when asked for
 * (GMT_TESTS names bench_policy, or GMT_BENCH=1): otherwise SKIP.
 *
 *   make vmtest VM_KERNELS=sw-protected-7.3 TESTS=bench_policy
 *
 * In one run, rounds rotate five configurations on the file_ioctl hook:
 *   bare    nothing attached
 *   empty   an empty sleepable LSM program (returns 0)
 *   hook    gmemtrace's gmt_pol_lsm as enforce loads it (enforce mode, TOCTOU
 *           stash on), with a 32-rule policy none of whose rules matches
 *   hook1   the same with only its first rule: what is fixed, what is per rule
 *   hooknt  hook without the TOCTOU stash (toctou off): what the stash costs
 * and two loops:
 *   unrelated   FIONREAD on a pipe (every ioctl on the host passes the hook)
 *   conversion  KVM_SET_MEMORY_ATTRIBUTES on a VM fd with flags = 1: the hook
 *               decides it in full (all 32 rules, then the default allow; the
 *               decision does not read flags) and the kernel answers EINVAL
 *               at once, so the loop times the hook, not a conversion
 * Ratios: (hook - bare) / (empty - bare), paired within a round, medians.
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

#define ROUNDS		15
#define CHUNKS		10
#define NR_RULES	32
#define UNRELATED_MAX	1.2
#define CONVERSION_MAX	2.0

enum { CFG_BARE, CFG_EMPTY, CFG_HOOK, CFG_HOOK1, CFG_HOOKNT, CFG_MAX };
static const char *const cfg_name[CFG_MAX] = { "bare", "empty", "hook", "hook1", "hooknt" };

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

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ns per ioctl: the median of CHUNKS timed pieces */
static double time_ioctl(int fd, unsigned long cmd, void *arg)
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

/* the live policy's first nr rules: its header and index */
static int policy_rules(struct gmemtrace_bpf *skel, __u32 nr)
{
	struct gmt_policy_hdr *h = &bench_abi.hdr;
	__u32 zero = 0, i;

	h->version = GMT_POLICY_VERSION;
	h->nr_rules = nr;
	h->default_action = GMT_PA_ALLOW;
	h->match_any = 0;
	for (i = 0; i < nr; i++)
		h->match_any |= bench_abi.rules[i].match;
	gmt_policy_index(&bench_abi);
	return bpf_map_update_elem(bpf_map__fd(skel->maps.gmt_pol_hdr0), &zero, h, BPF_ANY);
}

/* 32 rules that each get as far as the range (G1, to_private, a GPA range
 * far from the loop's), none matching: the default allows */
static int policy_fill(struct gmemtrace_bpf *skel)
{
	__u32 i;

	for (i = 0; i < NR_RULES; i++) {
		struct gmt_policy_rule r = {
			.id = i + 1, .action = GMT_PA_DENY, .err = EPERM,
			.match = GMT_PM_GEN | GMT_PM_DIR | GMT_PM_RANGE,
			.gens = 1 << GMT_GEN_G1, .dirs = 1 << GMT_DIR_TO_PRIVATE,
			.range_space = GMT_PR_GPA,
			.range_start = (1ULL << 40) + i * 0x200000ULL,
		};

		r.range_end = r.range_start + 0x200000;
		bench_abi.rules[i] = r;
		if (bpf_map_update_elem(bpf_map__fd(skel->maps.gmt_pol_rules0), &i, &r, BPF_ANY))
			return -1;
	}
	return policy_rules(skel, NR_RULES);
}

/* gmemtrace's hook alone, loaded as enforce loads it */
static struct gmemtrace_bpf *hook_load(bool toctou)
{
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	struct bpf_program *p;

	if (!skel)
		return NULL;
	bpf_map__set_max_entries(skel->maps.gmt_events, 1 << 20);
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == skel->progs.gmt_pol_lsm);
	skel->rodata->cfg_pol_mode = GMT_POL_ENFORCE;
	skel->rodata->cfg_pol_toctou = toctou;
	if (gmemtrace_bpf__load(skel) || policy_fill(skel)) {
		gmemtrace_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static bool bench_wanted(void)
{
	const char *t = getenv("GMT_TESTS"), *b = getenv("GMT_BENCH");

	return (b && !strcmp(b, "1")) || (t && strstr(t, "bench_policy"));
}

static void test_bench_policy(void **state)
{
	double unrel[CFG_MAX][ROUNDS], conv[CFG_MAX][ROUNDS];
	double add_u[CFG_MAX - 1][ROUNDS], add_c[CFG_MAX - 1][ROUNDS], ru[ROUNDS], rc[ROUNDS];
	struct gmt_kvm_memory_attributes attr = { .address = 0, .size = 4096,
						  .attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE,
						  .flags = 1 };
	struct gmemtrace_bpf *skel, *skel_nt;
	int pipefd[2], kvm, vm, avail, round, k;
	cpu_set_t cpus;

	if (!bench_wanted()) {
		print_message("SKIP: a benchmark: run it with TESTS=bench_policy (or GMT_BENCH=1)\n");
		skip();
	}
	if (getenv("GMT_BENCH_ITERS"))
		iters = atol(getenv("GMT_BENCH_ITERS"));
	if (geteuid())
		skip();
	kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		skip();
	vm = ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	assert_int_equal(pipe(pipefd), 0);
	skel = hook_load(true);
	skel_nt = hook_load(false);
	k = empty_lsm_attach();
	if (!skel || !skel_nt || k < 0) {
		if (k >= 0)
			close(k);
		gmemtrace_bpf__destroy(skel);
		gmemtrace_bpf__destroy(skel_nt);
		live_cannot_run("LSM", "gmt_pol_lsm or an empty lsm.s program does not load here");
		return;
	}
	close(k);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	/* warm up */
	time_ioctl(pipefd[0], FIONREAD, &avail);
	time_ioctl(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr);
	for (round = 0; round < ROUNDS; round++) {
		int i;

		for (i = 0; i < CFG_MAX; i++) {
			int cfg = (i + round) % CFG_MAX, link = -1;
			struct bpf_link *hl = NULL;

			if (cfg == CFG_EMPTY)
				link = empty_lsm_attach();
			else if (cfg == CFG_HOOK || cfg == CFG_HOOK1)
				hl = policy_rules(skel, cfg == CFG_HOOK ? NR_RULES : 1) ? NULL :
				     bpf_program__attach(skel->progs.gmt_pol_lsm);
			else if (cfg == CFG_HOOKNT)
				hl = policy_rules(skel_nt, NR_RULES) ? NULL :
				     bpf_program__attach(skel_nt->progs.gmt_pol_lsm);
			assert_true(cfg == CFG_BARE || link >= 0 || hl);
			unrel[cfg][round] = time_ioctl(pipefd[0], FIONREAD, &avail);
			conv[cfg][round] = time_ioctl(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr);
			if (link >= 0)
				close(link);
			bpf_link__destroy(hl);
		}
		for (i = 0; i < CFG_MAX - 1; i++) {
			add_u[i][round] = unrel[CFG_EMPTY + i][round] - unrel[CFG_BARE][round];
			add_c[i][round] = conv[CFG_EMPTY + i][round] - conv[CFG_BARE][round];
		}
		ru[round] = add_u[1][round] / add_u[0][round];
		rc[round] = add_c[1][round] / add_c[0][round];
	}
	print_message("bench_policy: %d rounds x %ld ioctls, CPU 0; ns per ioctl (median over "
		      "rounds)\n", ROUNDS, iters);
	for (k = 0; k < CFG_MAX; k++)
		print_message("  %-6s unrelated (FIONREAD) %8.1f   conversion (G1) %8.1f\n",
			      cfg_name[k], median(unrel[k], ROUNDS),
			      median(conv[k], ROUNDS));
	print_message("  added (unrelated / conversion): empty lsm.s %.1f / %.1f ns, gmt_pol_lsm "
		      "%.1f / %.1f ns (32 rules), %.1f / %.1f ns (1 rule), %.1f / %.1f ns "
		      "(32 rules, no TOCTOU stash)\n",
		      median(add_u[0], ROUNDS), median(add_c[0], ROUNDS),
		      median(add_u[1], ROUNDS), median(add_c[1], ROUNDS),
		      median(add_u[2], ROUNDS), median(add_c[2], ROUNDS),
		      median(add_u[3], ROUNDS), median(add_c[3], ROUNDS));
	print_message("  ratio hook/empty: unrelated %.2f (target <= %.1f), conversion %.2f "
		      "(target <= %.1f)\n", median(ru, ROUNDS), UNRELATED_MAX, median(rc, ROUNDS),
		      CONVERSION_MAX);
	gmemtrace_bpf__destroy(skel);
	gmemtrace_bpf__destroy(skel_nt);
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
