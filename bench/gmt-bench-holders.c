// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmt-bench-holders: what `gmemtrace trace --holders` (and `stat --holders`,
 * the same programs without records) adds to an unrelated mmap/munmap pair
 * (anonymous, and of a memfd: a file the fd check must look at), against
 * empty programs on the same three hooks; and the memory the holder maps take
 * per 1000 holders. Rounds alternate bare, empty and holders; each figure is a
 * median of timed chunks. Then what its VFIO / iommufd ioctl programs add to
 * an unrelated ioctl: `trace --holders` against `trace` (whose own ioctl
 * programs both have), as a ratio of what two empty programs on
 * sys_enter/exit_ioctl add to a bare ioctl. Exit 0, 1 runtime error, 3 cannot
 * run here (not root).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_stats.h"
#include "gmemtrace.h"
#include "empty_hold.skel.h"
#include "empty_ioctl.skel.h"

#define ITERS	20000
#define CHUNKS	9
#define ROUNDS	5

/* ns per mmap/munmap pair: fd -1 anonymous, else that file */
static double pair_ns(int fd)
{
	double chunk[CHUNKS];
	int c, i;

	for (c = 0; c < CHUNKS; c++) {
		__u64 t0 = now_ns();

		for (i = 0; i < ITERS; i++) {
			void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       fd < 0 ? MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, fd, 0);

			if (p == MAP_FAILED)
				return -1;
			munmap(p, 4096);
		}
		chunk[c] = (double)(now_ns() - t0) / ITERS;
	}
	return median(chunk, CHUNKS);
}

/* ns per unrelated ioctl: FIONREAD on a memfd (-ENOTTY, no work) */
static double ioctl_ns(int fd)
{
	double chunk[CHUNKS];
	int c, i, n;

	for (c = 0; c < CHUNKS; c++) {
		__u64 t0 = now_ns();

		for (i = 0; i < ITERS; i++)
			ioctl(fd, FIONREAD, &n);
		chunk[c] = (double)(now_ns() - t0) / ITERS;
	}
	return median(chunk, CHUNKS);
}

/* what runs during a timed phase */
enum tracer { TR_TRACE, TR_TRACE_HOLDERS, TR_STAT_HOLDERS };

static pid_t start_tracer(const char *gmt, enum tracer what)
{
	pid_t pid = fork();

	if (!pid) {
		if (what == TR_STAT_HOLDERS)
			execl(gmt, gmt, "stat", "--holders", "-o", "/dev/null", "-f", "json", "3600",
			      (char *)NULL);
		else if (what == TR_TRACE_HOLDERS)
			execl(gmt, gmt, "trace", "--holders", "-o", "/dev/null", "-f", "json",
			      (char *)NULL);
		else
			execl(gmt, gmt, "trace", "-o", "/dev/null", "-f", "json", (char *)NULL);
		_exit(127);
	}
	sleep(3);	/* loaded and attached (probing VMs included) */
	return pid;
}

static void stop_tracer(pid_t pid)
{
	kill(pid, SIGINT);
	waitpid(pid, NULL, 0);
}

/* bytes a map of these sizes charges, from its fdinfo */
static long map_bytes(enum bpf_map_type type, __u32 k, __u32 v, __u32 n)
{
	char path[64], line[128];
	long bytes = -1;
	FILE *f;
	int fd = bpf_map_create(type, NULL, k, v, n, NULL);

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		sscanf(line, "memlock: %ld", &bytes);
	if (f)
		fclose(f);
	close(fd);
	return bytes;
}

static void memory(void)
{
	/* holder value: struct gmt_hval, the holder and its VM identity */
	long h = map_bytes(BPF_MAP_TYPE_HASH, sizeof(struct gmt_holder_key),
			   sizeof(struct gmt_hval), 1000);
	long s = map_bytes(BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 1000);

	printf("holder map: %ld bytes per 1000 holders (%zu B key + %zu B value, preallocated "
	       "for %d: %ld KiB)\n", h, sizeof(struct gmt_holder_key), sizeof(struct gmt_hval),
	       GMT_HOLD_MAX, h * GMT_HOLD_MAX / 1000 / 1024);
	printf("stack map: %ld bytes per 1000 distinct stacks (one per registering call site, "
	       "shared by its buffers)\n", s);
}

