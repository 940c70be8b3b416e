// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: the kernel-side backend. Where the kernel allows trampolines or
 * kprobes (the VM suite's kernels) every G1 conversion carries an in-kernel
 * latency and phase markers, each within the whole; where it does not (this
 * project's build host) the attach record says why and events fall back to
 * syscall timing. kprobe twins are proven with
 * --kernel-backend kprobe wherever kprobes work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_util.h"

static json_object *run_trace(const char *backend, int conversions, json_object **wl)
{
	const char *out = live_tmp("kernel.jsonl"), *err = live_tmp("kernel.err");
	const char *wl_json = live_tmp("kernel-wl.json");
	char conv[16];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-f", "json", "-o", out,
			       "--kernel-backend", backend, "--", live_bin("gmem-workload"),
			       "--uapi", "g1", "--conversions", conv, "--json-out", wl_json, NULL };
	int rc;

	snprintf(conv, sizeof(conv), "%d", conversions);
	rc = live_run((char *const *)argv, NULL, err, 120);
	if (rc)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	*wl = live_read_json(wl_json);
	return live_read_ndjson(out);
}

/* the state of one program in the attach record */
static const char *prog_state(json_object *recs, const char *prog, const char **target,
			      const char **reason)
{
	json_object *att = live_filter(recs, "attach", NULL), *progs;
	const char *state = NULL;
	size_t i;

	assert_int_equal(json_object_array_length(att), 1);
	json_object_object_get_ex(json_object_array_get_idx(att, 0), "programs", &progs);
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *p = json_object_array_get_idx(progs, i);

		if (strcmp(live_get_str(p, "program"), prog))
			continue;
		state = live_get_str(p, "state");
		if (target)
			*target = live_get_str(p, "target");
		if (reason)
			*reason = live_get_str(p, "reason");
	}
	json_object_put(att);
	return state;
}

static long long phase(json_object *ev, const char *name)
{
	json_object *ph;
	long long v;

	if (!json_object_object_get_ex(ev, "phases_ns", &ph) || !ph)
		return 0;
	v = live_get_int_or(ph, name, 0);	/* a phase not seen is absent */
	return v;
}

static bool expected(const char *var)
{
	const char *v = getenv(var);

	return v && !strcmp(v, "yes");
}

static void check_events(json_object *recs, const char *source, int want)
{
	json_object *ev = live_filter(recs, "event", "convert");
	bool conv = expected("GMT_EXPECT_CONVERSIONS");
	size_t i;

	assert_int_equal((int)json_object_array_length(ev), want);
	for (i = 0; i < json_object_array_length(ev); i++) {
		json_object *e = json_object_array_get_idx(ev, i);
		long long lat = live_get_int(e, "latency_ns");
		long long klat = live_get_int(e, "kernel_latency_ns");
		long long enter = phase(e, "kernel_enter"), exit_ = phase(e, "kernel_exit");
		static const char *const all[] = { "kernel_enter", "attr_tracepoint",
						   "pre_set_attributes", "post_set_attributes",
						   "invalidate_start", "invalidate_end",
						   "kernel_exit" };
		size_t k;

		assert_string_equal(live_get_str(e, "source"), source);
		assert_true(klat > 0);
		assert_true(klat <= lat);	/* the kernel's part of the syscall */
		assert_true(enter > 0 && exit_ >= enter);
		assert_true(exit_ - enter <= klat + 1000);	/* same interval, two clocks reads apart */
		for (k = 0; k < sizeof(all) / sizeof(all[0]); k++)
			assert_true(phase(e, all[k]) <= lat);	/* each phase within the whole */
		if (conv && live_get_int(e, "ret") == 0 &&
		    !strcmp(live_get_str(e, "dir"), "to_private")) {
			/* a real G1 conversion (each range starts shared; to-shared of
			 * a shared range returns 0 at once): the attribute change and
			 * the end of the invalidation happened inside the handler, in
			 * the kernel's order. kvm_mmu_invalidate_start itself is inlined into the
			 * G1 path on 7.3, so only its end is a marker there. */
			long long pre = phase(e, "pre_set_attributes");
			long long post = phase(e, "post_set_attributes");
			long long inv_end = phase(e, "invalidate_end");

			if (!pre || !inv_end)
				print_message("phases missing in %s\n", json_object_to_json_string(e));
			/* kvm_handle_gfn_range runs on_lock before the handler:
			 * pre_set zaps; the post range's on_lock is
			 * kvm_mmu_invalidate_end, then post_set runs */
			assert_true(pre >= enter);
			assert_true(inv_end >= pre);
			assert_true(post >= inv_end);
			assert_true(exit_ >= post);
			if (phase(e, "attr_tracepoint"))
				assert_true(phase(e, "attr_tracepoint") <= pre);
		}
		if (phase(e, "invalidate_start") && phase(e, "invalidate_end"))
			assert_true(phase(e, "invalidate_end") >= phase(e, "invalidate_start"));
	}
	json_object_put(ev);
}

