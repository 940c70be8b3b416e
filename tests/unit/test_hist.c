// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the log-linear latency histogram: slot math (the same code
 * the BPF programs run), slot bounds, percentiles, log2 sums, and the stat
 * helpers built on them. Pure computation: runs anywhere.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gmemtrace.h"
#include "hist.h"
#include "stats.h"

static void check_value(__u64 v)
{
	__u32 s = gmt_hist_slot_of(v);
	__u64 lo, hi;

	assert_true(s < GMT_HIST_SLOTS);
	gmt_hist_bounds(s, &lo, &hi);
	if (v < lo || v > hi)
		fail_msg("value %llu in slot %u whose bounds are [%llu, %llu]",
			 (unsigned long long)v, s, (unsigned long long)lo,
			 (unsigned long long)hi);
}

/* slot s ends right before slot s+1 starts: no gap, no overlap */
static void test_bounds_contiguous(void **state)
{
	__u64 lo, hi, prev_hi;
	__u32 s;

	gmt_hist_bounds(0, &lo, &hi);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 0);
	prev_hi = hi;
	for (s = 1; s < GMT_HIST_SLOTS; s++) {
		gmt_hist_bounds(s, &lo, &hi);
		if (lo != prev_hi + 1)
			fail_msg("slot %u starts at %llu, slot %u ended at %llu", s,
				 (unsigned long long)lo, s - 1, (unsigned long long)prev_hi);
		assert_true(hi >= lo);
		prev_hi = hi;
	}
	/* the last slot takes everything above */
	assert_true(prev_hi == ~0ULL);
}

/* a slot's width is at most 1/8 of its lower bound: the 12.5% error */
static void test_bounds_relative_width(void **state)
{
	__u64 lo, hi;
	__u32 s;

	for (s = 0; s < GMT_HIST_SLOTS - 1; s++) {
		gmt_hist_bounds(s, &lo, &hi);
		if (s < GMT_HIST_SUB) {
			assert_true(lo == s && hi == s);
			continue;
		}
		assert_true((hi - lo + 1) * GMT_HIST_SUB <= lo);
	}
}

static void test_slot_exhaustive_small(void **state)
{
	__u64 v;

	for (v = 0; v <= 100000; v++)
		check_value(v);
}

static void test_slot_powers_of_two(void **state)
{
	int b;

	for (b = 0; b <= 41; b++) {
		__u64 p = 1ULL << b;

		check_value(p);
		check_value(p - 1);
		check_value(p + 1);
	}
	check_value((1ULL << 42) - 1);
}

/* monotonic: a larger value never lands in an earlier slot */
static void test_slot_monotonic(void **state)
{
	__u32 prev = 0, s;
	__u64 v;

	for (v = 0; v < (1ULL << 44); v = v * 9 / 8 + 1) {
		s = gmt_hist_slot_of(v);
		assert_true(s >= prev);
		prev = s;
	}
}

static void test_slot_huge(void **state)
{
	static const __u64 huge[] = {
		1ULL << 42, (1ULL << 42) + 1, 1ULL << 50, 1ULL << 63, ~0ULL, ~0ULL - 1,
	};
	size_t i;

	for (i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		assert_int_equal(gmt_hist_slot_of(huge[i]), GMT_HIST_SLOTS - 1);
		check_value(huge[i]);
	}
	/* 2^42 - 1 is still in the last slot's own range, 15 << 38 starts it */
	assert_int_equal(gmt_hist_slot_of(15ULL << 38), GMT_HIST_SLOTS - 1);
	assert_int_equal(gmt_hist_slot_of((15ULL << 38) - 1), GMT_HIST_SLOTS - 2);
}

/* the documented formula in gmemtrace.h */
static void test_slot_formula(void **state)
{
	assert_int_equal(gmt_hist_slot_of(7), 7);
	assert_int_equal(gmt_hist_slot_of(8), 8);
	assert_int_equal(gmt_hist_slot_of(15), 15);
	assert_int_equal(gmt_hist_slot_of(16), 16);
	assert_int_equal(gmt_hist_slot_of(17), 16);
	assert_int_equal(gmt_hist_slot_of(18), 17);
	/* 1000 = 0b1111101000: b = 9, sub = (1000 >> 6) & 7 = 7 */
	assert_int_equal(gmt_hist_slot_of(1000), (9 - 2) * 8 + 7);
}

