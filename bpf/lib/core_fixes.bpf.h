/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every CO-RE flavour shim gmemtrace needs, in one place (bcc libbpf-tools'
 * core_fixes.bpf.h habit): each names the kernel change that renamed or moved
 * the field, then gives the ___flavours and one accessor that chooses with
 * bpf_core_{field,type,enum_value}_exists(). Nothing else in bpf/ spells a
 * flavour.
 *
 * Commit ids are mainline ids where a later "Fixes:" tag or the merged tree
 * confirmed them; otherwise the subject and release are given and the id is
 * left out rather than guessed.
 */
#ifndef GMT_LIB_CORE_FIXES_BPF_H
#define GMT_LIB_CORE_FIXES_BPF_H

/*
 * guest_memfd's file->private_data.
 * commit 497b1dfbcacf ("KVM: guest_memfd: Rename "struct kvm_gmem" to
 * "struct gmem_file""), kvm-x86 gmem, for 7.0: struct kvm_gmem up to 6.18,
 * struct gmem_file after. Both start with the owning struct kvm *.
 */
struct kvm_gmem___gmt {
	struct kvm *kvm;
} __attribute__((preserve_access_index));

struct gmem_file___gmt {
	struct kvm *kvm;
} __attribute__((preserve_access_index));

static __always_inline __u64 gmt_gmem_kvm(struct file *file)
{
	void *pd = BPF_CORE_READ(file, private_data);
	struct kvm *kvm = NULL;

	if (bpf_core_type_exists(struct gmem_file___gmt))
		kvm = BPF_CORE_READ((struct gmem_file___gmt *)pd, kvm);
	else if (bpf_core_type_exists(struct kvm_gmem___gmt))
		kvm = BPF_CORE_READ((struct kvm_gmem___gmt *)pd, kvm);
	else	/* unknown layout: every version so far puts kvm first */
		bpf_probe_read_kernel(&kvm, sizeof(kvm), pd);
	return (__u64)kvm;
}

/*
 * The VM of a guest_memfd known only by its mapping (a pinned or IOMMU-mapped
 * folio): the first of the inode's guest_memfd files (one per
 * KVM_CREATE_GUEST_MEMFD; a second VM binding the same inode is not named).
 * Up to 6.x they hang on mapping->i_private_list (entry of struct kvm_gmem);
 * on 7.x on struct gmem_inode's gmem_file_list (seen in Debian's 7.2 source;
 * the moving commit is not identified here).
 */
struct kvm_gmem___gmt_list {
	struct kvm *kvm;
	struct list_head entry;
} __attribute__((preserve_access_index));

struct gmem_file___gmt_list {
	struct kvm *kvm;
	struct list_head entry;
} __attribute__((preserve_access_index));

struct gmem_inode___gmt_list {
	struct inode vfs_inode;
	struct list_head gmem_file_list;
} __attribute__((preserve_access_index));

static __always_inline __u64 gmt_gmem_mapping_kvm(struct address_space *m)
{
	struct list_head *head, *first = NULL;
	struct kvm *kvm = NULL;

	if (bpf_core_field_exists(struct gmem_inode___gmt_list, gmem_file_list)) {
		void *inode = BPF_CORE_READ(m, host);

		head = inode - bpf_core_field_offset(struct gmem_inode___gmt_list, vfs_inode) +
		       bpf_core_field_offset(struct gmem_inode___gmt_list, gmem_file_list);
	} else {
		head = (void *)m + bpf_core_field_offset(struct address_space, i_private_list);
	}
	if (bpf_probe_read_kernel(&first, sizeof(first), &head->next) || !first || first == head)
		return 0;
	if (bpf_core_type_exists(struct gmem_file___gmt_list))
		kvm = BPF_CORE_READ((struct gmem_file___gmt_list *)((void *)first -
			bpf_core_field_offset(struct gmem_file___gmt_list, entry)), kvm);
	else if (bpf_core_field_exists(struct kvm_gmem___gmt_list, entry))
		kvm = BPF_CORE_READ((struct kvm_gmem___gmt_list *)((void *)first -
			bpf_core_field_offset(struct kvm_gmem___gmt_list, entry)), kvm);
	return (__u64)kvm;
}

