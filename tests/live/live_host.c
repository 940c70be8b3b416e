// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: gmemtrace as a host tool (issue 7, findings 6, 7, 8, 10, 11): write
 * errors and closed pipes, checks before -o is touched, a safe -o, the
 * process tree of -- CMD and -p, the shutdown rule, a command that cannot
 * outlive gmemtrace, ranges, BTF and the JSON error record. Real processes,
 * real KVM; everything filtered by pid or -- CMD.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "live_util.h"

#define GT	live_bin("gmemtrace")
#define WL	live_bin("gmem-workload")

/* pids a test starts outside live_spawn (killed by the teardown) */
static pid_t extra[32];
static int nr_extra;

static int teardown(void **state)
{
	int i;

	for (i = 0; i < nr_extra; i++) {
		if (extra[i] > 0) {
			kill(extra[i], SIGKILL);
			waitpid(extra[i], NULL, WNOHANG);
		}
	}
	nr_extra = 0;
	return live_teardown(state);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* argv with stdout on out_fd (a pipe), stderr to a file */
static pid_t spawn_fd(const char *const argv[], int out_fd, const char *err)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(out_fd, 1);
		dup2(fe, 2);
		close_range(3, ~0U, 0);	/* not the pipe's read end: the reader is the test */
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid > 0 && nr_extra < 32)
		extra[nr_extra++] = pid;
	return pid;
}

static int run(const char *const argv[], const char *out, const char *err, double t)
{
	return live_run((char *const *)argv, out, err, t);
}

static bool file_has(const char *path, const char *needle)
{
	return live_wait_for(path, needle, 0.01);
}

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static bool file_is(const char *path, const char *s)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return !strcmp(buf, s);
}

/* exists and is not a zombie */
static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[2] != 'Z' && p[2] != 'X';
}

static pid_t read_pid(const char *path, double timeout)
{
	double end = now_s() + timeout;
	int pid = 0;

	while (now_s() < end) {
		FILE *f = fopen(path, "r");

		if (f) {
			if (fscanf(f, "%d", &pid) != 1)
				pid = 0;
			fclose(f);
			if (pid > 0)
				return pid;
		}
		usleep(20000);
	}
	return -1;
}

/* the single record of a type, which must exist */
static json_object *only(json_object *recs, const char *type)
{
	json_object *a = live_filter(recs, type, NULL), *r;

	if (json_object_array_length(a) != 1)
		fail_msg("%zu '%s' records, want 1", json_object_array_length(a), type);
	r = json_object_get(json_object_array_get_idx(a, 0));
	json_object_put(a);
	return r;
}

static bool has_key(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* ---- finding 6: write errors and closed pipes ---- */

static void test_write_error_is_error(void **state)
{
	const char *err = live_tmp("full.err");
	const char *t[] = { GT, "trace", "-o", "/dev/full", "--", WL, "--conversions", "5", NULL };
	const char *s[] = { GT, "stat", "-o", "/dev/full", "0.1", "--", WL, "--conversions", "5",
			    NULL };
	const char *sj[] = { GT, "stat", "-f", "json", "-o", "/dev/full", "0.1", "--", WL,
			     "--conversions", "5", NULL };

	if (!live_require_tracing())
		skip();
	assert_int_equal(run(t, NULL, err, 60), 1);
	assert_true(file_has(err, "No space left on device"));
	assert_int_equal(run(s, NULL, err, 60), 1);
	assert_true(file_has(err, "No space left on device"));
	assert_int_equal(run(sj, NULL, err, 60), 1);
	assert_true(file_has(err, "/dev/full"));
}

/* `| head -1`: the reader goes away, the command ends promptly with 0 */
static void closed_pipe(const char *const argv[], double max_s)
{
	const char *err = live_tmp("pipe.err");
	char line[256];
	int p[2], rc;
	pid_t pid;
	double t0;
	FILE *f;

	assert_int_equal(pipe(p), 0);
	pid = spawn_fd(argv, p[1], err);
	close(p[1]);
	f = fdopen(p[0], "r");
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);	/* like head -1 */
	t0 = now_s();
	rc = live_wait(pid, max_s + 5);
	if (rc != 0)
		live_dump(err, 10);
	assert_int_equal(rc, 0);
	assert_true(now_s() - t0 < max_s);
}

