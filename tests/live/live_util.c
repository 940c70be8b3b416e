// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "live_util.h"

static char scratch[256];

const char *live_bin(const char *name)
{
	static char buf[8][512];
	static int i;
	const char *dir = getenv("GMT_BIN");
	char *b = buf[i++ % 8];

	snprintf(b, 512, "%s/%s", dir && *dir ? dir : "build", name);
	return b;
}

const char *live_tmp(const char *name)
{
	static char buf[16][512];
	static int i;
	char *b = buf[i++ % 16];

	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/gmt-live-XXXXXX");
		if (!mkdtemp(scratch))
			snprintf(scratch, sizeof(scratch), "/tmp");
	}
	snprintf(b, 512, "%s/%s", scratch, name);
	unlink(b);
	return b;
}

/* everything spawned, so a failed assertion cannot leave a tracer attached */
static pid_t spawned[64];
static int nr_spawned;

int live_teardown(void **state)
{
	int i, st;

	for (i = 0; i < nr_spawned; i++) {
		if (spawned[i] > 0 && waitpid(spawned[i], &st, WNOHANG) == 0) {
			kill(spawned[i], SIGKILL);
			waitpid(spawned[i], &st, 0);
		}
	}
	nr_spawned = 0;
	return 0;
}

pid_t live_spawn(char *const argv[], const char *out, const char *err)
{
	pid_t pid = fork();

	if (pid > 0 && nr_spawned < (int)(sizeof(spawned) / sizeof(spawned[0])))
		spawned[nr_spawned++] = pid;
	if (pid == 0) {
		int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fo < 0 || fe < 0)
			_exit(126);
		dup2(fo, 1);
		dup2(fe, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int live_wait(pid_t pid, double timeout_s)
{
	double end = now_s() + timeout_s;
	int st;

	while (now_s() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(10000);
	}
	print_message("timeout: killing pid %d after %.0f s\n", pid, timeout_s);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int live_run(char *const argv[], const char *out, const char *err, double timeout_s)
{
	return live_wait(live_spawn(argv, out, err), timeout_s);
}

json_object *live_gmemtrace_script(const char *cmd, const char *script, const char *out,
				   const char *err, double timeout_s, ...)
{
	char *argv[32];
	const char *a;
	json_object *recs;
	va_list ap;
	int n = 0, rc;

	argv[n++] = (char *)live_bin("gmemtrace");
	argv[n++] = (char *)cmd;
	va_start(ap, timeout_s);
	while ((a = va_arg(ap, const char *)) && n < 22)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n++] = "-f";
	argv[n++] = "json";
	argv[n++] = "-o";
	argv[n++] = (char *)out;
	argv[n++] = "--";
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = (char *)script;
	argv[n] = NULL;
	rc = live_run(argv, NULL, err, timeout_s);
	if (rc != 0)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	return recs;
}

bool live_wait_for(const char *path, const char *needle, double timeout_s)
{
	double end = now_s() + timeout_s;
	char buf[65536];

	while (now_s() < end) {
		FILE *f = fopen(path, "r");

		if (f) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);

			fclose(f);
			buf[n] = 0;
			if (strstr(buf, needle))
				return true;
		}
		usleep(20000);
	}
	return false;
}

bool live_wait_attached(const char *path)
{
	return live_wait_for(path, "\"attach\"", LIVE_START_S);
}

json_object *live_read_json(const char *path)
{
	return json_object_from_file(path);
}

json_object *live_read_ndjson(const char *path)
{
	FILE *f = fopen(path, "r");
	json_object *arr;
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return NULL;
	arr = json_object_new_array();
	while (getline(&line, &cap, f) > 0) {
		json_object *o;

		if (line[0] != '{')
			continue;	/* a command's own output interleaved */
		o = json_tokener_parse(line);
		if (o)
			json_object_array_add(arr, o);
	}
	free(line);
	fclose(f);
	return arr;
}

json_object *live_events_of_pid(json_object *records, const char *event, long long pid)
{
	json_object *all = live_filter(records, "event", event), *out = json_object_new_array();
	size_t i;

	for (i = 0; i < json_object_array_length(all); i++) {
		json_object *r = json_object_array_get_idx(all, i);

		if (live_get_int(r, "pid") == pid)
			json_object_array_add(out, json_object_get(r));
	}
	json_object_put(all);
	return out;
}

