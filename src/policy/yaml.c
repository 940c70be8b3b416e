// SPDX-License-Identifier: GPL-2.0-only
/* The walk over libyaml's document: keys checked against tables, scalars
 * converted with their position kept for the error message. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <linux/magic.h>

#include "parse.h"
#include "policy_int.h"

int perr(struct pctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	/* the first error is the one reported */
	if (c->e->msg[0])
		return -1;
	c->e->line = n ? (unsigned int)n->start_mark.line + 1 : 0;
	c->e->col = n ? (unsigned int)n->start_mark.column + 1 : 0;
	va_start(ap, fmt);
	vsnprintf(c->e->msg, sizeof(c->e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static void key_list(const struct pkey *keys, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; keys[i].name && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "", keys[i].name);
}

int pwalk(struct pctx *c, yaml_node_t *map, const char *what, const struct pkey *keys,
	  unsigned int *seen)
{
	yaml_node_pair_t *pair;
	char known[160];
	int i;

	*seen = 0;
	if (map->type != YAML_MAPPING_NODE)
		return perr(c, map, "%s must be a mapping (key: value)", what);
	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(c->doc, pair->value);

		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return perr(c, k, "%s: keys must be plain words", what);
		for (i = 0; keys[i].name; i++)
			if (!strcmp((const char *)k->data.scalar.value, keys[i].name))
				break;
		if (!keys[i].name) {
			key_list(keys, known, sizeof(known));
			return perr(c, k, "unknown key '%.40s' in %s (known: %s)",
				    (const char *)k->data.scalar.value, what, known);
		}
		if (*seen & (1u << i))
			return perr(c, k, "duplicate key '%s' in %s", keys[i].name, what);
		*seen |= 1u << i;
		if (keys[i].fn(c, v))
			return -1;
	}
	return 0;
}

const char *pscalar(struct pctx *c, yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE) {
		perr(c, n, "%s must be a single value", what);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

int pu64(struct pctx *c, yaml_node_t *n, const char *what, unsigned long long min,
	 unsigned long long max, unsigned long long *out)
{
	const char *s = pscalar(c, n, what);

	if (!s)
		return -1;
	/* sizes and addresses take K/M/G; a leading digit keeps out "-1" */
	if (!isdigit((unsigned char)s[0]) || gmt_parse_size(s, out))
		return perr(c, n, "%s: '%.40s' is not a number (decimal, 0x hex, K/M/G)", what, s);
	if (*out < min || *out > max)
		return perr(c, n, "%s: %llu is out of range (%llu..%llu)", what, *out, min, max);
	return 0;
}

int penum(struct pctx *c, yaml_node_t *n, const char *what, const char *const *names,
	  unsigned int *out)
{
	const char *s = pscalar(c, n, what);
	char known[160];
	size_t off = 0;
	unsigned int i;

	if (!s)
		return -1;
	for (i = 0; names[i]; i++) {
		if (names[i][0] && !strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
		if (names[i][0] && off < sizeof(known))
			off += snprintf(known + off, sizeof(known) - off, "%s%s",
					off ? ", " : "", names[i]);
	}
	return perr(c, n, "%s: '%.40s' is not one of: %s", what, s, known);
}

int pmask(struct pctx *c, yaml_node_t *n, const char *what, const char *const *names,
	  unsigned int *out)
{
	yaml_node_item_t *it;
	unsigned int i;

	*out = 0;
	if (n->type == YAML_SCALAR_NODE) {
		if (penum(c, n, what, names, &i))
			return -1;
		*out = 1u << i;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(c, n, "%s must be a value or a list of values", what);
	if (n->data.sequence.items.start == n->data.sequence.items.top)
		return perr(c, n, "%s: empty list (leave the selector out to match all)", what);
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *e = yaml_document_get_node(c->doc, *it);

		if (!e || penum(c, e, what, names, &i))
			return e ? -1 : perr(c, n, "%s: bad list", what);
		if (*out & (1u << i))
			return perr(c, e, "%s: '%s' given twice", what, names[i]);
		*out |= 1u << i;
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned int nr;
} errnos[] = {
	{ "EPERM", EPERM }, { "EACCES", EACCES }, { "EBUSY", EBUSY }, { "EAGAIN", EAGAIN },
	{ "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "ENOMEM", ENOMEM }, { "EIO", EIO },
	{ "EFAULT", EFAULT }, { "EDQUOT", EDQUOT }, { "ECANCELED", ECANCELED },
	{ "EOPNOTSUPP", EOPNOTSUPP },
};

const char *gmt_policy_errno_name(unsigned int err)
{
	size_t i;

	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].nr == err)
			return errnos[i].name;
	return NULL;
}

int perrno(struct pctx *c, yaml_node_t *n, unsigned int *out)
{
	const char *s = pscalar(c, n, "errno");
	unsigned long long v;
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++) {
		if (!strcmp(s, errnos[i].name)) {
			*out = errnos[i].nr;
			return 0;
		}
	}
	if (!isdigit((unsigned char)s[0]))
		return perr(c, n, "errno: '%.40s' is not a known name (EPERM, EACCES, EBUSY, "
			    "EAGAIN, EINVAL, ENOSPC, ...) or a number", s);
	if (pu64(c, n, "errno", 1, GMT_POLICY_MAX_ERRNO, &v))
		return -1;
	*out = (unsigned int)v;
	return 0;
}

int pstring(struct pctx *c, yaml_node_t *n, const char *what, char *buf, size_t len)
{
	const char *s = pscalar(c, n, what);
	size_t l, i;

	if (!s)
		return -1;
	l = n->data.scalar.length;
	if (!l || l >= len || strlen(s) != l)
		return perr(c, n, "%s: %s (1..%zu characters, no NUL)", what,
			    l ? "too long or holds a NUL" : "empty", len - 1);
	/* printed as is by policy check: no terminal controls (C0, DEL, C1) */
	for (i = 0; i < l; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f ||
		    (ch == 0xc2 && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f))
			return perr(c, n, "%s: control characters are not allowed", what);
	}
	memcpy(buf, s, l + 1);
	return 0;
}

