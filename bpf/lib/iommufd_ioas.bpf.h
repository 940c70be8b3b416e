/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The areas of an iommufd's IOASes (refs --holders: holders that existed
 * before gmemtrace ran). An iommufd fd is /dev/iommu (a dynamic misc minor,
 * cfg_iommufd_rdev); its private_data is struct iommufd_ctx, whose objects
 * xarray holds every object by id; an IOMMUFD_OBJ_IOAS is struct
 * iommufd_ioas with its struct io_pagetable, whose area_itree (an interval
 * tree, an rb-tree ordered by the first IOVA) holds struct iopt_area: IOVA
 * [node.start, node.last] over pages [pages_node.start, pages_node.last] of
 * a struct iopt_pages, page_offset bytes into the first. The pages are user
 * memory (uptr) or, since IOMMU_IOAS_MAP_FILE (6.13, the "iommufd: File
 * mappings for mdev" series, "iommufd: Add IOMMU_IOAS_MAP_FILE"), a file
 * (type IOPT_ADDRESS_FILE, file + start). An area pins its pages only once
 * it is filled into the IOAS's IOMMU domains (storage_domain set: a device
 * is attached) or an access (mdev) uses it, and its iopt_pages pins each
 * page once for all areas over it (IOMMU_IOAS_COPY shares them).
 * Both trees are read without their locks, as the VFIO walk reads its own.
 * One invocation writes at most GMT_REFS_MAX_RECORDS; the next pass starts
 * at (next_ioas, next_iova): the xarray walk at that id, the area walk of
 * that IOAS at that IOVA.
 */
#ifndef GMT_LIB_IOMMUFD_IOAS_BPF_H
#define GMT_LIB_IOMMUFD_IOAS_BPF_H

#include "dma_walk.bpf.h"

/* drivers/iommu/iommufd/iommufd_private.h, io_pagetable.h: the fields read */
enum iommufd_object_type___gmt {
	IOMMUFD_OBJ_IOAS___gmt = 4,
};

enum iopt_address_type___gmt {
	IOPT_ADDRESS_FILE___gmt = 1,
};

struct iommufd_ctx___gmt {
	struct xarray objects;
} __attribute__((preserve_access_index));

struct iommufd_object___gmt {
	enum iommufd_object_type___gmt type;
	unsigned int id;
} __attribute__((preserve_access_index));

struct io_pagetable___gmt {
	struct rb_root_cached area_itree;
} __attribute__((preserve_access_index));

struct iommufd_ioas___gmt {
	struct io_pagetable___gmt iopt;
} __attribute__((preserve_access_index));

struct iopt_pages___gmt {
	enum iopt_address_type___gmt type;
	union {
		void *uptr;
		struct {
			struct file *file;
			unsigned long start;
		};
	};
} __attribute__((preserve_access_index));

struct iopt_area___gmt {
	struct interval_tree_node node;
	struct interval_tree_node pages_node;
	struct iopt_pages___gmt *pages;
	void *storage_domain;
	unsigned int page_offset;
	unsigned int num_accesses;
} __attribute__((preserve_access_index));

#define GMT_PAGE_SHIFT	12	/* x86-64 */

/* set by user space from /sys/class/misc/iommu/dev (0: not loaded) */
const volatile __u32 cfg_iommufd_rdev = 0;

static __always_inline bool gmt_file_is_iommufd(struct file *file)
{
	return gmt_file_is_chrdev(file, cfg_iommufd_rdev);
}

/* an area as a record: its IOVA range and what it maps */
static __always_inline bool ioas_area_emit(struct gmt_dma_walk *w, struct iopt_area___gmt *a)
{
	struct iopt_pages___gmt *pages = BPF_CORE_READ(a, pages);
	struct gmt_refs_dma *r;
	__u64 start = BPF_CORE_READ(a, node.start), byte;

	r = gmt_dma_rec_next(w);
	if (!r) {	/* the next pass starts here */
		w->end.next_ioas = w->ioas_id;
		w->end.next_iova = start;
		return false;
	}
	r->ioas_id = w->ioas_id;
	r->iova = start;
	r->size = BPF_CORE_READ(a, node.last) - start + 1;
	r->pages = (__u64)pages;
	r->pinned = BPF_CORE_READ(a, storage_domain) || BPF_CORE_READ(a, num_accesses);
	/* iopt_area_start_byte(): the bytes into iopt_pages of the area's IOVA */
	byte = (BPF_CORE_READ(a, pages_node.start) << GMT_PAGE_SHIFT) +
	       BPF_CORE_READ(a, page_offset);
	if (bpf_core_field_exists(struct iopt_pages___gmt, type) &&
	    bpf_core_enum_value_exists(enum iopt_address_type___gmt, IOPT_ADDRESS_FILE___gmt) &&
	    BPF_CORE_READ(pages, type) ==
	    bpf_core_enum_value(enum iopt_address_type___gmt, IOPT_ADDRESS_FILE___gmt)) {
		r->file_ino = gmt_file_ino(BPF_CORE_READ(pages, file));
		r->file_off = BPF_CORE_READ(pages, start) + byte;
	} else {	/* user memory (dma-buf areas are pinned by their exporter) */
		r->vaddr = (__u64)BPF_CORE_READ(pages, uptr) + byte;
	}
	return true;
}

