/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gmemtrace event ABI: the records BPF programs write to the ring buffer and
 * the keys/values of the maps user space reads. Shared by bpf/ and src/.
 *
 * Rules: plain __u8..__u64 fields, explicit padding, no pointers exposed as
 * such (kernel addresses travel as __u64 keys only), sizes pinned by static
 * asserts. New event kinds get a new type value and a new union member; the
 * record size only grows, and existing offsets never move.
 */
#ifndef GMEMTRACE_H
#define GMEMTRACE_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define GMT_COMM_LEN		16
#define GMT_EVENT_SIZE		256	/* every ring buffer record */

/* Event kinds */
enum gmt_event_type {
	GMT_EV_CONVERT		= 1,	/* a conversion ioctl (G1/G2/G3) */
	GMT_EV_GMEM_CREATE	= 2,	/* KVM_CREATE_GUEST_MEMFD */
	GMT_EV_MEMSLOT		= 3,	/* KVM_SET_USER_MEMORY_REGION2 */
	GMT_EV_FALLOCATE	= 4,	/* fallocate() on a guest_memfd */
	GMT_EV_VM_CREATE	= 5,	/* KVM_CREATE_VM */
	GMT_EV_GUEST_REQ	= 6,	/* a guest's conversion request, exit to re-entry */
	GMT_EV_VM_GONE		= 7,	/* a VM's identity ended (see enum gmt_vm_end) */
	GMT_EV_HOLDER_START	= 8,	/* a long-term reference on guest_memfd pages taken */
	GMT_EV_HOLDER_END	= 9,	/* ... and dropped */
	GMT_EV_POLICY		= 10,	/* a non-silent policy decision (enforce) */
	GMT_EV_POLICY_TOCTOU	= 11,	/* the kernel's copy differs from what the hook decided on */
	GMT_EV_TYPE_MAX,
	GMT_EV_KVM_RUN		= 100,	/* internal: a KVM_RUN in flight (never emitted) */
};

/* Conversion uAPI generation */
enum gmt_gen {
	GMT_GEN_NONE	= 0,
	GMT_GEN_G1	= 1,	/* KVM_SET_MEMORY_ATTRIBUTES, VM fd */
	GMT_GEN_G2	= 2,	/* KVM_GMEM_CONVERT_*, guest_memfd fd */
	GMT_GEN_G3	= 3,	/* KVM_SET_MEMORY_ATTRIBUTES2, guest_memfd fd */
	GMT_GEN_MAX,
};

enum gmt_dir {
	GMT_DIR_TO_SHARED	= 0,
	GMT_DIR_TO_PRIVATE	= 1,
	GMT_DIR_MAX,
};

/* What produced the event's timing */
enum gmt_source {
	GMT_SRC_SYSCALL_TP	= 1,	/* syscalls:sys_enter/exit_* tracepoints only */
	GMT_SRC_FENTRY		= 2,	/* + fentry/fexit on the KVM ioctl handler */
	GMT_SRC_KPROBE		= 3,	/* + kprobe/kretprobe twins */
};

/*
 * Phase markers inside a conversion, in the order the kernel reaches them.
 * Each is the time from syscall entry to the marker's first hit on the
 * converting thread (0: not seen on this kernel or this path).
 */
enum gmt_phase {
	GMT_PH_KERNEL_ENTER = 0,	/* kvm_vm_ioctl / kvm_gmem_ioctl entered */
	GMT_PH_ATTR_TP,			/* tracepoint kvm_vm_set_mem_attributes (G1) */
	GMT_PH_PRE_SET,			/* kvm_arch_pre_set_memory_attributes: SPTE zap (G1) */
	GMT_PH_UNMAP,			/* unmap_mapping_pages: host mappings zapped (to-private) */
	GMT_PH_REFCOUNT,		/* filemap_get_folios returned: refcount check (G2/G3) */
	GMT_PH_LRU_DRAIN,		/* lru_add_drain_all: an unsafe ref was seen (G3 v8) */
	GMT_PH_INVALIDATE_START,	/* kvm_mmu_invalidate_start/_begin */
	GMT_PH_POST_SET,		/* kvm_arch_post_set_memory_attributes (G1) */
	GMT_PH_INVALIDATE_END,		/* kvm_mmu_invalidate_end */
	GMT_PH_KERNEL_EXIT,		/* the KVM ioctl handler returned */
	GMT_PH_MAX,
};