static void test_closed_pipe_ends_stat(void **state)
{
	const char *a[] = { GT, "stat", "0.1", "--", "/bin/sleep", "30", NULL };

	if (!live_require_tracing())
		skip();
	closed_pipe(a, 7);	/* at most the 5 s grace of sleep's SIGTERM */
}

/* nothing written after the attach record: still seen (POLLERR) */
static void test_closed_pipe_ends_idle_trace(void **state)
{
	const char *a[] = { GT, "trace", "-f", "json", "--", "/bin/sleep", "30", NULL };

	if (!live_require_tracing())
		skip();
	closed_pipe(a, 7);
}

/* ---- finding 7: nothing opened before everything is checked ---- */

static void test_output_untouched_on_usage_error(void **state)
{
	const char *res = live_tmp("results.jsonl"), *noexec = live_tmp("noexec.sh");
	const char *err = live_tmp("untouched.err");
	const char *const cases[][10] = {
		{ GT, "trace", "-f", "json", "-o", res, "--cgroup", "/typo", "--", "/bin/true" },
		{ GT, "trace", "-f", "json", "-o", res, "--", "/nonexistent" },
		{ GT, "trace", "-f", "json", "-o", res, "--", noexec },
		{ GT, "trace", "-f", "json", "-o", res, "--", "no-such-command-gmt" },
		{ GT, "stat", "-o", res, "--", "/nonexistent" },
		{ GT, "trace", "-o", res, "--cgroup", "/tmp", "-d", "0.1" },
	};
	size_t i;

	if (!live_require_tracing())
		skip();
	write_file(noexec, "#!/bin/sh\nexit 0\n");
	chmod(noexec, 0644);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc;

		write_file(res, "previous results\n");
		rc = run(cases[i], NULL, err, 30);
		if (rc != 2 || !file_is(res, "previous results\n")) {
			live_dump(err, 5);
			fail_msg("case %zu (%s ... %s): exit %d, file %s", i, cases[i][1],
				 cases[i][7] ? cases[i][7] : "", rc,
				 file_is(res, "previous results\n") ? "intact" : "CHANGED");
		}
	}
	assert_true(file_has(err, "not a cgroup v2 directory"));
}

/* ---- finding 8: -o does not follow symlinks, mode, FIFOs ---- */

static void test_output_symlink_refused(void **state)
{
	const char *target = live_tmp("precious"), *link = live_tmp("planted-link");
	const char *err = live_tmp("link.err");
	const char *a[] = { GT, "trace", "-o", link, "--", "/bin/true", NULL };

	if (!live_require_tracing())
		skip();
	write_file(target, "root's file\n");
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(run(a, NULL, err, 30), 2);
	assert_true(file_has(err, "symbolic link"));
	assert_true(file_is(target, "root's file\n"));
}

static void test_output_mode_ignores_umask(void **state)
{
	const char *out = live_tmp("mode.txt");
	const char *a[] = { GT, "trace", "-o", out, "--", "/bin/true", NULL };
	struct stat st;
	mode_t old;
	int rc;

	if (!live_require_tracing())
		skip();
	old = umask(0);
	rc = run(a, NULL, NULL, 30);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(out, &st), 0);
	print_message("mode %o under umask 000\n", st.st_mode & 07777);
	assert_int_equal(st.st_mode & 0137, 0);	/* 0640 at most */
}

static void test_output_fifo_without_reader(void **state)
{
	const char *fifo = live_tmp("out.fifo"), *err = live_tmp("fifo.err");
	const char *a[] = { GT, "trace", "-o", fifo, "--", "/bin/true", NULL };
	double t0 = now_s();
	int rc;

	if (!live_require_tracing())
		skip();
	assert_int_equal(mkfifo(fifo, 0600), 0);
	rc = run(a, NULL, err, 10);
	assert_true(now_s() - t0 < 9);
	assert_int_equal(rc, 2);
	assert_true(file_has(err, "no reader"));
}

/* ---- finding 10: process tree, tids, status, shutdown ---- */

