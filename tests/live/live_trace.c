// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: gmemtrace trace against gmem-workload on the running kernel. Every
 * conversion ioctl the workload says it issued must appear exactly once, with
 * the same generation, cmd, VM, fd, thread, direction, range and return value.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "live_util.h"

#define MAX_KEYS 4096

struct run {
	json_object *wl;	/* the workload's own account */
	json_object *recs;	/* the tracer's records */
	int trace_rc;
	const char *trace_out, *trace_err;
};

static void run_free(struct run *r)
{
	json_object_put(r->wl);
	json_object_put(r->recs);
}

/* trace -f json [targs] -- gmem-workload --json-out W [wargs] */
static void traced_workload(struct run *r, const char *const *targs, const char *const *wargs)
{
	const char *argv[64];
	const char *wl_json = live_tmp("workload.json");
	int n = 0, i;

	r->trace_out = live_tmp("trace.jsonl");
	r->trace_err = live_tmp("trace.err");
	argv[n++] = live_bin("gmemtrace");
	argv[n++] = "trace";
	argv[n++] = "-f";
	argv[n++] = "json";
	argv[n++] = "-o";
	argv[n++] = r->trace_out;
	for (i = 0; targs && targs[i]; i++)
		argv[n++] = targs[i];
	argv[n++] = "--";
	argv[n++] = live_bin("gmem-workload");
	argv[n++] = "--json-out";
	argv[n++] = wl_json;
	for (i = 0; wargs && wargs[i]; i++)
		argv[n++] = wargs[i];
	argv[n] = NULL;
	r->trace_rc = live_run((char *const *)argv, NULL, r->trace_err, 120);
	r->wl = live_read_json(wl_json);
	r->recs = live_read_ndjson(r->trace_out);
	if (r->trace_rc != 0 || !r->wl || !r->recs) {
		print_message("trace rc %d\n", r->trace_rc);
		live_dump(r->trace_err, 20);
	}
}

/* compare the workload's conversion calls with the tracer's convert events */
static int compare_conversions(json_object *wl, json_object *recs, int *ncalls)
{
	json_object *calls, *vms, *ev = live_filter(recs, "event", "convert");
	static char *a[MAX_KEYS], *b[MAX_KEYS];
	char key[256];
	int na = 0, nb = 0, diff, i;

	assert_true(json_object_object_get_ex(wl, "calls", &calls));
	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	assert_int_equal(live_get_int(wl, "calls_truncated"), 0);
	for (i = 0; i < (int)json_object_array_length(calls) && na < MAX_KEYS; i++) {
		json_object *c = json_object_array_get_idx(calls, i);

		if (!live_is_null(c, "skipped"))
			continue;	/* never issued: no guest_memfd to issue it on */
		live_call_key(c, vms, key, sizeof(key));
		a[na++] = strdup(key);
	}
	for (i = 0; i < (int)json_object_array_length(ev) && nb < MAX_KEYS; i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		live_event_key(e, key, sizeof(key));
		b[nb++] = strdup(key);
		/* the tracer names the VM the workload created */
		assert_int_equal(live_get_int(e, "vm_pid"), live_get_int(wl, "pid"));
		assert_int_equal(live_get_int(e, "pid"), live_get_int(wl, "pid"));
		assert_true(live_get_int(e, "latency_ns") > 0);
	}
	diff = live_multiset_diff(a, na, b, nb, true);
	for (i = 0; i < na; i++)
		free(a[i]);
	for (i = 0; i < nb; i++)
		free(b[i]);
	json_object_put(ev);
	*ncalls = na;
	return diff;
}

static json_object *summary_of(json_object *recs)
{
	json_object *s = live_filter(recs, "summary", NULL), *r;

	assert_int_equal(json_object_array_length(s), 1);
	r = json_object_get(json_object_array_get_idx(s, 0));
	json_object_put(s);
	return r;
}

static void test_every_conversion_once(void **state)
{
	const char *wargs[] = { "--conversions", "20", "--vms", "2", NULL };
	struct run r = { 0 };
	json_object *sum, *events;
	int ncalls;

	if (!live_require_tracing())
		skip();
	traced_workload(&r, NULL, wargs);
	assert_int_equal(r.trace_rc, 0);
	assert_non_null(r.wl);
	assert_int_equal(compare_conversions(r.wl, r.recs, &ncalls), 0);
	print_message("%d conversion ioctls issued, each traced exactly once\n", ncalls);
	assert_true(ncalls >= 40);	/* G1 alone gives 2 VMs x 20 */
	sum = summary_of(r.recs);
	assert_int_equal(live_get_int(sum, "lost"), 0);
	assert_true(json_object_object_get_ex(sum, "events", &events));
	assert_int_equal(live_get_int(events, "convert"), ncalls);
	assert_int_equal(live_get_int(sum, "command_status"), 0);
	json_object_put(sum);
	run_free(&r);
}

