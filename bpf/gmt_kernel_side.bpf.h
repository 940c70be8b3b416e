/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-side backend: in-kernel conversion latency, phase markers and the
 * refcount check, as fentry/fexit programs with kprobe/kretprobe twins for
 * kernels that have kprobes but no trampolines. They never produce events:
 * they enrich the conversion the uAPI programs are tracking on this thread
 * (task storage), so filters and accounting stay in one place.
 *
 * Attach targets are set by the loader from the backend table's candidate
 * lists (src/backends.c); the names in SEC() are only defaults.
 * Included by gmemtrace.bpf.c.
 */
#ifndef GMT_KERNEL_SIDE_BPF_H
#define GMT_KERNEL_SIDE_BPF_H

#include "gmt_folio.bpf.h"

/* the conversion this thread is in, if any */
static __always_inline struct gmt_inflight *gmt_converting(void)
{
	struct gmt_inflight *in = gmt_inflight_get(false);

	if (!in || in->kind != GMT_EV_CONVERT)
		return NULL;
	return in;
}

static __always_inline void gmt_mark(struct gmt_inflight *in, __u32 ph, __u64 now)
{
	__u64 off = now - in->start_ns;

	if (ph >= GMT_PH_MAX || in->convert.phase_ns[ph])
		return;	/* first hit only: a marker may fire per memslot */
	if (!off)
		off = 1;	/* 0 means "not seen" */
	in->convert.phase_ns[ph] = off > 0xffffffffULL ? 0xffffffffU : (__u32)off;
}

static __always_inline void gmt_marker(__u32 ph)
{
	struct gmt_inflight *in = gmt_converting();

	if (in)
		gmt_mark(in, ph, bpf_ktime_get_ns());
}

/*
 * KVM's MMU invalidation markers. On a to-private G2/G3 conversion,
 * unmap_mapping_pages of the guest_memfd's own mmap (the memslot's
 * userspace_addr in the in-place design) fires KVM's MMU notifier, whose
 * invalidate_end is the out-of-line kvm_mmu_invalidate_end: that one belongs
 * to the host unmap, not to the conversion. The conversion's own
 * invalidation comes after the refcount check, so a marker between the unmap
 * and the check is not taken.
 */
static __always_inline void gmt_inv_marker(__u32 ph)
{
	struct gmt_inflight *in = gmt_converting();

	if (!in)
		return;
	if (in->convert.phase_ns[GMT_PH_UNMAP] && !in->convert.phase_ns[GMT_PH_REFCOUNT])
		return;
	gmt_mark(in, ph, bpf_ktime_get_ns());
}

static __always_inline void gmt_kernel_enter(unsigned int ioctl, __u8 source)
{
	struct gmt_inflight *in = gmt_converting();
	__u64 now;

	if (!in || ioctl != in->cmd)
		return;
	now = bpf_ktime_get_ns();
	in->k_start_ns = now;
	in->convert.source = source;
	gmt_mark(in, GMT_PH_KERNEL_ENTER, now);
}

static __always_inline void gmt_kernel_exit(void)
{
	struct gmt_inflight *in = gmt_converting();
	__u64 now;

	if (!in)
		return;
	if (!in->k_start_ns) {
		/* the handler returned on a converting thread without our entry
		 * program having seen it enter (attached mid-call) */
		gmt_count(GMT_CNT_INFLIGHT_MISS);
		return;
	}
	now = bpf_ktime_get_ns();
	in->convert.kernel_latency_ns = now - in->k_start_ns;
	gmt_mark(in, GMT_PH_KERNEL_EXIT, now);
	in->k_start_ns = 0;
}

/*
 * VM release: the identity ends when the kernel destroys the VM, not later
 * when its address is reused or a sweep misses it. kvm_destroy_vm is static
 * and may be inlined into kvm_put_kvm; kvm_arch_destroy_vm (every arch has
 * one, called only from there) is the fallback.
 */