static bool frames_have(json_object *st, const char *prefix)
{
	size_t i;

	for (i = 0; i < json_object_array_length(st); i++) {
		const char *s = live_get_str(json_object_array_get_idx(st, i), "sym");

		if (s && !strncmp(s, prefix, strlen(prefix)))
			return true;
	}
	return false;
}

bool live_stack_has(json_object *rec, const char *prefix)
{
	json_object *st;

	return json_object_object_get_ex(rec, "stack", &st) && frames_have(st, prefix);
}

bool live_kstack_has(json_object *rec, const char *prefix)
{
	json_object *st;

	if (!json_object_object_get_ex(rec, "kernel_stack", &st))
		fail_msg("no kernel_stack in %s", json_object_to_json_string(rec));
	return frames_have(st, prefix);
}

json_object *live_holders_of(json_object *records, const char *event, long long pid,
			     const char *kind)
{
	json_object *mine = live_events_of_pid(records, event, pid), *out = json_object_new_array();
	size_t i;

	for (i = 0; i < json_object_array_length(mine); i++) {
		json_object *r = json_object_array_get_idx(mine, i);

		if (!strcmp(live_get_str(r, "kind"), kind))
			json_object_array_add(out, json_object_get(r));
	}
	json_object_put(mine);
	return out;
}

json_object *live_at_offset(json_object *list, long long gmem_offset)
{
	json_object *found = NULL;
	size_t i;

	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *r = json_object_array_get_idx(list, i);

		if (live_get_int(r, "gmem_offset") != gmem_offset)
			continue;
		if (found)
			fail_msg("two records at offset 0x%llx", gmem_offset);
		found = r;
	}
	return found;
}

int live_check_page_pins(json_object *starts, json_object *ends, long long off, long long ino,
			 const char *comm, bool (*pinned_by)(json_object *pin), const char *what)
{
	int pins = 0, unpins = 0;
	size_t j;

	for (j = 0; j < json_object_array_length(starts); j++) {
		json_object *s = json_object_array_get_idx(starts, j);

		if (live_get_int(s, "gmem_offset") != off)
			continue;
		pins++;
		assert_string_equal(live_get_str(s, "comm"), comm);
		assert_int_equal(live_get_int(s, "gmem_ino"), ino);
		assert_int_equal(live_get_int(s, "pins"), 1);
		assert_int_equal(live_get_int(s, "size"), 4096);
		assert_true(live_get_int(s, "folio") != 0);
		if (!pinned_by(s))
			fail_msg("pin at 0x%llx: no %s pinning frame in its kernel stack: %s", off,
				 what, json_object_to_json_string(s));
	}
	for (j = 0; j < json_object_array_length(ends); j++) {
		json_object *e = json_object_array_get_idx(ends, j);

		if (live_get_int(e, "gmem_offset") != off)
			continue;
		unpins++;
		assert_int_equal(live_get_int(e, "gmem_ino"), ino);
		assert_int_equal(live_get_int(e, "pins"), 1);
		assert_string_equal(live_get_str(e, "end"), "unpin");
	}
	if (pins < 1 || pins != unpins)
		fail_msg("%s: page at 0x%llx: %d pins, %d unpins", what, off, pins, unpins);
	return pins;
}

bool live_bench_wanted(const char *name)
{
	const char *t = getenv("GMT_TESTS"), *b = getenv("GMT_BENCH");

	return (b && !strcmp(b, "1")) || (t && strstr(t, name));
}

char *live_feature_unavailable(json_object *records, const char *feature)
{
	json_object *att = live_filter(records, "attach", NULL), *progs;
	char *why = NULL;
	size_t i;

	assert_int_equal(json_object_array_length(att), 1);
	assert_true(json_object_object_get_ex(json_object_array_get_idx(att, 0), "programs",
					      &progs));
	for (i = 0; i < json_object_array_length(progs); i++) {
		json_object *p = json_object_array_get_idx(progs, i);
		const char *f = json_object_get_string(json_object_object_get(p, "feature"));

		if (!f || strcmp(f, feature))
			continue;
		if (!strcmp(live_get_str(p, "state"), "attached")) {
			free(why);
			why = NULL;
			break;
		}
		if (!why && !strcmp(live_get_str(p, "state"), "unavailable"))
			why = strdup(live_get_str(p, "reason"));
	}
	json_object_put(att);
	return why;
}

