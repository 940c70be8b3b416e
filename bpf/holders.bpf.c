// SPDX-License-Identifier: GPL-2.0-only
/*
 * Holders (loaded only with --holders): who takes long-term references on
 * guest_memfd pages through a uAPI, and since when. guest_memfd mmaps are
 * tracked per process (mmap, munmap, exit); an io_uring buffer registration
 * whose iovecs overlap one of them is a holder, until the buffers are
 * unregistered or replaced, the ring fd is closed or the process exits.
 * So is a VFIO type1 DMA mapping (VFIO_IOMMU_MAP_DMA on a container) or an
 * iommufd IOAS area (IOMMU_IOAS_MAP, or IOMMU_IOAS_COPY of such an area into
 * another IOAS) over one, until the unmap, the close of the container /
 * iommufd or the process's exit.
 * Pinning syscalls are rare, mmap is not: an anonymous mmap stops at its fd,
 * an unrelated mmap exit at one global read, a munmap at one hash lookup;
 * an unrelated ioctl at a few compares on enter and one global read on exit.
 * Linked with uapi.bpf.c (whose ring buffer, filters and counters these share).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "dma_uapi.h"
#include "gmt_state.bpf.h"
#include "holder_emit.bpf.h"

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

enum { PEND_MMAP = 1, PEND_UREG, PEND_DMA };

/* a syscall in flight, from its enter to its exit, by thread */
struct gmt_hpend {
	__u8 kind;
	__u8 pad[3];
	__u32 opcode;
	__s32 fd;
	__u32 nr;
	__u64 arg;
	__u64 ino, off, kvm;
	__u64 iova_lo, iova_hi;	/* DMA unmaps: the range asked for */
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
/* VFIO / iommufd map and unmap ioctls between enter and exit, all threads:
 * an unrelated ioctl's exit reads this global and stops */
__u64 gmt_hpend_dma = 0;

/* the char devices whose fds own DMA mappings (kernel dev_t encoding,
 * major << 20 | minor; 0: unknown, not followed), set by the loader:
 * /dev/vfio/vfio is misc 10:196 (VFIO_MINOR), /dev/iommu a dynamic misc
 * minor read from sysfs. The device number names the file whatever path
 * it was opened by, and also covers iommufd's VFIO container emulation. */
const volatile __u32 cfg_vfio_rdev = 0;
const volatile __u32 cfg_iommufd_rdev = 0;

/* this thread's call in flight, counted in *in_flight until its exit */
static __always_inline void hpend_put(const struct gmt_hpend *p, __u64 *in_flight)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!bpf_map_update_elem(&gmt_hpend, &tid, p, BPF_NOEXIST))
		__sync_fetch_and_add(in_flight, 1);
	else	/* a stale one (its thread died in the call): replace it */
		bpf_map_update_elem(&gmt_hpend, &tid, p, BPF_ANY);
}

/* at the exit: this thread's call of that kind, taken out; an unrelated
 * call stops at one read of *in_flight (none in flight anywhere) */
static __always_inline bool hpend_take(__u8 kind, __u64 *in_flight, struct gmt_hpend *out)
{
	struct gmt_hpend *pp;
	__u32 tid;

	if (!*in_flight)
		return false;
	tid = (__u32)bpf_get_current_pid_tgid();
	pp = bpf_map_lookup_elem(&gmt_hpend, &tid);
	if (!pp || pp->kind != kind)
		return false;
	*out = *pp;
	bpf_map_delete_elem(&gmt_hpend, &tid);
	__sync_fetch_and_sub(in_flight, 1);
	return true;
}

SEC("tracepoint/syscalls/sys_enter_mmap")
int gmt_hmmap_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct gmt_hpend p = { .kind = PEND_MMAP };
	int fd = (int)ctx->args[4];
	struct file *file;

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
	hpend_put(&p, &gmt_hpend_mmaps);
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
	struct gmt_hpend p;

	if (!hpend_take(PEND_MMAP, &gmt_hpend_mmaps, &p))
		return 0;	/* not a guest_memfd mmap */
	if ((unsigned long)ctx->ret >= (unsigned long)-MAX_ERRNO_)
		return 0;
	hold_add_map(bpf_get_current_pid_tgid() >> 32, (__u64)ctx->ret, &p);
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

