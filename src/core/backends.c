// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "backends.h"

/*
 * Candidate targets, newest name first, each with the change that gave the
 * kernel that name. Where the renaming commit could not be identified (no
 * kernel history is reachable from this project's machines), the kernels it
 * was seen in are named instead.
 */
#define G3_V8 "2026 series \"guest_memfd: In-place conversion support\" v8, " \
	"<20260618-gmem-inplace-conversion-v8-0-9d2959357853@google.com>"
#define ATTRS_6_8 "6.8, \"KVM: guest_memfd() and per-page attributes\" v14, " \
	"<20231105163040.14904-1-pbonzini@redhat.com>"

#define T_VM_IOCTL { "kvm_vm_ioctl", "the VM fd's .unlocked_ioctl since KVM's merge (2.6.20)" }
#define T_GMEM_IOCTL { "kvm_gmem_ioctl", "guest_memfd's .unlocked_ioctl: 2025 RFC v2 04/51 " \
		       "(G2), and " G3_V8 " (G3)" }
#define T_INV_START							\
	{ "kvm_mmu_invalidate_start", "seen in Debian's 7.3 source (renaming commit not " \
	  "identified here)" },						\
	{ "kvm_mmu_invalidate_begin", "6.1, \"KVM: Rename mmu_notifier_* to mmu_invalidate_*\"; " \
	  "the name on 6.18" }
#define T_INV_END { "kvm_mmu_invalidate_end", "6.1, \"KVM: Rename mmu_notifier_* to " \
		    "mmu_invalidate_*\"" }
#define T_VM_DESTROY							\
	{ "kvm_destroy_vm", "static in virt/kvm/kvm_main.c; absent from BTF where inlined " \
	  "into kvm_put_kvm" },						\
	{ "kvm_arch_destroy_vm", "its only arch hook, every architecture has one" }
#define T_PRE_SET { "kvm_arch_pre_set_memory_attributes", ATTRS_6_8 }
#define T_POST_SET { "kvm_arch_post_set_memory_attributes", ATTRS_6_8 }
#define T_UNMAP { "unmap_mapping_pages", "mm, since 4.16" }
#define T_LRU_DRAIN { "lru_add_drain_all", "mm; called by the G3 check since " G3_V8 " 13/46" }
#define T_GET_FOLIOS { "filemap_get_folios", "6.0, \"filemap: Add filemap_get_folios()\"" }
#define T_G3_SET { "__kvm_gmem_set_attributes", G3_V8 " 13/46" }
/* GUP's per-folio pin and unpin (mm/gup.c), out of line with BTF on the
 * in-place kernel (../shared/kernels/inplace-v8-7.2/BUILD.md) */
#define T_GRAB { "try_grab_folio", "6.10, \"mm: gup: stop abusing try_grab_folio\" (Yang " \
		 "Shi) gave the slow path's grab this name and signature" }
#define T_GRAB_FAST { "try_grab_folio_fast", "6.10, \"mm: gup: stop abusing try_grab_folio\" " \
		      "(Yang Shi): gup-fast's grab; static in mm/gup.c" }
#define T_GUP_PUT { "gup_put_folio", "5.18, \"mm/gup: Add gup_put_folio()\" (Matthew " \
		    "Wilcox); static in mm/gup.c, absent from BTF where inlined" }
#define T_UNPIN_UFOLIO { "unpin_user_folio", "6.13, \"mm: add unpin_user_folio\" (Vivek " \
			  "Kasireddy; io_uring's buffers since 6.13)" }
#define T_UNPIN_FOLIO { "unpin_folio", "6.11, \"mm/gup: introduce memfd_pin_folios() for " \
			 "pinning memfd folios\"" }
#define T_UNPIN_UPAGE { "unpin_user_page", "5.6, \"mm/gup: introduce pin_user_pages*() and " \
			 "FOLL_PIN\"" }
#define T_ATTR_TP { "kvm_vm_set_mem_attributes", ATTRS_6_8 "; under " \
		    "CONFIG_KVM_VM_MEMORY_ATTRIBUTES since " G3_V8 " 02/46" }

#define TRACING { GMT_BE_FENTRY, GMT_BE_KPROBE }, 2
#define ANY_KERNEL NULL, NULL
#define GMEM_ONLY "gmem_kernel_latency", "only with a G2/G3 kernel (no kvm_gmem_ioctl in this kernel)"

