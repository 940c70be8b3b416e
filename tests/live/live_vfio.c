// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: the original report's case. gmem-workload maps guest_memfd page 5
 * for a device's DMA (VFIO type1 on a container, then iommufd on an IOAS
 * the device's vfio cdev is attached to: --pin-with, tools/workload/
 * pins_dma.c) and runs block-retry: the G3 conversion to private is refused
 * with EAGAIN at 0x5000, the mapping is unmapped, the retry succeeds.
 * `gmemtrace trace --holders` must show the blocked conversion, and a holder
 * of that page with the workload's pid, comm, container / iommufd and IOAS,
 * IOVA, inode, offset and a stack through the workload's dma_map; then its
 * end by unmap. The workload holds 2 s after the scenario: a stack is
 * symbolized from the live process (src/model/stacks.c), so one that has
 * exited before the tracer reads its record shows addresses only. Needs a device bound to vfio-pci behind an IOMMU (the
 * inplace-v8-7.2-iommu row, vfio=yes): elsewhere SKIP with the reason.
 * Killed while it holds a VFIO mapping, the workload's holder ends with its
 * exit (the kernel drops the container with the process). With --ioas-copy
 * dst the mapping is copied into a second IOAS (IOMMU_IOAS_COPY) that the
 * device is attached to: a second holder starts there (that IOAS, IOVA +
 * 0x1000000), the blocked record counts both with the excess explained
 * (their areas share one pin per page), and the copy's unmap ends it.
 *
 * The same mapping seen by the iommu:map tracepoint (bpf/iommu_maps.bpf.c):
 * an iommu_map holder of page 5 at its IOVA with its physical address,
 * folio, kernel stack and VM, ended by the unmap. In the blocked record it
 * is folded into its vfio_dma / iommufd holder as that holder's device
 * mapping: the pin counted once. With GMT_HOLDERS_DMA=off (the ioctls not
 * followed, as for a mapping a driver made) it alone explains the excess;
 * that run also maps and unmaps an anonymous page 20 times first
 * (--dma-loop, at 0xc0000000): those mappings make no holder and their
 * unmaps end none, so the holder still explains the blocked conversion.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_PAGE	5
#define PIN_OFF		(PIN_PAGE * PAGE)
#define IOVA_BASE	0x100000	/* GMW_DMA_IOVA_BASE */
#define COPY_SHIFT	0x1000000	/* GMW_IOAS_COPY_SHIFT */
#define PIN_IOVA	(IOVA_BASE + PIN_OFF)

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		fail_msg("no \"%s\" in %s", key, json_object_to_json_string(o));
	return v;
}

/* the workload refused at page 5 and converted after the unmap */
static void check_workload(json_object *wl)
{
	json_object *steps = get(get(wl, "scenario"), "steps");

	assert_true(json_object_array_length(steps) >= 2);
	assert_int_equal(live_get_int(json_object_array_get_idx(steps, 0), "ret"), -11);
	assert_int_equal(live_get_int(json_object_array_get_idx(steps, 0), "error_offset"),
			 PIN_OFF);
	assert_int_equal(live_get_int(json_object_array_get_idx(steps, 1), "ret"), 0);
}

/* the blocked record names the device holders of its folio (kind, the
 * workload's pid, IOVA, its mapping call's stack; with a copy, its holder in
 * the second IOAS too, though a record of 2 KiB may list only the first and
 * count the other as unlisted), and the holders explain the whole excess:
 * one DMA mapping (and its copy) pins the page once */