json_object *live_filter(json_object *records, const char *type, const char *event)
{
	json_object *out = json_object_new_array();
	size_t i;

	for (i = 0; records && i < json_object_array_length(records); i++) {
		json_object *r = json_object_array_get_idx(records, i);
		const char *t = live_get_str(r, "type");

		if (!t || strcmp(t, type))
			continue;
		if (event && (!live_get_str(r, "event") || strcmp(live_get_str(r, "event"), event)))
			continue;
		json_object_array_add(out, json_object_get(r));
	}
	return out;
}

/* A compared field must be there: a made-up value for a missing one would
 * let a test pass when both sides lost it. */
long long live_get_int(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    (json_object_get_type(v) != json_type_int && json_object_get_type(v) != json_type_double)) {
		fail_msg("field '%s' missing, null or not a number in %s", key,
			 o ? json_object_to_json_string(o) : "(no object)");
		return 0;
	}
	return json_object_get_int64(v);
}

bool live_promised(const char *key)
{
	char var[64];
	const char *v;

	snprintf(var, sizeof(var), "GMT_EXPECT_%s", key);
	v = getenv(var);
	return v && !strcmp(v, "yes");
}

long long live_get_int_or(json_object *o, const char *key, long long absent)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return absent;
	return json_object_get_int64(v);
}

bool live_has(json_object *o, const char *key)
{
	json_object *v;

	return o && json_object_object_get_ex(o, key, &v) && v;
}

const char *live_get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

bool live_is_null(json_object *o, const char *key)
{
	json_object *v;

	return !json_object_object_get_ex(o, key, &v) || v == NULL;
}

bool live_require_tracing(void)
{
	if (geteuid() != 0) {
		print_message("SKIP: live tests need root (BPF and /dev/kvm)\n");
		return false;
	}
	if (access("/dev/kvm", R_OK | W_OK)) {
		print_message("SKIP: no usable /dev/kvm: %s\n", strerror(errno));
		return false;
	}
	if (access(live_bin("gmemtrace"), X_OK) || access(live_bin("gmem-workload"), X_OK)) {
		print_message("SKIP: %s or gmem-workload not built (run make)\n",
			      live_bin("gmemtrace"));
		return false;
	}
	return true;
}

void live_dump(const char *path, int max_lines)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int n = 0;

	print_message("---- %s\n", path);
	if (!f)
		return;
	while (n++ < max_lines && fgets(line, sizeof(line), f))
		print_message("%s", line);
	fclose(f);
}

json_object *live_stat_last_rows(json_object *stats)
{
	json_object *out = json_object_new_array();
	size_t i, r, k;

	for (i = 0; i < json_object_array_length(stats); i++) {
		json_object *rows;

		if (!json_object_object_get_ex(json_object_array_get_idx(stats, i), "rows", &rows))
			fail_msg("a stat record without rows");
		for (r = 0; r < json_object_array_length(rows); r++) {
			json_object *row = json_object_array_get_idx(rows, r);
			bool replaced = false;

			for (k = 0; k < json_object_array_length(out); k++) {
				json_object *o = json_object_array_get_idx(out, k);

				if (live_get_int(o, "vm_id") == live_get_int(row, "vm_id") &&
				    !strcmp(live_get_str(o, "gen"), live_get_str(row, "gen")) &&
				    !strcmp(live_get_str(o, "dir"), live_get_str(row, "dir"))) {
					json_object_array_put_idx(out, k, json_object_get(row));
					replaced = true;
					break;
				}
			}
			if (!replaced)
				json_object_array_add(out, json_object_get(row));
		}
	}
	return out;
}

static json_object *vm_of(json_object *vms, long long idx)
{
	if (!vms || idx < 0 || idx >= (long long)json_object_array_length(vms))
		return NULL;
	return json_object_array_get_idx(vms, idx);
}

