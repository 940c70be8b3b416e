// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace enforce --pin` / `--unpin` and the per-rule counters of
 * `stat`. Where no hook loads (this build host) --pin refuses with exit 3
 * and pins nothing; `--unpin -f json` says nothing was pinned. On the
 * conversion kernel (VM row sw-protected-7.3) a pinned deny survives a
 * SIGKILL of gmemtrace (and its ordinary end at -d), `stat` shows its
 * counters, a second --pin refuses, and --unpin removes every gmemtrace BPF
 * object (the kernel's own lists, walked by id), after which conversions
 * pass again. VMs created after the SIGKILL are VMs of their own (own rate
 * buckets, their creator's cgroup). On the in-place kernel (inplace-v8-7.2)
 * a pinned G3 deny survives the SIGKILL the same way.
 */
#include <signal.h>
#include <sys/stat.h>

#include "live_policy.h"

#define PIN_DIR "/sys/fs/bpf/gmemtrace"

/* whatever a failed test pinned must not stay for the next ones */
static int unpin_teardown(void **state)
{
	live_teardown(state);
	if (!geteuid())
		live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	return 0;
}

static bool pin_dir_exists(void)
{
	struct stat st;

	return !stat(PIN_DIR, &st);
}

static void test_pin_refused_here(void **state)
{
	const char *err = live_tmp("pin.err");
	const char *argv[] = { live_bin("gmemtrace"), "enforce", "--policy",
			       live_policy_file("deny.yaml", LIVE_DENY_G1), "--pin", "-d", "1",
			       NULL };
	struct live_bpf_objs o;
	struct stat st;
	int rc;

	if (geteuid())
		skip();
	rc = live_run((char *const *)argv, NULL, err, 60);
	if (rc == 0) {
		print_message("SKIP: a policy hook loads here: no refusal to test\n");
		skip();
	}
	assert_int_equal(rc, 3);
	assert_true(live_wait_for(err, "nothing was installed", 0.5));
	assert_false(!stat(PIN_DIR "/link", &st));
	o = live_bpf_gmt_objects();
	assert_int_equal(o.progs + o.links, 0);
}

/* `enforce --unpin -f json`: its one unpin record (a new reference) */
static json_object *unpin_json(const char *out)
{
	json_object *recs, *rec;

	assert_int_equal(live_gmemtrace(out, NULL, "enforce", "--unpin", "-f", "json", NULL), 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	assert_int_equal(json_object_array_length(recs), 1);
	rec = json_object_get(json_object_array_get_idx(recs, 0));
	json_object_put(recs);
	assert_string_equal(live_get_str(rec, "type"), "unpin");
	assert_string_equal(live_get_str(rec, "dir"), PIN_DIR);
	assert_int_equal(live_get_int(rec, "nr_failed"), 0);
	return rec;
}

static bool json_has_str(json_object *arr, const char *s)
{
	int i;

	for (i = 0; arr && i < (int)json_object_array_length(arr); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s))
			return true;
	return false;
}

static void test_unpin_nothing(void **state)
{
	const char *out = live_tmp("unpin.out");
	json_object *rec, *removed;

	if (geteuid())
		skip();
	live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	assert_int_equal(live_gmemtrace(out, NULL, "enforce", "--unpin", NULL), 0);
	assert_true(live_wait_for(out, "nothing was pinned at " PIN_DIR, 0.5));
	rec = unpin_json(live_tmp("unpin-none.json"));
	assert_false(json_object_get_boolean(json_object_object_get(rec, "pinned")));
	assert_int_equal(live_get_int(rec, "nr_removed"), 0);
	assert_true(json_object_object_get_ex(rec, "removed", &removed));
	assert_int_equal(json_object_array_length(removed), 0);
	json_object_put(rec);
}

/* --pin, then SIGKILL of the gmemtrace that pinned (skipped when not root,
 * failed where the row promises the LSM and it does not attach) */
static void pin_and_kill(const char *name, const char *policy_text)
{
	struct live_bpf_objs o;
	const char *out, *err;
	char file[64];
	pid_t pid;

	if (geteuid())
		skip();
	/* live_tmp() removes the file: one call each */
	snprintf(file, sizeof(file), "%s.json", name);
	out = live_tmp(file);
	snprintf(file, sizeof(file), "%s.err", name);
	err = live_tmp(file);
	live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	pid = live_enforce_start(out, err, "--policy",
				 live_policy_file("pin-policy.yaml", policy_text), "--pin", NULL);
	if (pid < 0)
		live_cannot_run("LSM", "enforce --pin did not attach");
	assert_true(live_wait_for(err, "pinned at " PIN_DIR, 5));
	kill(pid, SIGKILL);
	live_wait(pid, 20);
	/* the hook, the ioctl tracepoints and VM release at least stay */
	o = live_bpf_objects("gmt_");
	print_message("pinned: %d gmt_* programs, %d links, %d maps\n", o.progs, o.links, o.maps);
	assert_true(o.links >= 4);
}

/* after --unpin: none of our programs, links or maps in the kernel's lists */
static void expect_all_gone(void)
{
	struct live_bpf_objs o;
	int i;

	/* the kernel frees them after an RCU (tasks trace) grace period */
	for (i = 0; i < 200; i++) {
		o = live_bpf_objects("gmt_");
		if (!o.progs && !o.links && !o.maps)
			break;
		usleep(100000);
	}
	print_message("after --unpin: %d gmt_* programs, %d links, %d maps (%.1f s)\n",
		      o.progs, o.links, o.maps, i / 10.0);
	assert_int_equal(o.progs, 0);
	assert_int_equal(o.links, 0);
	assert_int_equal(o.maps, 0);
}

/* the one policy hook stat sees */
static json_object *stat_policy(const char *out)
{
	json_object *pols = live_stat_policies(out), *pol;

	assert_int_equal(json_object_array_length(pols), 1);
	pol = json_object_get(json_object_array_get_idx(pols, 0));
	json_object_put(pols);
	return pol;
}

static void test_pin_survives_sigkill(void **state)
{
	const char *out = live_tmp("pin.json"), *err = live_tmp("pin.err");
	const char *policy = live_policy_file("deny.yaml", LIVE_DENY_G1);
	json_object *pol, *rules, *rule;
	struct live_bpf_objs o;
	long long rets[8];
	pid_t pid;
	int n;

	if (!live_policy_can_veto())
		skip();
	live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	pid = live_enforce_start(out, err, "--policy", policy, "--pin", NULL);
	if (pid < 0) {
		live_cannot_run("LSM", "enforce --pin did not attach");
		return;
	}
	assert_true(live_wait_for(err, "pinned at " PIN_DIR, 5));
	kill(pid, SIGKILL);
	live_wait(pid, 20);

	/* gmemtrace is gone: the pinned hook still denies */
	n = live_g1_rets(rets, 8, "--conversions", "3", NULL);
	live_expect_rets(rets, n, 3, 0);
	o = live_bpf_gmt_objects();
	print_message("pinned: %d hook programs, %d links, %d maps\n", o.progs, o.links, o.maps);
	assert_int_equal(o.links, 1);
	assert_true(o.progs >= 1 && o.maps >= 6);
	/* and the programs that name VMs: the ioctl tracepoints, VM release */
	o = live_bpf_objects("gmt_");
	print_message("pinned: %d gmt_* programs, %d links, %d maps\n", o.progs, o.links, o.maps);
	assert_true(o.links >= 4);

	/* stat finds it and its counters: rule 7 denied the 3 */
	pol = stat_policy(live_tmp("stat.json"));
	assert_true(json_object_get_boolean(json_object_object_get(pol, "pinned")));
	assert_string_equal(live_get_str(pol, "mode"), "enforce");
	assert_true(json_object_object_get_ex(pol, "rules", &rules));
	assert_int_equal(json_object_array_length(rules), 2);	/* rule 7, the default */
	rule = json_object_array_get_idx(rules, 0);
	assert_int_equal(live_get_int(rule, "id"), 7);
	assert_int_equal(live_get_int(rule, "hits"), 3);
	assert_int_equal(live_get_int(rule, "denies"), 3);
	json_object_put(pol);

	/* a second --pin does not adopt or stack: it refuses, exit 1 */
	assert_int_equal(live_gmemtrace(NULL, err, "enforce", "--policy", policy, "--pin", NULL), 1);
	assert_true(live_wait_for(err, "a pinned policy is present", 0.5));

	/* --unpin removes everything and says so */
	assert_int_equal(live_gmemtrace(out, NULL, "enforce", "--unpin", NULL), 0);
	assert_true(live_wait_for(out, "removed " PIN_DIR "/link", 0.5));
	assert_true(live_wait_for(out, "removed " PIN_DIR "/prog", 0.5));
	assert_true(live_wait_for(out, "removed " PIN_DIR "/link_gmt_ioctl_exit", 0.5));
	assert_false(pin_dir_exists());
	expect_all_gone();
	n = live_g1_rets(rets, 8, "--conversions", "3", NULL);
	live_expect_rets(rets, n, 3, 3);
}

/* the ordinary end (-d): the pinned link is disconnected, not detached */
static void test_pin_survives_normal_exit(void **state)
{
	const char *err = live_tmp("pin-d.err");
	long long ret;

	if (!live_policy_can_veto())
		skip();
	live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	assert_int_equal(live_gmemtrace(NULL, err, "enforce", "--policy",
					live_policy_file("deny.yaml", LIVE_DENY_G1), "--pin", "-d",
					"1", NULL), 0);
	assert_int_equal(live_g1_rets(&ret, 1, "--conversions", "1", NULL), 1);
	assert_int_equal(ret, -1);	/* EPERM */
	assert_int_equal(live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL), 0);
	assert_false(pin_dir_exists());
}

/*
 * VMs created after the SIGKILL: rule 11 denies a VM whose creator was in
 * cgroup A; rule 4 lets each VM convert 3 times, then denies (1/s refill).
 * Without pinned VM identity both fail: no creator cgroup is known (rule 11
 * matches nothing) and every VM is vm_id 0, one bucket for all.
 */
#define PIN_CG_A	LIVE_CG_ROOT "/gmt-pin-a"
#define PIN_CG_B	LIVE_CG_ROOT "/gmt-pin-b"
#define VM_RULES "version: 1\ndefault: allow\nrules:\n  - id: 11\n    action: deny\n" \
		 "    match:\n      vm: { creator_cgroup: " PIN_CG_A " }\n" \
		 "  - id: 4\n    action: deny\n" \
		 "    match:\n      rate: { conversions_per_second: 1, burst: 3 }\n"

static void test_pin_vms_after_kill(void **state)
{
	json_object *pol, *rules, *rec, *removed;
	long long rets[8];
	int n, i;
	static const struct { int id, hits, denies; } want[] = {
		{ 11, 2, 2 }, { 4, 4, 4 }, { 0, 6, 0 },
	};

	if (!live_policy_can_veto())
		skip();
	live_cgroups_make(PIN_CG_A, PIN_CG_B);
	pin_and_kill("pinvms", VM_RULES);
	/* gmemtrace is gone; each run of the workload is a new VM */
	live_cgroup_move_self(PIN_CG_A);
	n = live_g1_rets(rets, 8, "--conversions", "2", NULL);
	live_cgroup_move_self(PIN_CG_B);
	live_expect_rets(rets, n, 2, 0);	/* rule 11: created in A */
	n = live_g1_rets(rets, 8, "--conversions", "5", NULL);
	live_expect_rets(rets, n, 5, 3);	/* rule 4: its own bucket */
	n = live_g1_rets(rets, 8, "--conversions", "5", NULL);
	live_cgroup_move_self(LIVE_CG_ROOT);
	live_expect_rets(rets, n, 5, 3);	/* another VM, another bucket */

	pol = stat_policy(live_tmp("pinvms-stat.json"));
	assert_true(json_object_object_get_ex(pol, "rules", &rules));
	assert_int_equal(json_object_array_length(rules), 3);
	for (i = 0; i < 3; i++) {
		json_object *r = json_object_array_get_idx(rules, i);

		if (want[i].id)
			assert_int_equal(live_get_int(r, "id"), want[i].id);
		assert_int_equal(live_get_int(r, "hits"), want[i].hits);
		assert_int_equal(live_get_int(r, "denies"), want[i].denies);
	}
	json_object_put(pol);

	/* --unpin -f json names what it removed */
	rec = unpin_json(live_tmp("pinvms-unpin.json"));
	assert_true(json_object_get_boolean(json_object_object_get(rec, "pinned")));
	assert_true(json_object_get_boolean(json_object_object_get(rec, "dir_removed")));
	assert_true(json_object_object_get_ex(rec, "removed", &removed));
	assert_true(json_has_str(removed, "link"));
	assert_true(json_has_str(removed, "prog"));
	assert_true(json_has_str(removed, "link_gmt_ioctl_enter"));
	assert_true(json_has_str(removed, "link_gmt_ioctl_exit"));
	assert_true(json_has_str(removed, "gmt_vms"));
	assert_int_equal(live_get_int(rec, "nr_removed"), json_object_array_length(removed));
	json_object_put(rec);
	assert_false(pin_dir_exists());
	expect_all_gone();
	n = live_g1_rets(rets, 8, "--conversions", "5", NULL);
	live_expect_rets(rets, n, 5, 5);
	rmdir(PIN_CG_A);
	rmdir(PIN_CG_B);
}

/*
 * G3 on the in-place kernel: a pinned rule on guest_memfd offset [0, 4K)
 * keeps denying KVM_SET_MEMORY_ATTRIBUTES2 after the SIGKILL: page 0 fails
 * with EPERM and stays shared (the touch afterwards stops at page 1, the
 * private one); after --unpin both convert (the touch stops at 0).
 */
#define PIN_DENY_G3_PAGE0 "version: 1\ndefault: allow\nrules:\n  - id: 3\n    action: deny\n" \
			  "    match:\n      uapi: g3\n      direction: to_private\n" \
			  "      range: { space: offset, start: 0, size: 4K }\n"

/* gmem-workload's two G3 conversions (pages 0 and 1) and its touch after */
static void g3_expect(long long ret0, long long sigbus_offset)
{
	const char *out = live_tmp("pin-g3-wl.json");
	const char *wl[] = { live_bin("gmem-workload"), "--in-place", "--uapi", "g3", "--dir",
			     "private", "--conversions", "2", "--gmem-size", "64K",
			     "--touch-after", "--json", NULL };
	json_object *doc, *calls, *vms, *touch;

	live_run((char *const *)wl, out, NULL, 120);
	doc = live_read_json(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "calls", &calls) && calls);
	assert_int_equal(json_object_array_length(calls), 2);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 0), "start"), 0);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 0), "ret"), ret0);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 1), "ret"), 0);
	assert_true(json_object_object_get_ex(doc, "vms", &vms));
	assert_true(json_object_object_get_ex(json_object_array_get_idx(vms, 0), "touch_after",
					      &touch) && touch);
	assert_int_equal(live_get_int(touch, "sigbus_offset"), sigbus_offset);
	json_object_put(doc);
}