static void check_blocked_names(json_object *e, const char *how, long long pid, bool copy,
				bool dma_off, long long map_id)
{
	json_object *hs = get(e, "holders"), *list = get(hs, "list");
	const char *kind = dma_off ? "iommu_map" : !strcmp(how, "vfio") ? "vfio_dma" : "iommufd";
	bool folded = false;
	size_t i;

	(void)live_blocked_holder_at(e, PIN_OFF);	/* at least one, over the page */
	assert_int_equal(live_get_int(hs, "count"), 1 + copy);
	assert_int_equal(json_object_array_length(list) + live_get_int(hs, "unlisted"), 1 + copy);
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *h = json_object_array_get_idx(list, i);
		long long iova = live_get_int(h, "iova");

		assert_string_equal(live_get_str(h, "kind"), kind);
		assert_int_equal(live_get_int(h, "pid"), pid);
		assert_int_equal(live_get_int(h, "gmem_offset"), PIN_OFF);
		if (iova != IOVA_BASE + PIN_OFF && (!copy || iova != IOVA_BASE + PIN_OFF + COPY_SHIFT))
			fail_msg("a blocked record's holder at IOVA 0x%llx", iova);
		if (dma_off) {	/* the tracepoint's attribution alone explains the pin */
			assert_int_equal(live_get_int(h, "holder_id"), map_id);
			assert_int_equal(live_get_int(h, "refs"), live_get_int(hs, "excess_refs"));
			assert_true(live_get_int(h, "paddr") != 0);
			continue;
		}
		/* the iommu:map view of a DMA holder is folded into it (with a
		 * copy, only the IOAS the device is attached to has a mapping) */
		if (!live_is_null(h, "device_mapping")) {
			assert_true(live_get_int(h, "paddr") != 0);
			folded |= live_get_int(h, "device_mapping") == map_id;
		}
		if (!live_stack_has(h, "dma_map+"))
			fail_msg("no dma_map frame in the blocked record's holder: %s",
				 json_object_to_json_string(h));
	}
	if (!dma_off && !folded && !live_get_int(hs, "unlisted"))
		fail_msg("the iommu_map holder %lld is folded into no DMA holder: %s", map_id,
			 json_object_to_json_string(list));
	assert_int_equal(live_get_int(hs, "attributed_refs") + live_get_int(hs, "unattributed_refs"),
			 live_get_int(hs, "excess_refs"));
	assert_int_equal(live_get_int(hs, "unattributed_refs"), 0);
}

/* the conversion to private refused at the held page, then one that worked */
static void check_converts(json_object *conv, const char *how, long long pid, bool copy,
			   bool dma_off, long long map_id)
{
	bool blocked = false, retried = false;
	size_t i;

	for (i = 0; i < json_object_array_length(conv); i++) {
		json_object *e = json_object_array_get_idx(conv, i);

		if (strcmp(live_get_str(e, "dir"), "to_private"))
			continue;
		if (live_get_int(e, "ret") == -11) {
			assert_int_equal(live_get_int(e, "error_offset"), PIN_OFF);
			check_blocked_names(e, how, pid, copy, dma_off, map_id);
			blocked = true;
		} else if (blocked && live_get_int(e, "ret") == 0) {
			retried = true;
		}
	}
	if (!blocked || !retried)
		fail_msg("want a blocked conversion at 0x%x and a retry that works; got %s",
			 PIN_OFF, json_object_to_json_string(conv));
}

/* the iommu:map view of the same mapping: page 5 of the workload's
 * guest_memfd at the IOVA the device was given (with a copy, the device's
 * IOAS decides which), with paddr, folio, kernel stack and VM; ended by the
 * unmap (both made by the workload's ioctls). Returns its holder_id. */
static long long check_iommu_map(json_object *recs, json_object *wl, long long pid, bool copy)
{
	json_object *starts = live_holders_of(recs, "holder_start", pid, "iommu_map");
	json_object *ends = live_holders_of(recs, "holder_end", pid, "iommu_map");
	long long ino = live_get_int(json_object_array_get_idx(get(wl, "vms"), 0), "gmem_ino");
	json_object *h = NULL, *st;
	bool ended = false;
	long long id, iova;
	size_t i;

	for (i = 0; i < json_object_array_length(starts) && !h; i++) {
		json_object *r = json_object_array_get_idx(starts, i);

		iova = live_get_int(r, "iova");
		if (iova == PIN_IOVA || (copy && iova == PIN_IOVA + COPY_SHIFT))
			h = r;
	}
	if (!h)
		fail_msg("no iommu_map holder at IOVA 0x%x: %s", PIN_IOVA,
			 json_object_to_json_string(starts));
	assert_true(json_object_array_length(starts) >= 1 &&
		    json_object_array_length(starts) <= 1 + (size_t)copy);
	assert_int_equal(live_get_int(h, "gmem_ino"), ino);
	assert_int_equal(live_get_int(h, "gmem_offset"), PIN_OFF);
	assert_int_equal(live_get_int(h, "size"), PAGE);
	assert_true(live_get_int(h, "paddr") != 0 && !(live_get_int(h, "paddr") & (PAGE - 1)));
	assert_true(live_get_int(h, "folio") != 0);
	assert_int_equal(live_get_int(h, "vm_pid"), pid);
	assert_true(live_get_int(h, "vm_id") != 0);
	assert_true(json_object_object_get_ex(h, "kernel_stack", &st));
	assert_true(json_object_array_length(st) > 0);
	for (i = 0; i < json_object_array_length(ends); i++) {
		json_object *e = json_object_array_get_idx(ends, i);

		if (live_get_int(e, "holder_id") != live_get_int(h, "holder_id"))
			continue;
		assert_string_equal(live_get_str(e, "end"), "unmap");
		assert_int_equal(live_get_int(e, "iova"), live_get_int(h, "iova"));
		ended = true;
	}
	if (!ended)
		fail_msg("the iommu_map holder did not end: %s", json_object_to_json_string(ends));
	id = live_get_int(h, "holder_id");
	json_object_put(starts);
	json_object_put(ends);
	return id;
}

