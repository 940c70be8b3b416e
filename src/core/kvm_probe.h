/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the running kernel's KVM offers for conversions, found by issuing the
 * real ioctls on a throw-away VM with ranges that cannot convert anything
 * (size 0): ENOTTY means the ioctl does not exist, anything else means it does.
 */
#ifndef GMT_KVM_PROBE_H
#define GMT_KVM_PROBE_H

#include <stdbool.h>

struct gmt_kvm_probe {
	int kvm_err;		/* open("/dev/kvm"): 0 or errno */
	int vm_err;		/* KVM_CREATE_VM */
	long vm_types;		/* KVM_CAP_VM_TYPES, -1 unknown */
	bool sw_protected;	/* a KVM_X86_SW_PROTECTED_VM could be created */
	long cap_guest_memfd;
	long cap_gmem_flags;
	long cap_mem_attrs;	/* KVM_CAP_MEMORY_ATTRIBUTES on the probe VM */
	long cap_gmem_mem_attrs;	/* G3 v8 cap 250 */
	int gmem_err;		/* KVM_CREATE_GUEST_MEMFD: 0 or errno */
	unsigned long long gmem_flags;	/* flags the probe gmem got */
	int g1_err;		/* errno of the size-0 probe, 0 = returned 0 */
	int g2_err;
	int g3_err;
	bool g2_tried, g3_tried;	/* false: no guest_memfd to try on */
};

void gmt_kvm_probe(struct gmt_kvm_probe *p);

/* Make the kernel call func once (kvm_vm_ioctl, kvm_gmem_ioctl): a real ioctl
 * on a throw-away VM. Returns 0 if a trigger exists and ran, -ENOENT if
 * gmemtrace knows no way to call func, -errno if setting up failed. */
int gmt_kvm_trigger(const char *func);
/* ENOTTY -> false; any other answer means the kernel knows the ioctl */
static inline bool gmt_ioctl_exists(int err)
{
	return err != 25 /* ENOTTY */;
}

#endif /* GMT_KVM_PROBE_H */
