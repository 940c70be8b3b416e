/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the policy live tests (live_enforce_*.c): a policy file, an
 * `enforce` that runs until attached, gmem-workload's G1 results, and the
 * kernel's own list of BPF objects (BPF_*_GET_NEXT_ID: no bpftool in the VM),
 * moving the test into a cgroup.
 */
#ifndef GMT_LIVE_POLICY_H
#define GMT_LIVE_POLICY_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "live_util.h"

#define LIVE_DENY_G1 "version: 1\ndefault: allow\nrules:\n  - id: 7\n    action: deny\n" \
		     "    match:\n      uapi: g1\n"

static inline const char *live_policy_file(const char *name, const char *text)
{
	const char *p = live_tmp(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* append the NULL-ended ap to argv[n..max - 2]; NULL-ends argv; its length */
static inline int live_argv_append(const char **argv, int n, int max, va_list ap)
{
	while (n < max - 1 && (argv[n] = va_arg(ap, const char *)))
		n++;
	argv[n] = NULL;
	return n;
}

/* gmemtrace ARGS... (NULL-ended), stdout to out, stderr to err: its exit code */
static inline int live_gmemtrace(const char *out, const char *err, ...)
{
	const char *argv[16] = { live_bin("gmemtrace") };
	va_list ap;

	va_start(ap, err);
	live_argv_append(argv, 1, 16, ap);
	va_end(ap);
	return live_run((char *const *)argv, out, err, 60);
}

/* n results, the first nr_ok succeeded (0), the others were denied (EPERM) */
static inline void live_expect_rets(const long long *rets, int n, int want_n, int nr_ok)
{
	int i;

	assert_int_equal(n, want_n);
	for (i = 0; i < n; i++) {
		if (rets[i] != (i < nr_ok ? 0 : -1))
			print_message("conversion %d of %d: ret %lld\n", i + 1, n, rets[i]);
		assert_int_equal(rets[i], i < nr_ok ? 0 : -1);
	}
}

/* the hook loads and the row has real G1 conversions; else skip (or fail
 * where the row promised them) */
static inline bool live_policy_can_veto(void)
{
	if (!live_promised("CONVERSIONS")) {
		print_message("SKIP: the veto tests need a kernel with real G1 conversions "
			      "(row conversions=yes)\n");
		return false;
	}
	if (geteuid()) {
		print_message("SKIP: not root\n");
		return false;
	}
	return true;
}

/* gmemtrace enforce ARGS... (NULL-ended) -f json -o out, until its attach
 * record (up to 180 s: on a loaded host under TCG it once took over 60 s):
 * its pid, or -1 with its stderr shown */
static inline pid_t live_enforce_start(const char *out, const char *err, ...)
{
	const char *argv[24] = { live_bin("gmemtrace"), "enforce" };
	int n = 2;
	va_list ap;
	pid_t pid;

	va_start(ap, err);
	n = live_argv_append(argv, n, 20, ap);
	va_end(ap);
	argv[n++] = "-f";
	argv[n++] = "json";
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n] = NULL;
	pid = live_spawn((char *const *)argv, NULL, err);
	if (pid > 0 && live_wait_attached(out))
		return pid;
	live_dump(err, 40);
	return -1;
}

/* gmem-workload --uapi g1 --dir private ARGS... (NULL-ended): the ret of
 * each call into rets (up to max); the number of calls */
static inline int live_g1_rets(long long *rets, int max, ...)
{
	const char *argv[24] = { live_bin("gmem-workload"), "--uapi", "g1", "--dir", "private",
				 "--json" };
	const char *out = live_tmp("g1-wl.json");
	json_object *doc, *calls;
	int n = 6, i, nr;
	va_list ap;

	va_start(ap, max);
	live_argv_append(argv, n, 24, ap);
	va_end(ap);
	live_run((char *const *)argv, out, NULL, 120);
	doc = live_read_json(out);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "calls", &calls) && calls);
	nr = json_object_array_length(calls);
	for (i = 0; i < nr && i < max; i++)
		rets[i] = live_get_int(json_object_array_get_idx(calls, i), "ret");
	json_object_put(doc);
	return nr;
}

/* `gmemtrace stat -f json 0.2 1`: the policies of its last record (a new
 * reference, every hook running now) */
