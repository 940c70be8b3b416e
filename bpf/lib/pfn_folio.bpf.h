/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A physical page's folio, through the vmemmap: the struct page of pfn is
 * base + pfn * sizeof(struct page) (base calibrated in user space,
 * src/core/vmemmap.c), its folio the compound head. For the iommu:map walk
 * (bpf/iommu_maps.bpf.c), tested on real pages in tests/bpf.
 */
#ifndef GMT_LIB_PFN_FOLIO_BPF_H
#define GMT_LIB_PFN_FOLIO_BPF_H

#include "folio.bpf.h"

/*
 * The folio holding pfn, the pfn of its head and its pages; false where no
 * plausible head is read (no struct page there: MMIO, a hole; or an unknown
 * compound_head layout), and the caller steps one page on.
 */
static __always_inline bool gmt_pfn_folio(__u64 base, __u64 pfn, struct folio **folio,
					  __u64 *head_pfn, __u32 *nr_pages)
{
	__u64 psz = bpf_core_type_size(struct page), page = base + pfn * psz, head;
	struct gmt_folio_raw raw;

	head = gmt_page_folio(page);
	if (!head || head > page || (head - base) % psz)
		return false;
	*folio = (struct folio *)head;
	*head_pfn = (head - base) / psz;
	gmt_folio_read_check(*folio, &raw);
	*nr_pages = gmt_folio_nr_pages(&raw);
	return true;
}

#endif /* GMT_LIB_PFN_FOLIO_BPF_H */
