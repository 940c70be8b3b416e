// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace refs --holders` against gmem-workload's io_uring fixed
 * buffers (--pin 4: buffer i pins page 3 + i). For every blocking folio,
 * attributed + unattributed references = the excess refs computes (pins at
 * 1024 each on order-0 folios, plus other references); each attributed
 * holder names the workload's pid, its ring fd and the buffer of that page.
 * Without --holders the records carry no holder fields.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"
#include "refs_util.h"

#define PAGE		4096
#define PIN_OFF		0x3000
#define PIN_PAGES	4

static const char *const pin_args[] = { "--pin", "4", "--pin-offset", "0x3000", NULL };

/* the process's io_uring fd, -1 if none */
static int ring_fd_of(pid_t pid)
{
	char dir[64], path[320], target[64];
	struct dirent *e;
	int fd = -1;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "anon_inode:[io_uring]"))
			fd = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return fd;
}

/* excess as refs computes it: pins (1024 each when order 0) + other */
static long long excess_of(json_object *f)
{
	long long per_pin = live_get_int(f, "order") ? 1 : 1024;

	return live_get_int(f, "pins") * per_pin + live_get_int(f, "other");
}

/* the accounting, and every holder is (pid, ring, the buffer of this page) */
static int check_folio(json_object *f, pid_t pid, int ring)
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
		assert_int_equal(live_get_int(h, "fd"), ring);
		assert_int_equal(live_get_int(h, "buf_index"),
				 (live_get_int(f, "offset") - PIN_OFF) / PAGE);
		assert_int_equal(live_get_int(h, "pages"), 1);
		sum += live_get_int(h, "refs");
	}
	assert_int_equal(sum + live_get_int(f, "unattributed"), live_get_int(f, "excess_refs"));
	if (live_get_int(f, "unattributed"))
		assert_non_null(live_get_str(f, "unattributed_why"));
	return (int)len(hs);
}

static void test_refs_holders_pinned(void **state)
{
	const char *err = live_tmp("refs-holders.err");
	char pid_s[16];
	const char *a[] = { "-p", pid_s, "--holders", NULL };
	json_object *recs, *folios;
	struct wl w;
	int ring, attributed = 0;
	size_t i;

	(void)state;
	if (!gmem_usable())
		return;
	wl_start(&w, "holders", pin_args);
	ring = ring_fd_of(w.pid);
	assert_true(ring >= 0);
	snprintf(pid_s, sizeof(pid_s), "%d", w.pid);
	assert_int_equal(refs(&recs, err, a), 0);
	folios = kind(recs, "folio", w.pid);
	assert_int_equal(len(folios), PIN_PAGES);
	for (i = 0; i < len(folios); i++)
		attributed += check_folio(at(folios, i), w.pid, ring) > 0;
	print_message("refs --holders: %d of %d pinned folios attributed\n", attributed,
		      PIN_PAGES);
	json_object_put(folios);
	json_object_put(recs);
	wl_stop(&w);
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
		cmocka_unit_test_teardown(test_refs_holders_off, live_teardown),
	};

	return cmocka_run_group_tests_name("live_refs_holders", tests, NULL, NULL);
}
