// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the refs decomposition (include/gmt_refs.h, shared with the BPF
 * program), its verdict strings, and the --range / --gmem parsers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "refs.h"

static struct gmt_refs_verdict dec(__s32 ref, __s32 map, __s32 pin, __u32 order, bool lru)
{
	struct gmt_refs_verdict v;

	memset(&v, 0xaa, sizeof(v));
	gmt_refs_decompose(ref, map, pin, order, lru, &v);
	return v;
}

static const char *says(struct gmt_refs_verdict v)
{
	static char buf[64];

	gmt_refs_verdict_str(&v, buf, sizeof(buf));
	return buf;
}

static void test_small_folios(void **state)
{
	struct gmt_refs_verdict v;

	/* at rest: the page cache's own reference */
	v = dec(1, 0, -1, 0, true);
	assert_false(v.blocking);
	assert_int_equal(v.expected, 1);
	assert_int_equal(v.pins + v.other + v.lru_batch, 0);
	assert_string_equal(says(v), "ok");

	/* mapped by the host: unmapped by the conversion first */
	v = dec(2, 1, -1, 0, true);
	assert_false(v.blocking);
	assert_int_equal(v.mapcount, 1);
	assert_string_equal(says(v), "mapped only");

	/* the lru_add batch's reference: drained before the check */
	v = dec(2, 0, -1, 0, false);
	assert_false(v.blocking);
	assert_int_equal(v.lru_batch, 1);
	assert_string_equal(says(v), "lru batch only");

	/* !PG_lru without an extra reference is not a batch reference */
	v = dec(1, 0, -1, 0, false);
	assert_int_equal(v.lru_batch, 0);

	/* io_uring fixed buffer, still mapped (as seen on the 6.18 host: 1026) */
	v = dec(1026, 1, -1, 0, true);
	assert_true(v.blocking);
	assert_int_equal(v.pins, 1);
	assert_int_equal(v.other, 0);
	assert_string_equal(says(v), "would block: 1 pin");

	/* after munmap: 1025 */
	v = dec(1025, 0, -1, 0, true);
	assert_int_equal(v.pins, 1);
	assert_int_equal(v.other, 0);

	/* pinned and off the LRU with nothing to spare: the pin is not a batch ref */
	v = dec(1026, 1, -1, 0, false);
	assert_int_equal(v.pins, 1);
	assert_int_equal(v.other, 0);
	assert_int_equal(v.lru_batch, 0);
	assert_string_equal(says(v), "would block: 1 pin");

	/* pinned and still in an lru batch */
	v = dec(1027, 1, -1, 0, false);
	assert_int_equal(v.pins, 1);
	assert_int_equal(v.other, 0);
	assert_int_equal(v.lru_batch, 1);

	/* two pins and a GET reference */
	v = dec(1 + 2048 + 1, 0, -1, 0, true);
	assert_int_equal(v.pins, 2);
	assert_int_equal(v.other, 1);
	assert_string_equal(says(v), "would block: 2 pins, 1 other ref");

	v = dec(4, 0, -1, 0, true);
	assert_int_equal(v.pins, 0);
	assert_int_equal(v.other, 3);
	assert_string_equal(says(v), "would block: 3 other refs");

	/* being freed (below its base): not blocking, flagged */
	v = dec(0, 0, -1, 0, true);
	assert_false(v.blocking);
	assert_int_equal(v.under, 1);

	/* a page type in _mapcount reads as mapcount <= 0 */
	v = dec(1, -1, -1, 0, true);
	assert_int_equal(v.mapcount, 0);
}

static void test_large_folios(void **state)
{
	struct gmt_refs_verdict v;

	/* order 9 (2 MiB): 512 page-cache references at rest */
	v = dec(512, 0, 0, 9, true);
	assert_int_equal(v.nr_pages, 512);
	assert_int_equal(v.expected, 512);
	assert_false(v.blocking);

	/* large folios count a pin as +1 ref and +1 _pincount, not +1024 */
	v = dec(512 + 3, 0, 3, 9, true);
	assert_true(v.blocking);
	assert_int_equal(v.pins, 3);
	assert_int_equal(v.other, 0);

	v = dec(512 + 3 + 2, 0, 3, 9, true);
	assert_int_equal(v.pins, 3);
	assert_int_equal(v.other, 2);

	/* mapped by 512 PTEs, nothing else */
	v = dec(1024, 512, 0, 9, true);
	assert_false(v.blocking);
	assert_string_equal(says(v), "mapped only");

	/* large, pinned, off the LRU with one to spare: the batch's */
	v = dec(512 + 2 + 1, 0, 2, 9, false);
	assert_int_equal(v.pins, 2);
	assert_int_equal(v.lru_batch, 1);
	assert_int_equal(v.other, 0);
	assert_false(dec(512 + 1, 0, 0, 9, false).blocking);

	/* _pincount larger than the excess (racing unpin): clamped */
	v = dec(513, 0, 5, 9, true);
	assert_int_equal(v.pins, 1);
	assert_int_equal(v.other, 0);
}

static void test_parse_range(void **state)
{
	unsigned long long off, len;

	assert_int_equal(gmt_refs_parse_range("0x3000:16K", &off, &len), 0);
	assert_int_equal(off, 0x3000);
	assert_int_equal(len, 16384);
	assert_int_equal(gmt_refs_parse_range("0:2M", &off, &len), 0);
	assert_int_equal(off, 0);
	assert_int_equal(len, 2 << 20);
	assert_int_equal(gmt_refs_parse_range("1G:4096", &off, &len), 0);
	assert_int_equal(off, 1ULL << 30);
	assert_int_not_equal(gmt_refs_parse_range("0x3000", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range(":4096", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range("0:", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range("0:0", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range("-1:4096", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range("0:4096:1", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range("0xffffffffffffffff:2", &off, &len), 0);
	assert_int_not_equal(gmt_refs_parse_range(NULL, &off, &len), 0);
}

static void test_parse_gmem(void **state)
{
	struct gmt_refs_gmem_filter f;

	assert_int_equal(gmt_refs_parse_gmem("34738", &f), 0);
	assert_int_equal(f.kind, GMT_REFS_MATCH_ANY);
	assert_int_equal(f.v, 34738);
	assert_int_equal(gmt_refs_parse_gmem("fd:5", &f), 0);
	assert_int_equal(f.kind, GMT_REFS_MATCH_FD);
	assert_int_equal(f.v, 5);
	assert_int_equal(gmt_refs_parse_gmem("ino:0x10", &f), 0);
	assert_int_equal(f.kind, GMT_REFS_MATCH_INO);
	assert_int_equal(f.v, 16);
	assert_int_not_equal(gmt_refs_parse_gmem("fd:", &f), 0);
	assert_int_not_equal(gmt_refs_parse_gmem("fd:-1", &f), 0);
	assert_int_not_equal(gmt_refs_parse_gmem("fd:99999999999", &f), 0);
	assert_int_not_equal(gmt_refs_parse_gmem("inode:5", &f), 0);
	assert_int_not_equal(gmt_refs_parse_gmem("", &f), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_folios),
		cmocka_unit_test(test_large_folios),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_parse_gmem),
	};

	return cmocka_run_group_tests_name("test_refs", tests, NULL, NULL);
}