/* one step: an object slot of the ctx, or one move in an IOAS's area tree */
static long ioas_step(__u32 i, void *ctx)
{
	struct gmt_dma_walk *w = &refs_dw;
	struct iommufd_object___gmt *obj;
	struct iommufd_ioas___gmt *ioas;
	__u64 entry, idx = 0;
	int ret;

	if (w->in_ioas) {
		ret = gmt_rb_walk_step(&w->rb);
		if (ret == GMT_RB_END) {
			w->in_ioas = 0;
		} else if (ret == GMT_RB_NODE) {
			/* node.rb is the area's first member, but say so to CO-RE */
			if (!ioas_area_emit(w, (void *)w->rb.node -
					       bpf_core_field_offset(struct iopt_area___gmt, node.rb)))
				return 1;
			gmt_rb_walk_next(&w->rb);
		}
		return 0;
	}
	ret = gmt_xa_walk_step(&w->xa, &entry, &idx);
	if (ret == GMT_XA_STOP) {
		w->done = w->xa.done && w->xa.status == GMT_REFS_ST_OK;
		return 1;
	}
	obj = (void *)entry;
	if (ret == GMT_XA_MOVED || !obj ||
	    BPF_CORE_READ(obj, type) !=
	    bpf_core_enum_value(enum iommufd_object_type___gmt, IOMMUFD_OBJ_IOAS___gmt))
		return 0;
	/* obj is the IOAS's first member */
	ioas = (void *)obj;
	w->ioas_id = BPF_CORE_READ(obj, id);
	w->in_ioas = 1;
	gmt_rb_walk_init(&w->rb, BPF_CORE_READ(ioas, iopt.area_itree.rb_root.rb_node),
			 idx == w->from_ioas ? w->from_iova : 0,
			 bpf_core_field_offset(struct iopt_area___gmt, node.start) -
			 bpf_core_field_offset(struct iopt_area___gmt, node.rb));
	return 0;
}

/*
 * The IOAS areas of the iommufd behind fd from (IOAS from_ioas, IOVA
 * from_iova) on (discovery: 0, 0), at most GMT_REFS_MAX_RECORDS, then its end
 * record: TRUNCATED with next_ioas and next_iova when more are left.
 */
static __always_inline void gmt_ioas_walk(struct seq_file *seq, struct task_struct *task,
					  struct file *file, __u32 tgid, __s32 fd,
					  __u32 from_ioas, __u64 from_iova)
{
	struct gmt_dma_walk *w = gmt_dma_walk_begin(task, file, tgid, fd, GMT_REFS_DMA_IOMMUFD);
	struct iommufd_ctx___gmt *ictx = BPF_CORE_READ(file, private_data);
	__u64 head, entry;

	if (!bpf_core_type_exists(struct iommufd_ctx___gmt) ||
	    !bpf_core_type_exists(struct iopt_area___gmt) ||
	    !bpf_core_enum_value_exists(enum iommufd_object_type___gmt, IOMMUFD_OBJ_IOAS___gmt) ||
	    !bpf_core_field_exists(struct iopt_area___gmt, storage_domain) ||
	    !bpf_core_field_exists(struct iopt_area___gmt, num_accesses)) {
		w->end.status = GMT_REFS_DMA_NO_BTF;
		goto out;
	}
	w->from_ioas = from_ioas;
	w->from_iova = from_iova;
	gmt_xa_walk_init(&w->xa, from_ioas, ~0U);
	head = (__u64)BPF_CORE_READ(ictx, objects.xa_head);
	/* ids start at 1 (XA_FLAGS_ALLOC1): a lone entry at index 0 is no object */
	if (gmt_xa_walk_start(&w->xa, head, &entry) == 0)
		bpf_loop(GMT_REFS_DMA_MAX_STEPS, ioas_step, NULL, 0);
	else
		w->done = w->xa.done;
out:
	gmt_dma_walk_finish(seq, w);
}

#endif /* GMT_LIB_IOMMUFD_IOAS_BPF_H */
