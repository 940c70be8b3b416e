// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: kernel-side pins (`trace --kernel-pins`, feature kernel_pins,
 * bpf/gup_pins.bpf.c). gmem-workload registers guest_memfd pages as io_uring
 * fixed buffers, which io_uring pins through pin_user_pages: every pinned
 * page is one gup_pin start (pins 1) on the same guest_memfd inode and
 * offset as its io_uring holder, with a kernel stack through io_uring's
 * pinning (io_pin_pages or io_sqe_buffer_register), and one gup_pin end
 * (unpin) of the same folio at unregistration. Where trampolines and kprobes
 * cannot load (the build host), the loader must say that kernel_pins is
 * unavailable and why; the test then skips, or fails on a VM row that
 * promises kernel_pins=yes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_OFF		0x3000
#define PIN_PAGES	3

/* the holder records of one pid, event and kind */
static json_object *of_kind(json_object *recs, const char *event, long long pid, const char *kind)
{
	json_object *all = live_filter(recs, "event", event), *out = json_object_new_array();
	size_t i;

	for (i = 0; i < json_object_array_length(all); i++) {
		json_object *r = json_object_array_get_idx(all, i);

		if (live_get_int(r, "pid") == pid && !strcmp(live_get_str(r, "kind"), kind))
			json_object_array_add(out, json_object_get(r));
	}
	json_object_put(all);
	return out;
}

static bool kstack_has(json_object *rec, const char *fn)
{
	json_object *st;
	size_t i, n = strlen(fn);

	if (!json_object_object_get_ex(rec, "kernel_stack", &st))
		fail_msg("no kernel_stack in %s", json_object_to_json_string(rec));
	for (i = 0; i < json_object_array_length(st); i++) {
		const char *s = live_get_str(json_object_array_get_idx(st, i), "sym");

		if (s && !strncmp(s, fn, n) && s[n] == '+')
			return true;
	}
	return false;
}

/* the attach record's state of one program */
static bool prog_attached(json_object *recs, const char *prog)
{
	json_object *att = live_filter(recs, "attach", NULL), *progs;
	bool yes = false;
	size_t i;

	assert_true(json_object_object_get_ex(json_object_array_get_idx(att, 0), "programs",
					      &progs));
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *p = json_object_array_get_idx(progs, i);

		if (!strcmp(live_get_str(p, "program"), prog))
			yes = !strcmp(live_get_str(p, "state"), "attached");
	}
	json_object_put(att);
	return yes;
}

/* the reason kernel_pins could not be had (the attach record), NULL if it was */
static const char *pins_unavailable(json_object *recs)
{
	json_object *att = live_filter(recs, "attach", NULL), *progs;
	const char *why = NULL;
	size_t i;

	assert_int_equal(json_object_array_length(att), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(att, 0), "programs",
					      &progs));
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *p = json_object_array_get_idx(progs, i);
		const char *f = json_object_get_string(json_object_object_get(p, "feature"));

		if (!f || strcmp(f, "kernel_pins"))
			continue;
		if (!strcmp(live_get_str(p, "state"), "attached")) {
			why = NULL;
			break;
		}
		if (!strcmp(live_get_str(p, "state"), "unavailable"))
			why = strdup(live_get_str(p, "reason"));
	}
	json_object_put(att);
	return why;
}

/* the record of `list` at this guest_memfd offset, exactly one */
static json_object *at_offset(json_object *list, long long off)
{
	json_object *found = NULL;
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *r = json_object_array_get_idx(list, i);

		if (live_get_int(r, "gmem_offset") != off)
			continue;
		if (found)
			fail_msg("two records at offset 0x%llx", off);
		found = r;
	}
	return found;
}

