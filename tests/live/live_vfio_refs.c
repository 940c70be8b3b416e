// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `refs --holders` started after the device DMA mapping was made
 * (issue 11 item 3). gmem-workload maps guest_memfd page 5 for a device's DMA
 * (--pin-with vfio: a VFIO type1 container; iommufd: an IOAS) and holds;
 * then refs --holders must name the holder of that folio from the DMA walk
 * (gmt_refs_dma): kind vfio_dma with the workload's pid, its container fd and
 * the page's IOVA, or kind iommufd with its iommufd fd, IOAS id and IOVA,
 * with attributed + unattributed = the excess. With --ioas-copy the page is
 * in two IOASes over one iopt_pages: it is pinned once, by the area in the
 * IOAS the device is attached to, which alone explains it. With the walk off
 * (GMT_REFS_DMA_WALK=off) the output says why. Needs a device bound to
 * vfio-pci behind an IOMMU (vfio=yes rows), and /dev/iommu for the iommufd
 * cases (iommufd=yes): elsewhere SKIP with the reason.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_util.h"
#include "refs_util.h"

#define PAGE		4096
#define PIN_OFF		(5 * PAGE)
#define IOVA_BASE	0x100000	/* GMW_DMA_IOVA_BASE */
#define COPY_SHIFT	0x1000000	/* GMW_IOAS_COPY_SHIFT */
#define PIN_BIAS	1024		/* one pin of an order-0 folio */

/* hold a workload with npages from page 5 mapped for DMA by how (a mapping
 * per page with per_page; copied into a second IOAS, the device attached to
 * copy's side, with copy "src" or "dst"); false: no device */
static bool start_pinned_copy(struct wl *w, const char *how, const char *npages, bool per_page,
			      const char *copy)
{
	const char *extra[12] = { "--pin", npages, "--pin-offset", "0x5000", "--pin-with", how };
	char line[512], needle[64];
	int n = 6;
	FILE *f;

	if (per_page)
		extra[n++] = "--dma-per-page";
	if (copy) {
		extra[n++] = "--ioas-copy";
		extra[n++] = copy;
	}
	if (!live_require_tracing() || !gmem_usable())
		return false;
	wl_start(w, copy ? copy : how, extra);
	snprintf(needle, sizeof(needle), "--pin-with %s:", how);
	f = fopen(w->err, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, needle))
			continue;
		fclose(f);
		kill(w->pid, SIGUSR1);
		live_wait(w->pid, 30);	/* it held without the mapping: its status is not ours */
		line[strcspn(line, "\n")] = '\0';
		/* iommufd is promised apart: a row may have VFIO type1 only */
		if (!strcmp(how, "iommufd"))
			live_cannot_run("IOMMUFD", "no iommufd DMA mapping here: %s", line);
		live_cannot_run("VFIO", "no device DMA mapping here: %s", line);
		return false;
	}
	if (f)
		fclose(f);
	return true;
}

static bool start_pinned_n(struct wl *w, const char *how, const char *npages, bool per_page)
{
	return start_pinned_copy(w, how, npages, per_page, NULL);
}

static bool start_pinned(struct wl *w, const char *how)
{
	return start_pinned_n(w, how, "1", false);
}

/* the folio at off: blocking, and its holders account for its excess */
static json_object *folio_at(json_object *recs, pid_t pid, long long off)
{
	json_object *folios = kind(recs, "folio", pid), *f = NULL, *hs;
	long long sum = 0;
	size_t i;

	for (i = 0; i < len(folios); i++)
		if (live_get_int(at(folios, i), "offset") == off)
			f = json_object_get(at(folios, i));
	json_object_put(folios);
	if (!f)
		fail_msg("refs --holders listed no folio at 0x%llx", off);
	assert_true(get_bool(f, "blocking"));
	assert_true(live_get_int(f, "pins") >= 1);
	assert_true(json_object_object_get_ex(f, "holders", &hs) && hs);
	for (i = 0; i < len(hs); i++)
		sum += live_get_int(at(hs, i), "refs");
	assert_int_equal(sum + live_get_int(f, "unattributed"), live_get_int(f, "excess_refs"));
	return f;
}

static json_object *pinned_folio(json_object *recs, pid_t pid)
{
	return folio_at(recs, pid, PIN_OFF);
}

/* the text format names the same holder on the folio's holder line: want */
static void check_text(pid_t pid, const char *want)
{
	const char *out = live_tmp("refs-dma.txt"), *err = live_tmp("refs-dma.txt.err");
	char p[16];
	const char *argv[] = { live_bin("gmemtrace"), "refs", "--holders", "-p", p, "-o", out,
			       NULL };

	snprintf(p, sizeof(p), "%d", pid);
	assert_int_equal(live_run((char *const *)argv, NULL, err, 120), 0);
	if (!live_wait_for(out, want, 1)) {
		live_dump(out, 10);
		fail_msg("no \"%s\" in refs' text output", want);
	}
}

/* h maps page 5 alone, at its IOVA, and is the folio's one pin: nothing
 * left unexplained */