/* a wrapper that backgrounds the VMM and exits at once */
static void test_wrapper_background_followed(void **state)
{
	const char *out = live_tmp("wrap.jsonl"), *wl_json = live_tmp("wrap-wl.json");
	char script[1024];
	const char *a[] = { GT, "trace", "-f", "json", "-o", out, "--", "/bin/sh", "-c", script,
			    NULL };
	json_object *wl, *recs, *ev, *calls;
	int i, issued = 0, seen = 0;
	long long wpid;

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script),
		 "(sleep 0.5; exec %s --conversions 5 --json-out %s) >/dev/null 2>&1 &", WL,
		 wl_json);
	assert_int_equal(run(a, NULL, NULL, 60), 0);
	wl = live_read_json(wl_json);
	recs = live_read_ndjson(out);
	assert_non_null(wl);
	assert_non_null(recs);
	assert_true(has_key(wl, "pid"));
	wpid = live_get_int(wl, "pid");
	assert_true(json_object_object_get_ex(wl, "calls", &calls));
	for (i = 0; i < (int)json_object_array_length(calls); i++)
		if (live_is_null(json_object_array_get_idx(calls, i), "skipped"))
			issued++;
	ev = live_filter(recs, "event", "convert");
	for (i = 0; i < (int)json_object_array_length(ev); i++) {
		json_object *e = json_object_array_get_idx(ev, i);

		assert_true(has_key(e, "pid"));
		if (live_get_int(e, "pid") == wpid)
			seen++;
	}
	print_message("workload %lld issued %d conversions, trace saw %d\n", wpid, issued, seen);
	assert_true(issued >= 5);
	assert_int_equal(seen, issued);
	json_object_put(ev);
	json_object_put(only(recs, "summary"));
	json_object_put(wl);
	json_object_put(recs);
}

/* a process whose second thread is given to -p */
static int go_pipe[2], tid_pipe[2];

static void *vm_thread(void *arg)
{
	/* G1 to_private on a fresh VM: ENOTTY here, still a conversion */
	struct { unsigned long long address, size, attributes, flags; } at = {
		0x100000000ULL, 4096, 1ULL << 3, 0 };
	pid_t tid = syscall(SYS_gettid);
	int kvm, vm;
	char b;

	if (write(tid_pipe[1], &tid, sizeof(tid)) != sizeof(tid) || read(go_pipe[0], &b, 1) != 1)
		return NULL;
	kvm = open("/dev/kvm", O_RDWR);
	vm = kvm >= 0 ? ioctl(kvm, 0xae01, 0) : -1;
	if (vm >= 0 && ioctl(vm, 0x4020aed2, &at) < 0)
		at.flags = 0;	/* the result does not matter, the call does */
	return NULL;
}

