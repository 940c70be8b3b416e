/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the device-DMA walks of refs --holders share (VFIO type1 containers:
 * vfio_dma.bpf.h; iommufd IOASes: iommufd_ioas.bpf.h): the walk state, the
 * staging of at most GMT_REFS_MAX_RECORDS mapping records per invocation,
 * and the end record that says how the walk went and where the next pass
 * reads on. The state lives in .bss: reads of one iterator fd are serialised
 * by its seq_file mutex.
 */
#ifndef GMT_LIB_DMA_WALK_BPF_H
#define GMT_LIB_DMA_WALK_BPF_H

#include "refs_rec.bpf.h"
#include "rbtree.bpf.h"
#include "xarray.bpf.h"

#define GMT_S_IFMT		00170000
#define GMT_S_IFCHR		0020000

struct gmt_dma_walk {
	struct gmt_rb_walk rb;		/* the mappings of one container or IOAS */
	struct gmt_xa_walk xa;		/* iommufd: its objects, IOAS by IOAS */
	__u64 from_iova;		/* where this invocation starts */
	__u32 from_ioas;
	__u32 nrec, full, done;		/* done: read to the end */
	__u32 in_ioas;			/* iommufd: rb walks this IOAS's areas */
	__u32 ioas_id;
	struct gmt_refs_dma_end end;	/* next_iova, next_ioas when full */
	struct gmt_refs_dma rec;	/* template: hdr, comm, kind */
};

static struct gmt_dma_walk refs_dw;
static struct gmt_refs_dma refs_dma_out[GMT_REFS_MAX_RECORDS];

/* a char device's file (dev_t in the kernel's encoding, major << 20 | minor) */
static __always_inline bool gmt_file_is_chrdev(struct file *file, __u32 rdev)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	return rdev && (BPF_CORE_READ(inode, i_mode) & GMT_S_IFMT) == GMT_S_IFCHR &&
	       BPF_CORE_READ(inode, i_rdev) == rdev;
}

static __always_inline struct gmt_dma_walk *gmt_dma_walk_begin(struct task_struct *task,
							       struct file *file, __u32 tgid,
							       __s32 fd, __u8 kind)
{
	struct gmt_dma_walk *w = &refs_dw;

	__builtin_memset(w, 0, sizeof(*w));
	gmt_refs_rec_start(&w->rec.hdr, w->rec.comm, GMT_REFS_REC_DMA, sizeof(w->rec), task,
			   file, tgid, fd);
	w->rec.kind = kind;
	w->end.hdr = w->rec.hdr;
	w->end.hdr.type = GMT_REFS_REC_DMA_END;
	w->end.hdr.size = sizeof(w->end);
	w->end.kind = kind;
	w->end.container = (__u64)BPF_CORE_READ(file, private_data);
	return w;
}

/* the next record to fill (a copy of the template), or NULL: this
 * invocation wrote its share, the caller says where the next reads on */
static __always_inline struct gmt_refs_dma *gmt_dma_rec_next(struct gmt_dma_walk *w)
{
	struct gmt_refs_dma *r;

	if (w->nrec >= GMT_REFS_MAX_RECORDS) {
		w->full = 1;
		w->end.status = GMT_REFS_DMA_TRUNCATED;
		return NULL;
	}
	r = &refs_dma_out[w->nrec & (GMT_REFS_MAX_RECORDS - 1)];
	*r = w->rec;
	w->nrec++;
	return r;
}

/* the records, then the end record: RACED when the steps ran out first
 * (a cycle, or a tree read unlocked that kept changing) */
static __always_inline void gmt_dma_walk_finish(struct seq_file *seq, struct gmt_dma_walk *w)
{
	__u32 n = w->nrec;

	if (!w->end.status && !w->full && !w->done)
		w->end.status = GMT_REFS_DMA_RACED;
	if (n > GMT_REFS_MAX_RECORDS)
		n = GMT_REFS_MAX_RECORDS;
	w->end.emitted = n;
	if (n)
		bpf_seq_write(seq, refs_dma_out, n * sizeof(refs_dma_out[0]));
	bpf_seq_write(seq, &w->end, sizeof(w->end));
}

#endif /* GMT_LIB_DMA_WALK_BPF_H */
