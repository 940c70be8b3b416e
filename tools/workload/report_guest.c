/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The JSON of the guest (its requests streamed last) and of the scenarios
 */
#include <errno.h>
#include <string.h>

#include "workload.h"

static struct json_object *j_u64_list(const __u64 *v, unsigned int n)
{
	struct json_object *a = json_object_new_array();
	unsigned int i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_uint64(v[i]));
	return a;
}

struct json_object *j_scenario(const struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	const struct scn_state *s = &r->scn;
	struct json_object *o, *a;
	unsigned int i;
	__u64 k, nblocked = 0;

	if (!s->used && !c->in_place)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "in_place", json_object_new_boolean(c->in_place));
	json_object_object_add(o, "name", json_object_new_string(
		c->scenario == SCN_BLOCK_RETRY ? "block-retry" : c->oracle ? "oracle" : "none"));
	json_object_object_add(o, "seed", c->oracle ? json_object_new_uint64(c->seed) : NULL);
	json_object_object_add(o, "page_size", json_object_new_uint64(r->page_size));
	a = json_object_new_array();
	for (i = 0; i < s->npins; i++) {
		const struct scn_pin *p = &s->pins[i];
		struct json_object *q = json_object_new_object();

		json_object_object_add(q, "page", json_object_new_uint64(p->page));
		json_object_object_add(q, "offset", json_object_new_uint64(p->page * r->page_size));
		json_object_object_add(q, "npages", json_object_new_uint64(p->npages));
		json_object_object_add(q, "register_ret", json_object_new_int64(p->register_ret));
		json_object_object_add(q, "iova", r->cfg->pin_with != PIN_IOURING ?
				       json_object_new_uint64(p->iova) : NULL);
		json_object_object_add(q, "released_at", p->released_at >= 0 ?
				       json_object_new_int64(p->released_at) : NULL);
		json_object_array_add(a, q);
	}
	json_object_object_add(o, "pins", a);
	a = json_object_new_array();
	for (k = 0; k < s->nsteps; k++) {
		const struct scn_step *st = &s->steps[k];
		struct json_object *q = json_object_new_object();

		json_object_object_add(q, "step", json_object_new_uint64(k));
		json_object_object_add(q, "offset", json_object_new_uint64(st->offset));
		json_object_object_add(q, "size", json_object_new_uint64(st->size));
		json_object_object_add(q, "pinned_pages", j_u64_list(st->pinned, st->npinned));
		json_object_object_add(q, "fresh_pages", j_u64_list(st->fresh, st->nfresh));
		json_object_object_add(q, "ret", json_object_new_int(st->ret));
		json_object_object_add(q, "error_offset", st->ret == -EAGAIN ?
				       json_object_new_uint64(st->error_offset) : NULL);
		json_object_object_add(q, "released_page", st->released_page >= 0 ?
				       json_object_new_int64(st->released_page) : NULL);
		json_object_object_add(q, "back_ret", st->back_ret != 1 ?
				       json_object_new_int(st->back_ret) : NULL);
		json_object_array_add(a, q);
		nblocked += st->ret == -EAGAIN;
	}
	json_object_object_add(o, "steps", a);
	json_object_object_add(o, "blocked", json_object_new_uint64(nblocked));
	json_object_object_add(o, "fresh_failed", json_object_new_uint64(s->fresh_punch_err));
	json_object_object_add(o, "error", s->error ? json_object_new_string(s->error) : NULL);
	return o;
}

static const char *const greq_kind_names[] = {
	[GREQ_MAP_GPA_RANGE] = "map_gpa_range",
	[GREQ_MEMORY_FAULT] = "memory_fault",
};

static struct json_object *j_greq(const struct run *r, __u64 idx)
{
	const struct guest_req *q = &r->guest.reqs[idx];
	struct json_object *o = json_object_new_object();
	bool hc = q->kind == GREQ_MAP_GPA_RANGE;

	json_object_object_add(o, "index", json_object_new_uint64(idx));
	json_object_object_add(o, "kind", json_object_new_string(greq_kind_names[q->kind]));
	json_object_object_add(o, "gpa", json_object_new_uint64(q->gpa));
	json_object_object_add(o, "npages", json_object_new_uint64(q->npages));
	json_object_object_add(o, "attrs", hc ? json_object_new_uint64(q->attrs) : NULL);
	json_object_object_add(o, "hc_flags", hc ? json_object_new_uint64(q->hc_flags) : NULL);
	json_object_object_add(o, "fault_flags", hc ? NULL : json_object_new_uint64(q->attrs));
	json_object_object_add(o, "dir", json_object_new_string(q->to_private ? "to_private" :
								  "to_shared"));
	json_object_object_add(o, "served_dir", json_object_new_string(
		q->served_private ? "to_private" : "to_shared"));
	json_object_object_add(o, "served_ret", json_object_new_int64(q->served_ret));
	json_object_object_add(o, "guest_ret", jnum_or_null(q->has_guest_ret, q->guest_ret));
	json_object_object_add(o, "exit_ns", json_object_new_uint64(q->exit_ns));
	json_object_object_add(o, "reenter_ns", jnum_or_null(q->reenter_ns, (__s64)q->reenter_ns));
	json_object_object_add(o, "serve_ns", jnum_or_null(q->reenter_ns,
							   (__s64)(q->reenter_ns - q->exit_ns)));
	json_object_object_add(o, "tid", json_object_new_int(r->tid));
	return o;
}

/* The guest's own memslot, once it is mapped */
static struct json_object *j_code_slot(const struct guest_state *g)
{
	struct json_object *slot;

