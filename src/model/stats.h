/* SPDX-License-Identifier: GPL-2.0-only */
/* Snapshots of the in-kernel per-VM aggregates, and deltas between them. */
#ifndef GMT_STATS_H
#define GMT_STATS_H

#include <stdbool.h>
#include <linux/types.h>

#include "gmemtrace.h"

struct gmt_pol_live;

struct gmt_stat_row {
	struct gmt_stats_key key;
	__u32 slot;			/* the VM's stats slot */
	bool gone;			/* the VM is gone: this is its last row */
	__u64 gone_ns;			/* a keeper of totals (export): when it saw it gone */
	struct gmt_stats total;		/* since tracing started */
	struct gmt_stats delta;		/* since the previous snapshot */
};

struct gmt_stat_err {
	struct gmt_err_key key;
	__u64 total;
	__u64 delta;
};

/* kinds of holder counted apart (enum gmt_holder_kind); a higher one counts as 0 */
#define GMT_HOLDER_KINDS	8

/* a VM's holders now (stat and export with --holders: BPF's holder map) */
struct gmt_stat_holders {
	__u64 vm_id;
	__s32 vm_pid, vm_fd;
	__u64 holders;
	__u64 by_kind[GMT_HOLDER_KINDS];
	__u64 pinned_bytes;		/* guest_memfd bytes under at least one holder */
	bool gone;			/* the VM is gone (its holders with it) */
	__u64 gone_ns;			/* a keeper of totals (export): when it saw it gone */
};

struct gmt_stat_snapshot {
	__u64 real_ns;			/* wall clock of the snapshot */
	double interval_s;		/* since the previous one */
	struct gmt_stat_row *rows;
	int nr_rows;
	struct gmt_stat_err *errs;
	int nr_errs;
	__u64 *live_ids;		/* the VMs with an identity now (nr_live_vms), sorted */
	/* holders (--holders only): per VM with holders now, or with some at
	 * the previous snapshot (then 0) */
	bool holders_on;
	struct gmt_stat_holders *hvms;	/* by VM id */
	int nr_hvms;
	__u64 counters[GMT_CNT_MAX];
	__u32 *dead_slots;		/* slots of gone VMs, to recycle after the report */
	int nr_dead;
	int nr_live_vms;		/* VMs with an identity now */
	/* the policy hooks running now (src/policy/live.h), not owned here */
	const struct gmt_pol_live *pols;
	int nr_pols;			/* found; more than GMT_POL_LIVE_MAX are not read */
};

/* Read the live VM identities, then the stats array (nr_slots VMs): a slot
 * whose owner was gone before the read (an id below watermark, the next id
 * as read before, not among the live ones) is reported once more and listed
 * in dead_slots; then the rare-errno map; deltas against prev (may be NULL).
 * Rows are in VM order. */
int gmt_stats_read(int stats_fd, __u32 nr_slots, int vms_fd, __u64 watermark, int errors_fd,
		   const struct gmt_stat_snapshot *prev, struct gmt_stat_snapshot *out);
void gmt_stats_free(struct gmt_stat_snapshot *s);
/* derive delta = cur - prev (counts and histogram; max stays cumulative) */
void gmt_stats_delta(const struct gmt_stats *cur, const struct gmt_stats *prev,
		     struct gmt_stats *delta);

/* A keeper of cumulative totals (export): cur's rows and errnos into acc,
 * whose rows stay sorted by key (VM id, gen, dir) and errs by key then errno.
 * Totals only grow; a row gone or no longer read gets gone and gone_ns = now. */
int gmt_stats_accumulate(struct gmt_stat_snapshot *acc, const struct gmt_stat_snapshot *cur,
			 __u64 now);
/* drop the rows gone for expire_ns, and their errnos */
void gmt_stats_expire(struct gmt_stat_snapshot *acc, __u64 now, __u64 expire_ns);

/* the VM has an identity in the snapshot */
bool gmt_stats_vm_live(const struct gmt_stat_snapshot *s, __u64 vm_id);

/* interval percentile, never above the exact maximum */
__u64 gmt_stat_percentile(const struct gmt_stat_row *r, double p);

#endif /* GMT_STATS_H */