static __always_inline void gmt_vm_released(__u64 kvm)
{
	struct gmt_vm_info *info = bpf_map_lookup_elem(&gmt_vms, &kvm);

	if (!info)
		return;
	if (!info->quiet)
		gmt_emit_vm_gone(info, GMT_VM_END_RELEASED);
	bpf_map_delete_elem(&gmt_vms, &kvm);
	__sync_fetch_and_add(&gmt_vm_epoch, 1);
}

SEC("fentry/kvm_destroy_vm")
int BPF_PROG(gmt_fe_vmgone, struct kvm *kvm)
{
	gmt_vm_released((__u64)kvm);
	return 0;
}

SEC("kprobe/kvm_destroy_vm")
int BPF_KPROBE(gmt_kp_vmgone, struct kvm *kvm)
{
	gmt_vm_released((__u64)kvm);
	return 0;
}

/* G1: the VM ioctl handler */
SEC("fentry/kvm_vm_ioctl")
int BPF_PROG(gmt_fe_vm_ioctl, struct file *filp, unsigned int ioctl, unsigned long arg)
{
	gmt_kernel_enter(ioctl, GMT_SRC_FENTRY);
	return 0;
}

SEC("fexit/kvm_vm_ioctl")
int BPF_PROG(gmt_fx_vm_ioctl, struct file *filp, unsigned int ioctl, unsigned long arg, long ret)
{
	gmt_kernel_exit();
	return 0;
}

SEC("kprobe/kvm_vm_ioctl")
int BPF_KPROBE(gmt_kp_vm_ioctl, struct file *filp, unsigned int ioctl)
{
	gmt_kernel_enter(ioctl, GMT_SRC_KPROBE);
	return 0;
}

SEC("kretprobe/kvm_vm_ioctl")
int BPF_KRETPROBE(gmt_kr_vm_ioctl)
{
	gmt_kernel_exit();
	return 0;
}

/* G2/G3: the guest_memfd ioctl handler (the only guaranteed out-of-line
 * entry of both series: it is the file's .unlocked_ioctl) */
SEC("fentry/kvm_gmem_ioctl")
int BPF_PROG(gmt_fe_gmem_ioc, struct file *file, unsigned int ioctl, unsigned long arg)
{
	gmt_kernel_enter(ioctl, GMT_SRC_FENTRY);
	return 0;
}

SEC("fexit/kvm_gmem_ioctl")
int BPF_PROG(gmt_fx_gmem_ioc, struct file *file, unsigned int ioctl, unsigned long arg, long ret)
{
	gmt_kernel_exit();
	return 0;
}

SEC("kprobe/kvm_gmem_ioctl")
int BPF_KPROBE(gmt_kp_gmem_ioc, struct file *file, unsigned int ioctl)
{
	gmt_kernel_enter(ioctl, GMT_SRC_KPROBE);
	return 0;
}

SEC("kretprobe/kvm_gmem_ioctl")
int BPF_KRETPROBE(gmt_kr_gmem_ioc)
{
	gmt_kernel_exit();
	return 0;
}

/* Phase markers. kvm_mmu_invalidate_* also run for MMU notifiers of every
 * VM: gmt_converting() keeps only the converting thread. */
SEC("fentry/kvm_mmu_invalidate_start")
int BPF_PROG(gmt_fe_invstart)
{
	gmt_inv_marker(GMT_PH_INVALIDATE_START);
	return 0;
}

SEC("kprobe/kvm_mmu_invalidate_start")
int BPF_KPROBE(gmt_kp_invstart)
{
	gmt_inv_marker(GMT_PH_INVALIDATE_START);
	return 0;
}

SEC("fentry/kvm_mmu_invalidate_end")
int BPF_PROG(gmt_fe_invend)
{
	gmt_inv_marker(GMT_PH_INVALIDATE_END);
	return 0;
}

SEC("kprobe/kvm_mmu_invalidate_end")
int BPF_KPROBE(gmt_kp_invend)
{
	gmt_inv_marker(GMT_PH_INVALIDATE_END);
	return 0;
}