static void check_page_holder(json_object *h, json_object *f, pid_t pid)
{
	assert_int_equal(live_get_int(h, "pid"), pid);
	assert_string_equal(live_get_str(h, "comm"), "gmem-workload");
	assert_int_equal(live_get_int(h, "iova"), IOVA_BASE + PIN_OFF);
	assert_int_equal(live_get_int(h, "mapping_iova"), IOVA_BASE + PIN_OFF);
	assert_int_equal(live_get_int(h, "mapping_size"), PAGE);
	assert_int_equal(live_get_int(h, "pages"), 1);
	assert_true(live_is_null(h, "buf_index"));
	assert_int_equal(live_get_int(h, "refs"), live_get_int(f, "excess_refs"));
	assert_int_equal(live_get_int(f, "unattributed"), 0);
	assert_true(live_is_null(f, "unattributed_why"));
}

static void test_vfio_type1_found_at_start(void **state)
{
	const char *errf = live_tmp("refs-vfio.refs.err");
	json_object *recs, *f, *hs, *h = NULL, *wl, *dma;
	char pid[16], want[160];
	struct wl w;
	size_t i;

	if (!start_pinned(&w, "vfio"))
		return;
	snprintf(pid, sizeof(pid), "%d", w.pid);
	assert_int_equal(refs(&recs, errf, (const char *[]){ "--holders", "-p", pid, NULL }), 0);
	f = pinned_folio(recs, w.pid);
	json_object_object_get_ex(f, "holders", &hs);
	for (i = 0; i < len(hs); i++)
		if (!strcmp(live_get_str(at(hs, i), "kind"), "vfio_dma"))
			h = at(hs, i);
	if (!h) {
		live_dump(errf, 20);
		fail_msg("no vfio_dma holder: %s", json_object_to_json_string(f));
	}
	check_page_holder(h, f, w.pid);
	snprintf(want, sizeof(want), "holder vfio_dma: pid %d (gmem-workload) container fd %lld "
		 "iova 0x%x", w.pid, live_get_int(h, "fd"), IOVA_BASE + PIN_OFF);
	check_text(w.pid, want);
	wl_stop(&w);
	wl = live_read_json(w.json);
	assert_non_null(wl);
	assert_true(json_object_object_get_ex(wl, "dma", &dma) && dma);
	assert_int_equal(live_get_int(h, "fd"), live_get_int(dma, "container_fd"));
	json_object_put(wl);
	json_object_put(f);
	json_object_put(recs);
}

/* more mappings in one container (IOAS) than one pass writes (256): the
 * walk reads its whole rb-tree, on from the (IOAS and) IOVA where a pass
 * stopped */
static void check_many(const char *how, const char *kind)
{
	const char *errf = live_tmp("refs-many.refs.err");
	json_object *recs, *f, *hs, *h;
	char pid[16];
	struct wl w;
	int i;

	if (!start_pinned_n(&w, how, "300", true))
		return;
	snprintf(pid, sizeof(pid), "%d", w.pid);
	assert_int_equal(refs(&recs, errf, (const char *[]){ "--holders", "-p", pid, NULL }), 0);
	for (i = 0; i < 300; i++) {
		f = folio_at(recs, w.pid, PIN_OFF + i * PAGE);
		assert_true(json_object_object_get_ex(f, "holders", &hs) && hs);
		assert_int_equal(len(hs), 1);
		h = at(hs, 0);
		assert_string_equal(live_get_str(h, "kind"), kind);
		assert_int_equal(live_get_int(h, "iova"), IOVA_BASE + PIN_OFF + i * PAGE);
		assert_int_equal(live_get_int(h, "mapping_iova"), IOVA_BASE + PIN_OFF + i * PAGE);
		assert_int_equal(live_get_int(h, "mapping_size"), PAGE);
		assert_int_equal(live_get_int(f, "unattributed"), 0);
		json_object_put(f);
	}
	wl_stop(&w);
	json_object_put(recs);
}

static void test_vfio_many_mappings(void **state)
{
	check_many("vfio", "vfio_dma");
}

static void test_iommufd_many_areas(void **state)
{
	check_many("iommufd", "iommufd");
}

/* a pin refs --holders cannot attribute, whose reason names what was not read */
static void check_said(const char *how, bool walk_off, const char *why)
{
	const char *errf = live_tmp("refs-unattributed.refs.err");
	json_object *recs, *f;
	char pid[16];
	struct wl w;

	if (!start_pinned(&w, how))
		return;
	snprintf(pid, sizeof(pid), "%d", w.pid);
	if (walk_off)
		setenv("GMT_REFS_DMA_WALK", "off", 1);
	assert_int_equal(refs(&recs, errf, (const char *[]){ "--holders", "-p", pid, NULL }), 0);
	unsetenv("GMT_REFS_DMA_WALK");
	f = pinned_folio(recs, w.pid);
	assert_true(live_get_int(f, "unattributed") > 0);
	if (!strstr(live_get_str(f, "unattributed_why"), why))
		fail_msg("unattributed_why: %s", live_get_str(f, "unattributed_why"));
	if (walk_off && !live_wait_for(errf, "VFIO/iommufd DMA walk not available", 1))
		fail_msg("refs did not say the DMA walk is off");
	wl_stop(&w);
	json_object_put(f);
	json_object_put(recs);
}

