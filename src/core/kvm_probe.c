// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/types.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "kvm_probe.h"

static long check_ext(int fd, long cap)
{
	long r = ioctl(fd, GMT_KVM_CHECK_EXTENSION, cap);

	return r < 0 ? -1 : r;
}

static int ioctl_err(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? errno : 0;
}

void gmt_kvm_probe(struct gmt_kvm_probe *p)
{
	struct gmt_kvm_create_guest_memfd cg;
	int kvm, vm = -1, gmem = -1;

	memset(p, 0, sizeof(*p));
	p->vm_types = p->cap_guest_memfd = p->cap_gmem_flags = -1;
	p->cap_mem_attrs = p->cap_gmem_mem_attrs = -1;
	p->vm_err = p->gmem_err = p->g1_err = p->g2_err = p->g3_err = ENODEV;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		p->kvm_err = errno;
		return;
	}
	p->vm_types = check_ext(kvm, GMT_KVM_CAP_VM_TYPES);
	/* a protected VM is the one that can have private memory */
	if (p->vm_types > 0 && (p->vm_types & (1 << GMT_KVM_X86_SW_PROTECTED_VM))) {
		vm = ioctl(kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_SW_PROTECTED_VM);
		p->sw_protected = vm >= 0;
	}
	if (vm < 0)
		vm = ioctl(kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_DEFAULT_VM);
	if (vm < 0) {
		p->vm_err = errno;
		goto out;
	}
	p->vm_err = 0;
	p->cap_guest_memfd = check_ext(vm, GMT_KVM_CAP_GUEST_MEMFD);
	p->cap_gmem_flags = check_ext(vm, GMT_KVM_CAP_GUEST_MEMFD_FLAGS);
	p->cap_mem_attrs = check_ext(vm, GMT_KVM_CAP_MEMORY_ATTRIBUTES);
	p->cap_gmem_mem_attrs = check_ext(vm, GMT_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);

	{
		struct gmt_kvm_memory_attributes a = { 0 };

		p->g1_err = ioctl_err(vm, GMT_KVM_SET_MEMORY_ATTRIBUTES, &a);
	}

	memset(&cg, 0, sizeof(cg));
	cg.size = 1 << 20;
	cg.flags = p->cap_gmem_flags > 0 ? (unsigned long long)p->cap_gmem_flags : 0;
	gmem = ioctl(vm, GMT_KVM_CREATE_GUEST_MEMFD, &cg);
	if (gmem < 0 && cg.flags) {
		cg.flags = 0;	/* e.g. INIT_SHARED refused on a protected VM */
		gmem = ioctl(vm, GMT_KVM_CREATE_GUEST_MEMFD, &cg);
	}
	if (gmem < 0) {
		p->gmem_err = errno;
		goto out;
	}
	p->gmem_err = 0;
	p->gmem_flags = cg.flags;

	/* size 0: G2 returns 0 without converting, G3 refuses with EINVAL */
	{
		struct gmt_kvm_gmem_convert c = { 0 };
		struct gmt_kvm_memory_attributes2 a2 = { 0 };

		p->g2_tried = p->g3_tried = true;
		p->g2_err = ioctl_err(gmem, GMT_KVM_GMEM_CONVERT_SHARED, &c);
		p->g3_err = ioctl_err(gmem, GMT_KVM_SET_MEMORY_ATTRIBUTES2, &a2);
	}
out:
	if (gmem >= 0)
		close(gmem);
	if (vm >= 0)
		close(vm);
	close(kvm);
}

int gmt_kvm_trigger(const char *func)
{
	struct gmt_kvm_create_guest_memfd cg = { .size = 1 << 20 };
	struct gmt_kvm_memory_attributes2 a2 = { 0 };
	int kvm, vm, gmem, err = 0;
	bool gmem_ioctl = !strcmp(func, "kvm_gmem_ioctl");
	/* creating and closing a VM destroys it */
	bool destroy = !strcmp(func, "kvm_destroy_vm") || !strcmp(func, "kvm_arch_destroy_vm");

	if (strcmp(func, "kvm_vm_ioctl") && !gmem_ioctl && !destroy)
		return -ENOENT;
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return -errno;
	vm = ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	if (vm < 0) {
		err = -errno;
		goto out_kvm;
	}
	if (!gmem_ioctl) {
		/* any VM ioctl goes through kvm_vm_ioctl */
		ioctl(vm, GMT_KVM_CHECK_EXTENSION, GMT_KVM_CAP_GUEST_MEMFD);
	} else {
		gmem = ioctl(vm, GMT_KVM_CREATE_GUEST_MEMFD, &cg);
		if (gmem < 0) {
			err = -errno;
		} else {
			ioctl(gmem, GMT_KVM_SET_MEMORY_ATTRIBUTES2, &a2);	/* empty range */
			close(gmem);
		}
	}
	close(vm);
out_kvm:
	close(kvm);
	return err;
}
