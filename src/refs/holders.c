// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace refs --holders: which holders explain a blocking folio's extra
 * references. The holders are the io_uring fixed buffers the ring walk
 * found (rings.c: one record per bvec in a guest_memfd folio); each pins its folio
 * once, so it explains GMT_REFS_PIN_BIAS references on an order-0 folio and
 * one on a large one (_pincount). What no holder explains is said, never
 * dropped: attributed + unattributed is always the excess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "internal.h"


static int ubuf_cmp(const void *a, const void *b)
{
	const struct gmt_refs_ubuf *x = a, *y = b;

	return x->folio < y->folio ? -1 : x->folio > y->folio;
}

void refs_holders_record(struct refs_ctx *c, const struct gmt_refs_ubuf *r)
{
	if (gmt_grow(&c->ubufs, &c->cap_ubufs, c->nr_ubufs, sizeof(*c->ubufs), 256)) {
		c->ubufs_lost++;	/* its pins stay unattributed, said so */
		return;
	}
	c->ubufs[c->nr_ubufs++] = *r;
}

void refs_holders_done(struct refs_ctx *c)
{
	if (c->nr_ubufs)
		qsort(c->ubufs, c->nr_ubufs, sizeof(*c->ubufs), ubuf_cmp);
}

/* first ubuf whose folio >= addr */
static int ubuf_lower(const struct refs_ctx *c, __u64 addr)
{
	int lo = 0, hi = c->nr_ubufs;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (c->ubufs[mid].folio < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void add_attr(struct gmt_refs_attr_view *a, int *nr, const struct gmt_refs_ubuf *u,
		     __u64 per_pin)
{
	int i;

	for (i = 0; i < *nr; i++) {
		if (a[i].pid == u->hdr.tgid && a[i].fd == u->hdr.fd &&
		    a[i].buf_index == u->buf_index) {
			a[i].pages++;
			a[i].refs += per_pin;
			return;
		}
	}
	if (*nr == GMT_REFS_MAX_ATTR)
		return;	/* counted as unattributed: said, not hidden */
	a[*nr] = (struct gmt_refs_attr_view){
		.kind = "io_uring_buffer",
		.pid = u->hdr.tgid,
		.comm = u->comm,
		.fd = u->hdr.fd,
		.buf_index = u->buf_index,
		.pages = 1,
		.refs = per_pin,
	};
	(*nr)++;
}

struct dma_attr {
	struct gmt_refs_attr_view *a;
	int *nr;
	__u64 per_pin;
	unsigned int page_shift;
};

/* bytes [off, off + bytes) already counted by an earlier holder with the
 * same pins: IOAS areas over one iopt_pages (a copy) pin each page once */
static __u32 shared_pages(const struct dma_attr *x, const struct gmt_refs_dma *d, __u64 off,
			  __u64 bytes)
{
	__u64 page = (__u64)1 << x->page_shift, p;
	__u32 n = 0;
	int i;

	if (!d->pages)
		return 0;
	for (p = off; p < off + bytes; p += page)
		for (i = 0; i < *x->nr; i++)
			if (x->a[i].shared == d->pages && p >= x->a[i].off_lo &&
			    p < x->a[i].off_hi) {
				n++;
				break;
			}
	return n;
}

static void add_dma_attr(void *arg, const struct gmt_refs_dma *d, __u64 iova, __u64 off,
			 __u64 bytes)
{
	struct dma_attr *x = arg;
	bool ioas = d->kind == GMT_REFS_DMA_IOMMUFD;
	__u32 pages = (__u32)(bytes >> x->page_shift), fresh;
	int i;

	if (ioas && !d->pinned)
		return;	/* an IOAS area no device or access uses pins nothing */
	fresh = pages - shared_pages(x, d, off, bytes);
	for (i = 0; i < *x->nr; i++) {
		struct gmt_refs_attr_view *a = &x->a[i];

		if (a->has_iova && a->pid == d->hdr.tgid && a->fd == d->hdr.fd &&
		    a->map_iova == d->iova && a->has_ioas == ioas && a->ioas_id == d->ioas_id) {
			a->pages += pages;
			a->refs += fresh * x->per_pin;
			a->off_lo = off < a->off_lo ? off : a->off_lo;
			a->off_hi = off + bytes > a->off_hi ? off + bytes : a->off_hi;
			return;
		}
	}
	if (*x->nr == GMT_REFS_MAX_ATTR || !pages)
		return;	/* counted as unattributed: said, not hidden */
	x->a[(*x->nr)++] = (struct gmt_refs_attr_view){
		.kind = ioas ? "iommufd" : "vfio_dma",
		.pid = d->hdr.tgid,
		.comm = d->comm,
		.fd = d->hdr.fd,
		.has_iova = true,
		.iova = iova,
		.map_iova = d->iova,
		.map_size = d->size,
		.has_ioas = ioas,
		.ioas_id = d->ioas_id,
		.shared = d->pages,
		.off_lo = off,
		.off_hi = off + bytes,
		.pages = pages,
		.refs = fresh * x->per_pin,
	};
}

/* pins no walk explains: what was not walkable, first what failed to load */
static const char *why_unattributed(const struct refs_ctx *c, __u64 left_pins, __u32 other)
{
	static char off[sizeof(c->rings_off) + sizeof(c->dma_off) + 80];

	if (left_pins && (c->rings_off[0] || c->dma_off[0])) {
		snprintf(off, sizeof(off), "%s%s%s%s%s",
			 c->rings_off[0] ? "io_uring walk not available: " : "", c->rings_off,
			 c->rings_off[0] && c->dma_off[0] ? "; " : "",
			 c->dma_off[0] ? "VFIO/iommufd DMA walk not available: " : "", c->dma_off);
		return off;
	}
	if (left_pins && c->dma_no_btf)
		return "this kernel has no BTF for vfio_iommu_type1's structures (a module "
		       "without BTF?): VFIO DMA mappings not read";
	if (left_pins && c->ioas_no_btf)
		return "this kernel has no BTF for iommufd's structures (a module without "
		       "BTF?): IOAS areas not read";
	if (left_pins && (c->dma_truncated || c->dma_lost))
		return "a VFIO container's or IOAS's DMA mappings could not all be read";
	if (left_pins && c->dma_raced)
		return "a VFIO container's or IOAS's DMA mappings changed while they were read";
	if (left_pins && c->rings_unknown)
		return "this kernel's io_uring buffer table layout is unknown: not read";
	if (left_pins && (c->rings_truncated || c->ubufs_lost))
		return "an io_uring ring's buffers could not all be read";
	if (left_pins && c->rings_gone)
		return "an io_uring ring was closed while it was read";
	if (left_pins && c->o->nr_pids)
		return "pinned by no io_uring buffer, VFIO DMA mapping or iommufd IOAS area of "
		       "the -p processes; other processes, drivers and GUP are not walked";
	if (left_pins)
		return "pinned by no io_uring buffer, VFIO DMA mapping or iommufd IOAS area; "
		       "drivers and GUP are not walked";
	if (other)
		return "non-pin references (GET, I/O in flight, KVM) have no walkable holder";
	return NULL;
}

/* Fill v's holders for folio r; attr has room for GMT_REFS_MAX_ATTR. */
void refs_holders_attribute(const struct refs_ctx *c, const struct gmt_refs_folio *r,
			    const struct gmt_refs_verdict *d, struct gmt_refs_folio_view *v,
			    struct gmt_refs_attr_view *attr)
{
	__u64 per_pin = r->order ? 1 : GMT_REFS_PIN_BIAS;
	__u64 pins_refs = (__u64)d->pins * per_pin, got = 0;
	int i, nr = 0;
	struct dma_attr x = { attr, &nr, per_pin, c->page_shift };

	v->holders = true;
	v->excess_refs = pins_refs + d->other;
	v->attr = attr;
	for (i = ubuf_lower(c, r->folio); i < c->nr_ubufs && c->ubufs[i].folio == r->folio; i++)
		add_attr(attr, &nr, &c->ubufs[i], per_pin);
	if (c->nr_dmas)
		refs_dma_over(c, c->cur->rec.hdr.ino, r->index << c->page_shift,
			      (__u64)1 << (r->order + c->page_shift), add_dma_attr, &x);
	/* a buffer released after the table was read explains no more than the pins */
	for (i = 0; i < nr; i++) {
		if (attr[i].refs > pins_refs - got)
			attr[i].refs = pins_refs - got;
		got += attr[i].refs;
	}
	v->nr_attr = nr;
	v->unattributed = v->excess_refs - got;
	v->unattributed_why = v->unattributed ?
		why_unattributed(c, (pins_refs - got) / per_pin, d->other) : NULL;
}
