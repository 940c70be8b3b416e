// SPDX-License-Identifier: GPL-2.0-only
/*
 * The live-holder model (src/model/holders.c): lookups by guest_memfd range,
 * ends, and the per-VM sums stat and export show (pinned bytes count each
 * byte once).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "holders.h"
#include "holders_vms.h"

static void add(struct gmt_holders *t, __u64 id, __u64 vm, __u64 ino, __u64 off, __u64 len)
{
	struct gmt_live_holder h = { .id = id, .kind = GMT_HOLD_IOURING_BUF, .pid = 100,
				     .gmem_ino = ino, .gmem_offset = off, .len = len,
				     .vm_id = vm, .vm_pid = 100, .vm_fd = 4 };

	assert_int_equal(gmt_holders_add(t, &h), 0);
}

static void test_find(void **state)
{
	const struct gmt_live_holder *out[8];
	struct gmt_holders t = { 0 };

	add(&t, 1, 1, 7, 0x0000, 0x1000);
	add(&t, 2, 1, 7, 0x2000, 0x1000);
	add(&t, 3, 1, 7, 0x0000, 0x10000);	/* a long one, starting below */
	add(&t, 4, 2, 8, 0x2000, 0x1000);	/* another guest_memfd, same offset */
	assert_int_equal(gmt_holders_find(&t, 7, 0x2000, 0x1000, out, 8), 2);
	assert_true(out[0]->id == 3 && out[1]->id == 2);	/* offset order */
	assert_int_equal(gmt_holders_find(&t, 7, 0x1000, 0x1000, out, 8), 1);
	assert_int_equal(out[0]->id, 3);
	assert_int_equal(gmt_holders_find(&t, 8, 0x2000, 0x1000, out, 8), 1);
	assert_int_equal(out[0]->id, 4);
	assert_int_equal(gmt_holders_find(&t, 8, 0x3000, 0x1000, out, 8), 0);
	assert_int_equal(gmt_holders_find(&t, 9, 0, 1ULL << 40, out, 8), 0);
	/* more than max: counted, max returned */
	assert_int_equal(gmt_holders_find(&t, 7, 0, 0x10000, out, 1), 3);
	assert_true(gmt_holders_remove(&t, 3));
	assert_false(gmt_holders_remove(&t, 3));
	assert_int_equal(gmt_holders_find(&t, 7, 0x1000, 0x1000, out, 8), 0);
	assert_int_equal(gmt_holders_find(&t, 7, 0x2000, 0x1000, out, 8), 1);
	gmt_holders_free(&t);
}

static void test_sum_vms(void **state)
{
	struct gmt_stat_snapshot s = { 0 };
	struct gmt_holders t = { 0 };
	int i;

	add(&t, 1, 1, 7, 0x0000, 0x2000);
	add(&t, 2, 1, 7, 0x1000, 0x2000);	/* overlaps the first by a page */
	add(&t, 3, 1, 7, 0x1000, 0x1000);	/* inside both */
	add(&t, 4, 1, 9, 0x1000, 0x1000);	/* the VM's second guest_memfd */
	add(&t, 5, 2, 8, 0x0000, 0x1000);
	assert_int_equal(gmt_holders_sum_vms(&t, &s), 0);
	assert_int_equal(s.nr_hvms, 2);
	for (i = 0; i < s.nr_hvms; i++) {
		if (s.hvms[i].vm_id == 1) {
			assert_int_equal(s.hvms[i].holders, 4);
			assert_int_equal(s.hvms[i].by_kind[GMT_HOLD_IOURING_BUF], 4);
			assert_int_equal(s.hvms[i].pinned_bytes, 0x3000 + 0x1000);
		} else {
			assert_int_equal(s.hvms[i].vm_id, 2);
			assert_int_equal(s.hvms[i].holders, 1);
			assert_int_equal(s.hvms[i].pinned_bytes, 0x1000);
		}
	}
	gmt_holders_free(&t);
	gmt_stats_free(&s);
}

static void add_dma(struct gmt_holders *t, __u64 id, __u8 kind, __u64 off, __u64 len,
		    __u64 iova)
{
	struct gmt_live_holder h = { .id = id, .kind = kind, .pid = 100, .gmem_ino = 7,
				     .gmem_offset = off, .len = len, .iova = iova, .vm_id = 1,
				     .vm_pid = 100, .vm_fd = 4 };

	assert_int_equal(gmt_holders_add(t, &h), 0);
}

