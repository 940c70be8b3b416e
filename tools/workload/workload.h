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
 *
 * This header holds what the files of tools/workload/ share: the
 * configuration (struct cfg), the state of one run (struct run) and the
 * records it keeps, and the functions one file calls in another.
 */
#ifndef GMW_WORKLOAD_H
#define GMW_WORKLOAD_H

#include <argp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <linux/types.h>
/* the vCPU structs (kvm_run, kvm_regs, kvm_sregs, kvm_cpuid2); 6.1 has them */
#include <linux/kvm.h>
#include <json-c/json.h>
#include <liburing.h>

#include "kvm_uapi.h"
#include "dma_uapi.h"

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

/* what takes the pins' references (--pin-with) */
enum pin_with {
	PIN_IOURING = 0,	/* an io_uring fixed buffer (FOLL_PIN | FOLL_LONGTERM) */
	PIN_VFIO,		/* a VFIO type1 DMA mapping (VFIO_IOMMU_MAP_DMA) */
	PIN_IOMMUFD,		/* an iommufd IOAS area with a device attached */
};

/* device DMA pins map the page at this IOVA plus its guest_memfd offset */
#define GMW_DMA_IOVA_BASE	0x100000ULL

/* --ioas-copy: which IOAS the device is attached to (the other pins nothing) */
enum ioas_copy {
	COPY_NONE = 0,
	COPY_SRC,		/* the first IOAS, where the pages are mapped */
	COPY_DST,		/* the second, where IOMMU_IOAS_COPY puts them */
};

/* --ioas-copy puts each mapping at its IOVA plus this in the second IOAS */
#define GMW_IOAS_COPY_SHIFT	0x1000000ULL

/* --dma-loop maps its anonymous page here: where a host driver's 32-bit DMA
 * IOVAs are allocated (down from 4 GiB), far from the pins' (GMW_DMA_IOVA_BASE) */
#define GMW_DMA_LOOP_IOVA	0xc0000000ULL

/* one pinned range: an io_uring fixed buffer or a DMA mapping */
struct scn_pin {
	__u64 page;
	__u64 npages;
	__u64 iova;		/* DMA pins: where it is mapped */
	bool ring_ok;		/* the holder is live (ring, or DMA mapping) */
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
	bool touch_after;	/* touch again after the conversions */
	__u64 pin_pages;
	__u64 pin_offset;
	enum pin_with pin_with;
	const char *vfio_device;	/* --vfio-device BDF; NULL: the one on vfio-pci */
	__u64 hold_s;
	bool hold_until_signal;
	bool dma_per_page;	/* --pin's DMA: a mapping per page */
	__u64 dma_loop;		/* --dma-loop: timed map+unmap pairs, 0: none */
	enum ioas_copy ioas_copy;	/* --ioas-copy src|dst */
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
	__u64 race;		/* --race: conversions under a flipping argument */
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
	struct touch_res touch_after;	/* --touch-after: the state conversions left */
};

/* --race: what the ioctls returned (the tracer says what was raced) */
struct race_res {
	bool done;
	const char *error;	/* why it could not run */
	int gen;		/* 1 or 3 */
	__u64 calls, ok, eperm, other;
	__u64 flips;		/* size changes the other thread made */
};

struct fop_rec {
	__u64 offset;
	__u64 len;
	__s32 ret;
	__u16 vm;
	__u8 mode;
	__u8 skipped;
};

/* the device and fds DMA pins go through, opened at the first pin */
struct dma_ctx {
	bool opened, closed;
	enum pin_with kind;
	enum ioas_copy copy;	/* --ioas-copy */
	char device[32];	/* PCI BDF */
	char group[16];		/* IOMMU group */
	int container_fd, group_fd;	/* VFIO type1 */
	int iommufd, device_fd;		/* iommufd, the device's vfio cdev */
	__u32 ioas_id;
	__u32 copy_ioas_id;		/* --ioas-copy: the second IOAS */
	__u64 nmaps, nunmaps, ncopies;
	__u64 loop_pairs, loop_ns;	/* --dma-loop: pairs done, their time */
	long loop_ret;			/* its first failure (-errno), 0: none */
	char error[256];	/* "": none */
};

struct pin_state {
	bool requested;
	__u64 iova;		/* DMA: where the pages are mapped */
	bool dma_mapped;
	long dma_map_ret, dma_unmap_ret;
	bool dma_unmapped;
	const char *error;
	bool mmap_tried;
	long mmap_ret;
	void *map;
	struct touch_res touch;
	bool ring_tried;
	long ring_ret;
	bool ring_ok;
	int ring_fd;		/* the ring's fd while it lived (gmemtrace names it) */
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
	struct dma_ctx dma;
	struct ret_hist hist[OP_MAX];
	bool interrupted;
	const char *hold_end;	/* NULL: no hold */
	__u64 t_start;
	__u64 conv_ns;
	__u64 conv_issued;
	struct guest_state guest;
	struct scn_state scn;
	__u64 storm_einval, storm_other, storm_ns;
	struct race_res race;
};

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
#define GUEST_CODE_SIZE		0x5a
#define GUEST_NR_HC		2	/* hypercall instructions in the code */

