// SPDX-License-Identifier: GPL-2.0-only
/*
 * Holders (loaded only with --holders): who takes long-term references on
 * guest_memfd pages through a uAPI, and since when. guest_memfd mmaps are
 * tracked per process (mmap, munmap, exit); an io_uring buffer registration
 * whose iovecs overlap one of them is a holder, until the buffers are
 * unregistered or replaced, the ring fd is closed or the process exits.
 * Pinning syscalls are rare, mmap is not: an anonymous mmap stops at its fd,
 * an unrelated mmap exit at one global read, a munmap at one hash lookup.
 * Linked with uapi.bpf.c (whose ring buffer, filters and counters these share).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_state.bpf.h"

#define IORING_REGISTER_BUFFERS_	0
#define IORING_UNREGISTER_BUFFERS_	1
#define IORING_REGISTER_BUFFERS2_	15
#define IORING_REGISTER_BUFFERS_UPDATE_	16
#define IORING_USE_REGISTERED_RING_	(1U << 31)
#define PAGE_MASK_			4095ULL
#define MAX_ERRNO_			4095

/* a guest_memfd mmap of a process (len 0: free slot) */
struct gmt_hmap {
	__u64 start, len, ino, off;
	__u64 kvm;		/* the guest_memfd's VM, to name it in records */
};

struct gmt_hproc {
	__u32 has_holders;	/* it registered some: close and exit look further (not a
				 * count: a counter in the end callback's context would
				 * make the verifier walk every value it can take) */
	__u32 pad;
	struct gmt_hmap m[GMT_HOLD_MAPS];
};

/* a holder as tracked: struct gmt_hval (gmemtrace.h), read by stat and export too */

enum { PEND_MMAP = 1, PEND_UREG };

/* a syscall in flight, from its enter to its exit, by thread */
struct gmt_hpend {
	__u8 kind;
	__u8 pad[3];
	__u32 opcode;
	__s32 fd;
	__u32 nr;
	__u64 arg;
	__u64 ino, off, kvm;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);	/* 1 without --holders: the loader says */
	__type(key, __u32);
	__type(value, struct gmt_hproc);
} gmt_hmaps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct gmt_hpend);
} gmt_hpend SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GMT_HOLD_MAX);
	__type(key, struct gmt_holder_key);
	__type(value, struct gmt_hval);
} gmt_holders SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} gmt_hstacks SEC(".maps");

/* guest_memfd mmaps between their enter and exit, all threads: an unrelated
 * mmap's exit reads this global and stops */
__u64 gmt_hpend_mmaps = 0;
__u64 gmt_holder_next_id = 1;

SEC("tracepoint/syscalls/sys_enter_mmap")
int gmt_hmmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct gmt_hpend p = { .kind = PEND_MMAP };
	int fd = (int)ctx->args[4];
	struct file *file;
	__u32 tid;

	if (fd < 0)
		return 0;	/* anonymous: most mmaps end here */
	file = gmt_fd_to_file(fd);
	if (!file || !gmt_file_is_gmem(file))
		return 0;
	p.fd = fd;
	p.ino = gmt_file_ino(file);
	p.off = ctx->args[5];
	p.arg = (ctx->args[1] + PAGE_MASK_) & ~PAGE_MASK_;
	p.kvm = gmt_gmem_kvm(file);
	tid = (__u32)bpf_get_current_pid_tgid();
	if (!bpf_map_update_elem(&gmt_hpend, &tid, &p, BPF_NOEXIST))
		__sync_fetch_and_add(&gmt_hpend_mmaps, 1);
	else	/* a stale one (its thread died in the call): replace it */
		bpf_map_update_elem(&gmt_hpend, &tid, &p, BPF_ANY);
	return 0;
}

