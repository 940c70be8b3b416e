// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "grow.h"
#include "hist.h"
#include "stats.h"
#include "util.h"

void gmt_stats_delta(const struct gmt_stats *cur, const struct gmt_stats *prev,
		     struct gmt_stats *d)
{
	int i;

	*d = *cur;
	if (!prev)
		return;
	d->count -= prev->count;
	d->ok -= prev->ok;
	d->bytes -= prev->bytes;
	d->failed -= prev->failed;
	d->blocked -= prev->blocked;
	d->lat_sum_ns -= prev->lat_sum_ns;
	for (i = 0; i < GMT_ERRC_MAX; i++)
		d->errs[i] -= prev->errs[i];
	d->klat_count -= prev->klat_count;
	d->klat_sum_ns -= prev->klat_sum_ns;
	for (i = 0; i < GMT_PH_MAX; i++) {
		d->phase_sum_ns[i] -= prev->phase_sum_ns[i];
		d->phase_count[i] -= prev->phase_count[i];
	}
	for (i = 0; i < GMT_HIST_SLOTS; i++)
		d->hist[i] -= prev->hist[i];
}

static int key_cmp(const void *a, const void *b)
{
	const struct gmt_stats_key *x = a, *y = b;

	if (x->vm_key != y->vm_key)
		return x->vm_key < y->vm_key ? -1 : 1;
	if (x->gen != y->gen)
		return x->gen - y->gen;
	return x->dir - y->dir;
}

/* rows read in VM order: by owner pid and VM fd, as the labels show them */
static int row_cmp(const void *a, const void *b)
{
	const struct gmt_stat_row *x = a, *y = b;

	if (x->total.vm_pid != y->total.vm_pid)
		return x->total.vm_pid < y->total.vm_pid ? -1 : 1;
	if (x->total.vm_fd != y->total.vm_fd)
		return x->total.vm_fd < y->total.vm_fd ? -1 : 1;
	return key_cmp(&x->key, &y->key);
}

static int err_cmp(const void *a, const void *b)
{
	const struct gmt_err_key *x = a, *y = b;
	int c = key_cmp(&(struct gmt_stats_key){ .vm_key = x->vm_key, .dir = x->dir, .gen = x->gen },
			&(struct gmt_stats_key){ .vm_key = y->vm_key, .dir = y->dir, .gen = y->gen });

	return c ? c : x->err - y->err;
}

static int add_err(struct gmt_stat_snapshot *out, int *cap, const struct gmt_err_key *k,
		   __u64 total)
{
	struct gmt_stat_err *e;

	if (gmt_grow(&out->errs, cap, out->nr_errs, sizeof(*e), 8))
		return -ENOMEM;
	e = &out->errs[out->nr_errs++];
	memset(e, 0, sizeof(*e));
	e->key = *k;
	e->total = total;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* the ids of every VM with an identity now, sorted */
static int live_ids(int vms_fd, __u64 **out, int *nr)
{
	__u64 key, next, *kp = NULL, *ids = NULL;
	struct gmt_vm_info info;
	int cap = 0;

	*nr = 0;
	while (vms_fd >= 0 && !bpf_map_get_next_key(vms_fd, kp, &next)) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(vms_fd, &key, &info))
			continue;
		if (info.quiet)
			continue;	/* created outside the filters: not one of ours */
		if (gmt_grow(&ids, &cap, *nr, sizeof(*ids), 64)) {
			free(ids);
			return -ENOMEM;
		}
		ids[(*nr)++] = info.id;
	}
	if (*nr)
		qsort(ids, *nr, sizeof(*ids), u64_cmp);
	*out = ids;
	return 0;
}

static bool id_live(const __u64 *ids, int nr, __u64 id)
{
	return nr && bsearch(&id, ids, nr, sizeof(*ids), u64_cmp);
}

/* one row per (VM slot, gen, dir) with conversions; owner[slot] = its VM */
/*
 * Every stats entry of the first nr slots into vals: one batched syscall
 * where the kernel has it (a scrape of 1000 VMs is 6000 entries of ~3 KiB),
 * else one lookup each. A missing entry reads as zero.
 */
static int read_entries(int stats_fd, __u32 n, struct gmt_stats *vals)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 count = n, out_batch = 0, idx;
	__u32 *keys = calloc(n ? n : 1, sizeof(*keys));
	int err;

	if (!keys)
		return -ENOMEM;
	err = n ? bpf_map_lookup_batch(stats_fd, NULL, &out_batch, keys, vals, &count, &opts) : 0;
	free(keys);
	/* ENOENT: the batch reached the end of the array, all of it read */
	if ((!err || errno == ENOENT) && count == n)
		return 0;
	memset(vals, 0, (size_t)n * sizeof(*vals));
	for (idx = 0; idx < n; idx++)
		bpf_map_lookup_elem(stats_fd, &idx, &vals[idx]);
	return 0;
}

