// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: a blocked conversion names its holders (trace --holders). On the
 * in-place conversion kernel (inplace-v8-7.2), gmem-workload pins two
 * guest_memfd pages with io_uring fixed buffers (--pin) and converts them to
 * private with G3: the kernel refuses with EAGAIN at a pinned page, and the
 * blocked record must name the workload's buffer there (pid, ring fd,
 * buffer index, offset) with a stack through its pinning function do_pin,
 * and account for the folio's excess references: attributed + unattributed
 * = the excess the record's own folio shows, all of it attributed (the pins
 * were taken while traced). Without --holders the record says --holders
 * names them. Kernels without G3's EAGAIN SKIP; a row promising eagain=yes
 * FAILs instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define PAGE		4096LL
#define PIN_OFF		0x3000LL
#define PIN_PAGES	2
#define BIAS		1024LL	/* GUP_PIN_COUNTING_BIAS */

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		fail_msg("no '%s' in %s", key, json_object_to_json_string(o));
	return v;
}

/* trace the workload (holders: with --holders); the records, *wl its account */
static json_object *run(const char *backend, bool holders, const char *tag, json_object **wl)
{
	char out[256], err[300], wlj[300];
	const char *argv[40];
	int n = 0;

	snprintf(out, sizeof(out), "%s", live_tmp(tag));
	snprintf(err, sizeof(err), "%s.err", out);
	snprintf(wlj, sizeof(wlj), "%s.wl.json", out);
	argv[n++] = live_bin("gmemtrace");
	argv[n++] = "trace";
	if (holders)
		argv[n++] = "--holders";
	argv[n++] = "-f";
	argv[n++] = "json";
	argv[n++] = "-o";
	argv[n++] = out;
	if (backend) {
		argv[n++] = "--kernel-backend";
		argv[n++] = backend;
	}
	argv[n++] = "--";
	argv[n++] = live_bin("gmem-workload");
	/* 4 conversions of 16K over 64K: the first two each meet a pinned page;
	 * held a second after, so its stacks are symbolized while it runs */
	for (const char *const *a = (const char *const[]){ "--in-place", "--gmem-size", "64K",
			"--pin", "2", "--pin-offset", "0x3000", "--uapi", "g3", "--dir", "private",
			"--size", "16K", "--conversions", "4", "--hold", "1", "--json-out", NULL };
	     *a; a++)
		argv[n++] = *a;
	argv[n++] = wlj;
	argv[n] = NULL;
	return live_run_workload((char *const *)argv, err, out, wlj, wl);
}

/* the workload's calls refused with EAGAIN */
static int refused(json_object *wl)
{
	json_object *calls = get(wl, "calls");
	int i, n = 0;

	for (i = 0; i < (int)json_object_array_length(calls); i++)
		n += live_get_int(json_object_array_get_idx(calls, i), "ret") == -11;
	return n;
}

/* the blocked conversions of the workload's pid: as many as it was refused
 * (none refused: SKIP, or FAIL where the row promises eagain=yes) */
static json_object *blocked_events(json_object *recs, json_object *wl)
{
	json_object *ev = live_filter(recs, "event", "convert"), *out = json_object_new_array();
	long long pid = live_get_int(wl, "pid");
	size_t i;

	if (!refused(wl)) {
		json_object_put(ev);
		json_object_put(out);
		live_cannot_run("EAGAIN", "the kernel refused no conversion here (no G3, or no "
				"in-place conversion)");
	}
	for (i = 0; i < json_object_array_length(ev); i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		if (live_get_int(e, "pid") == pid && json_object_get_boolean(get(e, "blocked")))
			json_object_array_add(out, json_object_get(e));
	}
	if ((int)json_object_array_length(out) != refused(wl)) {
		/* what was traced, to tell a lost record from a wrong one */
		for (i = 0; i < json_object_array_length(ev); i++)
			print_message("traced: %s\n", json_object_to_json_string(
				      json_object_array_get_idx(ev, i)));
		fail_msg("the workload was refused %d times, the trace has %zu blocked records",
			 refused(wl), json_object_array_length(out));
	}
	json_object_put(ev);
	return out;
}

