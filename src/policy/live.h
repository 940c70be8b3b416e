/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The policy hooks running now, found from the kernel (BPF_LINK_GET_NEXT_ID:
 * a link whose program is gmt_pol_lsm or gmt_pol_fmod), whether an `enforce`
 * process holds them or a pin (pin.h) does: their live rules and per-rule
 * hit and deny counters, for `stat`. Nothing of gmemtrace has to run.
 */
#ifndef GMT_POLICY_LIVE_H
#define GMT_POLICY_LIVE_H

#include <stdbool.h>
#include <linux/types.h>

#include "gmt_policy.h"

#define GMT_POL_LIVE_MAX	4	/* hooks reported; more are counted */

struct gmt_pol_rule_count {
	__u32 id;		/* 0: the default action */
	__u8 action;		/* enum gmt_pol_action */
	__u64 hits, denies;	/* since the policy was loaded or reloaded */
};

struct gmt_pol_live {
	__u32 link_id, prog_id;
	char prog[16];		/* gmt_pol_lsm or gmt_pol_fmod */
	bool pinned;		/* its link is the one pinned at GMT_PIN_DIR */
	bool readable;		/* its maps are laid out as this gmemtrace's */
	__u8 mode;		/* enum gmt_pol_mode */
	__u32 nr_rules;
	/* the rules, then the default at [nr_rules] */
	struct gmt_pol_rule_count rules[GMT_POLICY_MAX_RULES + 1];
};

struct gmemtrace_bpf;

/*
 * Fill up to GMT_POL_LIVE_MAX hooks into out (self: this process's own
 * skeleton, whose .bss/.rodata layout tells where gmt_pol_active and
 * cfg_pol_mode are; NULL: hooks only, no rules). The number of hooks found
 * (possibly more than filled), or -errno.
 */
int gmt_pol_live_read(const struct gmemtrace_bpf *self, struct gmt_pol_live *out);

#endif /* GMT_POLICY_LIVE_H */
