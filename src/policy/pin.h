/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `enforce --pin` / `--unpin` (docs/policy.md, "Pinning"): the policy hook's
 * link, its program, the links of the programs its decisions depend on (VM
 * identity, the TOCTOU check) and the maps they decide and count with,
 * pinned in bpffs under GMT_PIN_DIR, so the veto outlives gmemtrace (a
 * SIGKILL, a restart). A pinned set present is never adopted: `enforce
 * --pin` refuses until `enforce --unpin` removed it.
 */
#ifndef GMT_POLICY_PIN_H
#define GMT_POLICY_PIN_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#define GMT_BPFFS		"/sys/fs/bpf"
#define GMT_PIN_DIR		GMT_BPFFS "/gmemtrace"
#define GMT_PIN_LINK		"link"		/* keeps the hook attached */
#define GMT_PIN_DEP_LINK	"link_"		/* + program: a dependency's link */

struct gmemtrace_bpf;

/* bpffs on GMT_BPFFS, mounted if it is not: 0, or -errno with why */
int gmt_pin_bpffs(char *why, size_t len);

/* how many entries are pinned under dir (0: none or no dir), or -errno */
int gmt_pin_count(const char *dir);

/* what gmt_pin_policy pinned besides the hook */
struct gmt_pin_done {
	int dep_links;		/* links of the programs the hook depends on */
	bool vm_release;	/* a VM's identity ends with the VM (else: at reuse) */
};

/* Pin the hook prog (its link, the program), the links of the attached
 * programs its decisions depend on and the maps, under dir. 0, or -errno
 * with why, and nothing left pinned. */
int gmt_pin_policy(struct gmemtrace_bpf *skel, const char *prog, const char *dir,
		   struct gmt_pin_done *done, char *why, size_t len);

#define GMT_UNPIN_MAX		64	/* entries named; more are counted */

/* what gmt_unpin did: entry names (not paths), and the failures */
struct gmt_unpin_result {
	int nr_removed, nr_failed;	/* may exceed GMT_UNPIN_MAX */
	bool dir_removed;		/* the directory too */
	char removed[GMT_UNPIN_MAX][NAME_MAX + 1];
	struct {
		char name[NAME_MAX + 1];
		int err;		/* errno */
	} failed[GMT_UNPIN_MAX];
	int dir_err;			/* errno of opening or removing dir; 0 */
};

/* Remove every entry under dir and dir itself, into res: the number
 * removed, or -errno (what could be removed was, and is in res). */
int gmt_unpin(const char *dir, struct gmt_unpin_result *res);

#endif /* GMT_POLICY_PIN_H */
