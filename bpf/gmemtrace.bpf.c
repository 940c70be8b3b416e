// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace uAPI backend: conversion ioctls (G1/G2/G3), guest_memfd creation,
 * memslot binding and fallocate on guest_memfd, seen at the syscall
 * tracepoints. Works on any kernel with syscall tracepoints, including ones
 * that refuse trampolines and have no kprobes.
 *
 * enter: match the full cmd, apply filters, classify the fd, stash the
 *        decoded argument in task storage;
 * exit:  latency and return value, per-VM aggregates, one ring buffer record.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"
#include "gmt_counters.bpf.h"
#include "gmt_hist.bpf.h"
#include "gmt_kernel.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define EAGAIN_ 11

/* Configuration, set by the loader between open and load. */
const volatile bool cfg_filter_pid = false;	/* only tgids in gmt_pids */
const volatile bool cfg_filter_comm = false;
const volatile char cfg_comm[GMT_COMM_LEN] = {};
const volatile bool cfg_filter_cgroup = false;	/* under gmt_cgroup[0] */
const volatile bool cfg_emit_events = true;	/* false: aggregate only (stat) */
const volatile bool cfg_emit_context = true;	/* create/memslot/fallocate events */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by the loader */
} gmt_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gmt_inflight);
} gmt_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct gmt_stats_key);
	__type(value, struct gmt_stats);
} gmt_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct gmt_err_key);
	__type(value, __u64);
} gmt_errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gmt_vm_info);
} gmt_vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} gmt_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gmt_cgroup SEC(".maps");

/* zero value to create stats entries from (too big for the stack) */
const struct gmt_stats gmt_zero_stats = {};

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

