/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The tiny guest as bytes: its code, identity page tables, results area and
 * initial registers, all derived from the configuration (pure: no KVM here,
 * the unit test links this file)
 */
#include <errno.h>
#include <string.h>

#include "workload.h"

/*
 * 64-bit code, entered in long mode with everything in registers:
 *   rdi requests left, r12 next GPA, r8/r9 guest_memfd GPA range (wrap),
 *   r15 stride (4096), r13 attrs of the next request, r14 attrs toggle,
 *   rsi results array, r10 fault page GPA (0: no fault phase).
 * Hypercall ABI (64-bit mode, CPL 0): rax nr, rbx/rcx/rdx args, ret in rax.
 */
const __u8 guest_code[] = {
	/* 00 loop: */
	0x48, 0x85, 0xff,		/* test %rdi,%rdi */
	0x74, 0x2d,			/* je done */
	0xb8, 0x0c, 0x00, 0x00, 0x00,	/* mov $12,%eax  KVM_HC_MAP_GPA_RANGE */
	0x4c, 0x89, 0xe3,		/* mov %r12,%rbx  gpa */
	0xb9, 0x01, 0x00, 0x00, 0x00,	/* mov $1,%ecx  npages */
	0x4c, 0x89, 0xea,		/* mov %r13,%rdx  attrs */
	0x0f, 0x01, 0xd9,		/* 15: vmmcall (vmcall on Intel) */
	0x48, 0x89, 0x06,		/* mov %rax,(%rsi) */
	0x48, 0x83, 0xc6, 0x08,		/* add $8,%rsi */
	0x4d, 0x01, 0xfc,		/* add %r15,%r12 */
	0x4d, 0x39, 0xcc,		/* cmp %r9,%r12 */
	0x72, 0x03,			/* jb 1f */
	0x4d, 0x89, 0xc4,		/* mov %r8,%r12  wrap */
	0x4d, 0x31, 0xf5,		/* 1: xor %r14,%r13 */
	0x48, 0xff, 0xcf,		/* dec %rdi */
	0xeb, 0xce,			/* jmp loop */
	/* 32 done: */
	0x4d, 0x85, 0xd2,		/* test %r10,%r10 */
	0x74, 0x20,			/* je halt */
	0xb8, 0x0c, 0x00, 0x00, 0x00,	/* mov $12,%eax */
	0x4c, 0x89, 0xd3,		/* mov %r10,%rbx */
	0xb9, 0x01, 0x00, 0x00, 0x00,	/* mov $1,%ecx */
	0xba, 0x10, 0x00, 0x00, 0x00,	/* mov $16,%edx  ENCRYPTED: to private */
	0x0f, 0x01, 0xd9,		/* 49: vmmcall */
	0x48, 0x89, 0x06,		/* mov %rax,(%rsi) */
	0x41, 0x0f, 0xb6, 0x02,		/* movzbl (%r10),%eax  the memory fault */
	0x48, 0x89, 0x46, 0x08,		/* mov %rax,8(%rsi) */
	/* 57 halt: */
	0xf4,				/* hlt */
	0xeb, 0xfd,			/* jmp halt */
};

const unsigned int guest_hc_at[] = { 0x15, 0x49 };

__u64 align_up(__u64 v, __u64 a)
{
	return (v + a - 1) / a * a;
}

/* Results for n requests plus the fault phase (its ret and the byte read) */
__u64 guest_slot_size(__u64 n)
{
	return align_up(GUEST_RES_OFF + (n + 2) * 8, GUEST_2M);
}

/* GPA 0 unless the guest_memfd slot is there; then the next free 1G */
__u64 guest_code_gpa(const struct cfg *c)
{
	if (c->gpa_base >= guest_slot_size(c->guest))
		return 0;
	return align_up(c->gpa_base + c->gmem_size, GUEST_1G);
}

/*
 * Code, identity page tables (2M pages over the slot) and the fault page.
 * code_gpa is 1G aligned and the slot at most 1G, so one PD covers it.
 */
