// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: gmemtrace stat's in-kernel aggregates against what gmem-workload
 * issued, and against trace's event count for the same run.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

/* per (vm_fd, gen, dir): calls, ok, failed, blocked, bytes, errno -> count */
struct agg {
	long long vm_fd;
	char gen[4], dir[16];
	long long count, ok, failed, blocked, bytes, enotty, einval;
};

static struct agg *find(struct agg *a, int *n, long long vm_fd, const char *gen, const char *dir)
{
	int i;

	for (i = 0; i < *n; i++)
		if (a[i].vm_fd == vm_fd && !strcmp(a[i].gen, gen) && !strcmp(a[i].dir, dir))
			return &a[i];
	memset(&a[*n], 0, sizeof(a[0]));
	a[*n].vm_fd = vm_fd;
	snprintf(a[*n].gen, sizeof(a[0].gen), "%s", gen);
	snprintf(a[*n].dir, sizeof(a[0].dir), "%s", dir);
	return &a[(*n)++];
}

static int workload_agg(json_object *wl, struct agg *a)
{
	json_object *calls, *vms;
	static const char *const gens[] = { "-", "G1", "G2", "G3" };
	int n = 0, i;

	assert_true(json_object_object_get_ex(wl, "calls", &calls));
	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	for (i = 0; i < (int)json_object_array_length(calls); i++) {
		json_object *c = json_object_array_get_idx(calls, i);
		json_object *vm = json_object_array_get_idx(vms, live_get_int(c, "vm"));
		long long ret, g = live_get_int(c, "gen");
		struct agg *x;

		/* not issued (e.g. no guest_memfd on this kernel): nothing to see */
		if (!live_is_null(c, "skipped") || g < 1 || g > 3)
			continue;
		ret = live_get_int(c, "ret");
		x = find(a, &n, live_get_int(vm, "vm_fd"), gens[g], live_get_str(c, "dir"));
		x->count++;
		if (ret == 0) {
			x->ok++;
			x->bytes += live_get_int(c, "size");
		} else {
			x->failed++;
		}
		x->blocked += ret == -11;
		x->enotty += ret == -25;
		x->einval += ret == -22;
	}
	return n;
}

static long long err_count(json_object *row, const char *name)
{
	json_object *e;
	long long v;

	if (!json_object_object_get_ex(row, "errors_total", &e))
		return -1;
	v = live_get_int_or(e, name, 0);	/* no failure with that errno */
	return v;
}

/* totals of the last stat record equal the workload's own account */
static void test_stat_totals_exact(void **state)
{
	const char *s_out = live_tmp("stat.jsonl"), *s_err = live_tmp("stat.err");
	const char *wl_json = live_tmp("stat-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "stat", "-f", "json", "-H", "-o", s_out,
			       "0.2", "--", live_bin("gmem-workload"), "--conversions", "30",
			       "--vms", "2", "--interval-us", "2000", "--json-out", wl_json, NULL };
	struct agg a[64];
	json_object *wl, *recs, *stats, *rows;
	int n, i, j, rc;

	if (!live_require_tracing())
		skip();
	rc = live_run((char *const *)argv, NULL, s_err, 120);
	if (rc)
		live_dump(s_err, 20);
	assert_int_equal(rc, 0);
	wl = live_read_json(wl_json);
	recs = live_read_ndjson(s_out);
	assert_non_null(wl);
	stats = live_filter(recs, "stat", NULL);
	/* 30 rounds x 2 ms = 180+ ms per VM: several 0.2 s intervals */
	assert_true(json_object_array_length(stats) >= 2);
	rows = live_stat_last_rows(stats);
	n = workload_agg(wl, a);
	assert_int_equal((int)json_object_array_length(rows), n);
	for (j = 0; j < n; j++) {
		bool found = false;

		for (i = 0; i < (int)json_object_array_length(rows); i++) {
			json_object *r = json_object_array_get_idx(rows, i), *tot, *h;
			long long hsum = 0;
			size_t k;

			if (live_get_int(r, "vm_fd") != a[j].vm_fd ||
			    strcmp(live_get_str(r, "gen"), a[j].gen) ||
			    strcmp(live_get_str(r, "dir"), a[j].dir))
				continue;
			found = true;
			assert_int_equal(live_get_int(r, "vm_pid"), live_get_int(wl, "pid"));
			assert_true(json_object_object_get_ex(r, "total", &tot));
			assert_int_equal(live_get_int(tot, "count"), a[j].count);
			assert_int_equal(live_get_int(tot, "ok"), a[j].ok);
			assert_int_equal(live_get_int(tot, "failed"), a[j].failed);
			assert_int_equal(live_get_int(tot, "blocked"), a[j].blocked);
			assert_int_equal(live_get_int(tot, "bytes"), a[j].bytes);
			assert_int_equal(err_count(r, "ENOTTY"), a[j].enotty);
			assert_int_equal(err_count(r, "EINVAL"), a[j].einval);
			assert_true(live_get_int(r, "max_ns") > 0);
			/* the interval histogram holds the interval's conversions */
			assert_true(json_object_object_get_ex(r, "hist", &h));
			for (k = 0; k < json_object_array_length(h); k++)
				hsum += live_get_int(json_object_array_get_idx(h, k), "count");
			assert_true(json_object_object_get_ex(r, "interval", &tot));
			assert_int_equal(hsum, live_get_int(tot, "count"));
		}
		assert_true(found);
	}
	/* interval counts add up to the totals */
	for (j = 0; j < n; j++) {
		long long sum = 0;

		for (i = 0; i < (int)json_object_array_length(stats); i++) {
			json_object *rs, *st = json_object_array_get_idx(stats, i);
			size_t k;

			json_object_object_get_ex(st, "rows", &rs);
			for (k = 0; k < json_object_array_length(rs); k++) {
				json_object *r = json_object_array_get_idx(rs, k), *iv;

				if (live_get_int(r, "vm_fd") != a[j].vm_fd ||
				    strcmp(live_get_str(r, "gen"), a[j].gen) ||
				    strcmp(live_get_str(r, "dir"), a[j].dir))
					continue;
				json_object_object_get_ex(r, "interval", &iv);
				sum += live_get_int(iv, "count");
			}
		}
		assert_int_equal(sum, a[j].count);
	}
	json_object_put(stats);
	json_object_put(wl);
	json_object_put(recs);
}

