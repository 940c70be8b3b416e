// SPDX-License-Identifier: GPL-2.0-only
/*
 * VM and thread lifetime in the gmemtrace object: the pid filter follows
 * forks and exits, a vCPU thread's open guest request is closed when it exits
 * or when tracing ends, and a sweep marks the VMs some file still refers to.
 * Linked with uapi.bpf.c (whose maps and globals these share).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_state.bpf.h"

/* With a pid filter, children of a traced process are traced too
 * (loaded only when following is on; threads share the tgid already). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(gmt_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;

	if (ptgid == ctgid || !bpf_map_lookup_elem(&gmt_pids, &ptgid))
		return 0;
	if (GMT_CHK(GMT_SITE_PIDS_UPDATE, bpf_map_update_elem(&gmt_pids, &ctgid, &one, BPF_ANY)))
		gmt_count(GMT_CNT_PIDS_FULL);	/* this child goes untraced: say so */
	return 0;
}

/*
 * A thread exits: a guest request it left open is reported as incomplete;
 * a followed process whose last thread this is leaves the pid filter (so
 * the map does not fill and a recycled pid is not traced).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(gmt_task_exit, struct task_struct *task)
{
	struct gmt_inflight *in;
	__u32 tgid;

	if (cfg_guest_requests) {
		in = bpf_task_storage_get(&gmt_inflight, task, 0, 0);
		if (in && in->g_req.kind) {
			gmt_emit_guest_req(in, task, bpf_ktime_get_ns(), GMT_GREQ_END_THREAD_EXIT);
			in->g_req.kind = 0;
		}
	}
	/* signal->live drops to 0 before this tracepoint in do_exit() */
	if (cfg_follow && !task->signal->live.counter) {
		tgid = task->tgid;
		bpf_map_delete_elem(&gmt_pids, &tgid);
	}
	return 0;
}

/* At the end of tracing: every guest request still open, as incomplete. */
SEC("iter/task")
int gmt_greq_flush(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct gmt_inflight *in;

	if (!task)
		return 0;
	in = bpf_task_storage_get(&gmt_inflight, task, 0, 0);
	if (in && in->g_req.kind) {
		gmt_emit_guest_req(in, task, bpf_ktime_get_ns(), GMT_GREQ_END_TRACE_END);
		in->g_req.kind = 0;
	}
	return 0;
}

/*
 * Sweep: mark every known VM that a file of some process still refers to (its
 * VM fd, a vCPU fd or a guest_memfd). User space then drops the VMs left
 * unmarked: on kernels where gmemtrace cannot see KVM release a VM, this is
 * how their names, memslots and stats slots end.
 */
SEC("iter/task_file")
int gmt_vm_sweep(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct gmt_vm_info *info;
	__u64 kvm;

	if (!file)
		return 0;
	kvm = gmt_file_kvm(file);	/* its VM, vCPU or guest_memfd file */
	if (!kvm)
		return 0;
	info = bpf_map_lookup_elem(&gmt_vms, &kvm);
	if (info)
		info->mark = gmt_sweep_gen;	/* bss: user space bumps it per sweep */
	return 0;
}