static __u64 *hist_new(void)
{
	__u64 *h = calloc(GMT_HIST_SLOTS, sizeof(*h));

	assert_non_null(h);
	return h;
}

static void add(__u64 *h, __u64 v, __u64 n)
{
	h[gmt_hist_slot_of(v)] += n;
}

static void test_percentile_small_exact(void **state)
{
	__u64 *h = hist_new();
	__u64 v;

	/* one sample each of 0..7: every rank is exact */
	for (v = 0; v < 8; v++)
		add(h, v, 1);
	assert_int_equal(gmt_hist_total(h), 8);
	assert_int_equal(gmt_hist_percentile(h, 0), 0);
	assert_int_equal(gmt_hist_percentile(h, 12.5), 0);
	assert_int_equal(gmt_hist_percentile(h, 25), 1);
	assert_int_equal(gmt_hist_percentile(h, 50), 3);
	assert_int_equal(gmt_hist_percentile(h, 51), 4);
	assert_int_equal(gmt_hist_percentile(h, 100), 7);
	free(h);

	h = hist_new();
	add(h, 5, 100);
	assert_int_equal(gmt_hist_percentile(h, 0), 5);
	assert_int_equal(gmt_hist_percentile(h, 50), 5);
	assert_int_equal(gmt_hist_percentile(h, 99.9), 5);
	assert_int_equal(gmt_hist_percentile(h, 100), 5);
	free(h);
}

static void assert_within(__u64 got, __u64 want, double rel)
{
	double d = (double)got - (double)want;

	if (d < 0)
		d = -d;
	if (d > rel * want)
		fail_msg("got %llu, want %llu within %.1f%%", (unsigned long long)got,
			 (unsigned long long)want, rel * 100);
}

/* 1000 samples, 1..1000 us: the nearest-rank pN is N*10 us */
static void test_percentile_uniform(void **state)
{
	static const double ps[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 100 };
	__u64 *h = hist_new();
	size_t i;
	int us;

	for (us = 1; us <= 1000; us++)
		add(h, us * 1000ULL, 1);
	assert_int_equal(gmt_hist_total(h), 1000);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		__u64 want = (__u64)(ps[i] * 10 + 0.5) * 1000;

		assert_within(gmt_hist_percentile(h, ps[i]), want, 0.125);
	}
	/* out-of-range p is clamped, not extrapolated */
	assert_int_equal(gmt_hist_percentile(h, -5), gmt_hist_percentile(h, 0));
	assert_int_equal(gmt_hist_percentile(h, 150), gmt_hist_percentile(h, 100));
	free(h);
}

/* the answer is monotonic in p and always inside a non-empty slot */
static void test_percentile_monotonic(void **state)
{
	__u64 *h = hist_new(), prev = 0, v, lo, hi;
	double p;

	add(h, 3, 10);
	add(h, 2500, 40);
	add(h, 1ULL << 30, 5);
	for (p = 0; p <= 100; p += 0.5) {
		v = gmt_hist_percentile(h, p);
		assert_true(v >= prev);
		assert_true(h[gmt_hist_slot_of(v)] > 0);
		prev = v;
	}
	/* p0 is the lowest sample, p100 within the highest one's slot */
	assert_int_equal(gmt_hist_percentile(h, 0), 3);
	gmt_hist_bounds(gmt_hist_slot_of(1ULL << 30), &lo, &hi);
	v = gmt_hist_percentile(h, 100);
	assert_true(v >= lo && v <= hi);
	free(h);
}

static void test_percentile_empty_and_last_slot(void **state)
{
	__u64 *h = hist_new(), lo, hi;

	assert_int_equal(gmt_hist_total(h), 0);
	assert_int_equal(gmt_hist_percentile(h, 0), 0);
	assert_int_equal(gmt_hist_percentile(h, 50), 0);
	assert_int_equal(gmt_hist_percentile(h, 100), 0);

	/* the open-ended last slot reports its lower bound, never 2^64-1 */
	add(h, ~0ULL, 3);
	gmt_hist_bounds(GMT_HIST_SLOTS - 1, &lo, &hi);
	assert_int_equal(gmt_hist_percentile(h, 100), lo);
	assert_int_equal(gmt_hist_percentile(h, 50), lo);
	free(h);
}

