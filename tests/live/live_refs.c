// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `gmemtrace refs` against real guest_memfds that gmem-workload pinned
 * with io_uring fixed buffers: exactly the pinned pages are reported as
 * blocking, with one pin each and the refcount that says so; unpinned
 * guest_memfds report nothing; --gmem and --range include and exclude; the
 * resumable walk loses and repeats nothing; pfns agree with
 * /proc/PID/pagemap; a process without guest_memfd is said so (exit 0), one
 * that does not exist is a usage error (exit 2). Also times 2 MiB and 64 MiB.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_OFF		0x3000
#define PIN_PAGES	4

#include "refs_util.h"

/* pfn of the page at guest_memfd offset off, through the process's own mapping of it */
static long long pagemap_pfn(pid_t pid, unsigned long long ino, unsigned long long off)
{
	char path[64], line[512];
	unsigned long long lo, hi, moff, e = 0, mino;
	long long pfn = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %*s %llx %*s %llu", &lo, &hi, &moff, &mino) != 4 ||
		    mino != ino || off < moff || off >= moff + (hi - lo))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
		{
			FILE *pm = fopen(path, "r");

			if (pm && !fseek(pm, (long)((lo + off - moff) / PAGE * 8), SEEK_SET) &&
			    fread(&e, 8, 1, pm) == 1 && (e >> 63))
				pfn = (long long)(e & ((1ULL << 55) - 1));
			if (pm)
				fclose(pm);
		}
		break;
	}
	if (f)
		fclose(f);
	return pfn;
}

static unsigned long long fd_ino(pid_t pid, long long fd)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/fd/%lld", pid, fd);
	return stat(path, &st) ? 0 : st.st_ino;
}

/* the only gmem record of pid; its inode */
static unsigned long long only_gmem(json_object *recs, pid_t pid, long long *fd)
{
	json_object *g = kind(recs, "gmem", pid);
	unsigned long long ino;

	assert_int_equal(len(g), 1);
	ino = (unsigned long long)live_get_int(at(g, 0), "gmem_ino");
	if (fd)
		*fd = live_get_int(at(g, 0), "fd");
	json_object_put(g);
	return ino;
}

static void check_pinned_folio(json_object *f)
{
	long long ref = live_get_int(f, "refcount"), exp = live_get_int(f, "expected");
	long long map = live_get_int(f, "mapcount"), lru = live_get_int(f, "lru_batch");

	assert_true(get_bool(f, "blocking"));
	assert_int_equal(live_get_int(f, "pins"), 1);
	assert_int_equal(live_get_int(f, "other"), 0);
	assert_int_equal(exp, 1);
	assert_int_equal(live_get_int(f, "order"), 0);
	/* a pinned order-0 folio reads GUP_PIN_COUNTING_BIAS above its base */
	assert_int_equal(ref - exp - map - lru, 1024);
	assert_string_equal(live_get_str(f, "verdict"), "would block: 1 pin");
}

static const char *const pin_args[] = { "--pin", "4", "--pin-offset", "0x3000", NULL };

