/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State of the gmemtrace object shared by its units (uapi.bpf.c,
 * kernel_side.bpf.c, vm_life.bpf.c), which are compiled one by one and linked
 * into one object by `bpftool gen object` (libbpf's static linker): maps,
 * configuration and globals are defined by uapi.bpf.c (GMT_STATE_OWNER) and
 * extern in the others, so the skeleton (struct gmemtrace_bpf) has one of
 * each. Also the few helpers more than one unit uses.
 */
#ifndef GMT_STATE_BPF_H
#define GMT_STATE_BPF_H

#include "lib/counters.bpf.h"
#include "lib/kvm_files.bpf.h"

#define EAGAIN_ 11

#ifdef GMT_STATE_OWNER
#define GMT_SHARED
#else
#define GMT_SHARED extern
#endif

/* Configuration, set by the loader between open and load, and globals:
 * defined (with their defaults and comments) in uapi.bpf.c */
extern const volatile bool cfg_filter_pid;
extern const volatile bool cfg_filter_comm;
extern const volatile char cfg_comm[GMT_COMM_LEN];
extern const volatile bool cfg_filter_cgroup;
extern const volatile bool cfg_emit_events;
extern const volatile bool cfg_emit_context;
extern const volatile __u64 cfg_wakeup_bytes;
extern const volatile bool cfg_guest_requests;
extern const volatile bool cfg_stats;
extern const volatile bool cfg_follow;
extern const volatile __u64 cfg_self_ino;
extern const volatile __u32 cfg_self_dev;

extern __u32 gmt_nr_vm_slots;
extern __u64 gmt_vm_next_id;
extern __u64 gmt_vm_epoch;
extern __u32 gmt_sweep_gen;

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by the loader */
} gmt_events SEC(".maps");

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gmt_inflight);
} gmt_inflight SEC(".maps");

/* an ARRAY: its lookups are inlined, no helper call per conversion */
GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GMT_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct gmt_stats);
} gmt_stats SEC(".maps");

/* stats slots of dead VMs, zeroed by user space after their last report */
GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, GMT_MAX_VMS);
	__type(value, __u32);
} gmt_free_slots SEC(".maps");

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct gmt_err_key);
	__type(value, __u64);
} gmt_errors SEC(".maps");

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gmt_vm_info);
} gmt_vms SEC(".maps");

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GMT_MAX_FOLLOWED);
	__type(key, __u32);
	__type(value, __u8);
} gmt_pids SEC(".maps");

GMT_SHARED struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gmt_cgroup SEC(".maps");

static __always_inline bool gmt_comm_match(void)
{
	char comm[GMT_COMM_LEN];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < GMT_COMM_LEN; i++) {
		if (comm[i] != cfg_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* Filters, cheapest first. Only reached once the syscall looks relevant. */
static __always_inline bool gmt_wanted(__u32 tgid)
{
	if (cfg_filter_pid && !bpf_map_lookup_elem(&gmt_pids, &tgid))
		return false;
	if (cfg_filter_comm && !gmt_comm_match())
		return false;
	if (cfg_filter_cgroup && bpf_current_task_under_cgroup(&gmt_cgroup, 0) != 1)
		return false;
	return true;
}

/* true when a filter is set and the current task does not pass it */
static __always_inline bool gmt_filtered_out(void)
{
	if (!cfg_filter_pid && !cfg_filter_comm && !cfg_filter_cgroup)
		return false;	/* rodata: the verifier drops the rest */
	return !gmt_wanted(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline struct gmt_inflight *gmt_inflight_get(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&gmt_inflight, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void gmt_vm_identity(__u64 kvm, __u64 *id, __s32 *pid, __s32 *fd)
{
	struct gmt_vm_info *info = kvm ? bpf_map_lookup_elem(&gmt_vms, &kvm) : NULL;

	if (info) {
		*id = info->id;
		*pid = info->pid;
		*fd = info->fd;
	} else {
		*id = 0;
		*pid = kvm ? gmt_kvm_userspace_pid(kvm) : -1;
		*fd = -1;
	}
}

/* the cgroup its creator was in at KVM_CREATE_VM; 0: not seen created */
static __always_inline __u64 gmt_vm_creator_cgroup(__u64 kvm)
{
	struct gmt_vm_info *info = kvm ? bpf_map_lookup_elem(&gmt_vms, &kvm) : NULL;

	return info ? info->cgroup : 0;
}

/* Header fields of a task that may not be the current one (iterators). */
static __always_inline void gmt_fill_task_hdr(struct gmt_event *e, struct task_struct *task)
{
	e->hdr.size = GMT_EVENT_SIZE;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.pid = task->tgid;
	e->hdr.tid = task->pid;
	e->hdr.cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	bpf_probe_read_kernel(e->hdr.comm, sizeof(e->hdr.comm), task->comm);
}

/* Close the thread's open guest request: at its re-entry, or incomplete. */
static __always_inline void gmt_emit_guest_req(struct gmt_inflight *in, struct task_struct *task,
					       __u64 now, __u8 end)
{
	struct gmt_event *e;

	if (!cfg_emit_events)
		return;
	e = GMT_RB_RESERVE(GMT_SITE_RB_GUEST_REQ, &gmt_events, sizeof(*e));
	if (!e) {
		gmt_count(GMT_CNT_GREQ_LOST);	/* which records the drops were, too */
		return;
	}
	gmt_fill_task_hdr(e, task);
	e->hdr.type = GMT_EV_GUEST_REQ;
	e->hdr.ts_ns = in->g_exit_ns;
	e->hdr.vm_key = in->g_vm_id;
	e->hdr.vm_pid = in->g_vm_pid;
	e->hdr.vm_fd = in->g_vm_fd;
	e->hdr.latency_ns = now - in->g_exit_ns;
	e->hdr.ret = 0;
	e->hdr.fd = in->g_req.vcpu_fd;
	e->guest_req = in->g_req;
	e->guest_req.end = end;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void gmt_emit_vm_gone(const struct gmt_vm_info *vm, __u8 how)
{
	struct gmt_event *e;

	if (!cfg_emit_events || !cfg_emit_context)
		return;
	e = GMT_RB_RESERVE(GMT_SITE_RB_VM_GONE, &gmt_events, sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	gmt_fill_task_hdr(e, bpf_get_current_task_btf());
	e->hdr.type = GMT_EV_VM_GONE;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.vm_key = vm->id;
	e->hdr.vm_pid = vm->pid;
	e->hdr.vm_fd = vm->fd;
	e->hdr.fd = -1;
	e->vm_gone.how = how;
	bpf_ringbuf_submit(e, 0);
}

#endif /* GMT_STATE_BPF_H */
