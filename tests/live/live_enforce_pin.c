// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace enforce --pin` / `--unpin` and the per-rule counters of
 * `stat`. Where no hook loads (this build host) --pin refuses with exit 3
 * and pins nothing. On the conversion kernel (VM row sw-protected-7.3) a
 * pinned deny survives a SIGKILL of gmemtrace (and its ordinary end at -d),
 * `stat` shows its counters, a second --pin refuses, and --unpin removes
 * every gmemtrace BPF object (the kernel's own lists, walked by id), after
 * which conversions pass again.
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

static void test_unpin_nothing(void **state)
{
	const char *out = live_tmp("unpin.out");

	if (geteuid())
		skip();
	live_gmemtrace(NULL, NULL, "enforce", "--unpin", NULL);
	assert_int_equal(live_gmemtrace(out, NULL, "enforce", "--unpin", NULL), 0);
	assert_true(live_wait_for(out, "nothing was pinned at " PIN_DIR, 0.5));
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
	int i, n;

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
	assert_false(pin_dir_exists());
	/* the kernel frees them after an RCU (tasks trace) grace period */
	for (i = 0; i < 200; i++) {
		o = live_bpf_gmt_objects();
		if (!o.progs && !o.links && !o.maps)
			break;
		usleep(100000);
	}
	print_message("after --unpin: %d hook programs, %d links, %d maps (%.1f s)\n",
		      o.progs, o.links, o.maps, i / 10.0);
	assert_int_equal(o.progs, 0);
	assert_int_equal(o.links, 0);
	assert_int_equal(o.maps, 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_pin_refused_here, unpin_teardown),
		cmocka_unit_test_teardown(test_unpin_nothing, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_survives_sigkill, unpin_teardown),
		cmocka_unit_test_teardown(test_pin_survives_normal_exit, unpin_teardown),
	};

	return cmocka_run_group_tests_name("live_enforce_pin", tests, NULL, NULL);
}
