/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gmem-workload: a real KVM workload for gmemtrace. It creates VMs with a
 * guest_memfd and a memslot, issues shared<->private conversions through
 * every uAPI generation (G1 VM ioctl, G2 RFC gmem ioctls, G3 gmem ioctl),
 * optionally pins guest_memfd pages with io_uring fixed buffers, runs a
 * tiny guest on a vCPU that asks for conversions itself (KVM_HC_MAP_GPA_RANGE
 * hypercall exits, KVM_EXIT_MEMORY_FAULT) and serves them, and reports
 * exactly what it did as JSON: the ground truth tests compare the tracer's
 * output against.
 *
 * A kernel that lacks an ioctl answers with its errno; that is recorded as
 * data, never treated as a failure of the tool.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <linux/types.h>
#include <linux/falloc.h>
/* the vCPU structs (kvm_run, kvm_regs, kvm_sregs, kvm_cpuid2); 6.1 has them */
#include <linux/kvm.h>
#include <json-c/json.h>
#include <liburing.h>

#include "kvm_uapi.h"

#ifndef GMT_VERSION
#define GMT_VERSION "0.1"
#endif

#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define EXIT_NOKVM	3

#define GMW_MAX_VMS		1024
#define GMW_DEF_MAX_CALLS	100000
#define GMW_MAX_RETS		32	/* distinct return values kept per op */
#define GMW_MAX_PIN_PAGES	16384	/* io_uring's fixed buffer limit */
#define GMW_GMEM_TRIES		3
#define GMW_MAX_FOPS		1000000	/* --punch/--allocate per VM */
#define GMW_MAX_GUEST		1000000	/* --guest requests */
#define GMW_GUEST_TIMEOUT_AUTO	UINT64_MAX	/* 60 s + 1 ms per request */

/* not in kvm_uapi.h: only this tool asks for them */
#define GMW_KVM_GET_API_VERSION	0x0000ae00u
#define GMW_KVM_CAP_DISABLE_QUIRKS2		213
#define GMW_KVM_X86_QUIRK_FIX_HYPERCALL_INSN	(1ULL << 5)

enum uapi_bit {
	UAPI_G1 = 1 << 0,
	UAPI_G2 = 1 << 1,
	UAPI_G3 = 1 << 2,
	UAPI_ALL = UAPI_G1 | UAPI_G2 | UAPI_G3,
};

enum dir_mode {
	DIR_ALTERNATE,
	DIR_PRIVATE,
	DIR_SHARED,
};

/* Order = order of the "summary" object */
enum op {
	OP_G1,
	OP_G2_SHARED,
	OP_G2_PRIVATE,
	OP_G3,
	OP_CREATE_GMEM,
	OP_MEMSLOT,
	OP_FALLOCATE,
	OP_CREATE_VCPU,
	OP_IOURING_REG,
	OP_MAX,
};

static const char *const op_names[OP_MAX] = {
	[OP_G1]		= "set_memory_attributes",
	[OP_G2_SHARED]	= "gmem_convert_shared",
	[OP_G2_PRIVATE]	= "gmem_convert_private",
	[OP_G3]		= "set_memory_attributes2",
	[OP_CREATE_GMEM] = "create_guest_memfd",
	[OP_MEMSLOT]	= "set_user_memory_region2",
	[OP_FALLOCATE]	= "fallocate",
	[OP_CREATE_VCPU] = "create_vcpu",
	[OP_IOURING_REG] = "io_uring_register_buffers",
};

/*
 * Blocking scenarios for in-place conversion kernels (G3 v8): pins on chosen
 * guest_memfd pages, each held by an io_uring ring of its own so that it can
 * be released alone, conversions that run into them, release and retry; and
 * a seeded random scenario whose every step can be paused for an oracle.
 */
#define GMW_MAX_SPINS		64	/* --pin-pages entries */
#define GMW_MAX_FRESH		16	/* --fresh-pages entries */
#define GMW_MAX_ORACLE		100000
#define GMW_STEP_PINS		32	/* pinned pages kept per step record */

enum scn_kind {
	SCN_NONE = 0,
	SCN_BLOCK_RETRY,
};

struct scn_cfg {
	bool in_place;		/* memslot userspace_addr = the guest_memfd's mmap */
	unsigned int npins;
	__u64 pin_page[GMW_MAX_SPINS];	/* first page of each pinned buffer */
	__u64 pin_len[GMW_MAX_SPINS];	/* its pages */
	unsigned int nfresh;
	__u64 fresh[GMW_MAX_FRESH];
	enum scn_kind scenario;
	bool range_set;
	__u64 range_off;
	__u64 range_len;
	__u64 oracle;		/* random steps, 0: none */
	__u64 seed;
	bool oracle_wait;
	bool guest_unpin_retry;
};

/* one pinned io_uring fixed buffer */
struct scn_pin {
	__u64 page;
	__u64 npages;
	bool ring_ok;
	bool held;
	long ring_ret;
	long register_ret;
	long unregister_ret;
	__u64 pinned_at;	/* step or attempt it was pinned at */
	__s64 released_at;	/* -1: still held */
	struct io_uring ring;
};

/* one conversion to private of a scenario, with what stood in its way */
struct scn_step {
	__u64 offset;
	__u64 size;
	__u64 error_offset;
	__s32 ret;
	__s32 back_ret;		/* the conversion back to shared, or 1: none */
	__s64 released_page;	/* block-retry: the pin released after it, -1 none */
	__u32 npinned;
	__u32 nfresh;
	__u64 pinned[GMW_STEP_PINS];	/* pages held by pins at the conversion */
	__u64 fresh[4];		/* pages made fresh just before it */
};

struct scn_state {
	bool used;
	const char *error;
	struct scn_pin pins[GMW_MAX_SPINS];
	unsigned int npins;
	struct scn_step *steps;
	__u64 nsteps;
	__u64 fresh_punch_err;	/* fresh pages whose punch or touch failed */
	__u64 rng;
};

struct cfg {
	unsigned int vms;
	int vm_type;		/* -1 = auto */
	__u64 gmem_size;
	bool gmem_flags_set;
	__u64 gmem_flags;
	__u64 gpa_base;
	bool vcpu;
	__u64 conversions;
	unsigned int uapi;	/* enum uapi_bit mask */
	__u64 size;
	enum dir_mode dir;
	__u64 interval_us;
	__u64 punch;
	__u64 allocate;
	bool touch;
	__u64 pin_pages;
	__u64 pin_offset;
	__u64 hold_s;
	bool hold_until_signal;
	bool unpin_on_signal;
	__u64 start_delay_ms;
	bool wait_signal;
	bool json;
	const char *json_out;
	bool no_calls;
	__u64 max_calls;
	bool bench;
	bool uapi_set;
	bool conversions_set;
	__u64 guest;		/* guest MAP_GPA_RANGE requests, 0: no guest */
	bool guest_fault;
	bool guest_abandon;	/* leave the first request unanswered and exit */
	__u64 guest_timeout_s;
	struct scn_cfg scn;	/* in-place and blocking scenarios */
	const char *comm;	/* --comm: raw bytes for prctl(PR_SET_NAME) */
	__u64 gmem_create_storm;	/* failing KVM_CREATE_GUEST_MEMFD calls */
};

/* One conversion ioctl as issued; fd, cmd, gen and attributes derive from op/vm */
struct call_rec {
	__u64 start;
	__u64 size;
	__u64 error_offset;
	__u64 round;
	__s32 ret;
	__u16 vm;
	__u8 op;
	__u8 flags;
};

#define CALL_SKIPPED	(1 << 0)
#define CALL_HAS_EO	(1 << 1)
#define CALL_GUEST	(1 << 2)	/* served a guest request; round = its index */
#define CALL_PRIV	(1 << 3)	/* to-private (guest calls carry it here) */
#define CALL_OUTSIDE	(1 << 4)	/* skipped: GPA outside the guest_memfd */

struct ret_hist {
	__u64 calls;
	__u64 skipped;
	__u64 other;		/* returns beyond GMW_MAX_RETS distinct values */
	unsigned int n;
	long ret[GMW_MAX_RETS];
	__u64 count[GMW_MAX_RETS];
};

struct gmem_try {
	__u64 flags;
	long ret;
};

struct touch_res {
	bool done;
	long mmap_ret;
	__u64 pages;
	__s64 sigbus_off;	/* -1: no SIGBUS */
};

struct vm {
	int vm_fd;
	int vm_type;
	int gmem_fd;		/* -1: none */
	long create_gmem_ret;
	__u64 gmem_flags;
	__u64 gmem_ino;
	unsigned int ntries;
	struct gmem_try tries[GMW_GMEM_TRIES];
	void *backing;
	__u32 memslot_flags;
	long memslot_ret;
	int vcpu_fd;
	long vcpu_ret;
	struct touch_res touch;
};

struct fop_rec {
	__u64 offset;
	__u64 len;
	__s32 ret;
	__u16 vm;
	__u8 mode;
	__u8 skipped;
};

struct pin_state {
	bool requested;
	const char *error;
	bool mmap_tried;
	long mmap_ret;
	void *map;
	struct touch_res touch;
	bool ring_tried;
	long ring_ret;
	bool ring_ok;
	struct io_uring ring;
	long register_ret;
	long long pin_delta;	/* net FOLL_PIN pages added, LLONG_MIN unknown */
	bool unregistered;
	long unregister_ret;
	bool released;
};

struct caps {
	long api_version;
	long vm_types;
	long guest_memfd;
	long guest_memfd_flags;
	long memory_attributes;
	long gmem_memory_attributes;
};

enum greq_kind {
	GREQ_MAP_GPA_RANGE,
	GREQ_MEMORY_FAULT,
};

/* One conversion the guest asked for, and how it was served */
struct guest_req {
	__u64 gpa;
	__u64 npages;
	__u64 attrs;		/* hypercall args[2], or memory_fault.flags */
	__u64 hc_flags;		/* hypercall flags (bit 0: long mode) */
	__u64 exit_ns;		/* KVM_RUN returned */
	__u64 reenter_ns;	/* next KVM_RUN issued, 0: never */
	__s64 served_ret;
	__s64 guest_ret;	/* RAX the guest saw after the hypercall */
	__u64 res_slot;		/* where the guest stored that RAX */
	__u8 kind;
	bool to_private;	/* what the guest asked for */
	bool served_private;	/* what the VMM converted to */
	bool has_guest_ret;
};

#define GMW_EXIT_REASONS	64

struct guest_state {
	bool requested;
	const char *error;	/* static text; error_buf when formatted */
	char error_buf[128];
	long create_vcpu_ret;
	int vcpu_fd;
	bool own_vcpu;		/* created here, not by --vcpu */
	long mmap_size;
	struct kvm_run *run;
	long cap_exit_hypercall;
	long enable_cap_ret;
	long quirk_ret;		/* disabling KVM_X86_QUIRK_FIX_HYPERCALL_INSN */
	bool caps_set;		/* the three above were tried */
	bool intel;
	char vendor[13];
	__u64 code_gpa;
	__u64 code_size;
	void *code_mem;
	long code_slot_ret;
	struct guest_req *reqs;	/* the first max-calls requests, for the list */
	__u64 nkept;
	__u64 reqs_cap;
	__u64 nreqs;		/* all requests */
	__u64 nkind[2];		/* by enum greq_kind */
	__u64 nserved_ok;
	__u64 *serve_ns;	/* exit->reenter of every re-entered request */
	__u64 nserve;
	__u64 serve_pct[6];	/* min p50 p90 p99 max mean of serve_ns */
	__u64 runs;
	__u64 exits[GMW_EXIT_REASONS];	/* by exit_reason; the last slot: beyond */
	bool halted;
	bool timed_out;
	bool abandoned;		/* --guest-abandon: a request left open */
	__s64 fault_read;	/* byte the guest read after the fault, -1: none */
	__u64 error_rip;
	bool has_error_rip;
	__u64 run_ns;
};

struct run {
	const struct cfg *cfg;
	int kvm_fd;
	pid_t pid;
	pid_t tid;
	__u64 page_size;
	struct caps caps;
	struct vm *vms;
	unsigned int nvms;
	struct call_rec *calls;
	__u64 ncalls;
	__u64 calls_cap;
	__u64 calls_truncated;
	struct fop_rec *punches;
	__u64 npunches;
	struct fop_rec *allocs;
	__u64 nallocs;
	struct pin_state pin;
	struct ret_hist hist[OP_MAX];
	bool interrupted;
	const char *hold_end;	/* NULL: no hold */
	__u64 t_start;
	__u64 conv_ns;
	__u64 conv_issued;
	struct guest_state guest;
	struct scn_state scn;
	__u64 storm_einval, storm_other, storm_ns;
};

static volatile sig_atomic_t got_usr1;
static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_alarm;

/* ------------------------------------------------------------------ */
/* argument parsing                                                    */

/* Decimal, or hex with 0x; optional K/M/G (binary) suffix when allowed */
static int parse_u64(const char *s, bool suffix, __u64 *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s)
		return -EINVAL;
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*out = (__u64)v << shift;
	return 0;
}

/* "g1,g2,g3" or "all" into a uapi mask */
static int parse_uapi(const char *s, unsigned int *mask)
{
	const char *p = s;
	unsigned int m = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == 3 && !strncmp(p, "all", 3))
			m |= UAPI_ALL;
		else if (len == 2 && !strncmp(p, "g1", 2))
			m |= UAPI_G1;
		else if (len == 2 && !strncmp(p, "g2", 2))
			m |= UAPI_G2;
		else if (len == 2 && !strncmp(p, "g3", 2))
			m |= UAPI_G3;
		else
			return -EINVAL;
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

static int parse_vm_type(const char *s, int *type)
{
	__u64 v;

	if (!strcmp(s, "auto"))
		*type = -1;
	else if (!strcmp(s, "default"))
		*type = GMT_KVM_X86_DEFAULT_VM;
	else if (!strcmp(s, "sw-protected"))
		*type = GMT_KVM_X86_SW_PROTECTED_VM;
	else if (!parse_u64(s, false, &v) && v <= INT_MAX)
		*type = (int)v;	/* raw numbers let tests provoke EINVAL */
	else
		return -EINVAL;
	return 0;
}

static int parse_dir(const char *s, enum dir_mode *dir)
{
	if (!strcmp(s, "alternate"))
		*dir = DIR_ALTERNATE;
	else if (!strcmp(s, "private"))
		*dir = DIR_PRIVATE;
	else if (!strcmp(s, "shared"))
		*dir = DIR_SHARED;
	else
		return -EINVAL;
	return 0;
}

