// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace uAPI backend (linked with kernel_side.bpf.c and vm_life.bpf.c
 * into one object, gmemtrace.bpf.o): conversion ioctls (G1/G2/G3), guest_memfd creation,
 * memslot binding and fallocate on guest_memfd, seen at the syscall
 * tracepoints. Works on any kernel with syscall tracepoints, including ones
 * that refuse trampolines and have no kprobes.
 *
 * enter: match the full cmd, apply filters, classify the fd (cached per
 *        thread), stash the decoded argument in task storage;
 * exit:  latency and return value, per-VM aggregates, one ring buffer record.
 *
 * The conversion path is kept to few helper calls: on virtualised hosts each
 * one costs tens of ns, and this runs on every conversion of every VM.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"
#include "lib/hist.bpf.h"

/* this unit defines the shared maps and globals (gmt_state.bpf.h) */
#define GMT_STATE_OWNER
#include "gmt_state.bpf.h"
#include "gmt_blocker.bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Configuration, set by the loader between open and load. */
const volatile bool cfg_filter_pid = false;	/* only tgids in gmt_pids */
const volatile bool cfg_filter_comm = false;
const volatile char cfg_comm[GMT_COMM_LEN] = {};
const volatile bool cfg_filter_cgroup = false;	/* under gmt_cgroup[0] */
const volatile bool cfg_emit_events = true;	/* false: aggregate only (stat) */
const volatile bool cfg_emit_context = true;	/* create/memslot/fallocate events */
/* wake the reader only once this much is queued: a wakeup per record costs
 * more than the record (the reader also polls on a timer) */
const volatile __u64 cfg_wakeup_bytes = 0;
/* follow KVM_RUN exits that request conversions (hypercall, memory fault) */
const volatile bool cfg_guest_requests = false;
/* per-VM aggregates for stat (trace does not read them: no work for them) */
const volatile bool cfg_stats = true;
/* with a pid filter: children join it, exited processes leave it */
const volatile bool cfg_follow = false;
/* gmemtrace's own binary: processes running it are never reported (their
 * probe VMs and ioctls are gmemtrace's own activity) */
const volatile __u64 cfg_self_ino = 0;
const volatile __u32 cfg_self_dev = 0;	/* kernel encoding: major << 20 | minor */

/* VM stats slots handed out so far; user space reads this many */
__u32 gmt_nr_vm_slots = 0;
/* next VM identity (0 = unknown) */
__u64 gmt_vm_next_id = 1;
/* bumped whenever a VM appears or goes: per-thread caches of fd -> VM
 * classification are trusted only within one epoch (a global read, no
 * helper call, on the hot path) */
__u64 gmt_vm_epoch = 0;
/* the sweep being run: user space bumps it before reading the iterator */
__u32 gmt_sweep_gen = 0;

/* Point every stats entry of a slot at its VM (name included). */
static __always_inline void gmt_slot_own(__u32 slot, const struct gmt_vm_info *vm)
{
	struct gmt_stats *s;
	__u32 i;

	for (i = 0; slot < GMT_MAX_VMS && i < GMT_STATS_PER_VM; i++) {
		__u32 idx = slot * GMT_STATS_PER_VM + i;

		s = bpf_map_lookup_elem(&gmt_stats, &idx);
		if (s) {
			s->vm_key = vm->id;
			s->vm_pid = vm->pid;
			s->vm_fd = vm->fd;
		}
	}
}

static __always_inline __u32 gmt_slot_get(void)
{
	__u32 slot;

	if (!cfg_stats)
		return GMT_NO_SLOT;
	if (!bpf_map_pop_elem(&gmt_free_slots, &slot))
		return slot;
	if (gmt_nr_vm_slots >= GMT_MAX_VMS) {
		gmt_count(GMT_CNT_STATS_FULL);
		return GMT_NO_SLOT;
	}
	slot = __sync_fetch_and_add(&gmt_nr_vm_slots, 1);
	if (slot >= GMT_MAX_VMS) {	/* lost a race for the last one */
		gmt_count(GMT_CNT_STATS_FULL);
		return GMT_NO_SLOT;
	}
	return slot;
}

/*
 * A VM's identity: created at its KVM_CREATE_VM (fresh: a previous VM at the
 * same struct kvm address is gone, the kernel reused the address), or at
 * first sight for a VM created before tracing started. fd < 0: seen through
 * a guest_memfd, its VM fd not known yet.
 */
