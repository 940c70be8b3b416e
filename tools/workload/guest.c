/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's vCPU: creation, kvm_run, the hypercall exit capability,
 * CPUID, its code slot and registers; and its teardown
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "workload.h"

void guest_fail(struct guest_state *g, const char *what, long err)
{
	snprintf(g->error_buf, sizeof(g->error_buf), "%s: %s", what, strerror((int)-err));
	g->error = g->error_buf;
}

/* Hands KVM the CPUID it supports (long mode needs LM) and notes the vendor */
static long guest_set_cpuid(struct run *r, struct guest_state *g)
{
	struct kvm_cpuid2 *cpuid = NULL;
	unsigned int nent = 64, i;
	long ret;

	for (;;) {
		free(cpuid);
		cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = nent;
		ret = sys_ret(ioctl(r->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid));
		if (ret != -E2BIG || nent >= 4096)
			break;
		nent *= 2;
	}
	if (ret < 0) {
		free(cpuid);
		return ret;
	}
	for (i = 0; i < cpuid->nent; i++) {
		const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function != 0)
			continue;
		memcpy(g->vendor, &e->ebx, 4);
		memcpy(g->vendor + 4, &e->edx, 4);
		memcpy(g->vendor + 8, &e->ecx, 4);
		g->vendor[12] = '\0';
	}
	/* VMCALL on Intel (and Zhaoxin, Centaur), VMMCALL on AMD and Hygon */
	g->intel = strcmp(g->vendor, "AuthenticAMD") && strcmp(g->vendor, "HygonGenuine");
	ret = sys_ret(ioctl(g->vcpu_fd, KVM_SET_CPUID2, cpuid));
	free(cpuid);
	return ret;
}

/* VM 0's vCPU (made here unless --vcpu made it) and its kvm_run */
static int guest_vcpu(struct run *r, struct guest_state *g, struct vm *vm)
{
	if (vm->vcpu_fd >= 0) {
		g->vcpu_fd = vm->vcpu_fd;
		g->create_vcpu_ret = vm->vcpu_ret;
	} else {
		g->create_vcpu_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_CREATE_VCPU, 0UL));
		hist_add(&r->hist[OP_CREATE_VCPU], g->create_vcpu_ret >= 0 ? 0 :
						    g->create_vcpu_ret);
		if (g->create_vcpu_ret < 0) {
			guest_fail(g, "KVM_CREATE_VCPU", g->create_vcpu_ret);
			return -1;
		}
		g->vcpu_fd = (int)g->create_vcpu_ret;
		g->own_vcpu = true;
	}

	g->mmap_size = sys_ret(ioctl(r->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0UL));
	if (g->mmap_size < (long)sizeof(struct kvm_run)) {
		guest_fail(g, "KVM_GET_VCPU_MMAP_SIZE", g->mmap_size < 0 ? g->mmap_size : -EINVAL);
		return -1;
	}
	g->run = mmap(NULL, (size_t)g->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      g->vcpu_fd, 0);
	if (g->run == MAP_FAILED) {
		g->run = NULL;
		guest_fail(g, "mmap of kvm_run", -errno);
		return -1;
	}
	return 0;
}

/* The hypercall exit and the hypercall-patching quirk; neither is fatal */
static void guest_caps(struct guest_state *g, struct vm *vm)
{
	struct kvm_enable_cap cap;

	/* without it KVM answers MAP_GPA_RANGE itself with -KVM_ENOSYS: not fatal */
	g->cap_exit_hypercall = check_ext(vm->vm_fd, GMT_KVM_CAP_EXIT_HYPERCALL);
	memset(&cap, 0, sizeof(cap));
	cap.cap = GMT_KVM_CAP_EXIT_HYPERCALL;
	cap.args[0] = 1ULL << GMT_KVM_HC_MAP_GPA_RANGE;
	g->enable_cap_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_ENABLE_CAP, &cap));
	/*
	 * A hypercall instruction KVM does not expect is otherwise rewritten
	 * and retried, forever where the rewrite faults too (PVM): with the
	 * quirk off it is a #UD, and with no IDT a quick SHUTDOWN exit.
	 */
	memset(&cap, 0, sizeof(cap));
	cap.cap = GMW_KVM_CAP_DISABLE_QUIRKS2;
	cap.args[0] = GMW_KVM_X86_QUIRK_FIX_HYPERCALL_INSN;
	g->quirk_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_ENABLE_CAP, &cap));
	g->caps_set = true;
}

