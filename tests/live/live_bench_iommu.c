// SPDX-License-Identifier: GPL-2.0-only
/*
 * What trace --holders' iommu:map / iommu:unmap programs (bpf/iommu_maps.bpf.c)
 * add to device mappings that are not of guest memory: on a host whose IOMMU
 * translates, a NIC's streaming DMA maps and unmaps per packet.
 *
 * gmem-workload --dma-loop times VFIO map+unmap pairs of one anonymous page
 * (each an iommu_map() and an iommu_unmap()). Each round runs it bare, with
 * empty raw tracepoint programs on map and unmap, under `trace`, and under
 * `trace --holders` with GMT_HOLDERS_DMA=off (the VFIO ioctl programs off, so
 * what --holders adds to these calls is the iommu programs'); each with no
 * guest_memfd page mapped for DMA, and with one (--pin 1: an iommu_map holder
 * alive, which every unmap must be checked against). Ratio:
 * (holders - trace) / (empty - bare), medians over the rounds.
 *
 * A benchmark: it runs only when asked (GMT_TESTS names bench_iommu, or
 * GMT_BENCH=1), in a row with a device bound to vfio-pci:
 *
 *     make vmtest VM_KERNELS=inplace-v8-7.2-iommu TESTS=bench_iommu
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "live_util.h"

#define PAIRS	20000
#define ROUNDS	5

enum column { BARE, EMPTY, TRACE, HOLDERS, NCOLS };
static const char *const col_name[NCOLS] = { "bare", "empty", "trace", "holders" };

/* an empty raw tracepoint program attached to tp: a link fd, or -errno */
static int attach_empty(const char *tp)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "gmt_bench_empty", "GPL", insns,
			     sizeof(insns) / sizeof(insns[0]), NULL);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(tp, prog);	/* libbpf 1.x: -errno on failure */
	close(prog);	/* the link holds it */
	return link;
}

/* the workload's ns per map+unmap pair in one column; pinned: one guest_memfd
 * page mapped for DMA during the loop */
static double run_once(enum column c, bool pinned)
{
	const char *wlj = live_tmp("bench-iommu-wl.json"), *out = live_tmp("bench-iommu.jsonl");
	const char *err = live_tmp("bench-iommu.err");
	char pairs[16];
	const char *argv[32];
	json_object *wl, *dma, *loop, *recs = NULL, *held;
	int n = 0, links[2] = { -1, -1 }, rc, i;
	double ns;

	snprintf(pairs, sizeof(pairs), "%d", PAIRS);
	if (c == TRACE || c == HOLDERS) {
		argv[n++] = live_bin("gmemtrace");
		argv[n++] = "trace";
		if (c == HOLDERS)
			argv[n++] = "--holders";
		argv[n++] = "-f";
		argv[n++] = "json";
		argv[n++] = "-o";
		argv[n++] = out;
		argv[n++] = "--";
	}
	argv[n++] = live_bin("gmem-workload");
	argv[n++] = "--vm-type";
	argv[n++] = "default";
	argv[n++] = "--conversions";
	argv[n++] = "0";
	argv[n++] = "--gmem-size";
	argv[n++] = "64K";
	argv[n++] = "--touch";
	if (pinned) {
		argv[n++] = "--pin";
		argv[n++] = "1";
	}
	argv[n++] = "--pin-with";
	argv[n++] = "vfio";
	argv[n++] = "--dma-loop";
	argv[n++] = pairs;
	argv[n++] = "--json-out";
	argv[n++] = wlj;
	argv[n] = NULL;

	unlink(wlj);
	if (c == EMPTY) {
		links[0] = attach_empty("map");
		links[1] = attach_empty("unmap");
		if (links[0] < 0 || links[1] < 0)
			fail_msg("empty programs on iommu:map/unmap: %s",
				 strerror(-(links[0] < 0 ? links[0] : links[1])));
	}
	if (c == HOLDERS)
		setenv("GMT_HOLDERS_DMA", "off", 1);
	rc = live_run((char *const *)argv, NULL, err, 900);
	unsetenv("GMT_HOLDERS_DMA");
	for (i = 0; i < 2; i++)
		if (links[i] >= 0)
			close(links[i]);

	wl = live_read_json(wlj);
	if (!wl) {
		live_dump(err, 20);
		fail_msg("gmem-workload wrote no report (exit %d)", rc);
	}
	dma = json_object_object_get(wl, "dma");
	if (!dma || live_get_str(dma, "error"))
		live_cannot_run("VFIO", "no device DMA mapping here: %s",
				dma ? live_get_str(dma, "error") : "no dma report");
	if (rc) {
		live_dump(err, 20);
		fail_msg("%s run exited %d", col_name[c], rc);
	}
	assert_true(json_object_object_get_ex(dma, "loop", &loop));
	assert_int_equal(live_get_int(loop, "ret"), 0);
	assert_int_equal(live_get_int(loop, "pairs"), PAIRS);
	ns = json_object_get_double(json_object_object_get(loop, "ns_per_pair"));
	assert_true(ns > 0);

	if (c == HOLDERS) {
		/* the loop must really have run beside an iommu_map holder (or none) */
		recs = live_read_ndjson(out);
		assert_non_null(recs);
		held = live_holders_of(recs, "holder_start", live_get_int(wl, "pid"), "iommu_map");
		if ((json_object_array_length(held) == 1) != pinned)
			fail_msg("%zu iommu_map holders with --pin %d, want %d",
				 json_object_array_length(held), pinned, pinned);
		json_object_put(held);
		json_object_put(recs);
	}
	json_object_put(wl);
	return ns;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void test_bench_iommu(void **state)
{
	double r[2][NCOLS][ROUNDS], med[2][NCOLS];
	int p, c, k;

	(void)state;
	if (!live_bench_wanted("bench_iommu")) {
		print_message("SKIP: a benchmark: run it with TESTS=bench_iommu (or GMT_BENCH=1)\n");
		skip();
	}
	if (!live_require_tracing())
		skip();
	for (k = 0; k < ROUNDS; k++)
		for (p = 0; p < 2; p++)
			for (c = 0; c < NCOLS; c++)
				r[p][c][k] = run_once(c, p);
	print_message("VFIO map+unmap of one anonymous page, ns per pair (median of %d rounds "
		      "of %d pairs)\n  %-34s %8s %8s %8s %8s  %s\n", ROUNDS, PAIRS, "",
		      col_name[BARE], col_name[EMPTY], col_name[TRACE], col_name[HOLDERS],
		      "(holders-trace)/(empty-bare)");
	for (p = 0; p < 2; p++) {
		for (c = 0; c < NCOLS; c++) {
			qsort(r[p][c], ROUNDS, sizeof(double), cmp_double);
			med[p][c] = r[p][c][ROUNDS / 2];
		}
		print_message("  %-34s %8.0f %8.0f %8.0f %8.0f  %.2fx\n",
			      p ? "one guest_memfd page DMA-mapped" : "no guest_memfd page mapped",
			      med[p][BARE], med[p][EMPTY], med[p][TRACE], med[p][HOLDERS],
			      med[p][EMPTY] > med[p][BARE] ?
			      (med[p][HOLDERS] - med[p][TRACE]) / (med[p][EMPTY] - med[p][BARE]) :
			      0.0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bench_iommu, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
