/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The view layer: what a record says, worked out once, in plain values
 * (numbers, names, flags), before any format sees it. The formats
 * (src/output/) write these records and nothing else: they never read a
 * kernel struct, never decide what an errno or a mode bit means, never
 * translate or decompose. So a new format is the writing only, and every
 * format says the same thing.
 *
 * Conventions: a "has_x" flag says whether x is known (JSON writes null
 * otherwise, text leaves the field out); names are static strings (NULL
 * only where said); strings from a process (comm) stay raw bytes here, as
 * escaping belongs to the format (escape.h).
 */
#ifndef GMT_VIEW_H
#define GMT_VIEW_H

#include <stdbool.h>
#include <linux/types.h>

#include "gmemtrace.h"

struct gmt_pol_live;

struct gmt_model;
struct gmt_session;
struct gmt_stat_snapshot;

/* ---- a VM, as every record names it ---- */

struct gmt_vm_view {
	char label[24];		/* KVM's own name: "<pid>-<fd>", "<pid>-?" or "?" */
	__u32 label_len;
	__s32 pid;		/* owner process, -1 unknown */
	__s32 fd;		/* its VM fd there, -1 unknown */
	__u64 id;		/* gmemtrace's VM identity, 0 unknown */
};

void gmt_view_vm(struct gmt_vm_view *v, __s32 pid, __s32 fd, __u64 id);

/* ---- events (trace) ---- */

struct gmt_phase_view {
	const char *name;
	__u64 ns;
};

/* the markers seen: an event's offsets (ns), or a row's means (sum / count) */
int gmt_view_phases(struct gmt_phase_view *out, const __u32 *ns, const __u64 *sum,
		    const __u64 *count);

/* the folio that made a conversion to private fail, split as `refs` splits it */
struct gmt_folio_snap;
struct gmt_refs_verdict;
/* a blocking folio split into pins, other references and the LRU batch, the
 * same way `gmemtrace refs` splits it */
void gmt_folio_decompose(const struct gmt_folio_snap *f, struct gmt_refs_verdict *d);

struct gmt_folio_view {
	__u64 index;		/* page index in the guest_memfd */
	__u64 offset;		/* its byte offset */
	__u32 refcount, expected;
	__s32 mapcount;
	__u32 pins, other, lru_batch;	/* the references' owners; lru_batch 0/1 */
	__u32 nr_pages;
	bool lru;
	bool exact;		/* read at the check itself, not after the fact */
};

/* frames of a holder's stack a record shows */
#define GMT_VIEW_STACK_MAX	8
/* holders a blocked conversion's record names (the rest are counted) */
#define GMT_VIEW_BLOCKERS_MAX	4

/* a holder of a blocked conversion's folio, as the live holders know it */
struct gmt_blocker_view {
	const char *kind;		/* "io_uring_buffer", "vfio_dma", "iommufd" */
	unsigned int holder_kind;	/* enum gmt_holder_kind: which fields apply */
	__u32 pid;
	const char *comm;		/* GMT_COMM_LEN raw bytes */
	__s32 fd;			/* the fd that owns it (ring, container, iommufd) */
	__u32 index;			/* buffer index; iommufd: IOAS id */
	__u64 iova;			/* VFIO / iommufd / iommu_map: device address */
	__u64 paddr;			/* iommu_map: physical address; vfio_dma / iommufd:
					 * that of its device mapping (0: none seen) */
	__u64 id;			/* its holder_start record's holder_id */
	__u64 device_mapping;		/* vfio_dma / iommufd: the iommu_map holder (its id)
					 * that is its device mapping, folded in here (one
					 * pin, counted once); 0: none */
	__u64 gmem_ino, gmem_offset, size, uaddr;
	__u64 since_real_ns;		/* wall clock when it was taken */
	__u64 held_ns;			/* how long it had been held at the conversion */
	__u64 refs;			/* references of the folio it explains */
	int nr_frames;			/* its symbolized user stack, innermost first */
	const char *frames[GMT_VIEW_STACK_MAX];	/* "" unknown symbol */
	__u64 frame_ips[GMT_VIEW_STACK_MAX];
};