/* stat with the kernel side: in-kernel latency and phase means per row */
static void check_stat_kernel_columns(void)
{
	const char *out = live_tmp("kstat.jsonl");
	const char *argv[] = { live_bin("gmemtrace"), "stat", "-f", "json", "-o", out, "5", "--",
			       live_bin("gmem-workload"), "--uapi", "g1", "--conversions", "8",
			       "--json-out", "/dev/null", NULL };
	json_object *recs, *stats, *rows, *ph;
	size_t i;

	assert_int_equal(live_run((char *const *)argv, NULL, NULL, 120), 0);
	recs = live_read_ndjson(out);
	stats = live_filter(recs, "stat", NULL);
	assert_true(json_object_array_length(stats) >= 1);
	json_object_object_get_ex(json_object_array_get_idx(stats, json_object_array_length(stats) - 1),
				  "rows", &rows);
	assert_true(json_object_array_length(rows) >= 1);
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		assert_true(live_get_int(r, "kernel_latency_avg_ns") > 0);
		assert_true(json_object_object_get_ex(r, "phases_avg_ns", &ph));
		assert_true(live_get_int(ph, "kernel_enter") > 0);
		assert_true(live_get_int(ph, "kernel_exit") >= live_get_int(ph, "kernel_enter"));
	}
	json_object_put(stats);
	json_object_put(recs);
}

/* auto: fentry where it works (and is seen to run), else the kprobe twins */
static void test_kernel_side_auto(void **state)
{
	json_object *recs, *wl;
	const char *fe, *kr, *target, *reason;

	if (!live_require_tracing())
		skip();
	recs = run_trace("auto", 12, &wl);
	fe = prog_state(recs, "gmt_fx_vm_ioctl", &target, &reason);
	kr = prog_state(recs, "gmt_kr_vm_ioctl", NULL, NULL);
	assert_non_null(fe);
	assert_non_null(kr);
	if (!strcmp(fe, "attached")) {
		assert_string_equal(target, "kvm_vm_ioctl");
		check_events(recs, "fentry", 12);
	} else if (!strcmp(kr, "attached")) {
		/* fentry refused or seen not to run: the reason is kept */
		print_message("fentry not used: %s\n", reason ? reason : "?");
		assert_non_null(reason);
		assert_true(strlen(reason) > 10);
		check_events(recs, "kprobe", 12);
	} else {
		print_message("kernel side not attached here: %s\n", reason ? reason : "?");
		assert_non_null(reason);
		assert_true(strlen(reason) > 10);
		if (expected("GMT_EXPECT_FENTRY") || expected("GMT_EXPECT_KPROBE"))
			fail_msg("this kernel is expected to allow fentry or kprobes");
		json_object_put(recs);
		json_object_put(wl);
		print_message("SKIP: no kernel-side backend on this kernel (reason checked)\n");
		skip();
	}
	check_stat_kernel_columns();
	/* the phase markers: trampolines on kvm_mmu_invalidate_* run here */
	if (expected("GMT_EXPECT_CONVERSIONS")) {
		const char *st = prog_state(recs, "gmt_fe_preset", &target, NULL);

		if (strcmp(st, "attached"))
			st = prog_state(recs, "gmt_kp_preset", &target, NULL);
		assert_string_equal(st, "attached");
		print_message("phase marker on %s\n", target);
	}
	json_object_put(recs);
	json_object_put(wl);
}

static void test_kernel_side_kprobe_twins(void **state)
{
	json_object *recs, *wl;
	const char *st, *reason;

	if (!live_require_tracing())
		skip();
	recs = run_trace("kprobe", 6, &wl);
	st = prog_state(recs, "gmt_kr_vm_ioctl", NULL, &reason);
	assert_non_null(st);
	if (strcmp(st, "attached")) {
		print_message("SKIP: kprobes unavailable here: %s\n", reason ? reason : "?");
		if (expected("GMT_EXPECT_KPROBE"))
			fail_msg("this kernel is expected to have kprobes");
		json_object_put(recs);
		json_object_put(wl);
		skip();
	}
	assert_string_equal(prog_state(recs, "gmt_fe_vm_ioctl", NULL, NULL), "not_wanted");
	check_events(recs, "kprobe", 6);
	json_object_put(recs);
	json_object_put(wl);
}

/* --kernel-backend none: nothing kernel-side, syscall timing only */
static void test_kernel_side_off(void **state)
{
	json_object *recs, *wl, *ev;
	size_t i;

	if (!live_require_tracing())
		skip();
	recs = run_trace("none", 3, &wl);
	assert_string_equal(prog_state(recs, "gmt_fe_vm_ioctl", NULL, NULL), "unavailable");
	ev = live_filter(recs, "event", "convert");
	assert_int_equal(json_object_array_length(ev), 3);
	for (i = 0; i < json_object_array_length(ev); i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		assert_string_equal(live_get_str(e, "source"), "syscall_tp");
		assert_true(live_is_null(e, "kernel_latency_ns"));
	}
	json_object_put(ev);
	json_object_put(recs);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kernel_side_auto, live_teardown),
		cmocka_unit_test_teardown(test_kernel_side_kprobe_twins, live_teardown),
		cmocka_unit_test_teardown(test_kernel_side_off, live_teardown),
	};

	return cmocka_run_group_tests_name("live_kernel", tests, NULL, NULL);
}