static void test_tid_maps_to_process(void **state)
{
	const char *t_out = live_tmp("tid.jsonl"), *s_out = live_tmp("tid-stat.jsonl");
	const char *t_err = live_tmp("tid.err"), *s_err = live_tmp("tid-stat.err");
	char tidbuf[16];
	const char *t[] = { GT, "trace", "-f", "json", "-o", t_out, "-p", tidbuf, NULL };
	const char *s[] = { GT, "stat", "-f", "json", "-o", s_out, "-p", tidbuf, "0.2", NULL };
	json_object *recs, *ev, *stats, *rows;
	long long total = 0;
	pid_t child, tid, tp, sp;
	int i, vm_creates = 0, converts = 0;

	if (!live_require_tracing())
		skip();
	assert_int_equal(pipe(go_pipe), 0);
	assert_int_equal(pipe(tid_pipe), 0);
	child = fork();
	if (child == 0) {
		pthread_t th;

		pthread_create(&th, NULL, vm_thread, NULL);
		pthread_join(th, NULL);
		_exit(0);
	}
	extra[nr_extra++] = child;
	assert_int_equal(read(tid_pipe[0], &tid, sizeof(tid)), sizeof(tid));
	assert_int_not_equal(tid, child);
	snprintf(tidbuf, sizeof(tidbuf), "%d", tid);
	tp = live_spawn((char *const *)t, NULL, t_err);
	sp = live_spawn((char *const *)s, NULL, s_err);
	assert_true(live_wait_attached(t_out));
	assert_true(live_wait_attached(s_out));
	assert_int_equal(write(go_pipe[1], "g", 1), 1);
	assert_int_equal(waitpid(child, NULL, 0), child);
	/* both end by themselves once the process is gone */
	assert_int_equal(live_wait(tp, 10), 0);
	assert_int_equal(live_wait(sp, 10), 0);
	recs = live_read_ndjson(t_out);
	ev = live_filter(recs, "event", NULL);
	for (i = 0; i < (int)json_object_array_length(ev); i++) {
		json_object *e = json_object_array_get_idx(ev, i);
		const char *k = live_get_str(e, "event");

		assert_true(has_key(e, "pid"));
		assert_int_equal(live_get_int(e, "pid"), child);
		vm_creates += k && !strcmp(k, "vm_create");
		converts += k && !strcmp(k, "convert");
	}
	print_message("-p %d (thread of %d): %d vm_create, %d convert\n", tid, child, vm_creates,
		      converts);
	assert_int_equal(vm_creates, 1);
	assert_int_equal(converts, 1);
	json_object_put(ev);
	json_object_put(recs);

	recs = live_read_ndjson(s_out);
	stats = live_filter(recs, "stat", NULL);
	assert_true(json_object_array_length(stats) >= 1);
	rows = live_stat_last_rows(stats);
	for (i = 0; i < (int)json_object_array_length(rows); i++) {
		json_object *tot;

		assert_true(json_object_object_get_ex(json_object_array_get_idx(rows, i), "total",
						      &tot));
		assert_true(has_key(tot, "count"));
		total += live_get_int(tot, "count");
	}
	assert_int_equal(total, 1);
	json_object_put(stats);
	json_object_put(recs);
	close(go_pipe[0]);
	close(go_pipe[1]);
	close(tid_pipe[0]);
	close(tid_pipe[1]);
}

/* command_status: null when gmemtrace stopped the command; stat says it too */
static void test_command_status(void **state)
{
	const char *out = live_tmp("status.jsonl");
	const char *t[] = { GT, "trace", "-f", "json", "-o", out, "-d", "0.5", "--", "/bin/sleep",
			    "30", NULL };
	const char *s[] = { GT, "stat", "-f", "json", "-o", out, "-d", "0.5", "0.2", "--",
			    "/bin/sleep", "30", NULL };
	const char *s3[] = { GT, "stat", "-f", "json", "-o", out, "0.2", "--", "/bin/sh", "-c",
			     "exit 3", NULL };
	const char *st[] = { GT, "stat", "-o", out, "0.2", "--", "/bin/sh", "-c", "exit 3", NULL };
	json_object *recs, *sum;

	if (!live_require_tracing())
		skip();
	assert_int_equal(run(t, NULL, NULL, 30), 0);
	recs = live_read_ndjson(out);
	sum = only(recs, "summary");
	assert_true(has_key(sum, "command_status"));
	assert_true(live_is_null(sum, "command_status"));
	json_object_put(sum);
	json_object_put(recs);

	assert_int_equal(run(s, NULL, NULL, 30), 0);
	recs = live_read_ndjson(out);
	sum = only(recs, "summary");
	assert_true(has_key(sum, "command_status"));
	assert_true(live_is_null(sum, "command_status"));
	json_object_put(sum);
	json_object_put(recs);

	assert_int_equal(run(s3, NULL, NULL, 30), 0);
	recs = live_read_ndjson(out);
	sum = only(recs, "summary");
	assert_true(has_key(sum, "command_status"));
	assert_int_equal(live_get_int(sum, "command_status"), 3);
	json_object_put(sum);
	json_object_put(recs);

	assert_int_equal(run(st, NULL, NULL, 30), 0);
	assert_true(file_has(out, "command exit status 3"));
}

/* SIGTERM first, with time to act on it: trace and stat alike */
static void test_shutdown_sigterm_then_grace(void **state)
{
	const char *mark = live_tmp("term.mark"), *out = live_tmp("term.out");
	char script[512];
	const char *t[] = { GT, "trace", "-o", out, "-d", "0.5", "--", "/bin/sh", "-c", script,
			    NULL };
	const char *s[] = { GT, "stat", "-o", out, "-d", "0.5", "--", "/bin/sh", "-c", script,
			    NULL };

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script),
		 "trap 'echo term > %s; exit 0' TERM; while :; do sleep 0.05; done", mark);
	assert_int_equal(run(t, NULL, NULL, 30), 0);
	assert_true(file_has(mark, "term"));
	unlink(mark);
	assert_int_equal(run(s, NULL, NULL, 30), 0);
	assert_true(file_has(mark, "term"));
}