/* who holds a blocked conversion's folio (trace --holders) */
struct gmt_blockers_view {
	bool traced;			/* false: without --holders; the record says so */
	bool has_refs;			/* the folio was read: its excess is split */
	__u64 excess;			/* the references the check refused: pins x 1024 + other
					 * (large folios: pins + other); the page cache's, the
					 * mappings', the check's own and the lru batch's are not */
	__u64 attributed, unattributed;	/* attributed + unattributed = excess */
	const char *unattributed_why;	/* NULL when all is attributed */
	int nr_holders;			/* holders over the folio (or the page at error_offset) */
	__u64 records_lost;		/* records lost so far: holders may be missing or stale */
	int nr;				/* of them, named here */
	struct gmt_blocker_view h[GMT_VIEW_BLOCKERS_MAX];
};

struct gmt_convert_view {
	const char *gen, *uapi, *dir, *source;
	__u32 cmd;
	bool has_gpa;		/* G1: the range is named by GPA */
	bool has_gmem;		/* the guest_memfd range (G1: through the memslots) */
	__u64 gpa, gmem_ino, gmem_offset;
	__u64 size, attributes, flags;
	bool blocked;		/* refused: folios still referenced (EAGAIN) */
	bool has_error_offset;
	bool has_kernel_latency;
	bool has_folio;
	__u64 error_offset, kernel_latency_ns;
	int nr_phases;		/* markers seen, in kernel order */
	struct gmt_phase_view phases[GMT_PH_MAX];
	struct gmt_folio_view folio;
	struct gmt_blockers_view holders;	/* when blocked */
};

struct gmt_gmem_create_view {
	__u64 size, flags, gmem_ino;	/* ino 0: none (failed) */
	__s32 gmem_fd;			/* -1: failed */
};

struct gmt_memslot_view {
	__u32 slot, flags;
	__u64 gpa, size, uaddr;
	bool gmem_bound;		/* backed by a guest_memfd */
	__s32 gmem_fd;
	__u64 gmem_ino, gmem_offset;
};

struct gmt_fallocate_view {
	__u32 mode;
	bool punch_hole;
	__u64 gmem_ino, offset, len;
};

struct gmt_guest_req_view {
	const char *kind, *dir, *end;
	__u64 gpa, size, flags;
	__s32 vcpu_fd;
	__u32 conversions, blocked;	/* blocked: refused with EAGAIN, retried */
	__u64 convert_ns;		/* in conversion ioctls */
	__u64 vmm_ns;			/* the rest of the guest's wait */
	bool complete;			/* the guest got its answer while traced */
};

/* frames of a gup_pin's kernel stack (the pinner sits ~10 below the grab) */
#define GMT_VIEW_KSTACK_MAX	24

struct gmt_holder_view {
	const char *kind;		/* "io_uring_buffer", "vfio_dma", "iommufd", "gup_pin",
					 * "iommu_map" */
	const char *end;		/* holder_end: "unregister", ...; NULL on a start */
	unsigned int holder_kind;	/* enum gmt_holder_kind: which fields apply */
	__s32 ring_fd;			/* the owning fd: ring, container or iommufd */
	__u32 index;			/* buffer index in the ring; iommufd: IOAS id */
	__u64 iova;			/* VFIO / iommufd: device address */
	__u64 gmem_ino, gmem_offset, size, uaddr, id;
	__u64 held_ns;			/* holder_end: how long it was held */
	int nr_frames;			/* symbolized user stack, innermost first */
	const char *frames[GMT_VIEW_STACK_MAX];	/* "" unknown symbol */
	__u64 frame_ips[GMT_VIEW_STACK_MAX];
	/* gup_pin: pins taken or released, the folio, the kernel stack */
	bool kernel_side;
	__u32 pins;
	__u64 folio;			/* gup_pin, iommu_map (its first folio) */
	__u64 paddr;			/* iommu_map: physical address of gmem_offset */
	int nr_kframes;			/* innermost first */
	const char *kframes[GMT_VIEW_KSTACK_MAX];	/* "" unknown symbol */
	__u64 kframe_ips[GMT_VIEW_KSTACK_MAX];
};