/* which holders of a process end, and how */
struct end_ctx {
	__u32 tgid;
	__s32 fd;		/* -1: any ring */
	__u32 lo, hi;		/* buffer indexes (iommufd: IOAS ids) [lo, hi) */
	__u8 how;
	__u64 now;
	__u64 iova_lo, iova_hi;	/* device addresses [lo, hi); io_uring: 0, ~0 */
};

static long hold_end_cb(struct bpf_map *map, struct gmt_holder_key *k, struct gmt_hval *v,
			struct end_ctx *c)
{
	if (k->tgid != c->tgid || (c->fd >= 0 && k->ring_fd != c->fd) ||
	    k->index < c->lo || k->index >= c->hi || k->iova < c->iova_lo ||
	    k->iova >= c->iova_hi)
		return 0;
	gmt_hold_emit(v, GMT_EV_HOLDER_END, c->how, c->now);
	bpf_map_delete_elem(map, k);
	return 0;
}

static __always_inline void hold_end_iova(__u32 tgid, int fd, __u32 lo, __u32 hi, __u8 how,
					  __u64 iova_lo, __u64 iova_hi)
{
	struct end_ctx c = { .tgid = tgid, .fd = fd, .lo = lo, .hi = hi, .how = how,
			     .now = bpf_ktime_get_ns(), .iova_lo = iova_lo, .iova_hi = iova_hi };

	bpf_for_each_map_elem(&gmt_holders, hold_end_cb, &c, 0);
}

static __always_inline void hold_end(__u32 tgid, int fd, __u32 lo, __u32 hi, __u8 how)
{
	hold_end_iova(tgid, fd, lo, hi, how, 0, ~0ULL);
}

/* a registration's buffers, read one by one */
struct reg_ctx {
	__u64 iov;		/* user array of struct iovec */
	__u64 now, leaf_ret;
	__u32 tgid, base;	/* base: the first buffer's index */
	__s32 fd, stack_id;
};

/* a holder over [lo, hi) of mmap m: its guest_memfd range, VM and id, then
 * tracked and reported (the caller filled kind, owner, stack and time) */
static __always_inline void hold_insert(const struct gmt_holder_key *k, struct gmt_hval *v,
					struct gmt_hproc *pr, const struct gmt_hmap *m,
					__u64 lo, __u64 hi)
{
	v->h.gmem_ino = m->ino;
	v->h.gmem_offset = m->off + (lo - m->start);
	v->h.len = hi - lo;
	v->h.uaddr = lo;
	v->h.id = __sync_fetch_and_add(&gmt_holder_next_id, 1);
	gmt_vm_identity(m->kvm, &v->vm_id, &v->vm_pid, &v->vm_fd);
	if (bpf_map_update_elem(&gmt_holders, k, v, BPF_ANY)) {
		gmt_count(GMT_CNT_HOLD_FULL);
		return;
	}
	pr->has_holders = 1;
	gmt_hold_emit(v, GMT_EV_HOLDER_START, GMT_HOLD_END_NONE, v->h.start_ns);
}

