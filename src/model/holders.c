// SPDX-License-Identifier: GPL-2.0-only
/* The live holders, sorted by guest_memfd range (holders.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "holders.h"

struct gmt_held_stack *gmt_held_stack_get(struct gmt_held_stack *s)
{
	if (s)
		s->refs++;
	return s;
}

void gmt_held_stack_put(struct gmt_held_stack *s)
{
	if (s && !--s->refs)
		free(s);
}

static int pos_cmp(__u64 ino_a, __u64 off_a, __u64 id_a, const struct gmt_live_holder *b)
{
	if (ino_a != b->gmem_ino)
		return ino_a < b->gmem_ino ? -1 : 1;
	if (off_a != b->gmem_offset)
		return off_a < b->gmem_offset ? -1 : 1;
	return id_a < b->id ? -1 : id_a > b->id;
}

/* the first holder at or after (ino, off, id) */
static int lower_bound(const struct gmt_holders *t, __u64 ino, __u64 off, __u64 id)
{
	int lo = 0, hi = t->nr;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (pos_cmp(ino, off, id, &t->h[mid]) > 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int gmt_holders_add(struct gmt_holders *t, const struct gmt_live_holder *h)
{
	int at;

	if (gmt_grow(&t->h, &t->cap, t->nr, sizeof(*t->h), 64))
		return -ENOMEM;
	at = lower_bound(t, h->gmem_ino, h->gmem_offset, h->id);
	memmove(&t->h[at + 1], &t->h[at], (t->nr - at) * sizeof(*t->h));
	t->h[at] = *h;
	t->nr++;
	if (h->len > t->max_len)
		t->max_len = h->len;
	return 0;
}

int gmt_holders_start(struct gmt_holders *t, const struct gmt_event *e,
		      struct gmt_held_stack *stack)
{
	const struct gmt_holder *r = &e->holder;
	struct gmt_live_holder h = {
		.id = r->id, .kind = r->kind, .pid = e->hdr.pid, .fd = r->ring_fd,
		.index = r->index, .iova = r->iova, .paddr = r->paddr, .gmem_ino = r->gmem_ino, .gmem_offset = r->gmem_offset,
		.len = r->len, .uaddr = r->uaddr, .start_ns = r->start_ns,
		.vm_id = e->hdr.vm_key, .vm_pid = e->hdr.vm_pid, .vm_fd = e->hdr.vm_fd,
	};
	int err;

	memcpy(h.comm, e->hdr.comm, sizeof(h.comm));
	h.stack = gmt_held_stack_get(stack);
	err = gmt_holders_add(t, &h);
	if (err)
		gmt_held_stack_put(stack);
	return err;
}

bool gmt_holders_remove(struct gmt_holders *t, __u64 id)
{
	int i;

	/* ends are rare (unregister, close, exit): a scan, not an index by id */
	for (i = 0; i < t->nr; i++) {
		if (t->h[i].id != id)
			continue;
		gmt_held_stack_put(t->h[i].stack);
		memmove(&t->h[i], &t->h[i + 1], (t->nr - i - 1) * sizeof(*t->h));
		t->nr--;
		return true;
	}
	return false;
}

void gmt_holders_end(struct gmt_holders *t, const struct gmt_event *e)
{
	/* not found: its start record was lost (counted as a lost record) */
	gmt_holders_remove(t, e->holder.id);
}

int gmt_holders_find(const struct gmt_holders *t, __u64 ino, __u64 off, __u64 len,
		     const struct gmt_live_holder **out, int max)
{
	/* a holder starting up to max_len below can still reach off */
	__u64 from = off > t->max_len ? off - t->max_len : 0;
	int i, n = 0;

	for (i = lower_bound(t, ino, from, 0); i < t->nr; i++) {
		const struct gmt_live_holder *h = &t->h[i];

		if (h->gmem_ino != ino || h->gmem_offset >= off + len)
			break;
		if (h->gmem_offset + h->len <= off)
			continue;
		if (n < max)
			out[n] = h;
		n++;
	}
	return n;
}

/* the pages of d at the IOVAs h maps them at */
static bool same_mapping(const struct gmt_live_holder *h, const struct gmt_live_holder *d)
{
	return (d->kind == GMT_HOLD_VFIO_DMA || d->kind == GMT_HOLD_IOMMUFD) &&
	       d->gmem_ino == h->gmem_ino && d->gmem_offset <= h->gmem_offset &&
	       h->gmem_offset + h->len <= d->gmem_offset + d->len &&
	       d->iova + (h->gmem_offset - d->gmem_offset) == h->iova;
}

const struct gmt_live_holder *gmt_holders_dma_of(const struct gmt_holders *t,
						 const struct gmt_live_holder *h)
{
	const struct gmt_live_holder *over[64];
	int i, n;

	if (h->kind != GMT_HOLD_IOMMU_MAP)
		return NULL;
	n = gmt_holders_find(t, h->gmem_ino, h->gmem_offset, h->len, over, 64);
	for (i = 0; i < n && i < 64; i++)
		if (same_mapping(h, over[i]))
			return over[i];
	return NULL;
}

void gmt_holders_clear(struct gmt_holders *t)
{
	int i;

	for (i = 0; i < t->nr; i++)
		gmt_held_stack_put(t->h[i].stack);
	t->nr = 0;
	t->max_len = 0;
}

void gmt_holders_free(struct gmt_holders *t)
{
	gmt_holders_clear(t);
	free(t->h);
	t->h = NULL;
	t->cap = 0;
}