static const char *dir_mode_name(enum dir_mode d)
{
	return d == DIR_PRIVATE ? "private" : d == DIR_SHARED ? "shared" : "alternate";
}

/* Range of round r: walks the guest_memfd and wraps (128-bit: no overflow) */
static __u64 round_offset(__u64 round, __u64 size, __u64 gmem_size)
{
	return (__u64)(((unsigned __int128)round * size) % gmem_size);
}

static bool round_to_private(enum dir_mode d, __u64 round)
{
	if (d == DIR_ALTERNATE)
		return !(round & 1);
	return d == DIR_PRIVATE;
}

/* ------------------------------------------------------------------ */
/* the guest: its plain memslot, code and page tables                  */

/*
 * The guest lives in a plain memslot (no guest_memfd) so that its code is
 * shared memory it can always execute; the guest_memfd slot is only the
 * target of its requests. Layout of that slot:
 */
#define GMW_GUEST_SLOT		1
#define GUEST_CODE_OFF		0x0000
#define GUEST_PML4_OFF		0x1000
#define GUEST_PDPT_OFF		0x2000
#define GUEST_PD_OFF		0x3000
#define GUEST_FAULT_OFF		0x4000	/* the page --guest-fault reads */
#define GUEST_RES_OFF		0x5000	/* u64 per hypercall: the RAX it returned */
#define GUEST_FAULT_MARK	0x5a	/* the VMM's byte in the fault page */
#define GUEST_RES_UNSET		0xa5a5a5a5a5a5a5a5ULL
#define GUEST_PAGE		4096ULL	/* x86 GPA page, whatever the host's */
#define GUEST_2M		(2ULL << 20)
#define GUEST_1G		(1ULL << 30)

#define PTE_P			(1ULL << 0)
#define PTE_RW			(1ULL << 1)
#define PTE_PS			(1ULL << 7)

/*
 * 64-bit code, entered in long mode with everything in registers:
 *   rdi requests left, r12 next GPA, r8/r9 guest_memfd GPA range (wrap),
 *   r15 stride (4096), r13 attrs of the next request, r14 attrs toggle,
 *   rsi results array, r10 fault page GPA (0: no fault phase).
 * Hypercall ABI (64-bit mode, CPL 0): rax nr, rbx/rcx/rdx args, ret in rax.
 */
static const __u8 guest_code[] = {
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

static const unsigned int guest_hc_at[] = { 0x15, 0x49 };

static __u64 align_up(__u64 v, __u64 a)
{
	return (v + a - 1) / a * a;
}

/* Results for n requests plus the fault phase (its ret and the byte read) */
static __u64 guest_slot_size(__u64 n)
{
	return align_up(GUEST_RES_OFF + (n + 2) * 8, GUEST_2M);
}

/* GPA 0 unless the guest_memfd slot is there; then the next free 1G */
static __u64 guest_code_gpa(const struct cfg *c)
{
	if (c->gpa_base >= guest_slot_size(c->guest))
		return 0;
	return align_up(c->gpa_base + c->gmem_size, GUEST_1G);
}

/*
 * Code, identity page tables (2M pages over the slot) and the fault page.
 * code_gpa is 1G aligned and the slot at most 1G, so one PD covers it.
 */
static void guest_build(void *mem, __u64 code_gpa, __u64 slot_size, __u64 n, bool intel)
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

static void guest_init_regs(struct kvm_regs *regs, const struct cfg *c, __u64 code_gpa,
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
static void guest_init_sregs(struct kvm_sregs *s, __u64 code_gpa)
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

/* Checks and defaults of --guest, at the end of parsing */
static int guest_check(struct cfg *c, struct argp_state *state)
{
	if (!c->guest) {
		if (c->guest_fault) {
			argp_error(state, "--guest-fault needs --guest");
			return -EINVAL;
		}
		return 0;
	}
	if (c->bench) {
		argp_error(state, "--bench times the VMM's conversion loop; it does not go with --guest");
		return -EINVAL;
	}
	if (c->gpa_base % GUEST_PAGE || c->gmem_size % GUEST_PAGE) {
		argp_error(state, "--guest needs a page aligned --gpa-base and --gmem-size");
		return -EINVAL;
	}
	/* x86 guest physical addresses have at most 52 bits */
	if (c->gpa_base >= (1ULL << 52) || c->gmem_size > (1ULL << 52) - c->gpa_base) {
		argp_error(state, "--guest needs --gpa-base + --gmem-size below 2^52");
		return -EINVAL;
	}
	/* the guest drives: no VMM conversions, G1 serving, unless asked */
	if (!c->uapi_set)
		c->uapi = UAPI_G1;
	if (!c->conversions_set)
		c->conversions = 0;
	return 0;
}

enum {
	OPT_VMS = 0x100, OPT_VM_TYPE, OPT_GMEM_SIZE, OPT_GMEM_FLAGS, OPT_GPA_BASE,
	OPT_VCPU, OPT_CONVERSIONS, OPT_UAPI, OPT_SIZE, OPT_DIR, OPT_INTERVAL,
	OPT_PUNCH, OPT_ALLOCATE, OPT_TOUCH, OPT_PIN, OPT_PIN_OFFSET, OPT_HOLD,
	OPT_HOLD_SIGNAL, OPT_UNPIN_SIGNAL, OPT_START_DELAY, OPT_WAIT_SIGNAL, OPT_JSON, OPT_JSON_OUT,
	OPT_NO_CALLS, OPT_MAX_CALLS, OPT_BENCH, OPT_GUEST, OPT_GUEST_FAULT,
	OPT_GUEST_TIMEOUT, OPT_GUEST_ABANDON,
	OPT_COMM, OPT_STORM,
};

const char *argp_program_version = "gmem-workload " GMT_VERSION;

static const char args_doc[] = "";
static const char doc[] =
"gmem-workload -- drive KVM guest_memfd shared<->private conversions\n"
"\n"
"Creates VMs with a guest_memfd and a memslot, then issues conversions through\n"
"the three uAPI generations: G1 KVM_SET_MEMORY_ATTRIBUTES (VM fd), G2\n"
"KVM_GMEM_CONVERT_SHARED/PRIVATE and G3 KVM_SET_MEMORY_ATTRIBUTES2 (guest_memfd\n"
"fd). Every ioctl result is recorded; ENOTTY from a kernel that lacks an ioctl\n"
"is data, not an error. --guest N runs a tiny guest on a vCPU of VM 0 that asks\n"
"for N conversions with KVM_HC_MAP_GPA_RANGE hypercalls, served here. Order:\n"
"setup, --allocate, --touch, --pin, --start-delay-ms/--wait-signal,\n"
"conversions, guest, --punch, --hold, release.\n"
"\n"
"SIZE accepts a K, M or G suffix; numbers may be given in hex (0x...).";

static const char doc_after[] =
"EXIT STATUS:\n"
"  0  done, whatever the ioctls returned\n"
"  1  runtime or setup error (e.g. KVM_CREATE_VM failed, output not writable)\n"
"  2  usage error (bad option or value)\n"
"  3  KVM not available (/dev/kvm missing or not openable)\n"
"\n"
"EXAMPLES:\n"
"  gmem-workload --json\n"
"      defaults: 1 VM, 2M guest_memfd, 16 rounds of G1+G2+G3, alternating\n"
"  gmem-workload --vms 3 --uapi g1 --dir private --conversions 100\n"
"  gmem-workload --pin 4 --hold 10 --uapi g3 --dir private --json\n"
"      pin 4 guest_memfd pages with io_uring, convert them, keep pins 10 s\n"
"  gmem-workload --wait-signal --json-out /tmp/wl.json &\n"
"      prints 'ready <pid>' on stderr; kill -USR1 <pid> starts the conversions\n"
"  gmem-workload --bench --uapi g1 --conversions 200000\n"
"      one JSON line with total_ns and ns_per_call\n"
"  gmem-workload --guest 8 --guest-fault --json\n"
"      a guest asks for 8 conversions by hypercall, then takes a memory fault\n";

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "VM setup:", 1 },
	{ "vms", OPT_VMS, "N", 0, "number of VMs (default 1)", 1 },
	{ "vm-type", OPT_VM_TYPE, "TYPE",  0,
	  "auto|default|sw-protected|NUMBER (default auto: sw-protected when "
	  "KVM_CAP_VM_TYPES has bit 1)", 1 },
	{ "gmem-size", OPT_GMEM_SIZE, "SIZE", 0, "guest_memfd size (default 2M)", 1 },
	{ "gmem-flags", OPT_GMEM_FLAGS, "N", 0,
	  "force the guest_memfd create flags (default: MMAP|INIT_SHARED as "
	  "supported, falling back to MMAP, then 0)", 1 },
	{ "gpa-base", OPT_GPA_BASE, "ADDR", 0, "memslot guest physical address "
	  "(default 0x100000000)", 1 },
	{ "vcpu", OPT_VCPU, NULL, 0, "also create vCPU 0 per VM", 1 },

	{ NULL, 0, NULL, 0, "Conversions:", 2 },
	{ "conversions", OPT_CONVERSIONS, "K", 0, "rounds per VM (default 16)", 2 },
	{ "uapi", OPT_UAPI, "LIST", 0, "g1,g2,g3 or all (default all)", 2 },
	{ "size", OPT_SIZE, "SIZE", 0, "bytes per conversion (default 4096; "
	  "unaligned sizes are allowed to provoke EINVAL)", 2 },
	{ "dir", OPT_DIR, "DIR", 0, "private|shared|alternate (default "
	  "alternate, starting with to-private)", 2 },
	{ "interval-us", OPT_INTERVAL, "U", 0, "sleep between conversions "
	  "(default 0)", 2 },

	{ NULL, 0, NULL, 0, "guest_memfd operations:", 3 },
	{ "punch", OPT_PUNCH, "N", 0, "N fallocate(PUNCH_HOLE|KEEP_SIZE) per VM "
	  "after the conversions", 3 },
	{ "allocate", OPT_ALLOCATE, "N", 0, "N fallocate(KEEP_SIZE) per VM "
	  "before the conversions", 3 },
	{ "touch", OPT_TOUCH, NULL, 0, "mmap each guest_memfd and write one byte "
	  "per page (SIGBUS is caught and recorded)", 3 },
	{ "pin", OPT_PIN, "PAGES", 0, "pin PAGES pages of VM 0's guest_memfd as "
	  "io_uring fixed buffers", 3 },
	{ "pin-offset", OPT_PIN_OFFSET, "OFF", 0, "guest_memfd offset of the "
	  "first pinned page (default 0)", 3 },

	{ "gmem-create-storm", OPT_STORM, "N", 0, "N KVM_CREATE_GUEST_MEMFD calls "
	  "with invalid flags (each fails with EINVAL) on VM 0, before the "
	  "conversions: a storm of records for a tracer", 3 },

	{ NULL, 0, NULL, 0, "Guest-initiated conversions:", 4 },
	{ "guest", OPT_GUEST, "N", 0, "run a guest on a vCPU of VM 0 that asks for "
	  "N one-page conversions with KVM_HC_MAP_GPA_RANGE (direction from --dir); "
	  "each is served with the --uapi conversion (default g1) and KVM_RUN "
	  "again; --conversions defaults to 0", 4 },
	{ "guest-fault", OPT_GUEST_FAULT, NULL, 0, "then the guest asks for a page "
	  "of its own plain memory to be private and reads it: a "
	  "KVM_EXIT_MEMORY_FAULT, served by converting the page back to shared", 4 },
	{ "guest-timeout", OPT_GUEST_TIMEOUT, "SECONDS", 0, "stop the guest after "
	  "SECONDS (default 60 + 1 per 1000 requests, 0: never)", 4 },
	{ "guest-abandon", OPT_GUEST_ABANDON, NULL, 0, "leave the guest's first "
	  "request unanswered: no conversion, no KVM_RUN again, the VMM exits (a "
	  "tracer must report it as incomplete)", 4 },

	{ NULL, 0, NULL, 0, "Start and hold control:", 5 },
	{ "start-delay-ms", OPT_START_DELAY, "MS", 0, "sleep after setup, before "
	  "the conversions", 5 },
	{ "wait-signal", OPT_WAIT_SIGNAL, NULL, 0, "print 'ready <pid>' on stderr "
	  "and wait for SIGUSR1 before the conversions", 5 },
	{ "hold", OPT_HOLD, "SECONDS", 0, "keep everything (pins included) alive "
	  "SECONDS before exiting; prints 'holding <pid>' on stderr (SIGUSR1 or "
	  "SIGTERM end it early)", 5 },
	{ "hold-until-signal", OPT_HOLD_SIGNAL, NULL, 0, "hold until SIGUSR1 or "
	  "SIGTERM", 5 },
	{ "unpin-on-signal", OPT_UNPIN_SIGNAL, NULL, 0, "while holding, the first "
	  "SIGUSR1 releases the pins (prints 'unpinned <pid>' on stderr) and the "
	  "hold goes on until SIGTERM or its end", 5 },

	{ "comm", OPT_COMM, "NAME", 0, "set this process's name (comm) to the raw "
	  "bytes of NAME with prctl(PR_SET_NAME) first (the kernel keeps 15 "
	  "bytes): tests of how tracers print hostile names", 5 },

	{ NULL, 0, NULL, 0, "Output:", 6 },
	{ "json", OPT_JSON, NULL, 0, "print one JSON document on stdout", 6 },
	{ "json-out", OPT_JSON_OUT, "FILE", 0, "write the JSON document to FILE", 6 },
	{ "no-calls", OPT_NO_CALLS, NULL, 0, "do not list each call (\"calls\" "
	  "is null; the summary still counts them)", 6 },
	{ "max-calls", OPT_MAX_CALLS, "N", 0, "list at most N calls (default "
	  "100000; the rest are counted in calls_truncated)", 6 },
	{ "bench", OPT_BENCH, NULL, 0, "print only one JSON line with the "
	  "conversion loop's total_ns and ns_per_call (implies --no-calls)", 6 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

static void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->vms = 1;
	c->vm_type = -1;
	c->gmem_size = 2ULL << 20;
	c->gpa_base = 0x100000000ULL;
	c->conversions = 16;
	c->uapi = UAPI_ALL;
	c->size = 4096;
	c->dir = DIR_ALTERNATE;
	c->max_calls = GMW_DEF_MAX_CALLS;
	c->guest_timeout_s = GMW_GUEST_TIMEOUT_AUTO;
}

/* argp_error exits with argp_err_exit_status (2) unless ARGP_NO_EXIT */
#define BAD_VALUE(state, opt, arg) do {					\
	argp_error(state, "invalid value for --%s: '%s'", opt, arg);	\
	return EINVAL;							\
} while (0)

