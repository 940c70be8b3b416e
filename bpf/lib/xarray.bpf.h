/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one xarray reader (a page cache's i_pages), read-only and lockless as
 * the kernel's RCU readers are, through bpf_probe_read_kernel: a point lookup
 * (gmt_xa_load: the folio at an index, after the fact) and an in-order walk
 * that resumes (gmt_xa_walk_*: `refs`). Both use the entry tests and index
 * arithmetic below (include/linux/xarray.h: xa_is_node(), xa_is_value(),
 * xa_is_internal(); XA_CHUNK_SHIFT 6).
 */
#ifndef GMT_LIB_XARRAY_BPF_H
#define GMT_LIB_XARRAY_BPF_H

#include "gmt_refs.h"
#include "counters.bpf.h"

#define GMT_XA_CHUNK_SHIFT	6
#define GMT_XA_CHUNK_SIZE	64
#define GMT_XA_MAX_SHIFT	58	/* 64-bit indices: 10 levels at most */

static __always_inline bool gmt_xa_is_internal(__u64 e)
{
	return (e & 3) == 2;
}

/* xa_is_node(): an internal entry above 4096 (lower ones are siblings/retry) */
static __always_inline bool gmt_xa_is_node(__u64 e)
{
	return gmt_xa_is_internal(e) && e > 4096;
}

/* a pointer entry: not empty, not a value (shadow/swap), not internal */
static __always_inline bool gmt_xa_is_folio(__u64 e)
{
	return e && !(e & 3);
}

static __always_inline __u64 gmt_xa_to_node(__u64 e)
{
	return e - 2;
}

/* slot of `index` in a node of this shift */
static __always_inline __u32 gmt_xa_offset(__u64 index, __u32 shift)
{
	return (index >> (shift & 63)) & (GMT_XA_CHUNK_SIZE - 1);
}

/* a node's shift, 0 on success; a malformed one is refused */
static __always_inline int gmt_xa_node_shift(__u64 node, __u32 *shift)
{
	__u8 s = 0;

	if (GMT_CHK(GMT_SITE_XA_NODE,
		    bpf_probe_read_kernel(&s, sizeof(s),
					  (void *)node + bpf_core_field_offset(struct xa_node, shift))))
		return -1;
	if (s > GMT_XA_MAX_SHIFT || s % GMT_XA_CHUNK_SHIFT)
		return -2;
	*shift = s;
	return 0;
}

static __always_inline int gmt_xa_node_slot(__u64 node, __u32 slot, __u64 *entry)
{
	*entry = 0;
	return GMT_CHK(GMT_SITE_XA_SLOT,
		       bpf_probe_read_kernel(entry, sizeof(*entry),
					     (void *)node + bpf_core_field_offset(struct xa_node, slots) +
					     (slot & (GMT_XA_CHUNK_SIZE - 1)) * 8));
}

#define GMT_XA_LOAD_LEVELS	6	/* 2^36 pages: any guest_memfd */

/*
 * xa_load(): the folio at `index` under `head` (xa_head), 0 if none (empty,
 * a value, a sibling of a large folio's head slot, or an unreadable tree).
 */
static __always_inline __u64 gmt_xa_load(__u64 head, __u64 index)
{
	__u64 entry = head, node;
	__u32 shift = 0;
	int level;

	if (!gmt_xa_is_node(entry))
		return index == 0 && gmt_xa_is_folio(entry) ? entry : 0;
	for (level = 0; level < GMT_XA_LOAD_LEVELS; level++) {
		node = gmt_xa_to_node(entry);
		if (gmt_xa_node_shift(node, &shift))
			return 0;
		/* the root covers indices below 64 << shift only */
		if (level == 0 && shift + GMT_XA_CHUNK_SHIFT < 64 &&
		    (index >> (shift + GMT_XA_CHUNK_SHIFT)))
			return 0;
		if (gmt_xa_node_slot(node, gmt_xa_offset(index, shift), &entry))
			return 0;
		if (!gmt_xa_is_node(entry))
			return gmt_xa_is_folio(entry) ? entry : 0;
		if (!shift)
			return 0;	/* a node below a leaf node: malformed */
	}
	return 0;
}

/*
 * In-order walk over [first, last], one slot per step, depth first, with an
 * explicit stack (no recursion in BPF): GMT_REFS_XA_DEPTH levels of 64
 * slots. Status codes are gmt_refs.h's GMT_REFS_ST_*.
 */
struct gmt_xa_walk {
	__u64 node[GMT_REFS_XA_DEPTH];	/* xa_node addresses, root first */
	__u64 base[GMT_REFS_XA_DEPTH];	/* first index covered by node[d] */
	__u32 slot[GMT_REFS_XA_DEPTH];	/* next slot to visit in node[d] */
	__u32 shift[GMT_REFS_XA_DEPTH];
	__s32 depth;			/* -1: nothing left */
	__u32 steps;			/* slots visited */
	__u32 status;
	__u32 done;			/* the range was walked to its end */
	__u64 first, last;
	__u64 next;			/* first index not covered yet */
};

static __always_inline void gmt_xa_walk_init(struct gmt_xa_walk *w, __u64 first, __u64 last)
{
	__builtin_memset(w, 0, sizeof(*w));
	w->depth = -1;
	w->first = first;
	w->last = last;
	w->next = first;
}

static __always_inline int gmt_xa_walk_push(struct gmt_xa_walk *w, __u64 entry, __u64 base)
{
	__u64 node = gmt_xa_to_node(entry), slot = 0;
	int d = w->depth + 1, err;
	__u32 shift = 0;

	if (d < 0 || d >= GMT_REFS_XA_DEPTH) {
		w->status = GMT_REFS_ST_BAD_TREE;
		return -1;
	}
	err = gmt_xa_node_shift(node, &shift);
	if (err) {
		w->status = err == -1 ? GMT_REFS_ST_READ_ERR : GMT_REFS_ST_BAD_TREE;
		return -1;
	}
	/* resume: skip the slots wholly before the first wanted index */
	if (w->first > base)
		slot = (w->first - base) >> (shift & 63);
	if (slot > GMT_XA_CHUNK_SIZE)
		slot = GMT_XA_CHUNK_SIZE;
	w->node[d] = node;
	w->base[d] = base;
	w->shift[d] = shift;
	w->slot[d] = slot;
	w->depth = d;
	return 0;
}

/*
 * Start at the tree's head: 1 when the head is a lone entry (index 0 only,
 * returned in *entry), 0 when a node was pushed, -1 on a bad tree.
 */
static __always_inline int gmt_xa_walk_start(struct gmt_xa_walk *w, __u64 head, __u64 *entry)
{
	*entry = 0;
	if (w->first > w->last) {
		w->done = 1;
		return 1;
	}
	if (gmt_xa_is_node(head))
		return gmt_xa_walk_push(w, head, 0);
	if (gmt_xa_is_folio(head) && w->first == 0)
		*entry = head;
	w->done = 1;
	return 1;
}

/* gmt_xa_walk_step() results */
#define GMT_XA_STOP	-1	/* done or failed (w->done, w->status) */
#define GMT_XA_MOVED	0	/* went down or up a level */
#define GMT_XA_SLOT	1	/* consumed a slot: *entry covers [*index, w->next) */

static __always_inline int gmt_xa_walk_step(struct gmt_xa_walk *w, __u64 *entry, __u64 *index)
{
	__u32 slot, shift;
	__u64 idx, span;
	int d = w->depth;

	*entry = 0;
	if (d < 0) {
		w->done = 1;
		return GMT_XA_STOP;
	}
	if (d >= GMT_REFS_XA_DEPTH)
		return GMT_XA_STOP;
	slot = w->slot[d];
	if (slot >= GMT_XA_CHUNK_SIZE) {
		w->depth = d - 1;	/* the parent's slot was advanced at push time */
		return GMT_XA_MOVED;
	}
	shift = w->shift[d] & 63;
	span = 1ULL << shift;
	idx = w->base[d] + ((__u64)slot << shift);
	if (idx > w->last) {
		w->done = 1;		/* index order: nothing wanted further on */
		w->depth = -1;
		return GMT_XA_STOP;
	}
	w->slot[d] = slot + 1;
	w->steps++;
	if (gmt_xa_node_slot(w->node[d], slot, entry)) {
		w->status = GMT_REFS_ST_READ_ERR;
		return GMT_XA_STOP;
	}
	if (gmt_xa_is_node(*entry)) {
		if (!shift || gmt_xa_walk_push(w, *entry, idx)) {
			if (w->status == GMT_REFS_ST_OK)
				w->status = GMT_REFS_ST_BAD_TREE;
			return GMT_XA_STOP;
		}
		*entry = 0;
		return GMT_XA_MOVED;
	}
	/* empty, values, siblings of a large folio, retry entries: not folios */
	if (!gmt_xa_is_folio(*entry) || idx + span <= w->first)
		*entry = 0;
	*index = idx;
	w->next = idx + span;
	return GMT_XA_SLOT;
}

#endif /* GMT_LIB_XARRAY_BPF_H */
