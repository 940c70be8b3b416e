// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: what an installed policy does on the conversion kernel (VM row
 * sw-protected-7.3: real G1 conversions, BPF LSM and trampolines). The
 * fmod_ret fallback forced (GMT_ENFORCE_HOOK=fmod_ret) denies; a size limit
 * trips at the first conversion over it and a rate limit at the N+1th in the
 * window; unrelated ioctls (a tty's TCGETS, a FIONREAD storm, and vhost's 0xAF
 * commands on any row with the hook and vhost_net) under a deny-everything
 * policy are neither denied nor reported;
 * SIGHUP reloads during a conversion loop let no conversion through; an
 * earlier BPF LSM program's denial reaches the caller unchanged; a
 * vm.creator_cgroup rule denies a VM created in one cgroup, not another's.
 * Each skips off the conversion kernel (fails where the row promises it).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "kvm_uapi.h"
#include "live_policy.h"

/* enforce with policy text until attached; skip the test where it cannot */
static pid_t start(const char *name, const char *text, const char *out, const char *err)
{
	pid_t pid = live_enforce_start(out, err, "--policy", live_policy_file(name, text), "-v",
				       NULL);

	if (pid < 0)
		fail_msg("enforce did not attach (see its stderr above)");
	return pid;
}

static void stop(pid_t pid, const char *err)
{
	int rc;

	kill(pid, SIGINT);
	rc = live_wait(pid, 30);
	if (rc)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
}

/* policy records in enforce's output */
static int nr_policy_records(const char *out)
{
	json_object *recs = live_read_ndjson(out), *pol;
	int n;

	assert_non_null(recs);
	pol = live_filter(recs, "event", "policy");
	n = json_object_array_length(pol);
	json_object_put(pol);
	json_object_put(recs);
	return n;
}

static void test_fmod_fallback_denies(void **state)
{
	const char *out = live_tmp("fmod.json"), *err = live_tmp("fmod.err");
	json_object *pols;
	long long rets[4];
	pid_t pid;
	int n;

	if (!live_policy_can_veto())
		skip();
	setenv("GMT_ENFORCE_HOOK", "fmod_ret", 1);
	pid = live_enforce_start(out, err, "--policy", live_policy_file("deny.yaml", LIVE_DENY_G1),
				 NULL);
	unsetenv("GMT_ENFORCE_HOOK");
	if (pid < 0) {
		live_cannot_run("FENTRY", "the fmod_ret hook did not attach");
		return;
	}
	assert_true(live_wait_for(err, "enforced with fmod_ret", 5));
	pols = live_stat_policies(live_tmp("fmod-stat.json"));
	assert_int_equal(json_object_array_length(pols), 1);
	assert_string_equal(live_get_str(json_object_array_get_idx(pols, 0), "prog"),
			    "gmt_pol_fmod");
	json_object_put(pols);
	n = live_g1_rets(rets, 4, "--conversions", "3", NULL);
	live_expect_rets(rets, n, 3, 0);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 3);
}

/* rule 3: a conversion over 8 KiB is denied; 8 KiB itself is not */
#define SIZE_LIMIT "version: 1\ndefault: allow\nrules:\n  - id: 3\n    action: deny\n" \
		   "    match:\n      size: { min: 0x2001 }\n"

static void test_size_limit(void **state)
{
	const char *out = live_tmp("size.json"), *err = live_tmp("size.err");
	long long rets[4];
	pid_t pid;
	int n;

	if (!live_policy_can_veto())
		skip();
	pid = start("size.yaml", SIZE_LIMIT, out, err);
	n = live_g1_rets(rets, 4, "--conversions", "2", "--size", "8192", NULL);
	live_expect_rets(rets, n, 2, 2);
	n = live_g1_rets(rets, 4, "--conversions", "2", "--size", "12288", NULL);
	live_expect_rets(rets, n, 2, 0);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 2);
}

/* rule 4: a burst of 5 conversions, refilled at 1/s: the 6th is denied */
#define RATE_LIMIT "version: 1\ndefault: allow\nrules:\n  - id: 4\n    action: deny\n" \
		   "    match:\n      rate: { conversions_per_second: 1, burst: 5 }\n"