/* a policy decision (enforce): what the hook did and why */
struct gmt_policy_view {
	const char *action;		/* the rule's: "allow", "deny", "audit" */
	const char *mode;		/* "monitor", "enforce" */
	const char *gen, *dir;
	__u32 rule_id;			/* 0: the policy's default */
	bool is_default;
	bool denied;			/* the ioctl failed because of it */
	bool would_deny;		/* monitor mode: enforce would have denied */
	bool read_failed;		/* the argument was unreadable: audited */
	bool has_gpa;			/* G1: start is a GPA, else a guest_memfd offset */
	__u32 cmd;
	__u16 err;			/* the rule's errno for deny */
	__u64 start, size, attributes, gmem_ino;
};

/* policy_toctou: what the hook decided on, and the kernel's own copy */
struct gmt_policy_toctou_view {
	struct gmt_policy_view decided;
	__u64 kern_start, kern_size, kern_attributes;
	bool killed;			/* SIGKILL sent to the thread (toctou: kill) */
};

struct gmt_event_view {
	unsigned int type;		/* enum gmt_event_type */
	const char *name;		/* "convert" */
	__u64 ts_ns;			/* CLOCK_MONOTONIC at its start */
	__u64 real_ns;			/* the same, wall clock */
	__u32 pid, tid;
	const char *comm;		/* GMT_COMM_LEN raw bytes, maybe without NUL */
	__u64 cgroup_id;
	struct gmt_vm_view vm;
	__s32 fd, ret;
	const char *errno_name;		/* ret < 0 with a known errno, else NULL */
	__u64 latency_ns;
	union {
		struct gmt_convert_view convert;
		struct gmt_gmem_create_view gmem_create;
		struct gmt_memslot_view memslot;
		struct gmt_fallocate_view fallocate;
		__u64 vm_type;			/* vm_create */
		struct gmt_guest_req_view guest_req;
		const char *vm_gone_how;	/* vm_gone: how gmemtrace learnt it */
		struct gmt_holder_view holder;
		struct gmt_policy_view policy;
		struct gmt_policy_toctou_view policy_toctou;
	};
};

/* a symbolized stack's first GMT_VIEW_STACK_MAX frames; returns how many */
struct gmt_stack;
int gmt_view_stack(const char **frames, __u64 *ips, const struct gmt_stack *st);

/* the holders of a blocked conversion's folio (view_blocked.c) */
struct gmt_model;
void gmt_view_blockers(struct gmt_blockers_view *v, const struct gmt_model *m,
		       const struct gmt_event *e, const struct gmt_convert_view *c, __u64 real_off);

/* the event read against the model (which it does not change) */
void gmt_view_event(struct gmt_event_view *v, const struct gmt_model *m,
		    const struct gmt_event *e, __u64 real_off);

/* ---- attach ---- */

struct gmt_prog_view {
	const char *program, *backend, *hook, *state;	/* state "attached", ... */
	const char *feature;		/* NULL: always wanted */
	const char *target;		/* chosen kernel target, NULL if none */
	const char *reason;		/* NULL if none */
	int hook_kind_len;		/* "fentry/x": the part before the target */
	bool attached, failed;
	bool unavailable;		/* its feature could not be had */
	bool first_of_feature;		/* the first unavailable row of its feature */
	bool asked_for;			/* an option asked for it (--holders): its absence is
					 * said without -v */
};

struct gmt_attach_view {
	struct gmt_prog_view *progs;
	int nr_progs;
	int nr_attached;
	int nr_kernel;			/* attached kernel-side programs */
};

int gmt_view_attach(struct gmt_attach_view *v, const struct gmt_session *s);
void gmt_view_attach_free(struct gmt_attach_view *v);

/* ---- end of a run ---- */