/* G1's arch hooks (mmu.c: never inlined into kvm_main.c's caller, unlike
 * kvm_mmu_invalidate_start on 7.3), once per memslot in the range */
SEC("fentry/kvm_arch_pre_set_memory_attributes")
int BPF_PROG(gmt_fe_preset)
{
	gmt_marker(GMT_PH_PRE_SET);
	return 0;
}

SEC("kprobe/kvm_arch_pre_set_memory_attributes")
int BPF_KPROBE(gmt_kp_preset)
{
	gmt_marker(GMT_PH_PRE_SET);
	return 0;
}

SEC("fentry/kvm_arch_post_set_memory_attributes")
int BPF_PROG(gmt_fe_postset)
{
	gmt_marker(GMT_PH_POST_SET);
	return 0;
}

SEC("kprobe/kvm_arch_post_set_memory_attributes")
int BPF_KPROBE(gmt_kp_postset)
{
	gmt_marker(GMT_PH_POST_SET);
	return 0;
}

SEC("fentry/unmap_mapping_pages")
int BPF_PROG(gmt_fe_unmap)
{
	gmt_marker(GMT_PH_UNMAP);
	return 0;
}

SEC("kprobe/unmap_mapping_pages")
int BPF_KPROBE(gmt_kp_unmap)
{
	gmt_marker(GMT_PH_UNMAP);
	return 0;
}

SEC("fentry/lru_add_drain_all")
int BPF_PROG(gmt_fe_lrudrain)
{
	gmt_marker(GMT_PH_LRU_DRAIN);
	return 0;
}

SEC("kprobe/lru_add_drain_all")
int BPF_KPROBE(gmt_kp_lrudrain)
{
	gmt_marker(GMT_PH_LRU_DRAIN);
	return 0;
}

/* declared below: the check's candidate is read again after the drain */
static __always_inline void gmt_recheck_after_drain(void);

SEC("fexit/lru_add_drain_all")
int BPF_PROG(gmt_fx_lrudrain)
{
	gmt_recheck_after_drain();
	return 0;
}

SEC("kretprobe/lru_add_drain_all")
int BPF_KRETPROBE(gmt_kr_lrudrain)
{
	gmt_recheck_after_drain();
	return 0;
}

/* G1's own tracepoint: fires before slots_lock is taken */
SEC("tp_btf/kvm_vm_set_mem_attributes")
int BPF_PROG(gmt_tp_setattr, gfn_t start, gfn_t end, unsigned long attr)
{
	gmt_marker(GMT_PH_ATTR_TP);
	return 0;
}

/*
 * The refcount check (G2/G3): the kernel compares each folio of the batch
 * filemap_get_folios just filled against folio_nr_pages + 1. Read the same
 * values here, just before it does, and keep the first folio that fails as a
 * candidate. G3 v8 (18/46) then drains the per-CPU LRU batches once and
 * checks that folio again, so a folio held only by a batch passes and a later
 * one may block: the candidate is read again after the drain. It becomes the
 * blocking folio only when the kernel refuses with EAGAIN at its index
 * (gmt_folio_confirm); a conversion that succeeds never carries one.
 */
struct folio___gmt {
	unsigned long _flags_1;
	atomic_t _refcount;
	atomic_t _mapcount;
	atomic_t _pincount;
	unsigned long index;
} __attribute__((preserve_access_index));