static __always_inline struct gmt_vm_info *gmt_vm_seen(__u64 kvm, __u32 tgid, int fd, bool fresh,
							bool quiet)
{
	struct gmt_vm_info *info = bpf_map_lookup_elem(&gmt_vms, &kvm);
	struct gmt_vm_info new = {};
	long err;

	if (info && !fresh) {
		if (info->fd < 0 && fd >= 0) {	/* now we know its fd */
			info->pid = tgid;
			info->fd = fd;
			gmt_slot_own(info->slot, info);
		}
		if (info->slot == GMT_NO_SLOT && cfg_stats) {
			/* quietly created, or none was free then */
			info->slot = gmt_slot_get();
			gmt_slot_own(info->slot, info);
		}
		info->quiet = 0;
		return info;
	}
	if (info && !info->quiet) {
		/* The old VM is gone; its slot is reported and recycled by
		 * user space once it sees the id missing from gmt_vms. */
		gmt_emit_vm_gone(info, GMT_VM_END_REUSED);
	}
	new.pid = fd >= 0 ? (__s32)tgid : gmt_kvm_userspace_pid(kvm);
	new.fd = fd;
	new.id = __sync_fetch_and_add(&gmt_vm_next_id, 1);
	new.quiet = quiet;
	/* the creator's cgroup, for vm.creator_cgroup rules: only at the
	 * creation itself (fresh: KVM_CREATE_VM's exit, in the creator) */
	new.cgroup = fresh ? bpf_get_current_cgroup_id() : 0;
	/* a VM nobody reports needs a name for later, not a slot */
	new.slot = quiet ? GMT_NO_SLOT : gmt_slot_get();
	err = bpf_map_update_elem(&gmt_vms, &kvm, &new, fresh ? BPF_ANY : BPF_NOEXIST);
	if (err) {
		if (new.slot != GMT_NO_SLOT)
			bpf_map_push_elem(&gmt_free_slots, &new.slot, 0);
		/* another thread of the same VM won the race: use its entry */
		info = bpf_map_lookup_elem(&gmt_vms, &kvm);
		if (!info) {
			gmt_site_fail(GMT_SITE_VMS_UPDATE, err);
			gmt_count(GMT_CNT_VMS_FULL);
		}
		return info;
	}
	__sync_fetch_and_add(&gmt_vm_epoch, 1);
	gmt_slot_own(new.slot, &new);
	return bpf_map_lookup_elem(&gmt_vms, &kvm);
}

static __always_inline bool gmt_task_is_self(struct task_struct *task)
{
	struct inode *ino;

	if (!cfg_self_ino)
		return false;
	ino = task->mm->exe_file->f_inode;	/* BTF loads: 0 for kthreads */
	return ino && ino->i_ino == cfg_self_ino && ino->i_sb->s_dev == cfg_self_dev;
}

/* Slow path: what kind of file is behind this fd, and which VM. */
static __always_inline void gmt_classify(struct gmt_inflight *in, struct task_struct *task,
					 struct file *file, __u64 pd, int fd, __u32 tgid)
{
	struct gmt_vm_info *vm = NULL;

	in->c_file = (__u64)file;
	in->c_pd = pd;
	in->c_fd = fd;
	in->c_vm_key = 0;
	in->c_gmem_ino = 0;
	in->c_slot = GMT_NO_SLOT;
	in->c_vm_id = 0;
	in->c_vm_pid = -1;
	in->c_vm_fd = -1;
	if (gmt_task_is_self(task)) {
		in->c_kind = GMT_FD_SELF;
		in->c_epoch = gmt_vm_epoch;
		return;
	}
	if (gmt_file_is_vm(file)) {
		in->c_kind = GMT_FD_VM;
		in->c_vm_key = pd;	/* a VM file's private_data is its struct kvm */
		vm = gmt_vm_seen(pd, tgid, fd, false, false);
	} else if (gmt_file_is_gmem(file)) {
		in->c_kind = GMT_FD_GMEM;
		in->c_vm_key = gmt_gmem_kvm(file);
		in->c_gmem_ino = gmt_file_ino(file);
		vm = gmt_vm_seen(in->c_vm_key, tgid, -1, false, false);
	} else {
		in->c_kind = GMT_FD_OTHER;
	}
	/* after gmt_vm_seen, which may have bumped it for this very VM */
	in->c_epoch = gmt_vm_epoch;
	if (vm) {
		in->c_slot = vm->slot;
		in->c_vm_id = vm->id;
		in->c_vm_pid = vm->pid;
		in->c_vm_fd = vm->fd;
	}
}

