/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TOCTOU of the policy hook (docs/policy.md): the hook reads the user's
 * struct before the kernel copies it, so a racing thread can change it in
 * between. The hook stashes, per thread, what it decided on; where the
 * kernel's own copy is visible (G1: the kvm_vm_set_mem_attributes
 * tracepoint; G3: __kvm_gmem_set_attributes' arguments) kernel_side.bpf.c
 * compares it and reports a policy_toctou record, and with `toctou: kill`
 * in enforce mode sends SIGKILL to the thread (as tetragon's Sigkill
 * action does). G2 has no kernel here that implements it: not checked.
 *
 * The stash and the switch are defined by kernel_side.bpf.c
 * (GMT_TOCTOU_OWNER) and extern in policy.bpf.c, which puts (GMT_TOCTOU_HOOK):
 * the order of gmt_state.bpf.h (definer first in the link): the other order
 * failed to link with libbpf 1.1 ("map relo failed to find map").
 */
#ifndef GMT_POLICY_TOCTOU_BPF_H
#define GMT_POLICY_TOCTOU_BPF_H

#include "gmt_policy.h"

/*
 * Set by enforce before load: the generations (1 << enum gmt_gen) whose
 * kernel copy a kernel-side program of this load compares (the loader's
 * plan: G1's tracepoint, G3's __kvm_gmem_set_attributes). The hook stashes
 * only for those: a stash nothing compares is work for nothing on every
 * conversion. Tracing alone sets none.
 */
#ifdef GMT_TOCTOU_OWNER
#define GMT_TOCTOU_SHARED
const volatile __u8 cfg_pol_toctou_gens = 0;
#else
#define GMT_TOCTOU_SHARED extern
extern const volatile __u8 cfg_pol_toctou_gens;
#endif

static __always_inline bool gmt_pol_toctou_on(__u8 gen)
{
	return (cfg_pol_toctou_gens >> (gen & 7)) & 1;
}

/*
 * What the hook let through, until the kernel's copy is seen: in task
 * storage, so each thread has its own. An array slot per thread id modulo
 * N was tried (a load where this is a helper call: ~50-100 ns under TCG)
 * and given up: a thread whose id shares the slot can take it between
 * another's hook and its kernel copy on purpose, and that conversion is
 * then not compared, so a racing thread escapes `toctou: kill`.
 *
 * Only the thread itself reads or writes its stash (the programs use the
 * current task), and its hook and its kernel copy run in one ioctl, which
 * no signal handler of the thread interrupts: plain loads and stores do,
 * no atomics (three locked operations per conversion, bench_policy).
 */
struct gmt_pol_stash {
	__u32 tid;		/* the owner while stashed, 0: consumed or none */
	__u8 kill;		/* toctou: kill and enforce mode */
	__u8 pad[3];
	__u64 kvm;		/* its VM: named only if a record is written */
	struct gmt_policy_rec decided;
};

GMT_TOCTOU_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gmt_pol_stash);
} gmt_pol_stash SEC(".maps");

#define GMT_SIGKILL	9
#define GMT_PAGE_SHIFT	12	/* x86: the kernel's copies are in pages */

/* this thread's slot (created by the hook only); *tid: its id */
static __always_inline struct gmt_pol_stash *gmt_pol_stash_slot(__u32 *tid, bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();

	*tid = task->pid;
	return bpf_task_storage_get(&gmt_pol_stash, task, 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * The kernel's copy of a conversion the hook let through on this thread:
 * start and size in bytes. Consumes the stash (one check per ioctl).
 */
static __always_inline void gmt_pol_toctou_check(__u8 gen, __u64 kstart, __u64 ksize,
						 __u64 kattrs)
{
	struct gmt_policy_toctou_rec *t;
	struct gmt_pol_stash *s;
	struct gmt_event *e;
	__u32 tid;
	__u8 kill;

	if (!gmt_pol_toctou_on(gen))
		return;		/* rodata: the verifier drops the rest */
	s = gmt_pol_stash_slot(&tid, false);
	if (!s || s->tid != tid || s->decided.gen != gen) {
		/* not stashed: the hook was not attached yet, or its storage
		 * could not be had */
		gmt_count(GMT_CNT_POL_UNCHECKED);
		return;
	}
	s->tid = 0;
	if (s->decided.start == kstart && s->decided.size == ksize &&
	    s->decided.attributes == kattrs)
		return;
	e = bpf_ringbuf_reserve(&gmt_events, sizeof(*e), 0);
	if (e) {
		__u64 id = bpf_get_current_pid_tgid();

		__builtin_memset(e, 0, sizeof(*e));
		e->hdr.type = GMT_EV_POLICY_TOCTOU;
		e->hdr.size = GMT_EVENT_SIZE;
		e->hdr.cpu = bpf_get_smp_processor_id();
		e->hdr.ts_ns = bpf_ktime_get_ns();
		e->hdr.pid = id >> 32;
		e->hdr.tid = (__u32)id;
		e->hdr.cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(e->hdr.comm, sizeof(e->hdr.comm));
		gmt_vm_identity(s->kvm, &e->hdr.vm_key, &e->hdr.vm_pid, &e->hdr.vm_fd);
		e->hdr.fd = -1;
		t = &e->policy_toctou;
		t->decided = s->decided;
		t->kern_start = kstart;
		t->kern_size = ksize;
		t->kern_attributes = kattrs;
	}
	kill = s->kill;
	/* the kill does not wait for the ring: a full one must not save it */
	if (kill && !bpf_send_signal_thread(GMT_SIGKILL) && e)
		e->policy_toctou.killed = 1;
	if (e)
		bpf_ringbuf_submit(e, 0);
	else
		gmt_count(GMT_CNT_RB_DROPS);
}

#ifdef GMT_TOCTOU_HOOK
/* the hook (policy.bpf.c): remember what it let through on this thread */
static __always_inline void gmt_pol_stash_put(const struct gmt_pol_conv *c,
					      const struct gmt_convert *cv,
					      const struct gmt_pol_verdict *v, struct file *file,
					      __u64 kvm, bool kill)
{
	struct gmt_pol_stash *s;
	__u32 tid;

	s = gmt_pol_stash_slot(&tid, true);
	if (!s) {
		gmt_count(GMT_CNT_POL_UNCHECKED);	/* no storage: not compared */
		return;
	}
	s->decided.start = c->start;
	s->decided.size = c->size;
	s->decided.attributes = cv->attributes;
	s->decided.gmem_ino = c->gen == GMT_GEN_G1 ? 0 : gmt_file_ino(file);
	s->decided.cmd = cv->cmd;
	s->decided.rule_id = v->id;
	s->decided.rule_index = v->index;
	s->decided.action = v->action;
	s->decided.mode = cfg_pol_mode;
	s->decided.gen = c->gen;
	s->decided.dir = c->dir;
	s->decided.err = v->err;
	s->kvm = kvm;
	s->kill = kill;
	s->tid = tid;
}

/* a conversion let through undecided (its argument unreadable): an older
 * stash of this thread must not stand for it at the check */
static __always_inline void gmt_pol_stash_drop(void)
{
	struct gmt_pol_stash *s;
	__u32 tid;

	s = gmt_pol_stash_slot(&tid, false);
	if (s)
		s->tid = 0;
}
#endif /* GMT_TOCTOU_HOOK */

#endif /* GMT_POLICY_TOCTOU_BPF_H */