/* The folio a to-private check found unsafe (or, read after the fact, the
 * one at error_offset). */
struct gmt_folio_snap {
	__u64 index;		/* page index in the guest_memfd */
	__u32 refcount;
	__u32 expected;		/* nr_pages: the page cache's references (the check
				 * accepts nr_pages + 1, its own batch reference,
				 * which an exact refcount includes) */
	__s32 mapcount;
	__u32 pincount;		/* large folios: _pincount; small: refcount / 1024 */
	__u32 nr_pages;
	__u8 lru;		/* PG_lru set: not held by a per-CPU lru_add batch */
	__u8 exact;		/* 1: read at the check itself; 0: after the fact */
	__u8 valid;
	__u8 pad;
};

/* Counters user space reads from the per-CPU gmt_counters array */
enum gmt_counter {
	GMT_CNT_RB_DROPS	= 0,	/* bpf_ringbuf_reserve failed: event lost */
	GMT_CNT_INFLIGHT_FULL,		/* per-thread in-flight map full */
	GMT_CNT_INFLIGHT_MISS,		/* exit seen without its enter */
	GMT_CNT_READ_USER_ERR,		/* bpf_probe_read_user of the ioctl struct failed */
	GMT_CNT_READ_KERN_ERR,		/* fd -> file walk failed */
	GMT_CNT_STATS_FULL,		/* per-VM stats map full */
	GMT_CNT_WRONG_FD,		/* conversion cmd on an fd of the wrong kind */
	GMT_CNT_UNCOUNTED,		/* conversions stat could not count: no VM slot */
	GMT_CNT_VMS_FULL,		/* VM identity map full: VM left unnamed */
	GMT_CNT_PIDS_FULL,		/* fork-follow map full: a child is not traced */
	GMT_CNT_GREQ_LOST,		/* an open guest request could not be reported */
	GMT_CNT_HOLD_MAPS_FULL,		/* a guest_memfd mmap not tracked: per-process slots full */
	GMT_CNT_HOLD_FULL,		/* a holder not tracked: holder map full */
	GMT_CNT_HOLD_IOV_TRUNC,		/* a registration had more buffers than are read */
	GMT_CNT_POL_UNCHECKED,		/* a conversion's kernel copy not compared with the
					 * policy hook's (no stash for it) */
	GMT_CNT_IOMMU_UNWALKED,		/* pages of iommu:map ranges not walked (per map, a
					 * bounded walk: bpf/iommu_maps.bpf.c) */
	GMT_CNT_IOMMU_IOVA_TAKEN,	/* an iommu_map holder not tracked: its IOVA already is
					 * (another domain's, or a lost unmap) */
	GMT_CNT_MAX,
};

/*
 * Helper failures by site (per-CPU array gmt_err_sites, key enum gmt_site):
 * each BPF call site whose helper can fail (a probe read, a ring buffer
 * reserve, a map update) has an id; a failure bumps its count and records the
 * error, a success costs nothing. Ids are ABI: new sites are appended.
 */