/* a command ignoring SIGTERM gets SIGKILL after --grace, not before */
static void test_shutdown_kill_after_grace(void **state)
{
	const char *pidf = live_tmp("ign.pid");
	char script[512];
	const char *t[] = { GT, "trace", "--grace", "1", "-o", "/dev/null", "-d", "0.3", "--",
			    "/bin/sh", "-c", script, NULL };
	double t0;
	pid_t p;

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script), "trap '' TERM; echo $$ > %s; exec sleep 30", pidf);
	t0 = now_s();
	assert_int_equal(run(t, NULL, NULL, 30), 0);
	print_message("trace ended after %.2f s\n", now_s() - t0);
	assert_true(now_s() - t0 >= 1.2);	/* 0.3 s traced + 1 s grace */
	/* well before the command's own 30 s: it was killed (the bound is loose
	 * for software-emulated VMs, where the start alone takes seconds) */
	assert_true(now_s() - t0 < 15);
	p = read_pid(pidf, 1);
	assert_true(p > 0);
	assert_false(alive(p));
}

/* gmemtrace SIGKILLed: the command (ignoring SIGTERM) and its background
 * child must not survive it */
static void test_command_dies_with_gmemtrace(void **state)
{
	const char *pidf = live_tmp("orphan.pid"), *out = live_tmp("orphan.jsonl");
	char script[512];
	const char *t[] = { GT, "trace", "-f", "json", "-o", out, "--", "/bin/sh", "-c", script,
			    NULL };
	pid_t tp, sh, bg;
	double end;
	FILE *f;

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script),
		 "trap '' TERM; sleep 60 & echo $$ $! > %s; wait", pidf);
	tp = live_spawn((char *const *)t, NULL, NULL);
	assert_true(read_pid(pidf, 20) > 0);
	f = fopen(pidf, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d %d", &sh, &bg), 2);
	fclose(f);
	extra[nr_extra++] = sh;
	extra[nr_extra++] = bg;
	assert_true(alive(sh) && alive(bg));
	kill(tp, SIGKILL);
	live_wait(tp, 5);
	for (end = now_s() + 5; now_s() < end && (alive(sh) || alive(bg));)
		usleep(20000);
	print_message("after SIGKILL of gmemtrace: command %s, its child %s\n",
		      alive(sh) ? "ALIVE" : "gone", alive(bg) ? "ALIVE" : "gone");
	assert_false(alive(sh));
	assert_false(alive(bg));
}

/* --keep-running: asked for, the command outlives gmemtrace */
static void test_keep_running(void **state)
{
	const char *pidf = live_tmp("keep.pid");
	char script[256];
	const char *t[] = { GT, "trace", "--keep-running", "-o", "/dev/null", "-d", "0.3", "--",
			    "/bin/sh", "-c", script, NULL };
	pid_t p;

	if (!live_require_tracing())
		skip();
	snprintf(script, sizeof(script), "echo $$ > %s; exec sleep 30", pidf);
	assert_int_equal(run(t, NULL, NULL, 30), 0);
	p = read_pid(pidf, 1);
	assert_true(p > 0);
	extra[nr_extra++] = p;
	assert_true(alive(p));
	kill(p, SIGKILL);
}

/* ---- finding 11: BTF, JSON error records ---- */

/* run argv in a private mount namespace where /sys/kernel/btf/vmlinux is
 * garbage (or hidden); returns the exit status */
