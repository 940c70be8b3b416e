// SPDX-License-Identifier: GPL-2.0-only
/* The compiled rules as `gmemtrace policy check` prints them. */
#include <json-c/json.h>
#include <string.h>

#include "gmemtrace.h"
#include "policy.h"

static const char *const gen_names[] = { "none", "g1", "g2", "g3" };
static const char *const dir_names[] = { "to_shared", "to_private" };

static void mask_str(char *buf, size_t len, unsigned int m, const char *const *names, int n)
{
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < n && off < len; i++)
		if (m & (1u << i))
			off += snprintf(buf + off, len - off, "%s%s", off ? "," : "", names[i]);
}

static const char *err_str(unsigned int err, char *buf, size_t len)
{
	const char *n = gmt_policy_errno_name(err);

	if (n)
		return n;
	snprintf(buf, len, "%u", err);
	return buf;
}

/* the selectors as "key=value" words, for text */
static void selectors_text(FILE *f, const struct gmt_policy_rule *r,
			   const struct gmt_policy_src *s)
{
	char m[64];

	if (r->match & GMT_PM_COMM)
		fprintf(f, " comm=%s", r->comm);
	if (r->match & GMT_PM_PID)
		fprintf(f, " pid=%u", r->pid);
	if (r->match & GMT_PM_EXE)
		fprintf(f, " exe=%s(dev=%llu:%llu,ino=%llu)", s->exe,
			(unsigned long long)r->exe_dev >> 20,
			(unsigned long long)r->exe_dev & 0xfffff, (unsigned long long)r->exe_ino);
	if (r->match & GMT_PM_CGROUP)
		fprintf(f, " cgroup=%s(id=%llu,level=%u)", s->cgroup,
			(unsigned long long)r->cgroup, r->cgroup_level);
	if (r->match & GMT_PM_UID)
		fprintf(f, " uid=%u", r->uid);
	if (r->match & GMT_PM_VM_PID)
		fprintf(f, " vm.creator_pid=%u", r->vm_pid);
	if (r->match & GMT_PM_VM_CGROUP)
		fprintf(f, " vm.creator_cgroup=%s(id=%llu,level=%u)", s->vm_cgroup,
			(unsigned long long)r->vm_cgroup, r->vm_cgroup_level);
	if (r->match & GMT_PM_VM_OWNER)
		fprintf(f, " vm.caller_is_creator=%s", r->vm_owner ? "true" : "false");
	if (r->match & GMT_PM_GEN) {
		mask_str(m, sizeof(m), r->gens, gen_names, 4);
		fprintf(f, " uapi=%s", m);
	}
	if (r->match & GMT_PM_DIR) {
		mask_str(m, sizeof(m), r->dirs, dir_names, 2);
		fprintf(f, " direction=%s", m);
	}
	if (r->match & GMT_PM_RANGE)
		fprintf(f, " range=%s:[0x%llx,0x%llx):%s",
			r->range_space == GMT_PR_GPA ? "gpa" : "offset",
			(unsigned long long)r->range_start, (unsigned long long)r->range_end,
			r->range_inside ? "inside" : "overlap");
	if (r->match & GMT_PM_SIZE)
		fprintf(f, " size=[%llu,%llu]", (unsigned long long)r->size_min,
			(unsigned long long)r->size_max);
	if (r->match & GMT_PM_RATE)
		fprintf(f, " rate>%llu%s/s(burst=%llu)", (unsigned long long)r->rate,
			r->rate_kind == GMT_PRATE_BYTES ? "B" : "conv",
			(unsigned long long)r->burst);
	if (!(r->match & GMT_PM_ALL))
		fprintf(f, " (every conversion)");
}

void gmt_policy_print_text(FILE *f, const struct gmt_policy *p)
{
	const struct gmt_policy_hdr *h = &p->abi.hdr;
	char eb[16];
	unsigned int i;

	fprintf(f, "policy version %u: %u rule%s, first match wins; default %s", h->version,
		h->nr_rules, h->nr_rules == 1 ? "" : "s", gmt_policy_action_name(h->default_action));
	if (h->default_action == GMT_PA_DENY)
		fprintf(f, " %s", err_str(h->default_err, eb, sizeof(eb)));
	if (h->toctou != GMT_PTOCTOU_REPORT)
		fprintf(f, "; a racing argument: %s", gmt_policy_toctou_name(h->toctou));
	fputc('\n', f);
	for (i = 0; i < h->nr_rules; i++) {
		const struct gmt_policy_rule *r = &p->abi.rules[i];

		fprintf(f, "%3u. id=%u %s", i + 1, r->id, gmt_policy_action_name(r->action));
		if (r->action == GMT_PA_DENY)
			fprintf(f, " %s", err_str(r->err, eb, sizeof(eb)));
		selectors_text(f, r, &p->src[i]);
		if (p->src[i].desc[0])
			fprintf(f, "  # %s", p->src[i].desc);
		fputc('\n', f);
	}
}