static void test_pin_g3_after_kill(void **state)
{
	json_object *rec;

	if (!live_promised("G3")) {
		print_message("SKIP: needs KVM_SET_MEMORY_ATTRIBUTES2 (row g3=yes)\n");
		skip();
	}
	pin_and_kill("pin-g3", PIN_DENY_G3_PAGE0);
	g3_expect(-1, 4096);	/* EPERM: page 0 still shared */
	rec = unpin_json(live_tmp("pin-g3-unpin.json"));
	assert_true(json_object_get_boolean(json_object_object_get(rec, "pinned")));
	json_object_put(rec);
	expect_all_gone();
	g3_expect(0, 0);
}

/*
 * `toctou: kill` after the SIGKILL: gmem-workload --race flips its
 * argument's size between 4K and 8K while converting; rule 5 denies 8K.
 * When the hook read 4K and the kernel copied 8K, the pinned check kills
 * the racing thread: the workload dies of SIGKILL (live_toctou.c has the
 * same race with an enforce that runs). G1 where the row has conversions,
 * else G3. The race is timing: up to 10 runs.
 */
#define PIN_TOCTOU_KILL "version: 1\ndefault: allow\ntoctou: kill\nrules:\n  - id: 5\n" \
			"    action: deny\n    match:\n      size: { min: 8K }\n"

