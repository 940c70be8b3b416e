// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: the kernel-side pin probe (`trace --kernel-pins`) sees device DMA
 * pins (issue 11: "the kernel-side pin probe shows the same pins with kernel
 * stacks"). gmem-workload maps three guest_memfd pages for the edu device's
 * DMA (--pin-with vfio: VFIO type1; iommufd: an IOAS the device is attached
 * to) and releases them after a short hold. Under `trace --holders
 * --kernel-pins`, every page is one DMA holder (vfio_dma / iommufd) and one
 * gup_pin start of the same inode and offset, by the workload, with a kernel
 * stack through the DMA pinning code; the release is one gup_pin end
 * (unpin) of the same folio. Needs a device bound to vfio-pci behind an
 * IOMMU (rows with vfio=yes, with or without in-place conversion; iommufd
 * where the row does not say iommufd=no): elsewhere SKIP with the reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_OFF		0x3000
#define PIN_PAGES	3

/* the kernel's DMA pinning code: VFIO type1 (vfio_pin_pages_remote,
 * vfio_pin_map_dma, ...) or iommufd (iopt_*, pfn_reader_*, iommufd_*) */
static bool pinned_by_vfio(json_object *pin)
{
	return live_kstack_has(pin, "vfio_");
}

static bool pinned_by_iommufd(json_object *pin)
{
	return live_kstack_has(pin, "iopt_") || live_kstack_has(pin, "pfn_reader") ||
	       live_kstack_has(pin, "iommufd_");
}

static void dma_pins(const char *how)
{
	bool vfio = !strcmp(how, "vfio");
	const char *out = live_tmp(vfio ? "vfio-pins.jsonl" : "iommufd-pins.jsonl");
	const char *wlj = live_tmp(vfio ? "vfio-pins-wl.json" : "iommufd-pins-wl.json");
	const char *err = live_tmp("dma-pins.err");
	char pins[8], off[16];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--holders", "--kernel-pins",
			       "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--gmem-size", "64K", "--touch", "--pin", pins,
			       "--pin-offset", off, "--pin-with", how, "--hold", "1",
			       "--json-out", wlj, NULL };
	json_object *recs, *wl, *dma, *holders, *starts, *ends, *vms;
	long long pid, ino;
	char *why;
	int i, rc;

	if (!live_require_tracing())
		skip();
	snprintf(pins, sizeof(pins), "%d", PIN_PAGES);
	snprintf(off, sizeof(off), "%d", PIN_OFF);
	rc = live_run((char *const *)argv, NULL, err, 240);
	wl = live_read_json(wlj);
	if (!wl) {
		live_dump(err, 20);
		fail_msg("gmem-workload wrote no report (gmemtrace exit %d)", rc);
	}
	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	if (live_get_int(json_object_array_get_idx(vms, 0), "create_gmem_ret") < 0) {
		json_object_put(wl);
		live_cannot_run("GMEM", "no guest_memfd here (KVM_CREATE_GUEST_MEMFD failed)");
	}
	dma = json_object_object_get(wl, "dma");
	if (!dma || live_get_str(dma, "error")) {
		char reason[320];

		snprintf(reason, sizeof(reason), "%s",
			 dma ? live_get_str(dma, "error") : "no dma report");
		json_object_put(wl);
		if (vfio)
			live_cannot_run("VFIO", "no device DMA mapping here: %s", reason);
		live_cannot_run("IOMMUFD", "no iommufd DMA mapping here: %s", reason);
	}
	assert_int_equal(rc, 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	why = live_feature_unavailable(recs, "kernel_pins");
	if (why)
		live_cannot_run("KERNEL_PINS", "kernel_pins unavailable: %s", why);
	pid = live_get_int(wl, "pid");
	ino = live_get_int(json_object_array_get_idx(vms, 0), "gmem_ino");
	holders = live_holders_of(recs, "holder_start", pid, vfio ? "vfio_dma" : "iommufd");
	starts = live_holders_of(recs, "holder_start", pid, "gup_pin");
	ends = live_holders_of(recs, "holder_end", pid, "gup_pin");
	assert_int_equal(json_object_array_length(holders), 1);
	for (i = 0; i < PIN_PAGES; i++) {
		long long o = PIN_OFF + (long long)i * PAGE;
		json_object *h = json_object_array_get_idx(holders, 0);

		/* the DMA holder's range covers the page the kernel saw pinned */
		assert_int_equal(live_get_int(h, "gmem_ino"), ino);
		assert_true(live_get_int(h, "gmem_offset") <= o &&
			    o + PAGE <= live_get_int(h, "gmem_offset") + live_get_int(h, "size"));
		live_check_page_pins(starts, ends, o, ino, "gmem-workload",
				     vfio ? pinned_by_vfio : pinned_by_iommufd, how);
	}
	print_message("%s: %d DMA pins seen in the kernel, e.g. %s\n", how, PIN_PAGES,
		      json_object_to_json_string(json_object_object_get(
				json_object_array_get_idx(starts, 0), "kernel_stack")));
	json_object_put(holders);
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
	json_object_put(wl);
}

static void test_vfio_type1_kernel_pins(void **state)
{
	(void)state;
	dma_pins("vfio");
}

static void test_iommufd_kernel_pins(void **state)
{
	(void)state;
	dma_pins("iommufd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vfio_type1_kernel_pins, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_kernel_pins, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