enum gmt_site {
	GMT_SITE_NONE = 0,
	GMT_SITE_FD_SLOT,		/* fd array slot read (fd -> struct file) */
	GMT_SITE_CONVERT_ARG,		/* conversion ioctl struct (user) */
	GMT_SITE_GMEM_CREATE_ARG,	/* KVM_CREATE_GUEST_MEMFD struct (user) */
	GMT_SITE_MEMSLOT_ARG,		/* KVM_SET_USER_MEMORY_REGION2 struct (user) */
	GMT_SITE_ERROR_OFFSET,		/* error_offset after EAGAIN (user) */
	GMT_SITE_RB_EVENT,		/* ring buffer reserve: syscall event */
	GMT_SITE_RB_GUEST_REQ,		/* ring buffer reserve: guest request */
	GMT_SITE_RB_VM_GONE,		/* ring buffer reserve: VM gone */
	GMT_SITE_VMS_UPDATE,		/* gmt_vms insert */
	GMT_SITE_PIDS_UPDATE,		/* gmt_pids insert (fork follow) */
	GMT_SITE_ERRORS_UPDATE,		/* gmt_errors insert */
	GMT_SITE_KVM_RUN_READ,		/* struct kvm_run exit fields */
	GMT_SITE_G3_ERR_INDEX,		/* *err_index of __kvm_gmem_set_attributes */
	GMT_SITE_XA_NODE,		/* xarray node header (shift) */
	GMT_SITE_XA_SLOT,		/* xarray slot */
	GMT_SITE_FOLIO_BATCH,		/* folio_batch slot */
	GMT_SITE_HOLD_IOV,		/* io_uring_register iovec / rsrc struct (user) */
	GMT_SITE_RB_HOLDER,		/* ring buffer reserve: holder start/end */
	GMT_SITE_HOLD_STACK,		/* bpf_get_stackid of a holder's user stack */
	GMT_SITE_MAX,
};

/* value of gmt_err_sites, per CPU */
struct gmt_site_err {
	__u64 count;		/* failures at this site */
	__s64 last_err;		/* the last one's return value (negative errno; -1 for
				 * a NULL from bpf_ringbuf_reserve) */
};

/* Latency histogram: log-linear, 8 sub-buckets per power of two.
 * Values below 8 ns land in slots 0..7 directly; a value v >= 8 with
 * highest bit b lands in slot (b - 2) * 8 + ((v >> (b - 3)) & 7).
 * 40 powers of two cover 2^42 ns (about 73 minutes). */
#define GMT_HIST_SUB_BITS	3
#define GMT_HIST_SUB		(1 << GMT_HIST_SUB_BITS)
#define GMT_HIST_POWERS		40
#define GMT_HIST_SLOTS		(GMT_HIST_POWERS * GMT_HIST_SUB)

/* Common header of every event */
struct gmt_event_hdr {
	__u16 type;		/* enum gmt_event_type */
	__u16 size;		/* GMT_EVENT_SIZE; lets readers skip unknown kinds */
	__u32 cpu;
	__u64 ts_ns;		/* CLOCK_MONOTONIC at the start of the operation */
	__u32 pid;		/* tgid */
	__u32 tid;
	__u64 cgroup_id;
	char comm[GMT_COMM_LEN];
	__u64 vm_key;		/* VM identity: unique while the BPF object lives,
				 * never reused for another VM (0 = unknown) */
	__s32 vm_pid;		/* process that owns the VM, -1 = unknown */
	__s32 vm_fd;		/* the VM's fd in that process, -1 = unknown */
	__u64 latency_ns;	/* syscall enter -> exit */
	__s32 ret;		/* syscall return value (negative errno) */
	__s32 fd;		/* fd the syscall was issued on */
};

/* GMT_EV_CONVERT */
struct gmt_convert {
	__u32 cmd;		/* full ioctl number */
	__u8 gen;		/* enum gmt_gen */
	__u8 dir;		/* enum gmt_dir */
	__u8 source;		/* enum gmt_source */
	__u8 has_error_offset;	/* error_offset valid (kernel reported EAGAIN) */
	__u64 gmem_ino;		/* guest_memfd inode (G2/G3), 0 for G1 */
	__u64 start;		/* G1: GPA; G2/G3: byte offset in the guest_memfd */
	__u64 size;
	__u64 attributes;	/* G1/G3 attributes, G2: derived from the cmd */
	__u64 flags;		/* G1/G3 flags field */
	__u64 error_offset;
	__u64 kernel_latency_ns;	/* in-kernel time, 0 = not measured */
	__u32 phase_ns[GMT_PH_MAX];	/* see enum gmt_phase */
	struct gmt_folio_snap folio;	/* blocking folio, when found */
};