/* the VFIO / iommufd ioctl programs on an unrelated ioctl */
static int ioctl_bench(const char *gmt, int fd)
{
	double r[4][ROUNDS];	/* bare, empty, trace, trace --holders */
	struct empty_ioctl_bpf *skel;
	double b, e, t, h;
	int k;

	for (k = 0; k < ROUNDS; k++) {
		pid_t p;

		r[0][k] = ioctl_ns(fd);
		skel = empty_ioctl_bpf__open_and_load();
		if (!skel || empty_ioctl_bpf__attach(skel))
			return 1;
		r[1][k] = ioctl_ns(fd);
		empty_ioctl_bpf__destroy(skel);
		p = start_tracer(gmt, TR_TRACE);
		r[2][k] = ioctl_ns(fd);
		stop_tracer(p);
		p = start_tracer(gmt, TR_TRACE_HOLDERS);
		r[3][k] = ioctl_ns(fd);
		stop_tracer(p);
	}
	b = median(r[0], ROUNDS), e = median(r[1], ROUNDS);
	t = median(r[2], ROUNDS), h = median(r[3], ROUNDS);
	printf("unrelated ioctl (FIONREAD on a memfd), ns    bare   empty   trace  trace --holders  "
	       "(holders-trace)/(empty-bare)\n");
	printf("  %-42s %6.0f  %6.0f  %6.0f  %15.0f  %.2fx\n", "VFIO/iommufd ioctl programs",
	       b, e, t, h, e > b ? (h - t) / (e - b) : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	double r[4][2][ROUNDS];	/* bare, empty, trace --holders, stat --holders x anon, memfd */
	const char *gmt = argc > 1 ? argv[1] : "build/gmemtrace";
	const char *names[2] = { "anonymous", "memfd" };
	struct empty_hold_bpf *skel;
	int fd, k, i;

	if (geteuid()) {
		fprintf(stderr, "gmt-bench-holders: needs root\n");
		return 3;
	}
	fd = memfd_create("gmt-bench", 0);
	if (fd < 0 || ftruncate(fd, 4096))
		return 1;
	for (k = 0; k < ROUNDS; k++) {
		pid_t t;

		for (i = 0; i < 2; i++)
			r[0][i][k] = pair_ns(i ? fd : -1);
		skel = empty_hold_bpf__open_and_load();
		if (!skel || empty_hold_bpf__attach(skel))
			return 1;
		for (i = 0; i < 2; i++)
			r[1][i][k] = pair_ns(i ? fd : -1);
		empty_hold_bpf__destroy(skel);
		t = start_tracer(gmt, TR_TRACE_HOLDERS);
		for (i = 0; i < 2; i++)
			r[2][i][k] = pair_ns(i ? fd : -1);
		stop_tracer(t);
		t = start_tracer(gmt, TR_STAT_HOLDERS);
		for (i = 0; i < 2; i++)
			r[3][i][k] = pair_ns(i ? fd : -1);
		stop_tracer(t);
	}
	printf("mmap+munmap pair, ns (median of %d rounds)    bare   empty  holders  "
	       "added/empty-added  stat  added/empty-added\n", ROUNDS);
	for (i = 0; i < 2; i++) {
		double b = median(r[0][i], ROUNDS), e = median(r[1][i], ROUNDS);
		double h = median(r[2][i], ROUNDS), st = median(r[3][i], ROUNDS);

		printf("  %-42s %6.0f  %6.0f  %7.0f  %.2fx (target <= 1.5x)  %6.0f  %.2fx\n",
		       names[i], b, e, h, e > b ? (h - b) / (e - b) : 0.0, st,
		       e > b ? (st - b) / (e - b) : 0.0);
	}
	memory();
	return ioctl_bench(gmt, fd);
}