/*
 * This thread's classification of fd. Cached in task storage; the cache is
 * trusted only while the fd still holds the same struct file with the same
 * private_data, so a closed and reused fd is classified afresh.
 */
static __always_inline struct gmt_inflight *gmt_lookup_fd(int fd)
{
	struct task_struct *task;
	struct gmt_inflight *in;
	struct file *file;
	__u64 pd = 0;

	task = bpf_get_current_task_btf();	/* once: each helper call costs */
	file = gmt_task_fd_to_file(task, fd);
	if (!file)
		return NULL;
	in = bpf_task_storage_get(&gmt_inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!in) {
		gmt_count(GMT_CNT_INFLIGHT_FULL);
		return NULL;
	}
	bpf_probe_read_kernel(&pd, sizeof(pd), &file->private_data);
	if (in->c_file != (__u64)file || in->c_pd != pd || in->c_fd != fd ||
	    in->c_epoch != gmt_vm_epoch)
		gmt_classify(in, task, file, pd, fd, bpf_get_current_pid_tgid() >> 32);
	return in;
}

static __always_inline void gmt_enter_context(struct gmt_inflight *in, __u8 kind, __u64 uarg)
{
	if (kind == GMT_EV_GMEM_CREATE) {
		__u64 a[2] = {};

		if (GMT_CHK(GMT_SITE_GMEM_CREATE_ARG, bpf_probe_read_user(a, sizeof(a), (void *)uarg)))
			gmt_count(GMT_CNT_READ_USER_ERR);
		__builtin_memset(&in->gmem_create, 0, sizeof(in->gmem_create));
		in->gmem_create.size = a[0];
		in->gmem_create.flags = a[1];
	} else if (kind == GMT_EV_MEMSLOT) {
		struct gmt_kvm_userspace_memory_region2 r = {};
		struct file *gf;

		if (GMT_CHK(GMT_SITE_MEMSLOT_ARG, bpf_probe_read_user(&r, 48, (void *)uarg)))
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
	} else {
		/* KVM_CREATE_VM: the arg is the VM type; the VM is the returned fd */
		in->vm_create.vm_type = uarg;
	}
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
	if (in->vm_key == in->c_vm_key && in->c_vm_fd >= 0 && in->c_epoch == gmt_vm_epoch) {
		e->hdr.vm_key = in->c_vm_id;	/* known since classification */
		e->hdr.vm_pid = in->c_vm_pid;
		e->hdr.vm_fd = in->c_vm_fd;
	} else {
		gmt_vm_identity(in->vm_key, &e->hdr.vm_key, &e->hdr.vm_pid, &e->hdr.vm_fd);
	}
	e->hdr.latency_ns = now - in->start_ns;
	e->hdr.ret = (__s32)ret;
	e->hdr.fd = in->fd;
}

/* KVM_RUN entry: closes this thread's open guest request, if any */
static __always_inline void gmt_kvm_run_enter(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct gmt_inflight *in;
	struct file *file;
	__u64 vcpu = 0;

	/* every KVM_RUN of every VM passes here: keep it to what is needed */
	in = bpf_task_storage_get(&gmt_inflight, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!in) {
		gmt_count(GMT_CNT_INFLIGHT_FULL);
		return;
	}
	in->kind = 0;
	file = gmt_task_fd_to_file(task, fd);
	if (file)
		bpf_probe_read_kernel(&vcpu, sizeof(vcpu), &file->private_data);
	if (in->g_req.kind) {
		/* re-entry of the vCPU that exited closes the request; another
		 * vCPU on this thread means the guest never got its answer here */
		gmt_emit_guest_req(in, task, bpf_ktime_get_ns(),
				   in->g_file == (__u64)file && in->g_vcpu == vcpu ?
				   GMT_GREQ_END_REENTRY : GMT_GREQ_END_OTHER_VCPU);
		in->g_req.kind = 0;
	}
	if (!file)
		return;
	/* like gmt_lookup_fd: a reused fd, struct file or VM is looked at afresh */
	if (in->g_file != (__u64)file || in->g_fd != fd || in->g_vcpu != vcpu ||
	    in->g_epoch != gmt_vm_epoch) {
		in->g_file = (__u64)file;
		in->g_fd = fd;
		in->g_vcpu = vcpu;
		in->g_epoch = gmt_vm_epoch;
		in->g_run = 0;
		if (gmt_task_is_self(task) || !gmt_file_is_vcpu(file))
			return;
		in->g_run = (__u64)BPF_CORE_READ((struct kvm_vcpu___gmt *)vcpu, run);
		in->g_vm_key = (__u64)BPF_CORE_READ((struct kvm_vcpu___gmt *)vcpu, kvm);
	}
	if (in->g_run)
		in->kind = GMT_EV_KVM_RUN;
}

