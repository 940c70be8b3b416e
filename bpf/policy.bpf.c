// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy enforcement hooks (issue 10 stage 4), linked into gmemtrace.bpf.o:
 * a sleepable BPF LSM program on file_ioctl and an fmod_ret program on
 * security_file_ioctl (where trampolines work but BPF LSM is not in the
 * kernel's LSM list). Only `gmemtrace enforce` loads them (GMT_WANT_ENFORCE_*).
 *
 * Every ioctl on the machine passes here: anything that is not a conversion
 * cmd returns after the switch; the fd kind is checked next, exactly as
 * tracing does (0xAF is shared with vhost, 0xd2 is both G1 and G3).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"
#include "gmt_state.bpf.h"
#include "lib/kvm_files.bpf.h"
#include "lib/policy.bpf.h"

/* set by enforce before load: monitor mode never denies */
const volatile __u8 cfg_pol_mode = GMT_POL_MONITOR;
/* bench only: enum gmt_pol_bench_skip (0 in gmemtrace: the verifier drops it) */
const volatile __u32 cfg_pol_bench_skip = 0;
/* bench only: the GPA of GMT_POL_BENCH_NO_COPY's conversion */
const volatile __u64 cfg_pol_bench_gpa = 0;

#define GMT_TOCTOU_HOOK
#include "policy_toctou.bpf.h"

/*
 * The policy, twice: user space writes the inactive half, then flips
 * gmt_pol_active, so a reload never leaves a window without rules.
 */
struct gmt_pol_hdr_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gmt_policy_hdr);
};

struct gmt_pol_rules_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GMT_POLICY_MAX_RULES);
	__type(key, __u32);
	__type(value, struct gmt_policy_rule);
};

struct gmt_pol_hdr_map gmt_pol_hdr0 SEC(".maps"), gmt_pol_hdr1 SEC(".maps");
struct gmt_pol_rules_map gmt_pol_rules0 SEC(".maps"), gmt_pol_rules1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct gmt_pol_bucket_key);
	__type(value, struct gmt_pol_bucket);
} gmt_pol_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GMT_POLICY_MAX_RULES + 1);
	__type(key, __u32);
	__type(value, struct gmt_pol_count);
} gmt_pol_counts SEC(".maps");

/* which half is live: 0 or 1 (bss, flipped by user space) */
__u32 gmt_pol_active = 0;

static __always_inline void gmt_pol_count_it(const struct gmt_pol_verdict *v, bool deny)
{
	__u32 idx = v->index;
	struct gmt_pol_count *c = bpf_map_lookup_elem(&gmt_pol_counts, &idx);

	if (!c)
		return;
	c->hits++;
	if (deny)
		c->denies++;
}

/* the selectors that need the VM's identity (a hash lookup) */
#define GMT_PM_NEEDS_VM	(GMT_PM_VM_PID | GMT_PM_VM_OWNER | GMT_PM_RATE)
/* the selectors gmt_pol_fill_caller() reads a field for */
#define GMT_PM_CALLER	(GMT_PM_PID | GMT_PM_VM_OWNER | GMT_PM_UID | GMT_PM_RATE | \
			 GMT_PM_COMM | GMT_PM_EXE | GMT_PM_NEEDS_VM | GMT_PM_VM_CGROUP)

/*
 * Who converts, and for which VM: only what some rule of the live policy
 * that fits this generation and direction selects on (needs: the index's
 * OR of their match bits). Every field costs on every conversion
 * (bench_policy); the records read theirs when they are written. The
 * others stay unwritten (c is not zeroed): no rule that runs reads them.
 */
static __always_inline void gmt_pol_fill_caller(struct gmt_pol_conv *c, struct file *file,
						__u64 kvm, __u32 needs)
{
	struct task_struct *task;
	struct inode *ino;
	__s32 pid, fd;

	if (!(needs & GMT_PM_CALLER))
		return;		/* what and where only: one test, not eight */
	if (needs & (GMT_PM_PID | GMT_PM_VM_OWNER))
		c->tgid = bpf_get_current_pid_tgid() >> 32;
	if (needs & GMT_PM_UID)
		c->uid = (__u32)bpf_get_current_uid_gid();
	if (needs & GMT_PM_RATE)
		c->now_ns = bpf_ktime_get_ns();
	if (needs & GMT_PM_COMM)
		bpf_get_current_comm(c->comm, sizeof(c->comm));
	if (needs & GMT_PM_EXE) {
		task = bpf_get_current_task_btf();
		ino = task->mm->exe_file->f_inode;	/* BTF loads: NULL for kthreads */
		c->exe_ino = ino ? ino->i_ino : 0;
		c->exe_dev = ino ? ino->i_sb->s_dev : 0;
	}
	if (needs & GMT_PM_NEEDS_VM) {
		gmt_vm_identity(kvm, &c->vm_id, &pid, &fd);
		c->vm_pid = (__u32)pid;
	}
	/* recorded by the tracer at KVM_CREATE_VM (struct kvm keeps no
	 * cgroup, and the creator may have moved or exited since) */
	if (needs & GMT_PM_VM_CGROUP)
		c->vm_cgroup = gmt_vm_creator_cgroup(kvm);
}