/* backend: "auto" (fentry where it loads) or "kprobe" (the twins) */
static void kernel_pins_io_uring(const char *backend)
{
	const char *out = live_tmp("gup.jsonl"), *wlj = live_tmp("gup-wl.json");
	const char *err = live_tmp("gup.err");
	char pins[8], off[16];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--kernel-pins", "--kernel-backend",
			       backend, "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--touch", "--pin", pins, "--pin-offset",
			       off, "--hold", "1", "--json-out", wlj, NULL };
	json_object *recs, *wl, *ubufs, *starts, *ends, *vms;
	const char *why;
	long long pid, ino;
	int i;

	if (!live_require_tracing())
		skip();
	snprintf(pins, sizeof(pins), "%d", PIN_PAGES);
	snprintf(off, sizeof(off), "%d", PIN_OFF);
	assert_int_equal(live_run((char *const *)argv, NULL, err, 180), 0);
	wl = live_read_json(wlj);
	recs = live_read_ndjson(out);
	assert_non_null(wl);
	assert_non_null(recs);
	why = pins_unavailable(recs);
	if (why)
		live_cannot_run("KERNEL_PINS", "kernel_pins unavailable: %s", why);
	if (!strcmp(backend, "kprobe") && !prog_attached(recs, "gmt_kp_pin"))
		live_cannot_run("KPROBE", "kernel_pins did not attach by kprobes here");
	if (live_get_int_or(json_object_object_get(wl, "pins"), "register_ret", -1) != 0)
		live_cannot_run("KERNEL_PINS", "io_uring cannot pin guest_memfd pages here");
	pid = live_get_int(wl, "pid");
	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	ino = live_get_int(json_object_array_get_idx(vms, 0), "gmem_ino");
	ubufs = of_kind(recs, "holder_start", pid, "io_uring_buffer");
	starts = of_kind(recs, "holder_start", pid, "gup_pin");
	ends = of_kind(recs, "holder_end", pid, "gup_pin");
	if (json_object_array_length(starts) != PIN_PAGES)
		live_dump(out, 40);
	assert_int_equal(json_object_array_length(starts), PIN_PAGES);
	assert_int_equal(json_object_array_length(ends), PIN_PAGES);
	for (i = 0; i < PIN_PAGES; i++) {
		long long o = PIN_OFF + (long long)i * PAGE;
		json_object *s = at_offset(starts, o), *e = at_offset(ends, o);
		json_object *u = at_offset(ubufs, o);

		if (!s || !e)
			fail_msg("page at 0x%llx: pinned %s, unpinned %s", o, s ? "yes" : "no",
				 e ? "yes" : "no");
		/* the same folio io_uring's own holder names, in the same VM */
		assert_non_null(u);
		assert_int_equal(live_get_int(s, "vm_pid"), pid);
		assert_int_equal(live_get_int(e, "vm_pid"), pid);
		assert_int_equal(live_get_int(s, "vm_id"), live_get_int(u, "vm_id"));
		assert_int_equal(live_get_int(e, "vm_id"), live_get_int(u, "vm_id"));
		assert_string_equal(live_get_str(s, "vm"), live_get_str(u, "vm"));
		assert_string_equal(live_get_str(s, "comm"), "gmem-workload");
		assert_int_equal(live_get_int(s, "gmem_ino"), ino);
		assert_int_equal(live_get_int(e, "gmem_ino"), ino);
		assert_int_equal(live_get_int(s, "pins"), 1);
		assert_int_equal(live_get_int(e, "pins"), 1);
		assert_int_equal(live_get_int(s, "size"), PAGE);
		assert_true(live_get_int(s, "folio") != 0);
		assert_int_equal(live_get_int(s, "folio"), live_get_int(e, "folio"));
		assert_string_equal(live_get_str(e, "end"), "unpin");
		if (!kstack_has(s, "io_pin_pages") && !kstack_has(s, "io_sqe_buffer_register"))
			fail_msg("pin at 0x%llx: no io_uring pinning frame in its kernel stack: %s",
				 o, json_object_to_json_string(s));
	}
	print_message("kernel pins (%s): %d pinned, %d unpinned, kernel stack e.g. %s\n",
		      backend, PIN_PAGES, PIN_PAGES, json_object_to_json_string(json_object_object_get(
				json_object_array_get_idx(starts, 0), "kernel_stack")));
	json_object_put(ubufs);
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
	json_object_put(wl);
}

static void test_kernel_pins_io_uring(void **state)
{
	(void)state;
	kernel_pins_io_uring("auto");
}

/* the kprobe twins, forced: kernels with kprobes but no trampolines */
static void test_kernel_pins_kprobe(void **state)
{
	(void)state;
	kernel_pins_io_uring("kprobe");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kernel_pins_io_uring, live_teardown),
		cmocka_unit_test_teardown(test_kernel_pins_kprobe, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