/* [start, start + len) is no longer mapped: trim or drop what overlaps */
static __always_inline void hold_trim(struct gmt_hproc *pr, __u64 start, __u64 len)
{
	struct gmt_hmap tail = {};
	__u64 end = start + len;
	int i;

	for (i = 0; i < GMT_HOLD_MAPS; i++) {
		struct gmt_hmap *m = &pr->m[i];
		__u64 me = m->start + m->len;

		if (!m->len || end <= m->start || start >= me)
			continue;
		if (end < me && start > m->start) {
			/* a hole in the middle: the part above moves to a free slot */
			tail = *m;
			tail.start = end;
			tail.len = me - end;
			tail.off = m->off + (end - m->start);
		}
		if (start <= m->start && end >= me) {
			m->len = 0;
		} else if (start <= m->start) {
			m->off += end - m->start;
			m->len = me - end;
			m->start = end;
		} else {
			m->len = start - m->start;
		}
	}
	if (!tail.len)
		return;
	for (i = 0; i < GMT_HOLD_MAPS; i++) {
		if (!pr->m[i].len) {
			pr->m[i] = tail;
			return;
		}
	}
	gmt_count(GMT_CNT_HOLD_MAPS_FULL);
}

static __always_inline void hold_add_map(__u32 tgid, __u64 start, const struct gmt_hpend *p)
{
	static const struct gmt_hproc zero;
	struct gmt_hproc *pr;
	int i;

	pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);
	if (!pr) {
		bpf_map_update_elem(&gmt_hmaps, &tgid, &zero, BPF_NOEXIST);
		pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);
		if (!pr) {
			gmt_count(GMT_CNT_HOLD_MAPS_FULL);
			return;
		}
	}
	hold_trim(pr, start, p->arg);	/* MAP_FIXED replaces what was there */
	for (i = 0; i < GMT_HOLD_MAPS; i++) {
		struct gmt_hmap *m = &pr->m[i];

		if (m->len)
			continue;
		m->start = start;
		m->len = p->arg;
		m->ino = p->ino;
		m->off = p->off;
		m->kvm = p->kvm;
		return;
	}
	gmt_count(GMT_CNT_HOLD_MAPS_FULL);
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int gmt_hmmap_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct gmt_hpend *pp, p;
	__u32 tid = (__u32)id;

	if (!gmt_hpend_mmaps)
		return 0;	/* no guest_memfd mmap in flight anywhere */
	pp = bpf_map_lookup_elem(&gmt_hpend, &tid);
	if (!pp || pp->kind != PEND_MMAP)
		return 0;
	p = *pp;
	bpf_map_delete_elem(&gmt_hpend, &tid);
	__sync_fetch_and_sub(&gmt_hpend_mmaps, 1);
	if ((unsigned long)ctx->ret >= (unsigned long)-MAX_ERRNO_)
		return 0;
	hold_add_map(id >> 32, (__u64)ctx->ret, &p);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int gmt_hmunmap(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gmt_hproc *pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);

	if (pr)
		hold_trim(pr, ctx->args[0], (ctx->args[1] + PAGE_MASK_) & ~PAGE_MASK_);
	return 0;
}

