// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmt-bench-holders: what `gmemtrace trace --holders` adds to an unrelated
 * mmap/munmap pair (anonymous, and of a memfd: a file the fd check must
 * look at), against empty programs on the same three hooks; and the memory
 * the holder maps take per 1000 holders. Rounds alternate bare, empty and
 * holders; each figure is a median of timed chunks. Exit 0, 1 runtime
 * error, 3 cannot run here (not root).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_stats.h"
#include "gmemtrace.h"
#include "empty_hold.skel.h"

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

static pid_t start_tracer(const char *gmt)
{
	pid_t pid = fork();

	if (!pid) {
		execl(gmt, gmt, "trace", "--holders", "-o", "/dev/null", "-f", "json", (char *)NULL);
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
	/* holder value: struct gmt_holder + VM identity (bpf/holders.bpf.c) */
	long h = map_bytes(BPF_MAP_TYPE_HASH, sizeof(struct gmt_holder_key),
			   sizeof(struct gmt_holder) + 16, 1000);
	long s = map_bytes(BPF_MAP_TYPE_STACK_TRACE, 4, 127 * 8, 1000);

	printf("holder map: %ld bytes per 1000 holders (%zu B key + %zu B value, preallocated "
	       "for %d: %ld KiB)\n", h, sizeof(struct gmt_holder_key), sizeof(struct gmt_holder) + 16,
	       GMT_HOLD_MAX, h * GMT_HOLD_MAX / 1000 / 1024);
	printf("stack map: %ld bytes per 1000 distinct stacks (one per registering call site, "
	       "shared by its buffers)\n", s);
}

int main(int argc, char **argv)
{
	double r[3][2][ROUNDS];	/* bare, empty, holders x anon, memfd */
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
		t = start_tracer(gmt);
		for (i = 0; i < 2; i++)
			r[2][i][k] = pair_ns(i ? fd : -1);
		stop_tracer(t);
	}
	printf("mmap+munmap pair, ns (median of %d rounds)    bare   empty  holders  "
	       "added/empty-added\n", ROUNDS);
	for (i = 0; i < 2; i++) {
		double b = median(r[0][i], ROUNDS), e = median(r[1][i], ROUNDS);
		double h = median(r[2][i], ROUNDS);

		printf("  %-42s %6.0f  %6.0f  %7.0f  %.2fx (target <= 1.5x)\n", names[i], b, e, h,
		       e > b ? (h - b) / (e - b) : 0.0);
	}
	memory();
	return 0;
}