void guest_build(void *mem, __u64 code_gpa, __u64 slot_size, __u64 n, bool intel)
{
	__u64 *pml4 = (__u64 *)((char *)mem + GUEST_PML4_OFF);
	__u64 *pdpt = (__u64 *)((char *)mem + GUEST_PDPT_OFF);
	__u64 *pd = (__u64 *)((char *)mem + GUEST_PD_OFF);
	__u64 *res = (__u64 *)((char *)mem + GUEST_RES_OFF);
	__u64 i;

	memcpy((char *)mem + GUEST_CODE_OFF, guest_code, sizeof(guest_code));
	/* KVM would patch the other vendor's instruction, but only after a #UD exit */
	for (i = 0; intel && i < sizeof(guest_hc_at) / sizeof(guest_hc_at[0]); i++)
		((__u8 *)mem)[GUEST_CODE_OFF + guest_hc_at[i] + 2] = 0xc1;
	pml4[(code_gpa >> 39) & 511] = (code_gpa + GUEST_PDPT_OFF) | PTE_P | PTE_RW;
	pdpt[(code_gpa >> 30) & 511] = (code_gpa + GUEST_PD_OFF) | PTE_P | PTE_RW;
	for (i = 0; i < slot_size / GUEST_2M; i++)
		pd[i] = (code_gpa + i * GUEST_2M) | PTE_P | PTE_RW | PTE_PS;
	((__u8 *)mem)[GUEST_FAULT_OFF] = GUEST_FAULT_MARK;
	for (i = 0; i < n + 2; i++)
		res[i] = GUEST_RES_UNSET;
}

void guest_init_regs(struct kvm_regs *regs, const struct cfg *c, __u64 code_gpa,
			    __u64 slot_size)
{
	bool alt = c->dir == DIR_ALTERNATE;

	memset(regs, 0, sizeof(*regs));
	regs->rip = code_gpa + GUEST_CODE_OFF;
	regs->rflags = 0x2;	/* bit 1 is reserved, always 1 */
	regs->rsp = code_gpa + slot_size;
	regs->rdi = c->guest;
	regs->r8 = c->gpa_base;
	regs->r9 = c->gpa_base + c->gmem_size;
	regs->r12 = c->gpa_base;
	regs->r15 = GUEST_PAGE;
	regs->r13 = c->dir == DIR_SHARED ? 0 : GMT_KVM_MAP_GPA_RANGE_ENCRYPTED;
	regs->r14 = alt ? GMT_KVM_MAP_GPA_RANGE_ENCRYPTED : 0;
	regs->rsi = code_gpa + GUEST_RES_OFF;
	regs->r10 = c->guest_fault ? code_gpa + GUEST_FAULT_OFF : 0;
}

static void flat_seg(struct kvm_segment *s, __u16 sel, __u8 type, bool code)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;	/* 64-bit code segment */
	s->db = !code;	/* L and D must not both be set */
}

/* Long mode, paging on, CPL 0: set directly, no real-mode trampoline */
void guest_init_sregs(struct kvm_sregs *s, __u64 code_gpa)
{
	flat_seg(&s->cs, 0x08, 11, true);	/* execute/read, accessed */
	flat_seg(&s->ds, 0x10, 3, false);	/* read/write, accessed */
	s->es = s->fs = s->gs = s->ss = s->ds;
	memset(&s->tr, 0, sizeof(s->tr));	/* VMX wants a busy TSS even if unused */
	s->tr.selector = 0x18;
	s->tr.limit = 0x67;
	s->tr.type = 11;
	s->tr.present = 1;
	memset(&s->ldt, 0, sizeof(s->ldt));
	s->ldt.unusable = 1;
	s->ldt.type = 2;
	s->cr3 = code_gpa + GUEST_PML4_OFF;
	s->cr4 = 1ULL << 5;				/* PAE */
	s->cr0 = 0x80000033ULL;				/* PG NE ET MP PE */
	s->efer = (1ULL << 8) | (1ULL << 10);		/* LME LMA */
}

/* --guest-timeout, or by default a minute plus 1 ms per request */
__u64 guest_timeout(const struct cfg *c)
{
	if (c->guest_timeout_s != GMW_GUEST_TIMEOUT_AUTO)
		return c->guest_timeout_s;
	return 60 + c->guest / 1000;
}