/* true when the folio fails the check (snapshot taken) */
static __always_inline bool gmt_snap_folio(struct gmt_inflight *in, struct folio___gmt *f,
					   __u32 extra)
{
	struct gmt_folio_snap *s = &in->convert.folio;
	__u64 flags = gmt_folio_flags((struct folio *)f);
	__u32 head = bpf_core_enum_value(enum pageflags, PG_head);
	__u32 lru = bpf_core_enum_value(enum pageflags, PG_lru);
	__u32 ref, nr, order = 0;

	if ((flags >> (head & 63)) & 1) {
		if (bpf_core_field_exists(f->_flags_1))
			order = BPF_CORE_READ(f, _flags_1) & 0xff;
	}
	ref = BPF_CORE_READ(f, _refcount.counter);
	nr = 1U << (order & 31);
	if (ref == nr + extra)
		return false;
	s->nr_pages = nr;
	s->expected = nr;
	s->refcount = ref;
	s->index = BPF_CORE_READ(f, index);
	s->mapcount = BPF_CORE_READ(f, _mapcount.counter) + 1;
	if (order && bpf_core_field_exists(f->_pincount))
		s->pincount = BPF_CORE_READ(f, _pincount.counter);
	else
		s->pincount = ref > nr + extra ? (ref - nr - extra) / 1024 : 0;
	s->lru = (flags >> (lru & 63)) & 1;
	s->exact = extra;
	s->valid = 0;	/* a candidate until the kernel says EAGAIN here */
	return true;
}

static __always_inline void gmt_folio_drop(struct gmt_inflight *in)
{
	__builtin_memset(&in->convert.folio, 0, sizeof(in->convert.folio));
	in->k_cand = 0;
}

/* first unsafe folio of the batch from slot `from` on, with the batch's +1 */
static __always_inline void gmt_scan_batch(struct gmt_inflight *in, struct folio_batch *fbatch,
					   __u32 from)
{
	unsigned char nr = BPF_CORE_READ(fbatch, nr);
	int i;

	gmt_folio_drop(in);
	for (i = 0; i < 31; i++) {	/* PAGEVEC_SIZE */
		struct folio___gmt *f = NULL;

		if (i >= nr)
			break;
		if (i < from)
			continue;
		bpf_probe_read_kernel(&f, sizeof(f), &fbatch->folios[i]);
		if (f && gmt_snap_folio(in, f, 1)) {
			in->k_cand = 1;
			in->k_cand_slot = i;
			break;
		}
	}
}

static __always_inline void gmt_check_batch(struct gmt_inflight *in, struct folio_batch *fbatch)
{
	gmt_mark(in, GMT_PH_REFCOUNT, bpf_ktime_get_ns());
	in->k_batch = (__u64)fbatch;
	gmt_scan_batch(in, fbatch, 0);
}

/* lru_add_drain_all returned inside the check: the kernel rechecks the same
 * folio, then carries on through the batch */
static __always_inline void gmt_recheck_after_drain(void)
{
	struct gmt_inflight *in = gmt_converting();

	if (!in || !in->k_start_ns || !in->k_cand || !in->k_batch)
		return;
	gmt_scan_batch(in, (struct folio_batch *)in->k_batch, in->k_cand_slot);
}

SEC("fexit/filemap_get_folios")
int BPF_PROG(gmt_fx_folios, struct address_space *mapping, unsigned long *start, unsigned long end,
	     struct folio_batch *fbatch, unsigned int ret)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_start_ns)
		gmt_check_batch(in, fbatch);
	return 0;
}

SEC("kprobe/filemap_get_folios")
int BPF_KPROBE(gmt_kp_folios, struct address_space *mapping, unsigned long *start, unsigned long end,
	       struct folio_batch *fbatch)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_start_ns)
		in->k_fbatch = (__u64)fbatch;
	return 0;
}

SEC("kretprobe/filemap_get_folios")
int BPF_KRETPROBE(gmt_kr_folios)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_fbatch) {
		gmt_check_batch(in, (struct folio_batch *)in->k_fbatch);
		in->k_fbatch = 0;
	}
	return 0;
}

/*
 * Tracepoint-only kernels: on EAGAIN, read the folio at error_offset from the
 * guest_memfd's page cache after the fact. A bounded descent of the xarray
 * (6 levels: 2^36 pages); transient references may already be gone, so the
 * record says exact = 0.
 */
