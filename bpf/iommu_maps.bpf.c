// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOMMU mappings of guest_memfd folios (trace --holders, feature
 * iommu_maps): the iommu:map tracepoint gives (iova, paddr, size) whoever
 * maps (VFIO type1, iommufd, a driver's DMA API call), so a device mapping
 * is named even where no syscall bpf/holders.bpf.c follows made it.
 *
 * paddr -> struct page: vmemmap base + pfn * sizeof(struct page). The base
 * (randomized with KASLR) is calibrated in user space (src/core/vmemmap.c)
 * and set here before load; 0: not calibrated, every map returns at once.
 * A range is walked folio by folio (compound head, its order) in bounded
 * bpf_loops: a first walk only looks for a guest_memfd folio (its mapping's
 * AS_INACCESSIBLE), so an unrelated map costs no stack; from the first one
 * on, the stacks are taken (bpf_get_stackid needs the program's own
 * context, not a callback's) and the rest is walked again, contiguous
 * guest_memfd pieces merged into one iommu_map holder. Pages left unwalked
 * are counted (GMT_CNT_IOMMU_UNWALKED).
 *
 * iommu:unmap(iova, size, unmapped_size) names no domain: holders are keyed
 * by IOVA alone, so a second domain mapping an IOVA already held is not
 * tracked (counted, GMT_CNT_IOMMU_IOVA_TAKEN), and an unmap in any domain
 * ends the holders over its IOVAs (docs/refs.md).
 *
 * Linked with uapi.bpf.c and holders.bpf.c (ring buffer, filters, the
 * holder map and its stack map). A hot path where the IOMMU translates a
 * driver's streaming DMA (a NIC maps and unmaps per packet): a map of memory
 * that is not guest_memfd's costs the walk's first step; an unmap stops at
 * one global read while no iommu_map holder is alive, and otherwise at the
 * granule index below unless the holders' granules are among its own.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_state.bpf.h"
#include "lib/pfn_folio.bpf.h"
#include "holder_emit.bpf.h"
#include "holder_stacks.bpf.h"

#define IOMMU_PAGE_SHIFT	12	/* x86-64, the only architecture built */
#define IOMMU_WALK_MAX		4096	/* folios (or pages without one) per walk */

/* struct page of pfn 0, set by the loader (0: not calibrated) */
const volatile __u64 cfg_vmemmap_base = 0;

/* shared with holders.bpf.c */
extern struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GMT_HOLD_MAX);
	__type(key, struct gmt_holder_key);
	__type(value, struct gmt_hval);
} gmt_holders SEC(".maps");

/* iommu_map holders alive: an unmap with none stops here */
__u64 gmt_iommu_live = 0;

/*
 * The granule index: how many iommu_map holders touch each 1 GiB of IOVA
 * space. An unmap whose granules hold none ends nothing: it stops after at
 * most IOMMU_GRANULES_MAX lookups instead of walking every holder (the
 * holder map is a hash of GMT_HOLD_MAX entries, walked bucket by bucket).
 * 1 GiB: a VM's device IOVAs are its guest physical addresses, while a
 * host driver's DMA IOVAs are allocated down from 4 GiB (or from the top of
 * its DMA mask), so they rarely share a granule with guest RAM. Counts grow
 * before a holder is inserted and shrink after it is deleted, so an unmap
 * never misses a holder; entries stay at 0 rather than being deleted under
 * a concurrent increment. A holder over more granules than the limit is
 * counted in gmt_iommu_wide, and a granule that found no room sets
 * gmt_iommu_unindexed for good: while either is set, every unmap walks.
 */
#define IOMMU_GRANULE_SHIFT	30
#define IOMMU_GRANULES_MAX	16
#define IOMMU_GRANULE_ENTRIES	4096

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, IOMMU_GRANULE_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);	/* empty unless --holders sees a holder */
	__type(key, __u64);
	__type(value, __u64);
} gmt_iommu_granules SEC(".maps");

__u64 gmt_iommu_wide = 0;
__u32 gmt_iommu_unindexed = 0;

/* [*first, *last] granules of [iova, iova + len); false if over the limit */
static __always_inline bool iommu_granules(__u64 iova, __u64 len, __u64 *first, __u64 *last)
{
	if (!len || iova + len - 1 < iova)
		return false;
	*first = iova >> IOMMU_GRANULE_SHIFT;
	*last = (iova + len - 1) >> IOMMU_GRANULE_SHIFT;
	return *last - *first < IOMMU_GRANULES_MAX;
}

