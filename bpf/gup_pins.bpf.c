// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel-side pins (trace --kernel-pins, feature kernel_pins): every FOLL_PIN
 * taken or released on a guest_memfd folio, whoever asks for it (io_uring,
 * VFIO, vhost, RDMA, drivers), as holder records of kind gup_pin with the
 * task, its user stack and the kernel stack. GUP's slow path grabs each folio
 * in try_grab_folio() and every unpin path releases it in gup_put_folio();
 * guest_memfd folios always take the slow path for a long-term pin
 * (gup_fast_folio_allowed() sends file-backed folios other than shmem there).
 * On every other folio the cost is the trampoline, one flags test and two
 * reads (folio->mapping, mapping->flags).
 *
 * Linked with uapi.bpf.c and holders.bpf.c (their ring buffer, filters and
 * the holders' stack map). Targets are set by the loader from the backend
 * table (src/core/backends.c); the names in SEC() are only defaults.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "gmemtrace.h"
#include "gmt_state.bpf.h"
#include "lib/folio.bpf.h"
#include "holder_stacks.bpf.h"

/*
 * FOLL_PIN is one of mm/internal.h's private GUP flags, an anonymous enum
 * CO-RE cannot name: 1 << 19 since "mm/gup: move private gup FOLL_ flags to
 * internal.h" (Jason Gunthorpe, 6.2), on every kernel with guest_memfd.
 */
#define GMT_FOLL_PIN		(1U << 19)
#define GMT_PIN_PAGE_SHIFT	12	/* x86-64, the only architecture built */

/* the guest_memfd folio an unpin API of mm/gup.c is releasing, per task: its
 * own gup_put_folio() call, where not inlined, is then not a second unpin */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} gmt_unpinning SEC(".maps");

/* tasks with a mark in gmt_unpinning: the APIs' returns look no further
 * while there is none (the unpins of every other folio of the host) */
__u64 gmt_unpin_marked;

static __always_inline void pin_emit(void *ctx, struct folio *folio, struct address_space *m,
				     int refs, bool pin)
{
	struct gmt_folio_raw raw;
	struct gmt_event *e;

	if (gmt_filtered_out())
		return;
	e = GMT_RB_RESERVE(GMT_SITE_RB_HOLDER, &gmt_events, sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	gmt_fill_task_hdr(e, bpf_get_current_task_btf());
	e->hdr.type = pin ? GMT_EV_HOLDER_START : GMT_EV_HOLDER_END;
	e->hdr.ts_ns = bpf_ktime_get_ns();
	gmt_vm_identity(gmt_gmem_mapping_kvm(m), &e->hdr.vm_key, &e->hdr.vm_pid, &e->hdr.vm_fd);
	e->hdr.fd = -1;
	e->holder.kind = GMT_HOLD_GUP_PIN;
	e->holder.end = pin ? GMT_HOLD_END_NONE : GMT_HOLD_END_UNPIN;
	e->holder.ring_fd = -1;
	e->holder.index = refs;
	e->holder.gmem_ino = BPF_CORE_READ(m, host, i_ino);
	e->holder.gmem_offset = (__u64)BPF_CORE_READ(folio, index) << GMT_PIN_PAGE_SHIFT;
	gmt_folio_read_check(folio, &raw);
	e->holder.len = (__u64)gmt_folio_nr_pages(&raw) << GMT_PIN_PAGE_SHIFT;
	e->holder.start_ns = e->hdr.ts_ns;
	e->holder.folio = (__u64)folio;
	e->holder.id = __sync_fetch_and_add(&gmt_holder_next_id, 1);
	gmt_hold_kstacks(ctx, &e->holder.kstack_id, &e->holder.stack_id);
	/* the word at the user stack pointer, for a frameless
	 * syscall wrapper's caller */
	if (e->holder.stack_id >= 0) {
		struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());

		bpf_probe_read_user(&e->holder.leaf_ret, sizeof(e->holder.leaf_ret),
				    (void *)regs->sp);
	}
	bpf_ringbuf_submit(e, 0);
}

static __always_inline void pin_seen(void *ctx, struct folio *folio, int refs,
				     unsigned int flags, bool pin)
{
	struct address_space *m;

	if (!(flags & GMT_FOLL_PIN) || refs <= 0)
		return;	/* a FOLL_GET reference, or nothing taken */
	m = gmt_folio_gmem_mapping(folio);
	if (!m)
		return;
	if (!pin) {
		__u64 *api = bpf_task_storage_get(&gmt_unpinning, bpf_get_current_task_btf(), 0, 0);

		if (api && *api == (__u64)folio)
			return;	/* its unpin API told it already */
	}
	pin_emit(ctx, folio, m, refs, pin);
}

/* a pin taken: after the grab, so a refused one (-ENOMEM) is not a holder */
SEC("fexit/try_grab_folio")
int BPF_PROG(gmt_fx_pin, struct folio *folio, int refs, unsigned int flags, int ret)
{
	if (!ret)
		pin_seen(ctx, folio, refs, flags, true);
	return 0;
}

/* kprobe twin: at entry (its rare failures would show as pins) */
SEC("kprobe/try_grab_folio")
int BPF_KPROBE(gmt_kp_pin, struct folio *folio, int refs, unsigned int flags)
{
	pin_seen(ctx, folio, refs, flags, true);
	return 0;
}

/* a pin released: before the put, while the folio is surely still there */
SEC("fentry/gup_put_folio")
int BPF_PROG(gmt_fe_unpin, struct folio *folio, int refs, unsigned int flags)
{
	pin_seen(ctx, folio, refs, flags, false);
	return 0;
}