static void test_refs_pinned(void **state)
{
	struct wl w;
	json_object *recs, *folios, *sum, *tot, *first;
	const char *err = live_tmp("refs-pinned.err");
	char pid[16];
	unsigned long long ino;
	long long fd;
	size_t i;

	if (!live_require_tracing() || !gmem_usable())
		skip();
	wl_start(&w, "pinned", pin_args);
	snprintf(pid, sizeof(pid), "%d", w.pid);

	{
		const char *a[] = { "-p", pid, NULL };

		if (refs(&recs, err, a)) {
			live_dump(err, 20);
			fail_msg("gmemtrace refs failed");
		}
	}
	ino = only_gmem(recs, w.pid, &fd);
	assert_int_equal(ino, fd_ino(w.pid, fd));	/* the inode user space sees */
	folios = kind(recs, "folio", 0);
	assert_int_equal(len(folios), PIN_PAGES);	/* the pinned pages and no other */
	for (i = 0; i < len(folios); i++) {
		json_object *f = at(folios, i);
		long long pfn;

		assert_int_equal(live_get_int(f, "offset"), PIN_OFF + i * PAGE);
		assert_int_equal(live_get_int(f, "index"), PIN_OFF / PAGE + i);
		assert_int_equal(live_get_int(f, "gmem_ino"), ino);
		check_pinned_folio(f);
		/* the pin's mapping is still there: pagemap knows the pfn */
		pfn = pagemap_pfn(w.pid, ino, PIN_OFF + i * PAGE);
		if (pfn > 0 && !live_is_null(f, "pfn"))
			assert_int_equal(live_get_int(f, "pfn"), pfn);
	}
	sum = kind(recs, "summary", w.pid);
	assert_int_equal(len(sum), 1);
	assert_int_equal(live_get_int(at(sum, 0), "folios_scanned"), 512);	/* all touched */
	assert_int_equal(live_get_int(at(sum, 0), "blocking"), PIN_PAGES);
	assert_int_equal(live_get_int(at(sum, 0), "pins"), PIN_PAGES);
	assert_int_equal(live_get_int(at(sum, 0), "pinned_folios"), PIN_PAGES);
	assert_true(get_bool(at(sum, 0), "complete"));
	tot = kind(recs, "total", 0);
	assert_int_equal(len(tot), 1);
	assert_int_equal(live_get_int(at(tot, 0), "blocking"), PIN_PAGES);
	json_object_put(folios);
	json_object_put(sum);
	json_object_put(tot);
	first = recs;	/* checked against the workload's account at the end */

	/* --exit-code: a host operator's "would a conversion fail now?" */
	{
		const char *a[] = { "-p", pid, "--exit-code", NULL };

		assert_int_equal(refs(&recs, err, a), 4);
		json_object_put(recs);
	}

	/* --all: every touched page, the unpinned ones not blocking */
	{
		const char *a[] = { "-p", pid, "--all", NULL };
		const char *b[] = { "-p", pid, "--all", "--max-records", "5", NULL };
		json_object *recs2, *f2;

		assert_int_equal(refs(&recs, err, a), 0);
		folios = kind(recs, "folio", 0);
		assert_int_equal(len(folios), 512);
		for (i = 0; i < len(folios); i++) {
			json_object *f = at(folios, i);
			const char *v = live_get_str(f, "verdict");

			assert_int_equal(live_get_int(f, "index"), i);
			if (i >= PIN_OFF / PAGE && i < PIN_OFF / PAGE + PIN_PAGES) {
				check_pinned_folio(f);
				continue;
			}
			assert_false(get_bool(f, "blocking"));
			assert_int_equal(live_get_int(f, "pins"), 0);
			assert_int_equal(live_get_int(f, "other"), 0);
			assert_true(!strcmp(v, "ok") || !strcmp(v, "mapped only") ||
				    !strcmp(v, "lru batch only"));
		}
		/* the same walk in 5-record passes: nothing lost, nothing twice */
		assert_int_equal(refs(&recs2, err, b), 0);
		f2 = kind(recs2, "folio", 0);
		assert_int_equal(len(f2), 512);
		for (i = 0; i < len(f2); i++) {
			assert_int_equal(live_get_int(at(f2, i), "index"), i);
			assert_int_equal(get_bool(at(f2, i), "blocking"),
					 get_bool(at(folios, i), "blocking"));
		}
		sum = kind(recs2, "summary", w.pid);
		assert_true(live_get_int(at(sum, 0), "passes") >= 512 / 5);
		assert_int_equal(live_get_int(at(sum, 0), "blocking"), PIN_PAGES);
		json_object_put(sum);
		json_object_put(f2);
		json_object_put(recs2);
		json_object_put(folios);
		json_object_put(recs);
	}

	/* text: the same four, said in words */
	{
		const char *out = live_tmp("refs.txt");
		const char *argv[] = { live_bin("gmemtrace"), "refs", "-p", pid, "-o", out, NULL };
		char buf[8192];
		FILE *f;
		size_t n;
		char *p;
		int count = 0;

		assert_int_equal(live_run((char *const *)argv, NULL, NULL, 60), 0);
		f = fopen(out, "r");
		assert_non_null(f);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		for (p = buf; (p = strstr(p, "would block: 1 pin")); p++)
			count++;
		assert_int_equal(count, PIN_PAGES);
		assert_non_null(strstr(buf, "0x3000"));
		assert_non_null(strstr(buf, "512 folios scanned"));
	}
	wl_stop(&w);

	/* what the workload says it created: inode, size and create flags */
	recs = first;
	{
		json_object *doc = live_read_json(w.json), *vms, *vm, *g;
		char vmname[32];

		assert_non_null(doc);
		assert_true(json_object_object_get_ex(doc, "vms", &vms));
		vm = at(vms, 0);
		snprintf(vmname, sizeof(vmname), "%d-%lld", w.pid, live_get_int(vm, "vm_fd"));
		g = kind(recs, "gmem", w.pid);
		assert_int_equal(live_get_int(vm, "gmem_ino"), ino);
		assert_int_equal(live_get_int(at(g, 0), "size"), live_get_int(vm, "gmem_size"));
		assert_int_equal(live_get_int(at(g, 0), "flags"), live_get_int(vm, "gmem_flags"));
		assert_int_equal(live_get_int(at(g, 0), "cached_pages"), 512);
		assert_string_equal(live_get_str(at(g, 0), "vm"), vmname);
		json_object_put(g);
		json_object_put(doc);
	}
	json_object_put(recs);
}

