// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmt-bench-pins: what `gmemtrace trace --kernel-pins` (feature kernel_pins,
 * bpf/gup_pins.bpf.c) adds to GUP pins and unpins, against empty programs on
 * the same two hooks (fexit try_grab_folio, fentry gup_put_folio). One loop
 * iteration registers NPAGES pages as io_uring fixed buffers and unregisters
 * them: NPAGES pins and unpins through the slow path. Two kinds of pages:
 * anonymous memory (every unpin passes the filter; pins take GUP's fast
 * path, which no hook sees) and a guest_memfd mmap (every pin and unpin is a
 * gup_pin record with two stacks). Needs fentry, so it runs in the VM rows,
 * not on the build host (exit 3 there, with the reason). Rounds alternate
 * bare, empty, `trace --holders` (the uAPI holder programs alone) and
 * `trace --kernel-pins` (with kernel_pins); kernel_pins' cost is the difference of the last two, weighed against the empty
 * programs' added cost. Each figure is a median of timed chunks. Under TCG
 * with single-threaded emulation the tracer's user space (stacks symbolized
 * for every gup_pin record) shares the emulating thread with the loop, so
 * its work is charged to the loop.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <liburing.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <bpf/libbpf.h>

#include "bench_stats.h"
#include "kvm_uapi.h"
#include "empty_pins.skel.h"

#define NPAGES	64
#define ITERS	50
#define CHUNKS	7
#define ROUNDS	5

/* ns per page for one register + unregister of NPAGES pages at mem */
static double pin_ns(struct io_uring *ring, char *mem)
{
	struct iovec iov[NPAGES];
	double chunk[CHUNKS];
	int c, i;

	for (i = 0; i < NPAGES; i++) {
		iov[i].iov_base = mem + (size_t)i * 4096;
		iov[i].iov_len = 4096;
	}
	for (c = 0; c < CHUNKS; c++) {
		__u64 t0 = now_ns();

		for (i = 0; i < ITERS; i++) {
			if (io_uring_register_buffers(ring, iov, NPAGES) ||
			    io_uring_unregister_buffers(ring))
				return -1;
		}
		chunk[c] = (double)(now_ns() - t0) / ITERS / NPAGES;
	}
	return median(chunk, CHUNKS);
}