/* GMT_EV_GMEM_CREATE */
struct gmt_gmem_create {
	__u64 size;
	__u64 flags;
	__u64 gmem_ino;		/* inode of the new fd (ret), 0 on failure */
};

/* GMT_EV_MEMSLOT */
struct gmt_memslot {
	__u32 slot;
	__u32 flags;
	__u64 gpa;
	__u64 size;
	__u64 uaddr;
	__u64 gmem_offset;
	__u64 gmem_ino;		/* inode of guest_memfd, 0 if not bound */
	__s32 gmem_fd;
	__u32 pad;
};

/* GMT_EV_FALLOCATE */
struct gmt_fallocate {
	__u32 mode;
	__u32 pad;
	__u64 offset;
	__u64 len;
	__u64 gmem_ino;
};

/* GMT_EV_GUEST_REQ: KVM_RUN returned to the VMM with a conversion request
 * (KVM_EXIT_HYPERCALL/KVM_HC_MAP_GPA_RANGE or KVM_EXIT_MEMORY_FAULT); the
 * record closes at the next KVM_RUN of that thread. hdr.latency_ns is the
 * whole round trip, convert_ns the part spent in conversion ioctls. */
enum gmt_guest_req_kind {
	GMT_GREQ_MAP_GPA_RANGE = 1,
	GMT_GREQ_MEMORY_FAULT = 2,
};

/* why a guest request was closed */
enum gmt_greq_end {
	GMT_GREQ_END_REENTRY = 0,	/* the vCPU thread entered KVM_RUN again */
	GMT_GREQ_END_THREAD_EXIT,	/* the vCPU thread exited first */
	GMT_GREQ_END_OTHER_VCPU,	/* the thread ran another vCPU next */
	GMT_GREQ_END_TRACE_END,		/* still open when tracing ended */
};

struct gmt_guest_req {
	__u8 kind;		/* enum gmt_guest_req_kind */
	__u8 dir;		/* what the guest asked for */
	__u8 end;		/* enum gmt_greq_end: anything but REENTRY is incomplete */
	__u8 pad;
	__u32 conversions;	/* conversion ioctls the VMM issued meanwhile */
	__u64 gpa;
	__u64 size;
	__u64 flags;		/* hypercall attrs or memory_fault flags */
	__u64 convert_ns;	/* their summed syscall latency */
	__s32 vcpu_fd;
	__u32 blocked;		/* of those, refused with EAGAIN (the VMM retried) */
};

/* GMT_EV_VM_CREATE */
struct gmt_vm_create {
	__u64 vm_type;
};

/* GMT_EV_VM_GONE: how gmemtrace learnt that a VM no longer exists */
enum gmt_vm_end {
	GMT_VM_END_REUSED = 1,	/* a new VM was created at its struct kvm address */
	GMT_VM_END_RELEASED,	/* the kernel's VM release path ran */
	GMT_VM_END_SWEPT,	/* no file of any process refers to it any more */
};

struct gmt_vm_gone {
	__u8 how;		/* enum gmt_vm_end */
	__u8 pad[7];
};

/* GMT_EV_HOLDER_START/_END: who holds guest_memfd pages, how, since when */
enum gmt_holder_kind {
	GMT_HOLD_IOURING_BUF = 1,	/* io_uring fixed buffer (FOLL_PIN | FOLL_LONGTERM) */
	GMT_HOLD_VFIO_DMA,		/* VFIO type1 DMA mapping on a container */
	GMT_HOLD_IOMMUFD,		/* iommufd IOAS area (pinned once a device is attached) */
	GMT_HOLD_GUP_PIN,		/* a FOLL_PIN seen in the kernel (bpf/gup_pins.bpf.c):
					 * start = pinned, end = unpinned; per folio */
	GMT_HOLD_IOMMU_MAP = 5,		/* an IOMMU mapping of a guest_memfd folio, from the
					 * iommu:map / iommu:unmap tracepoints
					 * (bpf/iommu_maps.bpf.c): whoever made it */
};

