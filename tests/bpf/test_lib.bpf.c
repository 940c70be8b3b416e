// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf/lib functions on crafted input, run with BPF_PROG_TEST_RUN
 * (tests/bpf/test_bpf_lib.c). SEC("syscall") programs load on any kernel with
 * BPF (no attach); inputs and outputs are globals the runner reaches through
 * the skeleton. The kernel structures the functions read (a folio, xarray
 * nodes) are built in this object's own .bss: real kernel memory, so the
 * same bpf_probe_read_kernel/CO-RE paths run as on a live page cache.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_refs.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"
#include "lib/counters.bpf.h"
#include "lib/hist.bpf.h"
#include "lib/folio.bpf.h"
#include "lib/xarray.bpf.h"
#include "lib/rbtree.bpf.h"
#include "lib/kvm_files.bpf.h"
#include "lib/pfn_folio.bpf.h"
#include "test_lib.h"

char LICENSE[] SEC("license") = "GPL";

struct t_folio_in folio_in = {};
struct t_folio_out folio_out = {};
struct t_decode_in decode_in = {};
struct t_decode_out decode_out = {};
struct t_xa_in xa_in = {};
struct t_xa_out xa_out = {};
struct t_rb_in rb_in = {};
struct t_rb_out rb_out = {};
struct t_pfn_in pfn_in = {};
struct t_pfn_out pfn_out = {};

/* a folio and its tail pages (_flags_1, _pincount... live in struct folio) */
static struct folio tfolio;

SEC("syscall")
int t_folio(void *ctx)
{
	struct t_folio_in *in = &folio_in;
	__u32 lru = bpf_core_enum_value(enum pageflags, PG_lru);
	__u32 head = bpf_core_enum_value(enum pageflags, PG_head);
	struct gmt_folio_raw raw;
	__u64 flags = 0;
	__u32 off;

	__builtin_memset(&tfolio, 0, sizeof(tfolio));
	if (in->lru)
		flags |= 1ULL << (lru & 63);
	if (in->order)
		flags |= 1ULL << (head & 63);
	off = gmt_folio_flags_offset();
	if (off > sizeof(tfolio) - 8)
		return 1;
	*(__u64 *)((void *)&tfolio + off) = flags;
	tfolio._refcount.counter = in->refcount;
	tfolio.index = in->index;
	if (in->order) {
		tfolio._flags_1 = in->order & 0xff;
		tfolio._large_mapcount.counter = in->mapcount - 1;
		tfolio._pincount.counter = in->pincount;
		tfolio._mapcount.counter = 12345;	/* per-page: must not be read */
	} else {
		tfolio._mapcount.counter = in->mapcount - 1;
	}

	gmt_folio_read(&tfolio, &raw);
	gmt_folio_decompose(&raw, in->extra, &folio_out.v);
	gmt_folio_snap_fill(&raw, in->extra, &folio_out.snap);
	folio_out.check_fails = gmt_folio_check_fails(&raw, in->extra);
	folio_out.flags = raw.flags;
	folio_out.index = raw.index;
	folio_out.refcount = raw.refcount;
	folio_out.mapcount = raw.mapcount;
	folio_out.pincount = raw.pincount;
	folio_out.order = raw.order;
	folio_out.bits = raw.bits;
	return 0;
}

SEC("syscall")
int t_decode(void *ctx)
{
	struct t_decode_in *in = &decode_in;
	struct t_decode_out *out = &decode_out;
	__u64 w[GMT_CONVERT_ARG_WORDS];
	int i;

	for (i = 0; i < GMT_CONVERT_ARG_WORDS; i++)
		w[i] = in->w[i];
	out->gen = gmt_convert_gen(in->cmd, in->fd_kind);
	out->want_fd_kind = gmt_convert_fd_kind(in->cmd);
	__builtin_memset(&out->c, 0, sizeof(out->c));
	gmt_decode_convert(in->cmd, out->gen, w, &out->c);
	out->error_offset_at = gmt_error_offset_at(out->gen);
	out->hist_slot = gmt_hist_slot(in->hist_value);
	out->err_class = gmt_err_class(in->err);
	return 0;
}