/* KVM_RUN return: did the guest ask for a conversion? (kvm_run uAPI layout) */
static __always_inline void gmt_kvm_run_exit(struct gmt_inflight *in, long ret)
{
	__u64 w[3] = {};
	__u32 reason = 0, nr = 0;
	void *run = (void *)in->g_run;

	bpf_probe_read_kernel(&reason, sizeof(reason), run + 8);
	if (reason == GMT_KVM_EXIT_HYPERCALL) {
		GMT_CHK(GMT_SITE_KVM_RUN_READ, bpf_probe_read_kernel(&nr, sizeof(nr), run + 32));
		if (nr != GMT_KVM_HC_MAP_GPA_RANGE)
			return;
		/* gpa, npages, attrs */
		GMT_CHK(GMT_SITE_KVM_RUN_READ, bpf_probe_read_kernel(w, sizeof(w), run + 40));
		in->g_req.kind = GMT_GREQ_MAP_GPA_RANGE;
		in->g_req.gpa = w[0];
		in->g_req.size = w[1] << 12;
		in->g_req.flags = w[2];
		in->g_req.dir = (w[2] & GMT_KVM_MAP_GPA_RANGE_ENCRYPTED) ? GMT_DIR_TO_PRIVATE :
									   GMT_DIR_TO_SHARED;
	} else if (reason == GMT_KVM_EXIT_MEMORY_FAULT && ret == -14) {
		/* flags, gpa, size */
		GMT_CHK(GMT_SITE_KVM_RUN_READ, bpf_probe_read_kernel(w, sizeof(w), run + 32));
		in->g_req.kind = GMT_GREQ_MEMORY_FAULT;
		in->g_req.flags = w[0];
		in->g_req.gpa = w[1];
		in->g_req.size = w[2];
		in->g_req.dir = (w[0] & GMT_KVM_MEMORY_EXIT_FLAG_PRIVATE) ? GMT_DIR_TO_PRIVATE :
									     GMT_DIR_TO_SHARED;
	} else {
		return;
	}
	in->g_req.conversions = 0;
	in->g_req.blocked = 0;
	in->g_req.convert_ns = 0;
	in->g_req.vcpu_fd = in->g_fd;
	/* the name now: the VM may be gone (and its address reused) by the end */
	gmt_vm_identity(in->g_vm_key, &in->g_vm_id, &in->g_vm_pid, &in->g_vm_fd);
	in->g_exit_ns = bpf_ktime_get_ns();
}