static __always_inline struct gmt_inflight *gmt_inflight_get(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return bpf_task_storage_get(&gmt_inflight, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/* Remember VMs by their struct kvm so guest_memfd events can name them. */
static __always_inline void gmt_vm_seen(__u64 vm_key, __u32 tgid, int fd)
{
	struct gmt_vm_info info = {
		.pid = tgid,
		.fd = fd,
		.first_seen_ns = bpf_ktime_get_ns(),
	};

	if (!bpf_map_lookup_elem(&gmt_vms, &vm_key))
		bpf_map_update_elem(&gmt_vms, &vm_key, &info, BPF_NOEXIST);
}

static __always_inline void gmt_vm_identity(__u64 vm_key, __s32 *pid, __s32 *fd)
{
	struct gmt_vm_info *info = bpf_map_lookup_elem(&gmt_vms, &vm_key);

	if (info) {
		*pid = info->pid;
		*fd = info->fd;
	} else {
		*pid = gmt_kvm_userspace_pid(vm_key);
		*fd = -1;
	}
}

static __always_inline int gmt_enter_convert(struct gmt_inflight *in, struct file *file,
					     __u32 cmd, __u64 uarg, int fd, __u32 tgid)
{
	__u64 w[GMT_CONVERT_ARG_WORDS] = {};
	int want = gmt_convert_fd_kind(cmd);
	__u8 gen;

	if (want == GMT_FD_VM ? !gmt_file_is_vm(file) : !gmt_file_is_gmem(file)) {
		/* e.g. a vhost ioctl sharing type 0xAF: not ours */
		gmt_count(GMT_CNT_WRONG_FD);
		return -1;
	}
	gen = gmt_convert_gen(cmd, want);
	if (want == GMT_FD_VM) {
		in->vm_key = (__u64)BPF_CORE_READ(file, private_data);
		gmt_vm_seen(in->vm_key, tgid, fd);
	} else {
		in->vm_key = gmt_gmem_kvm(file);
		in->gmem_ino = gmt_file_ino(file);
	}
	/* G2's struct is 64 bytes, G1's 32, G3's 128: 32 is safe for all */
	if (bpf_probe_read_user(w, sizeof(w), (void *)uarg) < 0)
		gmt_count(GMT_CNT_READ_USER_ERR);
	__builtin_memset(&in->convert, 0, sizeof(in->convert));
	gmt_decode_convert(cmd, gen, w, &in->convert);
	in->convert.source = GMT_SRC_SYSCALL_TP;
	in->convert.gmem_ino = in->gmem_ino;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int gmt_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = (__u32)ctx->args[1];
	__u64 uarg = ctx->args[2];
	int fd = (int)ctx->args[0];
	struct gmt_inflight *in;
	struct file *file;
	__u8 kind;
	__u32 tgid;

	/* Cheap reject first: this runs for every ioctl on the machine. */
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
	case GMT_KVM_GMEM_CONVERT_SHARED:
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		kind = GMT_EV_CONVERT;
		break;
	case GMT_KVM_CREATE_GUEST_MEMFD:
		kind = GMT_EV_GMEM_CREATE;
		break;
	case GMT_KVM_SET_USER_MEMORY_REGION2:
		kind = GMT_EV_MEMSLOT;
		break;
	case GMT_KVM_CREATE_VM:
		kind = GMT_EV_VM_CREATE;
		break;
	default:
		return 0;
	}

	tgid = bpf_get_current_pid_tgid() >> 32;
	if (!gmt_wanted(tgid))
		return 0;
	file = gmt_fd_to_file(fd);
	if (!file)
		return 0;

	in = gmt_inflight_get(true);
	if (!in) {
		gmt_count(GMT_CNT_INFLIGHT_FULL);
		return 0;
	}
	in->kind = 0;
	in->vm_key = 0;
	in->gmem_ino = 0;

	if (kind == GMT_EV_CONVERT) {
		if (gmt_enter_convert(in, file, cmd, uarg, fd, tgid) < 0)
			return 0;
	} else if (kind == GMT_EV_GMEM_CREATE || kind == GMT_EV_MEMSLOT) {
		if (!gmt_file_is_vm(file)) {
			gmt_count(GMT_CNT_WRONG_FD);
			return 0;
		}
		in->vm_key = (__u64)BPF_CORE_READ(file, private_data);
		gmt_vm_seen(in->vm_key, tgid, fd);
		if (kind == GMT_EV_GMEM_CREATE) {
			__u64 a[2] = {};

			if (bpf_probe_read_user(a, sizeof(a), (void *)uarg) < 0)
				gmt_count(GMT_CNT_READ_USER_ERR);
			__builtin_memset(&in->gmem_create, 0, sizeof(in->gmem_create));
			in->gmem_create.size = a[0];
			in->gmem_create.flags = a[1];
		} else {
			struct gmt_kvm_userspace_memory_region2 r = {};
			struct file *gf;

			if (bpf_probe_read_user(&r, 48, (void *)uarg) < 0)
				gmt_count(GMT_CNT_READ_USER_ERR);
			__builtin_memset(&in->memslot, 0, sizeof(in->memslot));
			in->memslot.slot = r.slot;
			in->memslot.flags = r.flags;
			in->memslot.gpa = r.guest_phys_addr;
			in->memslot.size = r.memory_size;
			in->memslot.uaddr = r.userspace_addr;
			in->memslot.gmem_offset = r.guest_memfd_offset;
			in->memslot.gmem_fd = -1;
			if (r.flags & GMT_KVM_MEM_GUEST_MEMFD) {
				in->memslot.gmem_fd = r.guest_memfd;
				gf = gmt_fd_to_file(r.guest_memfd);
				if (gf && gmt_file_is_gmem(gf))
					in->memslot.gmem_ino = gmt_file_ino(gf);
			}
		}
	} else {
		/* KVM_CREATE_VM: the arg is the VM type; the VM is the returned fd */
		in->vm_create.vm_type = uarg;
	}

	in->kind = kind;
	in->cmd = cmd;
	in->fd = fd;
	in->uarg = uarg;
	in->start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void gmt_fill_hdr(struct gmt_event *e, struct gmt_inflight *in,
					 __u64 now, long ret)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->hdr.type = in->kind;
	e->hdr.size = GMT_EVENT_SIZE;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = in->start_ns;
	e->hdr.pid = id >> 32;
	e->hdr.tid = (__u32)id;
	e->hdr.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	e->hdr.vm_key = in->vm_key;
	gmt_vm_identity(in->vm_key, &e->hdr.vm_pid, &e->hdr.vm_fd);
	e->hdr.latency_ns = now - in->start_ns;
	e->hdr.ret = (__s32)ret;
	e->hdr.fd = in->fd;
}

static __always_inline void gmt_account(struct gmt_inflight *in, __u64 lat, long ret)
{
	struct gmt_stats_key key = {
		.vm_key = in->vm_key,
		.dir = in->convert.dir,
		.gen = in->convert.gen,
	};
	struct gmt_stats *s;
	__u32 slot;

	s = bpf_map_lookup_elem(&gmt_stats, &key);
	if (!s) {
		if (bpf_map_update_elem(&gmt_stats, &key, &gmt_zero_stats, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&gmt_stats, &key)) {
			gmt_count(GMT_CNT_STATS_FULL);
			return;
		}
		s = bpf_map_lookup_elem(&gmt_stats, &key);
		if (!s)
			return;
		gmt_vm_identity(in->vm_key, &s->vm_pid, &s->vm_fd);
	}
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->lat_sum_ns, lat);
	if (lat > s->lat_max_ns)
		s->lat_max_ns = lat;	/* racy max: off by a concurrent update at worst */
	slot = gmt_hist_slot(lat);
	__sync_fetch_and_add(&s->hist[slot], 1);
	if (ret == 0) {
		__sync_fetch_and_add(&s->ok, 1);
		__sync_fetch_and_add(&s->bytes, in->convert.size);
		return;
	}
	__sync_fetch_and_add(&s->failed, 1);
	if (ret == -EAGAIN_)
		__sync_fetch_and_add(&s->blocked, 1);
	if (ret < 0) {
		struct gmt_err_key ek = {
			.vm_key = in->vm_key,
			.dir = in->convert.dir,
			.gen = in->convert.gen,
			.err = (__u16)-ret,
		};
		__u64 one = 1, *cnt;

		cnt = bpf_map_lookup_elem(&gmt_errors, &ek);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		else
			bpf_map_update_elem(&gmt_errors, &ek, &one, BPF_NOEXIST);
	}
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int gmt_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gmt_inflight *in;
	struct gmt_event *e;
	long ret = ctx->ret;
	__u64 now;

	in = gmt_inflight_get(false);
	if (!in || !in->kind)
		return 0;
	now = bpf_ktime_get_ns();

	if (in->kind == GMT_EV_CONVERT) {
		__u32 off = gmt_error_offset_at(in->convert.gen);

		if (ret == -EAGAIN_ && off) {
			if (bpf_probe_read_user(&in->convert.error_offset, 8,
						(void *)(in->uarg + off)) == 0)
				in->convert.has_error_offset = 1;
			else
				gmt_count(GMT_CNT_READ_USER_ERR);
		}
		gmt_account(in, now - in->start_ns, ret);
	} else if (in->kind == GMT_EV_GMEM_CREATE && ret >= 0) {
		struct file *gf = gmt_fd_to_file((int)ret);

		if (gf)
			in->gmem_create.gmem_ino = gmt_file_ino(gf);
	} else if (in->kind == GMT_EV_VM_CREATE) {
		struct file *vf = ret >= 0 ? gmt_fd_to_file((int)ret) : NULL;

		if (vf && gmt_file_is_vm(vf)) {
			in->vm_key = (__u64)BPF_CORE_READ(vf, private_data);
			gmt_vm_seen(in->vm_key, bpf_get_current_pid_tgid() >> 32, (int)ret);
		}
	}

	if (!cfg_emit_events || (in->kind != GMT_EV_CONVERT && !cfg_emit_context)) {
		in->kind = 0;
		return 0;
	}
	e = bpf_ringbuf_reserve(&gmt_events, sizeof(*e), 0);
	if (!e) {
		gmt_count(GMT_CNT_RB_DROPS);
		in->kind = 0;
		return 0;
	}
	gmt_fill_hdr(e, in, now, ret);
	if (in->kind == GMT_EV_CONVERT)
		e->convert = in->convert;
	else if (in->kind == GMT_EV_GMEM_CREATE)
		e->gmem_create = in->gmem_create;
	else if (in->kind == GMT_EV_MEMSLOT)
		e->memslot = in->memslot;
	else
		e->vm_create = in->vm_create;
	bpf_ringbuf_submit(e, 0);
	in->kind = 0;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fallocate")
int gmt_falc_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct gmt_inflight *in;
	struct file *file;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!gmt_wanted(tgid))
		return 0;
	file = gmt_fd_to_file((int)ctx->args[0]);
	if (!file || !gmt_file_is_gmem(file))
		return 0;
	in = gmt_inflight_get(true);
	if (!in) {
		gmt_count(GMT_CNT_INFLIGHT_FULL);
		return 0;
	}
	in->vm_key = gmt_gmem_kvm(file);
	in->gmem_ino = gmt_file_ino(file);
	__builtin_memset(&in->fallocate, 0, sizeof(in->fallocate));
	in->fallocate.mode = (__u32)ctx->args[1];
	in->fallocate.offset = ctx->args[2];
	in->fallocate.len = ctx->args[3];
	in->fallocate.gmem_ino = in->gmem_ino;
	in->fd = (int)ctx->args[0];
	in->cmd = 0;
	in->kind = GMT_EV_FALLOCATE;
	in->start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fallocate")
int gmt_falc_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gmt_inflight *in;
	struct gmt_event *e;
	__u64 now;

	in = gmt_inflight_get(false);
	if (!in || in->kind != GMT_EV_FALLOCATE)
		return 0;
	now = bpf_ktime_get_ns();
	in->kind = 0;
	if (!cfg_emit_events || !cfg_emit_context)
		return 0;
	e = bpf_ringbuf_reserve(&gmt_events, sizeof(*e), 0);
	if (!e) {
		gmt_count(GMT_CNT_RB_DROPS);
		return 0;
	}
	in->kind = GMT_EV_FALLOCATE;	/* for the header */
	gmt_fill_hdr(e, in, now, ctx->ret);
	in->kind = 0;
	e->fallocate = in->fallocate;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

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
	bpf_map_update_elem(&gmt_pids, &ctgid, &one, BPF_ANY);
	return 0;
}