static __always_inline void hold_emit(const struct gmt_hval *v, __u16 type, __u8 end, __u64 now)
{
	struct gmt_event *e;

	if (!cfg_emit_events)
		return;	/* stat, export: they read the holder map, no records */
	e = GMT_RB_RESERVE(GMT_SITE_RB_HOLDER, &gmt_events, sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	gmt_fill_task_hdr(e, bpf_get_current_task_btf());
	e->hdr.type = type;
	e->hdr.ts_ns = now;
	e->hdr.vm_key = v->vm_id;
	e->hdr.vm_pid = v->vm_pid;
	e->hdr.vm_fd = v->vm_fd;
	e->hdr.fd = v->h.ring_fd;
	if (end)
		e->hdr.latency_ns = now - v->h.start_ns;	/* how long it was held */
	e->holder = v->h;
	e->holder.end = end;
	bpf_ringbuf_submit(e, 0);
}

/* which holders of a process end, and how */
struct end_ctx {
	__u32 tgid;
	__s32 fd;		/* -1: any ring */
	__u32 lo, hi;		/* buffer indexes [lo, hi) */
	__u8 how;
	__u64 now;
};

static long hold_end_cb(struct bpf_map *map, struct gmt_holder_key *k, struct gmt_hval *v,
			struct end_ctx *c)
{
	if (k->tgid != c->tgid || (c->fd >= 0 && k->ring_fd != c->fd) ||
	    k->index < c->lo || k->index >= c->hi)
		return 0;
	hold_emit(v, GMT_EV_HOLDER_END, c->how, c->now);
	bpf_map_delete_elem(map, k);
	return 0;
}

static __always_inline void hold_end(__u32 tgid, int fd, __u32 lo, __u32 hi, __u8 how)
{
	struct end_ctx c = { .tgid = tgid, .fd = fd, .lo = lo, .hi = hi, .how = how,
			     .now = bpf_ktime_get_ns() };

	bpf_for_each_map_elem(&gmt_holders, hold_end_cb, &c, 0);
}

/* a registration's buffers, read one by one */
struct reg_ctx {
	__u64 iov;		/* user array of struct iovec */
	__u64 now, leaf_ret;
	__u32 tgid, base;	/* base: the first buffer's index */
	__s32 fd, stack_id;
};

static __always_inline void hold_start(struct reg_ctx *c, struct gmt_hproc *pr, __u32 i,
				       __u32 s, __u64 lo, __u64 hi)
{
	struct gmt_holder_key k = { .tgid = c->tgid, .ring_fd = c->fd, .index = c->base + i,
				    .slot = s };
	struct gmt_hmap *m = &pr->m[s & (GMT_HOLD_MAPS - 1)];
	struct gmt_hval v = {};

	v.h.kind = GMT_HOLD_IOURING_BUF;
	v.h.ring_fd = c->fd;
	v.h.index = c->base + i;
	v.h.stack_id = c->stack_id;
	v.h.gmem_ino = m->ino;
	v.h.gmem_offset = m->off + (lo - m->start);
	v.h.len = hi - lo;
	v.h.uaddr = lo;
	v.h.start_ns = c->now;
	v.h.leaf_ret = c->leaf_ret;
	v.h.id = __sync_fetch_and_add(&gmt_holder_next_id, 1);
	gmt_vm_identity(m->kvm, &v.vm_id, &v.vm_pid, &v.vm_fd);
	if (bpf_map_update_elem(&gmt_holders, &k, &v, BPF_ANY)) {
		gmt_count(GMT_CNT_HOLD_FULL);
		return;
	}
	pr->has_holders = 1;
	hold_emit(&v, GMT_EV_HOLDER_START, GMT_HOLD_END_NONE, c->now);
}

static long hold_iov_cb(__u32 i, struct reg_ctx *c)
{
	struct { __u64 base, len; } iov;
	struct gmt_hproc *pr;
	__u32 s;

	if (GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&iov, sizeof(iov),
							   (void *)(c->iov + i * sizeof(iov)))))
		return 1;
	pr = bpf_map_lookup_elem(&gmt_hmaps, &c->tgid);
	if (!pr)
		return 1;
	for (s = 0; s < GMT_HOLD_MAPS; s++) {
		struct gmt_hmap *m = &pr->m[s];
		__u64 lo = iov.base > m->start ? iov.base : m->start;
		__u64 hi = iov.base + iov.len < m->start + m->len ?
			   iov.base + iov.len : m->start + m->len;

		if (m->len && lo < hi)
			hold_start(c, pr, i, s, lo, hi);
	}
	return 0;
}

/* the user stack of the call, and the word at its stack pointer */
static __always_inline void hold_stack(void *ctx, struct reg_ctx *c)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	long id = bpf_get_stackid(ctx, &gmt_hstacks, BPF_F_USER_STACK);

	if (id < 0)
		gmt_site_fail(GMT_SITE_HOLD_STACK, id);
	c->stack_id = id;
	c->leaf_ret = 0;
	bpf_probe_read_user(&c->leaf_ret, sizeof(c->leaf_ret), (void *)regs->sp);
}

SEC("tracepoint/syscalls/sys_enter_io_uring_register")
int gmt_hureg_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct gmt_hpend p = { .kind = PEND_UREG };
	__u32 op = (__u32)ctx->args[1];
	__u32 tid;

	if (op != IORING_REGISTER_BUFFERS_ && op != IORING_UNREGISTER_BUFFERS_ &&
	    op != IORING_REGISTER_BUFFERS2_ && op != IORING_REGISTER_BUFFERS_UPDATE_)
		return 0;	/* registered-ring fds (bit 31) are not followed */
	if (gmt_filtered_out())
		return 0;
	p.fd = (int)ctx->args[0];
	p.opcode = op;
	p.arg = ctx->args[2];
	p.nr = (__u32)ctx->args[3];
	tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&gmt_hpend, &tid, &p, BPF_ANY);
	return 0;
}