static int run_without_btf(const char *const argv[], const char *out, const char *err,
			   bool garbage)
{
	const char *junk = live_tmp("junk-btf");
	int st;
	pid_t pid;

	write_file(junk, "this is not BTF\n");
	pid = fork();
	if (pid == 0) {
		int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(125);
		if (garbage ? mount(junk, "/sys/kernel/btf/vmlinux", NULL, MS_BIND, NULL) :
			      mount("tmpfs", "/sys/kernel/btf", "tmpfs", 0, NULL))
			_exit(125);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_btf_missing_said(void **state)
{
	const char *out = live_tmp("btf.out"), *err = live_tmp("btf.err");
	const char *t[] = { GT, "trace", "-f", "json", "-d", "0.1", "--", "/bin/true", NULL };
	const char *f[] = { GT, "features", NULL };
	json_object *recs, *e;
	int g, rc;

	if (!live_require_tracing())
		skip();
	for (g = 0; g < 2; g++) {
		rc = run_without_btf(t, out, err, g);
		if (rc == 125)
			skip();
		live_dump(err, 3);
		assert_int_equal(rc, 3);
		assert_true(file_has(err, "BTF /sys/kernel/btf/vmlinux missing or unreadable"));
		assert_false(file_has(err, "libbpf: libbpf"));
		recs = live_read_ndjson(out);
		e = only(recs, "error");
		assert_int_equal(live_get_int(e, "exit_code"), 3);
		assert_non_null(live_get_str(e, "what"));
		assert_non_null(strstr(live_get_str(e, "message"), "BTF"));
		json_object_put(e);
		json_object_put(recs);
		rc = run_without_btf(f, out, err, g);
		assert_false(file_has(out, "CO-RE works"));
		assert_true(file_has(out, "missing or unreadable"));
	}
}

/* every fatal path in -f json writes an error record (to standard output
 * here: a file given with -o is not touched before the checks) */
static void test_json_error_records(void **state)
{
	const char *out = live_tmp("errrec.jsonl"), *err = live_tmp("errrec.err");
	char nopid[16];
	const char *const cases[][10] = {
		{ GT, "stat", "-f", "json", "--", "/nonexistent" },
		{ GT, "trace", "-f", "json", "--cgroup", "/tmp", "-d", "0.1" },
		{ GT, "trace", "-f", "json", "-p", nopid },
		{ GT, "refs", "-f", "json", "-p", nopid },
		{ GT, "stat", "-f", "json", "-o", "/proc/nonexistent/x", "1", "1" },
	};
	const int want[] = { 2, 2, 2, 2, 2 };
	size_t i;
	int pid;

	if (!live_require_tracing())
		skip();
	for (pid = 999999; pid > 900000 && !(kill(pid, 0) && errno == ESRCH); pid--)
		;
	snprintf(nopid, sizeof(nopid), "%d", pid);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_object *recs, *e;
		int rc = run(cases[i], out, err, 30);

		assert_int_equal(rc, want[i]);
		recs = live_read_ndjson(out);
		if (i == 4) {
			/* the output itself failed to open: stderr only */
			assert_int_equal(json_object_array_length(recs), 0);
			json_object_put(recs);
			continue;
		}
		e = only(recs, "error");
		assert_int_equal(live_get_int(e, "exit_code"), want[i]);
		assert_non_null(live_get_str(e, "what"));
		assert_non_null(live_get_str(e, "message"));
		json_object_put(e);
		json_object_put(recs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_write_error_is_error, teardown),
		cmocka_unit_test_teardown(test_closed_pipe_ends_stat, teardown),
		cmocka_unit_test_teardown(test_closed_pipe_ends_idle_trace, teardown),
		cmocka_unit_test_teardown(test_output_untouched_on_usage_error, teardown),
		cmocka_unit_test_teardown(test_output_symlink_refused, teardown),
		cmocka_unit_test_teardown(test_output_mode_ignores_umask, teardown),
		cmocka_unit_test_teardown(test_output_fifo_without_reader, teardown),
		cmocka_unit_test_teardown(test_wrapper_background_followed, teardown),
		cmocka_unit_test_teardown(test_tid_maps_to_process, teardown),
		cmocka_unit_test_teardown(test_command_status, teardown),
		cmocka_unit_test_teardown(test_shutdown_sigterm_then_grace, teardown),
		cmocka_unit_test_teardown(test_shutdown_kill_after_grace, teardown),
		cmocka_unit_test_teardown(test_command_dies_with_gmemtrace, teardown),
		cmocka_unit_test_teardown(test_keep_running, teardown),
		cmocka_unit_test_teardown(test_btf_missing_said, teardown),
		cmocka_unit_test_teardown(test_json_error_records, teardown),
	};

	return cmocka_run_group_tests_name("live_host", tests, NULL, NULL);
}