SEC("tracepoint/syscalls/sys_enter_ioctl")
int gmt_ioctl_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u32 cmd = (__u32)ctx->args[1];
	__u64 uarg = ctx->args[2];
	int fd = (int)ctx->args[0];
	struct gmt_inflight *in;
	bool quiet;
	__u8 kind;
	int want;

	/* Cheap reject first: this runs for every ioctl on the machine. */
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
	case GMT_KVM_GMEM_CONVERT_SHARED:
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		kind = GMT_EV_CONVERT;
		want = gmt_convert_fd_kind(cmd);
		break;
	case GMT_KVM_CREATE_GUEST_MEMFD:
		if (!cfg_emit_events || !cfg_emit_context)
			return 0;	/* context nobody reads (stat): no cost */
		kind = GMT_EV_GMEM_CREATE;
		want = GMT_FD_VM;
		break;
	case GMT_KVM_SET_USER_MEMORY_REGION2:
		if (!cfg_emit_events || !cfg_emit_context)
			return 0;
		kind = GMT_EV_MEMSLOT;
		want = GMT_FD_VM;
		break;
	case GMT_KVM_CREATE_VM:
		kind = GMT_EV_VM_CREATE;
		want = GMT_FD_OTHER;	/* issued on /dev/kvm */
		break;
	case GMT_KVM_RUN:
		if (!cfg_guest_requests || gmt_filtered_out())
			return 0;
		gmt_kvm_run_enter(fd);
		return 0;
	default:
		return 0;
	}

	/* a VM created by a process we do not report still ends the identity
	 * of the VM that had its address: follow it quietly */
	quiet = gmt_filtered_out();
	if (quiet && kind != GMT_EV_VM_CREATE)
		return 0;
	in = gmt_lookup_fd(fd);
	if (!in)
		return 0;
	in->kind = 0;
	if (in->c_kind == GMT_FD_SELF)
		return 0;
	if (want != GMT_FD_OTHER && in->c_kind != want) {
		/* e.g. a vhost ioctl sharing type 0xAF: not ours */
		gmt_count(GMT_CNT_WRONG_FD);
		return 0;
	}
	in->vm_key = in->c_vm_key;
	in->gmem_ino = in->c_gmem_ino;

	if (kind == GMT_EV_CONVERT) {
		__u64 w[GMT_CONVERT_ARG_WORDS] = {};

		/* G2's struct is 64 bytes, G1's 32, G3's 128: 32 is safe for all */
		if (GMT_CHK(GMT_SITE_CONVERT_ARG, bpf_probe_read_user(w, sizeof(w), (void *)uarg)))
			gmt_count(GMT_CNT_READ_USER_ERR);
		__builtin_memset(&in->convert, 0, sizeof(in->convert));
		gmt_decode_convert(cmd, gmt_convert_gen(cmd, want), w, &in->convert);
		in->convert.source = GMT_SRC_SYSCALL_TP;
		in->k_start_ns = 0;
		in->k_fbatch = 0;
		in->k_batch = 0;
		in->k_err_index = 0;
		in->k_cand = 0;
		in->k_result = 0;
		in->convert.gmem_ino = in->gmem_ino;
	} else {
		gmt_enter_context(in, kind, uarg);
	}
	in->kind = kind;
	in->quiet = quiet;
	in->cmd = cmd;
	in->fd = fd;
	in->uarg = uarg;
	in->start_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void gmt_account(struct gmt_inflight *in, __u64 lat, long ret)
{
	struct gmt_stats *s;
	__u32 idx, err;

	if (!cfg_stats || !in->convert.gen || in->convert.gen >= GMT_GEN_MAX)
		return;
	if (in->c_slot >= GMT_MAX_VMS) {
		gmt_count(GMT_CNT_UNCOUNTED);	/* said in stat, never silent */
		return;
	}
	idx = gmt_stats_index(in->c_slot, in->convert.gen, in->convert.dir & 1);
	s = bpf_map_lookup_elem(&gmt_stats, &idx);
	if (!s)
		return;
	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->lat_sum_ns, lat);
	if (lat > s->lat_max_ns)
		s->lat_max_ns = lat;	/* racy max: off by a concurrent update at worst */
	__sync_fetch_and_add(&s->hist[gmt_hist_slot(lat)], 1);
	if (in->convert.kernel_latency_ns) {
		int p;

		__sync_fetch_and_add(&s->klat_count, 1);
		__sync_fetch_and_add(&s->klat_sum_ns, in->convert.kernel_latency_ns);
		for (p = 0; p < GMT_PH_MAX; p++) {
			if (!in->convert.phase_ns[p])
				continue;
			__sync_fetch_and_add(&s->phase_count[p], 1);
			__sync_fetch_and_add(&s->phase_sum_ns[p], in->convert.phase_ns[p]);
		}
	}
	if (ret == 0) {
		__sync_fetch_and_add(&s->ok, 1);
		__sync_fetch_and_add(&s->bytes, in->convert.size);
		return;
	}
	__sync_fetch_and_add(&s->failed, 1);
	if (ret == -EAGAIN_)
		__sync_fetch_and_add(&s->blocked, 1);
	err = ret < 0 ? (__u32)-ret : 0;
	__sync_fetch_and_add(&s->errs[gmt_err_class(err) % GMT_ERRC_MAX], 1);
	if (gmt_err_class(err) == GMT_ERRC_OTHER) {
		struct gmt_err_key ek = {
			.vm_key = in->c_vm_id,
			.dir = in->convert.dir,
			.gen = in->convert.gen,
			.err = (__u16)err,
		};
		__u64 one = 1, *cnt;

		cnt = bpf_map_lookup_elem(&gmt_errors, &ek);
		if (cnt)
			__sync_fetch_and_add(cnt, 1);
		else
			GMT_CHK(GMT_SITE_ERRORS_UPDATE,
				bpf_map_update_elem(&gmt_errors, &ek, &one, BPF_NOEXIST));
	}
}

