/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The DMA mappings of a VFIO type1 container (refs --holders: holders that
 * existed before gmemtrace ran). A container fd is /dev/vfio/vfio (misc
 * minor VFIO_MINOR, 196); its private_data is struct vfio_container, whose
 * iommu_data is type1's struct vfio_iommu with the mappings in the rb-tree
 * dma_list. The tree is read in order, one node move per bpf_loop step,
 * without iommu->lock: a mapping made or removed meanwhile may show or not,
 * and user space never lets holders explain more than a folio's pins.
 * One invocation writes at most GMT_REFS_MAX_RECORDS; the next pass seeks
 * the first mapping at or above next_iova (the tree is ordered by IOVA).
 * These structures are private to drivers/vfio: where the kernel's BTF lacks
 * them (vfio_iommu_type1 built as a module without BTF, or not built) the
 * walk loads and says so in its end record.
 */
#ifndef GMT_LIB_VFIO_DMA_BPF_H
#define GMT_LIB_VFIO_DMA_BPF_H

#include "kvm_files.bpf.h"
#include "refs_rec.bpf.h"

#define GMT_VFIO_MINOR		196	/* include/linux/miscdevice.h */
#define GMT_MISC_MAJOR		10
#define GMT_S_IFMT		00170000
#define GMT_S_IFCHR		0020000

/* drivers/vfio/vfio.h, container.c, vfio_iommu_type1.c: the fields read */
struct vfio_iommu_driver_ops___gmt {
	char *name;
} __attribute__((preserve_access_index));

struct vfio_iommu_driver___gmt {
	const struct vfio_iommu_driver_ops___gmt *ops;
} __attribute__((preserve_access_index));

struct vfio_container___gmt {
	struct vfio_iommu_driver___gmt *iommu_driver;
	void *iommu_data;
} __attribute__((preserve_access_index));

struct vfio_iommu___gmt {
	struct rb_root dma_list;
} __attribute__((preserve_access_index));

struct vfio_dma___gmt {
	struct rb_node node;
	__u64 iova;
	unsigned long vaddr;
	__u64 size;
} __attribute__((preserve_access_index));

enum { DMA_SEEK, DMA_DOWN, DMA_EMIT, DMA_UP };

struct dma_walk {
	struct rb_node *node, *cand;	/* DMA_SEEK: the lowest node >= from so far */
	__u64 from;
	__u32 mode, nrec, done, full;
	struct gmt_refs_dma rec;	/* template: hdr, comm */
};

static struct dma_walk refs_dw;
static struct gmt_refs_dma refs_dma_out[GMT_REFS_MAX_RECORDS];

static __always_inline bool gmt_file_is_vfio_container(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	__u32 rdev = BPF_CORE_READ(inode, i_rdev);

	return (BPF_CORE_READ(inode, i_mode) & GMT_S_IFMT) == GMT_S_IFCHR &&
	       rdev == ((GMT_MISC_MAJOR << 20) | GMT_VFIO_MINOR);
}

static __always_inline struct rb_node *rb_parent_of(struct rb_node *n)
{
	return (struct rb_node *)(BPF_CORE_READ(n, __rb_parent_color) & ~3UL);
}

/* one move of an in-order walk: down to the leftmost, emit, right or up */
static long dma_step(__u32 i, void *ctx)
{
	struct dma_walk *w = &refs_dw;
	struct rb_node *n = w->node, *next;
	struct vfio_dma___gmt *dma;
	struct gmt_refs_dma *r;

	if (w->mode == DMA_SEEK) {	/* the tree is ordered by iova: descend */
		if (!n) {
			w->node = w->cand;
			w->mode = DMA_EMIT;
			return 0;
		}
		dma = (void *)n - bpf_core_field_offset(struct vfio_dma___gmt, node);
		if (BPF_CORE_READ(dma, iova) >= w->from) {
			w->cand = n;
			w->node = BPF_CORE_READ(n, rb_left);
		} else {
			w->node = BPF_CORE_READ(n, rb_right);
		}
		return 0;
	}
	if (!n) {
		w->done = 1;
		return 1;
	}
	switch (w->mode) {
	case DMA_DOWN:
		next = BPF_CORE_READ(n, rb_left);
		if (next)
			w->node = next;
		else
			w->mode = DMA_EMIT;
		return 0;
	case DMA_EMIT:
		/* node is vfio_dma's first member, but say so to CO-RE */
		dma = (void *)n - bpf_core_field_offset(struct vfio_dma___gmt, node);
		if (w->nrec >= GMT_REFS_MAX_RECORDS) {
			w->full = 1;
			w->from = BPF_CORE_READ(dma, iova);	/* the next pass's start */
			return 1;
		}
		r = &refs_dma_out[w->nrec & (GMT_REFS_MAX_RECORDS - 1)];
		*r = w->rec;
		r->iova = BPF_CORE_READ(dma, iova);
		r->vaddr = BPF_CORE_READ(dma, vaddr);
		r->size = BPF_CORE_READ(dma, size);
		w->nrec++;
		next = BPF_CORE_READ(n, rb_right);
		if (next) {
			w->node = next;
			w->mode = DMA_DOWN;
		} else {
			w->mode = DMA_UP;
		}
		return 0;
	default:	/* DMA_UP: climb while we come from the right */
		next = rb_parent_of(n);
		if (next && BPF_CORE_READ(next, rb_right) != n)
			w->mode = DMA_EMIT;
		w->node = next;
		return 0;
	}
}

