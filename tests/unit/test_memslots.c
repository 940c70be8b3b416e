// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the GPA -> guest_memfd offset table learned from memslot
 * events (src/model/memslots.c), which G1 conversions are translated with.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "memslots.h"

#define VM_A	0xffff888100000000ULL
#define VM_B	0xffff888200000000ULL
#define GB	(1ULL << 30)
#define MB	(1ULL << 20)

static struct gmt_event slot_ev(__u64 vm, __u32 slot, __u64 gpa, __u64 size, __u64 ino,
				__u64 off)
{
	struct gmt_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = GMT_EV_MEMSLOT;
	e.hdr.size = GMT_EVENT_SIZE;
	e.hdr.vm_key = vm;
	e.memslot.slot = slot;
	e.memslot.flags = GMT_KVM_MEM_GUEST_MEMFD;
	e.memslot.gpa = gpa;
	e.memslot.size = size;
	e.memslot.gmem_ino = ino;
	e.memslot.gmem_offset = off;
	e.memslot.gmem_fd = 5;
	return e;
}

static bool xlate(const struct gmt_memslots *m, __u64 vm, __u64 gpa, __u64 *ino, __u64 *off)
{
	*ino = *off = 0xbad;
	return gmt_memslots_translate(m, vm, gpa, ino, off);
}

static void test_empty(void **state)
{
	struct gmt_memslots m = { 0 };
	__u64 ino, off;

	assert_false(xlate(&m, VM_A, 0, &ino, &off));
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));
	gmt_memslots_free(&m);
	gmt_memslots_free(&m);	/* twice is harmless */
}

static void test_add_and_translate(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 1234, 0x10000);
	__u64 ino, off;

	gmt_memslots_update(&m, &e);
	assert_true(xlate(&m, VM_A, 4 * GB + 0x3000, &ino, &off));
	assert_int_equal(ino, 1234);
	assert_int_equal(off, 0x10000 + 0x3000);
	assert_false(xlate(&m, VM_A, 0x3000, &ino, &off));
	gmt_memslots_free(&m);
}

static void test_boundaries(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 1, 4 * GB, 2 * MB, 77, 0);
	__u64 ino, off;

	gmt_memslots_update(&m, &e);
	assert_true(xlate(&m, VM_A, 4 * GB, &ino, &off));
	assert_int_equal(off, 0);
	assert_true(xlate(&m, VM_A, 4 * GB + 2 * MB - 1, &ino, &off));
	assert_int_equal(off, 2 * MB - 1);
	assert_false(xlate(&m, VM_A, 4 * GB + 2 * MB, &ino, &off));
	assert_false(xlate(&m, VM_A, 4 * GB - 1, &ino, &off));
	gmt_memslots_free(&m);
}

/* a slot at the very top of the address space: no wrap-around */
static void test_top_of_address_space(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 2, ~0ULL - 4095, 4096, 9, 0);
	__u64 ino, off;

	gmt_memslots_update(&m, &e);
	assert_true(xlate(&m, VM_A, ~0ULL, &ino, &off));
	assert_int_equal(off, 4095);
	assert_false(xlate(&m, VM_A, 0, &ino, &off));
	assert_false(xlate(&m, VM_A, ~0ULL - 4096, &ino, &off));
	gmt_memslots_free(&m);
}

static void test_replace_same_slot(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 3, 4 * GB, 2 * MB, 100, 0);
	__u64 ino, off;

	gmt_memslots_update(&m, &e);
	e = slot_ev(VM_A, 3, 8 * GB, 1 * MB, 200, 0x200000);
	gmt_memslots_update(&m, &e);
	assert_int_equal(m.nr, 1);
	/* the old range is gone, the new one translates */
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));
	assert_true(xlate(&m, VM_A, 8 * GB + 0x10, &ino, &off));
	assert_int_equal(ino, 200);
	assert_int_equal(off, 0x200010);
	gmt_memslots_free(&m);
}

static void test_delete(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e;
	__u64 ino, off;

	e = slot_ev(VM_A, 0, 0, 1 * MB, 10, 0);
	gmt_memslots_update(&m, &e);
	e = slot_ev(VM_A, 1, 4 * GB, 1 * MB, 11, 0);
	gmt_memslots_update(&m, &e);
	e = slot_ev(VM_A, 2, 8 * GB, 1 * MB, 12, 0);
	gmt_memslots_update(&m, &e);

	/* KVM deletes a slot by setting it with size 0 */
	e = slot_ev(VM_A, 1, 4 * GB, 0, 0, 0);
	gmt_memslots_update(&m, &e);
	assert_int_equal(m.nr, 2);
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));
	/* the others survive the removal */
	assert_true(xlate(&m, VM_A, 0x10, &ino, &off));
	assert_int_equal(ino, 10);
	assert_true(xlate(&m, VM_A, 8 * GB, &ino, &off));
	assert_int_equal(ino, 12);
	/* deleting an unknown slot changes nothing */
	e = slot_ev(VM_A, 9, 0, 0, 0, 0);
	gmt_memslots_update(&m, &e);
	assert_int_equal(m.nr, 2);
	gmt_memslots_free(&m);
}