static __always_inline void hold_start(struct reg_ctx *c, struct gmt_hproc *pr, __u32 i,
				       __u32 s, __u64 lo, __u64 hi)
{
	struct gmt_holder_key k = { .tgid = c->tgid, .ring_fd = c->fd, .index = c->base + i,
				    .slot = s };
	struct gmt_hval v = {};

	v.h.kind = GMT_HOLD_IOURING_BUF;
	v.h.ring_fd = c->fd;
	v.h.index = c->base + i;
	v.h.stack_id = c->stack_id;
	v.h.start_ns = c->now;
	v.h.leaf_ret = c->leaf_ret;
	hold_insert(&k, &v, pr, &pr->m[s & (GMT_HOLD_MAPS - 1)], lo, hi);
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

#define LEAF_WORDS	16
#define VM_EXEC_	0x4ULL
#define WRAPPER_MAX	4096	/* a syscall wrapper is shorter than this */

struct leaf_ctx {
	bool exec;
};

static long leaf_vma_cb(struct task_struct *task, struct vm_area_struct *vma, struct leaf_ctx *c)
{
	c->exec = vma->vm_flags & VM_EXEC_;
	return 0;
}

/*
 * w is the return address of a call to the wrapper the thread is in (ip):
 * executable, after a direct call (e8 rel32) whose target starts at most
 * WRAPPER_MAX before ip, or is a PLT stub (jmp *GOT: ff 25, or endbr64 /
 * bnd jmp first) when the wrapper sits in a shared library.
 */
static __always_inline bool leaf_is_call_ret(struct task_struct *task, __u64 w, __u64 ip)
{
	struct leaf_ctx lc = {};
	struct { __u8 op; __s32 rel; } __attribute__((packed)) call;
	__u8 stub[4];
	__u64 t;

	if (w < 4096 || bpf_find_vma(task, w, leaf_vma_cb, &lc, 0) || !lc.exec)
		return false;
	if (bpf_probe_read_user(&call, sizeof(call), (void *)(w - 5)) || call.op != 0xe8)
		return false;
	t = w + (__s64)call.rel;
	if (t <= ip && ip - t < WRAPPER_MAX)
		return true;
	if (bpf_probe_read_user(stub, sizeof(stub), (void *)t))
		return false;
	return (stub[0] == 0xff && stub[1] == 0x25) ||
	       (stub[0] == 0xf3 && stub[1] == 0x0f && stub[2] == 0x1e && stub[3] == 0xfa) ||
	       (stub[0] == 0xf2 && stub[1] == 0xff && stub[2] == 0x25);
}

/*
 * The user stack of the call, and its wrapper's return address, which a
 * frame-pointer walk skips when the wrapper is frameless: the first of the
 * words at the stack pointer that is the return of a call to the wrapper.
 * It is at sp for a bare syscall stub; glibc's ioctl() keeps its va_list
 * and a stack canary below it first (sub $0x58, %rsp: word 11).
 */
static __always_inline void hold_stack(void *ctx, struct reg_ctx *c)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	long id = bpf_get_stackid(ctx, &gmt_hstacks, BPF_F_USER_STACK);
	__u64 w[LEAF_WORDS] = {};
	int i;

	if (id < 0)
		gmt_site_fail(GMT_SITE_HOLD_STACK, id);
	c->stack_id = id;
	c->leaf_ret = 0;
	if (bpf_probe_read_user(w, sizeof(w), (void *)regs->sp))
		bpf_probe_read_user(w, sizeof(w[0]), (void *)regs->sp);	/* at a page's end */
	for (i = 0; i < LEAF_WORDS; i++) {
		if (leaf_is_call_ret(task, w[i], regs->ip)) {
			c->leaf_ret = w[i];
			return;
		}
	}
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

/*
 * VFIO type1 and iommufd. The enter program runs for every ioctl on the
 * machine while --holders is on: a switch on the full 32-bit cmd first,
 * then the fd's device number (the numbers are _IO(';', n), shared with
 * VFIO device fds and any driver that reuses ';').
 */
SEC("tracepoint/syscalls/sys_enter_ioctl")
int gmt_hdma_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct gmt_hpend p = { .kind = PEND_DMA };
	__u32 cmd = (__u32)ctx->args[1], want;
	struct file *file;

	switch (cmd) {
	case GMT_VFIO_IOMMU_MAP_DMA:
	case GMT_VFIO_IOMMU_UNMAP_DMA:
		want = cfg_vfio_rdev;
		break;
	case GMT_IOMMU_IOAS_MAP:
	case GMT_IOMMU_IOAS_COPY:
	case GMT_IOMMU_IOAS_UNMAP:
		want = cfg_iommufd_rdev;
		break;
	default:
		return 0;
	}
	if (!want || gmt_filtered_out())
		return 0;
	p.fd = (int)ctx->args[0];
	file = gmt_fd_to_file(p.fd);
	if (!file || BPF_CORE_READ(file, f_inode, i_rdev) != want)
		return 0;	/* e.g. VFIO_DEVICE_PCI_HOT_RESET: same number */
	p.opcode = cmd;
	p.arg = ctx->args[2];
	/* an unmap's range as asked: what it ends, whatever it reports back */
	p.iova_lo = 0;
	p.iova_hi = ~0ULL;
	if (cmd == GMT_VFIO_IOMMU_UNMAP_DMA) {
		struct gmt_vfio_dma_unmap u;

		if (GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&u, sizeof(u), (void *)p.arg)))
			return 0;
		if (!(u.flags & GMT_VFIO_DMA_UNMAP_FLAG_ALL)) {
			p.iova_lo = u.iova;
			p.iova_hi = u.iova + u.size < u.iova ? ~0ULL : u.iova + u.size;
		}
	} else if (cmd == GMT_IOMMU_IOAS_UNMAP) {
		struct gmt_iommu_ioas_unmap u;

		if (GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&u, sizeof(u), (void *)p.arg)))
			return 0;
		p.nr = u.ioas_id;
		p.iova_lo = u.iova;	/* 0 and length U64_MAX: everything */
		p.iova_hi = u.iova + u.length < u.iova ? ~0ULL : u.iova + u.length;
	}
	hpend_put(&p, &gmt_hpend_dma);
	return 0;
}