/* the holder has a device address (gmt_holder.iova) */
static inline int gmt_holder_has_iova(unsigned int kind)
{
	return kind == GMT_HOLD_VFIO_DMA || kind == GMT_HOLD_IOMMUFD || kind == GMT_HOLD_IOMMU_MAP;
}

enum gmt_holder_end {
	GMT_HOLD_END_NONE = 0,		/* a start record */
	GMT_HOLD_END_UNREGISTER,	/* IORING_UNREGISTER_BUFFERS (or replaced by an update) */
	GMT_HOLD_END_CLOSE,		/* the ring fd was closed */
	GMT_HOLD_END_EXIT,		/* the process exited */
	GMT_HOLD_END_UNMAP,		/* VFIO_IOMMU_UNMAP_DMA / IOMMU_IOAS_UNMAP */
	GMT_HOLD_END_UNPIN,		/* gup_pin: the pins were released (by anyone) */
};

/* guest_memfd mmaps tracked per process (map gmt_hmaps) */
#define GMT_HOLD_MAPS		8
/* buffers of one registration read at most (the rest counted) */
#define GMT_HOLD_MAX_IOV	256
#define GMT_HOLD_MAX		4096	/* holders tracked at once */

struct gmt_holder {
	__u8 kind;		/* enum gmt_holder_kind */
	__u8 end;		/* enum gmt_holder_end */
	__u16 pad;
	__s32 ring_fd;		/* the fd that owns it: io_uring ring, VFIO container
				 * or iommufd */
	__u32 index;		/* io_uring: buffer index in the ring's table;
				 * iommufd: the IOAS id; VFIO: 0 */
	__s32 stack_id;		/* user stack in gmt_hstacks, < 0: -errno */
	__u64 gmem_ino;
	__u64 gmem_offset;	/* byte range of the guest_memfd it covers */
	__u64 len;
	__u64 uaddr;		/* its user address in the holder's mmap */
	__u64 start_ns;		/* CLOCK_MONOTONIC when taken */
	__u64 leaf_ret;		/* the first of 16 words at the user stack pointer
				 * that returns from a call to the wrapper the
				 * thread is in: the caller of a frameless syscall
				 * wrapper, which a frame-pointer walk skips */
	__u64 id;		/* unique while the BPF object lives */
	__u64 iova;		/* VFIO / iommufd: device address of gmem_offset */
	/* gup_pin (ring_fd -1, index = pins taken or released, stack_id the
	 * pinning or unpinning task's user stack) */
	__s32 kstack_id;	/* kernel stack in gmt_hstacks, < 0: -errno or none */
	__u32 pad2;
	__u64 folio;		/* the struct folio's kernel address */
	__u64 paddr;		/* iommu_map: physical address of gmem_offset (0: other kinds) */
};

/* GMT_EV_POLICY: the hook's decision on one conversion ioctl (hdr.ret is
 * what the hook returned: 0 or -errno; latency_ns is 0) */
enum gmt_pol_mode {
	GMT_POL_MONITOR	= 0,	/* deny nothing, report what would be denied */
	GMT_POL_ENFORCE	= 1,
};

struct gmt_policy_rec {
	__u64 start;		/* GPA (G1) or guest_memfd offset (G2/G3) */
	__u64 size;
	__u64 attributes;
	__u64 gmem_ino;		/* G2/G3: the guest_memfd's inode */
	__u32 cmd;
	__u32 rule_id;		/* 0: the policy's default */
	__u32 rule_index;	/* GMT_POLICY_MAX_RULES: the default */
	__u8 action;		/* enum gmt_pol_action */
	__u8 mode;		/* enum gmt_pol_mode */
	__u8 gen;
	__u8 dir;
	__u16 err;		/* the rule's errno for deny */
	__u8 read_failed;	/* the argument could not be read: decided on nothing */
	__u8 pad[5];
};