static __always_inline void *gmt_xa_load(struct address_space *mapping, unsigned long index)
{
	unsigned long entry = (unsigned long)BPF_CORE_READ(mapping, i_pages.xa_head);
	__u32 slots = bpf_core_field_offset(struct xa_node, slots);
	int level;

	for (level = 0; level < 6; level++) {
		unsigned char shift = 0;
		unsigned long slot;

		if ((entry & 3) != 2 || entry <= 4096)
			break;	/* not an internal node: a leaf or nothing */
		bpf_probe_read_kernel(&shift, 1, (void *)(entry - 2));	/* xa_node.shift */
		slot = entry - 2 + slots + ((index >> (shift & 63)) & 63) * 8;
		entry = 0;
		bpf_probe_read_kernel(&entry, sizeof(entry), (void *)slot);
		if (!shift && (entry & 3) == 2)
			return NULL;	/* a sibling or retry entry at the bottom */
	}
	if (entry & 3)
		return NULL;	/* value (shadow) or internal entry */
	if (level == 0 && index)
		return NULL;	/* a lone head entry holds index 0 only */
	return (void *)entry;
}

/* the folio at `index` of the conversion's guest_memfd as it is now */
static __always_inline void gmt_folio_read_at(struct gmt_inflight *in, __u64 index)
{
	struct gmt_folio_snap *s = &in->convert.folio;
	struct address_space *mapping;
	struct folio___gmt *f;
	struct file *file;
	__u64 flags;
	__u32 lru = bpf_core_enum_value(enum pageflags, PG_lru);
	__u32 ref;

	gmt_folio_drop(in);
	if (!in->c_file)
		return;
	file = (struct file *)in->c_file;	/* a local: keep in-> out of CO-RE */
	mapping = BPF_CORE_READ(file, f_mapping);
	f = gmt_xa_load(mapping, index);
	if (!f)
		return;
	flags = gmt_folio_flags((struct folio *)f);
	ref = BPF_CORE_READ(f, _refcount.counter);
	s->index = BPF_CORE_READ(f, index);
	s->refcount = ref;
	s->nr_pages = 1;	/* guest_memfd folios are order 0 on mainline */
	s->expected = 1;	/* the page cache's own reference */
	s->mapcount = BPF_CORE_READ(f, _mapcount.counter) + 1;
	s->pincount = ref > 1 ? (ref - 1) / 1024 : 0;
	s->lru = (flags >> (lru & 63)) & 1;
	s->exact = 0;
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

/*
 * G3 (v8 13/46): __kvm_gmem_set_attributes(inode, start, nr_pages, attrs,
 * err_index) is out of line with BTF on the v8 build; its return value and
 * *err_index are the check's verdict, read where the kernel produced them.
 */
static __always_inline void gmt_g3_result(long ret, __u64 err_index_ptr)
{
	struct gmt_inflight *in = gmt_converting();
	__u64 idx = 0;

	if (!in || !in->k_start_ns)
		return;
	in->k_result = 1;
	if (ret != -EAGAIN_) {
		gmt_folio_drop(in);
		return;
	}
	if (bpf_probe_read_kernel(&idx, sizeof(idx), (void *)err_index_ptr) < 0) {
		gmt_count(GMT_CNT_READ_KERN_ERR);
		return;	/* left to the syscall exit */
	}
	gmt_folio_confirm(in, idx);
}

SEC("fexit/__kvm_gmem_set_attributes")
int BPF_PROG(gmt_fx_g3_set, struct inode *inode, unsigned long start, unsigned long nr_pages,
	     __u64 attrs, unsigned long *err_index, int ret)
{
	gmt_g3_result(ret, (__u64)err_index);
	return 0;
}

SEC("kprobe/__kvm_gmem_set_attributes")
int BPF_KPROBE(gmt_kp_g3_set, struct inode *inode, unsigned long start, unsigned long nr_pages,
	       __u64 attrs, unsigned long *err_index)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_start_ns)
		in->k_err_index = (__u64)err_index;
	return 0;
}

SEC("kretprobe/__kvm_gmem_set_attributes")
int BPF_KRETPROBE(gmt_kr_g3_set, int ret)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_err_index) {
		gmt_g3_result(ret, in->k_err_index);
		in->k_err_index = 0;
	}
	return 0;
}

#endif /* GMT_KERNEL_SIDE_BPF_H */
