// SPDX-License-Identifier: GPL-2.0-only
/*
 * `gmemtrace refs`: which guest_memfd folios hold references a conversion to
 * private would refuse, read from the page cache as it is now.
 *
 * An iter/task_file program (iterators load on kernels that refuse
 * trampolines and kprobes). User space runs it in passes:
 *   pass 0  discovery: one record per guest_memfd and VM fd of the wanted
 *           processes (and the calibration memfd of gmemtrace itself);
 *   pass N  walk: for each fd in map refs_walk, walk its mapping's xarray
 *           from the saved resume index and write one record per folio
 *           (blocking ones, or all with --all), then a chunk record.
 * One invocation's output must fit the iterator's 32 KiB seq buffer, so a walk
 * stops after GMT_REFS_MAX_RECORDS records or cfg_max_steps slots and the next
 * pass resumes. An invocation whose output overflowed is run again on an
 * empty buffer: it restarts from the pass's start index, never from where the
 * discarded run got to.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_refs.h"
#include "gmt_kernel.bpf.h"
#include "gmt_folio.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile bool cfg_all = false;		/* a record for every folio */
const volatile bool cfg_filter_tgid = false;	/* only tgids in refs_tgids */
const volatile __u32 cfg_max_steps = GMT_REFS_MAX_STEPS;
const volatile __u32 cfg_max_records = GMT_REFS_MAX_RECORDS;
const volatile __u32 cfg_self_tgid = 0;		/* gmemtrace, for the calibration */
const volatile __s32 cfg_calib_fd = -1;

/* set by user space before each pass (bss is mmap'ed) */
__u32 refs_pass = 0;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} refs_tgids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct gmt_refs_walk_key);
	__type(value, struct gmt_refs_walk);
} refs_walk SEC(".maps");

/*
 * Walk state and output staging live in .bss, not on the 512-byte stack:
 * reads of one iterator fd are serialised by its seq_file mutex and user
 * space reads one at a time, so one copy is enough.
 */
struct walk_state {
	__u64 node[GMT_REFS_XA_DEPTH];	/* xa_node addresses, root first */
	__u64 base[GMT_REFS_XA_DEPTH];	/* first index covered by node[d] */
	__u32 slot[GMT_REFS_XA_DEPTH];	/* next slot to visit in node[d] */
	__u32 shift[GMT_REFS_XA_DEPTH];
	__s32 depth;			/* -1: nothing left */
	__u32 nrec;
	__u32 steps;
	__u32 status;
	__u64 mapping;
	__u64 first, last;
	__u64 next;
	__u64 scan_left;
	__u32 tgid;
	__s32 fd;
	__u64 ino;
	bool done;
	struct gmt_refs_counts c;
};

static struct walk_state refs_ws;
static struct gmt_refs_folio refs_out[GMT_REFS_MAX_RECORDS];
static struct gmt_refs_chunk refs_chunk;

/* 7.x keeps the create flags in struct gmem_inode; 6.x in inode->i_private */
struct gmem_inode___refs {
	struct inode vfs_inode;
	__u64 flags;
} __attribute__((preserve_access_index));

#define XA_INTERNAL(e)	(((e) & 3) == 2)
#define XA_IS_NODE(e)	(XA_INTERNAL(e) && (e) > 4096)	/* xa_is_node() */
#define XA_IS_VALUE(e)	((e) & 1)			/* shadow/swap entries */


static __always_inline __u64 gmem_flags(struct file *file, __u32 *bits)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	*bits |= GMT_REFS_GMEM_FLAGS_KNOWN;
	if (bpf_core_type_exists(struct gmem_inode___refs)) {
		struct gmem_inode___refs *gi;

		gi = (void *)inode - bpf_core_field_offset(struct gmem_inode___refs, vfs_inode);
		return BPF_CORE_READ(gi, flags);
	}
	return (__u64)BPF_CORE_READ(inode, i_private);
}