/* VM creation, guest_memfd creation, memslots and punches carry the same
 * facts the workload recorded, and G1 GPAs translate to gmem offsets. */
static void test_context_events(void **state)
{
	const char *wargs[] = { "--conversions", "4", "--vms", "2", "--punch", "3",
				"--uapi", "g1", NULL };
	struct run r = { 0 };
	json_object *vms, *ev, *calls, *punches;
	int i, j, gmem_ok = 0;

	if (!live_require_tracing())
		skip();
	traced_workload(&r, NULL, wargs);
	assert_int_equal(r.trace_rc, 0);
	assert_true(json_object_object_get_ex(r.wl, "vms", &vms));
	assert_int_equal(json_object_array_length(vms), 2);

	ev = live_filter(r.recs, "event", "vm_create");
	assert_int_equal(json_object_array_length(ev), 2);
	json_object_put(ev);

	ev = live_filter(r.recs, "event", "gmem_create");
	for (i = 0; i < 2; i++) {
		json_object *vm = json_object_array_get_idx(vms, i);
		bool found = false;

		for (j = 0; j < (int)json_object_array_length(ev); j++) {
			json_object *e = json_object_array_get_idx(ev, j);

			if (live_get_int(e, "vm_fd") != live_get_int(vm, "vm_fd") ||
			    live_get_int(e, "ret") != live_get_int(vm, "create_gmem_ret"))
				continue;
			found = true;
			if (live_get_int(vm, "create_gmem_ret") >= 0) {
				assert_int_equal(live_get_int(e, "gmem_ino"),
						 live_get_int(vm, "gmem_ino"));
				assert_int_equal(live_get_int(e, "size"),
						 live_get_int(vm, "gmem_size"));
				gmem_ok++;
			}
		}
		assert_true(found);
	}
	json_object_put(ev);

	ev = live_filter(r.recs, "event", "memslot");
	assert_int_equal(json_object_array_length(ev), 2);
	for (i = 0; i < 2; i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		assert_int_equal(live_get_int(e, "gpa"), 0x100000000LL);
	}
	json_object_put(ev);

	/* punches: one fallocate event per punch the workload did */
	if (gmem_ok) {
		assert_true(json_object_object_get_ex(r.wl, "punches", &punches));
		ev = live_filter(r.recs, "event", "fallocate");
		assert_int_equal(json_object_array_length(ev), json_object_array_length(punches));
		assert_int_equal(json_object_array_length(ev), 3 * gmem_ok);
		for (i = 0; i < (int)json_object_array_length(ev); i++)
			assert_int_equal(live_get_int(json_object_array_get_idx(ev, i), "mode"), 3);
		json_object_put(ev);

		/* G1 conversions name GPAs; the tracer maps them into the gmem */
		ev = live_filter(r.recs, "event", "convert");
		assert_true(json_object_object_get_ex(r.wl, "calls", &calls));
		for (i = 0; i < (int)json_object_array_length(ev); i++) {
			json_object *e = json_object_array_get_idx(ev, i);

			assert_false(live_is_null(e, "gmem_offset"));
			assert_int_equal(live_get_int(e, "gmem_offset"),
					 live_get_int(e, "gpa") - 0x100000000LL);
		}
		json_object_put(ev);
	} else {
		print_message("no guest_memfd on this kernel: punch and translation checks skipped\n");
	}
	run_free(&r);
}

/* -- CMD follows children: the workload runs under a shell */
static void test_command_children_followed(void **state)
{
	const char *trace_out = live_tmp("follow.jsonl"), *wl_json = live_tmp("follow-wl.json");
	char script[1024];
	const char *argv[12];
	json_object *wl, *recs;
	int ncalls, rc;

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script), "%s --conversions 5 --json-out %s >/dev/null",
		 live_bin("gmem-workload"), wl_json);
	argv[0] = live_bin("gmemtrace");
	argv[1] = "trace";
	argv[2] = "-f";
	argv[3] = "json";
	argv[4] = "-o";
	argv[5] = trace_out;
	argv[6] = "--";
	argv[7] = "/bin/sh";
	argv[8] = "-c";
	argv[9] = script;
	argv[10] = NULL;
	rc = live_run((char *const *)argv, NULL, NULL, 60);
	assert_int_equal(rc, 0);
	wl = live_read_json(wl_json);
	recs = live_read_ndjson(trace_out);
	assert_non_null(wl);
	assert_int_equal(compare_conversions(wl, recs, &ncalls), 0);
	assert_true(ncalls >= 5);
	json_object_put(wl);
	json_object_put(recs);
}

