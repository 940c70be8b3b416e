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
				    .pincount = pin, .order = (__u8)order };
	struct gmt_refs_verdict d;
	__u64 sum = 0;
	int i;

	f->c.o = &f->o;
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
	};

	return cmocka_run_group_tests_name("test_refs_holders", tests, NULL, NULL);
}
