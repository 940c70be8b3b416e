/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The blocking folio of a conversion (convert.folio): a candidate the
 * refcount check found (kernel_side.bpf.c), confirmed only by the kernel's
 * own answer, EAGAIN at its index; failing that, the folio at the refused
 * index read from the page cache after the fact. Used by the kernel-side
 * programs and by the syscall exit (uapi.bpf.c).
 */
#ifndef GMT_BLOCKER_BPF_H
#define GMT_BLOCKER_BPF_H

#include "lib/folio.bpf.h"
#include "lib/xarray.bpf.h"

static __always_inline void gmt_folio_drop(struct gmt_inflight *in)
{
	__builtin_memset(&in->convert.folio, 0, sizeof(in->convert.folio));
	in->k_cand = 0;
}

/*
 * Tracepoint-only kernels: the folio at `index` of the conversion's
 * guest_memfd as it is now; transient references may already be gone, so the
 * record says exact = 0.
 */
static __always_inline void gmt_folio_read_at(struct gmt_inflight *in, __u64 index)
{
	struct gmt_folio_snap *s = &in->convert.folio;
	struct gmt_folio_raw raw;
	struct file *file;
	__u64 head, f;

	gmt_folio_drop(in);
	if (!in->c_file)
		return;
	file = (struct file *)in->c_file;	/* a local: keep in-> out of CO-RE */
	head = (__u64)BPF_CORE_READ(file, f_mapping, i_pages.xa_head);
	f = gmt_xa_load(head, index);
	if (!f)
		return;
	gmt_folio_read((struct folio *)f, &raw);
	gmt_folio_snap_fill(&raw, 0, s);
	s->valid = 1;
}

/*
 * The kernel refused with EAGAIN at page `index`: the candidate of the check
 * is the blocking folio if it covers that index (err_index is
 * max(start, folio->index)); otherwise what stands there now is read, and
 * marked as read after the fact.
 */
static __always_inline void gmt_folio_confirm(struct gmt_inflight *in, __u64 index)
{
	struct gmt_folio_snap *s = &in->convert.folio;

	if (s->valid)
		return;
	if (in->k_cand && index >= s->index && index < s->index + s->nr_pages) {
		s->valid = 1;
		in->k_cand = 0;
		return;
	}
	gmt_folio_read_at(in, index);
}

/* syscall exit: the answer as user space got it (error_offset read from the
 * ioctl struct), for kernels where the kernel-side result is not seen */
static __always_inline void gmt_folio_at_exit(struct gmt_inflight *in, long ret)
{
	if (ret != -EAGAIN_ || !in->convert.has_error_offset) {
		gmt_folio_drop(in);
		return;
	}
	gmt_folio_confirm(in, in->convert.error_offset >> 12);
}

#endif /* GMT_BLOCKER_BPF_H */