/* ------------------------------------------------------------------ */
/* blocking scenario options (an argp child)                           */

enum {
	OPT_IN_PLACE = 0x200, OPT_PIN_PAGES, OPT_FRESH_PAGES, OPT_SCENARIO, OPT_RANGE,
	OPT_ORACLE, OPT_SEED, OPT_ORACLE_WAIT, OPT_GUEST_UNPIN_RETRY,
};

static const struct argp_option scn_options[] = {
	{ NULL, 0, NULL, 0, "In-place conversion and blocking scenarios (G3):", 7 },
	{ "in-place", OPT_IN_PLACE, NULL, 0, "bind each memslot to the guest_memfd's own "
	  "mmap (userspace_addr), as the in-place conversion series wants", 7 },
	{ "pin-pages", OPT_PIN_PAGES, "LIST", 0, "pin these pages of VM 0's guest_memfd, "
	  "each entry (P or P-Q for one buffer over pages P..Q) an io_uring fixed buffer "
	  "on a ring of its own", 7 },
	{ "fresh-pages", OPT_FRESH_PAGES, "LIST", 0, "before each conversion attempt, "
	  "punch these pages and write them again: new folios in a per-CPU LRU batch", 7 },
	{ "scenario", OPT_SCENARIO, "NAME", 0, "block-retry: convert --range to private "
	  "with G3; on EAGAIN release the pin at error_offset and retry; then back to "
	  "shared", 7 },
	{ "range", OPT_RANGE, "OFF:LEN", 0, "guest_memfd range of the scenario "
	  "(default: the whole file)", 7 },
	{ "oracle", OPT_ORACLE, "N", 0, "N random steps: pins and fresh pages change, a "
	  "random range is converted to private (and back when it worked)", 7 },
	{ "seed", OPT_SEED, "S", 0, "seed of --oracle (default 1)", 7 },
	{ "oracle-wait", OPT_ORACLE_WAIT, NULL, 0, "before each --oracle conversion print "
	  "'oracle STEP OFFSET SIZE' on stderr and wait for SIGUSR1", 7 },
	{ "guest-unpin-retry", OPT_GUEST_UNPIN_RETRY, NULL, 0, "with --guest: a G3 "
	  "conversion refused with EAGAIN releases the --pin-pages pin at error_offset "
	  "and is retried before the guest runs again", 7 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

/* "3,7-8,12": entries of one page or one buffer over a page range */
static int parse_page_list(const char *s, __u64 *first, __u64 *len, unsigned int max,
			   unsigned int *n, bool ranges)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		__u64 a, b;

		if (*n >= max)
			return -1;
		if (dash) {
			if (!ranges)
				return -1;
			*dash = 0;
			if (parse_u64(tok, false, &a) || parse_u64(dash + 1, false, &b) || b < a)
				return -1;
		} else {
			if (parse_u64(tok, false, &a))
				return -1;
			b = a;
		}
		first[*n] = a;
		if (len)
			len[*n] = b - a + 1;
		(*n)++;
	}
	return *n ? 0 : -1;
}

static error_t scn_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct scn_cfg *s = state->input;
	char *colon;

	switch (key) {
	case OPT_IN_PLACE:
		s->in_place = true;
		break;
	case OPT_PIN_PAGES:
		if (parse_page_list(arg, s->pin_page, s->pin_len, GMW_MAX_SPINS, &s->npins, true))
			BAD_VALUE(state, "pin-pages", arg);
		break;
	case OPT_FRESH_PAGES:
		if (parse_page_list(arg, s->fresh, NULL, GMW_MAX_FRESH, &s->nfresh, false))
			BAD_VALUE(state, "fresh-pages", arg);
		break;
	case OPT_SCENARIO:
		if (strcmp(arg, "block-retry"))
			BAD_VALUE(state, "scenario", arg);
		s->scenario = SCN_BLOCK_RETRY;
		break;
	case OPT_RANGE:
		colon = strchr(arg, ':');
		if (!colon)
			BAD_VALUE(state, "range", arg);
		*colon = 0;
		if (parse_u64(arg, true, &s->range_off) || parse_u64(colon + 1, true, &s->range_len) ||
		    !s->range_len) {
			*colon = ':';
			BAD_VALUE(state, "range", arg);
		}
		*colon = ':';
		s->range_set = true;
		break;
	case OPT_ORACLE:
		if (parse_u64(arg, false, &s->oracle) || !s->oracle || s->oracle > GMW_MAX_ORACLE)
			BAD_VALUE(state, "oracle", arg);
		break;
	case OPT_SEED:
		if (parse_u64(arg, false, &s->seed))
			BAD_VALUE(state, "seed", arg);
		break;
	case OPT_ORACLE_WAIT:
		s->oracle_wait = true;
		break;
	case OPT_GUEST_UNPIN_RETRY:
		s->guest_unpin_retry = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp scn_argp = { .options = scn_options, .parser = scn_parse_opt };

/* checks that need the whole configuration, from the parent's KEY_END */
static int scn_check(struct cfg *c, struct argp_state *state)
{
	struct scn_cfg *s = &c->scn;
	long ps = sysconf(_SC_PAGESIZE);
	__u64 page = ps > 0 ? (__u64)ps : 4096, npages = c->gmem_size / page;
	unsigned int i, j;

	if (s->seed == 0)
		s->seed = 1;
	for (i = 0; i < s->npins; i++) {
		if (s->pin_page[i] >= npages || s->pin_len[i] > npages - s->pin_page[i]) {
			argp_error(state, "--pin-pages entry %llu (+%llu) is outside --gmem-size",
				   (unsigned long long)s->pin_page[i],
				   (unsigned long long)s->pin_len[i]);
			return EINVAL;
		}
		for (j = 0; j < i; j++)
			if (s->pin_page[i] < s->pin_page[j] + s->pin_len[j] &&
			    s->pin_page[j] < s->pin_page[i] + s->pin_len[i]) {
				argp_error(state, "--pin-pages entries overlap");
				return EINVAL;
			}
	}
	for (i = 0; i < s->nfresh; i++)
		if (s->fresh[i] >= npages) {
			argp_error(state, "--fresh-pages %llu is outside --gmem-size",
				   (unsigned long long)s->fresh[i]);
			return EINVAL;
		}
	if (s->range_set && (s->range_off % page || s->range_len % page ||
			     s->range_off >= c->gmem_size ||
			     s->range_len > c->gmem_size - s->range_off)) {
		argp_error(state, "--range must be page aligned and inside --gmem-size");
		return EINVAL;
	}
	if (s->scenario && !s->npins) {
		argp_error(state, "--scenario block-retry needs --pin-pages");
		return EINVAL;
	}
	if (s->scenario && s->oracle) {
		argp_error(state, "--scenario and --oracle exclude each other");
		return EINVAL;
	}
	if (s->oracle && npages < 2) {
		argp_error(state, "--oracle needs a guest_memfd of at least 2 pages");
		return EINVAL;
	}
	if (s->oracle_wait && !s->oracle) {
		argp_error(state, "--oracle-wait needs --oracle");
		return EINVAL;
	}
	if (s->guest_unpin_retry && (!c->guest || !s->npins)) {
		argp_error(state, "--guest-unpin-retry needs --guest and --pin-pages");
		return EINVAL;
	}
	if ((s->scenario || s->oracle) && c->bench) {
		argp_error(state, "--scenario/--oracle cannot be combined with --bench");
		return EINVAL;
	}
	return 0;
}

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct cfg *c = state->input;
	__u64 v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &c->scn;
		break;
	case OPT_VMS:
		if (parse_u64(arg, false, &v) || !v || v > GMW_MAX_VMS)
			BAD_VALUE(state, "vms", arg);
		c->vms = (unsigned int)v;
		break;
	case OPT_VM_TYPE:
		if (parse_vm_type(arg, &c->vm_type))
			BAD_VALUE(state, "vm-type", arg);
		break;
	case OPT_GMEM_SIZE:
		if (parse_u64(arg, true, &c->gmem_size) || !c->gmem_size)
			BAD_VALUE(state, "gmem-size", arg);
		break;
	case OPT_GMEM_FLAGS:
		if (parse_u64(arg, false, &c->gmem_flags))
			BAD_VALUE(state, "gmem-flags", arg);
		c->gmem_flags_set = true;
		break;
	case OPT_GPA_BASE:
		if (parse_u64(arg, true, &c->gpa_base))
			BAD_VALUE(state, "gpa-base", arg);
		break;
	case OPT_VCPU:
		c->vcpu = true;
		break;
	case OPT_CONVERSIONS:
		if (parse_u64(arg, false, &c->conversions))
			BAD_VALUE(state, "conversions", arg);
		c->conversions_set = true;
		break;
	case OPT_UAPI:
		if (parse_uapi(arg, &c->uapi))
			BAD_VALUE(state, "uapi", arg);
		c->uapi_set = true;
		break;
	case OPT_SIZE:
		if (parse_u64(arg, true, &c->size) || !c->size)
			BAD_VALUE(state, "size", arg);
		break;
	case OPT_DIR:
		if (parse_dir(arg, &c->dir))
			BAD_VALUE(state, "dir", arg);
		break;
	case OPT_INTERVAL:
		if (parse_u64(arg, false, &c->interval_us) || c->interval_us > 3600000000ULL)
			BAD_VALUE(state, "interval-us", arg);
		break;
	case OPT_PUNCH:
		if (parse_u64(arg, false, &c->punch) || c->punch > GMW_MAX_FOPS)
			BAD_VALUE(state, "punch", arg);
		break;
	case OPT_ALLOCATE:
		if (parse_u64(arg, false, &c->allocate) || c->allocate > GMW_MAX_FOPS)
			BAD_VALUE(state, "allocate", arg);
		break;
	case OPT_TOUCH:
		c->touch = true;
		break;
	case OPT_PIN:
		if (parse_u64(arg, false, &c->pin_pages) || !c->pin_pages ||
		    c->pin_pages > GMW_MAX_PIN_PAGES)
			BAD_VALUE(state, "pin", arg);
		break;
	case OPT_PIN_OFFSET:
		if (parse_u64(arg, true, &c->pin_offset))
			BAD_VALUE(state, "pin-offset", arg);
		break;
	case OPT_HOLD:
		if (parse_u64(arg, false, &c->hold_s) || c->hold_s > 86400ULL * 365)
			BAD_VALUE(state, "hold", arg);
		break;
	case OPT_UNPIN_SIGNAL:
		c->unpin_on_signal = true;
		break;
	case OPT_HOLD_SIGNAL:
		c->hold_until_signal = true;
		break;
	case OPT_START_DELAY:
		if (parse_u64(arg, false, &c->start_delay_ms) ||
		    c->start_delay_ms > 86400000ULL)
			BAD_VALUE(state, "start-delay-ms", arg);
		break;
	case OPT_WAIT_SIGNAL:
		c->wait_signal = true;
		break;
	case OPT_JSON:
		c->json = true;
		break;
	case OPT_JSON_OUT:
		if (!*arg)
			BAD_VALUE(state, "json-out", arg);
		c->json_out = arg;
		break;
	case OPT_NO_CALLS:
		c->no_calls = true;
		break;
	case OPT_MAX_CALLS:
		if (parse_u64(arg, false, &c->max_calls))
			BAD_VALUE(state, "max-calls", arg);
		break;
	case OPT_BENCH:
		c->bench = true;
		c->no_calls = true;
		break;
	case OPT_GUEST:
		if (parse_u64(arg, false, &c->guest) || !c->guest || c->guest > GMW_MAX_GUEST)
			BAD_VALUE(state, "guest", arg);
		break;
	case OPT_GUEST_FAULT:
		c->guest_fault = true;
		break;
	case OPT_GUEST_ABANDON:
		c->guest_abandon = true;
		break;
	case OPT_GUEST_TIMEOUT:
		if (parse_u64(arg, false, &c->guest_timeout_s) || c->guest_timeout_s > 86400)
			BAD_VALUE(state, "guest-timeout", arg);
		break;
	case OPT_COMM:
		if (!*arg)
			BAD_VALUE(state, "comm", arg);
		c->comm = arg;
		break;
	case OPT_STORM:
		if (parse_u64(arg, false, &c->gmem_create_storm) ||
		    c->gmem_create_storm > 100000000ULL)
			BAD_VALUE(state, "gmem-create-storm", arg);
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	case ARGP_KEY_END:
		if (c->pin_pages) {
			long ps = sysconf(_SC_PAGESIZE);
			__u64 page = ps > 0 ? (__u64)ps : 4096;

			if (c->pin_offset % page) {
				argp_error(state, "--pin-offset must be page aligned");
				return EINVAL;
			}
			if (c->pin_offset >= c->gmem_size ||
			    c->pin_pages > (c->gmem_size - c->pin_offset) / page) {
				argp_error(state, "--pin %llu pages at offset %llu do not fit in --gmem-size %llu",
					   (unsigned long long)c->pin_pages,
					   (unsigned long long)c->pin_offset,
					   (unsigned long long)c->gmem_size);
				return EINVAL;
			}
		} else if (c->pin_offset) {
			argp_error(state, "--pin-offset needs --pin");
			return EINVAL;
		}
		if (guest_check(c, state))
			return EINVAL;
		if (scn_check(c, state))
			return EINVAL;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child argp_children[] = {
	{ &scn_argp, 0, NULL, 7 },
	{ NULL, 0, NULL, 0 },
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.children = argp_children,
	.args_doc = args_doc,
	.doc = NULL,	/* set in parse_args: doc "\v" doc_after */
};

/* Returns 0 or an errno; flags are argp_parse flags (tests pass ARGP_SILENT) */
static int parse_args(int argc, char **argv, struct cfg *c, unsigned int flags)
{
	static char full_doc[sizeof(doc) + sizeof(doc_after) + 1];
	struct argp a = argp;

	snprintf(full_doc, sizeof(full_doc), "%s\v%s", doc, doc_after);
	a.doc = full_doc;
	argp_err_exit_status = EXIT_USAGE;
	cfg_init(c);
	return argp_parse(&a, argc, argv, flags, NULL, c);
}

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static const char *errname(long ret)
{
	const char *n = ret < 0 ? strerrorname_np((int)-ret) : NULL;

	return n ? n : "?";
}

static long sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

static long check_ext(int fd, long cap)
{
	return sys_ret(ioctl(fd, GMT_KVM_CHECK_EXTENSION, cap));
}

static void hist_add(struct ret_hist *h, long ret)
{
	unsigned int i;

	h->calls++;
	for (i = 0; i < h->n; i++) {
		if (h->ret[i] == ret) {
			h->count[i]++;
			return;
		}
	}
	if (h->n == GMW_MAX_RETS) {
		h->other++;
		return;
	}
	h->ret[h->n] = ret;
	h->count[h->n++] = 1;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* SIGBUS while touching guest_memfd pages (private memory) is data */
static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_armed;
static void *volatile bus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (!bus_armed) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	bus_armed = 0;
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGINT, &sa, NULL))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		return -errno;
	return 0;
}

