/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * /dev/kvm, its capabilities, VMs, guest_memfd creation with its flag
 * fallbacks, the memslot (plain or in-place mmap) and the optional vCPU
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "workload.h"

static void probe_caps(struct run *r)
{
	struct caps *c = &r->caps;
	int fd = r->nvms ? r->vms[0].vm_fd : r->kvm_fd;

	c->guest_memfd = check_ext(fd, GMT_KVM_CAP_GUEST_MEMFD);
	c->guest_memfd_flags = check_ext(fd, GMT_KVM_CAP_GUEST_MEMFD_FLAGS);
	c->memory_attributes = check_ext(fd, GMT_KVM_CAP_MEMORY_ATTRIBUTES);
	c->gmem_memory_attributes = check_ext(fd, GMT_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES);
}

static void create_gmem(struct run *r, struct vm *vm)
{
	const struct cfg *cfg = r->cfg;
	__u64 want[GMW_GMEM_TRIES];
	unsigned int n = 0, i;

	if (cfg->gmem_flags_set) {
		want[n++] = cfg->gmem_flags;
	} else {
		__u64 sup = r->caps.guest_memfd_flags > 0 ? (__u64)r->caps.guest_memfd_flags : 0;
		__u64 best = sup & (GMT_GUEST_MEMFD_FLAG_MMAP | GMT_GUEST_MEMFD_FLAG_INIT_SHARED);

		/* a sw-protected VM may refuse INIT_SHARED: degrade step by step */
		want[n++] = best;
		if ((best & GMT_GUEST_MEMFD_FLAG_MMAP) && best != GMT_GUEST_MEMFD_FLAG_MMAP)
			want[n++] = GMT_GUEST_MEMFD_FLAG_MMAP;
		if (best)
			want[n++] = 0;
	}

	vm->gmem_fd = -1;
	vm->create_gmem_ret = -ENOTTY;
	for (i = 0; i < n; i++) {
		struct gmt_kvm_create_guest_memfd g;
		long ret;

		memset(&g, 0, sizeof(g));
		g.size = cfg->gmem_size;
		g.flags = want[i];
		ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_CREATE_GUEST_MEMFD, &g));
		vm->tries[vm->ntries].flags = want[i];
		vm->tries[vm->ntries++].ret = ret;
		hist_add(&r->hist[OP_CREATE_GMEM], ret >= 0 ? 0 : ret);
		vm->create_gmem_ret = ret;
		if (ret >= 0) {
			struct stat st;

			vm->gmem_fd = (int)ret;
			vm->gmem_flags = want[i];
			if (!fstat(vm->gmem_fd, &st))
				vm->gmem_ino = st.st_ino;
			break;
		}
		/* only a refused flag combination is worth another try */
		if (ret != -EINVAL)
			break;
	}
}

/* --gmem-create-storm: flag bit 63 is no KVM_CREATE_GUEST_MEMFD flag, so each
 * call fails with EINVAL after the same entry path a real create takes */
void gmem_create_storm(struct run *r)
{
	struct gmt_kvm_create_guest_memfd g;
	__u64 i, t0 = now_ns();

	memset(&g, 0, sizeof(g));
	g.size = r->cfg->gmem_size;
	g.flags = 1ULL << 63;
	for (i = 0; i < r->cfg->gmem_create_storm && !got_term; i++) {
		long ret = sys_ret(ioctl(r->vms[0].vm_fd, GMT_KVM_CREATE_GUEST_MEMFD, &g));

		if (ret == -EINVAL) {
			r->storm_einval++;
		} else {
			r->storm_other++;
			if (ret >= 0)
				close((int)ret);
		}
	}
	r->storm_ns = now_ns() - t0;
}