/* the holder that started at iova, named as the workload knows it (its
 * IOAS: ioas_key of its dma report), ended by the unmap */
static void check_holder_at(json_object *starts, json_object *ends, json_object *wl,
			    const char *how, long long iova, const char *ioas_key)
{
	json_object *dma = get(wl, "dma"), *h = NULL;
	bool vfio = !strcmp(how, "vfio");
	long long ino = live_get_int(json_object_array_get_idx(get(wl, "vms"), 0), "gmem_ino");
	size_t i;
	bool ended = false;

	for (i = 0; i < json_object_array_length(starts); i++)
		if (live_get_int(json_object_array_get_idx(starts, i), "iova") == iova)
			h = json_object_array_get_idx(starts, i);
	if (!h)
		fail_msg("no holder started at IOVA 0x%llx: %s", iova,
			 json_object_to_json_string(starts));
	assert_string_equal(live_get_str(h, "comm"), "gmem-workload");
	assert_string_equal(live_get_str(h, "kind"), vfio ? "vfio_dma" : "iommufd");
	if (vfio) {
		assert_int_equal(live_get_int(h, "container_fd"), live_get_int(dma, "container_fd"));
		assert_true(live_is_null(h, "iommufd"));
	} else {
		assert_int_equal(live_get_int(h, "iommufd"), live_get_int(dma, "iommufd"));
		assert_int_equal(live_get_int(h, "ioas_id"), live_get_int(dma, ioas_key));
		assert_true(live_is_null(h, "container_fd"));
	}
	assert_true(live_is_null(h, "ring_fd"));
	assert_int_equal(live_get_int(h, "gmem_ino"), ino);
	assert_int_equal(live_get_int(h, "gmem_offset"), PIN_OFF);
	assert_int_equal(live_get_int(h, "size"), PAGE);
	if (!live_stack_has(h, "dma_map+"))
		fail_msg("no dma_map frame in the holder's stack: %s", json_object_to_json_string(h));
	for (i = 0; i < json_object_array_length(ends); i++) {
		json_object *e = json_object_array_get_idx(ends, i);

		if (live_get_int(e, "holder_id") != live_get_int(h, "holder_id"))
			continue;
		assert_string_equal(live_get_str(e, "end"), "unmap");
		assert_int_equal(live_get_int(e, "iova"), iova);
		ended = true;
	}
	assert_true(ended);
}

/* one holder of page 5 through the device (and one in the copy's IOAS) */
static void check_holder(json_object *starts, json_object *ends, json_object *wl,
			 const char *how, bool copy)
{
	assert_int_equal(json_object_array_length(starts), 1 + copy);
	check_holder_at(starts, ends, wl, how, IOVA_BASE + PIN_OFF, "ioas_id");
	if (copy)
		check_holder_at(starts, ends, wl, how, IOVA_BASE + PIN_OFF + COPY_SHIFT,
				"copy_ioas_id");
}

