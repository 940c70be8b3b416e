/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `enforce --pin` / `--unpin` (docs/policy.md, "Pinning"): the policy hook's
 * link, its program and the maps it decides and counts with, pinned in
 * bpffs under GMT_PIN_DIR, so the veto outlives gmemtrace (a SIGKILL, a
 * restart). A pinned set present is never adopted: `enforce --pin` refuses
 * until `enforce --unpin` removed it.
 */
#ifndef GMT_POLICY_PIN_H
#define GMT_POLICY_PIN_H

#include <stdbool.h>
#include <stdio.h>

#define GMT_BPFFS		"/sys/fs/bpf"
#define GMT_PIN_DIR		GMT_BPFFS "/gmemtrace"
#define GMT_PIN_LINK		"link"		/* keeps the hook attached */

struct gmemtrace_bpf;

/* bpffs on GMT_BPFFS, mounted if it is not: 0, or -errno with why */
int gmt_pin_bpffs(char *why, size_t len);

/* how many entries are pinned under dir (0: none or no dir), or -errno */
int gmt_pin_count(const char *dir);

/* Pin the hook prog (its link, the program, the policy's maps) under dir.
 * 0, or -errno with why, and nothing left pinned. */
int gmt_pin_hook(struct gmemtrace_bpf *skel, const char *prog, const char *dir,
		 char *why, size_t len);

/* Remove every entry under dir and dir itself, one line each on report:
 * the number removed, or -errno (what could be removed was). */
int gmt_unpin(const char *dir, FILE *report);

#endif /* GMT_POLICY_PIN_H */
