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
 * --holders adds gmt_refs_dma (VFIO type1 containers' DMA mappings and
 * iommufd IOASes' areas, read in the discovery pass: lib/vfio_dma.bpf.h,
 * lib/iommufd_ioas.bpf.h), loaded apart likewise, and
 * a second program, gmt_refs_rings, with the same passes over
 * io_uring rings (lib/uring.bpf.h). It is loaded apart from gmt_refs_iter so
 * that a kernel whose verifier refuses the ring walk still gets plain refs
 * (user space then says why and reports those pins unattributed).
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
#include "lib/kvm_files.bpf.h"
#include "lib/folio.bpf.h"
#include "lib/xarray.bpf.h"

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

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct gmt_refs_walk_key);
	__type(value, struct gmt_refs_ring_walk);
} refs_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct gmt_refs_walk_key);
	__type(value, struct gmt_refs_dma_walk);
} refs_dmas SEC(".maps");

#include "lib/uring.bpf.h"	/* after refs_pass, which its walk passes read */
#include "lib/vfio_dma.bpf.h"
#include "lib/iommufd_ioas.bpf.h"

/*
 * Walk state and output staging live in .bss, not on the 512-byte stack:
 * reads of one iterator fd are serialised by its seq_file mutex and user
 * space reads one at a time, so one copy is enough.
 */
struct walk_state {
	struct gmt_xa_walk xa;
	__u32 nrec;
	__u32 tgid;
	__u64 mapping;
	__u64 scan_left;
	__s32 fd;
	__u32 pad;
	__u64 ino;
	struct gmt_refs_counts c;
};

static struct walk_state refs_ws;
static struct gmt_refs_folio refs_out[GMT_REFS_MAX_RECORDS];
static struct gmt_refs_chunk refs_chunk;

/* Read one folio, decide, count, stage a record. */
static __always_inline void visit_folio(__u64 entry, __u64 index)
{
	struct walk_state *w = &refs_ws;
	struct folio *f = (struct folio *)entry;
	struct gmt_refs_verdict v;
	struct gmt_refs_folio *r;
	struct gmt_folio_raw raw;
	__u32 bits = 0, n;

	gmt_folio_read(f, &raw);
	if (raw.mapping != w->mapping || raw.index != index) {
		w->c.stale++;	/* freed and reused since the slot was read */
		return;
	}
	/* a second look: if it moved meanwhile, these numbers are someone else's */
	if ((__u64)BPF_CORE_READ(f, mapping) != w->mapping) {
		w->c.stale++;
		return;
	}
	if (raw.bits & GMT_FOLIO_LRU)
		bits |= GMT_REFS_F_LRU;
	if (raw.bits & GMT_FOLIO_HEAD)
		bits |= GMT_REFS_F_HEAD;
	if (raw.bits & GMT_FOLIO_NO_ORDER)
		bits |= GMT_REFS_F_NO_ORDER;
	gmt_folio_decompose(&raw, 0, &v);
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
	r->flags = raw.flags;
	r->refcount = raw.refcount;
	r->mapcount = raw.mapcount;
	r->pincount = raw.pincount;
	r->order = raw.order;
	r->bits = bits;
	w->nrec = n + 1;
	w->c.emitted++;
}

/* One xarray slot per call, in index order (bpf_loop callback). */
static long walk_step(__u32 i, void *ctx)
{
	struct walk_state *w = &refs_ws;
	__u64 entry, idx = 0;
	int r;

	r = gmt_xa_walk_step(&w->xa, &entry, &idx);
	if (r == GMT_XA_STOP)
		return 1;
	if (r == GMT_XA_MOVED)
		return 0;
	if (entry)
		visit_folio(entry, idx);
	if (w->nrec >= cfg_max_records || w->nrec >= GMT_REFS_MAX_RECORDS ||
	    w->c.scanned >= w->scan_left)
		return 1;
	return 0;
}