/* the walk turned off: the same pin is unattributed, and the output says why */
static void test_vfio_walk_off_said(void **state)
{
	check_said("vfio", true, "VFIO/iommufd DMA walk not available: turned off");
}

/* the one holder of kind at the pinned folio (others: none), and the folio */
static json_object *only_holder(json_object *recs, pid_t pid, const char *kind,
				json_object **folio)
{
	json_object *f = pinned_folio(recs, pid), *hs;

	json_object_object_get_ex(f, "holders", &hs);
	if (len(hs) != 1 || strcmp(live_get_str(at(hs, 0), "kind"), kind))
		fail_msg("want one %s holder: %s", kind, json_object_to_json_string(f));
	*folio = f;
	return at(hs, 0);
}

/* the workload's report: its iommufd fd and IOAS ids */
static json_object *wl_dma(struct wl *w, json_object **wl)
{
	json_object *dma;

	*wl = live_read_json(w->json);
	assert_non_null(*wl);
	assert_true(json_object_object_get_ex(*wl, "dma", &dma) && dma);
	return dma;
}

/* an IOAS area made before refs started: kind iommufd, the workload's
 * iommufd fd, its IOAS and the page's IOVA; the area is the folio's pin */
static void test_iommufd_found_at_start(void **state)
{
	const char *errf = live_tmp("refs-iommufd.refs.err");
	json_object *recs, *f, *h, *wl, *dma;
	char pid[16], want[160];
	long long fd, ioas;
	struct wl w;

	if (!start_pinned(&w, "iommufd"))
		return;
	snprintf(pid, sizeof(pid), "%d", w.pid);
	assert_int_equal(refs(&recs, errf, (const char *[]){ "--holders", "-p", pid, NULL }), 0);
	h = only_holder(recs, w.pid, "iommufd", &f);
	check_page_holder(h, f, w.pid);
	fd = live_get_int(h, "fd");
	ioas = live_get_int(h, "ioas_id");
	snprintf(want, sizeof(want), "holder iommufd: pid %d (gmem-workload) iommufd fd %lld "
		 "ioas %lld iova 0x%x", w.pid, fd, ioas, IOVA_BASE + PIN_OFF);
	check_text(w.pid, want);
	wl_stop(&w);
	dma = wl_dma(&w, &wl);
	assert_int_equal(fd, live_get_int(dma, "iommufd"));
	assert_int_equal(ioas, live_get_int(dma, "ioas_id"));
	json_object_put(wl);
	json_object_put(f);
	json_object_put(recs);
}

/*
 * IOMMU_IOAS_COPY of the mapping into a second IOAS: the page is pinned once
 * (excess_refs: one pin) whichever IOAS the device is attached to, and the
 * area there explains it: the first IOAS's with "src", the copy's (at IOVA
 * + 0x1000000) with "dst"; the other area pins nothing and is not named.
 */
static void check_copy(const char *attached)
{
	bool dst = !strcmp(attached, "dst");
	const char *errf = live_tmp("refs-copy.refs.err");
	json_object *recs, *f, *h, *wl, *dma;
	char pid[16];
	struct wl w;

	if (!start_pinned_copy(&w, "iommufd", "1", false, attached))
		return;
	snprintf(pid, sizeof(pid), "%d", w.pid);
	assert_int_equal(refs(&recs, errf, (const char *[]){ "--holders", "-p", pid, NULL }), 0);
	h = only_holder(recs, w.pid, "iommufd", &f);
	printf("# --ioas-copy %s: excess_refs %lld, pins %lld (one pin: %d)\n", attached,
	       live_get_int(f, "excess_refs"), live_get_int(f, "pins"), PIN_BIAS);
	assert_int_equal(live_get_int(f, "pins"), 1);
	assert_int_equal(live_get_int(f, "excess_refs"), PIN_BIAS);
	assert_int_equal(live_get_int(h, "iova"), IOVA_BASE + PIN_OFF + (dst ? COPY_SHIFT : 0));
	assert_int_equal(live_get_int(h, "refs"), PIN_BIAS);
	assert_int_equal(live_get_int(f, "unattributed"), 0);
	wl_stop(&w);
	dma = wl_dma(&w, &wl);
	assert_int_equal(live_get_int(dma, "copies"), 1);
	assert_int_equal(live_get_int(h, "ioas_id"),
			 live_get_int(dma, dst ? "copy_ioas_id" : "ioas_id"));
	json_object_put(wl);
	json_object_put(f);
	json_object_put(recs);
}

static void test_iommufd_copy_device_on_src(void **state)
{
	check_copy("src");
}

static void test_iommufd_copy_device_on_dst(void **state)
{
	check_copy("dst");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_vfio_type1_found_at_start, live_teardown),
		cmocka_unit_test_teardown(test_vfio_many_mappings, live_teardown),
		cmocka_unit_test_teardown(test_vfio_walk_off_said, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_found_at_start, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_copy_device_on_src, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_copy_device_on_dst, live_teardown),
		cmocka_unit_test_teardown(test_iommufd_many_areas, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
