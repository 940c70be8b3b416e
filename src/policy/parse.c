// SPDX-License-Identifier: GPL-2.0-only
/* A policy file: version, default action, the ordered rules (first match
 * wins). Read by libyaml's loader, compiled into struct gmt_policy_abi. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "policy_int.h"

static const char *const action_names[] = { "allow", "deny", "audit", NULL };

const char *gmt_policy_action_name(unsigned int action)
{
	return action < GMT_PA_MAX ? action_names[action] : "?";
}

static int top_version(struct pctx *c, yaml_node_t *v)
{
	unsigned long long ver;

	return pu64(c, v, "version", GMT_POLICY_VERSION, GMT_POLICY_VERSION, &ver);
}

static int top_default(struct pctx *c, yaml_node_t *v)
{
	unsigned int a;

	if (penum(c, v, "default", action_names, &a))
		return -1;
	c->p->abi.hdr.default_action = (__u8)a;
	return 0;
}

static int top_default_errno(struct pctx *c, yaml_node_t *v)
{
	unsigned int err;

	if (perrno(c, v, &err))
		return -1;
	c->p->abi.hdr.default_err = (__u16)err;
	return 0;
}

static const char *const toctou_names[] = { "report", "kill", NULL };

const char *gmt_policy_toctou_name(unsigned int t)
{
	return t < GMT_PTOCTOU_MAX ? toctou_names[t] : "?";
}

static int top_toctou(struct pctx *c, yaml_node_t *v)
{
	unsigned int t;

	if (penum(c, v, "toctou", toctou_names, &t))
		return -1;
	c->p->abi.hdr.toctou = (__u8)t;
	return 0;
}

static int rule_id(struct pctx *c, yaml_node_t *v)
{
	unsigned long long id;
	unsigned int i;

	if (pu64(c, v, "id", 1, 0x7fffffff, &id))
		return -1;
	for (i = 0; i < c->p->abi.hdr.nr_rules; i++)
		if (c->p->abi.rules[i].id == id)
			return perr(c, v, "id %llu is already the id of the rule at line %u",
				    id, c->p->src[i].line);
	c->rule->id = (__u32)id;
	return 0;
}

static int rule_desc(struct pctx *c, yaml_node_t *v)
{
	return pstring(c, v, "description", c->src->desc, sizeof(c->src->desc));
}

static int rule_action(struct pctx *c, yaml_node_t *v)
{
	unsigned int a;

	if (penum(c, v, "action", action_names, &a))
		return -1;
	c->rule->action = (__u8)a;
	return 0;
}

static int rule_errno(struct pctx *c, yaml_node_t *v)
{
	unsigned int err;

	if (perrno(c, v, &err))
		return -1;
	c->rule->err = (__u16)err;
	return 0;
}

enum { RK_ID, RK_DESC, RK_ACTION, RK_ERRNO, RK_MATCH };

static const struct pkey rule_keys[] = {
	[RK_ID] = { "id", rule_id },
	[RK_DESC] = { "description", rule_desc },
	[RK_ACTION] = { "action", rule_action },
	[RK_ERRNO] = { "errno", rule_errno },
	[RK_MATCH] = { "match", pmatch },
	{ NULL, NULL },
};

static int one_rule(struct pctx *c, yaml_node_t *n)
{
	unsigned int seen, i = c->p->abi.hdr.nr_rules;

	if (i >= GMT_POLICY_MAX_RULES)
		return perr(c, n, "too many rules: at most %d", GMT_POLICY_MAX_RULES);
	c->rule = &c->p->abi.rules[i];
	c->src = &c->p->src[i];
	c->src->line = (unsigned int)n->start_mark.line + 1;
	if (pwalk(c, n, "a rule", rule_keys, &seen))
		return -1;
	if (!(seen & (1u << RK_ID)))
		return perr(c, n, "a rule needs an id");
	if (!(seen & (1u << RK_ACTION)))
		return perr(c, n, "rule %u needs an action (allow, deny, audit)", c->rule->id);
	if ((seen & (1u << RK_ERRNO)) && c->rule->action != GMT_PA_DENY)
		return perr(c, n, "rule %u: errno is only for action deny", c->rule->id);
	if (c->rule->action == GMT_PA_DENY && !c->rule->err)
		c->rule->err = EPERM;
	c->p->abi.hdr.nr_rules++;
	return 0;
}

static int top_rules(struct pctx *c, yaml_node_t *v)
{
	yaml_node_item_t *it;

	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, v, "rules must be a list (- id: ...)");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		yaml_node_t *r = yaml_document_get_node(c->doc, *it);

		if (!r)
			return perr(c, v, "rules: bad list");
		if (one_rule(c, r))
			return -1;
	}
	return 0;
}

enum { TK_VERSION, TK_DEFAULT, TK_DEFAULT_ERRNO, TK_RULES, TK_TOCTOU };

static const struct pkey top_keys[] = {
	[TK_VERSION] = { "version", top_version },
	[TK_DEFAULT] = { "default", top_default },
	[TK_DEFAULT_ERRNO] = { "default_errno", top_default_errno },
	[TK_RULES] = { "rules", top_rules },
	[TK_TOCTOU] = { "toctou", top_toctou },
	{ NULL, NULL },
};

static int compile(struct pctx *c, yaml_node_t *root)
{
	struct gmt_policy_hdr *h = &c->p->abi.hdr;
	unsigned int seen, i;

	if (pwalk(c, root, "the policy", top_keys, &seen))
		return -1;
	if (!(seen & (1u << TK_VERSION)))
		return perr(c, root, "the policy needs 'version: %d'", GMT_POLICY_VERSION);
	if (!(seen & (1u << TK_DEFAULT)))
		return perr(c, root, "the policy needs a default action (default: allow|deny|audit)");
	if ((seen & (1u << TK_DEFAULT_ERRNO)) && h->default_action != GMT_PA_DENY)
		return perr(c, root, "default_errno is only for 'default: deny'");
	if (h->default_action == GMT_PA_DENY && !h->default_err)
		h->default_err = EPERM;
	h->match_any = 0;
	for (i = 0; i < h->nr_rules; i++)
		h->match_any |= c->p->abi.rules[i].match;
	gmt_policy_index(&c->p->abi);
	h->version = GMT_POLICY_VERSION;
	return 0;
}

static void yaml_error(yaml_parser_t *parser, struct gmt_policy_error *e)
{
	const yaml_mark_t *m = parser->problem ? &parser->problem_mark : &parser->context_mark;

	e->line = (unsigned int)m->line + 1;
	e->col = (unsigned int)m->column + 1;
	snprintf(e->msg, sizeof(e->msg), "YAML: %s%s%s",
		 parser->problem ? parser->problem : "cannot be read",
		 parser->context ? " " : "", parser->context ? parser->context : "");
}

/* the loader's document, one only; 0 or -1 with *e filled */
static int load_doc(yaml_parser_t *parser, yaml_document_t *doc, struct gmt_policy_error *e)
{
	yaml_document_t next;
	yaml_node_t *root;
	int more;

	if (!yaml_parser_load(parser, doc)) {
		yaml_error(parser, e);
		return -1;
	}
	root = yaml_document_get_root_node(doc);
	if (!root) {
		snprintf(e->msg, sizeof(e->msg), "empty policy (it needs version, default, rules)");
		yaml_document_delete(doc);
		return -1;
	}
	if (!yaml_parser_load(parser, &next)) {
		yaml_error(parser, e);
		yaml_document_delete(doc);
		return -1;
	}
	more = yaml_document_get_root_node(&next) != NULL;
	if (more) {
		e->line = (unsigned int)next.start_mark.line + 1;
		e->col = (unsigned int)next.start_mark.column + 1;
		snprintf(e->msg, sizeof(e->msg), "one YAML document only");
		yaml_document_delete(doc);
	}
	yaml_document_delete(&next);
	return more ? -1 : 0;
}

