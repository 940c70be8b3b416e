// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of refs --holders' accounting (src/refs/holders.c): for a blocking
 * folio, the holders' references plus the unattributed ones are the excess,
 * whatever the buffer table said; what is not explained carries a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "internal.h"

#define FOLIO	0xffffea0000400000ULL

struct fx {
	struct gmt_refs_opts o;
	struct refs_ctx c;
	struct gmt_refs_attr_view attr[GMT_REFS_MAX_ATTR];
	struct gmt_refs_folio_view v;
	struct refs_gmem gmem;		/* the guest_memfd walked (VFIO cases) */
	__u64 index;			/* the folio's page index */
};

static void holder(struct fx *f, __u64 folio, __u32 buf)
{
	struct gmt_refs_ubuf u = { .folio = folio, .page = folio, .buf_index = buf };

	u.hdr.tgid = 42;
	u.hdr.fd = 6;
	strcpy(u.comm, "wl");
	refs_holders_record(&f->c, &u);
}

/* attribute a folio; returns the verdict's excess as refs computes it */
static __u64 run(struct fx *f, __s32 ref, __s32 map, __s32 pin, __u32 order)
{
	struct gmt_refs_folio r = { .folio = FOLIO, .refcount = ref, .mapcount = map,
				    .pincount = pin, .order = (__u8)order, .index = f->index };
	struct gmt_refs_verdict d;
	__u64 sum = 0;
	int i;

	f->c.o = &f->o;
	f->c.page_shift = 12;
	f->c.cur = &f->gmem;
	refs_holders_done(&f->c);
	gmt_refs_decompose(ref, map, pin, order, true, &d);
	memset(&f->v, 0, sizeof(f->v));
	refs_holders_attribute(&f->c, &r, &d, &f->v, f->attr);
	for (i = 0; i < f->v.nr_attr; i++)
		sum += f->attr[i].refs;
	assert_int_equal(sum + f->v.unattributed, f->v.excess_refs);
	assert_true(!f->v.unattributed == !f->v.unattributed_why);
	return (order ? d.pins : d.pins * 1024ULL) + d.other;
}

static void test_no_holders(void **state)
{
	struct fx f = {};

	(void)state;
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 0);
	assert_int_equal(f.v.unattributed, 1024);
	assert_non_null(strstr(f.v.unattributed_why, "no io_uring buffer"));
	f.o.nr_pids = 1;	/* -p: other processes were not looked at, and it says so */
	run(&f, 1026, 1, -1, 0);
	assert_non_null(strstr(f.v.unattributed_why, "-p"));
}

static void test_one_buffer(void **state)
{
	struct fx f = {};

	(void)state;
	holder(&f, FOLIO - 64, 7);	/* the folios either side are not this one */
	holder(&f, FOLIO, 3);
	holder(&f, FOLIO + 64, 9);
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 1);
	assert_int_equal(f.attr[0].buf_index, 3);
	assert_int_equal(f.attr[0].pid, 42);
	assert_int_equal(f.attr[0].fd, 6);
	assert_int_equal(f.attr[0].pages, 1);
	assert_int_equal(f.attr[0].refs, 1024);
	assert_int_equal(f.v.unattributed, 0);
	assert_null(f.v.unattributed_why);
	free(f.c.ubufs);
}

static void test_other_refs_stay_unattributed(void **state)
{
	struct fx f = {};

	(void)state;
	holder(&f, FOLIO, 0);
	/* two pins and three GET references; one buffer explains one pin */
	assert_int_equal(run(&f, 1 + 2048 + 3, 0, -1, 0), 2051);
	assert_int_equal(f.attr[0].refs, 1024);
	assert_int_equal(f.v.unattributed, 1027);
	assert_non_null(strstr(f.v.unattributed_why, "no io_uring buffer"));
	free(f.c.ubufs);
}

static void test_stale_buffers_clamped(void **state)
{
	struct fx f = {};

	(void)state;
	/* the table still lists two buffers, the folio has one pin left */
	holder(&f, FOLIO, 0);
	holder(&f, FOLIO, 1);
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 2);
	assert_int_equal(f.attr[0].refs + f.attr[1].refs, 1024);
	assert_int_equal(f.v.unattributed, 0);
	free(f.c.ubufs);
}

