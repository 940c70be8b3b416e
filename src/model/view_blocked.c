// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who holds a blocked conversion's folio: the live holders (holders.h) over
 * it, and how many of its extra references they explain. Each holder pins
 * every page it covers once (io_uring, VFIO type1 and iommufd all pin with
 * FOLL_PIN), so it explains GMT_REFS_PIN_BIAS references per page of an
 * order-0 folio and one (_pincount) per page of a large one, never more than
 * the folio's pins. An iommu_map holder (the iommu:map tracepoint) is the
 * device mapping of a pin, not a reference: alone (a driver's mapping, or a
 * DMA holder taken before tracing) it stands for the one pin per page type1
 * and iommufd take; over the same pages at the same IOVAs as a vfio_dma or
 * iommufd holder it is that holder's device mapping, shown on its entry
 * (device_mapping, paddr) and counted neither as a holder nor for
 * references. What they do not explain is said, never dropped:
 * attributed + unattributed = the excess.
 */
#include <string.h>

#include "gmt_refs.h"
#include "holders.h"
#include "model.h"
#include "names.h"
#include "view.h"

#define PAGE_SZ		4096ULL
/* holders counted towards the attribution; more are "not attributed" */
#define ATTR_MAX	256

static void view_blocker(struct gmt_blocker_view *b, const struct gmt_live_holder *h,
			 const struct gmt_event *e, __u64 real_off)
{
	b->kind = gmt_holder_kind_name(h->kind);
	b->pid = h->pid;
	b->comm = h->comm;
	b->fd = h->fd;
	b->holder_kind = h->kind;
	b->index = h->index;
	b->iova = h->iova;
	b->paddr = h->paddr;
	b->id = h->id;
	b->gmem_ino = h->gmem_ino;
	b->gmem_offset = h->gmem_offset;
	b->size = h->len;
	b->uaddr = h->uaddr;
	b->since_real_ns = h->start_ns + real_off;
	b->held_ns = e->hdr.ts_ns > h->start_ns ? e->hdr.ts_ns - h->start_ns : 0;
	b->nr_frames = h->stack ? gmt_view_stack(b->frames, b->frame_ips, &h->stack->st) : 0;
}

/* iommu_map holder `map` is DMA holder `dma`'s device mapping: one pin,
 * counted once, shown on dma's entry (when listed), not as a holder */
static void fold_mapping(struct gmt_blockers_view *v, const struct gmt_live_holder *dma,
			 const struct gmt_live_holder *map)
{
	int j;

	v->nr_holders--;
	for (j = 0; j < v->nr; j++) {
		if (v->h[j].id == dma->id) {
			v->h[j].device_mapping = map->id;
			v->h[j].paddr = map->paddr;
			return;
		}
	}
}

/* pages of [off, off + len) that h covers */
static __u64 pages_covered(const struct gmt_live_holder *h, __u64 off, __u64 len)
{
	__u64 lo = h->gmem_offset > off ? h->gmem_offset : off;
	__u64 hi = h->gmem_offset + h->len < off + len ? h->gmem_offset + h->len : off + len;

	return hi > lo ? (hi - lo + PAGE_SZ - 1) / PAGE_SZ : 0;
}

static const char *why_unattributed(__u64 left_pin_refs, __u32 other, bool counted_all)
{
	if (left_pin_refs && !counted_all)
		return "more holders over the folio than are counted";
#define UNTRACED_PINS "pins no traced holder explains: taken before tracing started, by a " \
		      "process outside the filters, or by a kernel-side pinner (VFIO, iommufd, " \
		      "vhost, RDMA, drivers) that --holders does not follow"
	if (left_pin_refs && other)
		return UNTRACED_PINS "; and non-pin references (GET, I/O in flight, KVM's "
		       "transient ones), which have no traced holder";
	if (left_pin_refs)
		return UNTRACED_PINS;
	if (other)
		return "non-pin references (GET, I/O in flight, KVM's transient ones) have no "
		       "traced holder";
	return NULL;
}

void gmt_view_blockers(struct gmt_blockers_view *v, const struct gmt_model *m,
		       const struct gmt_event *e, const struct gmt_convert_view *c, __u64 real_off)
{
	const struct gmt_live_holder *found[ATTR_MAX];
	__u64 off, len, per_pin = GMT_REFS_PIN_BIAS, pin_refs = 0, got = 0;
	int i, n;

	memset(v, 0, sizeof(*v));
	v->traced = m->holders_on;
	v->records_lost = m->records_lost;
	if (!v->traced || !c->has_gmem)
		return;
	if (c->has_folio) {
		off = c->folio.offset;
		len = (__u64)(c->folio.nr_pages ? c->folio.nr_pages : 1) * PAGE_SZ;
		if (c->folio.nr_pages > 1)
			per_pin = 1;
		pin_refs = (__u64)c->folio.pins * per_pin;
		v->has_refs = true;
		v->excess = pin_refs + c->folio.other;
	} else if (c->has_error_offset) {
		off = c->error_offset & ~(PAGE_SZ - 1);	/* the folio was not read */
		len = PAGE_SZ;
	} else {
		return;
	}
	n = gmt_holders_find(&m->holders, c->gmem_ino, off, len, found, ATTR_MAX);
	v->nr_holders = n;
	for (i = 0; i < n && i < ATTR_MAX; i++) {
		__u64 refs = pages_covered(found[i], off, len) * per_pin;

		if (gmt_holders_dma_of(&m->holders, found[i]))
			continue;	/* a device mapping: below */
		/* a holder gone after the check explains no more than the pins */
		if (refs > pin_refs - got)
			refs = pin_refs - got;
		got += refs;
		if (v->nr < GMT_VIEW_BLOCKERS_MAX) {
			view_blocker(&v->h[v->nr], found[i], e, real_off);
			v->h[v->nr].refs = refs;
			v->nr++;
		}
	}
	for (i = 0; i < n && i < ATTR_MAX; i++) {
		const struct gmt_live_holder *dma = gmt_holders_dma_of(&m->holders, found[i]);

		if (dma)
			fold_mapping(v, dma, found[i]);
	}
	if (!v->has_refs)
		return;
	v->attributed = got;
	v->unattributed = v->excess - got;
	v->unattributed_why = v->unattributed ?
		why_unattributed(pin_refs - got, c->folio.other, n <= ATTR_MAX) : NULL;
}
