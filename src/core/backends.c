// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "backends.h"

/*
 * Renames the candidate lists cover:
 * - kvm_mmu_invalidate_begin -> kvm_mmu_invalidate_start: in 7.x (the name on
 *   this project's 6.18 host is _begin, in Debian's 7.3 source _start);
 *   KERNEL-PATHS.md section 6.1.
 * - the G2/G3 handlers are both kvm_gmem_ioctl, the guest_memfd file's
 *   .unlocked_ioctl (2025 RFC v2 04/51; 2026 series v7/v8).
 */
#define INV_START { "kvm_mmu_invalidate_start", "kvm_mmu_invalidate_begin" }
/* kvm_destroy_vm is static: where it is inlined into kvm_put_kvm (not in
 * BTF), kvm_arch_destroy_vm, its only arch hook, stands in */
#define VM_DESTROY { "kvm_destroy_vm", "kvm_arch_destroy_vm" }

const struct gmt_prog_spec gmt_prog_specs[] = {
	/* uAPI: the event source everywhere */
	{ "gmt_ioctl_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_ioctl",
	  GMT_PS_REQUIRED, "conversion, gmem create, memslot and VM create ioctls: start, arguments", NULL, { NULL }, 0 },
	{ "gmt_ioctl_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_ioctl",
	  GMT_PS_REQUIRED, "syscall latency, return value, error_offset on EAGAIN, per-VM stats", NULL, { NULL }, 0 },
	{ "gmt_falc_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_fallocate",
	  GMT_PS_CONTEXT, "fallocate (punch hole / allocate) on a guest_memfd: start", NULL, { NULL }, 0 },
	{ "gmt_falc_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_fallocate",
	  GMT_PS_CONTEXT, "fallocate on a guest_memfd: latency and result", NULL, { NULL }, 0 },
	{ "gmt_fork", GMT_BE_TP_BTF, "tp_btf sched_process_fork",
	  GMT_PS_FOLLOW, "with -p or -- CMD: children of traced processes are traced too", NULL, { NULL }, 0 },
	{ "gmt_task_exit", GMT_BE_TP_BTF, "tp_btf sched_process_exit",
	  GMT_PS_FOLLOW | GMT_PS_GUEST,
	  "exited processes leave the pid filter; a vCPU thread's open guest request is reported",
	  NULL, { NULL }, 0 },
	{ "gmt_greq_flush", GMT_BE_ITER, "iter task", GMT_PS_GUEST,
	  "at the end: guest requests still open are reported as incomplete", NULL, { NULL }, 0 },
	{ "gmt_vm_sweep", GMT_BE_ITER, "iter task_file", 0,
	  "VMs no file refers to any more are gone: their name, memslots and stats slot end",
	  NULL, { NULL }, 0 },

	/* kernel side: a VM's identity ends when the kernel destroys it */
	{ "gmt_fe_vmgone", GMT_BE_FENTRY, "fentry kvm_destroy_vm", 0,
	  "VM release: its name, memslots and stats slot end at once", "vm_release",
	  VM_DESTROY, 1 },
	{ "gmt_kp_vmgone", GMT_BE_KPROBE, "kprobe kvm_destroy_vm", 0,
	  "VM release: its name, memslots and stats slot end at once", "vm_release",
	  VM_DESTROY, 1 },

	/* kernel side: enrich the conversion the uAPI programs track */
	{ "gmt_fe_vm_ioctl", GMT_BE_FENTRY, "fentry kvm_vm_ioctl", 0,
	  "G1 in-kernel latency: VM ioctl handler entry", "g1_kernel_latency",
	  { "kvm_vm_ioctl" }, 2 },
	{ "gmt_fx_vm_ioctl", GMT_BE_FENTRY, "fexit kvm_vm_ioctl", 0,
	  "G1 in-kernel latency: VM ioctl handler return", "g1_kernel_latency",
	  { "kvm_vm_ioctl" }, 2 },
	{ "gmt_kp_vm_ioctl", GMT_BE_KPROBE, "kprobe kvm_vm_ioctl", 0,
	  "G1 in-kernel latency: VM ioctl handler entry", "g1_kernel_latency",
	  { "kvm_vm_ioctl" }, 2 },
	{ "gmt_kr_vm_ioctl", GMT_BE_KPROBE, "kretprobe kvm_vm_ioctl", 0,
	  "G1 in-kernel latency: VM ioctl handler return", "g1_kernel_latency",
	  { "kvm_vm_ioctl" }, 0 },
	{ "gmt_fe_gmem_ioc", GMT_BE_FENTRY, "fentry kvm_gmem_ioctl", GMT_PS_GMEM_IOCTL,
	  "G2/G3 in-kernel latency: guest_memfd ioctl handler entry", "gmem_kernel_latency",
	  { "kvm_gmem_ioctl" }, 2 },
	{ "gmt_fx_gmem_ioc", GMT_BE_FENTRY, "fexit kvm_gmem_ioctl", GMT_PS_GMEM_IOCTL,
	  "G2/G3 in-kernel latency: guest_memfd ioctl handler return", "gmem_kernel_latency",
	  { "kvm_gmem_ioctl" }, 2 },
	{ "gmt_kp_gmem_ioc", GMT_BE_KPROBE, "kprobe kvm_gmem_ioctl", GMT_PS_GMEM_IOCTL,
	  "G2/G3 in-kernel latency: guest_memfd ioctl handler entry", "gmem_kernel_latency",
	  { "kvm_gmem_ioctl" }, 2 },
	{ "gmt_kr_gmem_ioc", GMT_BE_KPROBE, "kretprobe kvm_gmem_ioctl", GMT_PS_GMEM_IOCTL,
	  "G2/G3 in-kernel latency: guest_memfd ioctl handler return", "gmem_kernel_latency",
	  { "kvm_gmem_ioctl" }, 0 },
	{ "gmt_fe_invstart", GMT_BE_FENTRY, "fentry kvm_mmu_invalidate_start", 0,
	  "phase: MMU invalidation starts (SPTEs zapped)", "phase_invalidate",
	  INV_START, 1 },
	{ "gmt_fe_invend", GMT_BE_FENTRY, "fentry kvm_mmu_invalidate_end", 0,
	  "phase: MMU invalidation ends", "phase_invalidate",
	  { "kvm_mmu_invalidate_end" }, 1 },
	{ "gmt_kp_invstart", GMT_BE_KPROBE, "kprobe kvm_mmu_invalidate_start", 0,
	  "phase: MMU invalidation starts (SPTEs zapped)", "phase_invalidate",
	  INV_START, 0 },
	{ "gmt_kp_invend", GMT_BE_KPROBE, "kprobe kvm_mmu_invalidate_end", 0,
	  "phase: MMU invalidation ends", "phase_invalidate",
	  { "kvm_mmu_invalidate_end" }, 0 },
	{ "gmt_fe_preset", GMT_BE_FENTRY, "fentry kvm_arch_pre_set_memory_attributes", 0,
	  "phase: G1 attribute change starts (SPTEs zapped, per memslot)", "phase_g1_attributes",
	  { "kvm_arch_pre_set_memory_attributes" }, 2 },
	{ "gmt_fe_postset", GMT_BE_FENTRY, "fentry kvm_arch_post_set_memory_attributes", 0,
	  "phase: G1 attributes stored, arch updated", "phase_g1_attributes",
	  { "kvm_arch_post_set_memory_attributes" }, 2 },
	{ "gmt_kp_preset", GMT_BE_KPROBE, "kprobe kvm_arch_pre_set_memory_attributes", 0,
	  "phase: G1 attribute change starts (SPTEs zapped, per memslot)", "phase_g1_attributes",
	  { "kvm_arch_pre_set_memory_attributes" }, 2 },
	{ "gmt_kp_postset", GMT_BE_KPROBE, "kprobe kvm_arch_post_set_memory_attributes", 0,
	  "phase: G1 attributes stored, arch updated", "phase_g1_attributes",
	  { "kvm_arch_post_set_memory_attributes" }, 2 },
	{ "gmt_fe_unmap", GMT_BE_FENTRY, "fentry unmap_mapping_pages", GMT_PS_GMEM_IOCTL,
	  "phase: host userspace mappings zapped before a to-private check", "phase_unmap",
	  { "unmap_mapping_pages" }, 0 },
	{ "gmt_kp_unmap", GMT_BE_KPROBE, "kprobe unmap_mapping_pages", GMT_PS_GMEM_IOCTL,
	  "phase: host userspace mappings zapped before a to-private check", "phase_unmap",
	  { "unmap_mapping_pages" }, 0 },
	{ "gmt_fe_lrudrain", GMT_BE_FENTRY, "fentry lru_add_drain_all", GMT_PS_GMEM_IOCTL,
	  "phase: LRU batches drained after an unsafe refcount (G3 v8)", "phase_lru_drain",
	  { "lru_add_drain_all" }, 0 },
	{ "gmt_kp_lrudrain", GMT_BE_KPROBE, "kprobe lru_add_drain_all", GMT_PS_GMEM_IOCTL,
	  "phase: LRU batches drained after an unsafe refcount (G3 v8)", "phase_lru_drain",
	  { "lru_add_drain_all" }, 0 },
	{ "gmt_fx_lrudrain", GMT_BE_FENTRY, "fexit lru_add_drain_all", GMT_PS_GMEM_IOCTL,
	  "refcount check: the candidate blocker read again after the drain", "phase_lru_drain",
	  { "lru_add_drain_all" }, 0 },
	{ "gmt_kr_lrudrain", GMT_BE_KPROBE, "kretprobe lru_add_drain_all", GMT_PS_GMEM_IOCTL,
	  "refcount check: the candidate blocker read again after the drain", "phase_lru_drain",
	  { "lru_add_drain_all" }, 0 },
	{ "gmt_fx_folios", GMT_BE_FENTRY, "fexit filemap_get_folios", GMT_PS_GMEM_IOCTL,
	  "refcount check: the exact counters of the folio that blocks", "refcount_check",
	  { "filemap_get_folios" }, 4 },
	{ "gmt_kp_folios", GMT_BE_KPROBE, "kprobe filemap_get_folios", GMT_PS_GMEM_IOCTL,
	  "refcount check: remember the folio batch", "refcount_check",
	  { "filemap_get_folios" }, 4 },
	{ "gmt_kr_folios", GMT_BE_KPROBE, "kretprobe filemap_get_folios", GMT_PS_GMEM_IOCTL,
	  "refcount check: the exact counters of the folio that blocks", "refcount_check",
	  { "filemap_get_folios" }, 0 },
	/* G3 (v8 13/46): the check's verdict where the kernel produces it */
	{ "gmt_fx_g3_set", GMT_BE_FENTRY, "fexit __kvm_gmem_set_attributes", GMT_PS_GMEM_IOCTL,
	  "G3 check result: return value and *err_index, the blocking folio confirmed there",
	  "g3_check_result", { "__kvm_gmem_set_attributes" }, 5 },
	{ "gmt_kp_g3_set", GMT_BE_KPROBE, "kprobe __kvm_gmem_set_attributes", GMT_PS_GMEM_IOCTL,
	  "G3 check result: remember err_index", "g3_check_result",
	  { "__kvm_gmem_set_attributes" }, 5 },
	{ "gmt_kr_g3_set", GMT_BE_KPROBE, "kretprobe __kvm_gmem_set_attributes", GMT_PS_GMEM_IOCTL,
	  "G3 check result: return value and *err_index, the blocking folio confirmed there",
	  "g3_check_result", { "__kvm_gmem_set_attributes" }, 0 },
	{ "gmt_tp_setattr", GMT_BE_TP_BTF, "tp_btf kvm_vm_set_mem_attributes", 0,
	  "phase: G1's kvm_vm_set_mem_attributes tracepoint (before slots_lock)",
	  "phase_attr_tracepoint", { "kvm_vm_set_mem_attributes" }, 0 },
};

const int gmt_nr_prog_specs = sizeof(gmt_prog_specs) / sizeof(gmt_prog_specs[0]);

const char *gmt_backend_name(enum gmt_backend be)
{
	static const char *const n[GMT_BE_MAX] = {
		[GMT_BE_UAPI] = "uapi", [GMT_BE_TP_BTF] = "tp_btf",
		[GMT_BE_FENTRY] = "fentry", [GMT_BE_KPROBE] = "kprobe",
		[GMT_BE_LSM] = "lsm", [GMT_BE_ITER] = "iter",
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