static bool stack_has(json_object *h, const char *prefix)
{
	json_object *st = get(h, "stack");
	size_t i;

	for (i = 0; i < json_object_array_length(st); i++) {
		const char *s = live_get_str(json_object_array_get_idx(st, i), "sym");

		if (s && !strncmp(s, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

/* one blocked record: its holder is the workload's buffer at error_offset */
static void check_blocked(json_object *e, json_object *wl)
{
	json_object *pins = get(wl, "pins"), *vms = get(wl, "vms"), *f, *hs, *h;
	long long eo = live_get_int(e, "error_offset"), excess, own;

	hs = get(e, "holders");
	h = live_blocked_holder_at(e, eo);
	assert_string_equal(live_get_str(h, "kind"), "io_uring_buffer");
	assert_int_equal(live_get_int(h, "pid"), live_get_int(wl, "pid"));
	assert_string_equal(live_get_str(h, "comm"), "gmem-workload");
	assert_int_equal(live_get_int(h, "fd"), live_get_int(pins, "ring_fd"));
	assert_int_equal(live_get_int(h, "index"), (eo - PIN_OFF) / PAGE);
	assert_int_equal(live_get_int(h, "gmem_offset"), eo);
	assert_int_equal(live_get_int(h, "gmem_ino"),
			 live_get_int(json_object_array_get_idx(vms, 0), "gmem_ino"));
	assert_true(live_get_int(h, "held_ns") > 0);
	if (!stack_has(h, "do_pin+"))
		fail_msg("no do_pin frame in the holder's stack: %s", json_object_to_json_string(h));
	/* the accounting: the excess is what the folio shows beyond what the
	 * check accepts, and the holders explain all of it here */
	f = get(e, "blocking_folio");
	own = json_object_get_boolean(get(f, "exact")) ? 1 : 0;	/* the check's own batch ref */
	excess = live_get_int(f, "refcount") - live_get_int(f, "expected") - own -
		 live_get_int(f, "mapcount") - live_get_int(f, "lru_batch");
	assert_int_equal(live_get_int(hs, "excess_refs"), excess);
	assert_int_equal(live_get_int(hs, "attributed_refs") + live_get_int(hs, "unattributed_refs"),
			 excess);
	assert_int_equal(excess, live_get_int(f, "pins") * BIAS + live_get_int(f, "other"));
	assert_int_equal(live_get_int(hs, "attributed_refs"), BIAS);	/* its one pin */
	assert_int_equal(live_get_int(h, "refs"), BIAS);
	print_message("blocked at 0x%llx: ref %lld expected %lld, excess %lld = attributed %lld + "
		      "unattributed %lld; holder pid %lld ring %lld index %lld\n", eo,
		      live_get_int(f, "refcount"), live_get_int(f, "expected"), excess,
		      live_get_int(hs, "attributed_refs"), live_get_int(hs, "unattributed_refs"),
		      live_get_int(h, "pid"), live_get_int(h, "fd"), live_get_int(h, "index"));
}

static void blocked_names_holders(const char *backend)
{
	json_object *wl, *recs, *bl;
	size_t i;

	if (!live_require_tracing())
		skip();
	recs = run(backend, true, backend ? backend : "auto", &wl);
	if (live_get_int_or(get(wl, "pins"), "register_ret", -1) != 0)
		live_cannot_run("EAGAIN", "io_uring cannot pin guest_memfd pages here");
	bl = blocked_events(recs, wl);
	assert_int_equal(json_object_array_length(bl), PIN_PAGES);
	for (i = 0; i < json_object_array_length(bl); i++)
		check_blocked(json_object_array_get_idx(bl, i), wl);
	json_object_put(bl);
	json_object_put(recs);
	json_object_put(wl);
}

/* the folio read at the check (fentry or kprobes, whichever runs) */
static void test_blocked_holders(void **state)
{
	blocked_names_holders(NULL);
}

/* the folio read after the fact, from the page cache */
static void test_blocked_holders_no_backend(void **state)
{
	blocked_names_holders("none");
}

/* without --holders: the record says that --holders names them */
static void test_blocked_hint(void **state)
{
	json_object *wl, *recs, *bl, *hs;

	if (!live_require_tracing())
		skip();
	recs = run(NULL, false, "hint", &wl);
	if (live_get_int_or(get(wl, "pins"), "register_ret", -1) != 0)
		live_cannot_run("EAGAIN", "io_uring cannot pin guest_memfd pages here");
	bl = blocked_events(recs, wl);
	hs = get(json_object_array_get_idx(bl, 0), "holders");
	assert_false(json_object_get_boolean(get(hs, "traced")));
	assert_non_null(strstr(live_get_str(hs, "hint"), "--holders"));
	json_object_put(bl);
	json_object_put(recs);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_blocked_holders, live_teardown),
		cmocka_unit_test_teardown(test_blocked_holders_no_backend, live_teardown),
		cmocka_unit_test_teardown(test_blocked_hint, live_teardown),
	};

	return cmocka_run_group_tests_name("live_blocked", tests, NULL, NULL);
}
