// SPDX-License-Identifier: GPL-2.0-only
/* A stat snapshot as view records: one row per VM, generation and direction,
 * with its rates, percentiles, means and failures by errno. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "names.h"
#include "stats.h"
#include "view.h"

static void view_counts(struct gmt_counts_view *v, const struct gmt_stats *s)
{
	v->count = s->count;
	v->ok = s->ok;
	v->bytes = s->bytes;
	v->failed = s->failed;
	v->blocked = s->blocked;
	v->latency_sum_ns = s->lat_sum_ns;
}

/* the row's failures by errno, in snapshot order; returns how many */
static int view_errs(struct gmt_err_view *out, int room, const struct gmt_stat_snapshot *snap,
		     const struct gmt_stat_row *r)
{
	int j, n = 0;

	for (j = 0; j < snap->nr_errs && n < room; j++) {
		const struct gmt_stat_err *e = &snap->errs[j];

		if (e->key.vm_key != r->key.vm_key || e->key.dir != r->key.dir ||
		    e->key.gen != r->key.gen)
			continue;
		out[n].name = gmt_errno_name(e->key.err);
		out[n].err = e->key.err;
		out[n].delta = e->delta;
		out[n++].total = e->total;
	}
	return n;
}

static int view_buckets(struct gmt_bucket_view *out, const __u64 *hist)
{
	int j, n = 0;

	for (j = 0; j < GMT_HIST_SLOTS; j++) {
		if (!hist[j])
			continue;
		gmt_hist_bounds(j, &out[n].min, &out[n].max);
		out[n++].count = hist[j];
	}
	return n;
}

static void view_row(struct gmt_stat_row_view *v, const struct gmt_stat_row *r,
		     double interval_s)
{
	const struct gmt_stats *d = &r->delta;

	gmt_view_vm(&v->vm, r->total.vm_pid, r->total.vm_fd, r->key.vm_key);
	v->gone = r->gone;
	v->gen = gmt_gen_name(r->key.gen);
	v->dir = gmt_dir_name(r->key.dir);
	view_counts(&v->interval, d);
	view_counts(&v->total, &r->total);
	v->rate = interval_s > 0 ? d->count / interval_s : 0;
	v->bytes_rate = interval_s > 0 ? d->bytes / interval_s : 0;
	/* no conversion in the interval: no percentile, not a zero one */
	v->has_percentiles = d->count != 0;
	if (v->has_percentiles) {
		v->p50_ns = gmt_stat_percentile(r, 50);
		v->p90_ns = gmt_stat_percentile(r, 90);
		v->p99_ns = gmt_stat_percentile(r, 99);
	}
	v->max_ns = r->total.lat_max_ns;
	/* in-kernel latency and the mean offset of each phase marker */
	v->has_kernel_latency = d->klat_count != 0;
	if (v->has_kernel_latency)
		v->kernel_latency_avg_ns = d->klat_sum_ns / d->klat_count;
	v->nr_phases = gmt_view_phases(v->phases, NULL, d->phase_sum_ns, d->phase_count);
}

static void view_counters(struct gmt_named_u64 *out, const __u64 *n)
{
	int i;

	for (i = 0; i < GMT_CNT_MAX; i++) {
		out[i].name = gmt_counter_name(i);
		out[i].v = n[i];
	}
}

static int view_alloc(struct gmt_stat_view *v, const struct gmt_stat_snapshot *snap)
{
	int n = snap->nr_rows ? snap->nr_rows : 1;

	v->rows = calloc(n, sizeof(*v->rows));
	/* a row's errs are a part of the snapshot's: nr_errs is room for all */
	v->errs = calloc(snap->nr_errs ? snap->nr_errs : 1, sizeof(*v->errs));
	if (v->hist)
		v->buckets = calloc((size_t)n * GMT_HIST_SLOTS, sizeof(*v->buckets));
	if (!v->rows || !v->errs || (v->hist && !v->buckets)) {
		gmt_view_stat_free(v);
		return -ENOMEM;
	}
	return 0;
}