/*
 * guest_memfd's create flags.
 * commit a63ca4236e67 ("KVM: guest_memfd: Use guest mem inodes instead of
 * anonymous inodes") added struct gmem_inode around the VFS inode, and
 * commit e66438bb81c4 ("KVM: guest_memfd: Add gmem_inode.flags field instead
 * of using i_private") moved the flags there (both kvm-x86 gmem, for 7.0).
 * Before: (u64)inode->i_private.
 */
struct gmem_inode___gmt {
	struct inode vfs_inode;
	__u64 flags;
} __attribute__((preserve_access_index));

static __always_inline __u64 gmt_gmem_inode_flags(struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	if (bpf_core_type_exists(struct gmem_inode___gmt)) {
		struct gmem_inode___gmt *gi;

		gi = (void *)inode - bpf_core_field_offset(struct gmem_inode___gmt, vfs_inode);
		return BPF_CORE_READ(gi, flags);
	}
	return (__u64)BPF_CORE_READ(inode, i_private);
}

/*
 * The mark only guest_memfd puts on its mapping.
 * commit c72ceafbd12c ("mm: Introduce AS_INACCESSIBLE for
 * encrypted/confidential memory"), v6.11, and 1d23040caa8b ("KVM:
 * guest_memfd: Use AS_INACCESSIBLE when creating guest_memfd inode"). Older
 * kernels have no such enum value: -1, nothing is guest_memfd.
 */
static __always_inline int gmt_as_inaccessible_bit(void)
{
	if (!bpf_core_enum_value_exists(enum mapping_flags, AS_INACCESSIBLE))
		return -1;
	return bpf_core_enum_value(enum mapping_flags, AS_INACCESSIBLE);
}

/*
 * The VM owner's pid, for VMs first seen through a guest_memfd.
 * struct kvm::userspace_pid is set in kvm_uevent_notify_change() at VM
 * creation (the KVM uevent notifications, v4.14); missing: -1.
 */
struct kvm___gmt {
	pid_t userspace_pid;
} __attribute__((preserve_access_index));

static __always_inline __s32 gmt_kvm_userspace_pid(__u64 kvm)
{
	struct kvm___gmt *k = (struct kvm___gmt *)kvm;

	if (!kvm || !bpf_core_field_exists(k->userspace_pid))
		return -1;
	return BPF_CORE_READ(k, userspace_pid);
}

/*
 * A vCPU file's private_data: only the two fields read here, so a layout
 * change elsewhere in struct kvm_vcpu never breaks the load.
 */
struct kvm_vcpu___gmt {
	struct kvm *kvm;
	struct kvm_run *run;
} __attribute__((preserve_access_index));

/*
 * folio->flags.
 * commit 53fbef56e07d ("mm: introduce memdesc_flags_t"), v6.18: the word is
 * wrapped as memdesc_flags_t { unsigned long f; }; before, unsigned long.
 */
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

/* where the flags word sits (the BPF tests build folios with it) */
static __always_inline __u32 gmt_folio_flags_offset(void)
{
	if (bpf_core_field_exists(((struct folio___flags_md *)0)->flags))
		return bpf_core_field_offset(struct folio___flags_md, flags);
	return bpf_core_field_offset(struct folio___flags_ul, flags);
}

/*
 * Large-folio fields of the first tail page, each missing on some kernel:
 * - _flags_1 (its low byte is the order): "mm: add the first tail page to
 *   struct folio" (Matthew Wilcox, v6.1); before, the order was
 *   page[1].compound_order, not read here (order unknown: GMT_FOLIO_NO_ORDER);
 * - _pincount: "mm: remove folio_pincount_ptr() and head_compound_pincount()"
 *   (v6.3) made it a folio field; missing: -1 (pins then only show as
 *   references);
 * - _large_mapcount: commit 05c5323b2a34 ("mm: track mapcount of large
 *   folios in single value"), v6.10; before it folio_mapcount() summed the
 *   pages, which is not read here: -1.
 * Order-0 folios have none of them (the page's own _mapcount counts).
 */
struct folio___large {
	unsigned long _flags_1;
	atomic_t _pincount;
	atomic_t _large_mapcount;
} __attribute__((preserve_access_index));

static __always_inline int gmt_folio_order(struct folio *f)
{
	struct folio___large *l = (struct folio___large *)f;

	if (!bpf_core_field_exists(l->_flags_1))
		return -1;
	return BPF_CORE_READ(l, _flags_1) & 0xff;
}

