// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition (format 0.0.4) of a metrics view: every
 * metric of docs/metrics.md, each family's samples together under its HELP
 * and TYPE lines. Counters are cumulative since the exporter started; the
 * latency histogram's buckets are the in-kernel log-linear slots summed
 * into powers of two, so every count is exact (no re-sampling).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "live.h"
#include "output.h"
#include "policy.h"

/* le edges: 2^k - 1 ns for every other k from PROM_LE_LO (about 1 us) to
 * PROM_LE_HI (69 s), a factor of 4 apart: 14 buckets per series (a scrape of
 * 1000 VMs is mostly bucket samples); faster conversions fall in the first
 * bucket, slower ones in +Inf */
#define PROM_LE_LO	10
#define PROM_LE_HI	36
#define PROM_LE_EDGE(b)	((b) >= PROM_LE_LO && (b) <= PROM_LE_HI && !(((b) - PROM_LE_LO) & 1))

/* a sample: NAME{LABELS[,EXTRA]} VALUE, built in one buffer and written at
 * once (a scrape of 1000 VMs is some 100k samples: no printf per sample) */
static void sample(FILE *f, const char *name, const char *labels, const char *extra, __u64 val)
{
	char buf[512], num[24], *p = buf, *n = num + sizeof(num);
	size_t ln = strlen(name), ll = strlen(labels), le = extra ? strlen(extra) : 0;

	if (ln + ll + le + 32 > sizeof(buf))
		return;
	memcpy(p, name, ln);
	p += ln;
	*p++ = '{';
	memcpy(p, labels, ll);
	p += ll;
	if (le) {
		*p++ = ',';
		memcpy(p, extra, le);
		p += le;
	}
	*p++ = '}';
	*p++ = ' ';
	do
		*--n = '0' + val % 10;
	while (val /= 10);
	memcpy(p, n, num + sizeof(num) - n);
	p += num + sizeof(num) - n;
	*p++ = '\n';
	fwrite_unlocked(buf, 1, p - buf, f);
}

