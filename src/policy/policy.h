/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy files (docs/policy.md): YAML read by libyaml, checked key by key
 * and compiled into the fixed-size ABI of include/gmt_policy.h. What the
 * ABI cannot hold (paths, line numbers) is kept beside it for printing.
 */
#ifndef GMT_POLICY_USER_H
#define GMT_POLICY_USER_H

#include <stdio.h>
#include <linux/types.h>

#include "gmt_policy.h"

#define GMT_POLICY_MAX_FILE	(1 << 20)	/* bytes of YAML accepted */
#define GMT_POLICY_PATH_LEN	256
#define GMT_POLICY_DESC_LEN	128

struct gmt_policy_src {
	char exe[GMT_POLICY_PATH_LEN];
	char cgroup[GMT_POLICY_PATH_LEN];
	char vm_cgroup[GMT_POLICY_PATH_LEN];
	char desc[GMT_POLICY_DESC_LEN];
	unsigned int line;			/* of the rule, 1-based */
};

struct gmt_policy {
	struct gmt_policy_abi abi;
	struct gmt_policy_src src[GMT_POLICY_MAX_RULES];
};

struct gmt_policy_error {
	unsigned int line, col;			/* 1-based; 0: no position */
	char msg[320];
};

/* 0, or -1 with *e filled; *p is complete only on success */
int gmt_policy_parse(const char *buf, size_t len, struct gmt_policy *p,
		     struct gmt_policy_error *e);
int gmt_policy_load(const char *path, struct gmt_policy *p, struct gmt_policy_error *e);
/* fills abi->hdr.index from the rules (the hook's prefilter); parse calls it */
void gmt_policy_index(struct gmt_policy_abi *abi);

const char *gmt_policy_action_name(unsigned int action);
const char *gmt_policy_toctou_name(unsigned int t);
const char *gmt_policy_errno_name(unsigned int err);
void gmt_policy_print_text(FILE *f, const struct gmt_policy *p);
/* one JSON object (type "policy_rules"), newline-terminated */
int gmt_policy_print_json(FILE *f, const struct gmt_policy *p);

#endif /* GMT_POLICY_USER_H */