/*
 * Wait until timeout_ns passes (UINT64_MAX: forever), SIGTERM/SIGINT, or
 * SIGUSR1 when usr1_ends. Signals stay blocked except inside ppoll, so
 * none is lost between the flag check and the sleep.
 */
static void wait_for(__u64 timeout_ns, bool usr1_ends)
{
	__u64 deadline = timeout_ns == UINT64_MAX ? UINT64_MAX : now_ns() + timeout_ns;
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		struct timespec ts, *tsp = NULL;
		__u64 now;

		if (got_term || (usr1_ends && got_usr1))
			break;
		if (deadline != UINT64_MAX) {
			__u64 left;

			now = now_ns();
			if (now >= deadline)
				break;
			left = deadline - now;
			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		ppoll(NULL, 0, tsp, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Write one byte per page; stops at the first SIGBUS */
static void touch_range(char *base, __u64 len, __u64 page, struct touch_res *t)
{
	volatile __u64 off = 0;

	t->done = true;
	t->sigbus_off = -1;
	if (sigsetjmp(bus_jmp, 1)) {
		t->pages = off / page;
		t->sigbus_off = (__s64)((char *)bus_addr - base);
		return;
	}
	bus_armed = 1;
	for (; off < len; off += page)
		((volatile char *)base)[off] = 1;
	bus_armed = 0;
	t->pages = off / page;
}

/*
 * Pages FOLL_PIN-pinned system-wide right now (acquired - released in
 * /proc/vmstat), after folding per-CPU deltas when allowed; -1 unknown.
 * Net, because a long-term pin may pin, unpin and re-pin (migration retry).
 */
static long long read_vmstat_pins(void)
{
	long long acq = -1, rel = -1;
	char line[256];
	FILE *f;
	int fd;

	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* best effort: unfolded counters only lag */
		}
		close(fd);
	}
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "nr_foll_pin_acquired ", 21))
			acq = strtoll(line + 21, NULL, 10);
		else if (!strncmp(line, "nr_foll_pin_released ", 21))
			rel = strtoll(line + 21, NULL, 10);
	}
	fclose(f);
	return acq >= 0 && rel >= 0 ? acq - rel : -1;
}

/* ------------------------------------------------------------------ */
/* setup                                                               */

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
static void gmem_create_storm(struct run *r)
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

static int setup_vm(struct run *r, unsigned int idx, int type)
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

static void do_fallocates(struct run *r, int mode, __u64 n, struct fop_rec *out)
{
	const struct cfg *cfg = r->cfg;
	unsigned int v;
	__u64 i, k = 0;

	for (v = 0; v < r->nvms; v++) {
		struct vm *vm = &r->vms[v];

		for (i = 0; i < n; i++) {
			struct fop_rec *f = &out[k++];

			f->vm = (__u16)v;
			f->mode = (__u8)mode;
			f->offset = round_offset(i, cfg->size, cfg->gmem_size);
			f->len = cfg->size;
			if (vm->gmem_fd < 0) {
				f->skipped = 1;
				r->hist[OP_FALLOCATE].skipped++;
				continue;
			}
			f->ret = (__s32)sys_ret(fallocate(vm->gmem_fd, mode, (off_t)f->offset,
							  (off_t)f->len));
			hist_add(&r->hist[OP_FALLOCATE], f->ret);
		}
	}
}

static void do_touch(struct run *r)
{
	unsigned int v;

	for (v = 0; v < r->nvms; v++) {
		struct vm *vm = &r->vms[v];
		void *p;

		vm->touch.sigbus_off = -1;
		if (vm->gmem_fd < 0)
			continue;
		vm->touch.done = true;
		p = mmap(NULL, r->cfg->gmem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vm->gmem_fd, 0);
		if (p == MAP_FAILED) {
			vm->touch.mmap_ret = -errno;
			continue;
		}
		touch_range(p, r->cfg->gmem_size, r->page_size, &vm->touch);
		munmap(p, r->cfg->gmem_size);
	}
}

static void do_pin(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct pin_state *p = &r->pin;
	struct vm *vm = &r->vms[0];
	__u64 len = cfg->pin_pages * r->page_size, i;
	long long before, after;	/* net pinned pages around the register */
	struct iovec *iov;

	p->requested = true;
	p->pin_delta = LLONG_MIN;
	p->touch.sigbus_off = -1;
	if (vm->gmem_fd < 0) {
		p->error = "no guest_memfd";
		return;
	}
	p->mmap_tried = true;
	p->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem_fd,
		      (off_t)cfg->pin_offset);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		p->mmap_ret = -errno;
		p->error = "mmap of the guest_memfd failed";
		return;
	}
	touch_range(p->map, len, r->page_size, &p->touch);

	p->ring_tried = true;
	p->ring_ret = io_uring_queue_init(1, &p->ring, 0);
	if (p->ring_ret < 0) {
		p->error = "io_uring_queue_init failed";
		return;
	}
	p->ring_ok = true;

	iov = calloc(cfg->pin_pages, sizeof(*iov));
	if (!iov) {
		p->error = "out of memory";
		return;
	}
	/* one buffer per page: each pinned offset is a separate registration */
	for (i = 0; i < cfg->pin_pages; i++) {
		iov[i].iov_base = (char *)p->map + i * r->page_size;
		iov[i].iov_len = r->page_size;
	}
	before = read_vmstat_pins();
	p->register_ret = io_uring_register_buffers(&p->ring, iov, (unsigned int)cfg->pin_pages);
	after = read_vmstat_pins();
	if (before >= 0 && after >= 0)
		p->pin_delta = after - before;
	hist_add(&r->hist[OP_IOURING_REG], p->register_ret);
	free(iov);
}

static void release_pin(struct run *r)
{
	struct pin_state *p = &r->pin;

	if (!p->requested)
		return;
	if (p->ring_ok) {
		if (p->register_ret == 0) {
			p->unregister_ret = io_uring_unregister_buffers(&p->ring);
			p->unregistered = true;
		}
		/* the kernel drops the pins when the ring context goes away */
		io_uring_queue_exit(&p->ring);
		p->ring_ok = false;
		p->released = true;
	}
	if (p->map) {
		munmap(p->map, r->cfg->pin_pages * r->page_size);
		p->map = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* conversions                                                         */

static void record_call(struct run *r, const struct call_rec *c)
{
	if (r->cfg->no_calls)
		return;
	if (r->ncalls >= r->cfg->max_calls) {
		r->calls_truncated++;
		return;
	}
	if (r->ncalls == r->calls_cap) {
		__u64 ncap = r->calls_cap ? r->calls_cap * 2 : 1024;
		struct call_rec *n;

		if (ncap > r->cfg->max_calls)
			ncap = r->cfg->max_calls;
		n = realloc(r->calls, ncap * sizeof(*n));
		if (!n) {
			r->calls_truncated++;
			return;
		}
		r->calls = n;
		r->calls_cap = ncap;
	}
	r->calls[r->ncalls++] = *c;
}

/*
 * One conversion of VM v through uAPI gen (1..3) of [gpa, gpa + size),
 * recorded with c's round and flags. G2 and G3 address the guest_memfd by
 * offset: a GPA outside it is skipped. False when skipped.
 */
static bool convert_range(struct run *r, unsigned int v, int gen, bool priv, __u64 gpa,
			  __u64 size, struct call_rec *c, long *retp)
{
	const struct cfg *cfg = r->cfg;
	struct vm *vm = &r->vms[v];
	__u64 off = gpa - cfg->gpa_base;
	bool inside = gpa >= cfg->gpa_base && off < cfg->gmem_size;
	long ret;

	c->size = size;
	c->vm = (__u16)v;
	if (priv)
		c->flags |= CALL_PRIV;
	if (gen == 1) {
		struct gmt_kvm_memory_attributes a = {
			.address = gpa,
			.size = size,
			.attributes = priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		};

		c->op = OP_G1;
		c->start = gpa;
		ret = ioctl(vm->vm_fd, GMT_KVM_SET_MEMORY_ATTRIBUTES, &a);
		ret = ret < 0 ? -errno : ret;
	} else if (gen == 2) {
		struct gmt_kvm_gmem_convert g;

		c->op = priv ? OP_G2_PRIVATE : OP_G2_SHARED;
		c->start = off;
		if (!inside)
			goto outside;
		if (vm->gmem_fd < 0)
			goto skipped;
		memset(&g, 0, sizeof(g));
		g.offset = off;
		g.size = size;
		ret = ioctl(vm->gmem_fd, priv ? GMT_KVM_GMEM_CONVERT_PRIVATE :
				     GMT_KVM_GMEM_CONVERT_SHARED, &g);
		ret = ret < 0 ? -errno : ret;
		c->error_offset = g.error_offset;
	} else {
		struct gmt_kvm_memory_attributes2 g;

		c->op = OP_G3;
		c->start = off;
		if (!inside)
			goto outside;
		if (vm->gmem_fd < 0)
			goto skipped;
		memset(&g, 0, sizeof(g));
		g.offset = off;
		g.size = size;
		g.attributes = priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
		ret = ioctl(vm->gmem_fd, GMT_KVM_SET_MEMORY_ATTRIBUTES2, &g);
		ret = ret < 0 ? -errno : ret;
		c->error_offset = g.error_offset;
	}
	c->ret = (__s32)ret;
	/* error_offset means something only with EAGAIN (G2/G3) */
	if (ret == -EAGAIN && gen != 1)
		c->flags |= CALL_HAS_EO;
	hist_add(&r->hist[c->op], ret);
	record_call(r, c);
	*retp = ret;
	return true;
outside:
	c->flags |= CALL_OUTSIDE;
	c->start = 0;
skipped:
	c->flags |= CALL_SKIPPED;
	r->hist[c->op].skipped++;
	record_call(r, c);
	return false;
}

/* One conversion of VM v through uAPI generation gen (1..3) */
static void issue(struct run *r, unsigned int v, int gen, __u64 round)
{
	const struct cfg *cfg = r->cfg;
	__u64 off = round_offset(round, cfg->size, cfg->gmem_size);
	struct call_rec c = { .round = round };
	long ret;

	if (convert_range(r, v, gen, round_to_private(cfg->dir, round), cfg->gpa_base + off,
			  cfg->size, &c, &ret))
		r->conv_issued++;
}

static void sleep_us(__u64 us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000ULL),
		.tv_nsec = (long)(us % 1000000ULL) * 1000L,
	};

	/* a signal cuts the sleep short: the loop then sees got_term */
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}

static void run_conversions(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	bool first = true;
	__u64 t0, round;

	t0 = now_ns();
	for (round = 0; round < cfg->conversions; round++) {
		unsigned int v;

		for (v = 0; v < r->nvms; v++) {
			int gen;

			for (gen = 1; gen <= 3; gen++) {
				if (!(cfg->uapi & (1u << (gen - 1))))
					continue;
				if (got_term)
					goto out;
				if (cfg->interval_us && !first)
					sleep_us(cfg->interval_us);
				first = false;
				issue(r, v, gen, round);
			}
		}
	}
out:
	r->conv_ns = now_ns() - t0;
	if (got_term)
		r->interrupted = true;
}

/* ------------------------------------------------------------------ */
/* blocking scenarios: pins, fresh pages, block-retry, oracle          */