/* args_values.c */
int parse_u64(const char *s, bool suffix, __u64 *out);
int parse_uapi(const char *s, unsigned int *mask);
int parse_vm_type(const char *s, int *type);
int parse_dir(const char *s, enum dir_mode *dir);
const char *dir_mode_name(enum dir_mode d);
int parse_pin_with(const char *s, enum pin_with *w);
int parse_ioas_copy(const char *s, enum ioas_copy *c);
const char *pin_with_name(enum pin_with w);
__u64 round_offset(__u64 round, __u64 size, __u64 gmem_size);
bool round_to_private(enum dir_mode d, __u64 round);

/* guest_image.c */
extern const __u8 guest_code[GUEST_CODE_SIZE];
extern const unsigned int guest_hc_at[GUEST_NR_HC];
__u64 align_up(__u64 v, __u64 a);
__u64 guest_slot_size(__u64 n);
__u64 guest_code_gpa(const struct cfg *c);
void guest_build(void *mem, __u64 code_gpa, __u64 slot_size, __u64 n, bool intel);
void guest_init_regs(struct kvm_regs *regs, const struct cfg *c, __u64 code_gpa,
		     __u64 slot_size);
void guest_init_sregs(struct kvm_sregs *s, __u64 code_gpa);
__u64 guest_timeout(const struct cfg *c);

/* args.c */
error_t bad_value(struct argp_state *state, const char *opt, const char *arg);
void cfg_init(struct cfg *c);
int parse_args(int argc, char **argv, struct cfg *c, unsigned int flags);

/* args_scn.c */
extern const struct argp scn_argp;
int scn_check(struct cfg *c, struct argp_state *state);

/* util.c */
__u64 now_ns(void);
const char *errname(long ret);
long sys_ret(long r);
long check_ext(int fd, long cap);
void hist_add(struct ret_hist *h, long ret);
void sleep_us(__u64 us);

/* signals.c */
extern volatile sig_atomic_t got_usr1;
extern volatile sig_atomic_t got_term;
extern volatile sig_atomic_t got_alarm;
int install_signals(void);
void wait_for(__u64 timeout_ns, bool usr1_ends);
void touch_range(char *base, __u64 len, __u64 page, struct touch_res *t);
void guest_watchdog(__u64 seconds);

/* kvm.c */
int open_kvm(struct run *r);
void close_vms(struct run *r);
void gmem_create_storm(struct run *r);
int setup_vm(struct run *r, unsigned int idx, int type);

/* fops.c */
void do_fallocates(struct run *r, int mode, __u64 n, struct fop_rec *out);
void do_touch(struct run *r);
void do_touch_after(struct run *r);
void run_race(struct run *r);

/* pins_dma.c */
long dma_map(struct run *r, void *va, __u64 len, __u64 iova);
long dma_unmap(struct run *r, __u64 iova, __u64 len);
void dma_close(struct run *r);
void dma_loop(struct run *r);

/* pins.c */
void do_pin(struct run *r);
void release_pin(struct run *r);
int scn_pin_hold(struct run *r, struct scn_pin *p, __u64 when);
void scn_pin_release(struct run *r, struct scn_pin *p, __s64 when);
struct scn_pin *scn_pin_at(struct run *r, __u64 off);
bool scn_page_pinned(struct run *r, __u64 page);

/* convert.c */
bool convert_range(struct run *r, unsigned int v, int gen, bool priv, __u64 gpa,
		   __u64 size, struct call_rec *c, long *retp);
void run_conversions(struct run *r);

/* scenario.c */
char *scn_map(struct run *r);
void scn_setup(struct run *r);
void scn_teardown(struct run *r);
void scn_run(struct run *r);
bool scn_guest_release(struct run *r, long ret, __u64 eo, __u64 idx);

/* guest.c */
void guest_fail(struct guest_state *g, const char *what, long err);
void run_guest(struct run *r);
void guest_teardown(struct run *r);

/* guest_run.c */
void guest_run(struct run *r);

/* report.c */
extern const char *const op_names[OP_MAX];
struct json_object *jnum_or_null(bool ok, __s64 v);
struct json_object *j_uapi_list(unsigned int mask);
int write_outputs(const struct run *r);

/* report_guest.c */
struct json_object *j_scenario(const struct run *r);
void write_guest(FILE *f, const struct run *r);

/* report_human.c */
int write_bench(const struct run *r, FILE *f);
int write_human(const struct run *r, FILE *f, __u64 elapsed);

#endif /* GMW_WORKLOAD_H */