/* a mapping of [va, va + len) at iova: a holder per guest_memfd mmap it overlaps */
static __always_inline void dma_start(void *ctx, struct gmt_hproc *pr, __u8 kind, int fd,
				      __u32 ioas, __u64 va, __u64 len, __u64 iova)
{
	struct reg_ctx c = { .tgid = bpf_get_current_pid_tgid() >> 32, .fd = fd };
	bool stacked = false;
	__u32 s;

	for (s = 0; s < GMT_HOLD_MAPS; s++) {
		struct gmt_hmap *m = &pr->m[s];
		__u64 lo = va > m->start ? va : m->start;
		__u64 hi = va + len < m->start + m->len ? va + len : m->start + m->len;
		struct gmt_holder_key k = { .tgid = c.tgid, .ring_fd = fd, .index = ioas,
					    .slot = s };
		struct gmt_hval v = {};

		if (!m->len || lo >= hi)
			continue;
		if (!stacked) {	/* once per call, only when it holds something */
			c.now = bpf_ktime_get_ns();
			hold_stack(ctx, &c);
			stacked = true;
		}
		k.iova = iova + (lo - va);
		v.h.kind = kind;
		v.h.ring_fd = fd;
		v.h.index = ioas;
		v.h.iova = k.iova;
		v.h.stack_id = c.stack_id;
		v.h.start_ns = c.now;
		v.h.leaf_ret = c.leaf_ret;
		hold_insert(&k, &v, pr, m, lo, hi);
	}
}

/* IOMMU_IOAS_COPY: the pages of the source IOAS's areas in [lo, hi) mapped
 * again in the destination IOAS at dst_iova, over the same iopt_pages */
struct copy_ctx {
	__u32 tgid, src, dst;
	__s32 fd, stack_id;
	__u64 lo, hi, dst_iova, now, leaf_ret;
};

/* the destination holder being built: off the stack, which a bpf_loop
 * callback shares with gmt_hdma_exit's (6.12: "combined stack size of 2
 * calls is 640. Too large") */
struct copy_scratch {
	struct gmt_holder_key k;
	struct gmt_hval v;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct copy_scratch);
} gmt_hcopy_scratch SEC(".maps");

/* a source holder's part in the copied range: a holder of its own in the
 * destination, over the same guest_memfd range (the pages the copy maps are
 * the ones the source area holds, wherever the mmap is now) */
static long hold_copy_cb(struct bpf_map *map, struct gmt_holder_key *k, struct gmt_hval *v,
			 struct copy_ctx *c)
{
	struct copy_scratch *n;
	__u32 zero = 0;
	__u64 lo, hi;