/* splitmix64: the same sequence from the same --seed everywhere */
static __u64 scn_rand(struct scn_state *s)
{
	__u64 z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* VM 0's guest_memfd as mapped here: the memslot's own mapping with
 * --in-place, else one mapping made for the scenario */
static char *scn_map(struct run *r)
{
	static char *own;
	struct vm *vm = &r->vms[0];
	void *p;

	if (r->cfg->scn.in_place)
		return vm->backing;
	if (own)
		return own;
	p = mmap(NULL, r->cfg->gmem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem_fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	own = p;
	return own;
}

static int scn_pin_hold(struct run *r, struct scn_pin *p, __u64 when)
{
	char *map = scn_map(r);
	struct iovec iov;

	if (!map)
		return -EFAULT;
	p->ring_ret = io_uring_queue_init(1, &p->ring, 0);
	if (p->ring_ret < 0)
		return (int)p->ring_ret;
	p->ring_ok = true;
	iov.iov_base = map + p->page * r->page_size;
	iov.iov_len = p->npages * r->page_size;
	p->register_ret = io_uring_register_buffers(&p->ring, &iov, 1);
	hist_add(&r->hist[OP_IOURING_REG], p->register_ret);
	if (p->register_ret) {
		io_uring_queue_exit(&p->ring);
		p->ring_ok = false;
		return (int)p->register_ret;
	}
	p->held = true;
	p->pinned_at = when;
	p->released_at = -1;
	return 0;
}

static void scn_pin_release(struct scn_pin *p, __s64 when)
{
	if (!p->ring_ok)
		return;
	if (p->held)
		p->unregister_ret = io_uring_unregister_buffers(&p->ring);
	/* the kernel drops the pins when the ring context goes away */
	io_uring_queue_exit(&p->ring);
	p->ring_ok = false;
	p->held = false;
	p->released_at = when;
}

/* the held pin covering guest_memfd byte offset off, or NULL */
static struct scn_pin *scn_pin_at(struct run *r, __u64 off)
{
	struct scn_state *s = &r->scn;
	__u64 page = off / r->page_size;
	unsigned int i;

	for (i = 0; i < s->npins; i++)
		if (s->pins[i].held && page >= s->pins[i].page &&
		    page < s->pins[i].page + s->pins[i].npages)
			return &s->pins[i];
	return NULL;
}

static bool scn_page_pinned(struct run *r, __u64 page)
{
	return scn_pin_at(r, page * r->page_size) != NULL;
}

static void scn_touch(struct run *r, __u64 off, __u64 len);

/* --pin-pages: pinned after --touch, before the conversions */
static void scn_setup(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	char *map;

	s->rng = c->seed;
	if (!c->npins && !c->oracle)
		return;
	s->used = true;
	if (r->vms[0].gmem_fd < 0) {
		s->error = "no guest_memfd";
		return;
	}
	map = scn_map(r);
	if (!map) {
		s->error = "mmap of the guest_memfd failed";
		return;
	}
	/* every page present and shared-mapped before anything is pinned */
	scn_touch(r, 0, r->cfg->gmem_size);
	for (s->npins = 0; s->npins < c->npins; s->npins++) {
		struct scn_pin *p = &s->pins[s->npins];

		p->page = c->pin_page[s->npins];
		p->npages = c->pin_len[s->npins];
		if (scn_pin_hold(r, p, 0) && !s->error)
			s->error = "io_uring pin failed";
	}
}

static void scn_teardown(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->scn.npins; i++)
		scn_pin_release(&r->scn.pins[i], -2);
}

/* punch a page and write it again: a new folio, in this CPU's lru_add batch */
static bool scn_freshen(struct run *r, __u64 page)
{
	char *map = scn_map(r);

	if (!map || scn_page_pinned(r, page))
		return false;
	if (fallocate(r->vms[0].gmem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(page * r->page_size), (off_t)r->page_size)) {
		r->scn.fresh_punch_err++;
		return false;
	}
	scn_touch(r, page * r->page_size, r->page_size);
	return true;
}

static void scn_touch(struct run *r, __u64 off, __u64 len)
{
	struct touch_res t;
	char *map = scn_map(r);

	if (map)
		touch_range(map + off, len, r->page_size, &t);
}

/* the pages held right now, for the step's record */
static void scn_note_pins(const struct scn_state *s, struct scn_step *st)
{
	unsigned int i;
	__u64 k;

	for (i = 0; i < s->npins; i++)
		for (k = 0; s->pins[i].held && k < s->pins[i].npages; k++)
			if (st->npinned < GMW_STEP_PINS)
				st->pinned[st->npinned++] = s->pins[i].page + k;
}

static struct scn_step *scn_new_step(struct run *r)
{
	struct scn_state *s = &r->scn;
	struct scn_step *n = realloc(s->steps, (s->nsteps + 1) * sizeof(*n));

	if (!n)
		return NULL;
	s->steps = n;
	n = &s->steps[s->nsteps++];
	memset(n, 0, sizeof(*n));
	n->back_ret = 1;
	n->released_page = -1;
	scn_note_pins(s, n);
	return n;
}

/* one G3 conversion of VM 0's guest_memfd, recorded as a call of round `round` */
static long scn_convert(struct run *r, __u64 off, __u64 len, bool priv, __u64 round,
			__u64 *eo)
{
	struct call_rec c = { .round = round };
	long ret = -EINVAL;

	if (convert_range(r, 0, 3, priv, r->cfg->gpa_base + off, len, &c, &ret))
		r->conv_issued++;
	*eo = c.error_offset;
	return ret;
}

/* --scenario block-retry */
static void scn_block_retry(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	__u64 off = c->range_set ? c->range_off : 0;
	__u64 len = c->range_set ? c->range_len : r->cfg->gmem_size;
	__u64 attempt, eo, back_eo;
	unsigned int i;

	for (attempt = 0; attempt <= s->npins + 1 && !got_term; attempt++) {
		struct scn_step *st = scn_new_step(r);
		struct scn_pin *p;
		long ret;

		if (!st)
			break;
		for (i = 0; i < c->nfresh; i++)
			if (scn_freshen(r, c->fresh[i]) && st->nfresh < 4)
				st->fresh[st->nfresh++] = c->fresh[i];
		st->offset = off;
		st->size = len;
		ret = scn_convert(r, off, len, true, attempt, &eo);
		st->ret = (__s32)ret;
		st->error_offset = ret == -EAGAIN ? eo : 0;
		if (ret != -EAGAIN)
			break;
		p = scn_pin_at(r, eo);
		if (!p)
			break;	/* refused at a page we do not hold: nothing to release */
		st->released_page = (__s64)(eo / r->page_size);
		scn_pin_release(p, (__s64)attempt);
	}
	if (s->nsteps && s->steps[s->nsteps - 1].ret == 0) {
		s->steps[s->nsteps - 1].back_ret = (__s32)scn_convert(r, off, len, false, attempt,
								      &back_eo);
		scn_touch(r, off, len);
	}
}

/* --oracle N: random pins, fresh pages and ranges, reproducible from --seed */
static void scn_oracle(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	__u64 npages = r->cfg->gmem_size / r->page_size, step, eo;
	unsigned int i;

	for (step = 0; step < c->oracle && !got_term; step++) {
		struct scn_step *st;
		__u64 a, n, k;
		long ret;

		/* each pin goes with probability 1/3; up to 4 held */
		for (i = 0; i < s->npins; i++)
			if (s->pins[i].held && scn_rand(s) % 3 == 0)
				scn_pin_release(&s->pins[i], (__s64)step);
		for (k = 0; k < 2; k++) {
			struct scn_pin *p;
			__u64 pg = scn_rand(s) % npages, held = 0;

			for (i = 0; i < s->npins; i++)
				held += s->pins[i].held;
			if (held >= 4 || scn_rand(s) % 2 || s->npins >= GMW_MAX_SPINS ||
			    scn_page_pinned(r, pg))
				continue;
			/* recycle a released slot */
			for (i = 0; i < s->npins; i++)
				if (!s->pins[i].ring_ok)
					break;
			p = &s->pins[i];
			if (i == s->npins)
				s->npins++;
			memset(p, 0, sizeof(*p));
			p->page = pg;
			p->npages = 1;
			/* now and then one buffer over two pages */
			if (pg + 1 < npages && !scn_page_pinned(r, pg + 1) && scn_rand(s) % 4 == 0)
				p->npages = 2;
			if (scn_pin_hold(r, p, step) && !s->error)
				s->error = "io_uring pin failed";
		}
		st = scn_new_step(r);
		if (!st)
			break;
		n = scn_rand(s) % 3;
		for (k = 0; k < n; k++) {
			__u64 pg = scn_rand(s) % npages;

			if (scn_freshen(r, pg))
				st->fresh[st->nfresh++] = pg;
		}
		a = scn_rand(s) % npages;
		n = 1 + scn_rand(s) % (npages - a);
		st->offset = a * r->page_size;
		st->size = n * r->page_size;
		if (c->oracle_wait) {
			fprintf(stderr, "oracle %llu %llu %llu\n", (unsigned long long)step,
				(unsigned long long)st->offset, (unsigned long long)st->size);
			wait_for(UINT64_MAX, true);
			got_usr1 = 0;
			if (got_term) {
				s->nsteps--;
				break;
			}
		}
		ret = scn_convert(r, st->offset, st->size, true, step, &eo);
		st->ret = (__s32)ret;
		st->error_offset = ret == -EAGAIN ? eo : 0;
		if (ret == 0) {
			st->back_ret = (__s32)scn_convert(r, st->offset, st->size, false, step, &eo);
			scn_touch(r, st->offset, st->size);
		}
	}
}

static void scn_run(struct run *r)
{
	__u64 t0;

	if (!r->scn.used || r->scn.error || (!r->cfg->scn.scenario && !r->cfg->scn.oracle))
		return;
	t0 = now_ns();
	if (r->cfg->scn.scenario == SCN_BLOCK_RETRY)
		scn_block_retry(r);
	else
		scn_oracle(r);
	r->conv_ns += now_ns() - t0;
	if (got_term)
		r->interrupted = true;
}

/* --guest-unpin-retry: serve a refused G3 request again after releasing the
 * pin at error_offset, as a VMM that owns the pin would */
static bool scn_guest_release(struct run *r, long ret, __u64 eo, __u64 idx)
{
	struct scn_pin *p;

	if (!r->cfg->scn.guest_unpin_retry || ret != -EAGAIN)
		return false;
	p = scn_pin_at(r, eo);
	if (!p)
		return false;
	scn_pin_release(p, (__s64)idx);
	return true;
}

static struct json_object *j_u64_list(const __u64 *v, unsigned int n)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_uint64(v[i]));
	return a;
}

static struct json_object *j_scenario(const struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	const struct scn_state *s = &r->scn;
	struct json_object *o, *a;
	unsigned int i;
	__u64 k, nblocked = 0;

	if (!s->used && !c->in_place)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "in_place", json_object_new_boolean(c->in_place));
	json_object_object_add(o, "name", json_object_new_string(
		c->scenario == SCN_BLOCK_RETRY ? "block-retry" : c->oracle ? "oracle" : "none"));
	json_object_object_add(o, "seed", c->oracle ? json_object_new_uint64(c->seed) : NULL);
	json_object_object_add(o, "page_size", json_object_new_uint64(r->page_size));
	a = json_object_new_array();
	for (i = 0; i < s->npins; i++) {
		const struct scn_pin *p = &s->pins[i];
		struct json_object *q = json_object_new_object();

		json_object_object_add(q, "page", json_object_new_uint64(p->page));
		json_object_object_add(q, "offset", json_object_new_uint64(p->page * r->page_size));
		json_object_object_add(q, "npages", json_object_new_uint64(p->npages));
		json_object_object_add(q, "register_ret", json_object_new_int64(p->register_ret));
		json_object_object_add(q, "released_at", p->released_at >= 0 ?
				       json_object_new_int64(p->released_at) : NULL);
		json_object_array_add(a, q);
	}
	json_object_object_add(o, "pins", a);
	a = json_object_new_array();
	for (k = 0; k < s->nsteps; k++) {
		const struct scn_step *st = &s->steps[k];
		struct json_object *q = json_object_new_object();

		json_object_object_add(q, "step", json_object_new_uint64(k));
		json_object_object_add(q, "offset", json_object_new_uint64(st->offset));
		json_object_object_add(q, "size", json_object_new_uint64(st->size));
		json_object_object_add(q, "pinned_pages", j_u64_list(st->pinned, st->npinned));
		json_object_object_add(q, "fresh_pages", j_u64_list(st->fresh, st->nfresh));
		json_object_object_add(q, "ret", json_object_new_int(st->ret));
		json_object_object_add(q, "error_offset", st->ret == -EAGAIN ?
				       json_object_new_uint64(st->error_offset) : NULL);
		json_object_object_add(q, "released_page", st->released_page >= 0 ?
				       json_object_new_int64(st->released_page) : NULL);
		json_object_object_add(q, "back_ret", st->back_ret != 1 ?
				       json_object_new_int(st->back_ret) : NULL);
		json_object_array_add(a, q);
		nblocked += st->ret == -EAGAIN;
	}
	json_object_object_add(o, "steps", a);
	json_object_object_add(o, "blocked", json_object_new_uint64(nblocked));
	json_object_object_add(o, "fresh_failed", json_object_new_uint64(s->fresh_punch_err));
	json_object_object_add(o, "error", s->error ? json_object_new_string(s->error) : NULL);
	return o;
}

/* ------------------------------------------------------------------ */
/* the guest: vCPU setup, KVM_RUN loop, serving its requests           */

static void guest_fail(struct guest_state *g, const char *what, long err)
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

/* vCPU, kvm_run, the hypercall exit, the guest's slot and registers */
static int guest_setup(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct guest_state *g = &r->guest;
	struct vm *vm = &r->vms[0];
	struct gmt_kvm_userspace_memory_region2 mr;
	struct kvm_enable_cap cap;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	long ret;

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

	ret = guest_set_cpuid(r, g);
	if (ret < 0) {
		guest_fail(g, "KVM_GET_SUPPORTED_CPUID/KVM_SET_CPUID2", ret);
		return -1;
	}

	g->code_gpa = guest_code_gpa(cfg);
	g->code_size = guest_slot_size(cfg->guest);
	g->code_mem = mmap(NULL, g->code_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->code_mem == MAP_FAILED) {
		g->code_mem = NULL;
		guest_fail(g, "mmap of the guest's memory", -errno);
		return -1;
	}
	guest_build(g->code_mem, g->code_gpa, g->code_size, cfg->guest, g->intel);
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

/* Keep a request for the list as calls are kept; -1 when not kept */
static long long guest_keep(struct run *r, const struct guest_req *q)
{
	struct guest_state *g = &r->guest;

	if (r->cfg->no_calls || g->nkept >= r->cfg->max_calls)
		return -1;
	if (g->nkept == g->reqs_cap) {
		__u64 ncap = g->reqs_cap ? g->reqs_cap * 2 : 64;
		struct guest_req *n = realloc(g->reqs, ncap * sizeof(*n));

		if (!n)
			return -1;
		g->reqs = n;
		g->reqs_cap = ncap;
	}
	g->reqs[g->nkept] = *q;
	return (long long)g->nkept++;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* min p50 p90 p99 max mean (nearest rank) of the serve times */
static void guest_stats(struct guest_state *g)
{
	static const unsigned int pct[] = { 50, 90, 99 };
	__u64 n = g->nserve, sum = 0, i;

	if (!n)
		return;
	qsort(g->serve_ns, n, sizeof(g->serve_ns[0]), cmp_u64);
	for (i = 0; i < n; i++)
		sum += g->serve_ns[i];
	g->serve_pct[0] = g->serve_ns[0];
	for (i = 0; i < 3; i++)
		g->serve_pct[i + 1] = g->serve_ns[(n * pct[i] + 99) / 100 - 1];
	g->serve_pct[4] = g->serve_ns[n - 1];
	g->serve_pct[5] = sum / n;
}

/*
 * Serve a request with every selected uAPI, tagged with its index.
 * served_ret: 0 if one conversion returned 0, else the last error.
 */
static void guest_serve(struct run *r, struct guest_req *q, __u64 idx)
{
	bool issued = false;
	long ret, best = 0;
	int gen;

	for (gen = 1; gen <= 3; gen++) {
		struct call_rec c = { .round = idx, .flags = CALL_GUEST };

		if (!(r->cfg->uapi & (1u << (gen - 1))))
			continue;
		if (!convert_range(r, 0, gen, q->served_private, q->gpa,
				   q->npages * GUEST_PAGE, &c, &ret))
			continue;
		/* --guest-unpin-retry: release the holder, serve it again */
		while (gen == 3 && scn_guest_release(r, ret, c.error_offset, idx)) {
			c = (struct call_rec){ .round = idx, .flags = CALL_GUEST };
			if (!convert_range(r, 0, gen, q->served_private, q->gpa,
					   q->npages * GUEST_PAGE, &c, &ret))
				break;
		}
		if (!issued || best)
			best = ret;
		issued = true;
	}
	/* nothing could be issued (G2/G3 only, GPA outside the guest_memfd) */
	q->served_ret = issued ? best : -EINVAL;
}

static bool gpa_in_gmem(const struct run *r, __u64 gpa, __u64 size)
{
	const struct cfg *c = r->cfg;

	return r->vms[0].gmem_fd >= 0 && gpa >= c->gpa_base &&
	       gpa - c->gpa_base < c->gmem_size && size <= c->gmem_size - (gpa - c->gpa_base);
}

/* --guest-timeout, or by default a minute plus 1 ms per request */
static __u64 guest_timeout(const struct cfg *c)
{
	if (c->guest_timeout_s != GMW_GUEST_TIMEOUT_AUTO)
		return c->guest_timeout_s;
	return 60 + c->guest / 1000;
}

static void on_alarm(int sig)
{
	got_alarm = 1;
}

/* SIGALRM ends a guest that never exits: KVM_RUN returns EINTR */
static void guest_watchdog(__u64 seconds)
{
	struct itimerval it;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)seconds;
	setitimer(ITIMER_REAL, &it, NULL);
}

static void guest_note_rip(struct guest_state *g)
{
	struct kvm_regs regs;

	if (!ioctl(g->vcpu_fd, KVM_GET_REGS, &regs)) {
		g->error_rip = regs.rip;
		g->has_error_rip = true;
	}
}

static const char *exit_name(__u32 reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN:		return "UNKNOWN";
	case KVM_EXIT_EXCEPTION:	return "EXCEPTION";
	case KVM_EXIT_IO:		return "IO";
	case KVM_EXIT_HYPERCALL:	return "HYPERCALL";
	case KVM_EXIT_HLT:		return "HLT";
	case KVM_EXIT_MMIO:		return "MMIO";
	case KVM_EXIT_SHUTDOWN:		return "SHUTDOWN (triple fault)";
	case KVM_EXIT_FAIL_ENTRY:	return "FAIL_ENTRY";
	case KVM_EXIT_INTR:		return "INTR";
	case KVM_EXIT_INTERNAL_ERROR:	return "INTERNAL_ERROR";
	case GMT_KVM_EXIT_MEMORY_FAULT:	return "MEMORY_FAULT";
	default:			return "?";
	}
}

