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

#include "dma_walk.bpf.h"

#define GMT_VFIO_MINOR		196	/* include/linux/miscdevice.h */
#define GMT_MISC_MAJOR		10

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

static __always_inline bool gmt_file_is_vfio_container(struct file *file)
{
	return gmt_file_is_chrdev(file, (GMT_MISC_MAJOR << 20) | GMT_VFIO_MINOR);
}

/* one move of the in-order walk; a visited mapping becomes a record */
static long dma_step(__u32 i, void *ctx)
{
	struct gmt_dma_walk *w = &refs_dw;
	struct vfio_dma___gmt *dma;
	struct gmt_refs_dma *r;
	int ret = gmt_rb_walk_step(&w->rb);

	if (ret == GMT_RB_END) {
		w->done = 1;
		return 1;
	}
	if (ret == GMT_RB_MOVED)
		return 0;
	/* node is vfio_dma's first member, but say so to CO-RE */
	dma = (void *)w->rb.node - bpf_core_field_offset(struct vfio_dma___gmt, node);
	r = gmt_dma_rec_next(w);
	if (!r) {
		w->end.next_iova = BPF_CORE_READ(dma, iova);	/* the next pass's start */
		return 1;
	}
	r->iova = BPF_CORE_READ(dma, iova);
	r->vaddr = BPF_CORE_READ(dma, vaddr);
	r->size = BPF_CORE_READ(dma, size);
	r->pinned = 1;
	gmt_rb_walk_next(&w->rb);
	return 0;
}

/*
 * The DMA mappings of the container behind fd from IOVA from on (discovery:
 * 0), at most GMT_REFS_MAX_RECORDS, then its end record: TRUNCATED with
 * next_iova when more are left for the next pass.
 */
static __always_inline void gmt_vfio_dma_walk(struct seq_file *seq, struct task_struct *task,
					      struct file *file, __u32 tgid, __s32 fd, __u64 from)
{
	struct gmt_dma_walk *w = gmt_dma_walk_begin(task, file, tgid, fd, GMT_REFS_DMA_VFIO);
	struct vfio_container___gmt *cont = BPF_CORE_READ(file, private_data);
	static const char type1[16] = "vfio-iommu-type1";
	struct vfio_iommu___gmt *iommu;
	__u64 name[3] = {};
	const char *p;

	if (!bpf_core_type_exists(struct vfio_container___gmt) ||
	    !bpf_core_type_exists(struct vfio_iommu___gmt) ||
	    !bpf_core_type_exists(struct vfio_dma___gmt) ||
	    !bpf_core_field_exists(struct vfio_container___gmt, iommu_data) ||
	    !bpf_core_field_exists(struct vfio_iommu___gmt, dma_list)) {
		w->end.status = GMT_REFS_DMA_NO_BTF;
		goto out;
	}
	/* "vfio-iommu-type1": the other backends keep no vfio_iommu */
	p = BPF_CORE_READ(cont, iommu_driver, ops, name);
	if (p)
		bpf_probe_read_kernel_str(name, sizeof(name), p);
	if (name[0] != ((const __u64 *)type1)[0] || name[1] != ((const __u64 *)type1)[1] ||
	    (__u8)name[2]) {
		w->end.status = GMT_REFS_DMA_NOT_TYPE1;
		goto out;
	}
	iommu = BPF_CORE_READ(cont, iommu_data);
	w->done = !iommu;
	if (iommu) {
		gmt_rb_walk_init(&w->rb, BPF_CORE_READ(iommu, dma_list.rb_node), from,
				 bpf_core_field_offset(struct vfio_dma___gmt, iova) -
				 bpf_core_field_offset(struct vfio_dma___gmt, node));
		bpf_loop(GMT_REFS_DMA_MAX_STEPS, dma_step, NULL, 0);
	}
out:
	gmt_dma_walk_finish(seq, w);
}

#endif /* GMT_LIB_VFIO_DMA_BPF_H */
