// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: G3 in-place conversion (KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd
 * bound by its own mmap), where the kernel really refuses: io_uring pins on
 * chosen pages make a conversion to private fail with EAGAIN at the pinned
 * page's error_offset (the inplace-v8-7.2 row). Everything is compared with
 * what the workload got from the kernel:
 * - every conversion traced once, with its range, direction and result;
 * - an EAGAIN is blocked, with the kernel's error_offset and the folio at it,
 *   one pin per io_uring pin, read at the check (kernel side) or after the
 *   fact (--kernel-backend none), and a success carries no folio, even when
 *   an LRU-batched page made the kernel drain first;
 * - phases in the kernel's order, the conversion's own invalidation only;
 * - stat's blocked column; features on this kernel;
 * - refs as an oracle: before each of 200 random conversions it predicts
 *   whether the kernel refuses and where;
 * - a guest's request refused, its pin released by the VMM and retried.
 * Kernels without G3 SKIP; a row promising g3=yes FAILs instead.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define PAGE 4096LL

/* G3 converts here, or the test cannot run (SKIP, FAIL where promised) */
static void require_g3(void)
{
	const char *wl = live_tmp("g3-probe.json");
	const char *argv[] = { live_bin("gmem-workload"), "--in-place", "--uapi", "g3", "--dir",
			       "private", "--conversions", "1", "--gmem-size", "64K",
			       "--json-out", wl, NULL };
	json_object *j, *sum, *op, *rets;

	if (!live_require_tracing())
		skip();
	if (live_run((char *const *)argv, NULL, NULL, 60))
		live_cannot_run("G3", "gmem-workload failed on this kernel");
	j = live_read_json(wl);
	if (!j || !json_object_object_get_ex(j, "summary", &sum) ||
	    !json_object_object_get_ex(sum, "set_memory_attributes2", &op) ||
	    !json_object_object_get_ex(op, "returns", &rets) ||
	    !json_object_object_get_ex(rets, "0", NULL))
		live_cannot_run("G3", "KVM_SET_MEMORY_ATTRIBUTES2 does not convert here: %s",
				op ? json_object_to_json_string(op) : "no summary");
	json_object_put(j);
}

static long long phase(json_object *ev, const char *name)
{
	json_object *ph;

	if (!json_object_object_get_ex(ev, "phases_ns", &ph) || !ph)
		return 0;
	return live_get_int_or(ph, name, 0);	/* a phase not seen is absent */
}