/* kvm_run.memory_fault (7.x uAPI; the 6.1 header predates it): union at 32 */
struct gmw_memory_fault {
	__u64 flags;
	__u64 gpa;
	__u64 size;
};

/*
 * Run the vCPU until the guest halts, serving each KVM_HC_MAP_GPA_RANGE
 * exit and each KVM_EXIT_MEMORY_FAULT with a conversion. The clock is read
 * when KVM_RUN returns and just before it is issued again: exit_ns and
 * reenter_ns bracket the whole VMM side of the request.
 */
static void guest_run(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct guest_state *g = &r->guest;
	struct kvm_run *run = g->run;
	/* N hypercalls, the fault phase's one, a fault; the rest is slack */
	__u64 max_runs = cfg->guest + 64, last_fault_gpa = ~0ULL, t0, pending_exit = 0;
	__u64 *res = (__u64 *)((char *)g->code_mem + GUEST_RES_OFF);
	long long pending_kept = -1;
	bool pending = false;
	__u64 nhc = 0, i;

	g->serve_ns = calloc(max_runs, sizeof(*g->serve_ns));
	if (!g->serve_ns) {
		g->error = "out of memory";
		return;
	}
	if (cfg->guest_timeout_s)
		guest_watchdog(guest_timeout(cfg));
	t0 = now_ns();
	while (!g->error) {
		struct gmw_memory_fault mf;
		struct guest_req cur, *q = &cur;
		__u64 t_exit;
		__u32 reason;
		long ret;

		if (got_term) {
			r->interrupted = true;
			g->error = "interrupted";
			break;
		}
		if (g->runs >= max_runs) {
			g->error = "too many exits";
			break;
		}
		if (pending) {
			__u64 t = now_ns();

			g->serve_ns[g->nserve++] = t - pending_exit;
			if (pending_kept >= 0)
				g->reqs[pending_kept].reenter_ns = t;
			pending = false;
		}
		ret = ioctl(g->vcpu_fd, KVM_RUN, 0UL);
		ret = ret < 0 ? -errno : ret;
		t_exit = now_ns();
		g->runs++;
		reason = run->exit_reason;
		if (ret == -EINTR || (!ret && reason == KVM_EXIT_INTR)) {
			g->exits[KVM_EXIT_INTR]++;
			if (got_alarm) {
				g->timed_out = true;
				g->error = "timeout (--guest-timeout)";
				guest_note_rip(g);
			}
			continue;	/* SIGTERM is seen at the top; others: run again */
		}
		/* a memory fault is the one exit that comes with -EFAULT */
		if (ret < 0 && !(ret == -EFAULT && reason == GMT_KVM_EXIT_MEMORY_FAULT)) {
			guest_fail(g, "KVM_RUN", ret);
			guest_note_rip(g);
			break;
		}
		g->exits[reason < GMW_EXIT_REASONS - 1 ? reason : GMW_EXIT_REASONS - 1]++;
		if (reason == KVM_EXIT_HLT) {
			g->halted = true;
			break;
		}
		if (reason != KVM_EXIT_HYPERCALL && reason != GMT_KVM_EXIT_MEMORY_FAULT) {
			if (reason == KVM_EXIT_INTERNAL_ERROR)
				snprintf(g->error_buf, sizeof(g->error_buf), "unexpected exit %u "
					 "(INTERNAL_ERROR, suberror %u)", reason,
					 run->internal.suberror);
			else
				snprintf(g->error_buf, sizeof(g->error_buf), "unexpected exit %u (%s)",
					 reason, exit_name(reason));
			g->error = g->error_buf;
			guest_note_rip(g);
			break;
		}
		if (reason == KVM_EXIT_HYPERCALL && run->hypercall.nr != GMT_KVM_HC_MAP_GPA_RANGE) {
			snprintf(g->error_buf, sizeof(g->error_buf), "unexpected hypercall %llu",
				 (unsigned long long)run->hypercall.nr);
			g->error = g->error_buf;
			break;
		}
		if (cfg->guest_abandon) {
			g->abandoned = true;	/* the request stays open */
			break;
		}
		memset(q, 0, sizeof(*q));
		q->exit_ns = t_exit;
		if (reason == KVM_EXIT_HYPERCALL) {
			q->kind = GREQ_MAP_GPA_RANGE;
			q->gpa = run->hypercall.args[0];
			q->npages = run->hypercall.args[1];
			q->attrs = run->hypercall.args[2];
			q->hc_flags = run->hypercall.longmode;
			q->to_private = q->attrs & GMT_KVM_MAP_GPA_RANGE_ENCRYPTED;
			/* as asked: a VMM that cannot back it finds out at the access */
			q->served_private = q->to_private;
			guest_serve(r, q, g->nreqs);
			run->hypercall.ret = (__u64)q->served_ret;
			/* the guest stores RAX in its nhc-th result slot */
			if (nhc < cfg->guest + 1) {
				q->has_guest_ret = true;
				q->res_slot = nhc++;
			}
			last_fault_gpa = ~0ULL;
		} else {
			memcpy(&mf, (char *)run + offsetof(struct kvm_run, hypercall), sizeof(mf));
			q->kind = GREQ_MEMORY_FAULT;
			q->gpa = mf.gpa;
			q->npages = (mf.size + GUEST_PAGE - 1) / GUEST_PAGE;
			q->attrs = mf.flags;
			q->to_private = mf.flags & GMT_KVM_MEMORY_EXIT_FLAG_PRIVATE;
			/* private needs a guest_memfd behind the GPA; else make it shared */
			q->served_private = q->to_private && gpa_in_gmem(r, mf.gpa, mf.size);
			guest_serve(r, q, g->nreqs);
		}
		g->nreqs++;
		g->nkind[q->kind]++;
		g->nserved_ok += !q->served_ret;
		pending_kept = guest_keep(r, q);
		pending_exit = q->exit_ns;
		pending = true;
		if (q->kind == GREQ_MEMORY_FAULT) {
			/* the access is retried on re-entry: it must not fault the same way */
			if (q->served_ret) {
				guest_fail(g, "memory fault not served", q->served_ret);
				break;
			}
			if (q->gpa == last_fault_gpa) {
				g->error = "memory fault repeats after it was served";
				guest_note_rip(g);
				break;
			}
			last_fault_gpa = q->gpa;
		}
	}
	g->run_ns = now_ns() - t0;
	if (cfg->guest_timeout_s) {
		struct itimerval off;

		memset(&off, 0, sizeof(off));
		setitimer(ITIMER_REAL, &off, NULL);
	}
	guest_stats(g);
	/* KVM answers a hypercall itself when the exit is off or the request bad */
	if (g->halted && g->nkind[GREQ_MAP_GPA_RANGE] < cfg->guest + cfg->guest_fault) {
		snprintf(g->error_buf, sizeof(g->error_buf), "%llu of %llu hypercalls returned "
			 "to the guest without an exit (see enable_cap_ret)",
			 (unsigned long long)(cfg->guest + cfg->guest_fault -
					      g->nkind[GREQ_MAP_GPA_RANGE]),
			 (unsigned long long)(cfg->guest + cfg->guest_fault));
		g->error = g->error_buf;
	}
	/* what the guest saw: only slots it wrote differ from the fill */
	for (i = 0; i < g->nkept; i++) {
		struct guest_req *q = &g->reqs[i];

		if (!q->has_guest_ret)
			continue;
		q->has_guest_ret = res[q->res_slot] != GUEST_RES_UNSET;
		q->guest_ret = (__s64)res[q->res_slot];
	}
	if (cfg->guest_fault && res[cfg->guest + 1] != GUEST_RES_UNSET)
		g->fault_read = (__s64)res[cfg->guest + 1];
}

static void run_guest(struct run *r)
{
	struct guest_state *g = &r->guest;

	g->requested = true;
	g->fault_read = -1;
	if (!guest_setup(r))
		guest_run(r);
}

static void guest_teardown(struct run *r)
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

/* ------------------------------------------------------------------ */
/* output                                                              */

static struct json_object *jnum_or_null(bool ok, __s64 v)
{
	return ok ? json_object_new_int64(v) : NULL;
}

static struct json_object *j_hist(const struct ret_hist *h)
{
	struct json_object *o = json_object_new_object();
	struct json_object *rets = json_object_new_object();
	unsigned int i;

	json_object_object_add(o, "calls", json_object_new_uint64(h->calls));
	if (h->skipped)
		json_object_object_add(o, "skipped", json_object_new_uint64(h->skipped));
	for (i = 0; i < h->n; i++) {
		char key[24];

		snprintf(key, sizeof(key), "%ld", h->ret[i]);
		json_object_object_add(rets, key, json_object_new_uint64(h->count[i]));
	}
	if (h->other)
		json_object_object_add(rets, "other", json_object_new_uint64(h->other));
	json_object_object_add(o, "returns", rets);
	return o;
}

static struct json_object *j_summary(const struct run *r)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < OP_MAX; i++) {
		/* optional ops appear only when they were asked for */
		if (i == OP_CREATE_VCPU && !r->cfg->vcpu && !r->cfg->guest)
			continue;
		if (i == OP_IOURING_REG && !r->cfg->pin_pages)
			continue;
		json_object_object_add(o, op_names[i], j_hist(&r->hist[i]));
	}
	return o;
}

static struct json_object *j_uapi_list(unsigned int mask)
{
	struct json_object *a = json_object_new_array();

	if (mask & UAPI_G1)
		json_object_array_add(a, json_object_new_string("g1"));
	if (mask & UAPI_G2)
		json_object_array_add(a, json_object_new_string("g2"));
	if (mask & UAPI_G3)
		json_object_array_add(a, json_object_new_string("g3"));
	return a;
}

static struct json_object *j_args(const struct cfg *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vms", json_object_new_int64(c->vms));
	json_object_object_add(o, "conversions", json_object_new_uint64(c->conversions));
	json_object_object_add(o, "uapi", j_uapi_list(c->uapi));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "dir", json_object_new_string(dir_mode_name(c->dir)));
	json_object_object_add(o, "interval_us", json_object_new_uint64(c->interval_us));
	json_object_object_add(o, "gmem_size", json_object_new_uint64(c->gmem_size));
	json_object_object_add(o, "gpa_base", json_object_new_uint64(c->gpa_base));
	json_object_object_add(o, "punch", json_object_new_uint64(c->punch));
	json_object_object_add(o, "allocate", json_object_new_uint64(c->allocate));
	json_object_object_add(o, "touch", json_object_new_boolean(c->touch));
	json_object_object_add(o, "pin", json_object_new_uint64(c->pin_pages));
	json_object_object_add(o, "guest", json_object_new_uint64(c->guest));
	json_object_object_add(o, "guest_fault", json_object_new_boolean(c->guest_fault));
	return o;
}

static struct json_object *j_kvm(const struct run *r)
{
	const struct caps *c = &r->caps;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "api_version", json_object_new_int64(c->api_version));
	json_object_object_add(o, "vm_types", json_object_new_int64(c->vm_types));
	json_object_object_add(o, "guest_memfd", json_object_new_int64(c->guest_memfd));
	json_object_object_add(o, "guest_memfd_flags",
			       json_object_new_int64(c->guest_memfd_flags));
	json_object_object_add(o, "memory_attributes",
			       json_object_new_int64(c->memory_attributes));
	json_object_object_add(o, "guest_memfd_memory_attributes",
			       json_object_new_int64(c->gmem_memory_attributes));
	return o;
}

static struct json_object *j_touch(const struct touch_res *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mmap_ret", json_object_new_int64(t->mmap_ret));
	json_object_object_add(o, "pages", json_object_new_uint64(t->pages));
	json_object_object_add(o, "sigbus_offset",
			       jnum_or_null(t->sigbus_off >= 0, t->sigbus_off));
	return o;
}

static struct json_object *j_vm(const struct run *r, unsigned int idx)
{
	const struct vm *vm = &r->vms[idx];
	struct json_object *o = json_object_new_object();
	struct json_object *tries = json_object_new_array();
	bool g = vm->gmem_fd >= 0;
	unsigned int i;

