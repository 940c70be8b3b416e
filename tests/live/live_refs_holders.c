// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace refs --holders` against gmem-workload's io_uring fixed
 * buffers, registered before refs runs (--pin 4: one ring whose buffer i
 * pins page 3 + i; --pin-pages 3-6,9: a ring per entry, buffer 0 of one
 * pins pages 3..6, of the other page 9). Every pinned folio is attributed
 * to the workload's pid, the ring fd and the buffer of that page, and for every blocking folio attributed +
 * unattributed references = the excess refs computes (pins at 1024 each on
 * order-0 folios, plus other references). Without --holders the records
 * carry no holder fields.
 */
#include <stdio.h>
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

/*
 * run refs --holders on a workload pinning with args: page index i is held
 * by buffer buf_of[i] (-1: not pinned) of ring ring_of[i] (the pages of one
 * ring share its fd, different rings have different fds)
 */
static void holders_case(const char *tag, const char *const *args, const int *buf_of,
			 const int *ring_of, int nr_pinned)
{
	long long fds[16];
	const char *err = live_tmp("refs-holders.err");
	char pid_s[16];
	const char *a[] = { "-p", pid_s, "--holders", NULL };
	json_object *recs, *folios;
	struct wl w;
	size_t i, j;

	if (!gmem_usable())
		return;
	wl_start(&w, tag, args);
	snprintf(pid_s, sizeof(pid_s), "%d", w.pid);
	assert_int_equal(refs(&recs, err, a), 0);
	folios = kind(recs, "folio", w.pid);
	assert_int_equal(len(folios), nr_pinned);
	for (i = 0; i < len(folios); i++) {
		long long idx = live_get_int(at(folios, i), "index");

		assert_true(idx >= 0 && idx < 16 && buf_of[idx] >= 0);
		fds[i] = check_folio(at(folios, i), w.pid, buf_of[idx]);
		for (j = 0; j < i; j++) {
			long long jdx = live_get_int(at(folios, j), "index");

			assert_int_equal(fds[j] == fds[i], ring_of[jdx] == ring_of[idx]);
		}
	}
	json_object_put(folios);
	json_object_put(recs);
	wl_stop(&w);
}

static void test_refs_holders_pinned(void **state)
{
	static const int buf_of[16] = { -1, -1, -1, 0, 1, 2, 3, -1, -1, -1, -1, -1, -1, -1,
					-1, -1 };
	static const int ring_of[16] = {};

	(void)state;
	holders_case("holders", pin_args, buf_of, ring_of, PIN_PAGES);
}

/* one buffer over several pages, and a second buffer */
static void test_refs_holders_multi_page(void **state)
{
	static const char *const args[] = { "--pin-pages", "3-6,9", NULL };
	static const int buf_of[16] = { -1, -1, -1, 0, 0, 0, 0, -1, -1, 0, -1, -1, -1, -1,
					-1, -1 };
	static const int ring_of[16] = { [9] = 1 };

	(void)state;
	holders_case("holders-multi", args, buf_of, ring_of, 5);
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
	json_object_put(recs);
	wl_stop(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_refs_holders_pinned, live_teardown),
		cmocka_unit_test_teardown(test_refs_holders_multi_page, live_teardown),
		cmocka_unit_test_teardown(test_refs_holders_off, live_teardown),
	};

	return cmocka_run_group_tests_name("live_refs_holders", tests, NULL, NULL);
}