/* Read one folio, decide, count, stage a record. */
static __always_inline void visit_folio(__u64 entry, __u64 index)
{
	struct walk_state *w = &refs_ws;
	struct folio *f = (struct folio *)entry;
	struct gmt_refs_verdict v;
	struct gmt_refs_folio *r;
	__s32 ref, mc, pc = -1;
	__u64 flags, mapping;
	__u32 order = 0, bits = 0, n;

	mapping = (__u64)BPF_CORE_READ(f, mapping);
	if (mapping != w->mapping || BPF_CORE_READ(f, index) != index) {
		w->c.stale++;	/* freed and reused since the slot was read */
		return;
	}
	flags = gmt_folio_flags(f);
	ref = BPF_CORE_READ(f, _refcount.counter);
	mc = BPF_CORE_READ(f, _mapcount.counter);
	if (gmt_pg_bit(flags, bpf_core_enum_value(enum pageflags, PG_lru)))
		bits |= GMT_REFS_F_LRU;
	if (gmt_pg_bit(flags, bpf_core_enum_value(enum pageflags, PG_head))) {
		bits |= GMT_REFS_F_HEAD;
		/* folio_order(): low byte of the first tail page's flags */
		if (bpf_core_field_exists(f->_flags_1))
			order = BPF_CORE_READ(f, _flags_1) & 0xff;
		else
			bits |= GMT_REFS_F_NO_ORDER;
		mc = bpf_core_field_exists(f->_large_mapcount) ?
		     BPF_CORE_READ(f, _large_mapcount.counter) + 1 : -1;
		if (bpf_core_field_exists(f->_pincount))
			pc = BPF_CORE_READ(f, _pincount.counter);
	} else {
		/* a page type (never on a page-cache folio) lives in _mapcount */
		mc = mc < -16777216 ? 0 : mc + 1;
	}
	/* a second look: if it moved meanwhile, these numbers are someone else's */
	if ((__u64)BPF_CORE_READ(f, mapping) != mapping) {
		w->c.stale++;
		return;
	}
	if (order > 30)
		order = 0;
	gmt_refs_decompose(ref, mc, pc, order, bits & GMT_REFS_F_LRU, &v);
	w->c.scanned++;
	w->c.pages += v.nr_pages;
	if (v.blocking) {
		w->c.blocking++;
		bits |= GMT_REFS_F_BLOCKING;
	}
	if (v.pins) {
		w->c.pinned++;
		w->c.pins += v.pins;
	}
	if (v.other)
		w->c.other++;
	if (v.mapcount)
		w->c.mapped++;
	if (v.lru_batch)
		w->c.lru_batch++;
	if (!cfg_all && !v.blocking)
		return;
	n = w->nrec;
	if (n >= GMT_REFS_MAX_RECORDS)
		return;
	r = &refs_out[n & (GMT_REFS_MAX_RECORDS - 1)];
	r->hdr.type = GMT_REFS_REC_FOLIO;
	r->hdr.size = sizeof(*r);
	r->hdr.tgid = w->tgid;
	r->hdr.fd = w->fd;
	r->hdr.ino = w->ino;
	r->index = index;
	r->folio = entry;
	r->flags = flags;
	r->refcount = ref;
	r->mapcount = mc;
	r->pincount = pc;
	r->order = order;
	r->bits = bits;
	w->nrec = n + 1;
	w->c.emitted++;
}

static __always_inline int push_node(__u64 entry, __u64 base)
{
	struct walk_state *w = &refs_ws;
	__u64 node = entry - 2;
	__u8 shift = 0;
	__u64 slot = 0;
	int d = w->depth + 1;

	if (d < 0 || d >= GMT_REFS_XA_DEPTH ||
	    bpf_probe_read_kernel(&shift, sizeof(shift),
				  (void *)node + bpf_core_field_offset(struct xa_node, shift))) {
		w->status = d >= GMT_REFS_XA_DEPTH ? GMT_REFS_ST_BAD_TREE : GMT_REFS_ST_READ_ERR;
		return -1;
	}
	if (shift > 58 || shift % 6) {
		w->status = GMT_REFS_ST_BAD_TREE;
		return -1;
	}
	/* resume: skip the slots wholly before the first wanted index */
	if (w->first > base)
		slot = (w->first - base) >> shift;
	if (slot > 64)
		slot = 64;
	w->node[d] = node;
	w->base[d] = base;
	w->shift[d] = shift;
	w->slot[d] = slot;
	w->depth = d;
	return 0;
}