static __always_inline void gmt_emit(struct gmt_inflight *in, __u64 now, long ret)
{
	struct gmt_event *e;

	e = GMT_RB_RESERVE(GMT_SITE_RB_EVENT, &gmt_events, sizeof(*e));
	if (!e)
		return;
	gmt_fill_hdr(e, in, now, ret);
	if (in->kind == GMT_EV_CONVERT)
		e->convert = in->convert;
	else if (in->kind == GMT_EV_GMEM_CREATE)
		e->gmem_create = in->gmem_create;
	else if (in->kind == GMT_EV_MEMSLOT)
		e->memslot = in->memslot;
	else if (in->kind == GMT_EV_FALLOCATE)
		e->fallocate = in->fallocate;
	else
		e->vm_create = in->vm_create;
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&gmt_events, BPF_RB_AVAIL_DATA) >= cfg_wakeup_bytes ?
			      BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int gmt_ioctl_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gmt_inflight *in;
	long ret = ctx->ret;
	__u64 now;

	in = gmt_inflight_get(false);
	if (!in || !in->kind || in->kind == GMT_EV_FALLOCATE)
		return 0;
	if (in->kind == GMT_EV_KVM_RUN) {
		in->kind = 0;
		if (cfg_guest_requests)
			gmt_kvm_run_exit(in, ret);
		return 0;
	}
	now = bpf_ktime_get_ns();

	if (in->kind == GMT_EV_CONVERT) {
		__u32 off = gmt_error_offset_at(in->convert.gen);

		if (ret == -EAGAIN_ && off) {
			if (GMT_CHK(GMT_SITE_ERROR_OFFSET,
				    bpf_probe_read_user(&in->convert.error_offset, 8,
							(void *)(in->uarg + off))))
				gmt_count(GMT_CNT_READ_USER_ERR);
			else
				in->convert.has_error_offset = 1;
		}
		/* the blocking folio is the one at error_offset, on EAGAIN only:
		 * the check's candidate if it is that one, else read it now */
		gmt_folio_at_exit(in, ret);
		in->k_cand = 0;
		gmt_account(in, now - in->start_ns, ret);
		if (in->g_req.kind) {	/* serving a guest request on this thread */
			in->g_req.conversions++;
			if (ret == -EAGAIN_)
				in->g_req.blocked++;
			in->g_req.convert_ns += now - in->start_ns;
		}
	} else if (in->kind == GMT_EV_GMEM_CREATE && ret >= 0) {
		struct file *gf = gmt_fd_to_file((int)ret);

		if (gf)
			in->gmem_create.gmem_ino = gmt_file_ino(gf);
	} else if (in->kind == GMT_EV_VM_CREATE && ret >= 0) {
		struct file *vf = gmt_fd_to_file((int)ret);

		if (vf && gmt_file_is_vm(vf)) {
			in->vm_key = (__u64)BPF_CORE_READ(vf, private_data);
			gmt_vm_seen(in->vm_key, bpf_get_current_pid_tgid() >> 32, (int)ret, true,
				    in->quiet);
		}
	}

	if (cfg_emit_events && !in->quiet && (in->kind == GMT_EV_CONVERT || cfg_emit_context))
		gmt_emit(in, now, ret);
	in->kind = 0;
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fallocate")
int gmt_falc_enter(struct trace_event_raw_sys_enter *ctx)
{
	int fd = (int)ctx->args[0];
	struct gmt_inflight *in;

	if (gmt_filtered_out())
		return 0;
	in = gmt_lookup_fd(fd);
	if (!in)
		return 0;
	in->kind = 0;
	if (in->c_kind != GMT_FD_GMEM)
		return 0;
	in->vm_key = in->c_vm_key;
	in->gmem_ino = in->c_gmem_ino;
	__builtin_memset(&in->fallocate, 0, sizeof(in->fallocate));
	in->fallocate.mode = (__u32)ctx->args[1];
	in->fallocate.offset = ctx->args[2];
	in->fallocate.len = ctx->args[3];
	in->fallocate.gmem_ino = in->gmem_ino;
	in->fd = fd;
	in->cmd = 0;
	in->kind = GMT_EV_FALLOCATE;
	in->start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fallocate")
int gmt_falc_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gmt_inflight *in;

	in = gmt_inflight_get(false);
	if (!in || in->kind != GMT_EV_FALLOCATE)
		return 0;
	if (cfg_emit_events && cfg_emit_context)
		gmt_emit(in, bpf_ktime_get_ns(), ctx->ret);
	in->kind = 0;
	return 0;
}