/*
 * GMT_EV_POLICY_TOCTOU: a conversion whose argument changed between the
 * policy hook's read and the kernel's own copy (a racing thread). `decided`
 * is what the hook read and decided on (its hdr.ret is 0: the hook let it
 * through); kern_* is the kernel's copy where it is visible: G1's
 * kvm_vm_set_mem_attributes tracepoint (GPA), G3's __kvm_gmem_set_attributes
 * (guest_memfd offset), both in bytes.
 */
struct gmt_policy_toctou_rec {
	struct gmt_policy_rec decided;
	__u64 kern_start;
	__u64 kern_size;
	__u64 kern_attributes;
	__u8 killed;		/* toctou: kill in enforce mode: SIGKILL sent to the thread */
	__u8 pad[7];
};

/* map gmt_pol_counts: per rule (index; GMT_POLICY_MAX_RULES: the default) */
struct gmt_pol_count {
	__u64 hits;
	__u64 denies;		/* in monitor mode: would have denied */
};

/* value of map gmt_holders: the holder as its start record told it, and the
 * VM it names (stat and export read the map: the holders alive now) */
struct gmt_hval {
	struct gmt_holder h;
	__u64 vm_id;
	__s32 vm_pid, vm_fd;
};

/* map gmt_holders: one per (process, ring fd, buffer index, mmap slot) */
struct gmt_holder_key {
	__u32 tgid;
	__s32 ring_fd;
	__u32 index;
	__u32 slot;		/* the buffer may span several guest_memfd mmaps */
	__u64 iova;		/* VFIO / iommufd: several mappings per fd */
};

#define GMT_EVENT_HDR_SIZE	80
#define GMT_EVENT_BODY_SIZE	(GMT_EVENT_SIZE - GMT_EVENT_HDR_SIZE)

struct gmt_event {
	struct gmt_event_hdr hdr;
	union {
		struct gmt_convert convert;
		struct gmt_gmem_create gmem_create;
		struct gmt_memslot memslot;
		struct gmt_fallocate fallocate;
		struct gmt_vm_create vm_create;
		struct gmt_guest_req guest_req;
		struct gmt_vm_gone vm_gone;
		struct gmt_holder holder;
		struct gmt_policy_rec policy;
		struct gmt_policy_toctou_rec policy_toctou;
		__u8 body[GMT_EVENT_BODY_SIZE];
	};
};

/*
 * Per-VM aggregates live in an ARRAY (lookups are inlined by the verifier:
 * no helper call on the hot path): VM slot * GMT_STATS_PER_VM + (gen-1)*2 + dir.
 * A VM gets a slot when first seen: a recycled one from the gmt_free_slots
 * queue, else the next fresh one (bss gmt_nr_vm_slots). User space reports a
 * dead VM's slot one last time, zeroes it and pushes it back on the queue.
 */
#define GMT_MAX_VMS		256
#define GMT_STATS_PER_VM	((GMT_GEN_MAX - 1) * GMT_DIR_MAX)
#define GMT_STATS_ENTRIES	(GMT_MAX_VMS * GMT_STATS_PER_VM)
#define GMT_NO_SLOT		0xffffffffu
/* processes followed with -p / -- CMD at once (map gmt_pids) */
#define GMT_MAX_FOLLOWED	16384

static inline __u32 gmt_stats_index(__u32 vm_slot, __u8 gen, __u8 dir)
{
	return vm_slot * GMT_STATS_PER_VM + (__u32)(gen - 1) * GMT_DIR_MAX + dir;
}

/* Failures counted in the stats value itself: the common errnos of the
 * conversion ioctls. Anything else goes to the gmt_errors hash as well. */
enum gmt_err_class {
	GMT_ERRC_EAGAIN = 0,
	GMT_ERRC_EINVAL,
	GMT_ERRC_ENOTTY,
	GMT_ERRC_EFAULT,
	GMT_ERRC_ENOMEM,
	GMT_ERRC_EPERM,
	GMT_ERRC_EBUSY,
	GMT_ERRC_EIO,
	GMT_ERRC_EOPNOTSUPP,
	GMT_ERRC_OTHER,
	GMT_ERRC_MAX,
};