static void test_non_gmem_ignored(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 0, 0);
	__u64 ino, off;

	e.memslot.flags = 0;	/* plain memory: nothing to translate to */
	gmt_memslots_update(&m, &e);
	assert_int_equal(m.nr, 0);
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));

	/* a gmem slot set again without guest_memfd stops translating */
	e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 55, 0);
	gmt_memslots_update(&m, &e);
	assert_true(xlate(&m, VM_A, 4 * GB, &ino, &off));
	e.memslot.flags = GMT_KVM_MEM_LOG_DIRTY_PAGES;
	gmt_memslots_update(&m, &e);
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));
	gmt_memslots_free(&m);
}

static void test_failed_or_other_events_ignored(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 66, 0);
	__u64 ino, off;

	e.hdr.ret = -22;	/* EINVAL: KVM kept the old state */
	gmt_memslots_update(&m, &e);
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));

	/* a failed delete leaves the slot in place */
	e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 66, 0);
	gmt_memslots_update(&m, &e);
	e.memslot.size = 0;
	e.hdr.ret = -16;
	gmt_memslots_update(&m, &e);
	assert_true(xlate(&m, VM_A, 4 * GB, &ino, &off));

	/* another event kind with the same bytes is not a memslot */
	e = slot_ev(VM_A, 1, 8 * GB, 2 * MB, 67, 0);
	e.hdr.type = GMT_EV_CONVERT;
	gmt_memslots_update(&m, &e);
	assert_false(xlate(&m, VM_A, 8 * GB, &ino, &off));
	gmt_memslots_free(&m);
}

static void test_vms_distinct(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e;
	__u64 ino, off;

	e = slot_ev(VM_A, 0, 4 * GB, 2 * MB, 100, 0);
	gmt_memslots_update(&m, &e);
	e = slot_ev(VM_B, 0, 4 * GB, 2 * MB, 200, 0x400000);
	gmt_memslots_update(&m, &e);
	assert_int_equal(m.nr, 2);
	assert_true(xlate(&m, VM_A, 4 * GB + 8, &ino, &off));
	assert_int_equal(ino, 100);
	assert_int_equal(off, 8);
	assert_true(xlate(&m, VM_B, 4 * GB + 8, &ino, &off));
	assert_int_equal(ino, 200);
	assert_int_equal(off, 0x400008);
	/* deleting slot 0 of one VM leaves the other's slot 0 */
	e = slot_ev(VM_A, 0, 4 * GB, 0, 0, 0);
	gmt_memslots_update(&m, &e);
	assert_false(xlate(&m, VM_A, 4 * GB, &ino, &off));
	assert_true(xlate(&m, VM_B, 4 * GB, &ino, &off));
	/* an unknown VM translates nothing */
	assert_false(xlate(&m, 0, 4 * GB, &ino, &off));
	gmt_memslots_free(&m);
}

/* more slots than the first allocation: nothing lost on growth */
static void test_many_slots(void **state)
{
	struct gmt_memslots m = { 0 };
	struct gmt_event e;
	__u64 ino, off;
	__u32 i;

	for (i = 0; i < 100; i++) {
		e = slot_ev(VM_A, i, (__u64)i * GB, 2 * MB, 1000 + i, i * 0x1000ULL);
		gmt_memslots_update(&m, &e);
	}
	assert_int_equal(m.nr, 100);
	for (i = 0; i < 100; i++) {
		assert_true(xlate(&m, VM_A, (__u64)i * GB + 1, &ino, &off));
		assert_int_equal(ino, 1000 + i);
		assert_int_equal(off, i * 0x1000ULL + 1);
	}
	gmt_memslots_free(&m);
	assert_int_equal(m.nr, 0);
	assert_null(m.v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_add_and_translate),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_replace_same_slot),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_non_gmem_ignored),
		cmocka_unit_test(test_failed_or_other_events_ignored),
		cmocka_unit_test(test_vms_distinct),
		cmocka_unit_test(test_many_slots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
