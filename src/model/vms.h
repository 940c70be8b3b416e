/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The lifetime of VM identities, user-space half. A VM's identity starts at
 * its KVM_CREATE_VM (or first sight) in BPF and ends when gmemtrace learns
 * it is gone: in BPF when the kernel reuses its struct kvm address for a new
 * VM, or here, when a sweep finds no file of any process referring to it.
 * Its stats slot is reported one last time and then recycled.
 */
#ifndef GMT_VMS_H
#define GMT_VMS_H

#include <linux/types.h>

#include "gmemtrace.h"

struct gmt_session;
struct gmt_stat_snapshot;

/* called for each VM the sweep found gone, with a vm_gone event */
typedef void (*gmt_vm_gone_fn)(void *ctx, const struct gmt_event *e);

/*
 * Drop the VMs no file refers to any more. At most once per min_gap_ns
 * (0: now). Returns the number dropped, or -errno.
 */
int gmt_vms_sweep(struct gmt_session *s, __u64 min_gap_ns, gmt_vm_gone_fn gone, void *ctx);

/* Give the slots of gone VMs (snap->dead_slots, after their last report)
 * back to BPF, zeroed. */
int gmt_vms_recycle_slots(struct gmt_session *s, const struct gmt_stat_snapshot *snap);

/* Read a stats snapshot of the session (sweeping first), deltas against prev. */
int gmt_vms_stats_read(struct gmt_session *s, const struct gmt_stat_snapshot *prev,
		       struct gmt_stat_snapshot *out);

/* End of tracing: report guest requests still open, as incomplete. */
int gmt_vms_flush_guest_requests(struct gmt_session *s);

#endif /* GMT_VMS_H */
