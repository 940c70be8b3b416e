/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the policy parser's files: the walk over libyaml's document. */
#ifndef GMT_POLICY_INT_H
#define GMT_POLICY_INT_H

#include <stdbool.h>
#include <yaml.h>

#include "policy.h"

struct pctx {
	yaml_document_t *doc;
	struct gmt_policy *p;
	struct gmt_policy_error *e;
	struct gmt_policy_rule *rule;		/* being filled */
	struct gmt_policy_src *src;
};

/* a key of a mapping and what reads its value; obj is the walk's target */
struct pkey {
	const char *name;
	int (*fn)(struct pctx *c, yaml_node_t *v);
};

int perr(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* every key known, none twice; calls each key's fn. *seen gets a bit per key */
int pwalk(struct pctx *c, yaml_node_t *map, const char *what, const struct pkey *keys,
	  unsigned int *seen);
const char *pscalar(struct pctx *c, yaml_node_t *n, const char *what);
int pu64(struct pctx *c, yaml_node_t *n, const char *what, unsigned long long min,
	 unsigned long long max, unsigned long long *out);
/* index of the value in names[] (NULL-terminated) */
int penum(struct pctx *c, yaml_node_t *n, const char *what, const char *const *names,
	  unsigned int *out);
/* a scalar or a sequence of them, as a bit mask of names[] indexes */
int pmask(struct pctx *c, yaml_node_t *n, const char *what, const char *const *names,
	  unsigned int *out);
int perrno(struct pctx *c, yaml_node_t *n, unsigned int *out);
int pstring(struct pctx *c, yaml_node_t *n, const char *what, char *buf, size_t len);
/* a cgroup v2 directory: id (inode) and depth below the root */
int pcgroup(struct pctx *c, yaml_node_t *n, char *path, size_t len, __u64 *id, __u8 *level);
int pexe(struct pctx *c, yaml_node_t *n);

/* selectors of a rule's match: (src/policy/select.c) */
int pmatch(struct pctx *c, yaml_node_t *v);
/* the conversion's range, size, rate (src/policy/select_conv.c) */
int prange(struct pctx *c, yaml_node_t *v);
int psize(struct pctx *c, yaml_node_t *v);
int prate(struct pctx *c, yaml_node_t *v);

#endif /* GMT_POLICY_INT_H */
