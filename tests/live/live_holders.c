// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace trace --holders` against gmem-workload's io_uring pins of
 * a real guest_memfd: every pinned page is one holder_start with the
 * workload's pid, comm, ring fd, buffer index, guest_memfd inode and offset,
 * and a symbolized user stack through the workload's own do_pin
 * (tools/workload/pins.c); each ends on unregister, or on process exit when
 * the workload is killed while holding. Records are filtered by pid: other
 * KVM workloads may run at the same time.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_OFF		0x2000
#define PIN_PAGES	3

/* each pinned page once, with everything the workload knows about it */
static void check_starts(json_object *starts, json_object *wl)
{
	json_object *vms, *pins;
	long long ino, ring_fd;
	bool seen[PIN_PAGES] = { 0 };
	size_t i;

	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	assert_true(json_object_object_get_ex(wl, "pins", &pins));
	ino = live_get_int(json_object_array_get_idx(vms, 0), "gmem_ino");
	ring_fd = live_get_int(pins, "ring_fd");
	assert_int_equal(json_object_array_length(starts), PIN_PAGES);
	for (i = 0; i < PIN_PAGES; i++) {
		json_object *h = json_object_array_get_idx(starts, i);
		long long idx = live_get_int(h, "index");

		assert_string_equal(live_get_str(h, "comm"), "gmem-workload");
		assert_string_equal(live_get_str(h, "kind"), "io_uring_buffer");
		assert_int_equal(live_get_int(h, "ring_fd"), ring_fd);
		assert_int_equal(live_get_int(h, "gmem_ino"), ino);
		assert_true(idx >= 0 && idx < PIN_PAGES && !seen[idx]);
		seen[idx] = true;
		assert_int_equal(live_get_int(h, "gmem_offset"), PIN_OFF + idx * PAGE);
		assert_int_equal(live_get_int(h, "size"), PAGE);
		if (!live_stack_has(h, "do_pin+"))
			fail_msg("holder %lld: no do_pin frame in its stack: %s", idx,
				 json_object_to_json_string(h));
	}
}

/* every start has its end, with the given reason */
static void check_ends(json_object *starts, json_object *ends, const char *how)
{
	size_t i, j;

	assert_int_equal(json_object_array_length(ends), json_object_array_length(starts));
	for (i = 0; i < json_object_array_length(starts); i++) {
		long long id = live_get_int(json_object_array_get_idx(starts, i), "holder_id");
		bool found = false;

		for (j = 0; j < json_object_array_length(ends); j++) {
			json_object *e = json_object_array_get_idx(ends, j);

			if (live_get_int(e, "holder_id") != id)
				continue;
			assert_string_equal(live_get_str(e, "end"), how);
			found = true;
		}
		assert_true(found);
	}
}

static const char *pin_off(void)
{
	static char buf[24];

	snprintf(buf, sizeof(buf), "%d", PIN_OFF);
	return buf;
}

/* a guest_memfd that io_uring can pin (none on kernels without guest_memfd) */
static bool pinnable(void)
{
	const char *out = live_tmp("holders-probe.json");
	const char *argv[] = { live_bin("gmem-workload"), "--vm-type", "default", "--conversions",
			       "0", "--touch", "--pin", "1", "--json-out", out, NULL };
	json_object *wl;
	bool ok;

	if (live_run((char *const *)argv, NULL, NULL, 60))
		return false;
	wl = live_read_json(out);
	ok = wl && live_get_int_or(json_object_object_get(wl, "pins"), "register_ret", -1) == 0;
	json_object_put(wl);
	return ok;
}

static void test_holders_unregister(void **state)
{
	const char *out = live_tmp("holders.jsonl"), *wlj = live_tmp("holders-wl.json");
	char pins[8];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--holders", "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--touch", "--pin", pins, "--pin-offset",
			       pin_off(), "--hold", "1", "--json-out", wlj, NULL };
	json_object *recs, *wl, *starts, *ends;
	long long pid;

	if (!live_require_tracing())
		return;
	snprintf(pins, sizeof(pins), "%d", PIN_PAGES);
	assert_int_equal(live_run((char *const *)argv, NULL, live_tmp("holders.err"), 120), 0);
	wl = live_read_json(wlj);
	recs = live_read_ndjson(out);
	assert_non_null(wl);
	assert_non_null(recs);
	if (live_get_int_or(json_object_object_get(wl, "pins"), "register_ret", -1) != 0)
		live_cannot_run("GMEM", "io_uring cannot pin guest_memfd pages here");
	pid = live_get_int(wl, "pid");
	starts = live_events_of_pid(recs, "holder_start", pid);
	ends = live_events_of_pid(recs, "holder_end", pid);
	check_starts(starts, wl);
	check_ends(starts, ends, "unregister");
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
	json_object_put(wl);
}

/* killed while holding: the kernel drops the pins at exit, so do the holders */
static void test_holders_exit(void **state)
{
	const char *out = live_tmp("holders-exit.jsonl"), *err = live_tmp("holders-exit.err");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--holders", "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--touch", "--pin", "2", "--hold", "60", NULL };
	json_object *recs, *starts, *ends;
	char line[256];
	long long pid = -1;
	pid_t tracer;
	FILE *f;

	if (!live_require_tracing())
		return;
	if (!pinnable())
		live_cannot_run("GMEM", "io_uring cannot pin guest_memfd pages here");
	tracer = live_spawn((char *const *)argv, NULL, err);
	assert_true(tracer > 0);
	if (!live_wait_for(err, "holding ", LIVE_START_S)) {
		live_dump(err, 20);
		fail_msg("gmem-workload did not reach its hold");
	}
	f = fopen(err, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "holding %lld", &pid) == 1)
			break;
	fclose(f);
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	live_wait(tracer, 60);	/* the workload was killed: its status is not ours */
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	starts = live_events_of_pid(recs, "holder_start", pid);
	ends = live_events_of_pid(recs, "holder_end", pid);
	assert_int_equal(json_object_array_length(starts), 2);
	check_ends(starts, ends, "process_exit");
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_holders_unregister, live_teardown),
		cmocka_unit_test_teardown(test_holders_exit, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