static void test_large_folio(void **state)
{
	struct fx f = {};

	(void)state;
	/* order 2, two pins in _pincount: each bvec explains one reference */
	holder(&f, FOLIO, 5);
	holder(&f, FOLIO, 5);
	assert_int_equal(run(&f, 4 + 2, 0, 2, 2), 2);
	assert_int_equal(f.v.nr_attr, 1);
	assert_int_equal(f.attr[0].pages, 2);
	assert_int_equal(f.attr[0].refs, 2);
	assert_int_equal(f.v.unattributed, 0);
	free(f.c.ubufs);
}

/* where the ring walk did not load: every pin unattributed, with the reason */
static void test_walk_not_loaded(void **state)
{
	struct fx f = {};

	(void)state;
	snprintf(f.c.rings_off, sizeof(f.c.rings_off), "the verifier refused it: x");
	assert_int_equal(run(&f, 1026 + 1024, 1, -1, 0), 2048);
	assert_int_equal(f.v.nr_attr, 0);
	assert_int_equal(f.v.unattributed, 2048);
	assert_string_equal(f.v.unattributed_why,
			    "io_uring walk not available: the verifier refused it: x");
}

#define MMAP	0x7f0000000000ULL	/* the workload's guest_memfd mmap, at offset 0 */

/* a VFIO type1 mapping of pid 42's container fd 9, and the guest_memfd mmap */
static void vfio_fx(struct fx *f, __u64 vaddr, __u64 size, __u64 iova)
{
	struct gmt_refs_dma d = { .iova = iova, .vaddr = vaddr, .size = size };
	struct gmt_refs_dma_end e = { .status = GMT_REFS_DMA_OK };
	static struct refs_gmem g = { .rec.hdr.ino = 77 };

	f->gmem.rec.hdr.ino = 77;
	f->c.gmems = &g;
	f->c.nr_gmems = 1;
	d.hdr.type = GMT_REFS_REC_DMA;
	d.hdr.tgid = 42;
	d.hdr.fd = 9;
	strcpy(d.comm, "wl");
	e.hdr = d.hdr;
	e.hdr.type = GMT_REFS_REC_DMA_END;
	refs_dma_record(&f->c, &d.hdr);
	refs_dma_record(&f->c, &e.hdr);
	if (!f->c.nr_gmaps) {
		f->c.gmaps = calloc(1, sizeof(*f->c.gmaps));
		f->c.gmaps[0] = (struct refs_gmem_map){ .tgid = 42, .ino = 77, .start = MMAP,
							.end = MMAP + 0x10000, .pgoff = 0 };
		f->c.nr_gmaps = 1;
	}
}

static void vfio_free(struct fx *f)
{
	free(f->c.dmas);
	free(f->c.gmaps);
}

/* a page mapped for DMA: its one pin is the mapping's, at the page's IOVA */
static void test_vfio_dma_mapping(void **state)
{
	struct fx f = { .index = 5 };

	(void)state;
	vfio_fx(&f, MMAP + 0x4000, 0x3000, 0x104000);	/* pages 4-6 */
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 1);
	assert_string_equal(f.attr[0].kind, "vfio_dma");
	assert_int_equal(f.attr[0].pid, 42);
	assert_int_equal(f.attr[0].fd, 9);
	assert_true(f.attr[0].has_iova);
	assert_int_equal(f.attr[0].iova, 0x105000);
	assert_int_equal(f.attr[0].map_iova, 0x104000);
	assert_int_equal(f.attr[0].map_size, 0x3000);
	assert_int_equal(f.attr[0].pages, 1);
	assert_int_equal(f.v.unattributed, 0);
	f.index = 8;	/* beyond the mapping: nobody explains its pin */
	run(&f, 1026, 1, -1, 0);
	assert_int_equal(f.v.nr_attr, 0);
	assert_non_null(strstr(f.v.unattributed_why, "or iommufd IOAS area;"));
	vfio_free(&f);
}

