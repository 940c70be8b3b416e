// SPDX-License-Identifier: GPL-2.0-only
/* Holders per VM from BPF's holder map (holders_vms.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "grow.h"
#include "holders.h"
#include "holders_vms.h"

static int hvm_cmp(const void *a, const void *b)
{
	const struct gmt_stat_holders *x = a, *y = b;

	return x->vm_id < y->vm_id ? -1 : x->vm_id > y->vm_id;
}

/* the VM's row, appended when new (rows are sorted afterwards) */
static struct gmt_stat_holders *hvm_row(struct gmt_stat_snapshot *s, int *cap,
					const struct gmt_live_holder *h)
{
	struct gmt_stat_holders *r;
	int i;

	for (i = s->nr_hvms - 1; i >= 0; i--)	/* a VM's holders are mostly adjacent */
		if (s->hvms[i].vm_id == h->vm_id)
			return &s->hvms[i];
	if (gmt_grow(&s->hvms, cap, s->nr_hvms, sizeof(*r), 8))
		return NULL;
	r = &s->hvms[s->nr_hvms++];
	memset(r, 0, sizeof(*r));
	r->vm_id = h->vm_id;
	r->vm_pid = h->vm_pid;
	r->vm_fd = h->vm_fd;
	return r;
}

/* holders sorted by (inode, offset): per inode, the union of their ranges */
int gmt_holders_sum_vms(const struct gmt_holders *t, struct gmt_stat_snapshot *out)
{
	__u64 run_ino = 0, run_end = 0;
	int i, cap = 0;

	for (i = 0; i < t->nr; i++) {
		const struct gmt_live_holder *h = &t->h[i];
		struct gmt_stat_holders *r = hvm_row(out, &cap, h);
		__u64 end = h->gmem_offset + h->len, from = h->gmem_offset;

		if (!r)
			return -ENOMEM;
		/* a DMA holder's own device mapping is that holder, not a second */
		if (!gmt_holders_dma_of(t, h)) {
			r->holders++;
			r->by_kind[h->kind < GMT_HOLDER_KINDS ? h->kind : 0]++;
		}
		if (h->gmem_ino != run_ino) {
			run_ino = h->gmem_ino;
			run_end = 0;
		}
		if (from < run_end)
			from = run_end;	/* what an earlier holder covers is counted */
		if (end > from)
			r->pinned_bytes += end - from;
		if (end > run_end)
			run_end = end;
	}
	return 0;
}

static int read_map(int map_fd, struct gmt_holders *t)
{
	struct gmt_holder_key key, next, *kp = NULL;
	struct gmt_hval v;
	int err;

	while (!bpf_map_get_next_key(map_fd, kp, &next)) {
		struct gmt_live_holder h = { 0 };

		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(map_fd, &key, &v))
			continue;	/* ended while read */
		h.id = v.h.id;
		h.kind = v.h.kind;
		h.pid = key.tgid;
		h.fd = v.h.ring_fd;
		h.index = v.h.index;
		h.iova = v.h.iova;
		h.paddr = v.h.paddr;
		h.gmem_ino = v.h.gmem_ino;
		h.gmem_offset = v.h.gmem_offset;
		h.len = v.h.len;
		h.uaddr = v.h.uaddr;
		h.start_ns = v.h.start_ns;
		h.vm_id = v.vm_id;
		h.vm_pid = v.vm_pid;
		h.vm_fd = v.vm_fd;
		err = gmt_holders_add(t, &h);
		if (err)
			return err;
	}
	return 0;
}

int gmt_holders_vms_read(int map_fd, const struct gmt_stat_snapshot *prev,
			 struct gmt_stat_snapshot *out)
{
	struct gmt_holders t = { 0 };
	int i, cap, err;

	out->holders_on = true;
	err = read_map(map_fd, &t);
	if (!err)
		err = gmt_holders_sum_vms(&t, out);
	gmt_holders_free(&t);
	if (err)
		return err;
	/* holders that went since the last snapshot: their VM reads 0 once */
	cap = out->nr_hvms;
	for (i = 0; prev && i < prev->nr_hvms; i++) {
		const struct gmt_stat_holders *p = &prev->hvms[i];
		struct gmt_live_holder as = { .vm_id = p->vm_id, .vm_pid = p->vm_pid,
					      .vm_fd = p->vm_fd };
		struct gmt_stat_holders *r;

		if (!p->holders)
			continue;
		r = hvm_row(out, &cap, &as);
		if (!r)
			return -ENOMEM;
		r->gone = !r->holders && !gmt_stats_vm_live(out, r->vm_id);
	}
	qsort(out->hvms, out->nr_hvms, sizeof(*out->hvms), hvm_cmp);
	return 0;
}

int gmt_holders_vms_accumulate(struct gmt_stat_snapshot *acc,
			       const struct gmt_stat_snapshot *cur, __u64 now)
{
	int i, nr_old = acc->nr_hvms, cap = acc->nr_hvms;

	acc->holders_on = cur->holders_on;
	for (i = 0; i < nr_old; i++) {
		struct gmt_stat_holders *a = &acc->hvms[i];
		const struct gmt_stat_holders *c = bsearch(a, cur->hvms, cur->nr_hvms,
							   sizeof(*c), hvm_cmp);

		if (c) {
			*a = *c;
		} else {
			/* no holders now; its series stay until the VM's expire */
			memset(a->by_kind, 0, sizeof(a->by_kind));
			a->holders = a->pinned_bytes = 0;
			a->gone = !gmt_stats_vm_live(cur, a->vm_id);
		}
		if (!a->gone)
			a->gone_ns = 0;
		else if (!a->gone_ns)
			a->gone_ns = now;
	}
	for (i = 0; i < cur->nr_hvms; i++) {
		const struct gmt_stat_holders *c = &cur->hvms[i];

		if (bsearch(c, acc->hvms, nr_old, sizeof(*c), hvm_cmp))
			continue;
		if (gmt_grow(&acc->hvms, &cap, acc->nr_hvms, sizeof(*c), 8))
			return -ENOMEM;
		acc->hvms[acc->nr_hvms] = *c;
		acc->hvms[acc->nr_hvms].gone_ns = c->gone ? now : 0;
		acc->nr_hvms++;
	}
	qsort(acc->hvms, acc->nr_hvms, sizeof(*acc->hvms), hvm_cmp);
	return 0;
}

void gmt_holders_vms_expire(struct gmt_stat_snapshot *acc, __u64 now, __u64 expire_ns)
{
	int i, n = 0;

	for (i = 0; i < acc->nr_hvms; i++)
		if (!acc->hvms[i].gone_ns || now - acc->hvms[i].gone_ns < expire_ns)
			acc->hvms[n++] = acc->hvms[i];
	acc->nr_hvms = n;
}
