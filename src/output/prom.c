// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition (format 0.0.4) of a metrics view: every
 * metric of docs/metrics.md, each family's samples together under its HELP
 * and TYPE lines. Counters are cumulative since the exporter started; the
 * latency histogram's buckets are the in-kernel log-linear slots summed
 * into powers of two, so every count is exact (no re-sampling).
 */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "output.h"

/* le edges: 2^PROM_LE_LO - 1 ns (about 1 us) to 2^PROM_LE_HI - 1 ns (34 s);
 * faster conversions fall in the first bucket, slower ones in +Inf */
#define PROM_LE_LO	10
#define PROM_LE_HI	35

#define VM_LABELS	"vm=\"%s\",vm_id=\"%llu\",vm_pid=\"%d\",gen=\"%s\",dir=\"%s\""
#define VM_ARGS(r)	(r)->vm.label, (unsigned long long)(r)->vm.id, (r)->vm.pid, \
			(r)->gen, (r)->dir

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* seconds from nanoseconds, exactly */
static void seconds(FILE *f, __u64 ns)
{
	fprintf(f, "%llu.%09llu\n", (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns % 1000000000ULL));
}

static void prom_info(FILE *f, const struct gmt_metrics_view *v)
{
	const struct gmt_attach_view *a = v->attach;
	int i;

	family(f, "gmemtrace_info", "gauge", "Build information of the exporter (always 1).");
	fprintf(f, "gmemtrace_info{version=\"%s\"} 1\n", gmt_escape_str(v->version, GMT_ESC_JSON));
	family(f, "gmemtrace_program_attached", "gauge",
	       "Whether a BPF program of the session's attach plan is attached (1) or not (0).");
	for (i = 0; a && i < a->nr_progs; i++) {
		const struct gmt_prog_view *p = &a->progs[i];

		fprintf(f, "gmemtrace_program_attached{program=\"%s\",", p->program);
		fprintf(f, "backend=\"%s\",", p->backend ? p->backend : "");
		fprintf(f, "feature=\"%s\"} %d\n", p->feature ? p->feature : "", p->attached);
	}
	family(f, "gmemtrace_live_vms", "gauge", "VMs with an identity now (within the filters).");
	fprintf(f, "gmemtrace_live_vms %d\n", v->nr_live_vms);
	family(f, "gmemtrace_exported_vms", "gauge",
	       "VMs with series here: live ones and gone ones until their series expire.");
	fprintf(f, "gmemtrace_exported_vms %d\n", v->nr_vms);
}

static void prom_counters(FILE *f, const struct gmt_metrics_view *v)
{
	int i;

	family(f, "gmemtrace_ringbuf_drops_total", "counter",
	       "Events lost because the ring buffer was full.");
	fprintf(f, "gmemtrace_ringbuf_drops_total %llu\n",
		(unsigned long long)v->counters[GMT_CNT_RB_DROPS].v);
	family(f, "gmemtrace_bpf_drops_errors_total", "counter",
	       "Drop and error counters of the BPF programs, by name (docs/metrics.md).");
	for (i = 0; i < GMT_CNT_MAX; i++)
		fprintf(f, "gmemtrace_bpf_drops_errors_total{kind=\"%s\"} %llu\n",
			v->counters[i].name, (unsigned long long)v->counters[i].v);
	family(f, "gmemtrace_bpf_helper_errors_total", "counter",
	       "Failed BPF helper calls, by the call site that saw them.");
	for (i = 0; i < GMT_SITE_MAX - 1; i++)
		fprintf(f, "gmemtrace_bpf_helper_errors_total{site=\"%s\"} %llu\n",
			v->helper_errors[i].name, (unsigned long long)v->helper_errors[i].v);
}

/* ok, blocked (EAGAIN), and the other failures by errno; what the errno
 * breakdown misses (its map was full) is errno="other" */