	json_object_object_add(o, "index", json_object_new_int64(idx));
	json_object_object_add(o, "vm_fd", json_object_new_int64(vm->vm_fd));
	json_object_object_add(o, "vm_type", json_object_new_int64(vm->vm_type));
	json_object_object_add(o, "gmem_fd", jnum_or_null(g, vm->gmem_fd));
	json_object_object_add(o, "gmem_ino", jnum_or_null(g, (__s64)vm->gmem_ino));
	json_object_object_add(o, "gmem_size", json_object_new_uint64(r->cfg->gmem_size));
	json_object_object_add(o, "gmem_flags", jnum_or_null(g, (__s64)vm->gmem_flags));
	json_object_object_add(o, "create_gmem_ret", json_object_new_int64(vm->create_gmem_ret));
	for (i = 0; i < vm->ntries; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "flags", json_object_new_uint64(vm->tries[i].flags));
		json_object_object_add(t, "ret", json_object_new_int64(vm->tries[i].ret));
		json_object_array_add(tries, t);
	}
	json_object_object_add(o, "create_gmem_tries", tries);
	json_object_object_add(o, "gpa_base", json_object_new_uint64(r->cfg->gpa_base));
	json_object_object_add(o, "slot", json_object_new_int64(0));
	json_object_object_add(o, "memslot_flags", json_object_new_int64(vm->memslot_flags));
	json_object_object_add(o, "userspace_addr",
			       json_object_new_uint64((__u64)(uintptr_t)vm->backing));
	json_object_object_add(o, "memslot_ret", json_object_new_int64(vm->memslot_ret));
	if (r->cfg->vcpu) {
		json_object_object_add(o, "vcpu_fd", jnum_or_null(vm->vcpu_fd >= 0, vm->vcpu_fd));
		json_object_object_add(o, "create_vcpu_ret", json_object_new_int64(vm->vcpu_ret));
	}
	if (r->cfg->touch)
		json_object_object_add(o, "touch", vm->touch.done ? j_touch(&vm->touch) : NULL);
	return o;
}

static const __u32 op_cmd[] = {
	[OP_G1]		= GMT_KVM_SET_MEMORY_ATTRIBUTES,
	[OP_G2_SHARED]	= GMT_KVM_GMEM_CONVERT_SHARED,
	[OP_G2_PRIVATE]	= GMT_KVM_GMEM_CONVERT_PRIVATE,
	[OP_G3]		= GMT_KVM_SET_MEMORY_ATTRIBUTES2,
};

static struct json_object *j_call(const struct run *r, const struct call_rec *c)
{
	const struct vm *vm = &r->vms[c->vm];
	struct json_object *o = json_object_new_object();
	bool priv = c->flags & CALL_PRIV;
	bool guest = c->flags & CALL_GUEST;
	int gen = c->op == OP_G1 ? 1 : c->op == OP_G3 ? 3 : 2;
	char cmd[16];

	snprintf(cmd, sizeof(cmd), "0x%08x", op_cmd[c->op]);
	json_object_object_add(o, "op", json_object_new_string(op_names[c->op]));
	json_object_object_add(o, "gen", json_object_new_int(gen));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "vm", json_object_new_int(c->vm));
	json_object_object_add(o, "fd", gen == 1 ? json_object_new_int(vm->vm_fd) :
				     jnum_or_null(vm->gmem_fd >= 0, vm->gmem_fd));
	json_object_object_add(o, "tid", json_object_new_int(r->tid));
	/* a call serving the guest belongs to request "guest_request", no round */
	json_object_object_add(o, "round", guest ? NULL : json_object_new_uint64(c->round));
	json_object_object_add(o, "guest_request", guest ? json_object_new_uint64(c->round) :
			       NULL);
	json_object_object_add(o, "dir", json_object_new_string(priv ? "to_private" :
								  "to_shared"));
	json_object_object_add(o, "start", c->flags & CALL_OUTSIDE ? NULL :
			       json_object_new_uint64(c->start));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "attributes", gen == 2 ? NULL :
			       json_object_new_uint64(priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0));
	if (c->flags & CALL_SKIPPED) {
		json_object_object_add(o, "ret", NULL);
		json_object_object_add(o, "skipped", json_object_new_string(
			c->flags & CALL_OUTSIDE ? "outside guest_memfd" : "no guest_memfd"));
	} else {
		json_object_object_add(o, "ret", json_object_new_int64(c->ret));
	}
	json_object_object_add(o, "error_offset", c->flags & CALL_HAS_EO ?
			       json_object_new_uint64(c->error_offset) : NULL);
	return o;
}

static struct json_object *j_fops(const struct run *r, const struct fop_rec *f, __u64 n)
{
	struct json_object *a = json_object_new_array();
	__u64 i;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct vm *vm = &r->vms[f[i].vm];

		json_object_object_add(o, "vm", json_object_new_int(f[i].vm));
		json_object_object_add(o, "fd", jnum_or_null(vm->gmem_fd >= 0, vm->gmem_fd));
		json_object_object_add(o, "mode", json_object_new_int(f[i].mode));
		json_object_object_add(o, "offset", json_object_new_uint64(f[i].offset));
		json_object_object_add(o, "len", json_object_new_uint64(f[i].len));
		if (f[i].skipped) {
			json_object_object_add(o, "ret", NULL);
			json_object_object_add(o, "skipped",
					       json_object_new_string("no guest_memfd"));
		} else {
			json_object_object_add(o, "ret", json_object_new_int64(f[i].ret));
		}
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *j_pins(const struct run *r)
{
	const struct pin_state *p = &r->pin;
	struct json_object *o, *offs;
	bool reg = p->ring_ok || p->released;
	__u64 i;

	if (!p->requested)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "vm", json_object_new_int(0));
	json_object_object_add(o, "fd", jnum_or_null(r->vms[0].gmem_fd >= 0, r->vms[0].gmem_fd));
	json_object_object_add(o, "pages", json_object_new_uint64(r->cfg->pin_pages));
	offs = json_object_new_array();
	if (reg && p->register_ret == 0)
		for (i = 0; i < r->cfg->pin_pages; i++)
			json_object_array_add(offs, json_object_new_uint64(r->cfg->pin_offset +
									   i * r->page_size));
	json_object_object_add(o, "offsets", offs);
	json_object_object_add(o, "mmap_ret", jnum_or_null(p->mmap_tried, p->mmap_ret));
	json_object_object_add(o, "touched", json_object_new_uint64(p->touch.pages));
	json_object_object_add(o, "sigbus_offset",
			       jnum_or_null(p->touch.sigbus_off >= 0, p->touch.sigbus_off));
	json_object_object_add(o, "ring_ret", jnum_or_null(p->ring_tried, p->ring_ret));
	json_object_object_add(o, "register_ret", jnum_or_null(reg, p->register_ret));
	json_object_object_add(o, "foll_pins_delta",
			       jnum_or_null(p->pin_delta != LLONG_MIN, p->pin_delta));
	json_object_object_add(o, "unregister_ret",
			       jnum_or_null(p->unregistered, p->unregister_ret));
	json_object_object_add(o, "released", json_object_new_boolean(p->released));
	json_object_object_add(o, "error", p->error ? json_object_new_string(p->error) : NULL);
	return o;
}

static const char *const greq_kind_names[] = {
	[GREQ_MAP_GPA_RANGE] = "map_gpa_range",
	[GREQ_MEMORY_FAULT] = "memory_fault",
};

static struct json_object *j_greq(const struct run *r, __u64 idx)
{
	const struct guest_req *q = &r->guest.reqs[idx];
	struct json_object *o = json_object_new_object();
	bool hc = q->kind == GREQ_MAP_GPA_RANGE;

	json_object_object_add(o, "index", json_object_new_uint64(idx));
	json_object_object_add(o, "kind", json_object_new_string(greq_kind_names[q->kind]));
	json_object_object_add(o, "gpa", json_object_new_uint64(q->gpa));
	json_object_object_add(o, "npages", json_object_new_uint64(q->npages));
	json_object_object_add(o, "attrs", hc ? json_object_new_uint64(q->attrs) : NULL);
	json_object_object_add(o, "hc_flags", hc ? json_object_new_uint64(q->hc_flags) : NULL);
	json_object_object_add(o, "fault_flags", hc ? NULL : json_object_new_uint64(q->attrs));
	json_object_object_add(o, "dir", json_object_new_string(q->to_private ? "to_private" :
								  "to_shared"));
	json_object_object_add(o, "served_dir", json_object_new_string(
		q->served_private ? "to_private" : "to_shared"));
	json_object_object_add(o, "served_ret", json_object_new_int64(q->served_ret));
	json_object_object_add(o, "guest_ret", jnum_or_null(q->has_guest_ret, q->guest_ret));
	json_object_object_add(o, "exit_ns", json_object_new_uint64(q->exit_ns));
	json_object_object_add(o, "reenter_ns", jnum_or_null(q->reenter_ns, (__s64)q->reenter_ns));
	json_object_object_add(o, "serve_ns", jnum_or_null(q->reenter_ns,
							   (__s64)(q->reenter_ns - q->exit_ns)));
	json_object_object_add(o, "tid", json_object_new_int(r->tid));
	return o;
}

static struct json_object *j_guest(const struct run *r)
{
	const struct guest_state *g = &r->guest;
	struct json_object *o, *slot, *exits, *kinds, *stats;
	bool vcpu = g->vcpu_fd >= 0;
	__u64 i;

	if (!g->requested)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "vm", json_object_new_int(0));
	json_object_object_add(o, "vcpu_fd", jnum_or_null(vcpu, g->vcpu_fd));
	json_object_object_add(o, "create_vcpu_ret", json_object_new_int64(g->create_vcpu_ret));
	json_object_object_add(o, "vcpu_mmap_size", jnum_or_null(vcpu, g->mmap_size));
	json_object_object_add(o, "cap_exit_hypercall",
			       jnum_or_null(g->caps_set, g->cap_exit_hypercall));
	json_object_object_add(o, "enable_cap_ret", jnum_or_null(g->caps_set, g->enable_cap_ret));
	json_object_object_add(o, "disable_fix_hypercall_quirk_ret",
			       jnum_or_null(g->caps_set, g->quirk_ret));
	json_object_object_add(o, "cpu_vendor", g->vendor[0] ? json_object_new_string(g->vendor) :
			       NULL);
	json_object_object_add(o, "hypercall_insn", g->vendor[0] ?
			       json_object_new_string(g->intel ? "vmcall" : "vmmcall") : NULL);
	json_object_object_add(o, "mode", json_object_new_string("long64"));
	slot = NULL;
	if (g->code_mem) {
		slot = json_object_new_object();
		json_object_object_add(slot, "slot", json_object_new_int(GMW_GUEST_SLOT));
		json_object_object_add(slot, "gpa", json_object_new_uint64(g->code_gpa));
		json_object_object_add(slot, "size", json_object_new_uint64(g->code_size));
		json_object_object_add(slot, "userspace_addr",
				       json_object_new_uint64((__u64)(uintptr_t)g->code_mem));
		json_object_object_add(slot, "ret", json_object_new_int64(g->code_slot_ret));
	}
	json_object_object_add(o, "code_slot", slot);
	json_object_object_add(o, "requested", json_object_new_uint64(r->cfg->guest));
	json_object_object_add(o, "fault", json_object_new_boolean(r->cfg->guest_fault));
	json_object_object_add(o, "runs", json_object_new_uint64(g->runs));
	exits = json_object_new_object();
	for (i = 0; i < GMW_EXIT_REASONS; i++) {
		char key[24];

		if (!g->exits[i])
			continue;
		if (i == GMW_EXIT_REASONS - 1)
			snprintf(key, sizeof(key), "other");
		else
			snprintf(key, sizeof(key), "%llu", (unsigned long long)i);
		json_object_object_add(exits, key, json_object_new_uint64(g->exits[i]));
	}
	json_object_object_add(o, "exit_reasons", exits);
	json_object_object_add(o, "halted", json_object_new_boolean(g->halted));
	json_object_object_add(o, "abandoned", json_object_new_boolean(g->abandoned));
	json_object_object_add(o, "fault_read", jnum_or_null(g->fault_read >= 0, g->fault_read));
	json_object_object_add(o, "run_ns", json_object_new_uint64(g->run_ns));
	json_object_object_add(o, "error", g->error ? json_object_new_string(g->error) : NULL);
	json_object_object_add(o, "error_rip", g->has_error_rip ?
			       json_object_new_uint64(g->error_rip) : NULL);
	json_object_object_add(o, "requests_total", json_object_new_uint64(g->nreqs));
	kinds = json_object_new_object();
	for (i = 0; i < 2; i++)
		json_object_object_add(kinds, greq_kind_names[i],
				       json_object_new_uint64(g->nkind[i]));
	json_object_object_add(o, "requests_by_kind", kinds);
	json_object_object_add(o, "served_ok", json_object_new_uint64(g->nserved_ok));
	stats = NULL;
	if (g->nserve) {
		static const char *const names[] = { "min", "p50", "p90", "p99", "max", "mean" };

		stats = json_object_new_object();
		json_object_object_add(stats, "count", json_object_new_uint64(g->nserve));
		for (i = 0; i < 6; i++)
			json_object_object_add(stats, names[i],
					       json_object_new_uint64(g->serve_pct[i]));
	}
	json_object_object_add(o, "serve_ns", stats);
	json_object_object_add(o, "requests_truncated",
			       json_object_new_uint64(g->nreqs - g->nkept));
	return o;
}

/* The guest object with its request list streamed in last, one per line */
static void write_guest(FILE *f, const struct run *r)
{
	struct json_object *o = j_guest(r);
	const char *txt;
	size_t len;
	__u64 i;

	fputs(",\n\"guest\":", f);
	if (!o) {
		fputs("null", f);
		return;
	}
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(txt);
	fwrite(txt, 1, len - 1, f);	/* reopen the object: drop its '}' */
	if (r->cfg->no_calls) {
		fputs(",\"requests\":null}", f);
	} else {
		fputs(",\"requests\":[", f);
		for (i = 0; i < r->guest.nkept; i++) {
			struct json_object *q = j_greq(r, i);

			fprintf(f, "%s\n%s", i ? "," : "",
				json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
			json_object_put(q);
		}
		fputs("]}", f);
	}
	json_object_put(o);
}

/* "key":value, taking the reference; streamed so calls never sit in one tree */
static void emit(FILE *f, bool *first, const char *key, struct json_object *val)
{
	fprintf(f, "%s\"%s\":%s", *first ? "{" : ",\n", key,
		val ? json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN) : "null");
	*first = false;
	json_object_put(val);
}

