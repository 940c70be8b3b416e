/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * struct folio access that differs across kernels, shared by the refs walk
 * and the conversion backends.
 */
#ifndef GMT_FOLIO_BPF_H
#define GMT_FOLIO_BPF_H

/* folio->flags is memdesc_flags_t on 6.18 ("mm: introduce memdesc_flags_t"),
 * unsigned long before; one word either way */
struct folio___flags_ul {
	unsigned long flags;
} __attribute__((preserve_access_index));

struct folio___flags_md {
	memdesc_flags_t flags;
} __attribute__((preserve_access_index));

static __always_inline __u64 gmt_folio_flags(struct folio *f)
{
	if (bpf_core_field_exists(((struct folio___flags_md *)f)->flags))
		return BPF_CORE_READ((struct folio___flags_md *)f, flags.f);
	return BPF_CORE_READ((struct folio___flags_ul *)f, flags);
}

static __always_inline __u32 gmt_pg_bit(__u64 flags, int bit)
{
	return (flags >> (bit & 63)) & 1;
}

#endif /* GMT_FOLIO_BPF_H */