/* a holder of [iova, iova + len) enters (d = 1) or leaves (d = -1) the index */
static void iommu_index(__u64 iova, __u64 len, __s64 d)
{
	__u64 g, last, zero = 0, *n;
	int i;

	if (!iommu_granules(iova, len, &g, &last)) {
		__sync_fetch_and_add(&gmt_iommu_wide, d);
		return;
	}
	for (i = 0; i < IOMMU_GRANULES_MAX && g <= last; i++, g++) {
		n = bpf_map_lookup_elem(&gmt_iommu_granules, &g);
		if (!n && d > 0) {
			bpf_map_update_elem(&gmt_iommu_granules, &g, &zero, BPF_NOEXIST);
			n = bpf_map_lookup_elem(&gmt_iommu_granules, &g);
		}
		if (n)
			__sync_fetch_and_add(n, d);
		else if (d > 0)
			gmt_iommu_unindexed = 1;
	}
}

/* may an unmap of [lo, hi) touch a holder? */
static __always_inline bool iommu_granules_held(__u64 lo, __u64 hi)
{
	__u64 g, last, *n;
	int i;

	if (gmt_iommu_wide || gmt_iommu_unindexed || !iommu_granules(lo, hi - lo, &g, &last))
		return true;
	for (i = 0; i < IOMMU_GRANULES_MAX && g <= last; i++, g++) {
		n = bpf_map_lookup_elem(&gmt_iommu_granules, &g);
		if (n && *n)
			return true;
	}
	return false;
}

/* guest_memfd pages mapped contiguously (one holder) */
struct iommu_piece {
	struct folio *folio;		/* the first one's */
	struct address_space *m;
	__u64 off;			/* guest_memfd byte offset of its first page */
	__u64 pfn, iova, pages;
};

struct iommu_walk {
	__u64 iova, pfn, end_pfn;	/* [pfn, end_pfn) left to walk; iova of pfn */
	__u64 now;
	__s32 kstack_id, stack_id;
	bool find_only;			/* stop at the first guest_memfd folio */
	struct iommu_piece cur;		/* pages 0: none open */
};

/* the VM's owner is followed, or the mapping task is (a driver's kernel
 * thread is no traced process: the VM's owner names the mapping then) */
static __always_inline bool iommu_wanted(__s32 vm_pid)
{
	__u32 pid = vm_pid;

	if (!gmt_filtered_out())
		return true;
	return cfg_filter_pid && vm_pid > 0 && bpf_map_lookup_elem(&gmt_pids, &pid);
}

/*
 * The walk's open piece becomes a holder, keyed by its IOVA alone (the unmap
 * names no domain). A global function, verified once on its own: inlined
 * into the walk's callback, its branches made the verifier's jump history
 * too long ("The sequence of 8193 jumps is too complex", 6.18).
 */
__noinline int gmt_iommu_hold(struct iommu_walk *w)
{
	struct gmt_holder_key k = { .ring_fd = -1, .index = GMT_HOLD_IOMMU_MAP };
	const struct iommu_piece *p;
	struct address_space *m;
	struct gmt_hval v = {};

	if (!w)
		return 0;
	p = &w->cur;
	m = p->m;	/* not inside a CO-RE read: a local type */
	k.iova = p->iova;

	gmt_vm_identity(gmt_gmem_mapping_kvm(m), &v.vm_id, &v.vm_pid, &v.vm_fd);
	if (!iommu_wanted(v.vm_pid))
		return 0;
	v.h.kind = GMT_HOLD_IOMMU_MAP;
	v.h.ring_fd = -1;
	v.h.stack_id = w->stack_id;
	v.h.kstack_id = w->kstack_id;
	v.h.gmem_ino = BPF_CORE_READ(m, host, i_ino);
	v.h.gmem_offset = p->off;
	v.h.len = p->pages << IOMMU_PAGE_SHIFT;
	v.h.start_ns = w->now;
	v.h.folio = (__u64)p->folio;
	v.h.iova = p->iova;
	v.h.paddr = p->pfn << IOMMU_PAGE_SHIFT;
	v.h.id = __sync_fetch_and_add(&gmt_holder_next_id, 1);
	iommu_index(k.iova, v.h.len, 1);	/* first: a racing unmap must look */
	if (bpf_map_update_elem(&gmt_holders, &k, &v, BPF_NOEXIST)) {
		iommu_index(k.iova, v.h.len, -1);
		gmt_count(bpf_map_lookup_elem(&gmt_holders, &k) ? GMT_CNT_IOMMU_IOVA_TAKEN :
				  GMT_CNT_HOLD_FULL);
		return 0;
	}
	__sync_fetch_and_add(&gmt_iommu_live, 1);
	gmt_hold_emit(&v, GMT_EV_HOLDER_START, GMT_HOLD_END_NONE, w->now);
	return 0;
}

/*
 * One folio (or one page without a readable struct page) per step; 1: the
 * walk stops. Global as gmt_iommu_hold, for the same reason: the callback
 * that calls it stays a few instructions the verifier iterates cheaply.
 */