void live_call_key(json_object *call, json_object *vms, char *buf, size_t len)
{
	json_object *vm = vm_of(vms, live_get_int(call, "vm"));
	static const char *const gen[] = { "-", "G1", "G2", "G3" };
	long long g = live_get_int(call, "gen");

	snprintf(buf, len, "%s|%s|%lld|%lld|%lld|%s|%lld|%lld|%lld",
		 g >= 1 && g <= 3 ? gen[g] : "?", live_get_str(call, "cmd"),
		 vm ? live_get_int(vm, "vm_fd") : -1, live_get_int(call, "fd"),
		 live_get_int(call, "tid"), live_get_str(call, "dir"),
		 live_get_int(call, "start"), live_get_int(call, "size"),
		 live_get_int(call, "ret"));
}

void live_event_key(json_object *ev, char *buf, size_t len)
{
	const char *gen = live_get_str(ev, "gen");
	long long start = gen && !strcmp(gen, "G1") ? live_get_int(ev, "gpa") :
						      live_get_int(ev, "gmem_offset");

	snprintf(buf, len, "%s|%s|%lld|%lld|%lld|%s|%lld|%lld|%lld", gen,
		 live_get_str(ev, "cmd"), live_get_int(ev, "vm_fd"), live_get_int(ev, "fd"),
		 live_get_int(ev, "tid"), live_get_str(ev, "dir"), start,
		 live_get_int(ev, "size"), live_get_int(ev, "ret"));
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int live_multiset_diff(char **a, int na, char **b, int nb, bool print)
{
	int i = 0, j = 0, diff = 0;

	qsort(a, na, sizeof(*a), cmpstr);
	qsort(b, nb, sizeof(*b), cmpstr);
	while (i < na || j < nb) {
		int c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i], b[j]);

		if (!c) {
			i++;
			j++;
			continue;
		}
		diff++;
		if (print && diff <= 10)
			print_message("  only in %s: %s\n", c < 0 ? "workload" : "tracer",
				      c < 0 ? a[i] : b[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	return diff;
}

bool live_cgroup2_root(char *buf, size_t len)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char dev[256], dir[256], type[64];
	const char *mine = "/tmp/gmt-live-cgroup2";

	while (f && fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(type, "cgroup2")) {
			snprintf(buf, len, "%s", dir);
			fclose(f);
			return true;
		}
	}
	if (f)
		fclose(f);
	/* none mounted: mount the hierarchy where nobody else looks */
	mkdir(mine, 0755);
	if (mount("cgroup2", mine, "cgroup2", 0, NULL))
		return false;
	snprintf(buf, len, "%s", mine);
	return true;
}

bool live_have_export(void)
{
	char *argv[] = { (char *)live_bin("gmemtrace"), "export", "--help", NULL };

	if (live_run(argv, NULL, NULL, 30) == 0)
		return true;
	print_message("SKIP: this gmemtrace has no export command (a build without libmicrohttpd)\n");
	return false;
}

json_object *live_run_workload(char *const *argv, const char *err, const char *out,
			       const char *wl_json, json_object **wl)
{
	int rc = live_run(argv, NULL, err, 240);

	if (rc)
		live_dump(err, 20);
	assert_int_equal(rc, 0);
	*wl = live_read_json(wl_json);
	assert_non_null(*wl);
	return live_read_ndjson(out);
}

json_object *live_blocked_holder_at(json_object *rec, long long off)
{
	return live_blocked_holder_of(rec, off, NULL);
}

json_object *live_blocked_holder_of(json_object *rec, long long off, const char *kind)
{
	json_object *hs = NULL, *list = NULL, *h = NULL;
	size_t i;

	if (!json_object_object_get_ex(rec, "holders", &hs) || !hs ||
	    !json_object_object_get_ex(hs, "list", &list) || !list)
		fail_msg("no holders list in the blocked record: %s",
			 json_object_to_json_string(rec));
	assert_true(json_object_get_boolean(json_object_object_get(hs, "traced")));
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *c = json_object_array_get_idx(list, i);

		if (live_get_int(c, "gmem_offset") <= off &&
		    off < live_get_int(c, "gmem_offset") + live_get_int(c, "size") &&
		    (!kind || !strcmp(live_get_str(c, "kind"), kind)))
			h = c;
	}
	if (!h)
		fail_msg("the blocked record names no %s holder at 0x%llx: %s",
			 kind ? kind : "", off, json_object_to_json_string(rec));
	return h;
}
