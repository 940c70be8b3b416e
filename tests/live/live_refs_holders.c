// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace refs --holders` against gmem-workload's io_uring fixed
 * buffers, registered before refs runs (--pin 4: one ring whose buffer i
 * pins page 3 + i; --pin 300: more records than one walk pass writes;
 * --pin-pages 3-6,9: a ring per entry, buffer 0 of one pins pages 3..6, of
 * the other page 9). Every pinned folio is attributed to the workload's
 * pid, the ring fd and the buffer of that page, and for every blocking folio
 * attributed + unattributed references = the excess refs computes (pins at
 * 1024 each on order-0 folios, plus other references). Without --holders
 * the records carry no holder fields.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"
#include "refs_util.h"

#define PIN_PAGES	4

static const char *const pin_args[] = { "--pin", "4", "--pin-offset", "0x3000", NULL };

/* fd is one of pid's io_uring rings */
static bool is_ring(pid_t pid, long long fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%lld", pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strcmp(target, "anon_inode:[io_uring]");
}

/* excess as refs computes it: pins (1024 each when order 0) + other */
static long long excess_of(json_object *f)
{
	long long per_pin = live_get_int(f, "order") ? 1 : 1024;

	return live_get_int(f, "pins") * per_pin + live_get_int(f, "other");
}

/* the accounting, and the folio's one holder is (pid, a ring, buf): its ring */
static long long check_folio(json_object *f, pid_t pid, long long buf)
{
	json_object *hs;
	long long sum = 0;
	size_t i;

	assert_true(json_object_object_get_ex(f, "holders", &hs) && hs);
	assert_int_equal(live_get_int(f, "excess_refs"), excess_of(f));
	for (i = 0; i < len(hs); i++) {
		json_object *h = at(hs, i);

		assert_string_equal(live_get_str(h, "kind"), "io_uring_buffer");
		assert_int_equal(live_get_int(h, "pid"), pid);
		assert_string_equal(live_get_str(h, "comm"), "gmem-workload");
		assert_true(is_ring(pid, live_get_int(h, "fd")));
		assert_int_equal(live_get_int(h, "buf_index"), buf);
		assert_int_equal(live_get_int(h, "pages"), 1);
		sum += live_get_int(h, "refs");
	}
	assert_int_equal(sum + live_get_int(f, "unattributed"), live_get_int(f, "excess_refs"));
	/* the walk found the buffer: nothing is left unexplained */
	assert_int_equal(len(hs), 1);
	assert_int_equal(live_get_int(f, "unattributed"), 0);
	assert_true(live_is_null(f, "unattributed_why"));
	return live_get_int(at(hs, 0), "fd");
}

/* the summary's sums: every pin explained, none left */
static void check_summary(json_object *recs, pid_t pid, int nr_pinned)
{
	json_object *sum = kind(recs, "summary", pid);

	assert_int_equal(len(sum), 1);
	assert_int_equal(live_get_int(at(sum, 0), "attributed_refs"), nr_pinned * 1024LL);
	assert_int_equal(live_get_int(at(sum, 0), "unattributed_refs"), 0);
	json_object_put(sum);
}

/* where the workload pinned page idx: buffer and ring (-1: not pinned) */
typedef int (*pin_fn)(long long idx, int *ring);

/*
 * run refs --holders on a workload pinning with args: each blocking folio
 * is held by the buffer and ring where() says (the pages of one ring share
 * its fd, different rings have different fds)
 */