/* the iovec array, its length and first index of each registering opcode */
static __always_inline int hold_reg_args(const struct gmt_hpend *p, struct reg_ctx *c, __u32 *nr)
{
	struct { __u32 nr, flags; __u64 resv2, data, tags; } reg;	/* io_uring_rsrc_register */
	struct { __u32 offset, resv; __u64 data, tags; __u32 nr, resv2; } upd;	/* _update2 */

	c->base = 0;
	c->iov = p->arg;
	*nr = p->nr;
	if (p->opcode == IORING_REGISTER_BUFFERS2_) {
		if (GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&reg, sizeof(reg), (void *)p->arg)))
			return -1;
		c->iov = reg.data;
		*nr = reg.nr;
	} else if (p->opcode == IORING_REGISTER_BUFFERS_UPDATE_) {
		if (GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&upd, sizeof(upd), (void *)p->arg)))
			return -1;
		c->iov = upd.data;
		c->base = upd.offset;
		*nr = upd.nr;
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_io_uring_register")
int gmt_hureg_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct reg_ctx c = { .tgid = id >> 32 };
	struct gmt_hpend *pp, p;
	__u32 tid = (__u32)id, nr;

	pp = bpf_map_lookup_elem(&gmt_hpend, &tid);
	if (!pp || pp->kind != PEND_UREG)
		return 0;
	p = *pp;
	bpf_map_delete_elem(&gmt_hpend, &tid);
	if (ctx->ret < 0)
		return 0;
	c.fd = p.fd;
	if (p.opcode == IORING_UNREGISTER_BUFFERS_) {
		hold_end(c.tgid, p.fd, 0, ~0U, GMT_HOLD_END_UNREGISTER);
		return 0;
	}
	if (!bpf_map_lookup_elem(&gmt_hmaps, &c.tgid) || hold_reg_args(&p, &c, &nr))
		return 0;	/* no guest_memfd mapped: nothing it registers is held */
	if (p.opcode == IORING_REGISTER_BUFFERS_UPDATE_)	/* replaced buffers end */
		hold_end(c.tgid, p.fd, c.base, c.base + nr, GMT_HOLD_END_UNREGISTER);
	if (nr > GMT_HOLD_MAX_IOV) {
		gmt_count(GMT_CNT_HOLD_IOV_TRUNC);
		nr = GMT_HOLD_MAX_IOV;
	}
	c.now = bpf_ktime_get_ns();
	hold_stack(ctx, &c);
	bpf_loop(nr, hold_iov_cb, &c, 0);
	return 0;
}

/* a closed ring drops its buffers (a ring shared with a child lives on:
 * then the end is early, never missed) */
SEC("tracepoint/syscalls/sys_enter_close")
int gmt_hclose(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct gmt_hproc *pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);

	if (pr && pr->has_holders)
		hold_end(tgid, (int)ctx->args[0], 0, ~0U, GMT_HOLD_END_CLOSE);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(gmt_hexit, struct task_struct *task)
{
	__u32 tgid = task->tgid, tid = task->pid;
	struct gmt_hpend *pp = bpf_map_lookup_elem(&gmt_hpend, &tid);
	struct gmt_hproc *pr;

	if (pp) {	/* died inside a call: its enter is forgotten */
		if (pp->kind == PEND_MMAP)
			__sync_fetch_and_sub(&gmt_hpend_mmaps, 1);
		bpf_map_delete_elem(&gmt_hpend, &tid);
	}
	/* signal->live drops to 0 before this tracepoint in do_exit() */
	if (task->signal->live.counter)
		return 0;
	pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);
	if (!pr)
		return 0;
	if (pr->has_holders)
		hold_end(tgid, -1, 0, ~0U, GMT_HOLD_END_EXIT);
	bpf_map_delete_elem(&gmt_hmaps, &tgid);
	return 0;
}
