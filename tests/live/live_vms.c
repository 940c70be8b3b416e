// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live tests of VM identity on a real host: VMs created and destroyed in
 * sequence and in parallel by several processes, more VMs than stats slots,
 * thousands of forks before the workload, and gmemtrace's own probe VMs.
 * Every conversion must be attributed to its own VM (pid, fd, identity),
 * never to a dead one that had the same struct kvm address.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define NR_RUNS 7	/* 2 parallel chains of 3 workloads, then one without guest_memfd */

/* live_tmp() removes the file: each path is made once */
static const char *wl_json(int i)
{
	static char paths[NR_RUNS][512];

	if (!paths[i][0]) {
		char name[32];

		snprintf(name, sizeof(name), "wl%d.json", i);
		snprintf(paths[i], sizeof(paths[i]), "%s", live_tmp(name));
	}
	return paths[i];
}

/*
 * The churn script: two chains of three workloads run side by side (VMs
 * destroyed and created interleaved, kernel addresses reused), then one
 * whose guest_memfd create fails, so its memslot binds none: its G1 GPAs
 * must never be translated into a dead VM's guest_memfd.
 */
static void churn_script(char *buf, size_t len)
{
	const char *wl = live_bin("gmem-workload");
	const char *paths[NR_RUNS];
	int i;

	for (i = 0; i < NR_RUNS; i++)
		paths[i] = wl_json(i);
	snprintf(buf, len,
		 "(%1$s --vms 2 --conversions 3 --json-out %2$s && "
		 " %1$s --vms 3 --conversions 2 --json-out %3$s && "
		 " %1$s --vms 1 --conversions 4 --json-out %4$s) & "
		 "(%1$s --vms 2 --conversions 2 --json-out %5$s && "
		 " %1$s --vms 1 --conversions 3 --json-out %6$s && "
		 " %1$s --vms 2 --conversions 2 --json-out %7$s) & wait; "
		 "%1$s --vms 1 --gmem-flags 0x40000000 --uapi g1 --conversions 4 --json-out %8$s",
		 wl, paths[0], paths[1], paths[2], paths[3], paths[4], paths[5], paths[6]);
}

static json_object *find_vm_create(json_object *creates, long long pid, long long fd)
{
	size_t i;

	for (i = 0; i < json_object_array_length(creates); i++) {
		json_object *c = json_object_array_get_idx(creates, i);

		if (live_get_int(c, "pid") == pid && live_get_int(c, "ret") == fd)
			return c;
	}
	return NULL;
}