/* positive errno of each class (OTHER: 0) */
#define GMT_ERRC_ERRNOS { 11, 22, 25, 14, 12, 1, 16, 5, 95, 0 }

static inline __u32 gmt_err_class(__u32 err)
{
	switch (err) {
	case 11: return GMT_ERRC_EAGAIN;
	case 22: return GMT_ERRC_EINVAL;
	case 25: return GMT_ERRC_ENOTTY;
	case 14: return GMT_ERRC_EFAULT;
	case 12: return GMT_ERRC_ENOMEM;
	case 1: return GMT_ERRC_EPERM;
	case 16: return GMT_ERRC_EBUSY;
	case 5: return GMT_ERRC_EIO;
	case 95: return GMT_ERRC_EOPNOTSUPP;
	}
	return GMT_ERRC_OTHER;
}

/* Per-VM, per-direction, per-generation aggregates, also user space's row key */
struct gmt_stats_key {
	__u64 vm_key;
	__u8 dir;
	__u8 gen;
	__u8 pad[6];
};

struct gmt_stats {
	__s32 vm_pid;		/* the owner VM's name, as in gmt_vms */
	__s32 vm_fd;
	__u64 vm_key;		/* the owner VM's identity, set with the slot */
	__u64 count;		/* completed conversion ioctls */
	__u64 ok;		/* returned 0 */
	__u64 bytes;		/* bytes of the successful ones */
	__u64 failed;		/* returned < 0, EAGAIN included */
	__u64 blocked;		/* returned -EAGAIN */
	__u64 lat_sum_ns;
	__u64 lat_max_ns;
	__u64 klat_count;		/* conversions with an in-kernel latency */
	__u64 klat_sum_ns;
	__u64 phase_sum_ns[GMT_PH_MAX];	/* sum of each marker's offset, when seen */
	__u64 phase_count[GMT_PH_MAX];
	__u64 errs[GMT_ERRC_MAX];	/* failures by enum gmt_err_class */
	__u64 hist[GMT_HIST_SLOTS];
};

/* Failures by errno outside the classes (map gmt_errors) */
struct gmt_err_key {
	__u64 vm_key;
	__u8 dir;
	__u8 gen;
	__u16 err;		/* positive errno */
	__u32 pad;
};

/*
 * Live VMs (map gmt_vms), keyed by the struct kvm address. The address is
 * reused by the kernel for later VMs, so an entry is replaced at every
 * successful KVM_CREATE_VM and dropped when the VM is known to be gone;
 * `id` is what events and stats carry (gmt_event_hdr.vm_key).
 */
struct gmt_vm_info {
	__s32 pid;
	__s32 fd;
	__u64 id;		/* from bss gmt_vm_next_id, never reused */
	__u32 slot;		/* stats slot, GMT_NO_SLOT if none */
	__u32 mark;		/* last sweep that found a file referring to it */
	__u32 quiet;		/* only seen created by a process filtered out */
	__u32 pad;
	__u64 cgroup;		/* the creator's cgroup v2 id at KVM_CREATE_VM;
				 * 0: created before tracing started */
};