const struct gmt_feature gmt_features[] = {
	{ "vm_release", "a VM's identity ends when the kernel destroys it", TRACING, ANY_KERNEL },
	{ "g1_kernel_latency", "G1 in-kernel latency (the VM ioctl handler)", TRACING, ANY_KERNEL },
	{ "gmem_kernel_latency", "G2/G3 in-kernel latency (the guest_memfd ioctl handler)", TRACING, ANY_KERNEL },
	{ "phase_invalidate", "phases: MMU invalidation start and end", TRACING, ANY_KERNEL },
	{ "phase_g1_attributes", "phases: G1 attribute change (pre/post hooks)", TRACING, ANY_KERNEL },
	{ "phase_unmap", "phase: host mappings zapped before a to-private check", TRACING,
	  GMEM_ONLY },
	{ "phase_lru_drain", "phase: LRU batches drained after an unsafe refcount", TRACING,
	  GMEM_ONLY },
	{ "refcount_check", "the exact counters of the folio that blocks", TRACING, GMEM_ONLY },
	{ "g3_check_result", "G3 check result: return value and *err_index", TRACING, GMEM_ONLY },
	{ "phase_attr_tracepoint", "phase: G1's kvm_vm_set_mem_attributes tracepoint",
	  { GMT_BE_TP_BTF }, 1, ANY_KERNEL },
	{ "kernel_pins", "trace --kernel-pins: FOLL_PIN pins and unpins of guest_memfd folios "
	  "in the kernel (any pinner), with kernel and user stacks", TRACING, ANY_KERNEL },
	{ "kernel_unpins_api", "trace --kernel-pins: unpins through unpin_user_folio, unpin_folio "
	  "and unpin_user_page, which may inline gup_put_folio", TRACING, ANY_KERNEL },
	{ "kernel_pins_fast", "trace --kernel-pins: pins taken by gup-fast (O_DIRECT), and the "
	  "long-term ones it takes and puts back at once", TRACING, ANY_KERNEL },
};

const int gmt_nr_features = sizeof(gmt_features) / sizeof(gmt_features[0]);

/* a program that stands alone: uAPI tracepoints, task hooks, iterators */
#define ALONE(p, be, h, w, g) { .prog = p, .backend = be, .hook = h, .want = w, .gives = g }
/* a kernel-side program of a feature */
#define KSIDE(p, be, h, f, g, n, ...)					\
	{ .prog = p, .backend = be, .hook = h, .feature = f, .gives = g, .nr_args = n, \
	  .targets = { __VA_ARGS__ } }
/* ... that only some configurations want (w: its rule) */
#define KSIDE_WANT(p, be, h, f, w, g, n, ...)				\
	{ .prog = p, .backend = be, .hook = h, .feature = f, .want = w, .gives = g, \
	  .nr_args = n, .targets = { __VA_ARGS__ } }