static void test_vm_churn_trace(void **state)
{
	const char *out = live_tmp("churn.jsonl"), *err = live_tmp("churn.err");
	json_object *recs, *conv, *creates, *wls[NR_RUNS];
	long long ids[64];
	int nr_ids = 0, total_calls = 0, i;
	char script[8192];

	if (!live_require_tracing())
		skip();
	churn_script(script, sizeof(script));
	recs = live_gmemtrace_script("trace", script, out, err, 120, NULL);
	conv = live_filter(recs, "event", "convert");
	creates = live_filter(recs, "event", "vm_create");

	for (i = 0; i < NR_RUNS; i++) {
		json_object *vms, *calls;
		long long pid;
		size_t v, c;

		wls[i] = live_read_json(wl_json(i));
		assert_non_null(wls[i]);
		pid = live_get_int(wls[i], "pid");
		assert_true(json_object_object_get_ex(wls[i], "vms", &vms));
		assert_true(json_object_object_get_ex(wls[i], "calls", &calls));
		for (v = 0; v < json_object_array_length(vms); v++) {
			json_object *vm = json_object_array_get_idx(vms, v), *cr;
			long long fd = live_get_int(vm, "vm_fd"), id = -1;
			char label[32];
			int seen = 0;

			/* its own vm_create names it, not a dead VM at its address */
			snprintf(label, sizeof(label), "%lld-%lld", pid, fd);
			cr = find_vm_create(creates, pid, fd);
			assert_non_null(cr);
			assert_string_equal(live_get_str(cr, "vm"), label);
			id = live_get_int(cr, "vm_id");
			for (c = 0; c < json_object_array_length(calls); c++) {
				json_object *call = json_object_array_get_idx(calls, c);
				size_t e;
				int match = 0;

				if (live_get_int(call, "vm") != (long long)v ||
				    live_has(call, "skipped"))
					continue;
				total_calls++;
				for (e = 0; e < json_object_array_length(conv); e++) {
					json_object *ev = json_object_array_get_idx(conv, e);
					const char *gen = live_get_str(ev, "gen");
					long long start;

					if (live_get_int(ev, "tid") != live_get_int(call, "tid") ||
					    live_get_int(ev, "fd") != live_get_int(call, "fd") ||
					    live_get_int(ev, "ret") != live_get_int(call, "ret") ||
					    gen[1] - '0' != live_get_int(call, "gen"))
						continue;
					start = !strcmp(gen, "G1") ? live_get_int(ev, "gpa") :
								     live_get_int(ev, "gmem_offset");
					if (start != live_get_int(call, "start") ||
					    strcmp(live_get_str(ev, "dir"), live_get_str(call, "dir")))
						continue;
					match++;
					/* attributed to this VM: name and identity */
					assert_string_equal(live_get_str(ev, "vm"), label);
					assert_int_equal(live_get_int(ev, "vm_id"), id);
					/* a VM without guest_memfd: no translation at all */
					if (!live_has(vm, "gmem_ino"))
						assert_false(live_has(ev, "gmem_ino"));
					else if (!strcmp(gen, "G1"))
						assert_int_equal(live_get_int(ev, "gmem_ino"),
								 live_get_int(vm, "gmem_ino"));
				}
				assert_int_equal(match, 1);
				seen++;
			}
			assert_true(seen > 0);
			/* identities are never shared between two VMs */
			for (c = 0; c < (size_t)nr_ids; c++)
				assert_true(ids[c] != id);
			if (nr_ids < 64)
				ids[nr_ids++] = id;
		}
	}
	assert_int_equal((int)json_object_array_length(conv), total_calls);
	print_message("churn: %d VMs in %d processes, %d conversions, each on its own VM\n",
		      nr_ids, NR_RUNS, total_calls);
	/* where the kernel's release path can be seen, every VM's identity
	 * ends there, once */
	if (live_promised("FENTRY") || live_promised("KPROBE")) {
		json_object *gone = live_filter(recs, "vm_gone", NULL);
		int released = 0, k;
		size_t g;

		for (g = 0; g < json_object_array_length(gone); g++) {
			json_object *r = json_object_array_get_idx(gone, g);

			for (k = 0; k < nr_ids; k++)
				if (live_get_int(r, "vm_id") == ids[k] &&
				    !strcmp(live_get_str(r, "how"), "released"))
					released++;
		}
		print_message("released: %d of %d VMs\n", released, nr_ids);
		assert_int_equal(released, nr_ids);
		json_object_put(gone);
	}
	for (i = 0; i < NR_RUNS; i++)
		json_object_put(wls[i]);
	json_object_put(conv);
	json_object_put(creates);
	json_object_put(recs);
}

/* calls the workload really issued (a kernel without guest_memfd skips G2/G3) */
static int issued_calls(json_object *wl)
{
	json_object *calls;
	size_t c;
	int n = 0;

	assert_true(json_object_object_get_ex(wl, "calls", &calls));
	for (c = 0; c < json_object_array_length(calls); c++)
		n += !live_has(json_object_array_get_idx(calls, c), "skipped");
	return n;
}

/* sum of a stat record's rows */
static void stat_sums(json_object *recs, long long *interval_sum, long long *uncounted,
		      int *vm_ids, long long *ids, int max_ids)
{
	size_t i, r;

	*interval_sum = 0;
	*uncounted = 0;
	*vm_ids = 0;
	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *rec = json_object_array_get_idx(recs, i), *rows, *cnt;

		if (strcmp(live_get_str(rec, "type"), "stat"))
			continue;
		assert_true(json_object_object_get_ex(rec, "rows", &rows));
		assert_true(json_object_object_get_ex(rec, "counters", &cnt));
		*uncounted = live_get_int(cnt, "conversions_not_counted");
		for (r = 0; r < json_object_array_length(rows); r++) {
			json_object *row = json_object_array_get_idx(rows, r), *iv;
			long long id = live_get_int(row, "vm_id");
			int k;

			assert_true(json_object_object_get_ex(row, "interval", &iv));
			*interval_sum += live_get_int(iv, "count");
			for (k = 0; k < *vm_ids && ids[k] != id; k++)
				;
			if (k == *vm_ids && *vm_ids < max_ids)
				ids[(*vm_ids)++] = id;
		}
	}
}