/* One xarray slot per call, depth first, in index order. */
static long walk_step(__u32 i, void *ctx)
{
	struct walk_state *w = &refs_ws;
	__u64 entry = 0, idx, span;
	__u32 slot, shift;
	int d = w->depth;

	if (d < 0) {
		w->done = true;
		return 1;
	}
	if (d >= GMT_REFS_XA_DEPTH)
		return 1;
	slot = w->slot[d];
	if (slot >= 64) {
		w->depth = d - 1;	/* the parent's slot was advanced at push time */
		return 0;
	}
	shift = w->shift[d] & 63;
	span = 1ULL << shift;
	idx = w->base[d] + ((__u64)slot << shift);
	if (idx > w->last) {
		w->done = true;		/* index order: nothing wanted further on */
		w->depth = -1;
		return 1;
	}
	w->slot[d] = slot + 1;
	w->steps++;
	if (bpf_probe_read_kernel(&entry, sizeof(entry),
				  (void *)w->node[d] +
				  bpf_core_field_offset(struct xa_node, slots) + slot * 8)) {
		w->status = GMT_REFS_ST_READ_ERR;
		return 1;
	}
	if (XA_IS_NODE(entry)) {
		if (!shift || push_node(entry, idx)) {
			if (w->status == GMT_REFS_ST_OK)
				w->status = GMT_REFS_ST_BAD_TREE;
			return 1;
		}
		return 0;
	}
	/* empty, shadow/swap values, siblings of a large folio, retry entries */
	if (entry && !XA_INTERNAL(entry) && !XA_IS_VALUE(entry) && idx + span > w->first)
		visit_folio(entry, idx);
	w->next = idx + span;
	if (w->nrec >= cfg_max_records || w->nrec >= GMT_REFS_MAX_RECORDS ||
	    w->c.scanned >= w->scan_left)
		return 1;
	return 0;
}

static __always_inline void walk_file(struct seq_file *seq, struct file *file, __u32 tgid,
				      __s32 fd, struct gmt_refs_walk *v)
{
	struct walk_state *w = &refs_ws;
	__u64 head;
	__u32 n;

	__builtin_memset(w, 0, sizeof(*w));
	w->depth = -1;
	w->tgid = tgid;
	w->fd = fd;
	w->ino = v->ino;
	w->mapping = (__u64)BPF_CORE_READ(file, f_mapping);
	w->first = v->start;
	w->last = v->last;
	w->next = v->start;
	w->scan_left = v->scan_left;

	head = (__u64)BPF_CORE_READ(file, f_mapping, i_pages.xa_head);
	if (v->start > v->last || !w->scan_left) {
		w->done = true;
	} else if (XA_IS_NODE(head)) {
		if (!push_node(head, 0))
			bpf_loop(cfg_max_steps, walk_step, NULL, 0);
	} else {
		/* no node: at most one entry, at index 0 */
		if (head && !XA_INTERNAL(head) && !XA_IS_VALUE(head) && v->start == 0)
			visit_folio(head, 0);
		w->done = true;
	}
	if (w->status != GMT_REFS_ST_OK)
		w->done = true;
	/* budget spent exactly at the end of the tree: nothing left either */
	if (!w->done && w->depth < 0)
		w->done = true;

	n = w->nrec;
	if (n > GMT_REFS_MAX_RECORDS)
		n = GMT_REFS_MAX_RECORDS;
	if (n)
		bpf_seq_write(seq, refs_out, n * sizeof(refs_out[0]));

	refs_chunk.hdr.type = GMT_REFS_REC_CHUNK;
	refs_chunk.hdr.size = sizeof(refs_chunk);
	refs_chunk.hdr.tgid = tgid;
	refs_chunk.hdr.fd = fd;
	refs_chunk.hdr.ino = v->ino;
	refs_chunk.start = v->start;
	refs_chunk.next = w->done ? v->last + 1 : w->next;
	refs_chunk.c = w->c;
	refs_chunk.done = w->done;
	refs_chunk.status = w->status;
	refs_chunk.steps = w->steps;
	bpf_seq_write(seq, &refs_chunk, sizeof(refs_chunk));

	v->next = refs_chunk.next;
	v->scanned = w->c.scanned;
	v->done = w->done;
}

