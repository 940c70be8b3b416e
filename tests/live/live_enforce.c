// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace enforce`. Where no policy hook loads (this build host
 * refuses LSM and trampolines with EPERM) it must refuse with exit 3 and the
 * kernel's reason, in both modes, and leave no hook program loaded; a bad
 * policy is exit 2 with FILE:LINE:COLUMN (--pin: live_enforce_pin.c).
 * Where the hook loads (the VM suite), a denied G1 conversion returns EPERM
 * to gmem-workload; these tests skip elsewhere, and FAIL where the VM row
 * promises lsm=yes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live_policy.h"

#define DENY_G1 "version: 1\ndefault: allow\nrules:\n  - id: 7\n    action: deny\n" \
		"    match:\n      uapi: g1\n"

static const char *write_file(const char *name, const char *text)
{
	return live_policy_file(name, text);
}

static bool file_has(const char *path, const char *needle)
{
	return live_wait_for(path, needle, 0.5);
}

/* a hook program of gmemtrace loaded now (other gmemtrace runs may trace) */
static bool hook_loaded(void)
{
	FILE *p = popen("bpftool prog list 2>/dev/null", "r");
	char line[512];
	bool found = false;

	assert_non_null(p);
	while (fgets(line, sizeof(line), p))
		if (strstr(line, "gmt_pol_lsm") || strstr(line, "gmt_pol_fmod"))
			found = true;
	pclose(p);
	return found;
}

/* the end of enforce -v's stderr (the verifier's log says why a hook failed) */
static void dump_verifier_end(const char *err)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "grep -v '^libbpf: prog .*: BPF_' %s | tail -n 80", err);
	if (system(cmd) < 0)
		live_dump(err, 80);
}

/* exit code of enforce with args, stderr in err */
static int run_enforce(const char *policy, const char *mode, const char *extra, const char *err)
{
	const char *argv[12] = { live_bin("gmemtrace"), "enforce", "--policy", policy, "-d", "1" };
	int n = 6;

	if (mode) {
		argv[n++] = "--mode";
		argv[n++] = mode;
	}
	if (extra)
		argv[n++] = extra;
	argv[n] = NULL;
	/* loading under TCG is slow: Debian 6.12's verifier took >30 s */
	return live_run((char *const *)argv, live_tmp("enforce.out"), err, 180);
}

/* the probe's policy and stderr (live_tmp unlinks a path it hands out again) */
static char probe_policy[512], probe_err[512];

/* true if a hook loads here (then the refusal tests do not apply) */
static bool hook_works(void)
{
	static int cached = -1;
	time_t t0;

	if (cached < 0) {
		snprintf(probe_policy, sizeof(probe_policy), "%s",
			 write_file("allow.yaml", "version: 1\ndefault: allow\n"));
		snprintf(probe_err, sizeof(probe_err), "%s", live_tmp("probe.err"));
		t0 = time(NULL);
		cached = run_enforce(probe_policy, "monitor", NULL, probe_err) == 0;
		print_message("enforce -d 1 (load, attach, 1 s, exit) took %ld s\n",
			      (long)(time(NULL) - t0));
	}
	return cached;
}

/*
 * Where the row promises BPF LSM and trampolines, the hook must load (in
 * either mode), whatever conversion uAPI the kernel has: enforce's own
 * reason is shown when it does not.
 */
static void test_hook_loads_where_promised(void **state)
{
	const char *verbose_err;

	if (geteuid()) {
		print_message("SKIP: not root\n");
		skip();
	}
	if (hook_works())
		return;
	live_dump(probe_err, 40);
	/* again with libbpf's log: the verifier's last lines say why */
	verbose_err = live_tmp("probe-v.err");
	run_enforce(probe_policy, "monitor", "-v", verbose_err);
	dump_verifier_end(verbose_err);
	live_cannot_run("LSM", "no policy hook loads here (gmemtrace enforce exits 3)");
}

