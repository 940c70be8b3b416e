/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest_memfd pages an io_uring ring's registered buffers pin, read from
 * the ring's buffer table (refs --holders: holders that existed before
 * gmemtrace ran). One bvec per bpf_loop step, over every buffer; bvecs of
 * other memory are counted, not emitted. Like the page-cache walk, one
 * invocation stops after GMT_REFS_MAX_RECORDS records or
 * GMT_REFS_RING_MAX_STEPS steps (its output must fit the seq buffer) and the
 * next pass resumes at (buffer, bvec). The table is read without the ring's
 * lock: a buffer unregistered meanwhile may still show, and user space never
 * lets holders explain more than the folio's pins.
 */
#ifndef GMT_LIB_URING_BPF_H
#define GMT_LIB_URING_BPF_H

#include "core_fixes.bpf.h"
#include "kvm_files.bpf.h"
#include "refs_rec.bpf.h"

struct uring_walk {
	void *table;
	__u32 nr_bufs, buf, nr_bvecs, bvec;
	__u64 bvecs;	/* address of the current buffer's bvec[0] */
	struct gmt_refs_ubuf rec;	/* template: hdr, comm */
	struct gmt_refs_ring ring;
	__u32 nrec;
};

static struct uring_walk refs_uw;
static struct gmt_refs_ubuf refs_ubuf_out[GMT_REFS_MAX_RECORDS];

static __always_inline void uring_load_buf(struct uring_walk *w)
{
	struct io_mapped_ubuf *imu = gmt_uring_buf(w->table, w->buf);

	w->nr_bvecs = imu ? BPF_CORE_READ(imu, nr_bvecs) : 0;
	w->bvecs = (__u64)imu + bpf_core_field_offset(struct io_mapped_ubuf, bvec);
}

static long uring_step(__u32 i, void *ctx)
{
	struct uring_walk *w = &refs_uw;
	struct gmt_refs_ubuf *r;
	struct bio_vec *bv;
	__u64 page, folio;

	if (w->buf >= w->nr_bufs || w->nrec >= GMT_REFS_MAX_RECORDS)
		return 1;	/* the end, or full: resume here */
	if (w->bvec >= w->nr_bvecs) {
		w->bvec = 0;
		if (++w->buf < w->nr_bufs)
			uring_load_buf(w);
		return 0;
	}
	/* computed outside BPF_CORE_READ: only kernel types get relocated */
	bv = (void *)(w->bvecs + (__u64)w->bvec * bpf_core_type_size(struct bio_vec));
	page = (__u64)BPF_CORE_READ(bv, bv_page);
	w->bvec++;
	w->ring.bvecs++;
	folio = page ? gmt_page_folio(page) : 0;
	if (!folio || !gmt_folio_gmem_mapping((struct folio *)folio))
		return 0;
	r = &refs_ubuf_out[w->nrec & (GMT_REFS_MAX_RECORDS - 1)];
	*r = w->rec;
	r->page = page;
	r->folio = folio;
	r->buf_index = w->buf;
	r->bvec = w->bvec - 1;
	w->nrec++;
	return 0;
}

static __always_inline void uring_start(struct uring_walk *w, struct task_struct *task,
					struct file *file, __u32 tgid, __s32 fd)
{
	__builtin_memset(w, 0, sizeof(*w));
	gmt_refs_rec_start(&w->rec.hdr, w->rec.comm, GMT_REFS_REC_UBUF, sizeof(w->rec), task,
			   file, tgid, fd);
	w->ring.hdr = w->rec.hdr;
	w->ring.hdr.type = GMT_REFS_REC_RING;
	w->ring.hdr.size = sizeof(w->ring);
	w->ring.ctx = (__u64)BPF_CORE_READ(file, private_data);
}

/* Discovery: announce the ring (its buffer count), read nothing yet. */
static __always_inline void gmt_uring_announce(struct seq_file *seq, struct task_struct *task,
					       struct file *file, __u32 tgid, __s32 fd)
{
	struct uring_walk *w = &refs_uw;
	int nr;

	uring_start(w, task, file, tgid, fd);
	nr = gmt_uring_nr_bufs((void *)w->ring.ctx, &w->table);
	if (nr < 0)
		w->ring.status = GMT_REFS_RING_LAYOUT;
	w->ring.nr_bufs = nr > 0 ? nr : 0;
	w->ring.done = nr <= 0;
	bpf_seq_write(seq, &w->ring, sizeof(w->ring));
}

/* A walk pass: from v's start, write UBUF records, then the RING record. */
static __always_inline void gmt_uring_walk(struct seq_file *seq, struct task_struct *task,
					   struct file *file, __u32 tgid, __s32 fd,
					   struct gmt_refs_ring_walk *v)
{
	struct uring_walk *w = &refs_uw;
	__u32 n;
	int nr;

	uring_start(w, task, file, tgid, fd);
	if (v->pass != refs_pass) {
		/* first run in this pass; a re-run after an overflow keeps start */
		v->start_buf = v->next_buf;
		v->start_bvec = v->next_bvec;
		v->pass = refs_pass;
	}
	if (!gmt_file_is_uring(file) || w->ring.ctx != v->ctx) {
		w->ring.status = GMT_REFS_RING_GONE;
		w->ring.done = v->done = 1;
		bpf_seq_write(seq, &w->ring, sizeof(w->ring));
		return;
	}
	nr = gmt_uring_nr_bufs((void *)w->ring.ctx, &w->table);
	if (nr < 0)
		w->ring.status = GMT_REFS_RING_LAYOUT;
	w->nr_bufs = nr > 0 && w->table ? nr : 0;
	w->buf = v->start_buf;
	w->bvec = v->start_bvec;
	if (w->buf < w->nr_bufs) {
		uring_load_buf(w);
		bpf_loop(GMT_REFS_RING_MAX_STEPS, uring_step, NULL, 0);
	}
	n = w->nrec;
	if (n > GMT_REFS_MAX_RECORDS)
		n = GMT_REFS_MAX_RECORDS;
	if (n)
		bpf_seq_write(seq, refs_ubuf_out, n * sizeof(refs_ubuf_out[0]));
	w->ring.nr_bufs = w->nr_bufs;
	w->ring.emitted = n;
	w->ring.next_buf = w->buf;
	w->ring.next_bvec = w->bvec;
	w->ring.done = w->buf >= w->nr_bufs;
	bpf_seq_write(seq, &w->ring, sizeof(w->ring));
	v->next_buf = w->buf;
	v->next_bvec = w->bvec;
	v->done = w->ring.done;
}

#endif /* GMT_LIB_URING_BPF_H */