struct gmt_named_u64 {
	const char *name;
	__u64 v;
};

enum gmt_cmd_end {
	GMT_CMD_NONE = 0,		/* no command */
	GMT_CMD_EXITED,			/* by itself: status is its exit status */
	GMT_CMD_STOPPED,		/* gmemtrace ended it */
	GMT_CMD_LEFT_RUNNING,		/* --keep-running: still running */
};

struct gmt_end_view {
	double duration_s;
	enum gmt_cmd_end cmd;
	int cmd_status;
	/* trace */
	__u64 lost;
	struct gmt_named_u64 events[GMT_EV_TYPE_MAX - 1];	/* every kind */
	struct gmt_named_u64 counters[GMT_CNT_MAX];
	/* BPF helper failures by the site that saw them (trace and stat) */
	struct gmt_named_u64 helper_errors[GMT_SITE_MAX - 1];	/* site 1.. */
	/* stat */
	unsigned long long intervals;
};

/* end-of-run totals for `trace` */
struct gmt_trace_summary {
	__u64 events[GMT_EV_TYPE_MAX];
	__u64 lost;			/* ring buffer drops */
	__u64 counters[GMT_CNT_MAX];
	__u64 helper_errors[GMT_SITE_MAX];	/* by enum gmt_site */
	double duration_s;
	int cmd_status;			/* -- CMD exit status, -1 = none */
	bool cmd_ran;
	bool cmd_stopped;		/* gmemtrace ended it: no status of its own */
	bool cmd_left_running;		/* --keep-running: still running at the end */
};

/* end-of-run record of `stat` */
struct gmt_stat_summary {
	unsigned long long intervals;	/* stat records written */
	__u64 helper_errors[GMT_SITE_MAX];	/* by enum gmt_site */
	double duration_s;
	int cmd_status;
	bool cmd_ran;
	bool cmd_stopped;
	bool cmd_left_running;
};

/* helper failures by site (n by enum gmt_site) as named values, site 1.. */
void gmt_view_helper_errors(struct gmt_named_u64 *out, const __u64 *n);
void gmt_view_trace_end(struct gmt_end_view *v, const struct gmt_trace_summary *s);
void gmt_view_stat_end(struct gmt_end_view *v, const struct gmt_stat_summary *s);

/* ---- stat ---- */

struct gmt_counts_view {
	__u64 count, ok, bytes, failed, blocked, latency_sum_ns;
};

struct gmt_err_view {
	const char *name;		/* NULL: an errno without a name here */
	unsigned int err;
	__u64 delta, total;
};

struct gmt_bucket_view {
	__u64 min, max, count;
};

struct gmt_stat_row_view {
	struct gmt_vm_view vm;
	bool gone;			/* the VM's last row */
	const char *gen, *dir;
	struct gmt_counts_view interval, total;
	double rate, bytes_rate;	/* per second over the interval */
	bool has_percentiles;		/* conversions in the interval */
	__u64 p50_ns, p90_ns, p99_ns, max_ns;
	bool has_kernel_latency;
	__u64 kernel_latency_avg_ns;
	int nr_phases;			/* mean offset of each marker seen */
	struct gmt_phase_view phases[GMT_PH_MAX];
	const struct gmt_err_view *errs;	/* failures by errno (delta 0 too) */
	int nr_errs;
	/* with the histogram only */
	const struct gmt_bucket_view *buckets;	/* the non-empty slots */
	int nr_buckets;
	__u64 pow2[64];			/* the same in [2^i, 2^(i+1)) */
};

/* a VM's holders now (stat, export with --holders) */
struct gmt_holder_kind_count {
	const char *kind;		/* "io_uring_buffer" */
	__u64 n;
};

struct gmt_holders_row_view {
	struct gmt_vm_view vm;
	bool gone;			/* the VM is gone: its last row (stat) */
	__u64 holders, pinned_bytes;	/* pinned: guest_memfd bytes under a holder, once */
	int nr_kinds;			/* every kind with a name, 0 counts too */
	struct gmt_holder_kind_count kinds[8];
};