int gmt_policy_parse(const char *buf, size_t len, struct gmt_policy *p,
		     struct gmt_policy_error *e)
{
	struct pctx c = { .p = p, .e = e };
	yaml_parser_t parser;
	yaml_document_t doc;
	int err;

	memset(p, 0, sizeof(*p));
	memset(e, 0, sizeof(*e));
	if (len > GMT_POLICY_MAX_FILE) {
		snprintf(e->msg, sizeof(e->msg), "larger than %d bytes", GMT_POLICY_MAX_FILE);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(e->msg, sizeof(e->msg), "out of memory");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	err = load_doc(&parser, &doc, e);
	if (!err) {
		c.doc = &doc;
		err = compile(&c, yaml_document_get_root_node(&doc));
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (err)
		memset(p, 0, sizeof(*p));
	return err;
}

int gmt_policy_load(const char *path, struct gmt_policy *p, struct gmt_policy_error *e)
{
	struct stat st;
	ssize_t n = 0;
	char *buf;
	int fd, err;

	memset(e, 0, sizeof(*e));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(e->msg, sizeof(e->msg), "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > GMT_POLICY_MAX_FILE) {
		snprintf(e->msg, sizeof(e->msg), "not a regular file of at most 1 MiB");
		close(fd);
		return -1;
	}
	buf = malloc(st.st_size + 1);
	if (buf)
		n = read(fd, buf, st.st_size);
	close(fd);
	if (!buf || n != st.st_size) {
		snprintf(e->msg, sizeof(e->msg), "cannot be read: %s", buf ? "short read" : "no memory");
		free(buf);
		return -1;
	}
	err = gmt_policy_parse(buf, (size_t)n, p, e);
	free(buf);
	return err;
}
