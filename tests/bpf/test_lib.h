/* SPDX-License-Identifier: GPL-2.0-only */
/* Inputs and outputs of tests/bpf/test_lib.bpf.c, shared with its runner. */
#ifndef GMT_TEST_LIB_H
#define GMT_TEST_LIB_H

/* t_folio: a folio laid out in BPF memory with these counters */
struct t_folio_in {
	__s32 refcount;		/* _refcount */
	__s32 mapcount;		/* folio_mapcount(): stored as _mapcount or
				 * _large_mapcount = mapcount - 1 */
	__s32 pincount;		/* _pincount (large folios) */
	__u32 order;		/* 0: small; else PG_head and _flags_1's low byte */
	__u32 lru;		/* PG_lru */
	__u32 extra;		/* references of the reader (1 at the check) */
	__u64 index;
};

struct t_folio_out {
	struct gmt_refs_verdict v;
	struct gmt_folio_snap snap;
	__u64 flags;
	__u64 index;
	__s32 refcount, mapcount, pincount;
	__u32 order, bits;
	__u32 check_fails;
};

/* t_decode */
struct t_decode_in {
	__u32 cmd;
	__s32 fd_kind;
	__u64 w[4];
	__u64 hist_value;
	__u32 err;
	__u32 pad;
};

struct t_decode_out {
	__u32 gen;
	__s32 want_fd_kind;
	__u32 error_offset_at;
	__u32 hist_slot;
	__u32 err_class;
	__u32 pad;
	struct gmt_convert c;
};

/* t_xarray: a crafted page cache (see test_lib.bpf.c for its shape) */
#define T_XA_LOADS	12
#define T_XA_SEEN	16

struct t_xa_in {
	__u64 load_index[T_XA_LOADS];
	__u64 first, last;	/* walk range */
	__u32 bad_shift;	/* give the second leaf node an impossible shift */
	__u32 lone_head;	/* the tree is a single entry at index 0 */
	__u32 max_steps;
	__u32 pad;
};

struct t_xa_out {
	__s32 load_which[T_XA_LOADS];	/* folio number found, -1 none */
	__u64 seen_index[T_XA_SEEN];
	__s32 seen_which[T_XA_SEEN];
	__u32 nseen;
	__u32 status, done, steps;
	__s32 start;			/* gmt_xa_walk_start's result */
	__u64 next;
	__u32 offset_checks;		/* gmt_xa_offset cases that held */
	__u32 pad;
};

/* t_rbtree: a crafted 7-node rb-tree, keys 10..70 (see test_lib.bpf.c) */
#define T_RB_NODES	7

struct t_rb_in {
	__u64 from;		/* walk from the first key >= from (0: all) */
	__u32 max_steps;
	__u32 pad;
};

struct t_rb_out {
	__u64 keys[T_RB_NODES + 1];	/* visited, in order */
	__u32 nseen;
	__u32 done;
};

/* t_pfn_folio: a real page's folio through the vmemmap (gmt_pfn_folio) */
struct t_pfn_in {
	__u64 base;		/* the calibrated vmemmap base */
	__u64 pfn;
	__u32 reps;		/* resolutions timed */
	__u32 pad;
};

struct t_pfn_out {
	__u32 found, gmem;	/* a folio; its mapping is a guest_memfd's */
	__u32 nr_pages, pad;
	__u64 folio, head_pfn, index, ino;
	__u64 ns;		/* for reps resolutions */
	__u64 ns_empty;		/* for reps empty bpf_loop steps, the same run */
};

#endif /* GMT_TEST_LIB_H */