/* Per-thread in-flight syscall (map gmt_inflight), keyed by tid */
struct gmt_inflight {
	/* classification cache: the fd's file, checked on every call so a
	 * reused fd or a reused struct file is classified again */
	__u64 c_file;
	__u64 c_pd;		/* file->private_data */
	__u64 c_vm_key;
	__u64 c_gmem_ino;
	__s32 c_fd;
	__u32 c_slot;
	__s32 c_vm_pid;		/* the VM's identity when classified (fd -1: not yet known) */
	__s32 c_vm_fd;
	__u64 c_vm_id;
	__u64 c_epoch;		/* bss gmt_vm_epoch when classified: a VM created or gone
				 * since then may have reused the addresses above */
	__u8 c_kind;		/* enum gmt_fd_kind */
	__u8 c_pad[7];
	__u64 k_start_ns;	/* KVM ioctl handler entered (kernel-side backends) */
	__u64 k_fbatch;		/* kprobe twin: filemap_get_folios' batch, for the return */
	/* the refcount check's candidate blocker (in convert.folio, not yet
	 * valid): confirmed only by the kernel's own answer, EAGAIN at its index */
	__u64 k_batch;		/* the folio batch last checked (alive during the drain) */
	__u64 k_err_index;	/* kprobe twin: __kvm_gmem_set_attributes' err_index */
	__u8 k_cand;		/* convert.folio holds a candidate */
	__u8 k_cand_slot;	/* its slot in k_batch */
	__u8 k_result;		/* the kernel's verdict was read in the kernel */
	__u8 k_pad[5];
	/* guest requests: this thread's vCPU (cached like c_*) and the open request */
	__u64 g_file;
	__u64 g_vcpu;		/* its private_data: struct kvm_vcpu */
	__u64 g_run;		/* the vCPU's struct kvm_run, a kernel address */
	__u64 g_vm_key;		/* struct kvm address */
	__u64 g_epoch;		/* as c_epoch */
	__u64 g_vm_id;		/* the VM's identity when the request opened */
	__s32 g_vm_pid;
	__s32 g_vm_fd;
	__s32 g_fd;
	__u32 g_pad;
	__u64 g_exit_ns;
	struct gmt_guest_req g_req;	/* kind 0: none open */
	__u64 start_ns;
	__u64 uarg;		/* user pointer of the ioctl argument */
	__u64 vm_key;
	__u64 gmem_ino;
	__u32 cmd;
	__s32 fd;
	__u8 kind;		/* enum gmt_event_type being built */
	__u8 gen;
	__u8 dir;
	__u8 quiet;		/* filtered out: keep VM identity, emit nothing */
	__u8 pad[4];
	union {
		struct gmt_convert convert;
		struct gmt_gmem_create gmem_create;
		struct gmt_memslot memslot;
		struct gmt_fallocate fallocate;
		struct gmt_vm_create vm_create;
	};
};

#ifndef __bpf__
#include <stddef.h>
_Static_assert(sizeof(struct gmt_hval) == sizeof(struct gmt_holder) + 16, "holder map value ABI");
_Static_assert(sizeof(struct gmt_event_hdr) == GMT_EVENT_HDR_SIZE, "event header ABI");
_Static_assert(sizeof(struct gmt_event) == GMT_EVENT_SIZE, "event ABI");
_Static_assert(sizeof(struct gmt_convert) <= GMT_EVENT_BODY_SIZE, "convert body");
_Static_assert(sizeof(struct gmt_policy_rec) == 56, "policy record ABI");
_Static_assert(sizeof(struct gmt_policy_toctou_rec) == 88, "policy_toctou record ABI");
_Static_assert(sizeof(struct gmt_memslot) <= GMT_EVENT_BODY_SIZE, "memslot body");
_Static_assert(sizeof(struct gmt_folio_snap) == 32, "folio snapshot ABI");
_Static_assert(offsetof(struct gmt_convert, kernel_latency_ns) == 56, "convert ABI");
_Static_assert(offsetof(struct gmt_event, convert) == GMT_EVENT_HDR_SIZE, "body offset");
_Static_assert(sizeof(struct gmt_stats_key) == 16, "stats key ABI");
_Static_assert(sizeof(struct gmt_err_key) == 16, "err key ABI");
_Static_assert(sizeof(struct gmt_vm_info) == 40, "vm info ABI");
_Static_assert(sizeof(struct gmt_guest_req) == 48, "guest request ABI");
_Static_assert(sizeof(struct gmt_site_err) == 16, "site error ABI");
_Static_assert(sizeof(struct gmt_holder) == 104, "holder ABI");
_Static_assert(sizeof(struct gmt_holder) <= GMT_EVENT_BODY_SIZE, "holder body");
_Static_assert(sizeof(struct gmt_holder_key) == 24, "holder key ABI");
#endif

#endif /* GMEMTRACE_H */