/* a guest_memfd mmap of NPAGES touched pages, NULL with the reason said */
static char *gmem_pages(void)
{
	struct gmt_kvm_create_guest_memfd g = {
		.size = NPAGES * 4096,
		.flags = GMT_GUEST_MEMFD_FLAG_MMAP | GMT_GUEST_MEMFD_FLAG_INIT_SHARED,
	};
	int kvm = open("/dev/kvm", O_RDWR), vm, fd;
	char *p;

	vm = kvm < 0 ? -1 : ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	fd = vm < 0 ? -1 : ioctl(vm, GMT_KVM_CREATE_GUEST_MEMFD, &g);
	if (fd < 0) {
		fprintf(stderr, "gmt-bench-pins: no mmap-able guest_memfd here: %s\n",
			strerror(errno));
		return NULL;
	}
	p = mmap(NULL, NPAGES * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	memset(p, 1, NPAGES * 4096);
	return p;
}

#define TRACE_OUT	"/tmp/gmt-bench-pins.jsonl"
#define ATTACH_REC	"{\"type\":\"attach\""
#define SUMMARY_REC	"{\"type\":\"summary\""

/* the tracer, writing to TRACE_OUT; -1 if it died before the loop */
static pid_t start_tracer(const char *gmt, const char *opt)
{
	pid_t pid;
	int i;

	unlink(TRACE_OUT);
	pid = fork();
	if (!pid) {
		execl(gmt, gmt, "trace", opt, "-o", TRACE_OUT, "-f", "json", (char *)NULL);
		_exit(127);
	}
	/* the loop starts once the tracer says it attached (its attach
	 * record): probing by loading takes tens of seconds under TCG */
	for (i = 0; i < 1800; i++) {
		char line[256];
		bool attached = false;
		FILE *f;

		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
		f = fopen(TRACE_OUT, "r");
		while (f && !attached && fgets(line, sizeof(line), f))
			attached = !strncmp(line, ATTACH_REC, sizeof(ATTACH_REC) - 1);
		if (f)
			fclose(f);
		if (attached)
			return pid;
		usleep(100000);
	}
	fprintf(stderr, "gmt-bench-pins: gmemtrace trace %s did not attach\n", opt);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* stop it and count its gup_pin records and lost events: a tracer that
 * recorded nothing would make a cheap column */
static void stop_tracer(pid_t pid, long *pins, long *lost)
{
	char line[8192];
	FILE *f;

	kill(pid, SIGINT);
	waitpid(pid, NULL, 0);
	f = fopen(TRACE_OUT, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *l = strstr(line, "\"lost\":");

		if (strstr(line, "\"kind\":\"gup_pin\""))
			(*pins)++;
		if (!strncmp(line, SUMMARY_REC, sizeof(SUMMARY_REC) - 1) && l)
			*lost += atol(l + 7);
	}
	if (f)
		fclose(f);
	unlink(TRACE_OUT);
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "anonymous pages (unpin filter only)",
					     "guest_memfd pages (gup_pin records)" };
	const char *gmt = argc > 1 ? argv[1] : "gmemtrace";
	double r[4][2][ROUNDS];
	struct empty_pins_bpf *skel;
	struct io_uring ring;
	long pins[2] = { 0 }, lost[2] = { 0 };
	char *mem[2];
	int k, i;

	if (geteuid()) {
		fprintf(stderr, "gmt-bench-pins: needs root\n");
		return 3;
	}
	skel = empty_pins_bpf__open_and_load();
	if (!skel || empty_pins_bpf__attach(skel)) {
		fprintf(stderr, "gmt-bench-pins: cannot run here: the empty fexit/fentry "
			"programs on try_grab_folio/gup_put_folio do not load or attach (%s)\n",
			strerror(errno));
		return 3;
	}
	empty_pins_bpf__destroy(skel);
	mem[0] = mmap(NULL, NPAGES * 4096, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mem[1] = gmem_pages();
	if (mem[0] == MAP_FAILED || !mem[1] || io_uring_queue_init(4, &ring, 0))
		return 3;
	memset(mem[0], 1, NPAGES * 4096);
	for (k = 0; k < ROUNDS; k++) {
		pid_t t;

		for (i = 0; i < 2; i++)
			r[0][i][k] = pin_ns(&ring, mem[i]);
		skel = empty_pins_bpf__open_and_load();
		if (!skel || empty_pins_bpf__attach(skel))
			return 1;
		for (i = 0; i < 2; i++)
			r[1][i][k] = pin_ns(&ring, mem[i]);
		empty_pins_bpf__destroy(skel);
		t = start_tracer(gmt, "--holders");
		if (t < 0)
			return 1;
		for (i = 0; i < 2; i++)
			r[2][i][k] = pin_ns(&ring, mem[i]);
		stop_tracer(t, &pins[0], &lost[0]);
		t = start_tracer(gmt, "--kernel-pins");
		if (t < 0)
			return 1;
		for (i = 0; i < 2; i++)
			r[3][i][k] = pin_ns(&ring, mem[i]);
		stop_tracer(t, &pins[1], &lost[1]);
	}
	printf("io_uring register+unregister, ns per page (median of %d rounds, %d pages)\n"
	       "  %-40s %6s %6s %8s %8s  %s\n", ROUNDS, NPAGES, "", "bare", "empty", "uapi",
	       "+kpins", "kpins-added/empty-added");
	for (i = 0; i < 2; i++) {
		double b = median(r[0][i], ROUNDS), e = median(r[1][i], ROUNDS);
		double u = median(r[2][i], ROUNDS), h = median(r[3][i], ROUNDS);

		printf("  %-40s %6.0f %6.0f %8.0f %8.0f  %.2fx\n", names[i], b, e, u, h,
		       e > b ? (h - u) / (e - b) : 0.0);
	}
	printf("  gup_pin records: %ld under --holders, %ld under --kernel-pins (%ld guest_memfd\n"
	       "  page pins and as many unpins taken in the loops); events lost: %ld, %ld\n",
	       pins[0], pins[1], (long)ROUNDS * CHUNKS * ITERS * NPAGES, lost[0], lost[1]);
	return 0;
}
