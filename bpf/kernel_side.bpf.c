// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel-side backend: in-kernel conversion latency, phase markers and the
 * refcount check, as fentry/fexit programs with kprobe/kretprobe twins for
 * kernels that have kprobes but no trampolines. They never produce events:
 * they enrich the conversion the uAPI programs are tracking on this thread
 * (task storage), so filters and accounting stay in one place. Linked with
 * uapi.bpf.c into the gmemtrace object (shared maps: gmt_state.bpf.h).
 *
 * Attach targets are set by the loader from the backend table's candidate
 * lists (src/core/backends.c); the names in SEC() are only defaults.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_refs.h"
#include "gmt_state.bpf.h"
#include "gmt_blocker.bpf.h"
#define GMT_TOCTOU_OWNER
#include "policy_toctou.bpf.h"

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

/*
 * Twins: one body attached either as fentry/fexit (trampolines) or as
 * kprobe/kretprobe (kprobes only). The backend table names every program and
 * the loader keeps the one this kernel allows; the targets below are the
 * SEC() defaults it may retarget to a renamed function.
 */
#define GMT_ENTRY_TWINS(fe, kp, fn, call, args...)				\
	SEC("fentry/" #fn) int BPF_PROG(fe, ##args) { call; return 0; }		\
	SEC("kprobe/" #fn) int BPF_KPROBE(kp, ##args) { call; return 0; }

#define GMT_RETURN_TWINS(fx, kr, fn, call)					\
	SEC("fexit/" #fn) int BPF_PROG(fx) { call; return 0; }			\
	SEC("kretprobe/" #fn) int BPF_KRETPROBE(kr) { call; return 0; }

/* a KVM ioctl handler: entry (with the cmd) and return, both ways */
#define GMT_HANDLER_TWINS(fe, fx, kp, kr, fn)					\
	SEC("fentry/" #fn)							\
	int BPF_PROG(fe, struct file *file, unsigned int ioctl)			\
	{									\
		gmt_kernel_enter(ioctl, GMT_SRC_FENTRY);			\
		return 0;							\
	}									\
	SEC("kprobe/" #fn)							\
	int BPF_KPROBE(kp, struct file *file, unsigned int ioctl)		\
	{									\
		gmt_kernel_enter(ioctl, GMT_SRC_KPROBE);			\
		return 0;							\
	}									\
	GMT_RETURN_TWINS(fx, kr, fn, gmt_kernel_exit())

/* VM release (kvm_arch_destroy_vm stands in where kvm_destroy_vm is inlined) */
GMT_ENTRY_TWINS(gmt_fe_vmgone, gmt_kp_vmgone, kvm_destroy_vm,
		gmt_vm_released((__u64)kvm), struct kvm *kvm)

/* G1: the VM ioctl handler */
GMT_HANDLER_TWINS(gmt_fe_vm_ioctl, gmt_fx_vm_ioctl, gmt_kp_vm_ioctl, gmt_kr_vm_ioctl,
		  kvm_vm_ioctl)

/* G2/G3: the guest_memfd ioctl handler (the only guaranteed out-of-line
 * entry of both series: it is the file's .unlocked_ioctl) */
GMT_HANDLER_TWINS(gmt_fe_gmem_ioc, gmt_fx_gmem_ioc, gmt_kp_gmem_ioc, gmt_kr_gmem_ioc,
		  kvm_gmem_ioctl)

/* Phase markers. kvm_mmu_invalidate_* also run for MMU notifiers of every
 * VM: gmt_converting() keeps only the converting thread. */
GMT_ENTRY_TWINS(gmt_fe_invstart, gmt_kp_invstart, kvm_mmu_invalidate_start,
		gmt_inv_marker(GMT_PH_INVALIDATE_START))
GMT_ENTRY_TWINS(gmt_fe_invend, gmt_kp_invend, kvm_mmu_invalidate_end,
		gmt_inv_marker(GMT_PH_INVALIDATE_END))

/* G1's arch hooks (mmu.c: never inlined into kvm_main.c's caller, unlike
 * kvm_mmu_invalidate_start on 7.3), once per memslot in the range */
GMT_ENTRY_TWINS(gmt_fe_preset, gmt_kp_preset, kvm_arch_pre_set_memory_attributes,
		gmt_marker(GMT_PH_PRE_SET))
GMT_ENTRY_TWINS(gmt_fe_postset, gmt_kp_postset, kvm_arch_post_set_memory_attributes,
		gmt_marker(GMT_PH_POST_SET))
GMT_ENTRY_TWINS(gmt_fe_unmap, gmt_kp_unmap, unmap_mapping_pages, gmt_marker(GMT_PH_UNMAP))
GMT_ENTRY_TWINS(gmt_fe_lrudrain, gmt_kp_lrudrain, lru_add_drain_all,
		gmt_marker(GMT_PH_LRU_DRAIN))

/* G1's own tracepoint: fires before slots_lock is taken */
SEC("tp_btf/kvm_vm_set_mem_attributes")
int BPF_PROG(gmt_tp_setattr, gfn_t start, gfn_t end, unsigned long attr)
{
	gmt_marker(GMT_PH_ATTR_TP);
	/* the kernel's copy of G1's range: the policy's TOCTOU check */
	gmt_pol_toctou_check(GMT_GEN_G1, start << GMT_PAGE_SHIFT, (end - start) << GMT_PAGE_SHIFT,
			     attr);
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

/* true when the folio fails the check (snapshot taken, not yet valid) */
static __always_inline bool gmt_snap_folio(struct gmt_inflight *in, struct folio *f, __u32 extra)
{
	struct gmt_folio_raw raw;

	gmt_folio_read_check(f, &raw);
	if (!gmt_folio_check_fails(&raw, extra))
		return false;
	gmt_folio_read_rest(f, &raw);
	gmt_folio_snap_fill(&raw, extra, &in->convert.folio);
	in->convert.folio.valid = 0;	/* a candidate until the kernel says EAGAIN here */
	return true;
}

/* first unsafe folio of the batch from slot `from` on, with the batch's +1 */
static __always_inline void gmt_scan_batch(struct gmt_inflight *in, struct folio_batch *fbatch,
					   __u32 from)
{
	unsigned char nr = BPF_CORE_READ(fbatch, nr);
	int i;

	gmt_folio_drop(in);
	for (i = 0; i < 31; i++) {	/* PAGEVEC_SIZE */
		struct folio *f = NULL;

		if (i >= nr)
			break;
		if (i < from)
			continue;
		if (GMT_CHK(GMT_SITE_FOLIO_BATCH,
			    bpf_probe_read_kernel(&f, sizeof(f), &fbatch->folios[i])))
			break;
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

GMT_RETURN_TWINS(gmt_fx_lrudrain, gmt_kr_lrudrain, lru_add_drain_all, gmt_recheck_after_drain())

/* filemap_get_folios: fexit sees the batch in its arguments; the kprobe twin
 * keeps it for its kretprobe */
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
	if (GMT_CHK(GMT_SITE_G3_ERR_INDEX,
		    bpf_probe_read_kernel(&idx, sizeof(idx), (void *)err_index_ptr))) {
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
	/* after the fact here (fexit): reported, a kill comes after the conversion */
	gmt_pol_toctou_check(GMT_GEN_G3, start << GMT_PAGE_SHIFT, nr_pages << GMT_PAGE_SHIFT,
			     attrs);
	return 0;
}

SEC("kprobe/__kvm_gmem_set_attributes")
int BPF_KPROBE(gmt_kp_g3_set, struct inode *inode, unsigned long start, unsigned long nr_pages,
	       __u64 attrs, unsigned long *err_index)
{
	struct gmt_inflight *in = gmt_converting();

	if (in && in->k_start_ns)
		in->k_err_index = (__u64)err_index;
	/* before the conversion: the policy's TOCTOU check */
	gmt_pol_toctou_check(GMT_GEN_G3, start << GMT_PAGE_SHIFT, nr_pages << GMT_PAGE_SHIFT,
			     attrs);
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