int gmt_view_stat(struct gmt_stat_view *v, const struct gmt_stat_snapshot *snap, bool hist)
{
	struct gmt_err_view *errs;
	int i, err;

	memset(v, 0, sizeof(*v));
	v->real_ns = snap->real_ns;
	v->interval_s = snap->interval_s;
	v->nr_live_vms = snap->nr_live_vms;
	v->pols = snap->pols;
	v->nr_pols = snap->nr_pols;
	v->drops = snap->counters[GMT_CNT_RB_DROPS];
	v->uncounted = snap->counters[GMT_CNT_UNCOUNTED];
	v->stats_full = snap->counters[GMT_CNT_STATS_FULL];
	view_counters(v->counters, snap->counters);
	v->hist = hist;
	err = view_alloc(v, snap);
	if (err)
		return err;
	errs = v->errs;
	for (i = 0; i < snap->nr_rows; i++) {
		struct gmt_stat_row_view *row = &v->rows[i];

		view_row(row, &snap->rows[i], snap->interval_s);
		row->errs = errs;
		row->nr_errs = view_errs(errs, v->errs + snap->nr_errs - errs, snap, &snap->rows[i]);
		errs += row->nr_errs;
		if (!hist)
			continue;
		row->buckets = v->buckets + (size_t)i * GMT_HIST_SLOTS;
		row->nr_buckets = view_buckets(v->buckets + (size_t)i * GMT_HIST_SLOTS,
					       snap->rows[i].delta.hist);
		gmt_hist_log2(snap->rows[i].delta.hist, row->pow2, 64);
	}
	v->nr_rows = snap->nr_rows;
	v->holders_on = snap->holders_on;
	err = gmt_view_holders_rows(&v->hrows, &v->nr_hrows, snap);
	if (err)
		gmt_view_stat_free(v);
	return err;
}

void gmt_view_stat_free(struct gmt_stat_view *v)
{
	free(v->hrows);
	v->hrows = NULL;
	free(v->rows);
	free(v->errs);
	free(v->buckets);
	v->rows = NULL;
	v->errs = NULL;
	v->buckets = NULL;
}

static void view_metrics_row(struct gmt_metrics_row_view *v, const struct gmt_stat_row *r)
{
	gmt_view_vm(&v->vm, r->total.vm_pid, r->total.vm_fd, r->key.vm_key);
	v->gone = r->gone;
	v->gen = gmt_gen_name(r->key.gen);
	v->dir = gmt_dir_name(r->key.dir);
	view_counts(&v->total, &r->total);
	gmt_hist_log2(r->total.hist, v->pow2, 64);
	v->klat_count = r->total.klat_count;
	v->klat_sum_ns = r->total.klat_sum_ns;
}

static bool err_before(const struct gmt_err_key *e, const struct gmt_stats_key *k)
{
	if (e->vm_key != k->vm_key)
		return e->vm_key < k->vm_key;
	return e->gen != k->gen ? e->gen < k->gen : e->dir < k->dir;
}

int gmt_view_metrics(struct gmt_metrics_view *v, const struct gmt_stat_snapshot *acc,
		     const __u64 *helper_errors, const struct gmt_attach_view *attach)
{
	struct gmt_err_view *errs;
	int i, e, err;

	memset(v, 0, sizeof(*v));
	v->version = GMT_VERSION;
	v->nr_live_vms = acc->nr_live_vms;
	v->attach = attach;
	view_counters(v->counters, acc->counters);
	gmt_view_helper_errors(v->helper_errors, helper_errors);
	v->rows = calloc(acc->nr_rows ? acc->nr_rows : 1, sizeof(*v->rows));
	v->errs = calloc(acc->nr_errs ? acc->nr_errs : 1, sizeof(*v->errs));
	if (!v->rows || !v->errs) {
		gmt_view_metrics_free(v);
		return -ENOMEM;
	}
	errs = v->errs;
	for (i = 0, e = 0; i < acc->nr_rows; i++) {
		struct gmt_metrics_row_view *row = &v->rows[i];
		const struct gmt_stats_key *k = &acc->rows[i].key;

		view_metrics_row(row, &acc->rows[i]);
		/* rows and errs in the same key order: one walk over both, not
		 * rows x errs (a scrape of 1000 VMs) */
		while (e < acc->nr_errs && err_before(&acc->errs[e].key, k))
			e++;
		row->errs = errs;
		for (; e < acc->nr_errs && acc->errs[e].key.vm_key == k->vm_key &&
		       acc->errs[e].key.gen == k->gen && acc->errs[e].key.dir == k->dir; e++) {
			errs->name = gmt_errno_name(acc->errs[e].key.err);
			errs->err = acc->errs[e].key.err;
			errs->total = acc->errs[e].total;
			errs++;
			row->nr_errs++;
		}
		/* rows of a VM are adjacent */
		if (!i || acc->rows[i - 1].key.vm_key != acc->rows[i].key.vm_key)
			v->nr_vms++;
	}
	v->nr_rows = acc->nr_rows;
	v->holders_on = acc->holders_on;
	err = gmt_view_holders_rows(&v->hrows, &v->nr_hrows, acc);
	if (err)
		gmt_view_metrics_free(v);
	return err;
}

void gmt_view_metrics_free(struct gmt_metrics_view *v)
{
	free(v->hrows);
	v->hrows = NULL;
	free(v->rows);
	free(v->errs);
	v->rows = NULL;
	v->errs = NULL;
}
