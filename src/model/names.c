// SPDX-License-Identifier: GPL-2.0-only
/* The names of the model's enumerations, as records show them. */
#include <errno.h>
#include <stddef.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "names.h"

#define E(x) [x] = #x
static const char *const errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR),
	E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY), E(EFBIG),
	E(ENOSPC), E(ESPIPE), E(EROFS), E(EPIPE), E(ERANGE), E(EDEADLK),
	E(ENOSYS), E(EOVERFLOW), E(EOPNOTSUPP), E(ETIMEDOUT), E(EHWPOISON),
};
#undef E

const char *gmt_errno_name(int err)
{
	if (err == 512)
		return "ERESTARTSYS";	/* leaks to tracepoints on signals */
	if (err <= 0 || (size_t)err >= sizeof(errno_names) / sizeof(errno_names[0]))
		return NULL;
	return errno_names[err];
}

const char *gmt_gen_name(unsigned int gen)
{
	static const char *const n[] = { "-", "G1", "G2", "G3" };

	return gen < GMT_GEN_MAX ? n[gen] : "?";
}

const char *gmt_gen_uapi(unsigned int gen, unsigned int cmd)
{
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
		return "KVM_SET_MEMORY_ATTRIBUTES";
	case GMT_KVM_GMEM_CONVERT_SHARED:
		return "KVM_GMEM_CONVERT_SHARED";
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
		return "KVM_GMEM_CONVERT_PRIVATE";
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		return "KVM_SET_MEMORY_ATTRIBUTES2";
	}
	return gen == GMT_GEN_G2 ? "KVM_GMEM_CONVERT" : "?";
}

const char *gmt_dir_name(unsigned int dir)
{
	return dir == GMT_DIR_TO_PRIVATE ? "to_private" : "to_shared";
}

const char *gmt_event_name(unsigned int type)
{
	switch (type) {
	case GMT_EV_CONVERT:
		return "convert";
	case GMT_EV_GMEM_CREATE:
		return "gmem_create";
	case GMT_EV_MEMSLOT:
		return "memslot";
	case GMT_EV_FALLOCATE:
		return "fallocate";
	case GMT_EV_VM_CREATE:
		return "vm_create";
	case GMT_EV_GUEST_REQ:
		return "guest_request";
	case GMT_EV_VM_GONE:
		return "vm_gone";
	case GMT_EV_HOLDER_START:
		return "holder_start";
	case GMT_EV_HOLDER_END:
		return "holder_end";
	case GMT_EV_POLICY:
		return "policy";
	case GMT_EV_POLICY_TOCTOU:
		return "policy_toctou";
	}
	return "unknown";
}

const char *gmt_source_name(unsigned int src)
{
	switch (src) {
	case GMT_SRC_FENTRY:
		return "fentry";
	case GMT_SRC_KPROBE:
		return "kprobe";
	}
	return "syscall_tp";
}

const char *gmt_phase_name(unsigned int ph)
{
	static const char *const n[GMT_PH_MAX] = {
		[GMT_PH_KERNEL_ENTER] = "kernel_enter",
		[GMT_PH_ATTR_TP] = "attr_tracepoint",
		[GMT_PH_PRE_SET] = "pre_set_attributes",
		[GMT_PH_POST_SET] = "post_set_attributes",
		[GMT_PH_UNMAP] = "unmap",
		[GMT_PH_REFCOUNT] = "refcount_check",
		[GMT_PH_LRU_DRAIN] = "lru_drain",
		[GMT_PH_INVALIDATE_START] = "invalidate_start",
		[GMT_PH_INVALIDATE_END] = "invalidate_end",
		[GMT_PH_KERNEL_EXIT] = "kernel_exit",
	};

	return ph < GMT_PH_MAX ? n[ph] : "?";
}