/* a row for one stats entry with conversions, and its common errnos */
static int add_row(struct gmt_stat_snapshot *out, int *cap, int *ecap, __u32 idx,
		   const struct gmt_stats *v)
{
	static const __u16 class_errno[GMT_ERRC_MAX] = GMT_ERRC_ERRNOS;
	struct gmt_stat_row *r;
	int c, err;

	err = gmt_grow(&out->rows, cap, out->nr_rows, sizeof(*r), 8);
	if (err)
		return err;
	r = &out->rows[out->nr_rows++];
	memset(r, 0, sizeof(*r));
	r->total = *v;
	r->slot = idx / GMT_STATS_PER_VM;
	r->key.vm_key = v->vm_key;
	r->key.gen = (idx % GMT_STATS_PER_VM) / GMT_DIR_MAX + 1;
	r->key.dir = idx % GMT_DIR_MAX;
	/* the common errnos are counted in the value itself */
	for (c = 0; c < GMT_ERRC_OTHER && !err; c++) {
		struct gmt_err_key k = { .vm_key = v->vm_key, .dir = r->key.dir,
					 .gen = r->key.gen, .err = class_errno[c] };

		if (v->errs[c])
			err = add_err(out, ecap, &k, v->errs[c]);
	}
	return err;
}

static int read_slots(int stats_fd, __u32 nr_slots, __u64 *owner, struct gmt_stat_snapshot *out,
		      int *ecap)
{
	__u32 n = nr_slots * GMT_STATS_PER_VM, idx;
	struct gmt_stats *v = calloc(n ? n : 1, sizeof(*v));
	int cap = 0, err;

	if (!v)
		return -ENOMEM;
	err = read_entries(stats_fd, n, v);
	for (idx = 0; idx < n && !err; idx++) {
		if (v[idx].vm_key)
			owner[idx / GMT_STATS_PER_VM] = v[idx].vm_key;
		if (v[idx].count)
			err = add_row(out, &cap, ecap, idx, &v[idx]);
	}
	free(v);
	return err;
}

/*
 * A VM is gone only if it was already gone when the slots were read: it
 * existed before (id below the watermark) and was not among the live ones
 * read first. Then nothing can have counted into its slot since, and the
 * row read is its last. A VM that dies while the slots are read is gone at
 * the next snapshot (its last conversions would be lost otherwise).
 */
static bool gone_before(const __u64 *live, int nr_live, __u64 watermark, __u64 id)
{
	return id && id < watermark && !id_live(live, nr_live, id);
}

static int mark_gone(const __u64 *live, int nr_live, __u64 watermark, const __u64 *owner,
		     __u32 nr_slots, struct gmt_stat_snapshot *out)
{
	int i;
	__u32 idx;

	out->nr_live_vms = nr_live;
	for (i = 0; i < out->nr_rows; i++)
		out->rows[i].gone = gone_before(live, nr_live, watermark, out->rows[i].key.vm_key);
	out->dead_slots = malloc((nr_slots ? nr_slots : 1) * sizeof(*out->dead_slots));
	for (idx = 0; out->dead_slots && idx < nr_slots; idx++)
		if (gone_before(live, nr_live, watermark, owner[idx]))
			out->dead_slots[out->nr_dead++] = idx;
	return out->dead_slots ? 0 : -ENOMEM;
}

/* errnos outside the classes, from their own map */
static int read_rare_errors(int errors_fd, struct gmt_stat_snapshot *out, int *ecap)
{
	struct gmt_err_key key, next, *kp = NULL;
	__u64 n;

	while (errors_fd >= 0 && !bpf_map_get_next_key(errors_fd, kp, &next)) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(errors_fd, &key, &n))
			continue;
		if (add_err(out, ecap, &key, n))
			return -ENOMEM;
	}
	return 0;
}

static void apply_deltas(const struct gmt_stat_snapshot *prev, struct gmt_stat_snapshot *out)
{
	int i, j;

	for (i = 0; i < out->nr_rows; i++) {
		const struct gmt_stats *p = NULL;

		for (j = 0; prev && j < prev->nr_rows; j++)
			if (!key_cmp(&prev->rows[j].key, &out->rows[i].key))
				p = &prev->rows[j].total;
		gmt_stats_delta(&out->rows[i].total, p, &out->rows[i].delta);
	}
	for (i = 0; i < out->nr_errs; i++) {
		out->errs[i].delta = out->errs[i].total;
		for (j = 0; prev && j < prev->nr_errs; j++)
			if (!err_cmp(&prev->errs[j].key, &out->errs[i].key))
				out->errs[i].delta -= prev->errs[j].total;
	}
	if (prev)
		out->interval_s = (out->real_ns - prev->real_ns) / 1e9;
}

