/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Holders per VM for stat and export (--holders): BPF's holder map, the
 * holders alive now, read into the live-holder table (holders.h) and summed
 * per VM: how many of each kind, and the guest_memfd bytes they pin (each
 * byte once, however many holders cover it).
 */
#ifndef GMT_HOLDERS_VMS_H
#define GMT_HOLDERS_VMS_H

#include <linux/types.h>

#include "stats.h"

/*
 * Read the holder map (values struct gmt_hval) into out->hvms, sorted by VM
 * id. A VM that had holders in prev (may be NULL) and has none now gets a
 * row of zeros, gone when its identity is (out->live_ids, read first).
 * Returns 0 or -errno.
 */
int gmt_holders_vms_read(int map_fd, const struct gmt_stat_snapshot *prev,
			 struct gmt_stat_snapshot *out);

/* t's holders summed into out->hvms, one row per VM, unsorted (part of the read) */
struct gmt_holders;
int gmt_holders_sum_vms(const struct gmt_holders *t, struct gmt_stat_snapshot *out);

/* export's keeper: cur's rows into acc (a row not read again reads 0 and is
 * gone once its VM is), and the rows gone for expire_ns dropped */
int gmt_holders_vms_accumulate(struct gmt_stat_snapshot *acc,
			       const struct gmt_stat_snapshot *cur, __u64 now);
void gmt_holders_vms_expire(struct gmt_stat_snapshot *acc, __u64 now, __u64 expire_ns);

#endif /* GMT_HOLDERS_VMS_H */