static void check_refusal(const char *mode)
{
	const char *err = live_tmp("refuse.err");
	int rc;

	if (geteuid())
		skip();
	if (hook_works()) {
		print_message("SKIP: a policy hook loads on this kernel: no refusal to test\n");
		skip();
	}
	rc = run_enforce(write_file("deny.yaml", DENY_G1), mode, NULL, err);
	if (rc != 3)
		live_dump(err, 20);
	assert_int_equal(rc, 3);
	assert_true(file_has(err, "nothing was installed"));
	/* the kernel's own reason for each hook */
	assert_true(file_has(err, "lsm.s file_ioctl: "));
	assert_true(file_has(err, "fmod_ret security_file_ioctl: "));
	assert_false(hook_loaded());
}

static void test_enforce_refuses_here(void **state)
{
	check_refusal(NULL);
}

static void test_monitor_refuses_here(void **state)
{
	check_refusal("monitor");
}

static void test_bad_policy(void **state)
{
	const char *bad = write_file("bad.yaml", "version: 1\nrules:\n  - id: 1\n    bogus: 2\n");
	const char *err = live_tmp("bad.err");
	char want[512];

	assert_int_equal(run_enforce(bad, NULL, NULL, err), 2);
	snprintf(want, sizeof(want), "%s:4:5: unknown key 'bogus'", bad);
	assert_true(file_has(err, want));
	assert_false(hook_loaded());
}

/*
 * enforce (argv, records to out) attached, the workload wl run, enforce
 * stopped with SIGINT and its exit checked: the workload's exit code
 */
static int workload_under_enforce(const char *const *argv, const char *out, const char *err,
				  const char *const *wl, const char *wl_out)
{
	pid_t pid;
	int rc, wl_rc;

	if (geteuid() || !hook_works())
		live_cannot_run("LSM", "no policy hook loads here (gmemtrace enforce exits 3)");
	pid = live_spawn((char *const *)argv, NULL, err);
	assert_true(pid > 0);
	if (!live_wait_attached(out)) {
		dump_verifier_end(err);
		fail_msg("enforce did not attach");
	}
	wl_rc = live_run((char *const *)wl, wl_out, NULL, 60);
	kill(pid, SIGINT);
	rc = live_wait(pid, 20);
	if (rc)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	return wl_rc;
}

/*
 * VM suite: gmem-workload's G1 conversions under a policy denying G1. In
 * enforce mode each fails with EPERM; in monitor mode none is denied by the
 * hook (the kernel's own result stands) and the records say would_deny.
 */
static void run_g1_under_deny(const char *mode, bool enforce)
{
	const char *out = live_tmp("veto.json"), *err = live_tmp("veto.err");
	const char *wl_out = live_tmp("veto-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "enforce", "--policy",
			       write_file("deny.yaml", DENY_G1), "--mode", mode, "-f", "json",
			       "-o", out, "-v", NULL };
	const char *wl[] = { live_bin("gmem-workload"), "--uapi", "g1", "--conversions", "2",
			     "--json", NULL };
	json_object *doc, *calls;
	int i;

	/* the hook decides before the kernel runs the ioctl, so a kernel
	 * without G1 conversions (Debian 6.12: ENOTTY) is vetoed all the same:
	 * EPERM in enforce mode, the kernel's own answer in monitor mode */
	workload_under_enforce(argv, out, err, wl, wl_out);
	assert_true(file_has(out, "\"event\":\"policy\""));
	assert_true(file_has(out, enforce ? "\"denied\":true" : "\"would_deny\":true"));
	doc = live_read_json(wl_out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "calls", &calls) && calls);
	assert_true(json_object_array_length(calls) > 0);
	for (i = 0; i < (int)json_object_array_length(calls); i++) {
		long long ret = live_get_int(json_object_array_get_idx(calls, i), "ret");

		if (enforce)
			assert_int_equal(ret, -1);	/* EPERM */
		else
			assert_int_not_equal(ret, -1);
	}
	json_object_put(doc);
}