/* The guest's own plain memslot: code, page tables, results */
static int guest_code_slot(struct run *r, struct guest_state *g, struct vm *vm)
{
	struct gmt_kvm_userspace_memory_region2 mr;

	g->code_gpa = guest_code_gpa(r->cfg);
	g->code_size = guest_slot_size(r->cfg->guest);
	g->code_mem = mmap(NULL, g->code_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->code_mem == MAP_FAILED) {
		g->code_mem = NULL;
		guest_fail(g, "mmap of the guest's memory", -errno);
		return -1;
	}
	guest_build(g->code_mem, g->code_gpa, g->code_size, r->cfg->guest, g->intel);
	memset(&mr, 0, sizeof(mr));
	mr.slot = GMW_GUEST_SLOT;
	mr.guest_phys_addr = g->code_gpa;
	mr.memory_size = g->code_size;
	mr.userspace_addr = (__u64)(uintptr_t)g->code_mem;
	g->code_slot_ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_SET_USER_MEMORY_REGION2, &mr));
	hist_add(&r->hist[OP_MEMSLOT], g->code_slot_ret);
	if (g->code_slot_ret < 0) {
		guest_fail(g, "KVM_SET_USER_MEMORY_REGION2 (guest code slot)", g->code_slot_ret);
		return -1;
	}
	return 0;
}

/* Long mode at the code's entry, the loop's registers */
static int guest_regs(const struct cfg *cfg, struct guest_state *g)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long ret;

	ret = sys_ret(ioctl(g->vcpu_fd, KVM_GET_SREGS, &sregs));
	if (ret < 0) {
		guest_fail(g, "KVM_GET_SREGS", ret);
		return -1;
	}
	guest_init_sregs(&sregs, g->code_gpa);
	ret = sys_ret(ioctl(g->vcpu_fd, KVM_SET_SREGS, &sregs));
	if (ret < 0) {
		guest_fail(g, "KVM_SET_SREGS (long mode)", ret);
		return -1;
	}
	guest_init_regs(&regs, cfg, g->code_gpa, g->code_size);
	ret = sys_ret(ioctl(g->vcpu_fd, KVM_SET_REGS, &regs));
	if (ret < 0) {
		guest_fail(g, "KVM_SET_REGS", ret);
		return -1;
	}
	return 0;
}

/* vCPU, kvm_run, the hypercall exit, the guest's slot and registers */
static int guest_setup(struct run *r)
{
	struct guest_state *g = &r->guest;
	struct vm *vm = &r->vms[0];
	long ret;

	if (guest_vcpu(r, g, vm))
		return -1;
	guest_caps(g, vm);
	ret = guest_set_cpuid(r, g);
	if (ret < 0) {
		guest_fail(g, "KVM_GET_SUPPORTED_CPUID/KVM_SET_CPUID2", ret);
		return -1;
	}
	if (guest_code_slot(r, g, vm))
		return -1;
	return guest_regs(r->cfg, g);
}

void run_guest(struct run *r)
{
	struct guest_state *g = &r->guest;

	g->requested = true;
	g->fault_read = -1;
	if (!guest_setup(r))
		guest_run(r);
}

void guest_teardown(struct run *r)
{
	struct guest_state *g = &r->guest;

	if (g->run)
		munmap(g->run, (size_t)g->mmap_size);
	g->run = NULL;
	if (g->own_vcpu && g->vcpu_fd >= 0)
		close(g->vcpu_fd);
	g->vcpu_fd = -1;
	if (g->code_mem)
		munmap(g->code_mem, g->code_size);
	g->code_mem = NULL;
	free(g->reqs);
	g->reqs = NULL;
	free(g->serve_ns);
	g->serve_ns = NULL;
}