static void run_case(const char *how, const char *copy, bool dma_off)
{
	char out[256], wlj[256], err[256], name[64];
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--holders", "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--in-place", "--conversions", "0",
			       "--gmem-size", "64K", "--pin-pages", "5", "--pin-with", how,
			       "--scenario", "block-retry", "--hold", "2", "--json-out", wlj,
			       copy ? "--ioas-copy" : dma_off ? "--dma-loop" : NULL,
			       copy ? copy : "20", NULL };
	const char *tag = copy ? "iommufd-copy" : dma_off ? "vfio-dma-off" : how;
	json_object *recs, *wl, *starts, *ends, *conv;
	const char *why, *kind = !strcmp(how, "vfio") ? "vfio_dma" : "iommufd";
	long long pid, map_id;

	if (!live_require_tracing())
		return;
	snprintf(name, sizeof(name), "%s.jsonl", tag);
	snprintf(out, sizeof(out), "%s", live_tmp(name));
	snprintf(name, sizeof(name), "%s-wl.json", tag);
	snprintf(wlj, sizeof(wlj), "%s", live_tmp(name));
	snprintf(err, sizeof(err), "%s", live_tmp("vfio.err"));
	if (dma_off)
		setenv("GMT_HOLDERS_DMA", "off", 1);
	live_run((char *const *)argv, NULL, err, 240);
	unsetenv("GMT_HOLDERS_DMA");
	wl = live_read_json(wlj);
	if (!wl) {
		live_dump(err, 20);
		fail_msg("gmem-workload wrote no report");
	}
	/* the device's absence, else whatever kept the scenario from pinning */
	why = json_object_object_get(wl, "dma") ?
	      live_get_str(json_object_object_get(wl, "dma"), "error") : "no dma report";
	if (!why && json_object_object_get(wl, "scenario"))
		why = live_get_str(json_object_object_get(wl, "scenario"), "error");
	if (why) {
		char reason[320];

		snprintf(reason, sizeof(reason), "%s", why);
		json_object_put(wl);
		live_cannot_run("VFIO", "no device DMA mapping here: %s", reason);
	}
	check_workload(wl);
	if (dma_off) {	/* the unrelated mappings were made */
		json_object *loop = get(get(wl, "dma"), "loop");

		assert_int_equal(live_get_int(loop, "ret"), 0);
		assert_int_equal(live_get_int(loop, "pairs"), 20);
	}
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	pid = live_get_int(wl, "pid");
	starts = live_holders_of(recs, "holder_start", pid, kind);
	ends = live_holders_of(recs, "holder_end", pid, kind);
	conv = live_events_of_pid(recs, "convert", pid);
	map_id = check_iommu_map(recs, wl, pid, copy);
	check_converts(conv, how, pid, copy, dma_off, map_id);
	if (dma_off)	/* the ioctls were not followed */
		assert_int_equal(json_object_array_length(starts), 0);
	else
		check_holder(starts, ends, wl, how, copy);
	json_object_put(conv);
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
	json_object_put(wl);
}

/* the first line of path holding needle, into buf; false if none */
static bool line_with(const char *path, const char *needle, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	bool found = false;

	while (f && !found && fgets(buf, (int)len, f))
		found = strstr(buf, needle) != NULL;
	if (f)
		fclose(f);
	if (found)
		buf[strcspn(buf, "\n")] = '\0';
	return found;
}

static void test_vfio_holder_exit(void **state)
{
	const char *out = live_tmp("vfio-exit.jsonl"), *err = live_tmp("vfio-exit.err");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "--holders", "-f", "json", "-o", out,
			       "--", live_bin("gmem-workload"), "--in-place", "--conversions", "0",
			       "--gmem-size", "64K", "--pin", "1", "--pin-offset", "0x5000",
			       "--pin-with", "vfio", "--hold", "60", NULL };
	json_object *recs, *starts, *ends;
	char line[512];
	long long pid;
	pid_t tracer;

	if (!live_require_tracing())
		return;
	tracer = live_spawn((char *const *)argv, NULL, err);
	assert_true(tracer > 0);
	if (!live_wait_for(err, "holding ", LIVE_START_S)) {
		live_dump(err, 20);
		fail_msg("gmem-workload did not reach its hold");
	}
	assert_true(line_with(err, "holding ", line, sizeof(line)));
	pid = atoll(line + strlen("holding "));
	assert_true(pid > 0);
	if (line_with(err, "--pin-with vfio:", line, sizeof(line))) {
		kill((pid_t)pid, SIGKILL);	/* it holds without the mapping */
		live_wait(tracer, 60);
		live_cannot_run("VFIO", "no VFIO DMA mapping here: %s", line);
	}
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	live_wait(tracer, 60);	/* the workload was killed: its status is not ours */
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	starts = live_holders_of(recs, "holder_start", pid, "vfio_dma");
	ends = live_holders_of(recs, "holder_end", pid, "vfio_dma");
	assert_int_equal(json_object_array_length(starts), 1);
	assert_int_equal(json_object_array_length(ends), 1);
	assert_int_equal(live_get_int(json_object_array_get_idx(ends, 0), "holder_id"),
			 live_get_int(json_object_array_get_idx(starts, 0), "holder_id"));
	assert_string_equal(live_get_str(json_object_array_get_idx(ends, 0), "end"),
			    "process_exit");
	json_object_put(starts);
	json_object_put(ends);
	json_object_put(recs);
}

static void test_vfio_type1_holder(void **state)
{
	run_case("vfio", NULL, false);
}

static void test_iommufd_holder(void **state)
{
	run_case("iommufd", NULL, false);
}

static void test_iommufd_copy_holder(void **state)
{
	run_case("iommufd", "dst", false);
}

/* as a driver's mapping: only the iommu:map tracepoint names it */
static void test_iommu_map_only(void **state)
{
	run_case("vfio", NULL, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vfio_type1_holder, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_holder, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_copy_holder, live_teardown),
		cmocka_unit_test_teardown(test_iommu_map_only, live_teardown),
		cmocka_unit_test_teardown(test_vfio_holder_exit, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