static __always_inline void gmt_pol_emit(const struct gmt_pol_conv *c, const struct gmt_convert *cv,
					 const struct gmt_pol_verdict *v, struct file *file,
					 __u64 kvm, int ret, bool read_failed)
{
	struct gmt_event *e = bpf_ringbuf_reserve(&gmt_events, sizeof(*e), 0);
	struct gmt_policy_rec *p;
	__s32 pid, fd;

	if (!e) {
		gmt_count(GMT_CNT_RB_DROPS);
		return;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = GMT_EV_POLICY;
	e->hdr.size = GMT_EVENT_SIZE;
	e->hdr.cpu = bpf_get_smp_processor_id();
	e->hdr.ts_ns = bpf_ktime_get_ns();
	e->hdr.pid = bpf_get_current_pid_tgid() >> 32;
	e->hdr.tid = (__u32)bpf_get_current_pid_tgid();
	e->hdr.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
	gmt_vm_identity(kvm, &e->hdr.vm_key, &pid, &fd);
	e->hdr.vm_pid = pid;
	e->hdr.vm_fd = fd;
	e->hdr.ret = ret;
	e->hdr.fd = -1;		/* the LSM hook sees the file, not the fd */
	p = &e->policy;
	p->start = c->start;
	p->size = c->size;
	p->attributes = cv->attributes;
	p->gmem_ino = c->gen == GMT_GEN_G1 ? 0 : gmt_file_ino(file);
	p->cmd = cv->cmd;
	p->rule_id = v->id;
	p->rule_index = v->index;
	p->action = v->action;
	p->mode = cfg_pol_mode;
	p->gen = c->gen;
	p->dir = c->dir;
	p->err = v->err;
	p->read_failed = read_failed;
	bpf_ringbuf_submit(e, 0);
}

/*
 * The live half's header, looked up once per conversion with the map known
 * at each call site, so the verifier inlines the array lookup: the barriers
 * differ, so clang cannot merge the two calls into one on a selected map
 * (that call was the generic helper, an indirect call: bench_policy).
 */
static __always_inline const struct gmt_policy_hdr *gmt_pol_hdr_of(__u32 active)
{
	const struct gmt_policy_hdr *h;
	__u32 zero = 0;

	if (active) {
		h = bpf_map_lookup_elem(&gmt_pol_hdr1, &zero);
		asm volatile("/* hdr1 */" : "+r"(h));
	} else {
		h = bpf_map_lookup_elem(&gmt_pol_hdr0, &zero);
		asm volatile("/* hdr0 */" : "+r"(h));
	}
	return h;
}

/* h's rules: the same half (active is read once per conversion) */
static __always_inline int gmt_pol_decide_in(__u32 active, const struct gmt_policy_hdr *h,
					     const struct gmt_pol_conv *c,
					     struct gmt_pol_verdict *v)
{
	/* two calls, not a selected map pointer: the verifier needs each
	 * map known at its call site */
	if (active)
		return gmt_policy_decide_hdr(h, &gmt_pol_rules1, &gmt_pol_buckets, c, v);
	return gmt_policy_decide_hdr(h, &gmt_pol_rules0, &gmt_pol_buckets, c, v);
}

/*
 * The verifier holds an LSM program's 64-bit r0 to [-MAX_ERRNO, 0]: an int
 * return (a 32-bit move, zero-extended) fails that with EINVAL, and it
 * loses the range across a negation. So the verdicts are computed in 64
 * bits, as a subtraction from a constant behind a barrier.
 */
static __always_inline long gmt_pol_errno(__u64 err)
{
	__u64 e = err - 1;	/* 0 wraps: out of range, EPERM */
	__s64 r;

	/* barriers: the compare and the use must be on the same register,
	 * or the verifier does not see the bound (it saw [-65535, 0]) */
	asm volatile("" : "+r"(e));
	if (e > GMT_POLICY_MAX_ERRNO - 1)
		e = 0;				/* EPERM */
	asm volatile("" : "+r"(e));
	r = GMT_POLICY_MAX_ERRNO - 1 - e;	/* [0, MAX_ERRNO - 1] */
	asm volatile("" : "+r"(r));
	return r - GMT_POLICY_MAX_ERRNO;	/* -err: [-MAX_ERRNO, -1] */
}

/* an earlier verdict (an int in a u64 slot): passed on as it is whenever it
 * is an errno, which every LSM's is */
static __always_inline long gmt_pol_prev(__u32 prev)
{
	if (!prev)
		return 0;
	if (prev >= 0x100000000ULL - GMT_POLICY_MAX_ERRNO)
		return (__s64)prev - 0x100000000LL;
	return -1;	/* EPERM */
}

/* the shared body: prev is an earlier LSM's verdict, returned unchanged */
static __always_inline long gmt_pol_hook(struct file *file, unsigned int cmd, unsigned long arg,
					 __u32 prev, bool sleepable)
{
	struct gmt_pol_verdict v;
	struct gmt_pol_conv c;
	struct gmt_convert cv;
	__u64 w[GMT_CONVERT_ARG_WORDS];
	bool deny, read_failed;
	const struct gmt_policy_hdr *h;
	int want, kind;
	__u32 len, active;
	__u64 kvm;
	long ret;
	__u8 gen;

	want = gmt_convert_fd_kind(cmd);
	if (want == GMT_FD_OTHER || prev)
		return gmt_pol_prev(prev);
	/*
	 * Not zeroed: every field read is written first. c's caller fields
	 * are filled only where a candidate rule selects on them (needs),
	 * and a rule reads only those; w is filled by the copy (zeroed by it
	 * on a failure). Zeroing them was 13 stores on every conversion
	 * (bench_policy), and at entry on every ioctl. v is: clang spills a
	 * field no path wrote as an undefined register, which the verifier
	 * refuses.
	 */
	__builtin_memset(&v, 0, sizeof(v));
	if (cfg_pol_bench_skip & GMT_POL_BENCH_NO_KIND)
		kind = want;
	else
		kind = want == GMT_FD_VM ? (gmt_btf_file_is_vm(file) ? GMT_FD_VM : GMT_FD_OTHER) :
		       (gmt_btf_file_is_gmem(file) ? GMT_FD_GMEM : GMT_FD_OTHER);
	gen = gmt_convert_gen(cmd, kind);
	if (gen == GMT_GEN_NONE || (cfg_pol_bench_skip & GMT_POL_BENCH_NO_BODY))
		return 0;
	active = gmt_pol_active;	/* once: header and rules of one half */
	h = gmt_pol_hdr_of(active);
	if (!h)
		return 0;	/* cannot happen: an array's element */
	/* only what is decided on: G2's argument is two words, G1's and G3's
	 * flags (the fourth) are not read (the kernel checks them) */
	len = gen == GMT_GEN_G2 ? 16 : 24;
	if (cfg_pol_bench_skip & GMT_POL_BENCH_NO_COPY) {
		/* the bench's conversion: 4 KiB to private */
		w[0] = cfg_pol_bench_gpa;
		w[1] = 4096;
		w[2] = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE;
		read_failed = false;
	} else if (sleepable)
		read_failed = bpf_copy_from_user(w, len, (void *)arg) != 0;
	else
		read_failed = bpf_probe_read_user(w, len, (void *)arg) != 0;
	gmt_decode_convert(cmd, gen, w, &cv);
	c.start = cv.start;
	c.size = cv.size;
	c.gen = gen;
	c.dir = cv.dir;
	kvm = gen == GMT_GEN_G1 ? (__u64)file->private_data : gmt_gmem_kvm(file);
	gmt_pol_fill_caller(&c, file, kvm, h->index.needs[GMT_POL_GEN_DIR(gen, c.dir)]);
	if (read_failed) {
		/* the kernel will fail its own copy too: decide nothing, report */
		v.action = GMT_PA_AUDIT;
		v.index = GMT_POLICY_MAX_RULES;
	} else if (cfg_pol_bench_skip & GMT_POL_BENCH_NO_DECIDE) {
		v.index = GMT_POLICY_MAX_RULES;
		v.action = h->default_action;
		v.err = h->default_err;
	} else if (gmt_pol_decide_in(active, h, &c, &v)) {
		return 0;	/* no policy loaded yet: enforce loads rules before attach */
	}
	deny = v.action == GMT_PA_DENY;
	if (!(cfg_pol_bench_skip & GMT_POL_BENCH_NO_COUNT))
		gmt_pol_count_it(&v, deny);
	/* the kernel will run it: its own copy is compared with this one */
	if (gmt_pol_toctou_on(gen) && !(deny && cfg_pol_mode == GMT_POL_ENFORCE)) {
		if (read_failed)
			gmt_pol_stash_drop();
		else
			gmt_pol_stash_put(&c, &cv, &v, file, kvm,
					  cfg_pol_mode == GMT_POL_ENFORCE &&
					  h->toctou == GMT_PTOCTOU_KILL);
	}
	if (v.action == GMT_PA_ALLOW)
		return 0;
	ret = 0;
	if (deny && cfg_pol_mode == GMT_POL_ENFORCE)
		ret = gmt_pol_errno(v.err);
	gmt_pol_emit(&c, &cv, &v, file, kvm, (int)ret, read_failed);
	return ret;
}

/* not BPF_PROG: its int return would be a 32-bit r0 (see gmt_pol_errno) */
SEC("lsm.s/file_ioctl")
long gmt_pol_lsm(unsigned long long *ctx)
{
	/* file, cmd, arg, the earlier verdict */
	return gmt_pol_hook((struct file *)ctx[0], ctx[1], ctx[2], ctx[3], true);
}

SEC("fmod_ret/security_file_ioctl")
long gmt_pol_fmod(unsigned long long *ctx)
{
	return gmt_pol_hook((struct file *)ctx[0], ctx[1], ctx[2], ctx[3], false);
}