/* the labels of a row's series, made once per row */
static void vm_labels(char *buf, size_t size, const struct gmt_metrics_row_view *r)
{
	snprintf(buf, size, "vm=\"%s\",vm_id=\"%llu\",vm_pid=\"%d\",gen=\"%s\",dir=\"%s\"",
		 r->vm.label, (unsigned long long)r->vm.id, r->vm.pid, r->gen, r->dir);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
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
static void prom_results(FILE *f, const struct gmt_metrics_row_view *r, const char *lab)
{
	static const char m[] = "gmemtrace_conversions_total";
	__u64 left = r->total.failed - r->total.blocked;
	char extra[64];
	int i;

	sample(f, m, lab, "result=\"ok\"", r->total.ok);
	sample(f, m, lab, "result=\"blocked\",errno=\"EAGAIN\"", r->total.blocked);
	for (i = 0; i < r->nr_errs; i++) {
		const struct gmt_err_view *e = &r->errs[i];

		if (e->err == 11 || !e->total)		/* EAGAIN: blocked */
			continue;
		if (e->name)
			snprintf(extra, sizeof(extra), "result=\"error\",errno=\"%s\"", e->name);
		else
			snprintf(extra, sizeof(extra), "result=\"error\",errno=\"%u\"", e->err);
		sample(f, m, lab, extra, e->total);
		left -= e->total < left ? e->total : left;
	}
	if (left)
		sample(f, m, lab, "result=\"error\",errno=\"other\"", left);
}

/* NAME{LABELS} seconds, exactly */
static void seconds(FILE *f, const char *name, const char *lab, __u64 ns)
{
	fprintf(f, "%s{%s} %llu.%09llu\n", name, lab, (unsigned long long)(ns / 1000000000ULL),
		(unsigned long long)(ns % 1000000000ULL));
}

static void prom_histogram(FILE *f, const struct gmt_metrics_row_view *r, const char *lab)
{
	static const char m[] = "gmemtrace_conversion_latency_seconds_bucket";
	static char le[64][32];
	__u64 cum = 0;
	int b;

	if (!le[PROM_LE_LO][0])
		for (b = PROM_LE_LO; b <= PROM_LE_HI; b++)
			snprintf(le[b], sizeof(le[b]), "le=\"%.10g\"", ((1ULL << b) - 1) / 1e9);
	/* bucket i holds [2^i, 2^(i+1) - 1] ns: le 2^(i+1) - 1 is exact */
	for (b = 0; b < 64; b++) {
		cum += r->pow2[b];
		if (PROM_LE_EDGE(b + 1))
			sample(f, m, lab, le[b + 1], cum);
	}
	sample(f, m, lab, "le=\"+Inf\"", cum);
	seconds(f, "gmemtrace_conversion_latency_seconds_sum", lab, r->total.latency_sum_ns);
	sample(f, "gmemtrace_conversion_latency_seconds_count", lab, NULL, cum);
}

static void prom_kernel_latency(FILE *f, const struct gmt_metrics_row_view *r, const char *lab)
{
	if (!r->klat_count)
		return;		/* not measured in the kernel */
	seconds(f, "gmemtrace_conversion_kernel_latency_seconds_sum", lab, r->klat_sum_ns);
	sample(f, "gmemtrace_conversion_kernel_latency_seconds_count", lab, NULL, r->klat_count);
}

/* each family's samples together, as the exposition format wants */
static void prom_rows(FILE *f, const struct gmt_metrics_view *v, char (*labs)[160])
{
	int i;

	family(f, "gmemtrace_conversions_total", "counter",
	       "Completed conversion ioctls by VM, generation, direction and result.");
	for (i = 0; i < v->nr_rows; i++)
		prom_results(f, &v->rows[i], labs[i]);
	family(f, "gmemtrace_converted_bytes_total", "counter",
	       "Bytes converted by the successful conversions.");
	for (i = 0; i < v->nr_rows; i++)
		sample(f, "gmemtrace_converted_bytes_total", labs[i], NULL, v->rows[i].total.bytes);
	family(f, "gmemtrace_conversion_latency_seconds", "histogram",
	       "Conversion ioctl latency, syscall entry to exit (in-kernel histogram).");
	for (i = 0; i < v->nr_rows; i++)
		prom_histogram(f, &v->rows[i], labs[i]);
	family(f, "gmemtrace_conversion_kernel_latency_seconds", "summary",
	       "In-kernel conversion latency where a kernel-side program measured it.");
	for (i = 0; i < v->nr_rows; i++)
		prom_kernel_latency(f, &v->rows[i], labs[i]);
}

/* per-rule counters of each policy hook attached now (they restart at a
 * policy reload: a counter reset to Prometheus) */
static void prom_policy(FILE *f, const struct gmt_metrics_view *v)
{
	static const char *const names[2] = { "gmemtrace_policy_rule_hits_total",
					      "gmemtrace_policy_rule_denies_total" };
	static const char *const help[2] = {
		"Conversions decided by the rule (rule=\"default\": no rule matched).",
		"Conversions the rule denied (in monitor mode: would have denied)." };
	char labels[200];
	int k, i, j;

	for (k = 0; k < 2; k++) {
		family(f, names[k], "counter", help[k]);
		for (i = 0; i < v->nr_pols && i < GMT_POL_LIVE_MAX; i++) {
			const struct gmt_pol_live *h = &v->pols[i];

			for (j = 0; h->readable && j <= (int)h->nr_rules; j++) {
				const struct gmt_pol_rule_count *c = &h->rules[j];
				char rule[16];

				snprintf(rule, sizeof(rule), "%u", c->id);
				snprintf(labels, sizeof(labels),
					 "hook=\"%s\",link_id=\"%u\",pinned=\"%s\",mode=\"%s\","
					 "rule=\"%s\",action=\"%s\"", h->prog, h->link_id,
					 h->pinned ? "true" : "false",
					 h->mode == GMT_POL_ENFORCE ? "enforce" : "monitor",
					 j < (int)h->nr_rules ? rule : "default",
					 gmt_policy_action_name(c->action));
				sample(f, names[k], labels, NULL, k ? c->denies : c->hits);
			}
		}
	}
}

/* export --holders: per VM, holders by kind and the bytes they pin, until
 * the VM's series expire (0 once its holders went) */
static void holder_labels(char *buf, size_t size, const struct gmt_holders_row_view *r)
{
	snprintf(buf, size, "vm=\"%s\",vm_id=\"%llu\",vm_pid=\"%d\"", r->vm.label,
		 (unsigned long long)r->vm.id, r->vm.pid);
}

static void prom_holders(FILE *f, const struct gmt_metrics_view *v)
{
	char lab[128], kind[64];
	int i, k;

	if (!v->holders_on)
		return;
	family(f, "gmemtrace_holders", "gauge",
	       "Long-term references on the VM's guest_memfd pages held now, by kind.");
	for (i = 0; i < v->nr_hrows; i++) {
		const struct gmt_holders_row_view *r = &v->hrows[i];

		holder_labels(lab, sizeof(lab), r);
		for (k = 0; k < r->nr_kinds; k++) {
			snprintf(kind, sizeof(kind), "kind=\"%s\"", r->kinds[k].kind);
			sample(f, "gmemtrace_holders", lab, kind, r->kinds[k].n);
		}
	}
	family(f, "gmemtrace_pinned_bytes", "gauge",
	       "Bytes of the VM's guest_memfd under at least one holder now.");
	for (i = 0; i < v->nr_hrows; i++) {
		const struct gmt_holders_row_view *r = &v->hrows[i];

		holder_labels(lab, sizeof(lab), r);
		sample(f, "gmemtrace_pinned_bytes", lab, NULL, r->pinned_bytes);
	}
}

static void prom_metrics(struct gmt_out *o, const struct gmt_metrics_view *v)
{
	char (*labs)[160] = calloc(v->nr_rows ? v->nr_rows : 1, sizeof(*labs));
	int i;

	prom_info(o->f, v);
	prom_counters(o->f, v);
	prom_policy(o->f, v);
	if (!labs) {
		o->werr = ENOMEM;
		return;
	}
	for (i = 0; i < v->nr_rows; i++)
		vm_labels(labs[i], sizeof(labs[i]), &v->rows[i]);
	prom_rows(o->f, v, labs);
	prom_holders(o->f, v);
	free(labs);
}

const struct gmt_out_ops gmt_prom_ops = {
	.metrics = prom_metrics,
};