int setup_vm(struct run *r, unsigned int idx, int type)
{
	const struct cfg *cfg = r->cfg;
	struct vm *vm = &r->vms[idx];
	struct gmt_kvm_userspace_memory_region2 mr;

	memset(vm, 0, sizeof(*vm));
	vm->gmem_fd = -1;
	vm->vcpu_fd = -1;
	vm->vm_type = type;
	vm->vm_fd = ioctl(r->kvm_fd, GMT_KVM_CREATE_VM, (unsigned long)type);
	if (vm->vm_fd < 0) {
		fprintf(stderr, "gmem-workload: KVM_CREATE_VM (type %d) for VM %u: %s\n",
			type, idx, strerror(errno));
		return -1;
	}
	r->nvms++;
	if (idx == 0)
		probe_caps(r);

	create_gmem(r, vm);

	/* the shared half: plain anonymous memory, never touched here; with
	 * --in-place the guest_memfd's own mapping (in-place conversion) */
	if (cfg->scn.in_place && vm->gmem_fd >= 0)
		vm->backing = mmap(NULL, cfg->gmem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   vm->gmem_fd, 0);
	else
		vm->backing = mmap(NULL, cfg->gmem_size, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->backing == MAP_FAILED) {
		vm->backing = NULL;
		fprintf(stderr, "gmem-workload: mmap of %llu bytes of shared backing: %s\n",
			(unsigned long long)cfg->gmem_size, strerror(errno));
		return -1;
	}

	/* without a guest_memfd still bind the GPA range, as a plain memslot */
	memset(&mr, 0, sizeof(mr));
	mr.slot = 0;
	mr.flags = vm->gmem_fd >= 0 ? GMT_KVM_MEM_GUEST_MEMFD : 0;
	mr.guest_phys_addr = cfg->gpa_base;
	mr.memory_size = cfg->gmem_size;
	mr.userspace_addr = (__u64)(uintptr_t)vm->backing;
	mr.guest_memfd_offset = 0;
	mr.guest_memfd = vm->gmem_fd >= 0 ? (__u32)vm->gmem_fd : 0;
	vm->memslot_flags = mr.flags;
	vm->memslot_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_SET_USER_MEMORY_REGION2, &mr));
	hist_add(&r->hist[OP_MEMSLOT], vm->memslot_ret);

	if (cfg->vcpu) {
		vm->vcpu_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_CREATE_VCPU, 0UL));
		if (vm->vcpu_ret >= 0)
			vm->vcpu_fd = (int)vm->vcpu_ret;
		hist_add(&r->hist[OP_CREATE_VCPU], vm->vcpu_ret >= 0 ? 0 : vm->vcpu_ret);
	}
	return 0;
}

/* /dev/kvm and the VM type to create: --vm-type, else sw-protected when
 * KVM_CAP_VM_TYPES offers it; -1 when KVM is not available */
int open_kvm(struct run *r)
{
	r->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (r->kvm_fd < 0) {
		fprintf(stderr, "gmem-workload: cannot open /dev/kvm: %s (KVM is not "
			"available here)\n", strerror(errno));
		return -1;
	}
	r->caps.api_version = sys_ret(ioctl(r->kvm_fd, GMW_KVM_GET_API_VERSION, 0UL));
	r->caps.vm_types = check_ext(r->kvm_fd, GMT_KVM_CAP_VM_TYPES);
	if (r->cfg->vm_type >= 0)
		return r->cfg->vm_type;
	if (r->caps.vm_types > 0 && (r->caps.vm_types & (1L << GMT_KVM_X86_SW_PROTECTED_VM)))
		return GMT_KVM_X86_SW_PROTECTED_VM;
	return GMT_KVM_X86_DEFAULT_VM;
}

void close_vms(struct run *r)
{
	unsigned int v;

	for (v = 0; v < r->nvms; v++) {
		struct vm *vm = &r->vms[v];

		if (vm->vcpu_fd >= 0)
			close(vm->vcpu_fd);
		if (vm->gmem_fd >= 0)
			close(vm->gmem_fd);
		if (vm->backing)
			munmap(vm->backing, r->cfg->gmem_size);
		close(vm->vm_fd);
	}
}