struct gmt_stat_view {
	__u64 real_ns;
	double interval_s;
	int nr_live_vms;
	__u64 drops, uncounted, stats_full;
	struct gmt_named_u64 counters[GMT_CNT_MAX];
	bool hist;
	struct gmt_stat_row_view *rows;
	int nr_rows;
	struct gmt_err_view *errs;		/* storage of the rows' errs */
	struct gmt_bucket_view *buckets;	/* storage of the rows' buckets */
	const struct gmt_pol_live *pols;	/* policy hooks running, per-rule counters */
	int nr_pols;
	bool holders_on;		/* --holders: the rows below mean something */
	struct gmt_holders_row_view *hrows;	/* VMs with holders now or at the last record */
	int nr_hrows;
};

int gmt_view_stat(struct gmt_stat_view *v, const struct gmt_stat_snapshot *snap, bool hist);
/* the snapshot's holders per VM (view_holders.c): a new array, or NULL when none */
int gmt_view_holders_rows(struct gmt_holders_row_view **out, int *nr,
			  const struct gmt_stat_snapshot *snap);
void gmt_view_stat_free(struct gmt_stat_view *v);

/* ---- metrics (export): cumulative per-VM totals, kept after the VM is gone ---- */

struct gmt_metrics_row_view {
	struct gmt_vm_view vm;
	bool gone;			/* its series stay until they expire */
	const char *gen, *dir;
	struct gmt_counts_view total;	/* since tracing started */
	const struct gmt_err_view *errs;	/* failures by errno, totals */
	int nr_errs;
	__u64 pow2[64];			/* latency histogram in [2^i, 2^(i+1)) ns */
	__u64 klat_count, klat_sum_ns;	/* conversions with an in-kernel latency */
};

struct gmt_metrics_view {
	const char *version;
	int nr_live_vms;		/* VMs with an identity now */
	int nr_vms;			/* VMs with series (gone ones until they expire) */
	struct gmt_named_u64 counters[GMT_CNT_MAX];
	struct gmt_named_u64 helper_errors[GMT_SITE_MAX - 1];	/* site 1.. */
	const struct gmt_attach_view *attach;	/* NULL: not attached */
	struct gmt_metrics_row_view *rows;
	int nr_rows;
	struct gmt_err_view *errs;	/* storage of the rows' errs */
	const struct gmt_pol_live *pols;	/* policy hooks running, per-rule counters */
	int nr_pols;
	bool holders_on;		/* --holders */
	struct gmt_holders_row_view *hrows;	/* until their VM's series expire */
	int nr_hrows;
};

/* acc: rows with cumulative totals (gone marks expiring ones), sorted by
 * key (VM id, gen, dir), its errs by key then errno; helper_errors by
 * enum gmt_site */
int gmt_view_metrics(struct gmt_metrics_view *v, const struct gmt_stat_snapshot *acc,
		     const __u64 *helper_errors, const struct gmt_attach_view *attach);
void gmt_view_metrics_free(struct gmt_metrics_view *v);

/* ---- refs (built by src/refs/) ---- */

struct gmt_refs_holder_view {
	__u32 pid;
	__s32 fd;
};

struct gmt_refs_gmem_view {
	__u32 pid;
	__s32 fd;
	const char *comm;		/* 16 raw bytes */
	__u64 gmem_ino, size, cached_pages;
	bool has_flags;
	__u64 flags;
	struct gmt_vm_view vm;		/* label "?" when no VM fd refers to it */
	const struct gmt_refs_holder_view *others;	/* further fds on it */
	int nr_others;
	bool has_range;
	__u64 range_off, range_len;
};