/* stat keeps one row per VM across churn: counts per VM equal the workload's */
static void test_vm_churn_stat(void **state)
{
	const char *out = live_tmp("churn-stat.jsonl"), *err = live_tmp("churn-stat.err");
	long long sum, uncounted, ids[64];
	int nr_ids, i, calls = 0, vms = 0;
	json_object *recs, *last = NULL;
	char script[8192];
	size_t k;

	if (!live_require_tracing())
		skip();
	churn_script(script, sizeof(script));
	recs = live_gmemtrace_script("stat", script, out, err, 120, "0.2", NULL);
	for (i = 0; i < NR_RUNS; i++) {
		json_object *wl = live_read_json(wl_json(i)), *a;

		assert_non_null(wl);
		calls += issued_calls(wl);
		assert_true(json_object_object_get_ex(wl, "vms", &a));
		vms += json_object_array_length(a);
		json_object_put(wl);
	}
	stat_sums(recs, &sum, &uncounted, &nr_ids, ids, 64);
	assert_int_equal(sum, calls);
	assert_int_equal(uncounted, 0);
	/* one row per VM: never merged because a dead VM had the address */
	assert_int_equal(nr_ids, vms);
	/* once everything exited, no VM is left: rows follow live VMs */
	for (k = 0; k < json_object_array_length(recs); k++) {
		json_object *r = json_object_array_get_idx(recs, k);

		if (!strcmp(live_get_str(r, "type"), "stat"))
			last = r;
	}
	assert_non_null(last);
	assert_int_equal(live_get_int(last, "live_vms"), 0);
	print_message("stat: %d VMs, %lld conversions counted of %d\n", nr_ids, sum, calls);
	json_object_put(recs);
}

/*
 * More VMs in sequence than stats slots (256): slots are recycled at every
 * interval. Paced (a VM pair each ~20 ms, intervals of 0.2 s: a few dozen VMs
 * an interval), every conversion is counted; VMs that come and go faster than
 * an interval recycles can still fill the slots, and then what is not counted
 * is counted as such (test_many_vms_at_once).
 */
static void test_many_vms_sequence(void **state)
{
	const char *out = live_tmp("many.jsonl"), *err = live_tmp("many.err");
	long long sum, uncounted, ids[512];
	int nr_ids;
	json_object *recs;
	char script[1024];

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt 150 ]; do %s --vms 2 --conversions 2 --uapi g1 "
		 "--gmem-size 64K >/dev/null || exit 1; i=$((i+1)); sleep 0.02; done",
		 live_bin("gmem-workload"));
	recs = live_gmemtrace_script("stat", script, out, err, 300, "0.2", NULL);
	stat_sums(recs, &sum, &uncounted, &nr_ids, ids, 512);
	print_message("300 VMs in sequence: %lld of 600 conversions counted, %lld not, %d VMs\n",
		      sum, uncounted, nr_ids);
	if (sum != 600)
		live_dump(err, 20);	/* a sweep that failed says why there */
	assert_int_equal(sum, 600);
	assert_int_equal(uncounted, 0);
	assert_int_equal(nr_ids, 300);
	json_object_put(recs);
}

/* More VMs alive at once than slots: what is not counted is said. */
static void test_many_vms_at_once(void **state)
{
	const char *out = live_tmp("many1.jsonl"), *err = live_tmp("many1.err");
	const char *txt = live_tmp("many1.txt");
	long long sum, uncounted, ids[512];
	int nr_ids, rc;
	json_object *recs;

	if (!live_require_tracing())
		skip();
	{
		char *argv[] = { (char *)live_bin("gmemtrace"), "stat", "-f", "json", "-o",
				 (char *)out, "--", (char *)live_bin("gmem-workload"), "--vms", "300",
				 "--conversions", "2", "--uapi", "g1", "--gmem-size", "64K", NULL };

		rc = live_run(argv, NULL, err, 300);
	}
	if (rc != 0)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	stat_sums(recs, &sum, &uncounted, &nr_ids, ids, 512);
	print_message("300 VMs at once: %lld counted + %lld not counted of 600\n", sum, uncounted);
	assert_int_equal(sum + uncounted, 600);
	assert_true(uncounted > 0);
	json_object_put(recs);
	/* text says it too */
	{
		char *argv[] = { (char *)live_bin("gmemtrace"), "stat", "-o", (char *)txt, "--",
				 (char *)live_bin("gmem-workload"), "--vms", "300", "--conversions",
				 "2", "--uapi", "g1", "--gmem-size", "64K", NULL };

		assert_int_equal(live_run(argv, NULL, err, 300), 0);
	}
	assert_true(live_wait_for(txt, "NOT COUNTED", 1));
}