int gmt_stats_read(int stats_fd, __u32 nr_slots, int vms_fd, __u64 watermark, int errors_fd,
		   const struct gmt_stat_snapshot *prev, struct gmt_stat_snapshot *out)
{
	__u64 *owner, *live = NULL;
	int ecap = 0, err, nr_live = 0;

	memset(out, 0, sizeof(*out));
	out->real_ns = gmt_mono_ns() + gmt_mono_to_real_offset();
	if (nr_slots > GMT_MAX_VMS)
		nr_slots = GMT_MAX_VMS;
	owner = calloc(nr_slots ? nr_slots : 1, sizeof(*owner));
	if (!owner)
		return -ENOMEM;
	/* identities first (the watermark before them), slots second */
	err = live_ids(vms_fd, &live, &nr_live);
	if (!err)
		err = read_slots(stats_fd, nr_slots, owner, out, &ecap);
	if (!err)
		err = mark_gone(live, nr_live, watermark, owner, nr_slots, out);
	free(owner);
	out->live_ids = live;	/* nr_live_vms of them */
	if (!err)
		err = read_rare_errors(errors_fd, out, &ecap);
	if (err)
		return err;
	qsort(out->rows, out->nr_rows, sizeof(*out->rows), row_cmp);
	qsort(out->errs, out->nr_errs, sizeof(*out->errs), err_cmp);
	apply_deltas(prev, out);
	return 0;
}

void gmt_stats_free(struct gmt_stat_snapshot *s)
{
	free(s->rows);
	free(s->errs);
	free(s->dead_slots);
	free(s->live_ids);
	free(s->hvms);
	s->live_ids = NULL;
	s->hvms = NULL;
	s->nr_hvms = 0;
	s->rows = NULL;
	s->errs = NULL;
	s->dead_slots = NULL;
	s->nr_rows = s->nr_errs = s->nr_dead = 0;
}

bool gmt_stats_vm_live(const struct gmt_stat_snapshot *s, __u64 vm_id)
{
	return id_live(s->live_ids, s->nr_live_vms, vm_id);
}

__u64 gmt_stat_percentile(const struct gmt_stat_row *r, double p)
{
	__u64 v = gmt_hist_percentile(r->delta.hist, p);

	/* interpolation inside a slot can overshoot the largest sample */
	return v > r->total.lat_max_ns ? r->total.lat_max_ns : v;
}

/* the new snapshot into acc: totals only grow; a row no longer read is gone */
int gmt_stats_accumulate(struct gmt_stat_snapshot *acc, const struct gmt_stat_snapshot *cur, __u64 now)
{
	int i, nr_old = acc->nr_rows, nr_old_errs = acc->nr_errs;
	struct gmt_stat_row *r;
	struct gmt_stat_err *e;

	for (i = 0; i < nr_old; i++)
		acc->rows[i].gone = true;	/* until read again */
	for (i = 0; i < cur->nr_rows; i++) {
		const struct gmt_stat_row *c = &cur->rows[i];

		r = bsearch(&c->key, acc->rows, nr_old, sizeof(*r), key_cmp);
		if (!r) {
			if (gmt_append(&acc->rows, &acc->nr_rows, c, sizeof(*c)))
				return -ENOMEM;
			continue;
		}
		if (c->total.count >= r->total.count)
			r->total = c->total;
		r->gone = c->gone;
	}
	for (i = 0; i < cur->nr_errs; i++) {
		const struct gmt_stat_err *c = &cur->errs[i];

		e = bsearch(&c->key, acc->errs, nr_old_errs, sizeof(*e), err_cmp);
		if (!e && gmt_append(&acc->errs, &acc->nr_errs, c, sizeof(*c)))
			return -ENOMEM;
		if (e && c->total > e->total)
			e->total = c->total;
	}
	for (i = 0; i < acc->nr_rows; i++)
		if (acc->rows[i].gone && !acc->rows[i].gone_ns)
			acc->rows[i].gone_ns = now;
	qsort(acc->rows, acc->nr_rows, sizeof(*acc->rows), key_cmp);
	qsort(acc->errs, acc->nr_errs, sizeof(*acc->errs), err_cmp);
	return 0;
}

/* series of VMs gone for expire_ns go, and their failures with them */
void gmt_stats_expire(struct gmt_stat_snapshot *acc, __u64 now, __u64 expire_ns)
{
	int i, n = 0;

	for (i = 0; i < acc->nr_rows; i++) {
		const struct gmt_stat_row *r = &acc->rows[i];

		if (!r->gone_ns || now - r->gone_ns < expire_ns)
			acc->rows[n++] = *r;
	}
	acc->nr_rows = n;
	for (i = n = 0; i < acc->nr_errs; i++) {
		struct gmt_stats_key k = { .vm_key = acc->errs[i].key.vm_key,
					   .dir = acc->errs[i].key.dir,
					   .gen = acc->errs[i].key.gen };

		if (bsearch(&k, acc->rows, acc->nr_rows, sizeof(*acc->rows), key_cmp))
			acc->errs[n++] = acc->errs[i];
	}
	acc->nr_errs = n;
}
