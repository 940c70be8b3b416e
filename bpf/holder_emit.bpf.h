/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A tracked holder's start or end record, from its holder-map value (the
 * syscall holders of holders.bpf.c, iommu_maps.bpf.c's IOMMU mappings).
 */
#ifndef GMT_HOLDER_EMIT_BPF_H
#define GMT_HOLDER_EMIT_BPF_H

static __always_inline void gmt_hold_emit(const struct gmt_hval *v, __u16 type, __u8 end, __u64 now)
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

#endif /* GMT_HOLDER_EMIT_BPF_H */