static int write_json(const struct run *r, FILE *f, __u64 elapsed)
{
	bool first = true;
	struct json_object *vms = json_object_new_array();
	unsigned int v;
	__u64 i;

	emit(f, &first, "tool", json_object_new_string("gmem-workload"));
	emit(f, &first, "version", json_object_new_string(GMT_VERSION));
	emit(f, &first, "pid", json_object_new_int(r->pid));
	emit(f, &first, "args", j_args(r->cfg));
	emit(f, &first, "kvm", j_kvm(r));
	for (v = 0; v < r->nvms; v++)
		json_object_array_add(vms, j_vm(r, v));
	emit(f, &first, "vms", vms);
	if (r->cfg->no_calls) {
		emit(f, &first, "calls", NULL);
	} else {
		fputs(",\n\"calls\":[", f);
		for (i = 0; i < r->ncalls; i++) {
			struct json_object *c = j_call(r, &r->calls[i]);

			fprintf(f, "%s\n%s", i ? "," : "",
				json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
			json_object_put(c);
		}
		fputs("]", f);
	}
	emit(f, &first, "calls_truncated", json_object_new_uint64(r->calls_truncated));
	emit(f, &first, "punches", j_fops(r, r->punches, r->npunches));
	emit(f, &first, "allocates", j_fops(r, r->allocs, r->nallocs));
	emit(f, &first, "pins", j_pins(r));
	emit(f, &first, "scenario", j_scenario(r));
	write_guest(f, r);
	emit(f, &first, "summary", j_summary(r));
	emit(f, &first, "interrupted", json_object_new_boolean(r->interrupted));
	emit(f, &first, "hold_end", r->hold_end ? json_object_new_string(r->hold_end) : NULL);
	if (r->cfg->gmem_create_storm) {
		struct json_object *st = json_object_new_object();

		json_object_object_add(st, "calls", json_object_new_uint64(r->storm_einval +
									   r->storm_other));
		json_object_object_add(st, "einval", json_object_new_uint64(r->storm_einval));
		json_object_object_add(st, "other", json_object_new_uint64(r->storm_other));
		json_object_object_add(st, "ns", json_object_new_uint64(r->storm_ns));
		emit(f, &first, "gmem_create_storm", st);
	} else {
		emit(f, &first, "gmem_create_storm", NULL);
	}
	emit(f, &first, "conversion_ns", json_object_new_uint64(r->conv_ns));
	emit(f, &first, "elapsed_ns", json_object_new_uint64(elapsed));
	fputs("}\n", f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

static struct json_object *j_ns_per_call(const struct run *r)
{
	double per = r->conv_issued ? (double)r->conv_ns / (double)r->conv_issued : 0.0;
	char buf[32];

	snprintf(buf, sizeof(buf), "%.1f", per);
	return json_object_new_double_s(per, buf);
}

static int write_bench(const struct run *r, FILE *f)
{
	struct json_object *o = json_object_new_object();
	struct json_object *b = json_object_new_object();
	struct json_object *rets = json_object_new_object();
	__u64 skipped = 0;
	int i;

	for (i = OP_G1; i <= OP_G3; i++) {
		const struct ret_hist *h = &r->hist[i];
		unsigned int k;

		skipped += h->skipped;
		for (k = 0; k < h->n; k++) {
			struct json_object *cur;
			char key[24];
			__u64 n = h->count[k];

			snprintf(key, sizeof(key), "%ld", h->ret[k]);
			if (json_object_object_get_ex(rets, key, &cur))
				n += (__u64)json_object_get_uint64(cur);
			json_object_object_add(rets, key, json_object_new_uint64(n));
		}
	}
	json_object_object_add(b, "uapi", j_uapi_list(r->cfg->uapi));
	json_object_object_add(b, "vms", json_object_new_int64(r->nvms));
	json_object_object_add(b, "conversions", json_object_new_uint64(r->cfg->conversions));
	json_object_object_add(b, "calls", json_object_new_uint64(r->conv_issued));
	json_object_object_add(b, "skipped", json_object_new_uint64(skipped));
	json_object_object_add(b, "total_ns", json_object_new_uint64(r->conv_ns));
	json_object_object_add(b, "ns_per_call", j_ns_per_call(r));
	json_object_object_add(b, "returns", rets);
	json_object_object_add(b, "interrupted", json_object_new_boolean(r->interrupted));
	json_object_object_add(o, "tool", json_object_new_string("gmem-workload"));
	json_object_object_add(o, "bench", b);
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

static void print_hist_line(FILE *f, const char *name, const struct ret_hist *h)
{
	unsigned int i;

	fprintf(f, "  %-26s %8llu calls", name, (unsigned long long)h->calls);
	for (i = 0; i < h->n; i++) {
		if (h->ret[i] < 0)
			fprintf(f, "  %ld (%s) x%llu", h->ret[i], errname(h->ret[i]),
				(unsigned long long)h->count[i]);
		else
			fprintf(f, "  %ld x%llu", h->ret[i], (unsigned long long)h->count[i]);
	}
	if (h->skipped)
		fprintf(f, "  skipped (no guest_memfd) x%llu", (unsigned long long)h->skipped);
	fputc('\n', f);
}

static void print_guest(FILE *f, const struct run *r)
{
	const struct guest_state *g = &r->guest;

	fprintf(f, "  guest: %llu hypercall + %llu memory-fault request(s) in %llu KVM_RUN(s), "
		"%llu served with ret 0; %s%s%s\n", (unsigned long long)g->nkind[0],
		(unsigned long long)g->nkind[1], (unsigned long long)g->runs,
		(unsigned long long)g->nserved_ok,
		g->halted ? "halted" : "did not halt", g->error ? ": " : "",
		g->error ? g->error : "");
	if (g->nserve)
		fprintf(f, "    exit->reenter ns: min %llu p50 %llu p99 %llu max %llu mean %llu\n",
			(unsigned long long)g->serve_pct[0], (unsigned long long)g->serve_pct[1],
			(unsigned long long)g->serve_pct[3], (unsigned long long)g->serve_pct[4],
			(unsigned long long)g->serve_pct[5]);
}

static int write_human(const struct run *r, FILE *f, __u64 elapsed)
{
	const struct vm *vm0 = &r->vms[0];
	const struct pin_state *p = &r->pin;
	int i;

	fprintf(f, "gmem-workload: pid %d, %u VM(s) of type %d, KVM caps: vm_types %ld "
		"guest_memfd %ld guest_memfd_flags %ld memory_attributes %ld\n",
		r->pid, r->nvms, vm0->vm_type, r->caps.vm_types, r->caps.guest_memfd,
		r->caps.guest_memfd_flags, r->caps.memory_attributes);
	if (vm0->gmem_fd >= 0)
		fprintf(f, "  VM 0: guest_memfd fd %d ino %llu flags 0x%llx, memslot ret %ld\n",
			vm0->gmem_fd, (unsigned long long)vm0->gmem_ino,
			(unsigned long long)vm0->gmem_flags, vm0->memslot_ret);
	else
		fprintf(f, "  VM 0: no guest_memfd (%ld %s), memslot ret %ld\n",
			vm0->create_gmem_ret, errname(vm0->create_gmem_ret), vm0->memslot_ret);
	for (i = 0; i < OP_MAX; i++) {
		if (!r->hist[i].calls && !r->hist[i].skipped)
			continue;
		print_hist_line(f, op_names[i], &r->hist[i]);
	}
	if (p->requested)
		fprintf(f, "  pins: %llu page(s) at offset %llu, register ret %ld, released %s%s%s\n",
			(unsigned long long)r->cfg->pin_pages,
			(unsigned long long)r->cfg->pin_offset, p->register_ret,
			p->released ? "yes" : "no", p->error ? ", error: " : "",
			p->error ? p->error : "");
	if (r->guest.requested)
		print_guest(f, r);
	if (r->cfg->gmem_create_storm)
		fprintf(f, "  gmem create storm: %llu call(s), %llu EINVAL, %llu other, %llu ns\n",
			(unsigned long long)(r->storm_einval + r->storm_other),
			(unsigned long long)r->storm_einval, (unsigned long long)r->storm_other,
			(unsigned long long)r->storm_ns);
	fprintf(f, "  conversions: %llu ioctl(s) in %llu ns (%.1f ns each)%s; elapsed %llu ns\n",
		(unsigned long long)r->conv_issued, (unsigned long long)r->conv_ns,
		r->conv_issued ? (double)r->conv_ns / (double)r->conv_issued : 0.0,
		r->interrupted ? ", interrupted" : "", (unsigned long long)elapsed);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

static int write_outputs(const struct run *r)
{
	const struct cfg *cfg = r->cfg;
	__u64 elapsed = now_ns() - r->t_start;
	int err = 0;

	if (cfg->json_out) {
		FILE *f = strcmp(cfg->json_out, "-") ? fopen(cfg->json_out, "we") : stdout;

		if (!f) {
			fprintf(stderr, "gmem-workload: cannot open %s: %s\n", cfg->json_out,
				strerror(errno));
			return -EIO;
		}
		err = write_json(r, f, elapsed);
		if (f != stdout && fclose(f))
			err = -EIO;
		if (err)
			fprintf(stderr, "gmem-workload: writing %s failed\n", cfg->json_out);
	}
	if (cfg->bench)
		err = write_bench(r, stdout) ?: err;
	else if (cfg->json)
		err = write_json(r, stdout, elapsed) ?: err;
	else if (!cfg->json_out || strcmp(cfg->json_out, "-"))
		err = write_human(r, stdout, elapsed) ?: err;
	return err;
}

/* ------------------------------------------------------------------ */

static void teardown(struct run *r)
{
	unsigned int v;

	release_pin(r);
	scn_teardown(r);
	guest_teardown(r);
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

static void free_run(struct run *r)
{
	free(r->vms);
	free(r->calls);
	free(r->punches);
	free(r->allocs);
	if (r->kvm_fd >= 0)
		close(r->kvm_fd);
}

static int run_workload(const struct cfg *cfg)
{
	struct run r;
	unsigned int v;
	int type, rc = EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.t_start = now_ns();
	r.pid = getpid();
	r.tid = gettid();
	r.page_size = (__u64)sysconf(_SC_PAGESIZE);
	r.pin.pin_delta = LLONG_MIN;
	r.guest.vcpu_fd = -1;

	if (install_signals()) {
		fprintf(stderr, "gmem-workload: sigaction: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* first, so every traced call carries the name */
	if (cfg->comm && prctl(PR_SET_NAME, (unsigned long)cfg->comm, 0, 0, 0)) {
		fprintf(stderr, "gmem-workload: prctl(PR_SET_NAME): %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}

	r.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (r.kvm_fd < 0) {
		fprintf(stderr, "gmem-workload: cannot open /dev/kvm: %s (KVM is not "
			"available here)\n", strerror(errno));
		return EXIT_NOKVM;
	}
	r.caps.api_version = sys_ret(ioctl(r.kvm_fd, GMW_KVM_GET_API_VERSION, 0UL));
	r.caps.vm_types = check_ext(r.kvm_fd, GMT_KVM_CAP_VM_TYPES);
	if (cfg->vm_type >= 0)
		type = cfg->vm_type;
	else if (r.caps.vm_types > 0 && (r.caps.vm_types & (1L << GMT_KVM_X86_SW_PROTECTED_VM)))
		type = GMT_KVM_X86_SW_PROTECTED_VM;
	else
		type = GMT_KVM_X86_DEFAULT_VM;

	r.vms = calloc(cfg->vms, sizeof(*r.vms));
	/* +1: calloc(0) may return NULL */
	r.punches = calloc(cfg->vms * cfg->punch + 1, sizeof(*r.punches));
	r.allocs = calloc(cfg->vms * cfg->allocate + 1, sizeof(*r.allocs));
	if (!r.vms || !r.punches || !r.allocs) {
		fprintf(stderr, "gmem-workload: out of memory (--punch/--allocate too large?)\n");
		rc = EXIT_RUNTIME;
		goto out_free;
	}

	for (v = 0; v < cfg->vms; v++) {
		if (setup_vm(&r, v, type)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
	}

	if (cfg->allocate) {
		do_fallocates(&r, FALLOC_FL_KEEP_SIZE, cfg->allocate, r.allocs);
		r.nallocs = cfg->vms * cfg->allocate;
	}
	if (cfg->touch)
		do_touch(&r);
	if (cfg->pin_pages)
		do_pin(&r);
	scn_setup(&r);

	if (cfg->start_delay_ms)
		wait_for(cfg->start_delay_ms * 1000000ULL, false);
	if (cfg->wait_signal && !got_term) {
		fprintf(stderr, "ready %d\n", r.pid);
		wait_for(UINT64_MAX, true);
		got_usr1 = 0;	/* consumed: a later SIGUSR1 ends --hold */
	}

	if (cfg->gmem_create_storm)
		gmem_create_storm(&r);
	run_conversions(&r);
	scn_run(&r);
	if (cfg->guest && !got_term)
		run_guest(&r);

	if (cfg->punch) {
		do_fallocates(&r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, cfg->punch,
			      r.punches);
		r.npunches = cfg->vms * cfg->punch;
	}

	if ((cfg->hold_s || cfg->hold_until_signal) && !got_term) {
		__u64 hold_ns = cfg->hold_until_signal ? UINT64_MAX : cfg->hold_s * 1000000000ULL;
		__u64 t0 = now_ns();

		fprintf(stderr, "holding %d\n", r.pid);
		wait_for(hold_ns, true);
		if (cfg->unpin_on_signal && got_usr1 && !got_term) {
			/* drop the pins, keep the rest, so a tracer sees them go */
			release_pin(&r);
			fprintf(stderr, "unpinned %d\n", r.pid);
			got_usr1 = 0;
			wait_for(hold_ns == UINT64_MAX ? UINT64_MAX :
				 hold_ns - (now_ns() - t0 < hold_ns ? now_ns() - t0 : hold_ns), false);
		}
		r.hold_end = got_term ? "SIGTERM" : got_usr1 ? "SIGUSR1" : "timeout";
	}
	release_pin(&r);

	if (write_outputs(&r))
		rc = EXIT_RUNTIME;
out:
	teardown(&r);
out_free:
	free_run(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct cfg cfg;

	if (parse_args(argc, argv, &cfg, 0))
		return EXIT_USAGE;
	return run_workload(&cfg);
}