static void holders_case(const char *tag, const char *const *args, pin_fn where, int nr_pinned)
{
	long long *fds = calloc(nr_pinned, sizeof(*fds));
	int *rings = calloc(nr_pinned, sizeof(*rings));
	const char *err = live_tmp("refs-holders.err");
	char pid_s[16];
	const char *a[] = { "-p", pid_s, "--holders", NULL };
	json_object *recs, *folios;
	struct wl w;
	size_t i, j;

	assert_non_null(fds);
	assert_non_null(rings);
	if (!gmem_usable())
		goto out;
	wl_start(&w, tag, args);
	snprintf(pid_s, sizeof(pid_s), "%d", w.pid);
	assert_int_equal(refs(&recs, err, a), 0);
	folios = kind(recs, "folio", w.pid);
	assert_int_equal(len(folios), nr_pinned);
	for (i = 0; i < len(folios); i++) {
		long long idx = live_get_int(at(folios, i), "index");

		int buf = where(idx, &rings[i]);

		assert_true(buf >= 0);
		fds[i] = check_folio(at(folios, i), w.pid, buf);
		for (j = 0; j < i; j++)
			assert_int_equal(fds[j] == fds[i], rings[j] == rings[i]);
	}
	free(fds);
	free(rings);
	check_summary(recs, w.pid, nr_pinned);
	json_object_put(folios);
	json_object_put(recs);
	wl_stop(&w);
	return;
out:
	free(fds);
	free(rings);
}

/* --pin N --pin-offset 0x3000: one ring, buffer i on page 3 + i */
static int pin4_at(long long idx, int *ring)
{
	*ring = 0;
	return idx >= 3 && idx < 7 ? (int)idx - 3 : -1;
}

/* --pin 300: buffer i on page i; more than one walk pass of records */
static int pin300_at(long long idx, int *ring)
{
	*ring = 0;
	return idx < 300 ? (int)idx : -1;
}

/* --pin-pages 3-6,9: a ring per entry, each with buffer 0 */
static int multi_at(long long idx, int *ring)
{
	*ring = idx == 9;
	return (idx >= 3 && idx < 7) || idx == 9 ? 0 : -1;
}

static void test_refs_holders_pinned(void **state)
{
	(void)state;
	holders_case("holders", pin_args, pin4_at, PIN_PAGES);
}

/* 300 records: the ring walk resumes over passes and loses nothing */
static void test_refs_holders_resume(void **state)
{
	static const char *const args[] = { "--pin", "300", NULL };

	(void)state;
	holders_case("holders-300", args, pin300_at, 300);
}

/* one buffer over several pages, and a second buffer */
static void test_refs_holders_multi_page(void **state)
{
	static const char *const args[] = { "--pin-pages", "3-6,9", NULL };
	(void)state;
	holders_case("holders-multi", args, multi_at, 5);
}

/* without --holders: no holder fields, the records are as before */
static void test_refs_holders_off(void **state)
{
	const char *err = live_tmp("refs-holders-off.err");
	char pid_s[16];
	const char *a[] = { "-p", pid_s, NULL };
	json_object *recs, *folios;
	struct wl w;
	size_t i;

	(void)state;
	if (!gmem_usable())
		return;
	wl_start(&w, "holders-off", pin_args);
	snprintf(pid_s, sizeof(pid_s), "%d", w.pid);
	assert_int_equal(refs(&recs, err, a), 0);
	folios = kind(recs, "folio", w.pid);
	assert_int_equal(len(folios), PIN_PAGES);
	for (i = 0; i < len(folios); i++) {
		assert_false(live_has(at(folios, i), "holders"));
		assert_false(live_has(at(folios, i), "unattributed"));
	}
	json_object_put(folios);
	folios = kind(recs, "summary", w.pid);
	assert_int_equal(len(folios), 1);
	assert_false(live_has(at(folios, 0), "attributed_refs"));
	json_object_put(folios);
	json_object_put(recs);
	wl_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_refs_holders_pinned, live_teardown),
		cmocka_unit_test_teardown(test_refs_holders_resume, live_teardown),
		cmocka_unit_test_teardown(test_refs_holders_multi_page, live_teardown),
		cmocka_unit_test_teardown(test_refs_holders_off, live_teardown),
	};

	return cmocka_run_group_tests_name("live_refs_holders", tests, NULL, NULL);
}