static __always_inline void walk_file(struct seq_file *seq, struct file *file, __u32 tgid,
				      __s32 fd, struct gmt_refs_walk *v)
{
	struct walk_state *w = &refs_ws;
	__u64 head, entry;
	__u32 n;

	__builtin_memset(w, 0, sizeof(*w));
	gmt_xa_walk_init(&w->xa, v->start, v->last);
	w->tgid = tgid;
	w->fd = fd;
	w->ino = v->ino;
	w->mapping = (__u64)BPF_CORE_READ(file, f_mapping);
	w->scan_left = v->scan_left;

	head = (__u64)BPF_CORE_READ(file, f_mapping, i_pages.xa_head);
	if (!w->scan_left) {
		w->xa.done = 1;
	} else if (gmt_xa_walk_start(&w->xa, head, &entry) == 0) {
		bpf_loop(cfg_max_steps, walk_step, NULL, 0);
	} else if (entry) {
		visit_folio(entry, 0);	/* no node: at most one entry, at index 0 */
	}
	if (w->xa.status != GMT_REFS_ST_OK)
		w->xa.done = 1;
	/* budget spent exactly at the end of the tree: nothing left either */
	if (!w->xa.done && w->xa.depth < 0)
		w->xa.done = 1;

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
	refs_chunk.next = w->xa.done ? v->last + 1 : w->xa.next;
	refs_chunk.c = w->c;
	refs_chunk.done = w->xa.done;
	refs_chunk.status = w->xa.status;
	refs_chunk.steps = w->xa.steps;
	bpf_seq_write(seq, &refs_chunk, sizeof(refs_chunk));

	v->next = refs_chunk.next;
	v->scanned = w->c.scanned;
	v->done = w->xa.done;
}

static __always_inline void emit_calib(struct seq_file *seq, struct file *file, __u32 tgid,
				       __s32 fd)
{
	struct gmt_refs_calib r = {};
	__u64 head = (__u64)BPF_CORE_READ(file, f_mapping, i_pages.xa_head);

	if (!gmt_xa_is_node(head))
		return;
	/* slots 0 and 1 of the root: the folios at index 0 and 1 */
	gmt_xa_node_slot(gmt_xa_to_node(head), 0, &r.folio[0]);
	gmt_xa_node_slot(gmt_xa_to_node(head), 1, &r.folio[1]);
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
		r.flags = gmt_gmem_inode_flags(file);
		r.bits |= GMT_REFS_GMEM_FLAGS_KNOWN;
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

/* -p: only the wanted processes' fds are looked at */
static __always_inline bool refs_tgid_wanted(__u32 tgid)
{
	return !cfg_filter_tgid || bpf_map_lookup_elem(&refs_tgids, &tgid);
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
	if (tgid != cfg_self_tgid && !refs_tgid_wanted(tgid))
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

/* an fd the --holders walks look at: of a wanted process, not gmemtrace's own;
 * its (tgid, fd) into key, the key of their per-pass maps */
static __always_inline bool refs_holder_fd(struct task_struct *task, struct file *file,
					   __s32 fd, struct gmt_refs_walk_key *key)
{
	if (!task || !file)
		return false;
	key->tgid = task->tgid;
	key->fd = fd;
	return key->tgid != cfg_self_tgid && refs_tgid_wanted(key->tgid);
}

/* refs --holders: io_uring rings, announced in pass 0, walked when queued */
SEC("iter/task_file")
int gmt_refs_rings(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct gmt_refs_walk_key key;
	struct gmt_refs_ring_walk *r;
	__u32 tgid;

	if (!refs_holder_fd(task, file, ctx->fd, &key))
		return 0;
	tgid = key.tgid;
	if (refs_pass == 0) {
		if (gmt_file_is_uring(file))
			gmt_uring_announce(seq, task, file, tgid, ctx->fd);
		return 0;
	}
	r = bpf_map_lookup_elem(&refs_rings, &key);
	if (r && !r->done)
		gmt_uring_walk(seq, task, file, tgid, ctx->fd, r);
	return 0;
}

/* refs --holders: VFIO type1 containers' DMA mappings and iommufds' IOAS
 * areas, read in pass 0 and from where they stopped in the passes that
 * queue them in refs_dmas */
SEC("iter/task_file")
int gmt_refs_dma(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct gmt_refs_walk_key key;
	struct gmt_refs_dma_walk *v = NULL;
	bool vfio;

	if (!refs_holder_fd(task, file, ctx->fd, &key))
		return 0;
	vfio = gmt_file_is_vfio_container(file);
	if (!vfio && !gmt_file_is_iommufd(file))
		return 0;
	if (refs_pass) {
		v = bpf_map_lookup_elem(&refs_dmas, &key);
		/* a re-run after an overflow reads the same: user space moves from */
		if (!v || v->container != (__u64)BPF_CORE_READ(file, private_data))
			return 0;
	}
	if (vfio)
		gmt_vfio_dma_walk(seq, task, file, key.tgid, ctx->fd, v ? v->from_iova : 0);
	else
		gmt_ioas_walk(seq, task, file, key.tgid, ctx->fd, v ? v->from_ioas : 0,
			      v ? v->from_iova : 0);
	return 0;
}