	if (!g->code_mem)
		return NULL;
	slot = json_object_new_object();
	json_object_object_add(slot, "slot", json_object_new_int(GMW_GUEST_SLOT));
	json_object_object_add(slot, "gpa", json_object_new_uint64(g->code_gpa));
	json_object_object_add(slot, "size", json_object_new_uint64(g->code_size));
	json_object_object_add(slot, "userspace_addr",
			       json_object_new_uint64((__u64)(uintptr_t)g->code_mem));
	json_object_object_add(slot, "ret", json_object_new_int64(g->code_slot_ret));
	return slot;
}

/* KVM_RUN exits by reason number, those seen only */
static struct json_object *j_exit_reasons(const struct guest_state *g)
{
	struct json_object *exits = json_object_new_object();
	__u64 i;

	for (i = 0; i < GMW_EXIT_REASONS; i++) {
		char key[24];

		if (!g->exits[i])
			continue;
		if (i == GMW_EXIT_REASONS - 1)
			snprintf(key, sizeof(key), "other");
		else
			snprintf(key, sizeof(key), "%llu", (unsigned long long)i);
		json_object_object_add(exits, key, json_object_new_uint64(g->exits[i]));
	}
	return exits;
}

/* exit->reenter times of the served requests */
static struct json_object *j_serve_stats(const struct guest_state *g)
{
	static const char *const names[] = { "min", "p50", "p90", "p99", "max", "mean" };
	struct json_object *stats;
	unsigned int i;

	if (!g->nserve)
		return NULL;
	stats = json_object_new_object();
	json_object_object_add(stats, "count", json_object_new_uint64(g->nserve));
	for (i = 0; i < 6; i++)
		json_object_object_add(stats, names[i], json_object_new_uint64(g->serve_pct[i]));
	return stats;
}

static struct json_object *j_guest(const struct run *r)
{
	const struct guest_state *g = &r->guest;
	struct json_object *o, *kinds;
	bool vcpu = g->vcpu_fd >= 0;
	__u64 i;

	if (!g->requested)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "vm", json_object_new_int(0));
	json_object_object_add(o, "vcpu_fd", jnum_or_null(vcpu, g->vcpu_fd));
	json_object_object_add(o, "create_vcpu_ret", json_object_new_int64(g->create_vcpu_ret));
	json_object_object_add(o, "vcpu_mmap_size", jnum_or_null(vcpu, g->mmap_size));
	json_object_object_add(o, "cap_exit_hypercall",
			       jnum_or_null(g->caps_set, g->cap_exit_hypercall));
	json_object_object_add(o, "enable_cap_ret", jnum_or_null(g->caps_set, g->enable_cap_ret));
	json_object_object_add(o, "disable_fix_hypercall_quirk_ret",
			       jnum_or_null(g->caps_set, g->quirk_ret));
	json_object_object_add(o, "cpu_vendor", g->vendor[0] ? json_object_new_string(g->vendor) :
			       NULL);
	json_object_object_add(o, "hypercall_insn", g->vendor[0] ?
			       json_object_new_string(g->intel ? "vmcall" : "vmmcall") : NULL);
	json_object_object_add(o, "mode", json_object_new_string("long64"));
	json_object_object_add(o, "code_slot", j_code_slot(g));
	json_object_object_add(o, "requested", json_object_new_uint64(r->cfg->guest));
	json_object_object_add(o, "fault", json_object_new_boolean(r->cfg->guest_fault));
	json_object_object_add(o, "runs", json_object_new_uint64(g->runs));
	json_object_object_add(o, "exit_reasons", j_exit_reasons(g));
	json_object_object_add(o, "halted", json_object_new_boolean(g->halted));
	json_object_object_add(o, "abandoned", json_object_new_boolean(g->abandoned));
	json_object_object_add(o, "fault_read", jnum_or_null(g->fault_read >= 0, g->fault_read));
	json_object_object_add(o, "run_ns", json_object_new_uint64(g->run_ns));
	json_object_object_add(o, "error", g->error ? json_object_new_string(g->error) : NULL);
	json_object_object_add(o, "error_rip", g->has_error_rip ?
			       json_object_new_uint64(g->error_rip) : NULL);
	json_object_object_add(o, "requests_total", json_object_new_uint64(g->nreqs));
	kinds = json_object_new_object();
	for (i = 0; i < 2; i++)
		json_object_object_add(kinds, greq_kind_names[i],
				       json_object_new_uint64(g->nkind[i]));
	json_object_object_add(o, "requests_by_kind", kinds);
	json_object_object_add(o, "served_ok", json_object_new_uint64(g->nserved_ok));
	json_object_object_add(o, "serve_ns", j_serve_stats(g));
	json_object_object_add(o, "requests_truncated",
			       json_object_new_uint64(g->nreqs - g->nkept));
	return o;
}

/* The guest object with its request list streamed in last, one per line */
void write_guest(FILE *f, const struct run *r)
{
	struct json_object *o = j_guest(r);
	const char *txt;
	size_t len;
	__u64 i;

	fputs(",\n\"guest\":", f);
	if (!o) {
		fputs("null", f);
		return;
	}
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(txt);
	fwrite(txt, 1, len - 1, f);	/* reopen the object: drop its '}' */
	if (r->cfg->no_calls) {
		fputs(",\"requests\":null}", f);
	} else {
		fputs(",\"requests\":[", f);
		for (i = 0; i < r->guest.nkept; i++) {
			struct json_object *q = j_greq(r, i);

			fprintf(f, "%s\n%s", i ? "," : "",
				json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
			json_object_put(q);
		}
		fputs("]}", f);
	}
	json_object_put(o);
}