static void test_refs_unpinned(void **state)
{
	struct wl w;
	json_object *recs, *sum, *folios;
	const char *err = live_tmp("refs-unpinned-cmd.err");
	char pid[16];
	size_t i;

	const char *const unpin_args[] = { "--pin", "4", "--pin-offset", "0x3000",
					   "--unpin-on-signal", NULL };
	unsigned long long ino_pinned, ino_after;
	char needle[32];

	if (!live_require_tracing() || !gmem_usable())
		skip();
	/* the same guest_memfd before and after its pins are released */
	wl_start(&w, "unpinned", unpin_args);
	snprintf(pid, sizeof(pid), "%d", w.pid);
	{
		const char *a[] = { "-p", pid, "--exit-code", NULL };

		assert_int_equal(refs(&recs, err, a), 4);	/* something would block */
	}
	ino_pinned = only_gmem(recs, w.pid, NULL);
	folios = kind(recs, "folio", 0);
	assert_int_equal(len(folios), 4);
	json_object_put(folios);
	json_object_put(recs);
	kill(w.pid, SIGUSR1);
	snprintf(needle, sizeof(needle), "unpinned %d", w.pid);
	if (!live_wait_for(w.err, needle, 30)) {
		live_dump(w.err, 20);
		fail_msg("gmem-workload did not report the release");
	}
	{
		const char *a[] = { "-p", pid, "--exit-code", NULL };

		assert_int_equal(refs(&recs, err, a), 0);
	}
	ino_after = only_gmem(recs, w.pid, NULL);
	assert_int_equal(ino_after, ino_pinned);
	folios = kind(recs, "folio", 0);
	assert_int_equal(len(folios), 0);
	sum = kind(recs, "summary", w.pid);
	assert_int_equal(live_get_int(at(sum, 0), "folios_scanned"), 512);
	assert_int_equal(live_get_int(at(sum, 0), "blocking"), 0);
	assert_int_equal(live_get_int(at(sum, 0), "pins"), 0);
	json_object_put(sum);
	json_object_put(folios);
	json_object_put(recs);
	{
		const char *a[] = { "-p", pid, "--all", NULL };

		assert_int_equal(refs(&recs, err, a), 0);
	}
	folios = kind(recs, "folio", 0);
	assert_int_equal(len(folios), 512);
	for (i = 0; i < len(folios); i++) {
		assert_false(get_bool(at(folios, i), "blocking"));
		assert_int_equal(live_get_int(at(folios, i), "pins"), 0);
	}
	json_object_put(folios);
	json_object_put(recs);
	kill(w.pid, SIGTERM);	/* the first SIGUSR1 only unpinned */
	assert_int_equal(live_wait(w.pid, 30), 0);
}

/* offsets of the blocking folios and the folios scanned, for one run */
static void blocking_of(const char *const *args, long long *offs, int *n, long long *scanned)
{
	const char *err = live_tmp("refs-filter.err");
	json_object *recs, *folios, *sum;
	size_t i;

	if (refs(&recs, err, args)) {
		live_dump(err, 20);
		fail_msg("gmemtrace refs failed");
	}
	folios = kind(recs, "folio", 0);
	*n = 0;
	for (i = 0; i < len(folios); i++)
		if (get_bool(at(folios, i), "blocking"))
			offs[(*n)++] = live_get_int(at(folios, i), "offset");
	sum = kind(recs, "summary", 0);
	*scanned = 0;
	for (i = 0; i < len(sum); i++)
		*scanned += live_get_int(at(sum, i), "folios_scanned");
	json_object_put(sum);
	json_object_put(folios);
	json_object_put(recs);
}

