// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace features` tells the truth about the running kernel (checked
 * against what gmem-workload's real ioctls returned, and inside the VM suite
 * against the kernel row's expectations GMT_EXPECT_*), and the CLI fails
 * cleanly on bad situations: no privilege, a command that cannot run, a VM
 * kernel without guest_memfd.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "live_util.h"

static json_object *features(void)
{
	const char *out = live_tmp("features.json");
	const char *argv[] = { live_bin("gmemtrace"), "features", "-f", "json", NULL };

	assert_int_equal(live_run((char *const *)argv, out, NULL, 120), 0);
	return live_read_json(out);
}

/* the "available" value of a named row in a section, -1 if absent/null */
static int row(json_object *f, const char *section, const char *name)
{
	json_object *sec, *v;
	size_t i;

	if (!json_object_object_get_ex(f, section, &sec))
		return -1;
	for (i = 0; i < json_object_array_length(sec); i++) {
		json_object *r = json_object_array_get_idx(sec, i);

		if (strcmp(live_get_str(r, "name"), name))
			continue;
		if (!json_object_object_get_ex(r, "available", &v) || !v)
			return -1;
		return json_object_get_boolean(v);
	}
	return -1;
}

static const char *detail(json_object *f, const char *section, const char *name)
{
	json_object *sec;
	size_t i;

	json_object_object_get_ex(f, section, &sec);
	for (i = 0; sec && i < json_object_array_length(sec); i++) {
		json_object *r = json_object_array_get_idx(sec, i);

		if (!strcmp(live_get_str(r, "name"), name))
			return live_get_str(r, "detail");
	}
	return "";
}

/* ret of the workload's first call of a generation; 1 if it made none */
static long long first_ret(json_object *wl, int gen)
{
	json_object *calls;
	size_t i;

	json_object_object_get_ex(wl, "calls", &calls);
	for (i = 0; calls && i < json_object_array_length(calls); i++) {
		json_object *c = json_object_array_get_idx(calls, i);

		if (live_get_int(c, "gen") == gen && live_is_null(c, "skipped"))
			return live_get_int(c, "ret");
	}
	return 1;
}

static void expect_env(json_object *f, const char *var, const char *section, const char *name)
{
	const char *want = getenv(var);
	int got = row(f, section, name);

	if (!want || !*want)
		return;
	print_message("%s=%s: features says %s %s\n", var, want, name, got == 1 ? "yes" : "no");
	assert_int_equal(got == 1, !strcmp(want, "yes"));
}

static void test_features_match_kernel(void **state)
{
	const char *wl_json = live_tmp("feat-wl.json");
	const char *w[] = { live_bin("gmem-workload"), "--conversions", "1", "--json-out",
			    wl_json, NULL };
	json_object *f, *wl, *vms, *vm;
	long long r;

	if (!live_require_tracing())
		skip();
	f = features();
	assert_non_null(f);
	/* the uAPI backend must work wherever syscall tracepoints do */
	assert_int_equal(row(f, "capabilities", "tracepoint"), 1);
	assert_int_equal(row(f, "programs", "gmt_ioctl_enter"), 1);
	assert_int_equal(row(f, "programs", "gmt_ioctl_exit"), 1);
	/* refs --holders' DMA walk loads wherever iterators do, vfio_iommu_type1's
	 * BTF or not (without it, it says so per container) */
	assert_int_equal(row(f, "programs", "gmt_refs_dma"), 1);
	assert_int_equal(row(f, "kvm", "dev_kvm"), 1);
	/* every "no" says why */
	if (row(f, "capabilities", "fentry") == 0)
		assert_non_null(strstr(detail(f, "capabilities", "fentry"), "("));

	assert_int_equal(live_run((char *const *)w, NULL, NULL, 60), 0);
	wl = live_read_json(wl_json);
	assert_non_null(wl);
	json_object_object_get_ex(wl, "vms", &vms);
	vm = json_object_array_get_idx(vms, 0);
	assert_int_equal(row(f, "kvm", "guest_memfd"), live_get_int(vm, "create_gmem_ret") >= 0);
	r = first_ret(wl, 1);
	assert_int_equal(row(f, "kvm", "g1_set_memory_attributes"), r != -25);
	if (live_get_int(vm, "create_gmem_ret") >= 0) {
		r = first_ret(wl, 2);
		assert_int_equal(row(f, "kvm", "g2_gmem_convert"), r != -25);
		r = first_ret(wl, 3);
		assert_int_equal(row(f, "kvm", "g3_set_memory_attributes2"), r != -25);
	}
	/* private memory iff the workload could make a protected VM */
	assert_int_equal(row(f, "kvm", "private_memory"), live_get_int(vm, "vm_type") == 1);

	/* inside the VM suite: what the kernel row promises */
	expect_env(f, "GMT_EXPECT_FENTRY", "capabilities", "fentry");
	expect_env(f, "GMT_EXPECT_LSM", "capabilities", "lsm");
	expect_env(f, "GMT_EXPECT_KPROBE", "capabilities", "kprobe");
	expect_env(f, "GMT_EXPECT_GMEM", "kvm", "guest_memfd");
	expect_env(f, "GMT_EXPECT_PRIVATE", "kvm", "private_memory");
	expect_env(f, "GMT_EXPECT_CONVERSIONS", "kvm", "g1_set_memory_attributes");
	json_object_put(wl);
	json_object_put(f);
}

