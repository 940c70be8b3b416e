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

#ifdef GMT_TOCTOU_OWNER
#define GMT_TOCTOU_SHARED
/* set by enforce before load: stash and compare (tracing alone never does) */
const volatile bool cfg_pol_toctou = false;
#else
#define GMT_TOCTOU_SHARED extern
extern const volatile bool cfg_pol_toctou;
#endif

/* what the hook let through, until the kernel's copy is seen */
struct gmt_pol_stash {
	struct gmt_policy_rec decided;
	__u64 kvm;		/* its VM: named only if a record is written */
	__u8 valid;
	__u8 kill;		/* toctou: kill and enforce mode */
	__u8 pad[6];
};

GMT_TOCTOU_SHARED struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct gmt_pol_stash);
} gmt_pol_stash SEC(".maps");

#define GMT_SIGKILL	9
#define GMT_PAGE_SHIFT	12	/* x86: the kernel's copies are in pages */

/*
 * The kernel's copy of a conversion the hook let through on this thread:
 * start and size in bytes. Consumes the stash (one check per ioctl).
 */
static __always_inline void gmt_pol_toctou_check(__u8 gen, __u64 kstart, __u64 ksize,
						 __u64 kattrs)
{
	struct gmt_policy_toctou_rec *t = NULL;
	struct gmt_pol_stash *s;
	struct gmt_event *e;

	if (!cfg_pol_toctou)
		return;		/* rodata: the verifier drops the rest */
	s = bpf_task_storage_get(&gmt_pol_stash, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->valid || s->decided.gen != gen)
		return;
	s->valid = 0;
	if (s->decided.start == kstart && s->decided.size == ksize &&
	    s->decided.attributes == kattrs)
		return;
	e = bpf_ringbuf_reserve(&gmt_events, sizeof(*e), 0);
	if (!e) {
		gmt_count(GMT_CNT_RB_DROPS);
	} else {
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
	/* the kill does not wait for the ring: a full one must not save it */
	if (s->kill && !bpf_send_signal_thread(GMT_SIGKILL) && t)
		t->killed = 1;
	if (e)
		bpf_ringbuf_submit(e, 0);
}

#ifdef GMT_TOCTOU_HOOK
/* the hook (policy.bpf.c): remember what it let through on this thread */
static __always_inline void gmt_pol_stash_put(const struct gmt_pol_conv *c,
					      const struct gmt_convert *cv,
					      const struct gmt_pol_verdict *v, struct file *file,
					      __u64 kvm, bool kill)
{
	struct gmt_pol_stash *s;

	s = bpf_task_storage_get(&gmt_pol_stash, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s) {
		gmt_count(GMT_CNT_RB_DROPS);	/* out of memory: this one goes unchecked */
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
	s->valid = 1;
}
#endif /* GMT_TOCTOU_HOOK */

#endif /* GMT_POLICY_TOCTOU_BPF_H */
