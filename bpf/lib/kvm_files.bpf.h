/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fd -> struct file, and which KVM file it is: a VM, a vCPU or a guest_memfd
 * (and through each, its struct kvm).
 */
#ifndef GMT_LIB_KVM_FILES_BPF_H
#define GMT_LIB_KVM_FILES_BPF_H

#include "counters.bpf.h"
#include "core_fixes.bpf.h"

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
	if (GMT_CHK(GMT_SITE_FD_SLOT, bpf_probe_read_kernel(&file, sizeof(file), (void *)slot))) {
		gmt_count(GMT_CNT_READ_KERN_ERR);
		return NULL;
	}
	return file;
}

static __always_inline struct file *gmt_fd_to_file(int fd)
{
	return gmt_task_fd_to_file(bpf_get_current_task_btf(), fd);
}

static __always_inline __u64 gmt_file_ino(struct file *file)
{
	return BPF_CORE_READ(file, f_inode, i_ino);
}

/* Only guest_memfd marks its mapping inaccessible (6.11+). */
static __always_inline bool gmt_mapping_is_gmem(struct address_space *m)
{
	int bit = gmt_as_inaccessible_bit();
	unsigned long flags;

	if (bit < 0 || !m)
		return false;
	flags = BPF_CORE_READ(m, flags);
	return (flags >> (bit & 63)) & 1;
}

/* FOLIO_MAPPING_ANON | _MOVABLE: the ->mapping of an anonymous or movable
 * folio is not an address_space */
#define GMT_FOLIO_MAPPING_FLAGS	3UL

/* the folio's guest_memfd mapping, NULL if it belongs to anything else */
static __always_inline struct address_space *gmt_folio_gmem_mapping(struct folio *folio)
{
	struct address_space *m = BPF_CORE_READ(folio, mapping);

	if ((unsigned long)m & GMT_FOLIO_MAPPING_FLAGS || !gmt_mapping_is_gmem(m))
		return NULL;
	return m;
}

static __always_inline bool gmt_file_is_gmem(struct file *file)
{
	return gmt_mapping_is_gmem(BPF_CORE_READ(file, f_mapping));
}

/* the first n bytes of the file's dentry name equal want[0..n) */
static __always_inline bool gmt_file_name_is(struct file *file, const char *want, int n)
{
	const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	char buf[12] = {};
	int i;

	if (n > (int)sizeof(buf) || bpf_probe_read_kernel(buf, n, name) < 0)
		return false;
	for (i = 0; i < n && i < (int)sizeof(buf); i++)
		if (buf[i] != want[i])
			return false;
	return true;
}

/* io_uring names its ring files "[io_uring]" (io_uring_get_file) */
static __always_inline bool gmt_file_is_uring(struct file *file)
{
	return gmt_file_name_is(file, "[io_uring]", 11);	/* with its NUL */
}

/* KVM names VM fds "kvm-vm" (anon_inode_getfd in kvm_dev_ioctl_create_vm);
 * the name survives module reloads, unlike a kvm_vm_ioctl address. */
static __always_inline bool gmt_file_is_vm(struct file *file)
{
	return gmt_file_name_is(file, "kvm-vm", 7);	/* with its NUL */
}

/* "kvm-vcpu:N" (kvm_vm_ioctl_create_vcpu's anon inode name) */
static __always_inline bool gmt_file_is_vcpu(struct file *file)
{
	return gmt_file_name_is(file, "kvm-vcpu:", 9);
}

/*
 * The same kind checks on a file the program got as a BTF pointer (LSM and
 * fmod_ret arguments): direct loads, not a bpf_probe_read_kernel per field
 * (the policy hook pays them on every conversion ioctl: docs/bench.md).
 */
/* before 6.14 ("dcache: ... d_shortname"), the inline name was d_iname */
struct dentry___gmt_iname {
	/* aligned as in the kernel: one load, not eight byte loads (an
	 * unaligned u64 load is split, and the other flavour's with it) */
	unsigned char d_iname[40] __attribute__((aligned(8)));
} __attribute__((preserve_access_index));

#define GMT_KVM_VM_NAME_LE	0x00006d762d6d766bULL	/* "kvm-vm\0", little endian */
#define GMT_NAME7_MASK		0x00ffffffffffffffULL

/* "kvm-vm" is 6 bytes: the dentry keeps it inline, read as one word */
static __always_inline bool gmt_btf_file_is_vm(struct file *file)
{
	struct dentry *d = file->f_path.dentry;
	const void *name = d->d_name.name;
	struct dentry___gmt_iname *old = (void *)d;
	__u64 w;

	if (d->d_name.len != 6)
		return false;
	if (bpf_core_field_exists(d->d_shortname)) {
		if (name != (const void *)&d->d_shortname)
			return gmt_file_is_vm(file);
		w = d->d_shortname.words[0];
	} else {
		if (name != (const void *)old->d_iname)
			return gmt_file_is_vm(file);
		w = *(__u64 *)old->d_iname;
	}
	return (w & GMT_NAME7_MASK) == GMT_KVM_VM_NAME_LE;
}

static __always_inline bool gmt_btf_file_is_gmem(struct file *file)
{
	int bit = gmt_as_inaccessible_bit();

	if (bit < 0)
		return false;
	return (file->f_mapping->flags >> (bit & 63)) & 1;
}

/* the struct kvm behind a VM, vCPU or guest_memfd file; 0 for any other */
static __always_inline __u64 gmt_file_kvm(struct file *file)
{
	__u64 pd = (__u64)BPF_CORE_READ(file, private_data);

	if (gmt_file_is_vm(file))
		return pd;
	if (gmt_file_is_vcpu(file))
		return (__u64)BPF_CORE_READ((struct kvm_vcpu___gmt *)pd, kvm);
	if (gmt_file_is_gmem(file))
		return gmt_gmem_kvm(file);
	return 0;
}

#endif /* GMT_LIB_KVM_FILES_BPF_H */