/*
 * The crafted page cache: a root node (shift 6, indices 0..4095) with
 *   slot 0 -> leaf node 0 (shift 0): folio 0 at index 0, folio 1 at 5,
 *             a value (shadow) entry at 6, a sibling entry at 7;
 *   slot 1 -> a value entry;
 *   slot 2 -> leaf node 1 (shift 0): folio 2 at 2 * 64 + 63 = 191;
 *   slot 3 -> folio 3, a 64-page folio at 192..255 (a root-level entry).
 */
#define T_NFOLIOS 4
static struct xa_node tnode[3];
static __u64 tleaf[T_NFOLIOS];	/* stand-ins: only their addresses matter */
static struct gmt_xa_walk twalk;

/*
 * An address as a plain number: the verifier forbids bit tests on pointers,
 * and the functions under test get numbers from bpf_probe_read_kernel too.
 */
static __always_inline __u64 scalar(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

static __always_inline __u64 leaf(int k)
{
	return scalar(&tleaf[k & (T_NFOLIOS - 1)]);
}

static __always_inline __u64 node_entry(int k)
{
	return scalar(&tnode[k % 3]) + 2;	/* xa_mk_node() */
}

static __always_inline int which(__u64 e)
{
	int k;

	for (k = 0; k < T_NFOLIOS; k++)
		if (e == leaf(k))
			return k;
	return e ? -2 : -1;
}

static long walk_cb(__u32 i, void *ctx)
{
	struct t_xa_out *out = &xa_out;
	__u64 entry, idx = 0;
	__u32 n;
	int r;

	r = gmt_xa_walk_step(&twalk, &entry, &idx);
	if (r == GMT_XA_STOP)
		return 1;
	if (r == GMT_XA_SLOT && entry) {
		n = out->nseen;
		if (n >= T_XA_SEEN)
			return 1;
		out->seen_index[n] = idx;
		out->seen_which[n] = which(entry);
		out->nseen = n + 1;
	}
	return 0;
}

SEC("syscall")
int t_xarray(void *ctx)
{
	struct t_xa_in *in = &xa_in;
	struct t_xa_out *out = &xa_out;
	__u64 head, entry = 0;
	int i;

	for (i = 0; i < 64; i++) {
		tnode[0].slots[i] = NULL;
		tnode[1].slots[i] = NULL;
		tnode[2].slots[i] = NULL;
	}
	out->nseen = 0;
	tnode[0].shift = 6;
	tnode[0].slots[0] = (void *)node_entry(1);
	tnode[0].slots[1] = (void *)0x13;		/* xa_mk_value(9) */
	tnode[0].slots[2] = (void *)node_entry(2);
	tnode[0].slots[3] = (void *)leaf(3);
	tnode[1].shift = 0;
	tnode[1].slots[0] = (void *)leaf(0);
	tnode[1].slots[5] = (void *)leaf(1);
	tnode[1].slots[6] = (void *)0x21;		/* xa_mk_value(16) */
	tnode[1].slots[7] = (void *)((5 << 2) | 2);	/* xa_mk_sibling(5) */
	tnode[2].shift = in->bad_shift ? 5 : 0;
	tnode[2].slots[63] = (void *)leaf(2);
	head = in->lone_head ? leaf(0) : node_entry(0);

	for (i = 0; i < T_XA_LOADS; i++)
		out->load_which[i] = which(gmt_xa_load(head, in->load_index[i]));

	gmt_xa_walk_init(&twalk, in->first, in->last);
	out->start = gmt_xa_walk_start(&twalk, head, &entry);
	if (out->start == 0) {
		bpf_loop(in->max_steps, walk_cb, NULL, 0);
	} else if (entry) {
		out->seen_index[0] = 0;
		out->seen_which[0] = which(entry);
		out->nseen = 1;
	}
	out->status = twalk.status;
	out->done = twalk.done;
	out->steps = twalk.steps;
	out->next = twalk.next;

	/* index arithmetic: slot of an index at each level */
	out->offset_checks = (gmt_xa_offset(191, 0) == 63) + (gmt_xa_offset(191, 6) == 2) +
			     (gmt_xa_offset(1ULL << 36, 36) == 1) +
			     (gmt_xa_offset(~0ULL, 60) == 15);
	return 0;
}

/*
 * A balanced rb-tree of 7 nodes keyed 10..70, linked as the kernel links
 * them (parent in __rb_parent_color's upper bits, colour in bit 0):
 *              40
 *        20          60
 *     10    30    50    70
 */
struct t_rb_node {
	__u64 pad;		/* the key after the node, as in vfio_dma */
	struct rb_node rb;
	__u64 key;
};

static struct t_rb_node trb[T_RB_NODES];
static struct gmt_rb_walk trbw;

static __always_inline struct rb_node *trb_node(int k)
{
	return k < 0 ? NULL : (struct rb_node *)scalar(&trb[k % T_RB_NODES].rb);
}

static __always_inline void trb_link(int k, int parent, int left, int right)
{
	trb[k].key = (k + 1) * 10;
	trb[k].rb.__rb_parent_color = (unsigned long)trb_node(parent) | (k & 1);
	trb[k].rb.rb_left = trb_node(left);
	trb[k].rb.rb_right = trb_node(right);
}

static long rb_cb(__u32 i, void *ctx)
{
	struct t_rb_out *out = &rb_out;
	__u32 n;
	int r = gmt_rb_walk_step(&trbw);

	if (r == GMT_RB_END)
		return 1;
	if (r == GMT_RB_NODE) {
		n = out->nseen;
		if (n > T_RB_NODES)
			return 1;
		out->keys[n] = gmt_rb_key(&trbw, trbw.node);
		out->nseen = n + 1;
		gmt_rb_walk_next(&trbw);
	}
	return 0;
}

SEC("syscall")
int t_rbtree(void *ctx)
{
	trb_link(3, -1, 1, 5);
	trb_link(1, 3, 0, 2);
	trb_link(5, 3, 4, 6);
	trb_link(0, 1, -1, -1);
	trb_link(2, 1, -1, -1);
	trb_link(4, 5, -1, -1);
	trb_link(6, 5, -1, -1);
	rb_out.nseen = 0;
	gmt_rb_walk_init(&trbw, trb_node(3), rb_in.from,
			 offsetof(struct t_rb_node, key) - offsetof(struct t_rb_node, rb));
	bpf_loop(rb_in.max_steps, rb_cb, NULL, 0);
	rb_out.done = trbw.done;
	return 0;
}

/* a helper failure is counted at its site; a success is not */
SEC("syscall")
int t_site(void *ctx)
{
	__u64 e;

	gmt_xa_node_slot(node_entry(0) - 2, 0, &e);	/* readable */
	gmt_xa_node_slot(8, 0, &e);			/* NULL page: fails */
	return 0;
}

/* the iommu:map walk's step: pfn -> folio -> guest_memfd mapping */
static long pfn_rep(__u32 i, void *ctx)
{
	struct folio *f;
	__u64 head;
	__u32 nr;

	gmt_pfn_folio(pfn_in.base, pfn_in.pfn, &f, &head, &nr);
	gmt_mapping_is_gmem(BPF_CORE_READ(f, mapping));
	return 0;
}

static long empty_rep(__u32 i, void *ctx)
{
	return 0;
}

SEC("syscall")
int t_pfn_folio(void *ctx)
{
	struct t_pfn_out *o = &pfn_out;
	struct address_space *m;
	struct folio *f = NULL;
	__u64 t0;

	o->found = gmt_pfn_folio(pfn_in.base, pfn_in.pfn, &f, &o->head_pfn, &o->nr_pages);
	if (!o->found)
		return 0;
	m = BPF_CORE_READ(f, mapping);
	o->folio = (__u64)f;
	o->gmem = gmt_mapping_is_gmem(m);
	o->index = BPF_CORE_READ(f, index);
	o->ino = BPF_CORE_READ(m, host, i_ino);
	t0 = bpf_ktime_get_ns();
	bpf_loop(pfn_in.reps, pfn_rep, NULL, 0);
	o->ns = bpf_ktime_get_ns() - t0;
	t0 = bpf_ktime_get_ns();
	bpf_loop(pfn_in.reps, empty_rep, NULL, 0);
	o->ns_empty = bpf_ktime_get_ns() - t0;
	return 0;
}