static void test_rate_limit(void **state)
{
	const char *out = live_tmp("rate.json"), *err = live_tmp("rate.err");
	long long rets[16];
	pid_t pid;
	int n;

	if (!live_policy_can_veto())
		skip();
	pid = start("rate.yaml", RATE_LIMIT, out, err);
	/* one VM, 8 conversions well within a second (about 4 us each) */
	n = live_g1_rets(rets, 16, "--conversions", "8", NULL);
	live_expect_rets(rets, n, 8, 5);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 3);
}

/* everything the hook decides is denied: only conversions may be touched */
#define DENY_ALL "version: 1\ndefault: deny\n"

static void unrelated_ioctls(void)
{
	int fd, pty, p[2], i, avail;
	struct termios t;

	pty = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(pty >= 0);
	assert_int_equal(grantpt(pty), 0);
	assert_int_equal(unlockpt(pty), 0);
	fd = open(ptsname(pty), O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(tcgetattr(fd, &t), 0);	/* TCGETS */
	close(fd);
	close(pty);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(ioctl(p[0], FIONREAD, &avail), 0);
		assert_int_equal(avail, 1);
	}
	close(p[0]);
	close(p[1]);
}

/* vhost shares 0xAF with KVM's guest_memfd commands (G2, G3): its ioctls on
 * /dev/vhost-net must pass the hook's fd check untouched */
static void vhost_ioctls(int fd)
{
	__u64 features;
	int i;

	assert_int_equal(ioctl(fd, _IO(0xAF, 0x01)), 0);		/* VHOST_SET_OWNER */
	for (i = 0; i < 1000; i++)				/* VHOST_GET_FEATURES */
		assert_int_equal(ioctl(fd, _IOR(0xAF, 0x00, __u64), &features), 0);
}

static void test_unrelated_ioctls(void **state)
{
	const char *out = live_tmp("unrel.json"), *err = live_tmp("unrel.err");
	json_object *pols, *rules, *def;
	long long ret;
	pid_t pid;

	if (!live_policy_can_veto())
		skip();
	pid = start("deny-all.yaml", DENY_ALL, out, err);
	unrelated_ioctls();
	/* the control: the hook is live and denies a conversion */
	assert_int_equal(live_g1_rets(&ret, 1, "--conversions", "1", NULL), 1);
	assert_int_equal(ret, -1);
	/* the running (unpinned) hook's counters: the one conversion only */
	pols = live_stat_policies(live_tmp("unrel-stat.json"));
	assert_int_equal(json_object_array_length(pols), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(pols, 0), "rules",
					      &rules));
	assert_int_equal(json_object_array_length(rules), 1);	/* the default */
	def = json_object_array_get_idx(rules, 0);
	assert_int_equal(live_get_int(def, "hits"), 1);
	assert_int_equal(live_get_int(def, "denies"), 1);
	json_object_put(pols);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 1);
}

#define DENY_G1_AS(id) "version: 1\ndefault: allow\nrules:\n  - id: " id "\n" \
		       "    action: deny\n    match:\n      uapi: g1\n"

/* text into path, whole, then renamed over dst: enforce never reads half */
static void replace_file(const char *path, const char *dst, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(path, dst), 0);
}