/*
 * The DMA mappings of the container behind fd from IOVA from on (discovery:
 * 0), at most GMT_REFS_MAX_RECORDS, then its end record: TRUNCATED with
 * next_iova when more are left for the next pass.
 */
static __always_inline void gmt_vfio_dma_walk(struct seq_file *seq, struct task_struct *task,
					      struct file *file, __u32 tgid, __s32 fd, __u64 from)
{
	struct dma_walk *w = &refs_dw;
	struct gmt_refs_dma_end end = {};
	struct vfio_container___gmt *cont;
	struct vfio_iommu___gmt *iommu;
	static const char type1[16] = "vfio-iommu-type1";
	__u64 name[3] = {};
	const char *p;
	__u32 n;

	__builtin_memset(w, 0, sizeof(*w));
	gmt_refs_rec_start(&w->rec.hdr, w->rec.comm, GMT_REFS_REC_DMA, sizeof(w->rec), task,
			   file, tgid, fd);
	end.hdr = w->rec.hdr;
	end.hdr.type = GMT_REFS_REC_DMA_END;
	end.hdr.size = sizeof(end);
	cont = BPF_CORE_READ(file, private_data);
	end.container = (__u64)cont;

	if (!bpf_core_type_exists(struct vfio_container___gmt) ||
	    !bpf_core_type_exists(struct vfio_iommu___gmt) ||
	    !bpf_core_type_exists(struct vfio_dma___gmt) ||
	    !bpf_core_field_exists(struct vfio_container___gmt, iommu_data) ||
	    !bpf_core_field_exists(struct vfio_iommu___gmt, dma_list)) {
		end.status = GMT_REFS_DMA_NO_BTF;
		goto out;
	}
	/* "vfio-iommu-type1": the other backends keep no vfio_iommu */
	p = BPF_CORE_READ(cont, iommu_driver, ops, name);
	if (p)
		bpf_probe_read_kernel_str(name, sizeof(name), p);
	if (name[0] != ((const __u64 *)type1)[0] || name[1] != ((const __u64 *)type1)[1] ||
	    (__u8)name[2]) {
		end.status = GMT_REFS_DMA_NOT_TYPE1;
		goto out;
	}
	iommu = BPF_CORE_READ(cont, iommu_data);
	if (!iommu)
		goto out;
	w->node = BPF_CORE_READ(iommu, dma_list.rb_node);
	w->mode = from ? DMA_SEEK : DMA_DOWN;
	w->from = from;
	bpf_loop(GMT_REFS_DMA_MAX_STEPS, dma_step, NULL, 0);
	if (w->full) {
		end.status = GMT_REFS_DMA_TRUNCATED;
		end.next_iova = w->from;
	}
	else if (!w->done)
		end.status = GMT_REFS_DMA_RACED;	/* no end in sight: a cycle */
	n = w->nrec;
	if (n > GMT_REFS_MAX_RECORDS)
		n = GMT_REFS_MAX_RECORDS;
	end.emitted = n;
	if (n)
		bpf_seq_write(seq, refs_dma_out, n * sizeof(refs_dma_out[0]));
out:
	bpf_seq_write(seq, &end, sizeof(end));
}

#endif /* GMT_LIB_VFIO_DMA_BPF_H */