const struct gmt_prog_spec gmt_prog_specs[] = {
	/* uAPI: the event source everywhere */
	{ .prog = "gmt_ioctl_enter", .backend = GMT_BE_UAPI,
	  .hook = "tracepoint syscalls:sys_enter_ioctl", .required = true,
	  .gives = "conversion, gmem create, memslot and VM create ioctls: start, arguments" },
	{ .prog = "gmt_ioctl_exit", .backend = GMT_BE_UAPI,
	  .hook = "tracepoint syscalls:sys_exit_ioctl", .required = true,
	  .gives = "syscall latency, return value, error_offset on EAGAIN, per-VM stats" },
	ALONE("gmt_falc_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_fallocate",
	      GMT_WANT_CONTEXT, "fallocate (punch hole / allocate) on a guest_memfd: start"),
	ALONE("gmt_falc_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_fallocate",
	      GMT_WANT_CONTEXT, "fallocate on a guest_memfd: latency and result"),
	ALONE("gmt_fork", GMT_BE_TP_BTF, "tp_btf sched_process_fork", GMT_WANT_FOLLOW,
	      "with -p or -- CMD: children of traced processes are traced too"),
	ALONE("gmt_task_exit", GMT_BE_TP_BTF, "tp_btf sched_process_exit",
	      GMT_WANT_FOLLOW_OR_GUEST,
	      "exited processes leave the pid filter; a vCPU thread's open guest request is reported"),
	ALONE("gmt_greq_flush", GMT_BE_ITER, "iter task", GMT_WANT_GUEST,
	      "at the end: guest requests still open are reported as incomplete"),
	ALONE("gmt_vm_sweep", GMT_BE_ITER, "iter task_file", GMT_WANT_ALWAYS,
	      "VMs no file refers to any more are gone: their name, memslots and stats slot end"),

	/* holders (--holders): guest_memfd mmaps and the io_uring buffers over them */
	ALONE("gmt_hmmap_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_mmap",
	      GMT_WANT_HOLDERS, "holders: an mmap of a guest_memfd starts (anonymous ones stop at the fd)"),
	ALONE("gmt_hmmap_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_mmap",
	      GMT_WANT_HOLDERS, "holders: where the guest_memfd mmap landed"),
	ALONE("gmt_hmunmap", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_munmap",
	      GMT_WANT_HOLDERS, "holders: guest_memfd mmaps trimmed or dropped"),
	ALONE("gmt_hureg_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_io_uring_register",
	      GMT_WANT_HOLDERS, "holders: io_uring buffer (un)registration starts"),
	ALONE("gmt_hureg_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_io_uring_register",
	      GMT_WANT_HOLDERS,
	      "holders: io_uring buffers over guest_memfd mmaps start (with the user stack) or end"),
	ALONE("gmt_hdma_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_ioctl",
	      GMT_WANT_HOLDERS,
	      "holders: VFIO_IOMMU_(UN)MAP_DMA / IOMMU_IOAS_(UN)MAP on a container / iommufd start"),
	ALONE("gmt_hdma_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_ioctl", GMT_WANT_HOLDERS,
	      "holders: VFIO / iommufd DMA mappings over guest_memfd mmaps start (with the user "
	      "stack) or end"),
	ALONE("gmt_hclose", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_close",
	      GMT_WANT_HOLDERS, "holders: a closed io_uring ring, VFIO container or iommufd's "
	      "holders end"),
	ALONE("gmt_hexit", GMT_BE_TP_BTF, "tp_btf sched_process_exit", GMT_WANT_HOLDERS,
	      "holders: an exited process's holders end, its guest_memfd mmaps are forgotten"),

	/* policy enforcement: only `enforce` loads these, one of the two (it
	 * tries the LSM first, then fmod_ret: src/cmd/enforce.c) */
	ALONE("gmt_pol_lsm", GMT_BE_LSM, "lsm.s file_ioctl", GMT_WANT_ENFORCE_LSM,
	      "policy: veto or report conversion ioctls (BPF LSM, sleepable)"),
	ALONE("gmt_pol_fmod", GMT_BE_FMOD_RET, "fmod_ret security_file_ioctl",
	      GMT_WANT_ENFORCE_FMOD,
	      "policy: veto or report conversion ioctls (fallback where BPF LSM is off)"),

	/* refs: its own object, attached per process by gmemtrace refs */
	{ .prog = "gmt_refs_iter", .object = "refs", .backend = GMT_BE_ITER,
	  .hook = "iter task_file", .required = true,
	  .gives = "refs: every guest_memfd's page cache, folio by folio, with its references" },
	{ .prog = "gmt_refs_rings", .object = "refs", .backend = GMT_BE_ITER,
	  .hook = "iter task_file", .want = GMT_WANT_HOLDERS,
	  .gives = "refs --holders: io_uring rings' registered buffers (holders from before "
		   "gmemtrace ran); where it does not verify, refs runs without it and says why" },
	{ .prog = "gmt_refs_dma", .object = "refs", .backend = GMT_BE_ITER,
	  .hook = "iter task_file", .want = GMT_WANT_HOLDERS,
	  .gives = "refs --holders: VFIO type1 containers' DMA mappings (holders from before "
		   "gmemtrace ran); where it does not verify, refs runs without it and says why" },

	/* kernel side: a VM's identity ends when the kernel destroys it */
	KSIDE("gmt_fe_vmgone", GMT_BE_FENTRY, "fentry kvm_destroy_vm", "vm_release",
	      "VM release: its name, memslots and stats slot end at once", 1, T_VM_DESTROY),
	KSIDE("gmt_kp_vmgone", GMT_BE_KPROBE, "kprobe kvm_destroy_vm", "vm_release",
	      "VM release: its name, memslots and stats slot end at once", 1, T_VM_DESTROY),

	/* kernel side: enrich the conversion the uAPI programs track */
	KSIDE("gmt_fe_vm_ioctl", GMT_BE_FENTRY, "fentry kvm_vm_ioctl", "g1_kernel_latency",
	      "G1 in-kernel latency: VM ioctl handler entry", 2, T_VM_IOCTL),
	KSIDE("gmt_fx_vm_ioctl", GMT_BE_FENTRY, "fexit kvm_vm_ioctl", "g1_kernel_latency",
	      "G1 in-kernel latency: VM ioctl handler return", 2, T_VM_IOCTL),
	KSIDE("gmt_kp_vm_ioctl", GMT_BE_KPROBE, "kprobe kvm_vm_ioctl", "g1_kernel_latency",
	      "G1 in-kernel latency: VM ioctl handler entry", 2, T_VM_IOCTL),
	KSIDE("gmt_kr_vm_ioctl", GMT_BE_KPROBE, "kretprobe kvm_vm_ioctl", "g1_kernel_latency",
	      "G1 in-kernel latency: VM ioctl handler return", 0, T_VM_IOCTL),
	KSIDE("gmt_fe_gmem_ioc", GMT_BE_FENTRY, "fentry kvm_gmem_ioctl", "gmem_kernel_latency",
	      "G2/G3 in-kernel latency: guest_memfd ioctl handler entry", 2, T_GMEM_IOCTL),
	KSIDE("gmt_fx_gmem_ioc", GMT_BE_FENTRY, "fexit kvm_gmem_ioctl", "gmem_kernel_latency",
	      "G2/G3 in-kernel latency: guest_memfd ioctl handler return", 2, T_GMEM_IOCTL),
	KSIDE("gmt_kp_gmem_ioc", GMT_BE_KPROBE, "kprobe kvm_gmem_ioctl", "gmem_kernel_latency",
	      "G2/G3 in-kernel latency: guest_memfd ioctl handler entry", 2, T_GMEM_IOCTL),
	KSIDE("gmt_kr_gmem_ioc", GMT_BE_KPROBE, "kretprobe kvm_gmem_ioctl", "gmem_kernel_latency",
	      "G2/G3 in-kernel latency: guest_memfd ioctl handler return", 0, T_GMEM_IOCTL),
	KSIDE("gmt_fe_invstart", GMT_BE_FENTRY, "fentry kvm_mmu_invalidate_start",
	      "phase_invalidate", "phase: MMU invalidation starts (SPTEs zapped)", 1, T_INV_START),
	KSIDE("gmt_fe_invend", GMT_BE_FENTRY, "fentry kvm_mmu_invalidate_end", "phase_invalidate",
	      "phase: MMU invalidation ends", 1, T_INV_END),
	KSIDE("gmt_kp_invstart", GMT_BE_KPROBE, "kprobe kvm_mmu_invalidate_start",
	      "phase_invalidate", "phase: MMU invalidation starts (SPTEs zapped)", 0, T_INV_START),
	KSIDE("gmt_kp_invend", GMT_BE_KPROBE, "kprobe kvm_mmu_invalidate_end", "phase_invalidate",
	      "phase: MMU invalidation ends", 0, T_INV_END),
	KSIDE("gmt_fe_preset", GMT_BE_FENTRY, "fentry kvm_arch_pre_set_memory_attributes",
	      "phase_g1_attributes", "phase: G1 attribute change starts (SPTEs zapped, per memslot)",
	      2, T_PRE_SET),
	KSIDE("gmt_fe_postset", GMT_BE_FENTRY, "fentry kvm_arch_post_set_memory_attributes",
	      "phase_g1_attributes", "phase: G1 attributes stored, arch updated", 2, T_POST_SET),
	KSIDE("gmt_kp_preset", GMT_BE_KPROBE, "kprobe kvm_arch_pre_set_memory_attributes",
	      "phase_g1_attributes", "phase: G1 attribute change starts (SPTEs zapped, per memslot)",
	      2, T_PRE_SET),
	KSIDE("gmt_kp_postset", GMT_BE_KPROBE, "kprobe kvm_arch_post_set_memory_attributes",
	      "phase_g1_attributes", "phase: G1 attributes stored, arch updated", 2, T_POST_SET),
	KSIDE("gmt_fe_unmap", GMT_BE_FENTRY, "fentry unmap_mapping_pages", "phase_unmap",
	      "phase: host userspace mappings zapped before a to-private check", 0, T_UNMAP),
	KSIDE("gmt_kp_unmap", GMT_BE_KPROBE, "kprobe unmap_mapping_pages", "phase_unmap",
	      "phase: host userspace mappings zapped before a to-private check", 0, T_UNMAP),
	KSIDE("gmt_fe_lrudrain", GMT_BE_FENTRY, "fentry lru_add_drain_all", "phase_lru_drain",
	      "phase: LRU batches drained after an unsafe refcount (G3 v8)", 0, T_LRU_DRAIN),
	KSIDE("gmt_kp_lrudrain", GMT_BE_KPROBE, "kprobe lru_add_drain_all", "phase_lru_drain",
	      "phase: LRU batches drained after an unsafe refcount (G3 v8)", 0, T_LRU_DRAIN),
	KSIDE("gmt_fx_lrudrain", GMT_BE_FENTRY, "fexit lru_add_drain_all", "phase_lru_drain",
	      "refcount check: the candidate blocker read again after the drain", 0, T_LRU_DRAIN),
	KSIDE("gmt_kr_lrudrain", GMT_BE_KPROBE, "kretprobe lru_add_drain_all", "phase_lru_drain",
	      "refcount check: the candidate blocker read again after the drain", 0, T_LRU_DRAIN),
	KSIDE("gmt_fx_folios", GMT_BE_FENTRY, "fexit filemap_get_folios", "refcount_check",
	      "refcount check: the exact counters of the folio that blocks", 4, T_GET_FOLIOS),
	KSIDE("gmt_kp_folios", GMT_BE_KPROBE, "kprobe filemap_get_folios", "refcount_check",
	      "refcount check: remember the folio batch", 4, T_GET_FOLIOS),
	KSIDE("gmt_kr_folios", GMT_BE_KPROBE, "kretprobe filemap_get_folios", "refcount_check",
	      "refcount check: the exact counters of the folio that blocks", 0, T_GET_FOLIOS),
	/* G3: the check's verdict where the kernel produces it */
	KSIDE("gmt_fx_g3_set", GMT_BE_FENTRY, "fexit __kvm_gmem_set_attributes", "g3_check_result",
	      "G3 check result: return value and *err_index, the blocking folio confirmed there",
	      5, T_G3_SET),
	KSIDE("gmt_kp_g3_set", GMT_BE_KPROBE, "kprobe __kvm_gmem_set_attributes", "g3_check_result",
	      "G3 check result: remember err_index", 5, T_G3_SET),
	KSIDE("gmt_kr_g3_set", GMT_BE_KPROBE, "kretprobe __kvm_gmem_set_attributes",
	      "g3_check_result",
	      "G3 check result: return value and *err_index, the blocking folio confirmed there",
	      0, T_G3_SET),
	KSIDE("gmt_tp_setattr", GMT_BE_TP_BTF, "tp_btf kvm_vm_set_mem_attributes",
	      "phase_attr_tracepoint", "phase: G1's kvm_vm_set_mem_attributes tracepoint "
	      "(before slots_lock)", 0, T_ATTR_TP),

	/* kernel side, trace --kernel-pins: pins whoever takes them (bpf/gup_pins.bpf.c) */
	KSIDE_WANT("gmt_fx_pin", GMT_BE_FENTRY, "fexit try_grab_folio", "kernel_pins",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN taken on a guest_memfd folio", 3,
		   T_GRAB),
	KSIDE_WANT("gmt_fx_pin_fast", GMT_BE_FENTRY, "fexit try_grab_folio_fast", "kernel_pins_fast",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN taken by gup-fast (O_DIRECT; a "
		   "long-term pin it refuses shows as a pin and its unpin)", 3, T_GRAB_FAST),
	KSIDE_WANT("gmt_fe_unpin", GMT_BE_FENTRY, "fentry gup_put_folio", "kernel_pins",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN released on a guest_memfd folio", 3,
		   T_GUP_PUT),
	KSIDE_WANT("gmt_kp_pin", GMT_BE_KPROBE, "kprobe try_grab_folio", "kernel_pins",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN asked on a guest_memfd folio "
		   "(at entry: a refused grab shows too)", 3, T_GRAB),
	KSIDE_WANT("gmt_kp_pin_fast", GMT_BE_KPROBE, "kprobe try_grab_folio_fast", "kernel_pins_fast",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN asked by gup-fast (at entry: a "
		   "refused grab shows too)", 3, T_GRAB_FAST),
	KSIDE_WANT("gmt_kp_unpin", GMT_BE_KPROBE, "kprobe gup_put_folio", "kernel_pins",
		   GMT_WANT_KERNEL_PINS, "kernel pins: a FOLL_PIN released on a guest_memfd folio", 3,
		   T_GUP_PUT),
	/* unpin APIs that may inline gup_put_folio (io_uring: unpin_user_folio) */
#define UNPIN_API(fe, fx, kp, kr, fn, t)							\
	KSIDE_WANT(fe, GMT_BE_FENTRY, "fentry " fn, "kernel_unpins_api", GMT_WANT_KERNEL_PINS,	\
		   "kernel pins: a FOLL_PIN released through " fn, 1, t),			\
	KSIDE_WANT(fx, GMT_BE_FENTRY, "fexit " fn, "kernel_unpins_api", GMT_WANT_KERNEL_PINS,	\
		   "kernel pins: " fn " returned", 1, t),					\
	KSIDE_WANT(kp, GMT_BE_KPROBE, "kprobe " fn, "kernel_unpins_api", GMT_WANT_KERNEL_PINS,	\
		   "kernel pins: a FOLL_PIN released through " fn, 1, t),			\
	KSIDE_WANT(kr, GMT_BE_KPROBE, "kretprobe " fn, "kernel_unpins_api",			\
		   GMT_WANT_KERNEL_PINS, "kernel pins: " fn " returned", 1, t)
	UNPIN_API("gmt_fe_unpin_uf", "gmt_fx_unpin_uf", "gmt_kp_unpin_uf",
		  "gmt_kr_unpin_uf", "unpin_user_folio", T_UNPIN_UFOLIO),
	UNPIN_API("gmt_fe_unpin_f", "gmt_fx_unpin_f", "gmt_kp_unpin_f",
		  "gmt_kr_unpin_f", "unpin_folio", T_UNPIN_FOLIO),
	UNPIN_API("gmt_fe_unpin_up", "gmt_fx_unpin_up", "gmt_kp_unpin_up",
		  "gmt_kr_unpin_up", "unpin_user_page", T_UNPIN_UPAGE),
#undef UNPIN_API
};

const int gmt_nr_prog_specs = sizeof(gmt_prog_specs) / sizeof(gmt_prog_specs[0]);

_Static_assert(sizeof(gmt_prog_specs) / sizeof(gmt_prog_specs[0]) <= GMT_MAX_PROGS,
	       "more programs than GMT_MAX_PROGS: raise it");

const char *gmt_backend_name(enum gmt_backend be)
{
	static const char *const n[GMT_BE_MAX] = {
		[GMT_BE_UAPI] = "uapi", [GMT_BE_TP_BTF] = "tp_btf",
		[GMT_BE_FENTRY] = "fentry", [GMT_BE_KPROBE] = "kprobe",
		[GMT_BE_LSM] = "lsm", [GMT_BE_ITER] = "iter",
		[GMT_BE_FMOD_RET] = "fmod_ret",
	};

	return be < GMT_BE_MAX ? n[be] : "?";
}

const struct gmt_prog_spec *gmt_prog_spec_find(const char *prog)
{
	int i;

	for (i = 0; i < gmt_nr_prog_specs; i++)
		if (!strcmp(gmt_prog_specs[i].prog, prog))
			return &gmt_prog_specs[i];
	return NULL;
}

const struct gmt_feature *gmt_feature_find(const char *name)
{
	int i;

	for (i = 0; name && i < gmt_nr_features; i++)
		if (!strcmp(gmt_features[i].name, name))
			return &gmt_features[i];
	return NULL;
}