static __always_inline __s32 gmt_folio_pincount(struct folio *f)
{
	struct folio___large *l = (struct folio___large *)f;

	if (!bpf_core_field_exists(l->_pincount))
		return -1;
	return BPF_CORE_READ(l, _pincount.counter);
}

/* folio_mapcount() of a large folio, -1 when this kernel has no single value */
static __always_inline __s32 gmt_folio_large_mapcount(struct folio *f)
{
	struct folio___large *l = (struct folio___large *)f;

	if (!bpf_core_field_exists(l->_large_mapcount))
		return -1;
	return BPF_CORE_READ(l, _large_mapcount.counter) + 1;
}

/*
 * An io_uring ring's registered buffers (ctx = the ring file's private_data).
 * "io_uring/rsrc: unify file and buffer resource tables" (Jens Axboe, v6.13)
 * replaced ctx->user_bufs (struct io_mapped_ubuf **) and ctx->nr_user_bufs
 * with ctx->buf_table (struct io_rsrc_data: nr, nodes), whose nodes point at
 * their io_mapped_ubuf (node->buf). io_mapped_ubuf's bvec[] flexible array is
 * the same in both. Returns the buffer count, -1 for an unknown layout.
 */
struct io_ring_ctx___user_bufs {
	struct io_mapped_ubuf **user_bufs;
	unsigned int nr_user_bufs;
} __attribute__((preserve_access_index));

static __always_inline int gmt_uring_nr_bufs(void *ctx, void **table)
{
	struct io_ring_ctx___user_bufs *o = ctx;
	struct io_ring_ctx *n = ctx;

	if (bpf_core_field_exists(n->buf_table)) {
		*table = BPF_CORE_READ(n, buf_table.nodes);
		return BPF_CORE_READ(n, buf_table.nr);
	}
	if (bpf_core_field_exists(o->user_bufs)) {
		*table = BPF_CORE_READ(o, user_bufs);
		return BPF_CORE_READ(o, nr_user_bufs);
	}
	return -1;
}

/*
 * buffer i's io_mapped_ubuf, NULL for an empty slot. Chosen by a load-time
 * constant: on a kernel without node->buf its read must be dead code, or the
 * verifier meets the poisoned relocation.
 */
static __always_inline struct io_mapped_ubuf *gmt_uring_buf(void *table, __u32 i)
{
	void *p = NULL;

	if (bpf_probe_read_kernel(&p, sizeof(p), (void **)table + i) || !p)
		return NULL;
	if (bpf_core_field_exists(((struct io_rsrc_node *)0)->buf))
		return BPF_CORE_READ((struct io_rsrc_node *)p, buf);
	return p;
}

/*
 * A page's folio (compound_head()). Up to 7.1 a tail page's
 * page->compound_head holds its head's address | 1. By 7.2 (Debian's 7.2
 * and 7.3 sources; the renaming commit is not identified here) the field is
 * page->compound_info, which holds either that pointer | 1 or, with
 * HugeTLB vmemmap optimisation and a power-of-2 struct page, a mask | 1
 * that clears the tail's offset within its folio. The two are told apart
 * without Kconfig: a mask is ~(2^k - 1), whose negation is a power of two,
 * which no struct page address in the vmemmap is.
 */
struct page___compound_head {
	unsigned long compound_head;
} __attribute__((preserve_access_index));

struct page___compound_info {
	unsigned long compound_info;
} __attribute__((preserve_access_index));

static __always_inline __u64 gmt_page_folio(__u64 page)
{
	unsigned long info, m;

	if (bpf_core_field_exists(((struct page___compound_info *)0)->compound_info))
		info = BPF_CORE_READ((struct page___compound_info *)page, compound_info);
	else if (bpf_core_field_exists(((struct page___compound_head *)0)->compound_head))
		info = BPF_CORE_READ((struct page___compound_head *)page, compound_head);
	else
		return 0;	/* unknown layout: no folio, never a wrong one */
	if (!(info & 1))
		return page;	/* a head or order-0 page */
	m = info - 1;
	if (m && !((-m) & (-m - 1)))
		return page & info;	/* a mask (bit 0 of page is clear) */
	return m;
}

#endif /* GMT_LIB_CORE_FIXES_BPF_H */