/* -p PID: a process started before the tracer; only its conversions, and the
 * tracer ends by itself once the process is gone */
static void test_pid_filter(void **state)
{
	const char *t_out = live_tmp("pid.jsonl"), *t_err = live_tmp("pid.err");
	const char *w1_json = live_tmp("pid-w1.json"), *w1_err = live_tmp("pid-w1.err");
	const char *w2_json = live_tmp("pid-w2.json");
	const char *w1[] = { live_bin("gmem-workload"), "--wait-signal", "--conversions", "6",
			     "--json-out", w1_json, NULL };
	const char *w2[] = { live_bin("gmem-workload"), "--conversions", "6", "--json-out",
			     w2_json, NULL };
	char pidbuf[16];
	const char *t[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", t_out, "-p",
			    pidbuf, NULL };
	json_object *wl, *recs, *ev;
	pid_t p1, tp;
	int ncalls, i;

	if (!live_require_tracing())
		skip();
	p1 = live_spawn((char *const *)w1, NULL, w1_err);
	assert_true(live_wait_for(w1_err, "ready", LIVE_START_S));
	snprintf(pidbuf, sizeof(pidbuf), "%d", p1);
	tp = live_spawn((char *const *)t, NULL, t_err);
	assert_true(live_wait_attached(t_out));
	/* another VMM doing the same thing must not show up */
	assert_int_equal(live_run((char *const *)w2, NULL, NULL, 30), 0);
	kill(p1, SIGUSR1);
	assert_int_equal(live_wait(p1, 30), 0);
	assert_int_equal(live_wait(tp, 10), 0);	/* ends once the process is gone */
	wl = live_read_json(w1_json);
	recs = live_read_ndjson(t_out);
	assert_non_null(wl);
	assert_int_equal(compare_conversions(wl, recs, &ncalls), 0);
	ev = live_filter(recs, "event", NULL);
	for (i = 0; i < (int)json_object_array_length(ev); i++)
		assert_int_equal(live_get_int(json_object_array_get_idx(ev, i), "pid"), p1);
	json_object_put(ev);
	json_object_put(wl);
	json_object_put(recs);
}

/* -c COMM, system-wide: a copy of the workload under another name is excluded */
static void test_comm_filter(void **state)
{
	const char *t_out = live_tmp("comm.jsonl"), *t_err = live_tmp("comm.err");
	const char *other = live_tmp("gmt-other-wl");
	const char *w1_json = live_tmp("comm-w1.json"), *w2_json = live_tmp("comm-w2.json");
	const char *t[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", t_out, "-c",
			    "gmem-workload", NULL };
	const char *w1[] = { live_bin("gmem-workload"), "--conversions", "5", "--json-out",
			     w1_json, NULL };
	const char *w2[] = { other, "--conversions", "5", "--json-out", w2_json, NULL };
	const char *cp[] = { "/bin/cp", live_bin("gmem-workload"), other, NULL };
	json_object *wl, *recs, *ev;
	int ncalls, i;
	pid_t tp;

	if (!live_require_tracing())
		skip();
	assert_int_equal(live_run((char *const *)cp, NULL, NULL, 10), 0);
	tp = live_spawn((char *const *)t, NULL, t_err);
	assert_true(live_wait_attached(t_out));
	assert_int_equal(live_run((char *const *)w2, NULL, NULL, 30), 0);
	assert_int_equal(live_run((char *const *)w1, NULL, NULL, 30), 0);
	kill(tp, SIGINT);
	assert_int_equal(live_wait(tp, 10), 0);
	wl = live_read_json(w1_json);
	recs = live_read_ndjson(t_out);
	assert_int_equal(compare_conversions(wl, recs, &ncalls), 0);
	ev = live_filter(recs, "event", NULL);
	for (i = 0; i < (int)json_object_array_length(ev); i++)
		assert_string_equal(live_get_str(json_object_array_get_idx(ev, i), "comm"),
				    "gmem-workload");
	json_object_put(ev);
	json_object_put(wl);
	json_object_put(recs);
}