static void jadd(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *jmask(unsigned int m, const char *const *names, int n)
{
	json_object *a = json_object_new_array();
	int i;

	for (i = 0; i < n; i++)
		if (m & (1u << i))
			json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}

static json_object *jcgroup(const char *path, __u64 id, unsigned int level)
{
	json_object *o = json_object_new_object();

	jadd(o, "path", json_object_new_string(path));
	jadd(o, "id", json_object_new_uint64(id));
	jadd(o, "level", json_object_new_int(level));
	return o;
}

static json_object *jrange(const struct gmt_policy_rule *r)
{
	json_object *o = json_object_new_object();

	jadd(o, "space", json_object_new_string(r->range_space == GMT_PR_GPA ? "gpa" : "offset"));
	jadd(o, "start", json_object_new_uint64(r->range_start));
	jadd(o, "end", json_object_new_uint64(r->range_end));
	jadd(o, "match", json_object_new_string(r->range_inside ? "inside" : "overlap"));
	return o;
}

static json_object *jselectors(const struct gmt_policy_rule *r, const struct gmt_policy_src *s)
{
	json_object *o = json_object_new_object(), *x;

	if (r->match & GMT_PM_COMM)
		jadd(o, "comm", json_object_new_string(r->comm));
	if (r->match & GMT_PM_PID)
		jadd(o, "pid", json_object_new_int64(r->pid));
	if (r->match & GMT_PM_EXE) {
		x = json_object_new_object();
		jadd(x, "path", json_object_new_string(s->exe));
		jadd(x, "dev", json_object_new_uint64(r->exe_dev));
		jadd(x, "ino", json_object_new_uint64(r->exe_ino));
		jadd(o, "exe", x);
	}
	if (r->match & GMT_PM_CGROUP)
		jadd(o, "cgroup", jcgroup(s->cgroup, r->cgroup, r->cgroup_level));
	if (r->match & GMT_PM_UID)
		jadd(o, "uid", json_object_new_int64(r->uid));
	if (r->match & GMT_PM_VM_PID)
		jadd(o, "vm_creator_pid", json_object_new_int64(r->vm_pid));
	if (r->match & GMT_PM_VM_CGROUP)
		jadd(o, "vm_creator_cgroup", jcgroup(s->vm_cgroup, r->vm_cgroup, r->vm_cgroup_level));
	if (r->match & GMT_PM_VM_OWNER)
		jadd(o, "vm_caller_is_creator", json_object_new_boolean(r->vm_owner));
	if (r->match & GMT_PM_GEN)
		jadd(o, "uapi", jmask(r->gens, gen_names, 4));
	if (r->match & GMT_PM_DIR)
		jadd(o, "direction", jmask(r->dirs, dir_names, 2));
	if (r->match & GMT_PM_RANGE)
		jadd(o, "range", jrange(r));
	if (r->match & GMT_PM_SIZE) {
		x = json_object_new_object();
		jadd(x, "min", json_object_new_uint64(r->size_min));
		jadd(x, "max", json_object_new_uint64(r->size_max));
		jadd(o, "size", x);
	}
	if (r->match & GMT_PM_RATE) {
		x = json_object_new_object();
		jadd(x, r->rate_kind == GMT_PRATE_BYTES ? "bytes_per_second" :
		     "conversions_per_second", json_object_new_uint64(r->rate));
		jadd(x, "burst", json_object_new_uint64(r->burst));
		jadd(o, "rate", x);
	}
	return o;
}

static json_object *jrule(const struct gmt_policy *p, unsigned int i)
{
	const struct gmt_policy_rule *r = &p->abi.rules[i];
	json_object *o = json_object_new_object();

	jadd(o, "order", json_object_new_int(i + 1));
	jadd(o, "id", json_object_new_int64(r->id));
	jadd(o, "action", json_object_new_string(gmt_policy_action_name(r->action)));
	if (r->action == GMT_PA_DENY)
		jadd(o, "errno", json_object_new_int(r->err));
	jadd(o, "line", json_object_new_int(p->src[i].line));
	if (p->src[i].desc[0])
		jadd(o, "description", json_object_new_string(p->src[i].desc));
	jadd(o, "match", jselectors(r, &p->src[i]));
	return o;
}

int gmt_policy_print_json(FILE *f, const struct gmt_policy *p)
{
	const struct gmt_policy_hdr *h = &p->abi.hdr;
	json_object *o = json_object_new_object(), *rules = json_object_new_array();
	unsigned int i;
	int err;

	jadd(o, "type", json_object_new_string("policy_rules"));
	jadd(o, "version", json_object_new_int(h->version));
	jadd(o, "first_match_wins", json_object_new_boolean(1));
	jadd(o, "default", json_object_new_string(gmt_policy_action_name(h->default_action)));
	if (h->default_action == GMT_PA_DENY)
		jadd(o, "default_errno", json_object_new_int(h->default_err));
	jadd(o, "toctou", json_object_new_string(gmt_policy_toctou_name(h->toctou)));
	for (i = 0; i < h->nr_rules; i++)
		json_object_array_add(rules, jrule(p, i));
	jadd(o, "rules", rules);
	err = fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0;
	json_object_put(o);
	return err ? -1 : 0;
}
