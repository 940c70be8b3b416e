/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel-structure access for gmemtrace: fd -> struct file, and what kind of
 * KVM file it is. Everything goes through CO-RE so one object serves 6.x and
 * 7.x kernels; layout differences are handled with ___flavours below.
 */
#ifndef GMT_KERNEL_BPF_H
#define GMT_KERNEL_BPF_H

#include "gmt_counters.bpf.h"

/*
 * guest_memfd's file->private_data: struct kvm_gmem up to 6.18, renamed
 * struct gmem_file in 7.x (commit "KVM: guest_memfd: Rename "struct kvm_gmem"
 * to "struct gmem_file""). Both start with the owning struct kvm *.
 */
struct kvm_gmem___gmt {
	struct kvm *kvm;
} __attribute__((preserve_access_index));

struct gmem_file___gmt {
	struct kvm *kvm;
} __attribute__((preserve_access_index));

/* struct kvm::userspace_pid appeared in 6.x for the stats fd */
struct kvm___gmt {
	pid_t userspace_pid;
} __attribute__((preserve_access_index));

/*
 * fd -> struct file. The task -> files -> fdt walk uses BTF pointer loads
 * (no helper calls: on some hypervisors each helper call costs ~50 ns); only
 * the slot of the fd array needs bpf_probe_read_kernel.
 */
static __always_inline struct file *gmt_task_fd_to_file(struct task_struct *task, int fd)
{
	struct fdtable *fdt = task->files->fdt;
	struct file *file = NULL;
	__u64 slot;

	if (fd < 0 || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	slot = (__u64)fdt->fd + (__u64)fd * sizeof(file);
	if (bpf_probe_read_kernel(&file, sizeof(file), (void *)slot) < 0) {
		gmt_count(GMT_CNT_READ_KERN_ERR);
		return NULL;
	}
	return file;
}

static __always_inline struct file *gmt_fd_to_file(int fd)
{
	return gmt_task_fd_to_file(bpf_get_current_task_btf(), fd);
}

static __always_inline bool gmt_file_is_gmem(struct file *file)
{
	unsigned long flags;
	int bit;

	/* Only guest_memfd marks its mapping inaccessible (6.11+). */
	if (!bpf_core_enum_value_exists(enum mapping_flags, AS_INACCESSIBLE))
		return false;
	bit = bpf_core_enum_value(enum mapping_flags, AS_INACCESSIBLE);
	flags = BPF_CORE_READ(file, f_mapping, flags);
	return (flags >> (bit & 63)) & 1;
}

static __always_inline bool gmt_file_is_vm(struct file *file)
{
	const unsigned char *name;
	char buf[8] = {};

	/* KVM names VM fds "kvm-vm" (anon_inode_getfd in kvm_dev_ioctl_create_vm);
	 * the name survives module reloads, unlike a kvm_vm_ioctl address. */
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel(buf, 7, name) < 0)
		return false;
	return buf[0] == 'k' && buf[1] == 'v' && buf[2] == 'm' && buf[3] == '-' &&
	       buf[4] == 'v' && buf[5] == 'm' && buf[6] == 0;
}

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

static __always_inline __s32 gmt_kvm_userspace_pid(__u64 kvm)
{
	struct kvm___gmt *k = (struct kvm___gmt *)kvm;

	if (!kvm || !bpf_core_field_exists(k->userspace_pid))
		return -1;
	return BPF_CORE_READ(k, userspace_pid);
}

static __always_inline __u64 gmt_file_ino(struct file *file)
{
	return BPF_CORE_READ(file, f_inode, i_ino);
}

#endif /* GMT_KERNEL_BPF_H */