static inline json_object *live_stat_policies(const char *out)
{
	const char *argv[] = { live_bin("gmemtrace"), "stat", "-f", "json", "0.2", "1", NULL };
	json_object *recs, *stats, *last, *pols;

	assert_int_equal(live_run((char *const *)argv, out, NULL, 60), 0);
	recs = live_read_ndjson(out);
	assert_non_null(recs);
	stats = live_filter(recs, "stat", NULL);
	assert_true(json_object_array_length(stats) > 0);
	last = json_object_array_get_idx(stats, json_object_array_length(stats) - 1);
	assert_true(json_object_object_get_ex(last, "policies", &pols));
	json_object_get(pols);
	json_object_put(recs);
	return pols;
}

struct live_bpf_objs {
	int progs, links, maps;	/* programs, their links, maps named with the prefix */
};

static inline int live_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static inline bool live_bpf_name(int fd, const char *prefix, bool prog)
{
	struct bpf_prog_info pi;
	struct bpf_map_info mi;
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	if (prog) {
		memset(&pi, 0, sizeof(pi));
		a.info.info = (__u64)(unsigned long)&pi;
		a.info.info_len = sizeof(pi);
	} else {
		memset(&mi, 0, sizeof(mi));
		a.info.info = (__u64)(unsigned long)&mi;
		a.info.info_len = sizeof(mi);
	}
	if (live_bpf(BPF_OBJ_GET_INFO_BY_FD, &a))
		return false;
	return !strncmp(prog ? pi.name : mi.name, prefix, strlen(prefix));
}

/* walk every program, link and map of the kernel: those named prefix* */
static inline struct live_bpf_objs live_bpf_objects(const char *prefix)
{
	static const int next[3] = { BPF_PROG_GET_NEXT_ID, BPF_LINK_GET_NEXT_ID,
				     BPF_MAP_GET_NEXT_ID };
	static const int by_id[3] = { BPF_PROG_GET_FD_BY_ID, BPF_LINK_GET_FD_BY_ID,
				      BPF_MAP_GET_FD_BY_ID };
	struct live_bpf_objs o = { 0 };
	int *count[3] = { &o.progs, &o.links, &o.maps };
	int k;

	for (k = 0; k < 3; k++) {
		__u32 id = 0;
		union bpf_attr a;

		for (;;) {
			struct bpf_link_info li;
			int fd;

			memset(&a, 0, sizeof(a));
			a.start_id = id;
			if (live_bpf(next[k], &a))
				break;
			id = a.next_id;
			memset(&a, 0, sizeof(a));
			if (k == 0)
				a.prog_id = id;
			else if (k == 1)
				a.link_id = id;
			else
				a.map_id = id;
			fd = live_bpf(by_id[k], &a);
			if (fd < 0)
				continue;
			if (k == 1) {
				/* a link counts when its program is a hook */
				memset(&li, 0, sizeof(li));
				memset(&a, 0, sizeof(a));
				a.info.bpf_fd = fd;
				a.info.info = (__u64)(unsigned long)&li;
				a.info.info_len = sizeof(li);
				if (live_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
					close(fd);
					continue;
				}
				close(fd);
				memset(&a, 0, sizeof(a));
				a.prog_id = li.prog_id;
				fd = live_bpf(BPF_PROG_GET_FD_BY_ID, &a);
				if (fd < 0)
					continue;
				if (live_bpf_name(fd, prefix, true))
					o.links++;
			} else if (live_bpf_name(fd, prefix, k == 0)) {
				(*count[k])++;
			}
			close(fd);
		}
	}
	return o;
}

/* the policy hooks' programs and links, and the policy's maps */
static inline struct live_bpf_objs live_bpf_gmt_objects(void)
{
	return live_bpf_objects("gmt_pol_");
}

#define LIVE_CG_ROOT	"/sys/fs/cgroup"

/* two cgroups under LIVE_CG_ROOT for VM creators (skips, or fails on a row
 * with conversions, without a writable cgroup v2 hierarchy) */
static inline void live_cgroups_make(const char *a, const char *b)
{
	if (access(LIVE_CG_ROOT "/cgroup.procs", W_OK))
		live_cannot_run("CONVERSIONS", "no writable cgroup v2 hierarchy at " LIVE_CG_ROOT);
	assert_true(!mkdir(a, 0755) || errno == EEXIST);
	assert_true(!mkdir(b, 0755) || errno == EEXIST);
}

/* the test process into a cgroup v2 directory (its children follow) */
static inline void live_cgroup_move_self(const char *cgroup)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cgroup);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)getpid());
	assert_int_equal(fclose(f), 0);
}

#endif /* GMT_LIVE_POLICY_H */