/* depth below the cgroup2 root: bpf_get_current_ancestor_cgroup_id()'s level */
static int cgroup_depth(char *path, __u8 *level)
{
	struct statfs sfs;
	int depth = 0;
	char *slash;

	while ((slash = strrchr(path, '/')) && slash != path) {
		*slash = 0;
		if (statfs(path, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
			break;
		depth++;
	}
	if (depth > 255)
		return -1;
	*level = (__u8)depth;
	return 0;
}

int pcgroup(struct pctx *c, yaml_node_t *n, char *path, size_t len, __u64 *id, __u8 *level)
{
	char real[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (pstring(c, n, "cgroup", path, len))
		return -1;
	if (!realpath(path, real) || stat(real, &st))
		return perr(c, n, "cgroup '%s' cannot be compiled: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode) || statfs(real, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return perr(c, n, "cgroup '%s' is not a cgroup v2 directory "
			    "(e.g. /sys/fs/cgroup/machine.slice)", path);
	if (cgroup_depth(real, level))
		return perr(c, n, "cgroup '%s' is nested too deep", path);
	*id = st.st_ino;	/* a cgroup v2 id is its directory's inode */
	return 0;
}

int pexe(struct pctx *c, yaml_node_t *n)
{
	struct stat st;

	if (pstring(c, n, "exe", c->src->exe, sizeof(c->src->exe)))
		return -1;
	if (c->src->exe[0] != '/')
		return perr(c, n, "exe '%s' must be an absolute path", c->src->exe);
	/* BPF compares the executable's inode: the file must exist now */
	if (stat(c->src->exe, &st))
		return perr(c, n, "exe '%s' cannot be compiled: %s", c->src->exe, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return perr(c, n, "exe '%s' is not a regular file", c->src->exe);
	c->rule->exe_dev = ((__u64)major(st.st_dev) << 20) | minor(st.st_dev);
	c->rule->exe_ino = st.st_ino;
	return 0;
}