/* trace (or stat) a workload; returns the records, *wl its JSON */
static json_object *run_traced(const char *cmd, const char *backend, const char *const *wl_args,
			       const char *tag, json_object **wl)
{
	char out[256], err[300], wl_json[300];
	const char *argv[48];
	int n = 0;

	snprintf(out, sizeof(out), "%s", live_tmp(tag));
	snprintf(err, sizeof(err), "%s.err", out);
	snprintf(wl_json, sizeof(wl_json), "%s.wl.json", out);
	argv[n++] = live_bin("gmemtrace");
	argv[n++] = cmd;
	argv[n++] = "-f";
	argv[n++] = "json";
	argv[n++] = "-o";
	argv[n++] = out;
	if (!strcmp(cmd, "stat"))
		argv[n++] = "60";	/* one report, at the end */
	if (backend) {
		argv[n++] = "--kernel-backend";
		argv[n++] = backend;
	}
	argv[n++] = "--";
	argv[n++] = live_bin("gmem-workload");
	while (*wl_args && n < 44)
		argv[n++] = *wl_args++;
	argv[n++] = "--json-out";
	argv[n++] = wl_json;
	argv[n] = NULL;
	return live_run_workload((char *const *)argv, err, out, wl_json, wl);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

/* the trace saw exactly the workload's conversions */
static void same_calls(json_object *wl, json_object *ev)
{
	json_object *calls = get(wl, "calls"), *vms = get(wl, "vms");
	size_t nc = json_object_array_length(calls), ne = json_object_array_length(ev), i;
	char **a = calloc(nc + 1, sizeof(*a)), **b = calloc(ne + 1, sizeof(*b));

	for (i = 0; i < nc; i++) {
		a[i] = malloc(256);
		live_call_key(json_object_array_get_idx(calls, i), vms, a[i], 256);
	}
	for (i = 0; i < ne; i++) {
		b[i] = malloc(256);
		live_event_key(json_object_array_get_idx(ev, i), b[i], 256);
	}
	assert_int_equal(live_multiset_diff(a, (int)nc, b, (int)ne, true), 0);
	for (i = 0; i < nc; i++)
		free(a[i]);
	for (i = 0; i < ne; i++)
		free(b[i]);
	free(a);
	free(b);
}

struct tally {
	int conversions, blocked, drained, exact;
	double lat, klat;
};

/*
 * One conversion event, with the workload's call at the same position (both
 * are in issue order: one thread). kernel: a kernel-side backend ran.
 */
static void check_event(json_object *e, json_object *call, bool kernel, struct tally *t)
{
	long long ret = live_get_int(e, "ret"), lat = live_get_int(e, "latency_ns");
	bool priv = !strcmp(live_get_str(e, "dir"), "to_private");
	json_object *bf = NULL;
	static const char *const all[] = { "kernel_enter", "unmap", "refcount_check", "lru_drain",
					   "invalidate_start", "invalidate_end", "kernel_exit" };
	size_t k;

	assert_string_equal(live_get_str(e, "gen"), "G3");
	assert_int_equal(ret, live_get_int(call, "ret"));
	assert_int_equal(live_get_int(e, "gmem_offset"), live_get_int(call, "start"));
	assert_int_equal(live_get_int(e, "size"), live_get_int(call, "size"));
	json_object_object_get_ex(e, "blocking_folio", &bf);
	t->conversions++;
	if (kernel) {
		long long klat = live_get_int(e, "kernel_latency_ns");

		assert_true(klat > 0 && klat <= lat);
		t->lat += (double)lat;
		t->klat += (double)klat;
		for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			assert_true(phase(e, all[k]) <= lat);	/* each within the whole */
	}
	if (ret == -11) {
		long long eo = live_get_int(call, "error_offset");
		long long nr, ref, pins, other, lru_batch, map;

		t->blocked++;
		assert_true(json_object_get_boolean(get(e, "blocked")));
		assert_int_equal(live_get_int(e, "error_offset"), eo);
		if (!bf)
			fail_msg("EAGAIN without a blocking folio: %s", json_object_to_json_string(e));
		/* the folio the kernel named, counted as one pin per io_uring pin */
		assert_int_equal(live_get_int(bf, "offset"), eo);
		nr = live_get_int(bf, "nr_pages");
		assert_int_equal(live_get_int(bf, "expected"), nr);
		ref = live_get_int(bf, "refcount");
		pins = live_get_int(bf, "pins");
		other = live_get_int(bf, "other");
		lru_batch = live_get_int(bf, "lru_batch");
		map = live_get_int(bf, "mapcount");
		assert_int_equal(pins, 1);
		assert_int_equal(other, 0);
		assert_int_equal(map, 0);	/* the conversion unmapped it first */
		assert_true(json_object_get_boolean(get(bf, "exact")) == kernel);
		/* exact: read at the check, with its own batch reference */
		assert_int_equal(ref, nr + 1024 * pins + other + lru_batch + map + (kernel ? 1 : 0));
		t->exact += kernel;
	} else {
		if (bf)
			fail_msg("ret %lld with a blocking folio: %s", ret,
				 json_object_to_json_string(e));
		assert_false(json_object_get_boolean(get(e, "blocked")));
	}
	if (!kernel)
		return;
	if (priv) {
		long long un = phase(e, "unmap"), rc = phase(e, "refcount_check");
		long long dr = phase(e, "lru_drain"), is = phase(e, "invalidate_start");
		long long ie = phase(e, "invalidate_end"), ex = phase(e, "kernel_exit");

		/* v8: unmap, refcount check, (drain), invalidate start/end */
		if (!un || !rc)
			fail_msg("to-private phases missing: %s", json_object_to_json_string(e));
		assert_true(rc >= un);
		if (dr) {
			assert_true(dr >= rc);
			t->drained++;
		}
		if (ret == 0) {
			if (!is || !ie)
				fail_msg("invalidation missing: %s", json_object_to_json_string(e));
			assert_true(is >= rc && is >= dr);
			assert_true(ie >= is);
			assert_true(ex >= ie);
		} else {
			/* refused before its own invalidation: the host unmap's
			 * MMU-notifier end is not one */
			assert_int_equal(is, 0);
			assert_int_equal(ie, 0);
		}
	} else if (phase(e, "invalidate_start") || phase(e, "invalidate_end")) {
		assert_true(phase(e, "invalidate_start") > 0);
		assert_true(phase(e, "invalidate_end") >= phase(e, "invalidate_start"));
		assert_int_equal(phase(e, "unmap"), 0);
	}
}

static void check_trace(json_object *recs, json_object *wl, bool kernel, struct tally *t)
{
	json_object *ev = live_filter(recs, "event", "convert"), *calls = get(wl, "calls");
	size_t i, n = json_object_array_length(ev);

	same_calls(wl, ev);
	assert_int_equal(n, json_object_array_length(calls));
	for (i = 0; i < n; i++)
		check_event(json_object_array_get_idx(ev, i), json_object_array_get_idx(calls, i),
			    kernel, t);
	json_object_put(ev);
}

static void report(const char *what, const struct tally *t)
{
	print_message("%s: %d conversions, %d blocked (%d exact), %d drained the LRU batches",
		      what, t->conversions, t->blocked, t->exact, t->drained);
	if (t->klat > 0)
		print_message(", klat/lat %.3f", t->klat / t->lat);
	print_message("\n");
}

/* the random scenario, traced: successes both ways, refusals, fresh pages */
static void oracle_traced(const char *backend, bool kernel)
{
	const char *args[] = { "--in-place", "--gmem-size", "64K", "--conversions", "0",
			       "--oracle", "60", "--seed", "11", NULL };
	struct tally t = { 0 };
	json_object *wl, *recs = run_traced("trace", backend, args, backend, &wl);

	check_trace(recs, wl, kernel, &t);
	assert_true(t.blocked > 0);
	assert_int_equal(t.blocked, live_get_int(get(wl, "scenario"), "blocked"));
	report(backend, &t);
	json_object_put(recs);
	json_object_put(wl);
}

static void test_trace_fentry(void **state)
{
	require_g3();
	oracle_traced("fentry", true);
}

static void test_trace_kprobe(void **state)
{
	require_g3();
	oracle_traced("kprobe", true);
}

static void test_trace_none(void **state)
{
	require_g3();
	oracle_traced("none", false);
}

/*
 * The case the first-unsafe-folio snapshot got wrong: page 2 is fresh (in a
 * per-CPU lru_add batch) below the pinned pages, so the kernel drains, page 2
 * passes and page 5 blocks; then page 9 (a two-page buffer over 9-10); the
 * last retry succeeds although page 2 was fresh again.
 */
static void block_retry(const char *backend, bool kernel)
{
	const char *args[] = { "--in-place", "--gmem-size", "64K", "--conversions", "0",
			       "--pin-pages", "5,9-10", "--fresh-pages", "2", "--scenario",
			       "block-retry", NULL };
	struct tally t = { 0 };
	json_object *wl, *recs = run_traced("trace", backend, args, "retry", &wl), *steps, *ev;
	static const long long want_eo[] = { 5 * PAGE, 9 * PAGE };
	size_t i;

	steps = get(get(wl, "scenario"), "steps");
	/* the kernel's own answers first */
	assert_int_equal(json_object_array_length(steps), 3);
	for (i = 0; i < 2; i++) {
		json_object *s = json_object_array_get_idx(steps, i);

		assert_int_equal(live_get_int(s, "ret"), -11);
		assert_int_equal(live_get_int(s, "error_offset"), want_eo[i]);
	}
	assert_int_equal(live_get_int(json_object_array_get_idx(steps, 2), "ret"), 0);
	check_trace(recs, wl, kernel, &t);
	assert_int_equal(t.blocked, 2);
	ev = live_filter(recs, "event", "convert");
	if (kernel)	/* fresh page 2 made every to-private attempt drain */
		for (i = 0; i < 3; i++)
			assert_true(phase(json_object_array_get_idx(ev, i), "lru_drain") > 0);
	report("block-retry", &t);
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

static void test_block_retry(void **state)
{
	require_g3();
	block_retry("fentry", true);
	block_retry("kprobe", true);
	block_retry("none", false);
}

/* stat: the blocked column counts the refusals */
static void test_stat_blocked(void **state)
{
	const char *args[] = { "--in-place", "--gmem-size", "64K", "--conversions", "0",
			       "--pin-pages", "3,7", "--scenario", "block-retry", NULL };
	json_object *wl, *recs, *stats, *rows;
	long long blocked = 0, count = 0;
	size_t i, j;

	require_g3();
	recs = run_traced("stat", NULL, args, "stat", &wl);
	stats = live_filter(recs, "stat", NULL);
	assert_true(json_object_array_length(stats) >= 1);
	for (j = 0; j < json_object_array_length(stats); j++) {
		rows = get(json_object_array_get_idx(stats, j), "rows");
		for (i = 0; i < json_object_array_length(rows); i++) {
			json_object *r = json_object_array_get_idx(rows, i);

			if (strcmp(live_get_str(r, "gen"), "G3") ||
			    strcmp(live_get_str(r, "dir"), "to_private"))
				continue;
			blocked += live_get_int(get(r, "total"), "blocked");
			count += live_get_int(get(r, "total"), "count");
		}
	}
	assert_int_equal(blocked, live_get_int(get(wl, "scenario"), "blocked"));
	assert_int_equal(blocked, 2);
	assert_int_equal(count, 3);
	json_object_put(stats);
	json_object_put(recs);
	json_object_put(wl);
}

/* features: G3, its gate and its check-result program; the renamed option */
static void test_features(void **state)
{
	const char *out = live_tmp("g3-features.json");
	const char *argv[] = { live_bin("gmemtrace"), "features", "-f", "json", NULL };
	json_object *f, *kvm, *progs;
	bool g3 = false, gate = false, tp = false, fx = false;
	size_t i;

	require_g3();
	assert_int_equal(live_run((char *const *)argv, out, NULL, 120), 0);
	f = live_read_json(out);
	kvm = get(f, "kvm");
	for (i = 0; i < json_object_array_length(kvm); i++) {
		json_object *r = json_object_array_get_idx(kvm, i);
		const char *name = live_get_str(r, "name");
		bool yes = json_object_get_boolean(get(r, "available"));

		if (!strcmp(name, "g3_set_memory_attributes2"))
			g3 = yes;
		if (!strcmp(name, "gmem_in_place_conversion"))
			gate = yes;
		if (!strcmp(name, "tp_kvm_vm_set_mem_attributes")) {
			/* compiled out with per-VM attributes, and said why */
			tp = !yes && strstr(live_get_str(r, "detail"), "CONFIG_KVM_VM_MEMORY_ATTRIBUTES");
		}
	}
	progs = get(f, "programs");
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *r = json_object_array_get_idx(progs, i);

		if (!strcmp(live_get_str(r, "name"), "gmt_fx_g3_set"))
			fx = json_object_get_boolean(get(r, "available"));
	}
	assert_true(g3);
	assert_true(gate);
	if (live_promised("ATTR_TRACEPOINT") || getenv("GMT_EXPECT_ATTR_TRACEPOINT"))
		assert_true(tp == !live_promised("ATTR_TRACEPOINT"));
	assert_true(fx);
	json_object_put(f);
}

/* the first blocking offset refs lists in the range, -1 if none */
static long long refs_predict(pid_t pid, long long off, long long len, int step)
{
	char range[64], pidbuf[16], out[300];
	const char *argv[] = { live_bin("gmemtrace"), "refs", "-p", pidbuf, "--range", range,
			       "-f", "json", NULL };
	json_object *recs, *folios;
	long long first = -1;
	size_t i;

	snprintf(range, sizeof(range), "%lld:%lld", off, len);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	snprintf(out, sizeof(out), "%s.%d", live_tmp("oracle-refs"), step);
	assert_int_equal(live_run((char *const *)argv, out, NULL, 60), 0);
	recs = live_read_ndjson(out);
	folios = live_filter(recs, "refs", NULL);
	for (i = 0; i < json_object_array_length(folios); i++) {
		json_object *r = json_object_array_get_idx(folios, i);
		const char *kind = live_get_str(r, "record");

		if (!strcmp(kind, "total"))
			assert_true(json_object_get_boolean(get(r, "complete")));
		if (strcmp(kind, "folio") || !json_object_get_boolean(get(r, "blocking")))
			continue;
		if (first < 0 || live_get_int(r, "offset") < first)
			first = live_get_int(r, "offset");
	}
	json_object_put(folios);
	json_object_put(recs);
	unlink(out);
	return first;
}

/*
 * refs as an oracle: before each random conversion to private, refs predicts
 * EAGAIN at the first blocking folio of the range (error_offset is
 * max(start, folio index)), or success; the kernel must agree every time.
 */
#define ORACLE_STEPS 200

static void test_refs_oracle(void **state)
{
	char err[512], wl_json[512];	/* live_tmp's buffers rotate */
	const char *argv[] = { live_bin("gmem-workload"), "--in-place", "--gmem-size", "64K",
			       "--conversions", "0", "--oracle", "200", "--seed", "20260618",
			       "--oracle-wait", "--json-out", NULL, NULL };
	static long long predicted[ORACLE_STEPS];
	json_object *wl, *steps;
	int i, agree = 0, blocked = 0, lru_only = 0;
	pid_t pid;

	require_g3();
	snprintf(err, sizeof(err), "%s", live_tmp("oracle.err"));
	snprintf(wl_json, sizeof(wl_json), "%s", live_tmp("oracle.json"));
	argv[12] = wl_json;
	pid = live_spawn((char *const *)argv, NULL, err);
	for (i = 0; i < ORACLE_STEPS; i++) {
		char needle[32], line[128], *p;
		unsigned long long s, off, len;
		FILE *f;

		snprintf(needle, sizeof(needle), "oracle %d ", i);
		if (!live_wait_for(err, needle, 60)) {
			live_dump(err, 10);
			fail_msg("the workload never reached step %d", i);
		}
		f = fopen(err, "r");
		off = len = 0;
		while (f && fgets(line, sizeof(line), f))
			if ((p = strstr(line, "oracle ")) &&
			    sscanf(p, "oracle %llu %llu %llu", &s, &off, &len) == 3 && s == (unsigned)i)
				break;
		if (f)
			fclose(f);
		assert_true(len > 0);
		predicted[i] = refs_predict(pid, (long long)off, (long long)len, i);
		kill(pid, SIGUSR1);
	}
	assert_int_equal(live_wait(pid, 60), 0);
	wl = live_read_json(wl_json);
	steps = get(get(wl, "scenario"), "steps");
	assert_int_equal(json_object_array_length(steps), ORACLE_STEPS);
	for (i = 0; i < ORACLE_STEPS; i++) {
		json_object *s = json_object_array_get_idx(steps, i);
		long long ret = live_get_int(s, "ret");
		long long eo = ret == -11 ? live_get_int(s, "error_offset") : -1;

		assert_true(ret == 0 || ret == -11);
		blocked += ret == -11;
		lru_only += json_object_array_length(get(s, "fresh_pages")) > 0;
		if (eo == predicted[i]) {
			agree++;
			continue;
		}
		print_message("step %d: refs predicted %lld, the kernel said ret %lld error_offset %lld: %s\n",
			      i, predicted[i], ret, eo, json_object_to_json_string(s));
	}
	print_message("refs oracle: %d of %d conversions agree (%d refused, %d with fresh LRU-batched pages)\n",
		      agree, ORACLE_STEPS, blocked, lru_only);
	assert_int_equal(agree, ORACLE_STEPS);
	assert_true(blocked > 0 && blocked < ORACLE_STEPS);
	json_object_put(wl);
}

/*
 * A guest asks for pages 0 and 1 to become private; page 1 is pinned, the
 * VMM's G3 conversion is refused, it releases the pin and retries, and the
 * guest gets 0. The request's round trip holds both attempts.
 */
static void test_guest_blocked(void **state)
{
	const char *args[] = { "--in-place", "--gmem-size", "64K", "--guest", "2", "--dir",
			       "private", "--uapi", "g3", "--pin-pages", "1",
			       "--guest-unpin-retry", NULL };
	json_object *wl, *recs, *guest, *reqs, *ev, *calls;
	long long lat, conv;

	require_g3();
	recs = run_traced("trace", NULL, args, "guest", &wl);
	guest = get(wl, "guest");
	if (!live_is_null(guest, "error"))
		live_cannot_run("GUEST", "the guest could not run here: %s",
				live_get_str(guest, "error"));
	reqs = get(guest, "requests");
	calls = get(wl, "calls");
	assert_int_equal(json_object_array_length(reqs), 2);
	/* the workload's account: page 1 refused at 0x1000, then served */
	assert_int_equal(json_object_array_length(calls), 3);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 1), "ret"), -11);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 1), "error_offset"), PAGE);
	assert_int_equal(live_get_int(json_object_array_get_idx(calls, 2), "ret"), 0);
	assert_int_equal(live_get_int(json_object_array_get_idx(reqs, 1), "guest_ret"), 0);
	ev = live_filter(recs, "event", "guest_request");
	assert_int_equal(json_object_array_length(ev), 2);
	assert_int_equal(live_get_int(json_object_array_get_idx(ev, 0), "blocked"), 0);
	assert_int_equal(live_get_int(json_object_array_get_idx(ev, 1), "conversions"), 2);
	assert_int_equal(live_get_int(json_object_array_get_idx(ev, 1), "blocked"), 1);
	lat = live_get_int(json_object_array_get_idx(ev, 1), "latency_ns");
	conv = live_get_int(json_object_array_get_idx(ev, 1), "convert_ns");
	assert_true(conv > 0 && conv <= lat);
	assert_int_equal(live_get_int(json_object_array_get_idx(ev, 1), "vmm_ns"), lat - conv);
	/* the workload saw the whole VMM side, exit to re-entry, inside it */
	assert_true(lat >= live_get_int(json_object_array_get_idx(reqs, 1), "serve_ns"));
	print_message("guest request: round trip %lld ns, conversions %lld ns (refused + retry), VMM %lld ns\n",
		      lat, conv, lat - conv);
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_trace_fentry, live_teardown),
		cmocka_unit_test_teardown(test_trace_kprobe, live_teardown),
		cmocka_unit_test_teardown(test_trace_none, live_teardown),
		cmocka_unit_test_teardown(test_block_retry, live_teardown),
		cmocka_unit_test_teardown(test_stat_blocked, live_teardown),
		cmocka_unit_test_teardown(test_features, live_teardown),
		cmocka_unit_test_teardown(test_refs_oracle, live_teardown),
		cmocka_unit_test_teardown(test_guest_blocked, live_teardown),
	};

	return cmocka_run_group_tests_name("live_g3", tests, NULL, NULL);
}