static void test_refs_filters(void **state)
{
	const char *const small[] = { "--gmem-size", "1M", NULL };
	struct wl w1, w2;
	json_object *recs, *g;
	const char *err = live_tmp("refs-filters.err");
	char p1[16], p2[16], i1[32], i2[32], fd1[32];
	unsigned long long ino1, ino2;
	long long offs[600], scanned, fd;
	int n;
	size_t i;
	bool seen1 = false, seen2 = false;

	if (!live_require_tracing() || !gmem_usable())
		skip();
	wl_start(&w1, "f1", pin_args);
	wl_start(&w2, "f2", small);
	snprintf(p1, sizeof(p1), "%d", w1.pid);
	snprintf(p2, sizeof(p2), "%d", w2.pid);

	/* no -p: every process holding a guest_memfd, ours among them */
	assert_int_equal(refs(&recs, err, NULL), 0);
	ino1 = only_gmem(recs, w1.pid, &fd);
	ino2 = only_gmem(recs, w2.pid, NULL);
	assert_true(ino1 != ino2);
	g = kind(recs, "gmem", 0);
	for (i = 0; i < len(g); i++) {
		seen1 |= (unsigned long long)live_get_int(at(g, i), "gmem_ino") == ino1;
		seen2 |= (unsigned long long)live_get_int(at(g, i), "gmem_ino") == ino2;
	}
	assert_true(seen1 && seen2);
	json_object_put(g);
	json_object_put(recs);
	snprintf(i1, sizeof(i1), "%llu", ino1);
	snprintf(i2, sizeof(i2), "ino:%llu", ino2);
	snprintf(fd1, sizeof(fd1), "fd:%lld", fd);

	/* --gmem INODE includes exactly that one, from all processes */
	{
		const char *a[] = { "--gmem", i1, NULL };

		assert_int_equal(refs(&recs, err, a), 0);
		g = kind(recs, "gmem", 0);
		assert_int_equal(len(g), 1);
		assert_int_equal(live_get_int(at(g, 0), "gmem_ino"), ino1);
		json_object_put(g);
		json_object_put(recs);
		blocking_of(a, offs, &n, &scanned);
		assert_int_equal(n, PIN_PAGES);
		assert_int_equal(scanned, 512);
	}
	{
		const char *a[] = { "--gmem", i2, NULL };

		assert_int_equal(refs(&recs, err, a), 0);
		g = kind(recs, "gmem", 0);
		assert_int_equal(len(g), 1);
		assert_int_equal(live_get_int(at(g, 0), "gmem_ino"), ino2);
		json_object_put(g);
		json_object_put(recs);
		blocking_of(a, offs, &n, &scanned);
		assert_int_equal(n, 0);
		assert_int_equal(scanned, 256);
	}
	/* -p and --gmem together: w2's inode is not w1's */
	{
		const char *a[] = { "-p", p1, "--gmem", i2, NULL };

		assert_int_equal(refs(&recs, err, a), 0);
		g = kind(recs, "gmem", 0);
		assert_int_equal(len(g), 0);
		json_object_put(g);
		json_object_put(recs);
	}
	/* --gmem fd:N within one process; an fd it does not have matches nothing */
	{
		const char *a[] = { "-p", p1, "--gmem", fd1, NULL };
		const char *b[] = { "-p", p1, "--gmem", "fd:999", NULL };

		blocking_of(a, offs, &n, &scanned);
		assert_int_equal(n, PIN_PAGES);
		assert_int_equal(refs(&recs, err, b), 0);
		g = kind(recs, "gmem", 0);
		assert_int_equal(len(g), 0);
		json_object_put(g);
		json_object_put(recs);
	}
	/* two -p: both walked, only w1 blocks */
	{
		const char *a[] = { "-p", p1, "-p", p2, NULL };

		blocking_of(a, offs, &n, &scanned);
		assert_int_equal(n, PIN_PAGES);
		assert_int_equal(scanned, 512 + 256);
	}
	/* --range: the pages overlapping [OFF, OFF+LEN), and only those */
	{
		const char *a[] = { "-p", p1, "--range", "0x4000:0x2000", NULL };
		const char *b[] = { "-p", p1, "--range", "0x7000:4K", NULL };
		const char *c[] = { "-p", p1, "--range", "0x2fff:2", NULL };
		const char *d[] = { "-p", p1, "--range", "0:0x3000", NULL };

		blocking_of(a, offs, &n, &scanned);
		assert_int_equal(n, 2);
		assert_int_equal(offs[0], 0x4000);
		assert_int_equal(offs[1], 0x5000);
		assert_int_equal(scanned, 2);
		blocking_of(b, offs, &n, &scanned);
		assert_int_equal(n, 0);
		assert_int_equal(scanned, 1);
		/* two bytes across a page boundary: pages 2 and 3 */
		blocking_of(c, offs, &n, &scanned);
		assert_int_equal(n, 1);
		assert_int_equal(offs[0], 0x3000);
		assert_int_equal(scanned, 2);
		blocking_of(d, offs, &n, &scanned);
		assert_int_equal(n, 0);
		assert_int_equal(scanned, 3);
	}
	wl_stop(&w1);
	wl_stop(&w2);
}