SEC("kprobe/gup_put_folio")
int BPF_KPROBE(gmt_kp_unpin, struct folio *folio, int refs, unsigned int flags)
{
	pin_seen(ctx, folio, refs, flags, false);
	return 0;
}

/*
 * gup-fast's grab (try_grab_folio_fast, named so by the same 6.10 commit):
 * a pin without FOLL_LONGTERM (O_DIRECT) is taken here and stays; a
 * long-term one on a guest_memfd folio is put back at once
 * (gup_fast_folio_allowed() refuses file folios other than shmem) and taken
 * again by the slow path. Both show, as a pin and its unpin: without this
 * grab the put would be an unpin of a pin never seen.
 */
SEC("fexit/try_grab_folio_fast")
int BPF_PROG(gmt_fx_pin_fast, struct page *page, int refs, unsigned int flags, struct folio *ret)
{
	if (ret)
		pin_seen(ctx, ret, refs, flags, true);
	return 0;
}

/* kprobe twin: at entry, from the page (a refused grab shows too) */
SEC("kprobe/try_grab_folio_fast")
int BPF_KPROBE(gmt_kp_pin_fast, struct page *page, int refs, unsigned int flags)
{
	struct folio *folio = (struct folio *)gmt_page_folio((__u64)page);

	if (folio)
		pin_seen(ctx, folio, refs, flags, true);
	return 0;
}

/*
 * Unpin APIs that release one folio: gup_put_folio() is static and the
 * compiler inlines it where it likes. On sw-protected-7.3, io_uring's
 * unregistration (unpin_user_folio) never reached the out-of-line copy, so
 * its unpins were not seen. These record the unpin at the API and mark the
 * folio for the task until the API returns, so an out-of-line
 * gup_put_folio() inside it is not counted twice.
 */
static __always_inline void api_unpin(void *ctx, struct folio *folio, int refs)
{
	struct address_space *m;
	__u64 *api;

	if (!folio || refs <= 0)
		return;
	m = gmt_folio_gmem_mapping(folio);
	if (!m)
		return;
	api = bpf_task_storage_get(&gmt_unpinning, bpf_get_current_task_btf(), 0,
				   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (api) {
		if (!*api)
			__sync_fetch_and_add(&gmt_unpin_marked, 1);
		*api = (__u64)folio;
	}
	pin_emit(ctx, folio, m, refs, false);
}

static __always_inline void api_unpin_done(void)
{
	__u64 *api;

	if (!gmt_unpin_marked)
		return;	/* every other unpin of the host: one load */
	api = bpf_task_storage_get(&gmt_unpinning, bpf_get_current_task_btf(), 0, 0);
	if (api && *api) {
		*api = 0;
		__sync_fetch_and_add(&gmt_unpin_marked, -1);
	}
}

/* 6.13, "mm: add unpin_user_folio" (io_uring's buffers, memfd_pin_folios) */
SEC("fentry/unpin_user_folio")
int BPF_PROG(gmt_fe_unpin_uf, struct folio *folio, unsigned long npages)
{
	api_unpin(ctx, folio, (int)npages);
	return 0;
}

SEC("fexit/unpin_user_folio")
int BPF_PROG(gmt_fx_unpin_uf)
{
	api_unpin_done();
	return 0;
}

SEC("kprobe/unpin_user_folio")
int BPF_KPROBE(gmt_kp_unpin_uf, struct folio *folio, unsigned long npages)
{
	api_unpin(ctx, folio, (int)npages);
	return 0;
}

SEC("kretprobe/unpin_user_folio")
int BPF_KRETPROBE(gmt_kr_unpin_uf)
{
	api_unpin_done();
	return 0;
}

/* 6.11, "mm/gup: introduce memfd_pin_folios() for pinning memfd folios" */
SEC("fentry/unpin_folio")
int BPF_PROG(gmt_fe_unpin_f, struct folio *folio)
{
	api_unpin(ctx, folio, 1);
	return 0;
}

SEC("fexit/unpin_folio")
int BPF_PROG(gmt_fx_unpin_f)
{
	api_unpin_done();
	return 0;
}

SEC("kprobe/unpin_folio")
int BPF_KPROBE(gmt_kp_unpin_f, struct folio *folio)
{
	api_unpin(ctx, folio, 1);
	return 0;
}

SEC("kretprobe/unpin_folio")
int BPF_KRETPROBE(gmt_kr_unpin_f)
{
	api_unpin_done();
	return 0;
}

/* 5.6, "mm/gup: introduce pin_user_pages*() and FOLL_PIN" */
SEC("fentry/unpin_user_page")
int BPF_PROG(gmt_fe_unpin_up, struct page *page)
{
	__u64 addr = 0;

	/* the address as a plain number: gmt_page_folio masks it, and the
	 * verifier refuses math on a trusted pointer ("math between
	 * trusted_ptr_ pointer and register with unbounded min value is not
	 * allowed": EINVAL at load on 6.12, 7.2 and 7.3) */
	bpf_probe_read_kernel(&addr, sizeof(addr), &ctx[0]);
	api_unpin(ctx, (struct folio *)gmt_page_folio(addr), 1);
	return 0;
}

SEC("fexit/unpin_user_page")
int BPF_PROG(gmt_fx_unpin_up)
{
	api_unpin_done();
	return 0;
}

SEC("kprobe/unpin_user_page")
int BPF_KPROBE(gmt_kp_unpin_up, struct page *page)
{
	api_unpin(ctx, (struct folio *)gmt_page_folio((__u64)page), 1);
	return 0;
}

SEC("kretprobe/unpin_user_page")
int BPF_KRETPROBE(gmt_kr_unpin_up)
{
	api_unpin_done();
	return 0;
}
