// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: the policy hook's TOCTOU (docs/policy.md). gmem-workload --race
 * converts while another thread flips the argument's size between 4K and
 * 8K; a rule denies conversions of 8K or more. When the hook reads 4K
 * (allowed) and the kernel copies 8K, enforce must report a policy_toctou
 * record with both; with `toctou: kill` the thread is killed (SIGKILL).
 *
 * Where the kernel's copy is visible: G1's kvm_vm_set_mem_attributes
 * tracepoint (a row with conversions=yes), G3's __kvm_gmem_set_attributes
 * (g3=yes). The race is timing: the workload is run again until it is hit,
 * at most MAX_TRIES times, and the number of tries is printed. SKIP
 * elsewhere; FAIL where the row promises the uAPI and the race is never hit.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define MAX_TRIES	10
#define RACE_CALLS	"5000"

#define DENY_8K "version: 1\ndefault: allow\n%srules:\n  - id: 5\n    action: deny\n" \
		"    match:\n      size: { min: 8K }\n"

static const char *write_policy(bool kill)
{
	const char *p = live_tmp(kill ? "toctou-kill.yaml" : "toctou.yaml");
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fprintf(f, DENY_8K, kill ? "toctou: kill\n" : "");
	fclose(f);
	return p;
}

/* the uAPI whose kernel copy this row shows: "g1", "g3", or NULL (skip) */
static const char *race_uapi(void)
{
	if (live_promised("CONVERSIONS"))
		return "g1";
	if (live_promised("G3"))
		return "g3";
	return NULL;
}

/* policy_toctou records so far */
static json_object *toctou_records(const char *out)
{
	json_object *recs = live_read_ndjson(out);

	return recs ? live_filter(recs, "event", "policy_toctou") : NULL;
}

/* the attach record's state of the programs that see the kernel's copy */
static void show_checkers(const char *out)
{
	json_object *recs = live_read_ndjson(out), *att, *progs;
	size_t i;

	att = recs ? live_filter(recs, "attach", NULL) : NULL;
	if (!att || !json_object_array_length(att) ||
	    !json_object_object_get_ex(json_object_array_get_idx(att, 0), "programs", &progs))
		return;
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *p = json_object_array_get_idx(progs, i);
		const char *name = live_get_str(p, "program");

		if (!strcmp(name, "gmt_tp_setattr") || strstr(name, "_g3_set") ||
		    !strcmp(name, "gmt_pol_lsm"))
			print_message("  %s: %s\n", name, json_object_to_json_string(p));
	}
}

static void run_race(bool want_kill)
{
	const char *out = live_tmp(want_kill ? "toctou-kill.json" : "toctou.json");
	const char *err = live_tmp(want_kill ? "toctou-kill.err" : "toctou.err");
	const char *uapi = race_uapi();
	const char *argv[] = { live_bin("gmemtrace"), "enforce", "--policy", write_policy(want_kill),
			       "-f", "json", "-o", out, NULL };
	const char *wl_out = live_tmp(want_kill ? "race-kill-wl.json" : "race-wl.json");
	const char *wl[] = { live_bin("gmem-workload"), "--uapi", uapi ? uapi : "g1",
			     "--conversions", "0", "--gmem-size", "64K", "--race", RACE_CALLS,
			     "--json-out", wl_out, "--in-place", NULL };
	json_object *t = NULL, *r;
	int tries, rc = 0, n = 0;
	pid_t pid;

	if (!uapi) {
		print_message("SKIP: no kernel copy to compare here (needs conversions=yes for "
			      "G1 or g3=yes for G3)\n");
		skip();
	}
	if (!strcmp(uapi, "g1"))
		wl[11] = NULL;	/* --in-place is G3's */
	if (!live_require_tracing())
		skip();
	pid = live_spawn((char *const *)argv, NULL, err);
	assert_true(pid > 0);
	if (!live_wait_attached(out)) {
		live_dump(err, 40);
		fail_msg("enforce did not attach");
	}
	for (tries = 1; tries <= MAX_TRIES; tries++) {
		rc = live_run((char *const *)wl, NULL, NULL, 120);
		usleep(500000);	/* the records reach the file */
		t = toctou_records(out);
		n = t ? (int)json_object_array_length(t) : 0;
		if (n)
			break;
	}
	kill(pid, SIGINT);
	assert_int_equal(live_wait(pid, 30), 0);
	print_message("%s race: %d policy_toctou record(s) after %d run(s) of %s conversions\n",
		      uapi, n, tries > MAX_TRIES ? MAX_TRIES : tries, RACE_CALLS);
	if (!n) {
		json_object *doc = live_read_json(wl_out), *race;

		/* what could not compare: the check's programs, the hook's view */
		show_checkers(out);
		if (doc && json_object_object_get_ex(doc, "race", &race))
			print_message("last run's race: %s\n", json_object_to_json_string(race));
		live_dump(err, 20);
	}
	if (!n)
		fail_msg("the race was never hit in %d runs of %s conversions", MAX_TRIES,
			 RACE_CALLS);
	r = json_object_array_get_idx(t, 0);
	assert_string_equal(live_get_str(r, "gen"), !strcmp(uapi, "g1") ? "G1" : "G3");
	assert_string_equal(live_get_str(r, "mode"), "enforce");
	/* the hook let 4K through (the default), the kernel converted 8K */
	assert_true(live_is_null(r, "rule_id"));
	assert_string_equal(live_get_str(r, "action"), "allow");
	assert_int_equal(live_get_int(r, "size"), 4096);
	assert_int_equal(live_get_int(r, "kernel_size"), 8192);
	assert_int_equal(live_get_int(r, !strcmp(uapi, "g1") ? "kernel_gpa" : "kernel_gmem_offset"),
			 live_get_int(r, !strcmp(uapi, "g1") ? "gpa" : "gmem_offset"));
	assert_true(json_object_get_boolean(json_object_object_get(r, "killed")) == want_kill);
	if (want_kill)
		assert_int_equal(rc, 128 + SIGKILL);	/* the racing run died */
	else
		assert_int_equal(rc, 0);
}

static void test_toctou_reported(void **state)
{
	run_race(false);
}

static void test_toctou_kill(void **state)
{
	run_race(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_toctou_reported, live_teardown),
		cmocka_unit_test_teardown(test_toctou_kill, live_teardown),
	};

	return cmocka_run_group_tests_name("live_toctou", tests, NULL, NULL);
}