/* G1 conversions on a kernel that has them: they really convert (ret 0) */
static void test_real_conversions_when_expected(void **state)
{
	const char *want = getenv("GMT_EXPECT_CONVERSIONS");
	const char *wl_json = live_tmp("conv-wl.json");
	const char *w[] = { live_bin("gmem-workload"), "--conversions", "16", "--uapi", "g1",
			    "--json-out", wl_json, NULL };
	json_object *wl, *calls;
	size_t i;

	if (!live_require_tracing())
		skip();
	if (!want || strcmp(want, "yes")) {
		print_message("SKIP: this kernel is not expected to convert (GMT_EXPECT_CONVERSIONS=%s)\n",
			      want ? want : "unset");
		skip();
	}
	assert_int_equal(live_run((char *const *)w, NULL, NULL, 60), 0);
	wl = live_read_json(wl_json);
	json_object_object_get_ex(wl, "calls", &calls);
	assert_int_equal(json_object_array_length(calls), 16);
	for (i = 0; i < json_object_array_length(calls); i++)
		assert_int_equal(live_get_int(json_object_array_get_idx(calls, i), "ret"), 0);
	json_object_put(wl);
}

static void test_not_root_is_refused(void **state)
{
	const char *err = live_tmp("noroot.err");
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		print_message("SKIP: needs root to drop to an unprivileged user\n");
		skip();
	}
	pid = fork();
	if (pid == 0) {
		FILE *e = freopen(err, "w", stderr);

		(void)e;
		if (setgid(65534) || setuid(65534))
			_exit(99);
		execl(live_bin("gmemtrace"), "gmemtrace", "trace", "-d", "1", (char *)NULL);
		_exit(98);
	}
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 3);
	assert_true(live_wait_for(err, "root", 1));
}

static void test_command_that_cannot_run(void **state)
{
	const char *err = live_tmp("noexec.err");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--", "/nonexistent/vmm", NULL };

	if (!live_require_tracing())
		skip();
	/* checked before anything is opened or attached: a usage error (issue 7) */
	assert_int_equal(live_run((char *const *)argv, NULL, err, 30), 2);
	assert_true(live_wait_for(err, "/nonexistent/vmm", 1));
	assert_true(live_wait_for(err, "No such file", 1));
}

/* a quiet process: tracing ends on -d, with an empty but complete summary */
static void test_duration_idle(void **state)
{
	const char *out = live_tmp("idle.jsonl");
	const char *sl[] = { "/bin/sleep", "30", NULL };
	char pidbuf[16];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", out, "-p",
			       pidbuf, "-d", "0.5", NULL };
	json_object *recs, *sum, *ev;
	pid_t sp;

	if (!live_require_tracing())
		skip();
	sp = live_spawn((char *const *)sl, NULL, NULL);
	snprintf(pidbuf, sizeof(pidbuf), "%d", sp);
	assert_int_equal(live_run((char *const *)argv, NULL, NULL, 30), 0);
	kill(sp, SIGKILL);
	live_wait(sp, 5);
	recs = live_read_ndjson(out);
	sum = live_filter(recs, "summary", NULL);
	assert_int_equal(json_object_array_length(sum), 1);
	json_object_object_get_ex(json_object_array_get_idx(sum, 0), "events", &ev);
	assert_int_equal(live_get_int(ev, "convert"), 0);
	assert_true(live_get_int(json_object_array_get_idx(sum, 0), "lost") == 0);
	json_object_put(sum);
	json_object_put(recs);
}

/* text output carries the facts a human greps for */
static void test_text_trace(void **state)
{
	const char *out = live_tmp("trace.txt");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-o", out, "--",
			       live_bin("gmem-workload"), "--conversions", "2", "--uapi", "g1",
			       NULL };

	if (!live_require_tracing())
		skip();
	assert_int_equal(live_run((char *const *)argv, NULL, NULL, 30), 0);
	assert_true(live_wait_for(out, "convert", 1));
	assert_true(live_wait_for(out, " G1 to_private gpa=0x100000000 size=4096", 1));
	assert_true(live_wait_for(out, "# 2 conversions", 1));
}

/* every kernel-side program passes this kernel's verifier wherever the
 * kernel has its target, G2/G3-only ones included (CO-RE drift shows here) */
static void test_every_program_verifies(void **state)
{
	const char *out = live_tmp("verify.json");
	const char *argv[] = { live_bin("gmemtrace"), "features", "--verify", "-f", "json", NULL };
	json_object *f, *sec, *v;
	size_t i, checked = 0;

	if (!live_require_tracing())
		skip();
	assert_int_equal(live_run((char *const *)argv, out, NULL, 300), 0);
	f = live_read_json(out);
	assert_non_null(f);
	assert_true(json_object_object_get_ex(f, "verify", &sec));
	for (i = 0; i < json_object_array_length(sec); i++) {
		json_object *r = json_object_array_get_idx(sec, i);

		if (!json_object_object_get_ex(r, "available", &v) || !v)
			continue;	/* no target here, or trampolines refused */
		if (!json_object_get_boolean(v))
			print_message("%s: %s\n", live_get_str(r, "name"), live_get_str(r, "detail"));
		assert_true(json_object_get_boolean(v));
		checked++;
	}
	print_message("%zu kernel-side programs passed this kernel's verifier\n", checked);
	assert_true(checked > 0);
	json_object_put(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_features_match_kernel, live_teardown),
		cmocka_unit_test_teardown(test_real_conversions_when_expected, live_teardown),
		cmocka_unit_test_teardown(test_not_root_is_refused, live_teardown),
		cmocka_unit_test_teardown(test_command_that_cannot_run, live_teardown),
		cmocka_unit_test_teardown(test_duration_idle, live_teardown),
		cmocka_unit_test_teardown(test_text_trace, live_teardown),
		cmocka_unit_test_teardown(test_every_program_verifies, live_teardown),
	};

	return cmocka_run_group_tests_name("live_features", tests, NULL, NULL);
}