/* a large folio half mapped: one pin per mapped page (_pincount), the rest said */
static void test_vfio_dma_large_folio(void **state)
{
	struct fx f = { .index = 4 };

	(void)state;
	vfio_fx(&f, MMAP + 0x5000, 0x1000, 0x200000);
	/* order 2 at page 4: 4 pages cached, 1 mapped, 2 pins (one not ours) */
	assert_int_equal(run(&f, 4 + 1 + 2, 1, 2, 2), 2);
	assert_int_equal(f.v.nr_attr, 1);
	assert_int_equal(f.attr[0].iova, 0x200000);
	assert_int_equal(f.attr[0].refs, 1);
	assert_int_equal(f.v.unattributed, 1);
	vfio_free(&f);
}

/* an IOAS area of pid 42's iommufd fd 9 over pages (an iopt_pages) */
static void ioas_area(struct fx *f, __u32 ioas, __u64 vaddr, __u64 size, __u64 iova,
		      __u64 pages, bool pinned)
{
	struct gmt_refs_dma d = { .iova = iova, .vaddr = vaddr, .size = size, .ioas_id = ioas,
				  .pages = pages, .kind = GMT_REFS_DMA_IOMMUFD, .pinned = pinned };

	d.hdr.type = GMT_REFS_REC_DMA;
	d.hdr.tgid = 42;
	d.hdr.fd = 9;
	strcpy(d.comm, "wl");
	refs_dma_record(&f->c, &d.hdr);
}

/* an IOAS area with a device attached explains its page's pin, with its
 * IOAS; one no device uses pins nothing and explains nothing */
static void test_ioas_area(void **state)
{
	struct fx f = { .index = 5 };

	(void)state;
	vfio_fx(&f, MMAP + 0x100000, 0x1000, 0x900000);	/* the gmaps, elsewhere */
	ioas_area(&f, 3, MMAP + 0x5000, 0x1000, 0x200000, 0xaa00, false);
	ioas_area(&f, 2, MMAP + 0x4000, 0x2000, 0x104000, 0xbb00, true);
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 1);
	assert_string_equal(f.attr[0].kind, "iommufd");
	assert_true(f.attr[0].has_ioas);
	assert_int_equal(f.attr[0].ioas_id, 2);
	assert_int_equal(f.attr[0].fd, 9);
	assert_int_equal(f.attr[0].iova, 0x105000);
	assert_int_equal(f.attr[0].map_iova, 0x104000);
	assert_int_equal(f.attr[0].refs, 1024);
	assert_int_equal(f.v.unattributed, 0);
	vfio_free(&f);
}

/* IOMMU_IOAS_COPY: two areas (two IOASes) over one iopt_pages pin the page
 * once; both are named, the second explains no further reference */
static void test_ioas_copy_shares_pin(void **state)
{
	struct fx f = { .index = 5 };

	(void)state;
	vfio_fx(&f, MMAP + 0x100000, 0x1000, 0x900000);
	ioas_area(&f, 2, MMAP + 0x5000, 0x1000, 0x105000, 0xbb00, true);
	ioas_area(&f, 4, MMAP + 0x5000, 0x1000, 0x305000, 0xbb00, true);
	/* a third area from its own IOMMU_IOAS_MAP: a pin of its own */
	ioas_area(&f, 5, MMAP + 0x5000, 0x1000, 0x505000, 0xcc00, true);
	assert_int_equal(run(&f, 2 + 2 * 1024, 1, -1, 0), 2048);
	assert_int_equal(f.v.nr_attr, 3);
	assert_int_equal(f.attr[0].ioas_id, 2);
	assert_int_equal(f.attr[0].refs, 1024);
	assert_int_equal(f.attr[1].ioas_id, 4);
	assert_int_equal(f.attr[1].iova, 0x305000);
	assert_int_equal(f.attr[1].pages, 1);
	assert_int_equal(f.attr[1].refs, 0);
	assert_int_equal(f.attr[2].ioas_id, 5);
	assert_int_equal(f.attr[2].refs, 1024);
	assert_int_equal(f.v.unattributed, 0);
	vfio_free(&f);
}

/* IOMMU_IOAS_MAP_FILE of the guest_memfd: matched by inode and offset,
 * with no mmap of it at all */