static void test_pin_toctou_kill_after_kill(void **state)
{
	bool g1 = live_promised("CONVERSIONS");
	const char *wl[] = { live_bin("gmem-workload"), "--uapi", g1 ? "g1" : "g3",
			     "--conversions", "0", "--gmem-size", "64K", "--race", "5000",
			     g1 ? NULL : "--in-place", NULL };
	int tries, rc = 0;

	if (!g1 && !live_promised("G3")) {
		print_message("SKIP: no kernel copy to compare here (conversions=yes or g3=yes)\n");
		skip();
	}
	pin_and_kill("pin-toctou", PIN_TOCTOU_KILL);
	for (tries = 1; tries <= 10 && rc != 128 + SIGKILL; tries++)
		rc = live_run((char *const *)wl, NULL, NULL, 120);
	print_message("%s race under the pinned check: rc %d after %d run(s)\n", wl[2], rc,
		      tries - 1);
	assert_int_equal(rc, 128 + SIGKILL);
	assert_int_equal(live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pin_refused_here, unpin_teardown),
		cmocka_unit_test_teardown(test_unpin_nothing, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_survives_sigkill, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_survives_normal_exit, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_vms_after_kill, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_g3_after_kill, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_toctou_kill_after_kill, unpin_teardown),
	};

	return cmocka_run_group_tests_name("live_enforce_pin", tests, NULL, NULL);
}