static void test_refs_no_gmem(void **state)
{
	const char *err = live_tmp("refs-nogmem.err");
	json_object *recs, *tot, *arr;
	char me[16], gone[16];
	pid_t child;
	int st;

	if (!live_require_tracing())
		skip();
	/* this test process holds no guest_memfd */
	snprintf(me, sizeof(me), "%d", getpid());
	{
		const char *a[] = { "-p", me, NULL };

		assert_int_equal(refs(&recs, err, a), 0);
	}
	assert_true(live_wait_for(err, "no guest_memfd", 1));
	tot = kind(recs, "total", 0);
	assert_int_equal(len(tot), 1);
	assert_int_equal(live_get_int(at(tot, 0), "gmems"), 0);
	assert_true(json_object_object_get_ex(at(tot, 0), "pids_without_gmem", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	assert_int_equal(json_object_get_int64(json_object_array_get_idx(arr, 0)), getpid());
	json_object_put(tot);
	json_object_put(recs);

	/* a pid that existed a moment ago and does not now */
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, &st, 0);
	snprintf(gone, sizeof(gone), "%d", child);
	{
		const char *a[] = { "-p", gone, NULL };
		const char *b[] = { "--range", "0x1000", NULL };
		const char *c[] = { "--range", "0x1000:0", NULL };
		const char *d[] = { "--gmem", "fd:x", NULL };
		const char *e[] = { "-p", me, "stray", NULL };

		assert_int_equal(refs(&recs, err, a), 2);
		json_object_put(recs);
		assert_true(live_wait_for(err, "no process", 1));
		assert_int_equal(refs(&recs, err, b), 2);
		json_object_put(recs);
		assert_int_equal(refs(&recs, err, c), 2);
		json_object_put(recs);
		assert_int_equal(refs(&recs, err, d), 2);
		json_object_put(recs);
		assert_int_equal(refs(&recs, err, e), 2);
		json_object_put(recs);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* fully touched guest_memfds of 2 MiB and 64 MiB: complete, and how long it takes */
static void test_refs_timing(void **state)
{
	static const char *const sizes[] = { "2M", "64M" };
	static const long long pages[] = { 512, 16384 };
	const char *err = live_tmp("refs-timing.err");
	int s, k;

	if (!live_require_tracing() || !gmem_usable())
		skip();
	for (s = 0; s < 2; s++) {
		const char *extra[] = { "--gmem-size", sizes[s], NULL };
		double best = 1e9, best_all = 1e9, walk = 0;
		char pid[16];
		struct wl w;

		wl_start(&w, sizes[s], extra);
		snprintf(pid, sizeof(pid), "%d", w.pid);
		for (k = 0; k < 3; k++) {
			const char *a[] = { "-p", pid, NULL };
			const char *b[] = { "-p", pid, "--all", NULL };
			json_object *recs, *sum, *f;
			double t0 = now_ms(), t;

			assert_int_equal(refs(&recs, err, a), 0);
			t = now_ms() - t0;
			best = t < best ? t : best;
			sum = kind(recs, "summary", w.pid);
			assert_int_equal(live_get_int(at(sum, 0), "folios_scanned"), pages[s]);
			assert_true(get_bool(at(sum, 0), "complete"));
			walk = live_get_int(at(sum, 0), "elapsed_ns") / 1e6;
			json_object_put(sum);
			json_object_put(recs);

			t0 = now_ms();
			assert_int_equal(refs(&recs, err, b), 0);
			t = now_ms() - t0;
			best_all = t < best_all ? t : best_all;
			f = kind(recs, "folio", 0);
			assert_int_equal(len(f), pages[s]);
			json_object_put(f);
			json_object_put(recs);
		}
		print_message("refs on a fully touched %s guest_memfd: %.1f ms per run "
			      "(walk %.2f ms), --all %.1f ms (best of 3)\n",
			      sizes[s], best, walk, best_all);
		wl_stop(&w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_refs_pinned, live_teardown),
		cmocka_unit_test_teardown(test_refs_unpinned, live_teardown),
		cmocka_unit_test_teardown(test_refs_filters, live_teardown),
		cmocka_unit_test_teardown(test_refs_no_gmem, live_teardown),
		cmocka_unit_test_teardown(test_refs_timing, live_teardown),
	};

	return cmocka_run_group_tests_name("live_refs", tests, NULL, NULL);
}