/* 5000 forks of the traced shell, then the workload: still traced. */
static void test_forks_then_workload(void **state)
{
	const char *out = live_tmp("forks.jsonl"), *err = live_tmp("forks.err");
	const char *wl_json = live_tmp("forks-wl.json");
	json_object *recs, *conv, *sum, *cnt, *wl;
	char script[1024];

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt 5000 ]; do (:); i=$((i+1)); done; "
		 "%s --conversions 2 --json-out %s", live_bin("gmem-workload"), wl_json);
	recs = live_gmemtrace_script("trace", script, out, err, 300, NULL);
	conv = live_filter(recs, "event", "convert");
	wl = live_read_json(wl_json);
	assert_non_null(wl);
	assert_int_equal(json_object_array_length(conv), issued_calls(wl));
	assert_true(issued_calls(wl) >= 2);	/* 2 rounds of G1 at least */
	json_object_put(wl);
	sum = live_filter(recs, "summary", NULL);
	assert_int_equal(json_object_array_length(sum), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(sum, 0), "counters", &cnt));
	assert_int_equal(live_get_int(cnt, "followed_pids_full"), 0);
	json_object_put(sum);
	json_object_put(conv);
	json_object_put(recs);
}

/* A fork-follow map that fills is counted and said, in JSON and text. */
static void test_follow_map_full(void **state)
{
	const char *out = live_tmp("full.jsonl"), *txt = live_tmp("full.txt");
	const char *err = live_tmp("full.err");
	const char *script = "i=0; while [ $i -lt 20 ]; do sleep 1 & i=$((i+1)); done; wait";
	json_object *recs, *sum, *cnt;
	char *jargv[] = { (char *)live_bin("gmemtrace"), "trace", "-f", "json", "--follow-max", "8",
			  "-o", (char *)out, "--", "/bin/sh", "-c", (char *)script, NULL };
	char *targv[] = { (char *)live_bin("gmemtrace"), "trace", "--follow-max", "8", "-o",
			  (char *)txt, "--", "/bin/sh", "-c", (char *)script, NULL };

	if (!live_require_tracing())
		skip();
	assert_int_equal(live_run(jargv, NULL, err, 60), 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	sum = live_filter(recs, "summary", NULL);
	assert_int_equal(json_object_array_length(sum), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(sum, 0), "counters", &cnt));
	/* the shell and 7 sleeps fit: 13 children could not be followed */
	print_message("followed_pids_full: %lld\n", live_get_int(cnt, "followed_pids_full"));
	assert_int_equal(live_get_int(cnt, "followed_pids_full"), 13);
	json_object_put(sum);
	json_object_put(recs);
	assert_int_equal(live_run(targv, NULL, err, 60), 0);
	assert_true(live_wait_for(txt, "followed_pids_full 13", 1));
}

/* gmemtrace's own probe VMs never show in another gmemtrace's trace */
static void test_own_probes_invisible(void **state)
{
	const char *out = live_tmp("self.jsonl"), *err = live_tmp("self.err");
	json_object *recs, *ev;
	char *targv[] = { (char *)live_bin("gmemtrace"), "trace", "-f", "json", "-c", "gmemtrace",
			  "-o", (char *)out, NULL };
	char *fargv[] = { (char *)live_bin("gmemtrace"), "features", NULL };
	pid_t t;

	if (!live_require_tracing())
		skip();
	t = live_spawn(targv, NULL, err);
	assert_true(live_wait_attached(out));
	/* features creates a throw-away VM and issues every ioctl on it */
	assert_int_equal(live_run(fargv, NULL, NULL, 120), 0);
	kill(t, SIGINT);
	assert_int_equal(live_wait(t, 30), 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	ev = live_filter(recs, "event", NULL);
	if (json_object_array_length(ev))
		live_dump(out, 10);
	assert_int_equal(json_object_array_length(ev), 0);
	json_object_put(ev);
	json_object_put(recs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vm_churn_trace, live_teardown),
		cmocka_unit_test_teardown(test_vm_churn_stat, live_teardown),
		cmocka_unit_test_teardown(test_many_vms_sequence, live_teardown),
		cmocka_unit_test_teardown(test_many_vms_at_once, live_teardown),
		cmocka_unit_test_teardown(test_forks_then_workload, live_teardown),
		cmocka_unit_test_teardown(test_follow_map_full, live_teardown),
		cmocka_unit_test_teardown(test_own_probes_invisible, live_teardown),
	};

	return cmocka_run_group_tests_name("live_vms", tests, NULL, NULL);
}