static void test_reload_keeps_enforcing(void **state)
{
	char out[512], err[512], wl_out[512], policy[512], next[512];
	const char *wl[] = { live_bin("gmem-workload"), "--uapi", "g1", "--dir", "private",
			     "--conversions", "400", "--interval-us", "2000", "--json", NULL };
	json_object *doc, *calls;
	int i, reloads = 0, st;
	pid_t pid, wpid;

	if (!live_policy_can_veto())
		skip();
	/* live_tmp's buffers are reused: keep copies */
	snprintf(out, sizeof(out), "%s", live_tmp("reload.json"));
	snprintf(err, sizeof(err), "%s", live_tmp("reload.err"));
	snprintf(wl_out, sizeof(wl_out), "%s", live_tmp("reload-wl.json"));
	snprintf(policy, sizeof(policy), "%s", live_policy_file("reload.yaml", DENY_G1_AS("7")));
	snprintf(next, sizeof(next), "%s", live_tmp("reload.yaml.new"));
	pid = live_enforce_start(out, err, "--policy", policy, NULL);
	if (pid < 0)
		fail_msg("enforce did not attach");
	wpid = live_spawn((char *const *)wl, wl_out, NULL);
	assert_true(wpid > 0);
	/* swap rule 7 and rule 8 in as fast as enforce takes them */
	while (waitpid(wpid, &st, WNOHANG) == 0) {
		replace_file(next, policy, reloads % 2 ? DENY_G1_AS("7") : DENY_G1_AS("8"));
		kill(pid, SIGHUP);
		reloads++;
		usleep(30000);
	}
	print_message("%d SIGHUPs during the conversion loop\n", reloads);
	assert_true(reloads >= 4);
	doc = live_read_json(wl_out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "calls", &calls) && calls);
	assert_int_equal(json_object_array_length(calls), 400);
	for (i = 0; i < 400; i++)
		assert_int_equal(live_get_int(json_object_array_get_idx(calls, i), "ret"), -1);
	json_object_put(doc);
	stop(pid, err);
	/* both rules decided: the reloads happened while conversions ran */
	assert_true(live_wait_for(out, "\"rule_id\":7", 0.5));
	assert_true(live_wait_for(out, "\"rule_id\":8", 0.5));
	assert_int_equal(nr_policy_records(out), 400);
}

/*
 * A BPF LSM program of the test's own on file_ioctl: -EACCES for G1's
 * KVM_SET_MEMORY_ATTRIBUTES (0x4020aed2), 0 for anything else. Attached
 * after gmemtrace's hook it runs before it: the trampoline's list is
 * newest first (kernel/bpf/trampoline.c, hlist_add_head) and a non-zero
 * return skips the programs after it (invoke_bpf_mod_ret). A link fd, or
 * -errno.
 */
static int attach_test_lsm(void)
{
	const struct bpf_insn insns[] = {
		/* r2 = ctx[1]: cmd */
		{ .code = BPF_LDX | BPF_MEM | BPF_DW, .dst_reg = 2, .src_reg = 1, .off = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP32 | BPF_JNE | BPF_K, .dst_reg = 2, .off = 1, .imm = 0x4020aed2 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = -EACCES },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_LSM_MAC);
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, prog, link;

	if (!vmlinux)
		return -ENOENT;
	id = btf__find_by_name_kind(vmlinux, "bpf_lsm_file_ioctl", BTF_KIND_FUNC);
	btf__free(vmlinux);
	if (id < 0)
		return id;
	opts.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_LSM, "gmt_test_deny", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), &opts);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);	/* the link holds it */
	return link;
}

static void test_earlier_lsm_honoured(void **state)
{
	const char *out = live_tmp("earlier.json"), *err = live_tmp("earlier.err");
	json_object *pols, *rules;
	long long rets[4];
	int link, n, j;
	pid_t pid;

	if (!live_policy_can_veto())
		skip();
	pid = start("deny.yaml", LIVE_DENY_G1, out, err);
	link = attach_test_lsm();
	if (link < 0) {
		live_cannot_run("LSM", "the test's own LSM program does not attach: %s",
				strerror(-link));
		return;
	}
	/* its EACCES, not gmemtrace's EPERM, and gmemtrace decided nothing */
	n = live_g1_rets(rets, 4, "--conversions", "3", NULL);
	assert_int_equal(n, 3);
	for (j = 0; j < n; j++)
		assert_int_equal(rets[j], -EACCES);
	pols = live_stat_policies(live_tmp("earlier-stat.json"));
	assert_int_equal(json_object_array_length(pols), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(pols, 0), "rules",
					      &rules));
	for (j = 0; j < (int)json_object_array_length(rules); j++)
		assert_int_equal(live_get_int(json_object_array_get_idx(rules, j), "hits"), 0);
	json_object_put(pols);
	/* without it gmemtrace's hook denies again: it was live all along */
	close(link);
	n = live_g1_rets(rets, 4, "--conversions", "1", NULL);
	live_expect_rets(rets, n, 1, 0);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 1);
}

/*
 * vhost's 0xAF commands under a deny-everything policy: neither denied nor
 * counted nor reported. Needs only the hook (lsm=yes) and /dev/vhost-net
 * (vhost_net, a module on the Debian rows: tests/vm/run.sh harvests it);
 * the control is a G1 ioctl on a VM fd, which the hook denies before the
 * kernel looks at it (where G1 is not built in too).
 */
