// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: guest-initiated conversions. gmem-workload --guest runs a real guest
 * on a vCPU (nested KVM in the VM suite) that asks for conversions with
 * KVM_HC_MAP_GPA_RANGE and, with --guest-fault, through a memory-fault exit;
 * the workload serves each with a G1 conversion. gmemtrace must report every
 * request once, with its kind, range and direction, the conversions served
 * for it, and a round trip at least as long as the workload itself measured.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_util.h"

/* run argv (a gmemtrace over a guest workload writing wl_json); exit 0; the
 * workload's account and its guest record (the test cannot run without a guest) */
static json_object *run_guest(const char *const *argv, const char *err, const char *wl_json,
			      json_object **guest)
{
	json_object *wl;
	int rc = live_run((char *const *)argv, NULL, err, 180);

	if (rc)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	wl = live_read_json(wl_json);
	assert_non_null(wl);
	assert_true(json_object_object_get_ex(wl, "guest", guest));
	if (!live_is_null(*guest, "error"))
		live_cannot_run("GUEST", "the guest could not run here: %s",
				live_get_str(*guest, "error"));
	return wl;
}

static void test_guest_requests(void **state)
{
	const char *out = live_tmp("guest.jsonl"), *err = live_tmp("guest.err");
	const char *wl_json = live_tmp("guest-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", out, "--",
			       live_bin("gmem-workload"), "--guest", "8", "--guest-fault",
			       "--json-out", wl_json, NULL };
	json_object *wl, *recs, *guest, *reqs, *ev, *calls;
	size_t i, n;

	if (!live_require_tracing())
		skip();
	wl = run_guest(argv, err, wl_json, &guest);
	recs = live_read_ndjson(out);
	assert_true(json_object_object_get_ex(guest, "requests", &reqs));
	assert_true(json_object_object_get_ex(wl, "calls", &calls));
	n = json_object_array_length(reqs);
	/* 8 hypercalls, then the fault case: one more hypercall and the fault
	 * itself where the kernel converts (fewer where G1 is not there) */
	assert_int_equal(n, live_get_int(guest, "requests_total"));
	assert_true(n >= 9);
	ev = live_filter(recs, "event", "guest_request");
	assert_int_equal(json_object_array_length(ev), n);
	for (i = 0; i < n; i++) {
		json_object *q = json_object_array_get_idx(reqs, i);
		json_object *e = json_object_array_get_idx(ev, i);
		long long served = 0, wl_ns;
		size_t c;

		assert_string_equal(live_get_str(e, "kind"), live_get_str(q, "kind"));
		assert_int_equal(live_get_int(e, "gpa"), live_get_int(q, "gpa"));
		assert_string_equal(live_get_str(e, "dir"), live_get_str(q, "dir"));
		if (!strcmp(live_get_str(q, "kind"), "map_gpa_range"))
			assert_int_equal(live_get_int(e, "size"), live_get_int(q, "npages") * 4096);
		for (c = 0; c < json_object_array_length(calls); c++)
			if (live_get_int(json_object_array_get_idx(calls, c), "guest_request") ==
			    (long long)i)
				served++;
		assert_int_equal(live_get_int(e, "conversions"), served);
		assert_true(live_get_int(e, "latency_ns") >= live_get_int(e, "convert_ns"));
		if (served)
			assert_true(live_get_int(e, "convert_ns") > 0);
		/* the kernel saw the exit before the VMM and the re-entry after it */
		wl_ns = live_get_int(q, "reenter_ns") - live_get_int(q, "exit_ns");
		assert_true(live_get_int(e, "latency_ns") >= wl_ns);
	}
	print_message("%zu guest requests traced, each with its round trip\n", n);
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

/*
 * A VMM that exits while its guest waits for an answer: the open request is
 * reported, incomplete, when the vCPU thread exits (never dropped).
 */
static void test_guest_request_left_open(void **state)
{
	const char *out = live_tmp("guest-open.jsonl"), *err = live_tmp("guest-open.err");
	const char *wl_json = live_tmp("guest-open-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", out, "--",
			       live_bin("gmem-workload"), "--guest", "2", "--guest-abandon",
			       "--json-out", wl_json, NULL };
	json_object *wl, *recs, *guest, *ev, *e;

	if (!live_require_tracing())
		skip();
	wl = run_guest(argv, err, wl_json, &guest);
	assert_true(json_object_get_boolean(json_object_object_get(guest, "abandoned")));
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	ev = live_filter(recs, "event", "guest_request");
	assert_int_equal(json_object_array_length(ev), 1);
	e = json_object_array_get_idx(ev, 0);
	assert_false(json_object_get_boolean(json_object_object_get(e, "complete")));
	assert_string_equal(live_get_str(e, "end"), "thread_exit");
	assert_int_equal(live_get_int(e, "conversions"), 0);
	assert_true(live_get_int(e, "latency_ns") > 0);
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

/* Tracing that ends while a request is open reports it, incomplete. */
static void test_guest_request_open_at_end(void **state)
{
	const char *out = live_tmp("guest-end.jsonl"), *err = live_tmp("guest-end.err");
	const char *wl_err = live_tmp("guest-end-wl.err"), *wl_json = live_tmp("guest-end-wl.json");
	const char *wargv[] = { live_bin("gmem-workload"), "--guest", "2", "--guest-abandon",
				"--wait-signal", "--hold", "30", "--json-out", wl_json, NULL };
	json_object *recs, *ev, *e, *wl, *guest;
	char pid[16];
	pid_t w, t;

	if (!live_require_tracing())
		skip();
	w = live_spawn((char *const *)wargv, NULL, wl_err);
	assert_true(live_wait_for(wl_err, "ready", LIVE_START_S));
	snprintf(pid, sizeof(pid), "%d", w);
	{
		const char *targv[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", out,
					"-p", pid, NULL };

		t = live_spawn((char *const *)targv, NULL, err);
	}
	assert_true(live_wait_attached(out));
	kill(w, SIGUSR1);	/* the guest runs, its first request is abandoned */
	assert_true(live_wait_for(wl_err, "holding", LIVE_START_S));
	kill(t, SIGINT);	/* tracing ends with the request still open */
	assert_int_equal(live_wait(t, 30), 0);
	kill(w, SIGTERM);
	assert_int_equal(live_wait(w, 30), 0);
	wl = live_read_json(wl_json);
	assert_non_null(wl);
	assert_true(json_object_object_get_ex(wl, "guest", &guest));
	if (!live_is_null(guest, "error"))
		live_cannot_run("GUEST", "the guest could not run here: %s",
				live_get_str(guest, "error"));
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	ev = live_filter(recs, "event", "guest_request");
	assert_int_equal(json_object_array_length(ev), 1);
	e = json_object_array_get_idx(ev, 0);
	assert_false(json_object_get_boolean(json_object_object_get(e, "complete")));
	assert_string_equal(live_get_str(e, "end"), "tracing_ended");
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_guest_requests, live_teardown),
		cmocka_unit_test_teardown(test_guest_request_left_open, live_teardown),
		cmocka_unit_test_teardown(test_guest_request_open_at_end, live_teardown),
	};

	return cmocka_run_group_tests_name("live_guest", tests, NULL, NULL);
}