static void prom_results(FILE *f, const struct gmt_metrics_row_view *r)
{
	__u64 left = r->total.failed - r->total.blocked;
	int i;

	fprintf(f, "gmemtrace_conversions_total{" VM_LABELS ",result=\"ok\"} %llu\n", VM_ARGS(r),
		(unsigned long long)r->total.ok);
	fprintf(f, "gmemtrace_conversions_total{" VM_LABELS ",result=\"blocked\",errno=\"EAGAIN\"} %llu\n",
		VM_ARGS(r), (unsigned long long)r->total.blocked);
	for (i = 0; i < r->nr_errs; i++) {
		const struct gmt_err_view *e = &r->errs[i];

		if (e->err == 11 || !e->total)		/* EAGAIN: blocked */
			continue;
		if (e->name)
			fprintf(f, "gmemtrace_conversions_total{" VM_LABELS
				",result=\"error\",errno=\"%s\"} %llu\n", VM_ARGS(r), e->name,
				(unsigned long long)e->total);
		else
			fprintf(f, "gmemtrace_conversions_total{" VM_LABELS
				",result=\"error\",errno=\"%u\"} %llu\n", VM_ARGS(r), e->err,
				(unsigned long long)e->total);
		left -= e->total < left ? e->total : left;
	}
	if (left)
		fprintf(f, "gmemtrace_conversions_total{" VM_LABELS
			",result=\"error\",errno=\"other\"} %llu\n", VM_ARGS(r),
			(unsigned long long)left);
}

static void prom_histogram(FILE *f, const struct gmt_metrics_row_view *r)
{
	static char le[64][24];
	__u64 cum = 0;
	int b;

	if (!le[PROM_LE_LO][0])
		for (b = PROM_LE_LO; b <= PROM_LE_HI; b++)
			snprintf(le[b], sizeof(le[b]), "%.10g", ((1ULL << b) - 1) / 1e9);
	/* bucket i holds [2^i, 2^(i+1) - 1] ns: le 2^(i+1) - 1 is exact */
	for (b = 0; b < 64; b++) {
		cum += r->pow2[b];
		if (b + 1 < PROM_LE_LO || b + 1 > PROM_LE_HI)
			continue;
		fprintf(f, "gmemtrace_conversion_latency_seconds_bucket{" VM_LABELS ",le=\"%s\"} %llu\n",
			VM_ARGS(r), le[b + 1], (unsigned long long)cum);
	}
	fprintf(f, "gmemtrace_conversion_latency_seconds_bucket{" VM_LABELS ",le=\"+Inf\"} %llu\n",
		VM_ARGS(r), (unsigned long long)cum);
	fprintf(f, "gmemtrace_conversion_latency_seconds_sum{" VM_LABELS "} ", VM_ARGS(r));
	seconds(f, r->total.latency_sum_ns);
	fprintf(f, "gmemtrace_conversion_latency_seconds_count{" VM_LABELS "} %llu\n", VM_ARGS(r),
		(unsigned long long)cum);
}

static void prom_rows(FILE *f, const struct gmt_metrics_view *v)
{
	int i;

	family(f, "gmemtrace_conversions_total", "counter",
	       "Completed conversion ioctls by VM, generation, direction and result.");
	for (i = 0; i < v->nr_rows; i++)
		prom_results(f, &v->rows[i]);
	family(f, "gmemtrace_converted_bytes_total", "counter",
	       "Bytes converted by the successful conversions.");
	for (i = 0; i < v->nr_rows; i++)
		fprintf(f, "gmemtrace_converted_bytes_total{" VM_LABELS "} %llu\n", VM_ARGS(&v->rows[i]),
			(unsigned long long)v->rows[i].total.bytes);
	family(f, "gmemtrace_conversion_latency_seconds", "histogram",
	       "Conversion ioctl latency, syscall entry to exit (in-kernel histogram).");
	for (i = 0; i < v->nr_rows; i++)
		prom_histogram(f, &v->rows[i]);
	family(f, "gmemtrace_conversion_kernel_latency_seconds", "summary",
	       "In-kernel conversion latency where a kernel-side program measured it.");
	for (i = 0; i < v->nr_rows; i++) {
		const struct gmt_metrics_row_view *r = &v->rows[i];

		if (!r->klat_count)
			continue;
		fprintf(f, "gmemtrace_conversion_kernel_latency_seconds_sum{" VM_LABELS "} ",
			VM_ARGS(r));
		seconds(f, r->klat_sum_ns);
		fprintf(f, "gmemtrace_conversion_kernel_latency_seconds_count{" VM_LABELS "} %llu\n",
			VM_ARGS(r), (unsigned long long)r->klat_count);
	}
}

static void prom_metrics(struct gmt_out *o, const struct gmt_metrics_view *v)
{
	prom_info(o->f, v);
	prom_counters(o->f, v);
	prom_rows(o->f, v);
}

const struct gmt_out_ops gmt_prom_ops = {
	.metrics = prom_metrics,
};
