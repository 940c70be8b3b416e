// SPDX-License-Identifier: GPL-2.0-only
/* A rule's selectors (match:): the caller, the VM, the conversion. */
#include <string.h>

#include "gmemtrace.h"
#include "policy_int.h"

static int m_comm(struct pctx *c, yaml_node_t *v)
{
	c->rule->match |= GMT_PM_COMM;
	return pstring(c, v, "comm", c->rule->comm, sizeof(c->rule->comm));
}

static int m_pid(struct pctx *c, yaml_node_t *v)
{
	unsigned long long pid;

	c->rule->match |= GMT_PM_PID;
	if (pu64(c, v, "pid", 1, 4194304, &pid))
		return -1;
	c->rule->pid = (__u32)pid;
	return 0;
}

static int m_exe(struct pctx *c, yaml_node_t *v)
{
	c->rule->match |= GMT_PM_EXE;
	return pexe(c, v);
}

static int m_cgroup(struct pctx *c, yaml_node_t *v)
{
	c->rule->match |= GMT_PM_CGROUP;
	return pcgroup(c, v, c->src->cgroup, sizeof(c->src->cgroup), &c->rule->cgroup,
		       &c->rule->cgroup_level);
}

static int m_uid(struct pctx *c, yaml_node_t *v)
{
	unsigned long long uid;

	c->rule->match |= GMT_PM_UID;
	/* (uid_t)-1 is "no uid" to the kernel */
	if (pu64(c, v, "uid", 0, 0xfffffffe, &uid))
		return -1;
	c->rule->uid = (__u32)uid;
	return 0;
}

static int vm_pid(struct pctx *c, yaml_node_t *v)
{
	unsigned long long pid;

	c->rule->match |= GMT_PM_VM_PID;
	if (pu64(c, v, "vm creator_pid", 1, 4194304, &pid))
		return -1;
	c->rule->vm_pid = (__u32)pid;
	return 0;
}

static int vm_cgroup(struct pctx *c, yaml_node_t *v)
{
	c->rule->match |= GMT_PM_VM_CGROUP;
	return pcgroup(c, v, c->src->vm_cgroup, sizeof(c->src->vm_cgroup), &c->rule->vm_cgroup,
		       &c->rule->vm_cgroup_level);
}

static const char *const bool_names[] = { "false", "true", NULL };

static int vm_caller(struct pctx *c, yaml_node_t *v)
{
	unsigned int b;

	c->rule->match |= GMT_PM_VM_OWNER;
	if (penum(c, v, "vm caller_is_creator", bool_names, &b))
		return -1;
	c->rule->vm_owner = (__u8)b;
	return 0;
}

static const struct pkey vm_keys[] = {
	{ "creator_pid", vm_pid },
	{ "creator_cgroup", vm_cgroup },
	{ "caller_is_creator", vm_caller },
	{ NULL, NULL },
};

static int m_vm(struct pctx *c, yaml_node_t *v)
{
	unsigned int seen;

	if (pwalk(c, v, "vm", vm_keys, &seen))
		return -1;
	return seen ? 0 : perr(c, v, "vm: give creator_pid, creator_cgroup or caller_is_creator");
}

/* index = enum gmt_gen; "" is GMT_GEN_NONE, never a selector */
static const char *const gen_names[] = { "", "g1", "g2", "g3", NULL };
static const char *const dir_names[] = { "to_shared", "to_private", NULL };

static int m_uapi(struct pctx *c, yaml_node_t *v)
{
	unsigned int m;

	c->rule->match |= GMT_PM_GEN;
	if (pmask(c, v, "uapi", gen_names, &m))
		return -1;
	c->rule->gens = (__u8)m;
	return 0;
}

static int m_dir(struct pctx *c, yaml_node_t *v)
{
	unsigned int m;

	c->rule->match |= GMT_PM_DIR;
	if (pmask(c, v, "direction", dir_names, &m))
		return -1;
	c->rule->dirs = (__u8)m;
	return 0;
}

static const struct pkey match_keys[] = {
	{ "comm", m_comm },
	{ "pid", m_pid },
	{ "exe", m_exe },
	{ "cgroup", m_cgroup },
	{ "uid", m_uid },
	{ "vm", m_vm },
	{ "uapi", m_uapi },
	{ "direction", m_dir },
	{ "range", prange },
	{ "size", psize },
	{ "rate", prate },
	{ NULL, NULL },
};

/* a range in G1's address space cannot match a rule limited to G2/G3 */
static int check_consistent(struct pctx *c, yaml_node_t *v)
{
	struct gmt_policy_rule *r = c->rule;
	unsigned int want;

	if (!(r->match & GMT_PM_RANGE) || !(r->match & GMT_PM_GEN))
		return 0;
	want = r->range_space == GMT_PR_GPA ? 1u << GMT_GEN_G1 :
		(1u << GMT_GEN_G2) | (1u << GMT_GEN_G3);
	if (!(r->gens & want))
		return perr(c, v, "this rule can never match: a %s range with uapi limited "
			    "to other generations", r->range_space == GMT_PR_GPA ?
			    "gpa (G1)" : "offset (G2/G3)");
	return 0;
}

int pmatch(struct pctx *c, yaml_node_t *v)
{
	unsigned int seen;

	if (pwalk(c, v, "match", match_keys, &seen))
		return -1;
	return check_consistent(c, v);
}
