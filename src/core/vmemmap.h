/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the kernel's struct pages start (the vmemmap base, randomized with
 * KASLR): calibrated on a memfd of gmemtrace's own, whose pages' pfns
 * /proc/self/pagemap gives (root only) and whose folio addresses refs'
 * iterator reads. One implementation for `refs` (pfn of a folio) and for
 * `trace --holders` (the struct page of an iommu:map's physical address,
 * bpf/iommu_maps.bpf.c).
 */
#ifndef GMT_VMEMMAP_H
#define GMT_VMEMMAP_H

#include <stdbool.h>
#include <linux/types.h>

struct gmt_refs_calib;

struct gmt_vmemmap {
	int fd;			/* the memfd, -1: none (not prepared or failed) */
	void *map;
	__u64 pfn[2];		/* its pages' pfns, from pagemap */
	bool known;		/* base and page_struct_size are valid */
	__u64 base;		/* struct page of pfn 0 */
	__u64 page_struct_size;	/* sizeof(struct page) on this kernel */
	char why[160];		/* when not known: why */
};

/* the memfd and its pfns; v->fd < 0 (and v->why said) when unavailable */
void gmt_vmemmap_prepare(struct gmt_vmemmap *v);
/* the iterator's record of the memfd's folios: the base from both pages */
void gmt_vmemmap_record(struct gmt_vmemmap *v, const struct gmt_refs_calib *r);
/* the memfd is no longer needed (what was learnt stays) */
void gmt_vmemmap_done(struct gmt_vmemmap *v);
bool gmt_vmemmap_pfn_of(const struct gmt_vmemmap *v, __u64 folio, __u64 *pfn);

#endif /* GMT_VMEMMAP_H */
