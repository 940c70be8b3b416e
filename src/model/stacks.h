/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * User stacks of holders, symbolized with elfutils' libdwfl against the
 * process's own mappings (/proc/PID/maps), so while it still runs: a holder
 * is symbolized when its start record is read.
 */
#ifndef GMT_STACKS_H
#define GMT_STACKS_H

#include <linux/types.h>

#define GMT_STACK_DEPTH		127
#define GMT_FRAME_LEN		160

struct gmt_stack_frame {
	__u64 ip;
	char sym[GMT_FRAME_LEN];	/* "do_pin+0x8c[gmem-workload]", or "" unknown */
};

struct gmt_stack {
	int nr;
	struct gmt_stack_frame f[GMT_STACK_DEPTH + 1];
};

/*
 * Read stack `id` of process `pid` from the stack map `map_fd` and symbolize
 * it. `leaf_ret` is the word at the user stack pointer: inserted as the
 * second frame when it is code and the walk skipped it (a frameless syscall
 * wrapper's caller). Returns 0, or a negative errno (frames stay 0).
 */
int gmt_stack_resolve(struct gmt_stack *st, int map_fd, __u32 pid, __s32 id, __u64 leaf_ret);

#endif /* GMT_STACKS_H */