__noinline int gmt_iommu_step(struct iommu_walk *w)
{
	struct address_space *m;
	__u64 head_pfn, pages, off;
	struct folio *folio;
	__u32 nr;

	if (!w || w->pfn >= w->end_pfn)
		return 1;
	pages = 1;
	if (gmt_pfn_folio(cfg_vmemmap_base, w->pfn, &folio, &head_pfn, &nr)) {
		if (head_pfn + nr > w->pfn)
			pages = head_pfn + nr - w->pfn;
		if (pages > w->end_pfn - w->pfn)
			pages = w->end_pfn - w->pfn;
		m = gmt_folio_gmem_mapping(folio);
		if (m) {
			if (w->find_only)
				return 1;	/* the caller takes the stacks, then walks on */
			off = (BPF_CORE_READ(folio, index) + (w->pfn - head_pfn)) << IOMMU_PAGE_SHIFT;
			if (w->cur.pages && w->cur.m == m &&
			    w->cur.off + (w->cur.pages << IOMMU_PAGE_SHIFT) == off) {
				w->cur.pages += pages;
			} else {
				if (w->cur.pages)
					gmt_iommu_hold(w);
				w->cur.folio = folio;
				w->cur.m = m;
				w->cur.off = off;
				w->cur.pfn = w->pfn;
				w->cur.iova = w->iova;
				w->cur.pages = pages;
			}
		}
	}
	w->pfn += pages;
	w->iova += pages << IOMMU_PAGE_SHIFT;
	return 0;
}

static long iommu_walk_cb(__u32 i, struct iommu_walk *w)
{
	return gmt_iommu_step(w) ? 1 : 0;
}

SEC("tp_btf/map")
int BPF_PROG(gmt_iommu_map, unsigned long iova, phys_addr_t paddr, size_t size)
{
	struct iommu_walk w = {};

	if (!cfg_vmemmap_base || !size)
		return 0;	/* not calibrated: the loader said why */
	w.iova = iova & ~((1ULL << IOMMU_PAGE_SHIFT) - 1);
	w.pfn = paddr >> IOMMU_PAGE_SHIFT;
	w.end_pfn = (paddr + size + (1ULL << IOMMU_PAGE_SHIFT) - 1) >> IOMMU_PAGE_SHIFT;
	w.find_only = true;
	bpf_loop(IOMMU_WALK_MAX, iommu_walk_cb, &w, 0);
	if (w.pfn < w.end_pfn) {
		/* at a guest_memfd folio (or out of steps: then counted below) */
		w.now = bpf_ktime_get_ns();
		gmt_hold_kstacks(ctx, &w.kstack_id, &w.stack_id);
		w.find_only = false;
		bpf_loop(IOMMU_WALK_MAX, iommu_walk_cb, &w, 0);
		if (w.cur.pages)
			gmt_iommu_hold(&w);
	}
	if (w.pfn < w.end_pfn)
		gmt_count_add(GMT_CNT_IOMMU_UNWALKED, w.end_pfn - w.pfn);
	return 0;
}

struct unmap_ctx {
	__u64 lo, hi, now;
};

static long iommu_end_cb(struct bpf_map *map, struct gmt_holder_key *k, struct gmt_hval *v,
			 struct unmap_ctx *c)
{
	__u64 iova = k->iova, len = v->h.len;	/* read before the delete frees them */

	/* any overlap ends it: a part unmapped is a mapping gone (early, never late) */
	if (k->index != GMT_HOLD_IOMMU_MAP || k->ring_fd != -1 || k->tgid ||
	    iova >= c->hi || iova + len <= c->lo)
		return 0;
	gmt_hold_emit(v, GMT_EV_HOLDER_END, GMT_HOLD_END_UNMAP, c->now);
	if (!bpf_map_delete_elem(map, k)) {
		__sync_fetch_and_sub(&gmt_iommu_live, 1);
		iommu_index(iova, len, -1);	/* after: never before the holder goes */
	}
	return 0;
}

/* the holders whose IOVAs the unmap touches end, whichever domain they were in */
SEC("tp_btf/unmap")
int BPF_PROG(gmt_iommu_unmap, unsigned long iova, size_t size, size_t unmapped_size)
{
	struct unmap_ctx c;

	if (!gmt_iommu_live || !unmapped_size)
		return 0;
	c.lo = iova;
	c.hi = iova + unmapped_size < iova ? ~0ULL : iova + unmapped_size;
	if (!iommu_granules_held(c.lo, c.hi))
		return 0;
	c.now = bpf_ktime_get_ns();
	bpf_for_each_map_elem(&gmt_holders, iommu_end_cb, &c, 0);
	return 0;
}