static void test_ioas_file_mapping(void **state)
{
	struct gmt_refs_dma d = { .iova = 0x400000, .size = 0x4000, .ioas_id = 2,
				  .pages = 0xdd00, .kind = GMT_REFS_DMA_IOMMUFD, .pinned = 1,
				  .file_ino = 77, .file_off = 0x3000 };
	struct fx f = { .index = 5 };

	(void)state;
	vfio_fx(&f, MMAP + 0x100000, 0x1000, 0x900000);
	f.c.nr_gmaps = 0;
	d.hdr.type = GMT_REFS_REC_DMA;
	d.hdr.tgid = 42;
	d.hdr.fd = 9;
	refs_dma_record(&f.c, &d.hdr);
	assert_int_equal(run(&f, 1026, 1, -1, 0), 1024);
	assert_int_equal(f.v.nr_attr, 1);
	assert_int_equal(f.attr[0].iova, 0x402000);
	assert_int_equal(f.v.unattributed, 0);
	vfio_free(&f);
}

/* a walk that could not read everything, or did not load, says so */
static void test_vfio_dma_not_whole(void **state)
{
	struct gmt_refs_dma_end e = { .status = GMT_REFS_DMA_NO_BTF };
	struct fx f = { .index = 8 };

	(void)state;
	vfio_fx(&f, MMAP, 0x1000, 0x100000);
	e.hdr.type = GMT_REFS_REC_DMA_END;
	refs_dma_record(&f.c, &e.hdr);
	run(&f, 1026, 1, -1, 0);
	assert_non_null(strstr(f.v.unattributed_why, "no BTF for vfio_iommu_type1"));
	snprintf(f.c.dma_off, sizeof(f.c.dma_off), "the verifier refused it: y");
	run(&f, 1026, 1, -1, 0);
	assert_string_equal(f.v.unattributed_why,
			    "VFIO/iommufd DMA walk not available: the verifier refused it: y");
	snprintf(f.c.rings_off, sizeof(f.c.rings_off), "x");
	run(&f, 1026, 1, -1, 0);
	assert_string_equal(f.v.unattributed_why, "io_uring walk not available: x; "
			    "VFIO/iommufd DMA walk not available: the verifier refused it: y");
	vfio_free(&f);
}

/* the verifier's reason is the line before its "processed" summary */
static void test_verifier_reason(void **state)
{
	char why[160];

	(void)state;
	refs_verifier_reason("func#0 @0\n1: (b7) r1 = 0\n"
			     "2: <invalid CO-RE relocation>\nfailed to resolve CO-RE relocation "
			     "<byte_off> [12] struct page.compound_head (0:1:0 @ offset 0)\n"
			     "processed 825 insns (limit 1000000)\n", why, sizeof(why));
	assert_string_equal(why, "the verifier refused it: failed to resolve CO-RE relocation "
			    "<byte_off> [12] struct page.compound_head (0:1:0 @ offset 0)");
	refs_verifier_reason("R1 invalid mem access 'scalar'\n", why, sizeof(why));
	assert_string_equal(why, "the verifier refused it: R1 invalid mem access 'scalar'");
	refs_verifier_reason("", why, sizeof(why));
	assert_string_equal(why, "the verifier refused it (no log)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_holders),
		cmocka_unit_test(test_one_buffer),
		cmocka_unit_test(test_other_refs_stay_unattributed),
		cmocka_unit_test(test_stale_buffers_clamped),
		cmocka_unit_test(test_large_folio),
		cmocka_unit_test(test_walk_not_loaded),
		cmocka_unit_test(test_verifier_reason),
		cmocka_unit_test(test_vfio_dma_mapping),
		cmocka_unit_test(test_vfio_dma_large_folio),
		cmocka_unit_test(test_vfio_dma_not_whole),
		cmocka_unit_test(test_ioas_area),
		cmocka_unit_test(test_ioas_copy_shares_pin),
		cmocka_unit_test(test_ioas_file_mapping),
	};

	return cmocka_run_group_tests_name("test_refs_holders", tests, NULL, NULL);
}