/*
 * G3 on the in-place kernel: a rule denies KVM_SET_MEMORY_ATTRIBUTES2 to
 * private over guest_memfd offset [0, 4K). gmem-workload converts page 0
 * (matched) and page 1 (not), then touches its mapping again: a private page
 * stops the touch with SIGBUS. Enforce: page 0 EPERM and still shared, page
 * 1 converted, so the touch stops at 0x1000. Monitor: both convert (stop at
 * 0) and page 0's decision is reported would_deny.
 */
#define DENY_G3_PAGE0 "version: 1\ndefault: allow\nrules:\n  - id: 3\n    action: deny\n" \
		      "    match:\n      uapi: g3\n      direction: to_private\n" \
		      "      range: { space: offset, start: 0, size: 4K }\n"

static void run_g3_under_deny(const char *mode, bool enforce)
{
	const char *out = live_tmp("g3veto.json"), *err = live_tmp("g3veto.err");
	const char *wl_out = live_tmp("g3veto-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "enforce", "--policy",
			       write_file("deny-g3.yaml", DENY_G3_PAGE0), "--mode", mode, "-f",
			       "json", "-o", out, "-v", NULL };
	const char *wl[] = { live_bin("gmem-workload"), "--in-place", "--uapi", "g3", "--dir",
			     "private", "--conversions", "2", "--gmem-size", "64K",
			     "--touch-after", "--json", NULL };
	json_object *doc, *calls, *vms, *touch, *recs, *pol;

	if (!live_promised("G3")) {
		print_message("SKIP: the G3 veto tests need KVM_SET_MEMORY_ATTRIBUTES2 "
			      "(row g3=yes)\n");
		skip();
	}
	assert_int_equal(workload_under_enforce(argv, out, err, wl, wl_out), 0);

	doc = live_read_json(wl_out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "calls", &calls) && calls);
	assert_int_equal(json_object_array_length(calls), 2);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 0), "start"), 0);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 0), "ret"), enforce ? -1 : 0);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 1), "start"), 4096);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 1), "ret"), 0);
	/* the kernel's state: the first private page is where the touch stopped */
	assert_true(json_object_object_get_ex(doc, "vms", &vms));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(vms, 0), "touch_after",
					      &touch) && touch);
	assert_int_equal(live_get_int(touch, "sigbus_offset"), enforce ? 4096 : 0);
	json_object_put(doc);

	/* one decision, on page 0 only (allowed conversions are silent) */
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	pol = live_filter(recs, "event", "policy");
	assert_int_equal(json_object_array_length(pol), 1);
	pol = json_object_array_get_idx(pol, 0);
	assert_string_equal(live_get_str(pol, "gen"), "G3");
	assert_int_equal(live_get_int(pol, "rule_id"), 3);
	assert_int_equal(live_get_int(pol, "gmem_offset"), 0);
	assert_int_equal(live_get_int(pol, "size"), 4096);
	assert_true(json_object_get_boolean(json_object_object_get(pol, enforce ? "denied" :
								   "would_deny")));
	json_object_put(recs);
}

static void test_enforce_vetoes_g3(void **state)
{
	run_g3_under_deny("enforce", true);
}

static void test_monitor_reports_g3(void **state)
{
	run_g3_under_deny("monitor", false);
}

static void test_enforce_vetoes_g1(void **state)
{
	run_g1_under_deny("enforce", true);
}

static void test_monitor_reports_g1(void **state)
{
	run_g1_under_deny("monitor", false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bad_policy, live_teardown),
		cmocka_unit_test_teardown(test_hook_loads_where_promised, live_teardown),
		cmocka_unit_test_teardown(test_enforce_refuses_here, live_teardown),
		cmocka_unit_test_teardown(test_monitor_refuses_here, live_teardown),
		cmocka_unit_test_teardown(test_enforce_vetoes_g1, live_teardown),
		cmocka_unit_test_teardown(test_monitor_reports_g1, live_teardown),
		cmocka_unit_test_teardown(test_enforce_vetoes_g3, live_teardown),
		cmocka_unit_test_teardown(test_monitor_reports_g3, live_teardown),
	};

	return cmocka_run_group_tests_name("live_enforce", tests, NULL, NULL);
}