static void test_vhost_ioctls_untouched(void **state)
{
	const char *out = live_tmp("vhost.json"), *err = live_tmp("vhost.err");
	struct gmt_kvm_memory_attributes attr = { .size = 4096,
						  .attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE };
	json_object *pols, *rules, *def;
	int fd, kvm, vm;
	pid_t pid;

	if (!live_promised("LSM") || geteuid()) {
		print_message("SKIP: needs the BPF LSM hook (row lsm=yes) and root\n");
		skip();
	}
	fd = open("/dev/vhost-net", O_RDWR);
	if (fd < 0) {
		print_message("SKIP: no /dev/vhost-net (%s): the kernel has no vhost_net, or "
			      "its cached modules predate it (tests/vm/run.sh)\n", strerror(errno));
		skip();
	}
	kvm = open("/dev/kvm", O_RDWR);
	assert_true(kvm >= 0);
	vm = ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	assert_true(vm >= 0);
	pid = start("vhost-deny-all.yaml", DENY_ALL, out, err);
	vhost_ioctls(fd);
	/* the control: the hook is live and denies a conversion ioctl */
	assert_int_equal(ioctl(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr), -1);
	assert_int_equal(errno, EPERM);
	pols = live_stat_policies(live_tmp("vhost-stat.json"));
	assert_int_equal(json_object_array_length(pols), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(pols, 0), "rules",
					      &rules));
	def = json_object_array_get_idx(rules, 0);	/* the default: the control only */
	assert_int_equal(live_get_int(def, "hits"), 1);
	assert_int_equal(live_get_int(def, "denies"), 1);
	json_object_put(pols);
	stop(pid, err);
	assert_int_equal(nr_policy_records(out), 1);
	close(vm);
	close(kvm);
	close(fd);
}

#define CG_A	LIVE_CG_ROOT "/gmt-vm-a"
#define CG_B	LIVE_CG_ROOT "/gmt-vm-b"
#define VM_CGROUP_RULE "version: 1\ndefault: allow\nrules:\n  - id: 11\n    action: deny\n" \
		       "    match:\n      vm: { creator_cgroup: " CG_A " }\n"

/* rule 11: a VM created in cgroup A is denied its conversions; one created
 * in cgroup B is not (the creator's cgroup recorded at KVM_CREATE_VM) */
static void test_vm_creator_cgroup(void **state)
{
	const char *out = live_tmp("vmcg.json"), *err = live_tmp("vmcg.err");
	json_object *recs, *pol;
	long long rets[4];
	pid_t pid;
	int n, i;

	if (!live_policy_can_veto())
		skip();
	live_cgroups_make(CG_A, CG_B);
	pid = start("vmcg.yaml", VM_CGROUP_RULE, out, err);
	live_cgroup_move_self(CG_A);
	n = live_g1_rets(rets, 4, "--conversions", "2", NULL);
	live_cgroup_move_self(CG_B);
	live_expect_rets(rets, n, 2, 0);
	n = live_g1_rets(rets, 4, "--conversions", "2", NULL);
	live_cgroup_move_self(LIVE_CG_ROOT);
	live_expect_rets(rets, n, 2, 2);
	stop(pid, err);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	pol = live_filter(recs, "event", "policy");
	assert_int_equal(json_object_array_length(pol), 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(live_get_int(json_object_array_get_idx(pol, i), "rule_id"), 11);
	json_object_put(pol);
	json_object_put(recs);
	rmdir(CG_A);
	rmdir(CG_B);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_fmod_fallback_denies, live_teardown),
		cmocka_unit_test_teardown(test_size_limit, live_teardown),
		cmocka_unit_test_teardown(test_rate_limit, live_teardown),
		cmocka_unit_test_teardown(test_unrelated_ioctls, live_teardown),
		cmocka_unit_test_teardown(test_reload_keeps_enforcing, live_teardown),
		cmocka_unit_test_teardown(test_earlier_lsm_honoured, live_teardown),
		cmocka_unit_test_teardown(test_vm_creator_cgroup, live_teardown),
		cmocka_unit_test_teardown(test_vhost_ioctls_untouched, live_teardown),
	};

	return cmocka_run_group_tests_name("live_enforce_rules", tests, NULL, NULL);
}