static __always_inline void emit_calib(struct seq_file *seq, struct file *file, __u32 tgid,
				       __s32 fd)
{
	struct gmt_refs_calib r = {};
	__u64 head = (__u64)BPF_CORE_READ(file, f_mapping, i_pages.xa_head);
	void *slots = (void *)(head - 2) + bpf_core_field_offset(struct xa_node, slots);

	if (!XA_IS_NODE(head))
		return;
	bpf_probe_read_kernel(&r.folio, sizeof(r.folio), slots);
	r.hdr.type = GMT_REFS_REC_CALIB;
	r.hdr.size = sizeof(r);
	r.hdr.tgid = tgid;
	r.hdr.fd = fd;
	r.hdr.ino = gmt_file_ino(file);
	r.page_size = bpf_core_type_size(struct page);
	bpf_seq_write(seq, &r, sizeof(r));
}

static __always_inline void discover(struct seq_file *seq, struct task_struct *task,
				     struct file *file, __u32 tgid, __s32 fd)
{
	if (tgid == cfg_self_tgid) {
		if (fd == cfg_calib_fd)
			emit_calib(seq, file, tgid, fd);
		return;
	}
	if (gmt_file_is_gmem(file)) {
		struct gmt_refs_gmem r = {};

		r.hdr.type = GMT_REFS_REC_GMEM;
		r.hdr.size = sizeof(r);
		r.hdr.tgid = tgid;
		r.hdr.fd = fd;
		r.hdr.ino = gmt_file_ino(file);
		r.size = BPF_CORE_READ(file, f_inode, i_size);
		r.flags = gmem_flags(file, &r.bits);
		r.nrpages = BPF_CORE_READ(file, f_mapping, nrpages);
		r.kvm = gmt_gmem_kvm(file);
		bpf_core_read(r.comm, sizeof(r.comm), &task->comm);
		bpf_seq_write(seq, &r, sizeof(r));
	} else if (gmt_file_is_vm(file)) {
		struct gmt_refs_vm r = {};

		r.hdr.type = GMT_REFS_REC_VM;
		r.hdr.size = sizeof(r);
		r.hdr.tgid = tgid;
		r.hdr.fd = fd;
		r.hdr.ino = gmt_file_ino(file);
		r.kvm = (__u64)BPF_CORE_READ(file, private_data);
		bpf_seq_write(seq, &r, sizeof(r));
	}
}

SEC("iter/task_file")
int gmt_refs_iter(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct gmt_refs_walk_key key;
	struct gmt_refs_walk *v;
	__u32 tgid;

	if (!task || !file)
		return 0;	/* the end-of-iteration call */
	tgid = task->tgid;
	if (cfg_filter_tgid && tgid != cfg_self_tgid && !bpf_map_lookup_elem(&refs_tgids, &tgid))
		return 0;
	if (refs_pass == 0) {
		discover(seq, task, file, tgid, ctx->fd);
		return 0;
	}
	key.tgid = tgid;
	key.fd = ctx->fd;
	v = bpf_map_lookup_elem(&refs_walk, &key);
	if (!v || v->done)
		return 0;
	if (v->pass != refs_pass) {
		/* first run in this pass; a re-run after an overflow keeps start */
		v->start = v->next;
		v->scan_left = v->scan_left > v->scanned ? v->scan_left - v->scanned : 0;
		v->scanned = 0;
		v->pass = refs_pass;
	}
	if (!gmt_file_is_gmem(file) || gmt_file_ino(file) != v->ino) {
		refs_chunk.hdr.type = GMT_REFS_REC_CHUNK;
		refs_chunk.hdr.size = sizeof(refs_chunk);
		refs_chunk.hdr.tgid = tgid;
		refs_chunk.hdr.fd = ctx->fd;
		refs_chunk.hdr.ino = v->ino;
		__builtin_memset(&refs_chunk.c, 0, sizeof(refs_chunk.c));
		refs_chunk.start = v->start;
		refs_chunk.next = v->start;
		refs_chunk.done = 1;
		refs_chunk.status = GMT_REFS_ST_GONE;
		refs_chunk.steps = 0;
		bpf_seq_write(seq, &refs_chunk, sizeof(refs_chunk));
		v->done = 1;
		return 0;
	}
	walk_file(seq, file, tgid, ctx->fd, v);
	return 0;
}
