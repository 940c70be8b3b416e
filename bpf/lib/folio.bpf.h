/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one folio reader: the counters the kernel's refcount check and `refs`
 * look at, read the same way everywhere (the check's candidate, the folio read
 * after the fact, the refs walk), and split by include/gmt_refs.h's
 * gmt_refs_decompose, the function user space prints with.
 *
 * Two stages, so the refcount check's scan of a batch reads only what the
 * kernel's own test needs and the rest only for the folio that fails it.
 */
#ifndef GMT_LIB_FOLIO_BPF_H
#define GMT_LIB_FOLIO_BPF_H

#include "gmt_refs.h"
#include "core_fixes.bpf.h"

/* gmt_folio_raw.bits */
#define GMT_FOLIO_LRU		0x01	/* PG_lru */
#define GMT_FOLIO_HEAD		0x02	/* PG_head: a large folio */
#define GMT_FOLIO_NO_ORDER	0x04	/* large, but this kernel's order is unreadable */

struct gmt_folio_raw {
	__u64 flags;		/* the page flags word */
	__u64 index;
	__u64 mapping;
	__s32 refcount;		/* _refcount */
	__s32 mapcount;		/* folio_mapcount(), -1: unknown */
	__s32 pincount;		/* large: _pincount; small or unknown: -1 */
	__u32 order;
	__u32 bits;		/* GMT_FOLIO_* */
};

static __always_inline __u32 gmt_pg_bit(__u64 flags, int bit)
{
	return (flags >> (bit & 63)) & 1;
}

/* stage 1: flags, order and refcount (what the kernel's check compares) */
static __always_inline void gmt_folio_read_check(struct folio *f, struct gmt_folio_raw *r)
{
	int order;

	r->flags = gmt_folio_flags(f);
	r->refcount = BPF_CORE_READ(f, _refcount.counter);
	r->order = 0;
	r->bits = 0;
	if (gmt_pg_bit(r->flags, bpf_core_enum_value(enum pageflags, PG_lru)))
		r->bits |= GMT_FOLIO_LRU;
	if (gmt_pg_bit(r->flags, bpf_core_enum_value(enum pageflags, PG_head))) {
		r->bits |= GMT_FOLIO_HEAD;
		/* folio_order(): low byte of the first tail page's flags */
		order = gmt_folio_order(f);
		if (order < 0)
			r->bits |= GMT_FOLIO_NO_ORDER;
		else if (order <= 30)
			r->order = order;
	}
}

/* stage 2: where it sits and who maps or pins it */
static __always_inline void gmt_folio_read_rest(struct folio *f, struct gmt_folio_raw *r)
{
	__s32 mc;

	r->index = BPF_CORE_READ(f, index);
	r->mapping = (__u64)BPF_CORE_READ(f, mapping);
	r->pincount = -1;
	if (r->bits & GMT_FOLIO_HEAD) {
		r->mapcount = gmt_folio_large_mapcount(f);
		r->pincount = gmt_folio_pincount(f);
	} else {
		mc = BPF_CORE_READ(f, _mapcount.counter);
		/* a page type (never on a page-cache folio) lives in _mapcount */
		r->mapcount = mc < -16777216 ? 0 : mc + 1;
	}
}

static __always_inline void gmt_folio_read(struct folio *f, struct gmt_folio_raw *r)
{
	gmt_folio_read_check(f, r);
	gmt_folio_read_rest(f, r);
}

static __always_inline __u32 gmt_folio_nr_pages(const struct gmt_folio_raw *r)
{
	return 1U << (r->order & 31);
}

/*
 * The kernel's to-private check: folio_ref_count == nr_pages + extra, extra
 * being its own filemap_get_folios reference (1 at the check, 0 at rest).
 */
static __always_inline bool gmt_folio_check_fails(const struct gmt_folio_raw *r, __u32 extra)
{
	return (__u32)r->refcount != gmt_folio_nr_pages(r) + extra;
}

/* the decomposition, with `extra` references of the reader's taken off */
static __always_inline void gmt_folio_decompose(const struct gmt_folio_raw *r, __u32 extra,
						struct gmt_refs_verdict *v)
{
	gmt_refs_decompose(r->refcount - (__s32)extra, r->mapcount, r->pincount, r->order,
			   r->bits & GMT_FOLIO_LRU, v);
}

/*
 * The event's folio record. `expected` is nr_pages everywhere (trace, the
 * after-the-fact read, refs; docs/json-schema.md): the page cache's own
 * references. An exact snapshot (extra = 1) keeps the check's +1 in refcount,
 * which user space takes off again before it splits.
 */
static __always_inline void gmt_folio_snap_fill(const struct gmt_folio_raw *r, __u32 extra,
						struct gmt_folio_snap *s)
{
	struct gmt_refs_verdict v;

	gmt_folio_decompose(r, extra, &v);
	s->index = r->index;
	s->refcount = r->refcount;
	s->nr_pages = v.nr_pages;
	s->expected = v.expected;
	s->mapcount = r->mapcount < 0 ? 0 : r->mapcount;
	s->pincount = r->pincount >= 0 ? (__u32)r->pincount : v.pins;
	s->lru = r->bits & GMT_FOLIO_LRU ? 1 : 0;
	s->exact = extra ? 1 : 0;
	s->pad = 0;
}

#endif /* GMT_LIB_FOLIO_BPF_H */