	if (k->tgid != c->tgid || k->ring_fd != c->fd || k->index != c->src ||
	    v->h.kind != GMT_HOLD_IOMMUFD)
		return 0;
	lo = k->iova > c->lo ? k->iova : c->lo;
	hi = k->iova + v->h.len < c->hi ? k->iova + v->h.len : c->hi;
	if (lo >= hi)
		return 0;	/* (a holder the copy made is outside [lo, hi) too) */
	n = bpf_map_lookup_elem(&gmt_hcopy_scratch, &zero);
	if (!n)
		return 1;	/* cannot happen: one slot per CPU */
	n->k = *k;
	n->k.index = c->dst;
	n->k.iova = c->dst_iova + (lo - c->lo);
	n->v = *v;
	n->v.h.index = c->dst;
	n->v.h.iova = n->k.iova;
	n->v.h.gmem_offset += lo - k->iova;
	n->v.h.uaddr += lo - k->iova;
	n->v.h.len = hi - lo;
	n->v.h.stack_id = c->stack_id;
	n->v.h.leaf_ret = c->leaf_ret;
	n->v.h.start_ns = c->now;
	n->v.h.id = __sync_fetch_and_add(&gmt_holder_next_id, 1);
	if (bpf_map_update_elem(map, &n->k, &n->v, BPF_ANY)) {
		gmt_count(GMT_CNT_HOLD_FULL);
		return 0;
	}
	gmt_hold_emit(&n->v, GMT_EV_HOLDER_START, GMT_HOLD_END_NONE, c->now);
	return 0;
}

static __always_inline void hold_copy(void *ctx, __u32 tgid, int fd,
				      const struct gmt_iommu_ioas_copy *cp)
{
	struct reg_ctx rc = { .tgid = tgid, .fd = fd };
	struct copy_ctx c = { .tgid = tgid, .fd = fd, .src = cp->src_ioas_id,
			      .dst = cp->dst_ioas_id, .lo = cp->src_iova,
			      .dst_iova = cp->dst_iova };

	c.hi = cp->src_iova + cp->length < cp->src_iova ? ~0ULL : cp->src_iova + cp->length;
	c.now = bpf_ktime_get_ns();
	hold_stack(ctx, &rc);
	c.stack_id = rc.stack_id;
	c.leaf_ret = rc.leaf_ret;
	bpf_for_each_map_elem(&gmt_holders, hold_copy_cb, &c, 0);
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int gmt_hdma_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct gmt_hpend p;
	struct gmt_hproc *pr;
	__u32 tgid;

	if (!hpend_take(PEND_DMA, &gmt_hpend_dma, &p))
		return 0;	/* not a VFIO / iommufd (un)map */
	if (ctx->ret < 0)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	pr = bpf_map_lookup_elem(&gmt_hmaps, &tgid);
	if (!pr)
		return 0;	/* no guest_memfd mapped: nothing it maps is held */
	if (p.opcode == GMT_VFIO_IOMMU_MAP_DMA) {
		struct gmt_vfio_dma_map m;

		if (!GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&m, sizeof(m), (void *)p.arg)))
			dma_start(ctx, pr, GMT_HOLD_VFIO_DMA, p.fd, 0, m.vaddr, m.size, m.iova);
	} else if (p.opcode == GMT_IOMMU_IOAS_MAP) {
		struct gmt_iommu_ioas_map m;	/* iova: the kernel's choice, written back */

		if (!GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&m, sizeof(m), (void *)p.arg)))
			dma_start(ctx, pr, GMT_HOLD_IOMMUFD, p.fd, m.ioas_id, m.user_va,
				  m.length, m.iova);
	} else if (p.opcode == GMT_IOMMU_IOAS_COPY) {
		struct gmt_iommu_ioas_copy cp;	/* dst_iova: written back */

		if (pr->has_holders &&
		    !GMT_CHK(GMT_SITE_HOLD_IOV, bpf_probe_read_user(&cp, sizeof(cp), (void *)p.arg)))
			hold_copy(ctx, tgid, p.fd, &cp);
	} else if (pr->has_holders) {
		__u32 lo = p.opcode == GMT_IOMMU_IOAS_UNMAP ? p.nr : 0;

		hold_end_iova(tgid, p.fd, lo, p.opcode == GMT_IOMMU_IOAS_UNMAP ? lo + 1 : ~0U,
			      GMT_HOLD_END_UNMAP, p.iova_lo, p.iova_hi);
	}
	return 0;
}

/* a closed ring drops its buffers, a closed container or iommufd its
 * mappings (one shared with a child, or a container a group still holds,
 * lives on: then the end is early, never missed) */
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
		else if (pp->kind == PEND_DMA)
			__sync_fetch_and_sub(&gmt_hpend_dma, 1);
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