/* A holder that explains some of a folio's extra references (refs --holders) */
struct gmt_refs_attr_view {
	const char *kind;		/* "io_uring_buffer", "vfio_dma", "iommufd" */
	__u32 pid;
	const char *comm;
	__s32 fd;			/* the ring, the VFIO container, the iommufd */
	__u32 buf_index;		/* io_uring_buffer */
	bool has_iova;			/* vfio_dma, iommufd: */
	__u64 iova;			/* the IOVA of the folio's first page it maps */
	__u64 map_iova, map_size;	/* the whole mapping (IOAS area) */
	bool has_ioas;			/* iommufd: */
	__u32 ioas_id;
	__u64 shared;			/* its pins' owner (iopt_pages): areas over
					 * the same pages share one pin per page */
	__u64 off_lo, off_hi;		/* the guest_memfd bytes of the folio it maps */
	__u32 pages;			/* pages of this folio it maps */
	__u64 refs;			/* references that explains (0: the pins of
					 * an earlier holder of the same pages) */
};

struct gmt_refs_folio_view {
	__u32 pid;
	__s32 fd;
	__u64 gmem_ino, index, offset;
	bool has_pfn, has_order, has_pincount;
	__u64 pfn;
	__u32 order, nr_pages, expected, pins, other, lru_batch;
	__s32 refcount, mapcount, pincount;
	bool lru, blocking;
	const char *verdict;		/* "would block: 1 pin" */
	__u64 page_flags;
	bool first;			/* the first folio listed of its guest_memfd */
	/* --holders, blocking folios only: excess_refs = attributed + unattributed */
	bool holders;
	__u64 excess_refs;		/* pins (1024 each when order 0) + other */
	__u64 unattributed;
	const char *unattributed_why;	/* NULL when every reference is explained */
	const struct gmt_refs_attr_view *attr;
	int nr_attr;
};

struct gmt_refs_summary_view {
	__u32 pid;
	__s32 fd;
	__u64 gmem_ino;
	__u64 scanned, pages, blocking, pinned, pins, other, mapped, lru_batch, stale, listed;
	bool complete, truncated;
	const char *status;		/* "ok", "gone", ... */
	const char *incomplete_why;	/* when neither complete nor truncated */
	__u64 max_folios;		/* the limit it was truncated at */
	bool holders;			/* --holders: the two sums below */
	__u64 attributed_refs, unattributed_refs;	/* over the blocking folios listed */
	__u64 passes, elapsed_ns;
};

struct gmt_refs_total_view {
	int gmems;
	__u64 scanned, blocking, pinned, pins;
	const int *pids_without_gmem;
	int nr_pids_without_gmem;
	bool truncated, complete, pfn_known;
	__u64 elapsed_ns;
};

/* ---- features (built by src/cmd/features.c) ---- */

enum gmt_feature_state { GMT_FEAT_NO = 0, GMT_FEAT_YES = 1, GMT_FEAT_NA = 2 };

struct gmt_feature_row {
	const char *section;		/* a gmt_feature_section key */
	char name[64];
	enum gmt_feature_state state;
	char detail[480];
};

struct gmt_feature_section {
	const char *key, *title;
};

struct gmt_features_view {
	const char *kernel, *machine;	/* uname release and machine */
	const struct gmt_feature_section *sections;	/* in the order shown */
	int nr_sections;
	const struct gmt_feature_row *rows;
	int nr_rows;
};

/* `enforce --unpin`: what was removed from the pinned set */
struct gmt_unpin_failure_view {
	const char *name;		/* the entry under dir */
	int err;			/* errno */
};

struct gmt_unpin_hook_view {
	const char *prog;		/* a hook still attached, held by a running enforce */
	__u32 link_id, prog_id;
};

struct gmt_unpin_view {
	__u64 ts_ns;			/* CLOCK_MONOTONIC */
	const char *dir;
	const char *const *removed;	/* entry names, nr_removed_named of them */
	int nr_removed_named, nr_removed;	/* names shown; removed in all */
	bool dir_removed;
	const struct gmt_unpin_failure_view *failed;
	int nr_failed_named, nr_failed;
	int dir_err;			/* errno reading or removing dir, 0 */
	const struct gmt_unpin_hook_view *attached;
	int nr_attached;
};

#endif /* GMT_VIEW_H */
