// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: kernel-side pins (`trace --kernel-pins`, feature kernel_pins,
 * bpf/gup_pins.bpf.c). gmem-workload registers guest_memfd pages as io_uring
 * fixed buffers, which io_uring pins through pin_user_pages: every pinned
 * page is one gup_pin start (pins 1) on the same guest_memfd inode and
 * offset as its io_uring holder, with a kernel stack through io_uring's
 * pinning (io_pin_pages or io_sqe_buffer_register), and one gup_pin end
 * (unpin) of the same folio at unregistration (unpin_user_folio, which
 * inlines gup_put_folio on some kernels). gup-fast takes each page first and
 * puts it back (a long-term pin of a file folio must take the slow path):
 * that pin and unpin show too, so per page pins = unpins >= 1; without the
 * unregistration's unpin they differ. Where trampolines and kprobes
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

/* io_uring's pinning: io_pin_pages, io_sqe_buffer_register */
static bool pinned_by_io_uring(json_object *pin)
{
	return live_kstack_has(pin, "io_pin_pages+") || live_kstack_has(pin, "io_sqe_buffer_register+");
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
	char *why;
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
	why = live_feature_unavailable(recs, "kernel_pins");
	if (why)
		live_cannot_run("KERNEL_PINS", "kernel_pins unavailable: %s", why);
	if (!strcmp(backend, "kprobe") && !prog_attached(recs, "gmt_kp_pin"))
		live_cannot_run("KPROBE", "kernel_pins did not attach by kprobes here");
	if (live_get_int_or(json_object_object_get(wl, "pins"), "register_ret", -1) != 0)
		live_cannot_run("KERNEL_PINS", "io_uring cannot pin guest_memfd pages here");
	pid = live_get_int(wl, "pid");
	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	ino = live_get_int(json_object_array_get_idx(vms, 0), "gmem_ino");
	ubufs = live_holders_of(recs, "holder_start", pid, "io_uring_buffer");
	starts = live_holders_of(recs, "holder_start", pid, "gup_pin");
	ends = live_holders_of(recs, "holder_end", pid, "gup_pin");
	for (i = 0; i < PIN_PAGES; i++) {
		long long o = PIN_OFF + (long long)i * PAGE;

		/* the same folio io_uring's own holder names */
		assert_non_null(live_at_offset(ubufs, o));
		live_check_page_pins(starts, ends, o, ino, "gmem-workload", pinned_by_io_uring,
				     "io_uring");
	}
	print_message("kernel pins (%s): %zu pins, %zu unpins of %d pages, kernel stack e.g. %s\n",
		      backend, json_object_array_length(starts), json_object_array_length(ends),
		      PIN_PAGES, json_object_to_json_string(json_object_object_get(
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