const char *gmt_vm_end_name(unsigned int how)
{
	switch (how) {
	case GMT_VM_END_REUSED:
		return "address_reused";
	case GMT_VM_END_RELEASED:
		return "released";
	case GMT_VM_END_SWEPT:
		return "no_file_left";
	}
	return "?";
}

const char *gmt_greq_end_name(unsigned int end)
{
	switch (end) {
	case GMT_GREQ_END_REENTRY:
		return "reentry";
	case GMT_GREQ_END_THREAD_EXIT:
		return "thread_exit";
	case GMT_GREQ_END_OTHER_VCPU:
		return "other_vcpu";
	case GMT_GREQ_END_TRACE_END:
		return "tracing_ended";
	}
	return "?";
}

const char *gmt_counter_name(unsigned int c)
{
	static const char *const n[GMT_CNT_MAX] = {
		[GMT_CNT_RB_DROPS] = "ringbuf_drops",
		[GMT_CNT_INFLIGHT_FULL] = "inflight_full",
		[GMT_CNT_INFLIGHT_MISS] = "inflight_miss",
		[GMT_CNT_READ_USER_ERR] = "read_user_errors",
		[GMT_CNT_READ_KERN_ERR] = "read_kernel_errors",
		[GMT_CNT_STATS_FULL] = "stats_map_full",
		[GMT_CNT_WRONG_FD] = "cmd_on_other_fd",
		[GMT_CNT_UNCOUNTED] = "conversions_not_counted",
		[GMT_CNT_VMS_FULL] = "vm_map_full",
		[GMT_CNT_PIDS_FULL] = "followed_pids_full",
		[GMT_CNT_GREQ_LOST] = "guest_requests_lost",
		[GMT_CNT_HOLD_MAPS_FULL] = "holder_mmaps_full",
		[GMT_CNT_HOLD_FULL] = "holder_map_full",
		[GMT_CNT_HOLD_IOV_TRUNC] = "holder_buffers_unread",
		[GMT_CNT_POL_UNCHECKED] = "policy_toctou_unchecked",
		[GMT_CNT_IOMMU_UNWALKED] = "iommu_map_pages_unwalked",
		[GMT_CNT_IOMMU_IOVA_TAKEN] = "iommu_map_iova_taken",
	};

	return c < GMT_CNT_MAX && n[c] ? n[c] : "?";
}

const char *gmt_greq_kind_name(unsigned int kind)
{
	return kind == GMT_GREQ_MAP_GPA_RANGE ? "map_gpa_range" : "memory_fault";
}

const char *gmt_holder_kind_name(unsigned int kind)
{
	static const char *const n[] = {
		[GMT_HOLD_IOURING_BUF] = "io_uring_buffer",
		[GMT_HOLD_VFIO_DMA] = "vfio_dma",
		[GMT_HOLD_IOMMUFD] = "iommufd",
		[GMT_HOLD_GUP_PIN] = "gup_pin",
		[GMT_HOLD_IOMMU_MAP] = "iommu_map",
	};

	return kind < sizeof(n) / sizeof(n[0]) && n[kind] ? n[kind] : "?";
}

/* how a holder of this kind ended: the closed fd is named by what it was */
const char *gmt_holder_end_name(unsigned int kind, unsigned int end)
{
	static const char *const n[] = {
		[GMT_HOLD_END_NONE] = "-",
		[GMT_HOLD_END_UNREGISTER] = "unregister",
		[GMT_HOLD_END_CLOSE] = "ring_closed",
		[GMT_HOLD_END_EXIT] = "process_exit",
		[GMT_HOLD_END_UNMAP] = "unmap",
		[GMT_HOLD_END_UNPIN] = "unpin",
	};

	if (end == GMT_HOLD_END_CLOSE && kind == GMT_HOLD_VFIO_DMA)
		return "container_closed";
	if (end == GMT_HOLD_END_CLOSE && kind == GMT_HOLD_IOMMUFD)
		return "iommufd_closed";
	return end < sizeof(n) / sizeof(n[0]) ? n[end] : "?";
}