/* stat and trace attached at once see the same number of conversions */
static void test_stat_equals_trace(void **state)
{
	const char *s_out = live_tmp("both-stat.jsonl"), *t_out = live_tmp("both-trace.jsonl");
	const char *wl_json = live_tmp("both-wl.json");
	char pidbuf[16];
	const char *w[] = { live_bin("gmem-workload"), "--wait-signal", "--conversions", "25",
			    "--vms", "3", "--json-out", wl_json, NULL };
	const char *s[] = { live_bin("gmemtrace"), "stat", "-f", "json", "-o", s_out, "-p",
			    pidbuf, "60", NULL };
	const char *t[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", t_out, "-p",
			    pidbuf, NULL };
	const char *w_err = live_tmp("both-wl.err");
	json_object *recs, *ev, *stats, *rows;
	long long total = 0;
	pid_t wp, sp, tp;
	size_t i;

	if (!live_require_tracing())
		skip();
	wp = live_spawn((char *const *)w, NULL, w_err);
	assert_true(live_wait_for(w_err, "ready", LIVE_START_S));
	snprintf(pidbuf, sizeof(pidbuf), "%d", wp);
	sp = live_spawn((char *const *)s, NULL, NULL);
	tp = live_spawn((char *const *)t, NULL, NULL);
	assert_true(live_wait_attached(s_out));
	assert_true(live_wait_attached(t_out));
	kill(wp, SIGUSR1);
	assert_int_equal(live_wait(wp, 30), 0);
	assert_int_equal(live_wait(tp, 10), 0);
	assert_int_equal(live_wait(sp, 10), 0);
	recs = live_read_ndjson(t_out);
	ev = live_filter(recs, "event", "convert");
	json_object_put(recs);
	recs = live_read_ndjson(s_out);
	stats = live_filter(recs, "stat", NULL);
	assert_true(json_object_array_length(stats) >= 1);
	rows = live_stat_last_rows(stats);
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *tot;

		json_object_object_get_ex(json_object_array_get_idx(rows, i), "total", &tot);
		total += live_get_int(tot, "count");
	}
	print_message("trace saw %zu conversions, stat counted %lld\n",
		      json_object_array_length(ev), total);
	assert_int_equal(total, (long long)json_object_array_length(ev));
	assert_true(total >= 75);
	json_object_put(ev);
	json_object_put(stats);
	json_object_put(recs);
}

/* text stat: header and one row per VM/gen/dir */
static void test_stat_text(void **state)
{
	const char *s_out = live_tmp("stat.txt");
	const char *argv[] = { live_bin("gmemtrace"), "stat", "-o", s_out, "-H", "5", "--",
			       live_bin("gmem-workload"), "--conversions", "4", "--uapi", "g1",
			       NULL };

	if (!live_require_tracing())
		skip();
	assert_int_equal(live_run((char *const *)argv, NULL, NULL, 60), 0);
	assert_true(live_wait_for(s_out, "CONV/s", 1));
	assert_true(live_wait_for(s_out, "to_private", 1));
	assert_true(live_wait_for(s_out, "distribution", 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stat_totals_exact, live_teardown),
		cmocka_unit_test_teardown(test_stat_equals_trace, live_teardown),
		cmocka_unit_test_teardown(test_stat_text, live_teardown),
	};

	return cmocka_run_group_tests_name("live_stat", tests, NULL, NULL);
}