/* an iommu_map holder over a DMA holder's pages at its IOVAs is its device
 * mapping (not a second holder in stat); at other IOVAs, or alone, it is one */
static void test_device_mapping(void **state)
{
	struct gmt_stat_snapshot s = { 0 };
	struct gmt_holders t = { 0 };
	const struct gmt_live_holder *out[8];

	add_dma(&t, 1, GMT_HOLD_VFIO_DMA, 0x4000, 0x4000, 0x104000);
	add_dma(&t, 2, GMT_HOLD_IOMMU_MAP, 0x5000, 0x1000, 0x105000);	/* its page 5 */
	add_dma(&t, 3, GMT_HOLD_IOMMU_MAP, 0x6000, 0x1000, 0x900000);	/* another IOVA */
	add_dma(&t, 4, GMT_HOLD_IOMMU_MAP, 0x9000, 0x1000, 0x109000);	/* no DMA holder */
	assert_int_equal(gmt_holders_find(&t, 7, 0x5000, 0x1000, out, 8), 2);
	assert_int_equal(gmt_holders_dma_of(&t, out[0]->id == 2 ? out[0] : out[1])->id, 1);
	assert_int_equal(gmt_holders_find(&t, 7, 0x6000, 0x1000, out, 8), 2);
	assert_null(gmt_holders_dma_of(&t, out[0]->id == 3 ? out[0] : out[1]));
	assert_int_equal(gmt_holders_find(&t, 7, 0x9000, 0x1000, out, 8), 1);
	assert_null(gmt_holders_dma_of(&t, out[0]));
	assert_null(gmt_holders_dma_of(&t, &t.h[0]));	/* a DMA holder is none's mapping */
	assert_int_equal(gmt_holders_sum_vms(&t, &s), 0);
	assert_int_equal(s.nr_hvms, 1);
	assert_int_equal(s.hvms[0].holders, 3);
	assert_int_equal(s.hvms[0].by_kind[GMT_HOLD_VFIO_DMA], 1);
	assert_int_equal(s.hvms[0].by_kind[GMT_HOLD_IOMMU_MAP], 2);
	assert_int_equal(s.hvms[0].pinned_bytes, 0x4000 + 0x1000);
	gmt_holders_free(&t);
	gmt_stats_free(&s);
}

/* export: a VM whose holders went reads 0 until it is gone and expires */
static void test_accumulate(void **state)
{
	struct gmt_stat_snapshot acc = { 0 }, cur = { 0 };
	struct gmt_stat_holders h = { .vm_id = 5, .vm_pid = 1, .vm_fd = 4, .holders = 2,
				      .pinned_bytes = 8192 };
	__u64 live[1] = { 5 };

	cur.holders_on = true;
	cur.hvms = &h;
	cur.nr_hvms = 1;
	cur.live_ids = live;
	cur.nr_live_vms = 1;
	assert_int_equal(gmt_holders_vms_accumulate(&acc, &cur, 100), 0);
	assert_int_equal(acc.nr_hvms, 1);
	assert_int_equal(acc.hvms[0].pinned_bytes, 8192);
	cur.nr_hvms = 0;	/* unpinned, VM alive */
	assert_int_equal(gmt_holders_vms_accumulate(&acc, &cur, 200), 0);
	assert_int_equal(acc.nr_hvms, 1);
	assert_int_equal(acc.hvms[0].holders, 0);
	assert_false(acc.hvms[0].gone);
	cur.nr_live_vms = 0;	/* the VM went */
	assert_int_equal(gmt_holders_vms_accumulate(&acc, &cur, 300), 0);
	assert_true(acc.hvms[0].gone);
	gmt_holders_vms_expire(&acc, 350, 100);
	assert_int_equal(acc.nr_hvms, 1);
	gmt_holders_vms_expire(&acc, 400, 100);
	assert_int_equal(acc.nr_hvms, 0);
	gmt_stats_free(&acc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_sum_vms),
		cmocka_unit_test(test_device_mapping),
		cmocka_unit_test(test_accumulate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