/* --cgroup: only tasks in the cgroup (or below) */
static void test_cgroup_filter(void **state)
{
	char cg[300], root[256], script[1024];
	const char *t_out = live_tmp("cg.jsonl"), *t_err = live_tmp("cg.err");
	const char *w1_json = live_tmp("cg-w1.json"), *w2_json = live_tmp("cg-w2.json");
	const char *t[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", t_out,
			    "--cgroup", cg, NULL };
	const char *w1[] = { "/bin/sh", "-c", script, NULL };
	const char *w2[] = { live_bin("gmem-workload"), "--conversions", "5", "--json-out",
			     w2_json, NULL };
	json_object *wl, *recs;
	int ncalls;
	pid_t tp;

	if (!live_require_tracing())
		skip();
	if (!live_cgroup2_root(root, sizeof(root))) {
		print_message("SKIP: no cgroup v2 hierarchy found or mountable\n");
		skip();
	}
	snprintf(cg, sizeof(cg), "%s/gmt-live-%d", root, getpid());
	if (mkdir(cg, 0755)) {
		print_message("SKIP: cannot create %s\n", cg);
		skip();
	}
	snprintf(script, sizeof(script),
		 "echo $$ > %s/cgroup.procs && exec %s --conversions 5 --json-out %s >/dev/null",
		 cg, live_bin("gmem-workload"), w1_json);
	tp = live_spawn((char *const *)t, NULL, t_err);
	assert_true(live_wait_attached(t_out));
	assert_int_equal(live_run((char *const *)w2, NULL, NULL, 30), 0);
	assert_int_equal(live_run((char *const *)w1, NULL, NULL, 30), 0);
	kill(tp, SIGINT);
	assert_int_equal(live_wait(tp, 10), 0);
	rmdir(cg);
	wl = live_read_json(w1_json);
	recs = live_read_ndjson(t_out);
	assert_non_null(wl);
	assert_int_equal(compare_conversions(wl, recs, &ncalls), 0);
	json_object_put(wl);
	json_object_put(recs);
}

/* A tiny ring buffer overflows: every record is either delivered or counted
 * as lost, none vanish; the loss is reported and tracing still succeeds. */
/*
 * A stalled reader and a tiny ring buffer: the tracer is stopped (SIGSTOP)
 * while the workload converts, so the ring must overflow. Every record is
 * either delivered or counted as lost, none vanish; the loss is reported
 * and tracing still succeeds.
 */
static void test_full_ring_buffer_counted(void **state)
{
	const char *t_out = live_tmp("full.jsonl"), *w_err = live_tmp("full-wl.err");
	const char *w_json = live_tmp("full-wl.json");
	const char *w[] = { live_bin("gmem-workload"), "--wait-signal", "--uapi", "g1",
			    "--conversions", "500", "--no-calls", "--json-out", w_json, NULL };
	char pidbuf[16];
	const char *t[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", t_out, "-b", "4096",
			    "--no-context", "-p", pidbuf, NULL };
	json_object *recs, *sum, *lost, *calls, *wl, *summ, *g1;
	long long delivered, issued;
	pid_t wp, tp;

	if (!live_require_tracing())
		skip();
	wp = live_spawn((char *const *)w, NULL, w_err);
	assert_true(live_wait_for(w_err, "ready", LIVE_START_S));
	snprintf(pidbuf, sizeof(pidbuf), "%d", wp);
	tp = live_spawn((char *const *)t, NULL, NULL);
	assert_true(live_wait_attached(t_out));
	kill(tp, SIGSTOP);		/* the reader stalls ... */
	kill(wp, SIGUSR1);		/* ... while 500 conversions happen */
	assert_int_equal(live_wait(wp, 60), 0);
	kill(tp, SIGCONT);		/* it ends by itself: its process is gone */
	assert_int_equal(live_wait(tp, 20), 0);

	wl = live_read_json(w_json);
	recs = live_read_ndjson(t_out);
	assert_non_null(wl);
	sum = summary_of(recs);
	assert_true(json_object_object_get_ex(wl, "summary", &summ));
	assert_true(json_object_object_get_ex(summ, "set_memory_attributes", &g1));
	issued = live_get_int(g1, "calls");
	calls = live_filter(recs, "event", "convert");
	delivered = json_object_array_length(calls);
	print_message("issued %lld, delivered %lld, lost %lld\n", issued, delivered,
		      live_get_int(sum, "lost"));
	assert_int_equal(issued, 500);
	assert_int_equal(delivered + live_get_int(sum, "lost"), issued);
	/* 4 KiB hold 15 records of 256 bytes (+8 header each) */
	assert_true(delivered <= 15);
	assert_true(live_get_int(sum, "lost") >= issued - 15);
	lost = live_filter(recs, "lost_events", NULL);
	assert_true(json_object_array_length(lost) > 0);
	json_object_put(lost);
	json_object_put(calls);
	json_object_put(sum);
	json_object_put(recs);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_conversion_once, live_teardown),
		cmocka_unit_test_teardown(test_context_events, live_teardown),
		cmocka_unit_test_teardown(test_command_children_followed, live_teardown),
		cmocka_unit_test_teardown(test_pid_filter, live_teardown),
		cmocka_unit_test_teardown(test_comm_filter, live_teardown),
		cmocka_unit_test_teardown(test_cgroup_filter, live_teardown),
		cmocka_unit_test_teardown(test_full_ring_buffer_counted, live_teardown),
	};

	return cmocka_run_group_tests_name("live_trace", tests, NULL, NULL);
}