static void test_log2_sums(void **state)
{
	__u64 *h = hist_new(), out[64], sum = 0;
	__u64 v;
	int i;

	/* every value 0..5000 once: bucket i counts [2^i, 2^(i+1)), 0 and 1 share 0 */
	for (v = 0; v <= 5000; v++)
		add(h, v, 1);
	gmt_hist_log2(h, out, 64);
	assert_int_equal(out[0], 2);
	for (i = 1; i <= 11; i++)
		assert_int_equal(out[i], 1ULL << i);
	assert_int_equal(out[12], 5000 - 4096 + 1);
	for (i = 13; i < 64; i++)
		assert_int_equal(out[i], 0);
	for (i = 0; i < 64; i++)
		sum += out[i];
	assert_int_equal(sum, gmt_hist_total(h));

	/* fewer buckets than powers: the top one collects the rest */
	gmt_hist_log2(h, out, 8);
	for (i = 0, sum = 0; i < 8; i++)
		sum += out[i];
	assert_int_equal(sum, 5001);
	assert_int_equal(out[7], 5001 - 128);
	free(h);
}

static void test_stat_percentile_clamped(void **state)
{
	struct gmt_stat_row *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	/* one sample of 1000 ns: its slot is [960, 1023], p100 would say 1023 */
	add(r->delta.hist, 1000, 1);
	r->total.lat_max_ns = 1000;
	assert_true(gmt_hist_percentile(r->delta.hist, 100) > 1000);
	assert_int_equal(gmt_stat_percentile(r, 100), 1000);
	assert_int_equal(gmt_stat_percentile(r, 99), 1000);
	assert_true(gmt_stat_percentile(r, 0) <= 1000);
	/* below the max: left alone */
	r->total.lat_max_ns = 5000;
	assert_int_equal(gmt_stat_percentile(r, 100), gmt_hist_percentile(r->delta.hist, 100));
	free(r);
}

static void test_stats_delta(void **state)
{
	struct gmt_stats *cur = calloc(3, sizeof(*cur)), *prev = cur + 1, *d = cur + 2;

	assert_non_null(cur);
	cur->vm_pid = 42;
	cur->vm_fd = 7;
	cur->count = 10; prev->count = 4;
	cur->ok = 8; prev->ok = 3;
	cur->bytes = 8 * 4096; prev->bytes = 3 * 4096;
	cur->failed = 2; prev->failed = 1;
	cur->blocked = 1; prev->blocked = 1;
	cur->lat_sum_ns = 100000; prev->lat_sum_ns = 30000;
	cur->lat_max_ns = 9000; prev->lat_max_ns = 5000;
	cur->hist[10] = 7; prev->hist[10] = 2;
	cur->hist[GMT_HIST_SLOTS - 1] = 3; prev->hist[GMT_HIST_SLOTS - 1] = 2;

	gmt_stats_delta(cur, prev, d);
	assert_int_equal(d->count, 6);
	assert_int_equal(d->ok, 5);
	assert_int_equal(d->bytes, 5 * 4096);
	assert_int_equal(d->failed, 1);
	assert_int_equal(d->blocked, 0);
	assert_int_equal(d->lat_sum_ns, 70000);
	assert_int_equal(d->hist[10], 5);
	assert_int_equal(d->hist[GMT_HIST_SLOTS - 1], 1);
	assert_int_equal(gmt_hist_total(d->hist), 6);
	/* identity and the max are not differences */
	assert_int_equal(d->lat_max_ns, 9000);
	assert_int_equal(d->vm_pid, 42);
	assert_int_equal(d->vm_fd, 7);

	/* no previous snapshot: the delta is everything so far */
	gmt_stats_delta(cur, NULL, d);
	assert_memory_equal(d, cur, sizeof(*d));
	free(cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_contiguous),
		cmocka_unit_test(test_bounds_relative_width),
		cmocka_unit_test(test_slot_exhaustive_small),
		cmocka_unit_test(test_slot_powers_of_two),
		cmocka_unit_test(test_slot_monotonic),
		cmocka_unit_test(test_slot_huge),
		cmocka_unit_test(test_slot_formula),
		cmocka_unit_test(test_percentile_small_exact),
		cmocka_unit_test(test_percentile_uniform),
		cmocka_unit_test(test_percentile_monotonic),
		cmocka_unit_test(test_percentile_empty_and_last_slot),
		cmocka_unit_test(test_log2_sums),
		cmocka_unit_test(test_stat_percentile_clamped),
		cmocka_unit_test(test_stats_delta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
