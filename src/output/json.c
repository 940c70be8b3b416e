// SPDX-License-Identifier: GPL-2.0-only
/* NDJSON output: one object per line, "type" says which record it is.
 * The schema is docs/json-schema.md; field names never change meaning. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "escape.h"
#include "json.h"
#include "output.h"
#include "stat_policy.h"
#include "util.h"

void gmt_json_emit(struct gmt_out *o, json_object *obj)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), o->f);
	fputc('\n', o->f);
	json_object_put(obj);
	o->lines++;
}

json_object *gmt_json_record(const char *type, __u64 real_ns)
{
	json_object *obj = json_object_new_object();
	char ts[48];

	json_object_object_add(obj, "type", J_STR(type));
	gmt_fmt_time(ts, sizeof(ts), real_ns, true);
	json_object_object_add(obj, "time", J_STR(ts));
	return obj;
}

/* a record of now */
json_object *gmt_json_record_now(struct gmt_out *o, const char *type)
{
	return gmt_json_record(type, gmt_mono_ns() + o->real_off);
}

/* ---- the event record: written directly, no json-c object per record ---- */

/* ,"key": -- keys are literals, so their length is known at compile time */
#define KEY(l, k)	gmt_put((l), ",\"" k "\":", sizeof(k) + 3)

static void put_u(struct gmt_line *l, const char *key, size_t klen, __u64 v)
{
	gmt_put(l, key, klen);
	gmt_put_u64(l, v);
}

static void put_s(struct gmt_line *l, const char *key, size_t klen, __s64 v)
{
	gmt_put(l, key, klen);
	gmt_put_s64(l, v);
}

#define U(l, k, v)	put_u(l, ",\"" k "\":", sizeof(k) + 3, v)
#define S(l, k, v)	put_s(l, ",\"" k "\":", sizeof(k) + 3, v)
#define B(l, k, v)	do { KEY(l, k); gmt_puts(l, (v) ? "true" : "false"); } while (0)

/* a constant name (an identifier: nothing to escape) */
static void put_name(struct gmt_line *l, const char *s)
{
	gmt_putc(l, '"');
	gmt_puts(l, s);
	gmt_putc(l, '"');
}

#define N(l, k, v)	do { KEY(l, k); put_name(l, v); } while (0)

/* ,"key":<u64> or ,"key":null */
static void put_opt(struct gmt_line *l, const char *key, size_t klen, bool has, __u64 v)
{
	gmt_put(l, key, klen);
	if (has)
		gmt_put_u64(l, v);
	else
		gmt_put(l, "null", 4);
}

#define O(l, k, has, v)	put_opt(l, ",\"" k "\":", sizeof(k) + 3, has, v)

void gmt_json_vm(json_object *obj, const struct gmt_vm_view *vm)
{
	json_object_object_add(obj, "vm", J_STR(vm->label));
	json_object_object_add(obj, "vm_pid", J_I64(vm->pid));
	json_object_object_add(obj, "vm_fd", J_I64(vm->fd));
	json_object_object_add(obj, "vm_id", J_U64(vm->id));
}

/* not an operation of a process: what gmemtrace learnt about a VM */
static void json_vm_gone(struct gmt_out *o, const struct gmt_event_view *v)
{
	json_object *obj = gmt_json_record("vm_gone", v->real_ns);

	gmt_json_vm(obj, &v->vm);
	json_object_object_add(obj, "how", J_STR(v->vm_gone_how));
	gmt_json_emit(o, obj);
}

static void json_folio(struct gmt_line *l, const struct gmt_convert_view *c)
{
	if (!c->has_folio) {
		gmt_puts(l, ",\"blocking_folio\":null");
		return;
	}
	gmt_puts(l, ",\"blocking_folio\":{\"index\":");
	gmt_put_u64(l, c->folio.index);
	U(l, "offset", c->folio.offset);
	U(l, "refcount", c->folio.refcount);
	U(l, "expected", c->folio.expected);
	S(l, "mapcount", c->folio.mapcount);
	U(l, "pins", c->folio.pins);
	U(l, "other", c->folio.other);
	U(l, "lru_batch", c->folio.lru_batch);
	U(l, "nr_pages", c->folio.nr_pages);
	B(l, "lru", c->folio.lru);
	B(l, "exact", c->folio.exact);
	gmt_putc(l, '}');
}

static void json_convert(struct gmt_line *l, const struct gmt_convert_view *c)
{
	int p;

	N(l, "gen", c->gen);
	N(l, "uapi", c->uapi);
	KEY(l, "cmd");
	gmt_putc(l, '"');
	gmt_put_hex(l, c->cmd);
	gmt_putc(l, '"');
	N(l, "dir", c->dir);
	if (c->has_gpa)
		U(l, "gpa", c->gpa);
	if (c->has_gmem) {
		U(l, "gmem_ino", c->gmem_ino);
		U(l, "gmem_offset", c->gmem_offset);
	}
	U(l, "size", c->size);
	U(l, "attributes", c->attributes);
	U(l, "flags", c->flags);
	B(l, "blocked", c->blocked);
	O(l, "error_offset", c->has_error_offset, c->error_offset);
	O(l, "kernel_latency_ns", c->has_kernel_latency, c->kernel_latency_ns);
	N(l, "source", c->source);
	gmt_puts(l, ",\"phases_ns\":{");
	for (p = 0; p < c->nr_phases; p++) {
		if (p)
			gmt_putc(l, ',');
		put_name(l, c->phases[p].name);
		gmt_putc(l, ':');
		gmt_put_u64(l, c->phases[p].ns);
	}
	gmt_putc(l, '}');
	json_folio(l, c);
	gmt_json_blockers(l, c);
}

static void json_memslot(struct gmt_line *l, const struct gmt_memslot_view *m)
{
	U(l, "slot", m->slot);
	U(l, "flags", m->flags);
	U(l, "gpa", m->gpa);
	U(l, "size", m->size);
	U(l, "uaddr", m->uaddr);
	S(l, "gmem_fd", m->gmem_fd);
	U(l, "gmem_ino", m->gmem_ino);
	U(l, "gmem_offset", m->gmem_offset);
}

static void json_guest_req(struct gmt_line *l, const struct gmt_guest_req_view *g)
{
	N(l, "kind", g->kind);
	N(l, "dir", g->dir);
	U(l, "gpa", g->gpa);
	U(l, "size", g->size);
	U(l, "flags", g->flags);
	S(l, "vcpu_fd", g->vcpu_fd);
	U(l, "conversions", g->conversions);
	U(l, "blocked", g->blocked);
	U(l, "convert_ns", g->convert_ns);
	U(l, "vmm_ns", g->vmm_ns);
	B(l, "complete", g->complete);
	N(l, "end", g->end);
}

static void json_policy(struct gmt_line *l, const struct gmt_policy_view *p)
{
	if (p->is_default)
		gmt_puts(l, ",\"rule_id\":null");
	else
		U(l, "rule_id", p->rule_id);
	N(l, "action", p->action);
	N(l, "mode", p->mode);
	B(l, "denied", p->denied);
	B(l, "would_deny", p->would_deny);
	B(l, "arg_unreadable", p->read_failed);
	N(l, "gen", p->gen);
	N(l, "dir", p->dir);
	U(l, "cmd", p->cmd);
	if (p->has_gpa) {
		U(l, "gpa", p->start);
		gmt_puts(l, ",\"gmem_ino\":null,\"gmem_offset\":null");
	} else {
		gmt_puts(l, ",\"gpa\":null");
		U(l, "gmem_ino", p->gmem_ino);
		U(l, "gmem_offset", p->start);
	}
	U(l, "size", p->size);
	U(l, "attributes", p->attributes);
	U(l, "deny_errno", p->err);	/* "errno" is the return value's name */
}

/* the owner's fields; those of the other kinds are null, so every holder
 * record has the same keys */
static void json_holder_owner(struct gmt_line *l, const struct gmt_holder_view *h)
{
	bool ring = h->holder_kind == GMT_HOLD_IOURING_BUF;
	bool vfio = h->holder_kind == GMT_HOLD_VFIO_DMA;
	bool iommufd = h->holder_kind == GMT_HOLD_IOMMUFD;

	if (ring) {
		S(l, "ring_fd", h->ring_fd);
		U(l, "index", h->index);
	} else {
		gmt_puts(l, ",\"ring_fd\":null,\"index\":null");
	}
	if (vfio)
		S(l, "container_fd", h->ring_fd);
	else
		gmt_puts(l, ",\"container_fd\":null");
	if (iommufd) {
		S(l, "iommufd", h->ring_fd);
		U(l, "ioas_id", h->index);
	} else {
		gmt_puts(l, ",\"iommufd\":null,\"ioas_id\":null");
	}
	if (gmt_holder_has_iova(h->holder_kind))
		U(l, "iova", h->iova);
	else
		gmt_puts(l, ",\"iova\":null");
}

/* the decision's fields, then the kernel's copy under kernel_* */
static void json_policy_toctou(struct gmt_line *l, const struct gmt_policy_toctou_view *t)
{
	json_policy(l, &t->decided);
	if (t->decided.has_gpa) {
		U(l, "kernel_gpa", t->kern_start);
		gmt_puts(l, ",\"kernel_gmem_offset\":null");
	} else {
		gmt_puts(l, ",\"kernel_gpa\":null");
		U(l, "kernel_gmem_offset", t->kern_start);
	}
	U(l, "kernel_size", t->kern_size);
	U(l, "kernel_attributes", t->kern_attributes);
	B(l, "killed", t->killed);
}

static void json_holder(struct gmt_line *l, const struct gmt_holder_view *h)
{
	N(l, "kind", h->kind);
	if (h->end)
		N(l, "end", h->end);
	else
		gmt_puts(l, ",\"end\":null");
	json_holder_owner(l, h);
	U(l, "gmem_ino", h->gmem_ino);
	U(l, "gmem_offset", h->gmem_offset);
	U(l, "size", h->size);
	U(l, "uaddr", h->uaddr);
	U(l, "holder_id", h->id);
	U(l, "held_ns", h->held_ns);
	gmt_json_stack(l, h->frames, h->frame_ips, h->nr_frames);
	if (h->kernel_side) {
		U(l, "pins", h->pins);
		U(l, "folio", h->folio);
		gmt_json_stack_key(l, ",\"kernel_stack\":[", h->kframes, h->kframe_ips,
				   h->nr_kframes);
	} else {
		gmt_puts(l, ",\"pins\":null,\"folio\":null,\"kernel_stack\":null");
	}
}

static void json_body(struct gmt_line *l, const struct gmt_event_view *v)
{
	switch (v->type) {
	case GMT_EV_CONVERT:
		json_convert(l, &v->convert);
		break;
	case GMT_EV_GMEM_CREATE:
		U(l, "size", v->gmem_create.size);
		U(l, "flags", v->gmem_create.flags);
		S(l, "gmem_fd", v->gmem_create.gmem_fd);
		U(l, "gmem_ino", v->gmem_create.gmem_ino);
		break;
	case GMT_EV_MEMSLOT:
		json_memslot(l, &v->memslot);
		break;
	case GMT_EV_FALLOCATE:
		U(l, "mode", v->fallocate.mode);
		B(l, "punch_hole", v->fallocate.punch_hole);
		U(l, "gmem_ino", v->fallocate.gmem_ino);
		U(l, "gmem_offset", v->fallocate.offset);
		U(l, "size", v->fallocate.len);
		break;
	case GMT_EV_VM_CREATE:
		U(l, "vm_type", v->vm_type);
		break;
	case GMT_EV_GUEST_REQ:
		json_guest_req(l, &v->guest_req);
		break;
	case GMT_EV_HOLDER_START:
	case GMT_EV_HOLDER_END:
		json_holder(l, &v->holder);
		break;
	case GMT_EV_POLICY:
		json_policy(l, &v->policy);
		break;
	case GMT_EV_POLICY_TOCTOU:
		json_policy_toctou(l, &v->policy_toctou);
		break;
	}
}

/*
 * Same fields, order and values as the json-c object this replaces (golden
 * tests and docs/json-schema.md); json-c cost microseconds per record in
 * allocations and hashing, a storm of records made that most of the CPU.
 */
static void json_event(struct gmt_out *o, const struct gmt_event_view *v)
{
	struct gmt_line l;

	if (v->type == GMT_EV_VM_GONE) {
		json_vm_gone(o, v);
		return;
	}
	gmt_line_init(&l);
	gmt_puts(&l, "{\"type\":\"event\",\"time\":\"");
	gmt_put_time(&l, v->real_ns, true);
	gmt_putc(&l, '"');
	N(&l, "event", v->name);
	U(&l, "ts_ns", v->ts_ns);
	U(&l, "pid", v->pid);
	U(&l, "tid", v->tid);
	KEY(&l, "comm");
	gmt_putc(&l, '"');
	gmt_put_esc(&l, v->comm, GMT_COMM_LEN, GMT_ESC_JSON);
	gmt_putc(&l, '"');
	U(&l, "cgroup_id", v->cgroup_id);
	KEY(&l, "vm");
	gmt_putc(&l, '"');
	gmt_put(&l, v->vm.label, v->vm.label_len);
	gmt_putc(&l, '"');
	S(&l, "vm_pid", v->vm.pid);
	S(&l, "vm_fd", v->vm.fd);
	O(&l, "vm_id", v->vm.id != 0, v->vm.id);
	S(&l, "fd", v->fd);
	S(&l, "ret", v->ret);
	if (v->errno_name)
		N(&l, "errno", v->errno_name);
	else
		gmt_puts(&l, ",\"errno\":null");
	U(&l, "latency_ns", v->latency_ns);
	json_body(&l, v);
	gmt_putc(&l, '}');
	*l.p++ = '\n';		/* the builder keeps this byte free */
	fwrite_unlocked(l.buf, 1, gmt_line_len(&l), o->f);
	o->lines++;
}

static void json_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	json_object *obj = gmt_json_record_now(o, "lost_events");

	json_object_object_add(obj, "lost", J_U64(n));
	json_object_object_add(obj, "lost_total", J_U64(total));
	gmt_json_emit(o, obj);
}

static json_object *j_str_or_null(const char *s)
{
	return s ? J_STR(s) : NULL;
}

static void json_attach(struct gmt_out *o, const struct gmt_attach_view *v)
{
	json_object *obj = gmt_json_record_now(o, "attach");
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < v->nr_progs; i++) {
		const struct gmt_prog_view *pv = &v->progs[i];
		json_object *p = json_object_new_object();

		json_object_object_add(p, "program", J_STR(pv->program));
		json_object_object_add(p, "backend", J_STR(pv->backend));
		json_object_object_add(p, "hook", J_STR(pv->hook));
		json_object_object_add(p, "feature", j_str_or_null(pv->feature));
		json_object_object_add(p, "target", j_str_or_null(pv->target));
		json_object_object_add(p, "state", J_STR(pv->state));
		json_object_object_add(p, "reason", j_str_or_null(pv->reason));
		json_object_array_add(arr, p);
	}
	json_object_object_add(obj, "programs", arr);
	gmt_json_emit(o, obj);
}

static json_object *named_obj(const struct gmt_named_u64 *v, int n)
{
	json_object *obj = json_object_new_object();
	int i;

	for (i = 0; i < n; i++)
		json_object_object_add(obj, v[i].name, J_U64(v[i].v));
	return obj;
}

/* duration and the command's end: null without a command, and when
 * gmemtrace stopped it or left it running */
static void json_end(struct gmt_out *o, json_object *obj, const struct gmt_end_view *v)
{
	json_object_object_add(obj, "duration_s", json_object_new_double(v->duration_s));
	json_object_object_add(obj, "command_status", v->cmd == GMT_CMD_EXITED ?
			       J_I64(v->cmd_status) : NULL);
	json_object_object_add(obj, "command_stopped", v->cmd != GMT_CMD_NONE ?
			       json_object_new_boolean(v->cmd == GMT_CMD_STOPPED) : NULL);
	gmt_json_emit(o, obj);
}

static void json_summary(struct gmt_out *o, const struct gmt_end_view *v)
{
	json_object *obj = gmt_json_record_now(o, "summary");

	json_object_object_add(obj, "events", named_obj(v->events, GMT_EV_TYPE_MAX - 1));
	json_object_object_add(obj, "lost", J_U64(v->lost));
	json_object_object_add(obj, "counters", named_obj(v->counters, GMT_CNT_MAX));
	json_object_object_add(obj, "helper_errors", named_obj(v->helper_errors, GMT_SITE_MAX - 1));
	json_end(o, obj, v);
}

static void json_stat_summary(struct gmt_out *o, const struct gmt_end_view *v)
{
	json_object *obj = gmt_json_record_now(o, "summary");

	json_object_object_add(obj, "intervals", J_U64(v->intervals));
	json_object_object_add(obj, "helper_errors", named_obj(v->helper_errors, GMT_SITE_MAX - 1));
	json_end(o, obj, v);
}

static json_object *counts_obj(const struct gmt_counts_view *s)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "count", J_U64(s->count));
	json_object_object_add(obj, "ok", J_U64(s->ok));
	json_object_object_add(obj, "bytes", J_U64(s->bytes));
	json_object_object_add(obj, "failed", J_U64(s->failed));
	json_object_object_add(obj, "blocked", J_U64(s->blocked));
	json_object_object_add(obj, "latency_sum_ns", J_U64(s->latency_sum_ns));
	return obj;
}

static json_object *opt_u64(bool has, __u64 v)
{
	return has ? J_U64(v) : NULL;
}

/* failures by errno (name, or the number), in the interval and in total */
static void row_errors(json_object *row, const struct gmt_stat_row_view *r)
{
	json_object *errs = json_object_new_object(), *errs_total = json_object_new_object();
	int j;

	for (j = 0; j < r->nr_errs; j++) {
		const struct gmt_err_view *e = &r->errs[j];
		char num[16];

		snprintf(num, sizeof(num), "%u", e->err);
		json_object_object_add(errs, e->name ?: num, J_U64(e->delta));
		json_object_object_add(errs_total, e->name ?: num, J_U64(e->total));
	}
	json_object_object_add(row, "errors", errs);
	json_object_object_add(row, "errors_total", errs_total);
}

static json_object *row_hist(const struct gmt_stat_row_view *r)
{
	json_object *h = json_object_new_array();
	int j;

	for (j = 0; j < r->nr_buckets; j++) {
		json_object *b = json_object_new_object();

		json_object_object_add(b, "min", J_U64(r->buckets[j].min));
		json_object_object_add(b, "max", J_U64(r->buckets[j].max));
		json_object_object_add(b, "count", J_U64(r->buckets[j].count));
		json_object_array_add(h, b);
	}
	return h;
}

static json_object *stat_row(const struct gmt_stat_row_view *r, bool hist)
{
	json_object *row = json_object_new_object(), *ph = json_object_new_object();
	int j;

	gmt_json_vm(row, &r->vm);
	json_object_object_add(row, "vm_gone", json_object_new_boolean(r->gone));
	json_object_object_add(row, "gen", J_STR(r->gen));
	json_object_object_add(row, "dir", J_STR(r->dir));
	json_object_object_add(row, "interval", counts_obj(&r->interval));
	json_object_object_add(row, "total", counts_obj(&r->total));
	json_object_object_add(row, "rate", json_object_new_double(r->rate));
	json_object_object_add(row, "p50_ns", opt_u64(r->has_percentiles, r->p50_ns));
	json_object_object_add(row, "p90_ns", opt_u64(r->has_percentiles, r->p90_ns));
	json_object_object_add(row, "p99_ns", opt_u64(r->has_percentiles, r->p99_ns));
	json_object_object_add(row, "max_ns", J_U64(r->max_ns));
	json_object_object_add(row, "kernel_latency_avg_ns",
			       opt_u64(r->has_kernel_latency, r->kernel_latency_avg_ns));
	for (j = 0; j < r->nr_phases; j++)
		json_object_object_add(ph, r->phases[j].name, J_U64(r->phases[j].ns));
	json_object_object_add(row, "phases_avg_ns", ph);
	row_errors(row, r);
	if (hist)
		json_object_object_add(row, "hist", row_hist(r));
	return row;
}

static void json_stat(struct gmt_out *o, const struct gmt_stat_view *v)
{
	json_object *obj = gmt_json_record("stat", v->real_ns);
	json_object *rows = json_object_new_array();
	int i;

	json_object_object_add(obj, "interval_s", json_object_new_double(v->interval_s));
	json_object_object_add(obj, "live_vms", J_I64(v->nr_live_vms));
	for (i = 0; i < v->nr_rows; i++)
		json_object_array_add(rows, stat_row(&v->rows[i], v->hist));
	json_object_object_add(obj, "rows", rows);
	json_object_object_add(obj, "holders", gmt_json_stat_holders(v->hrows, v->nr_hrows,
								    v->holders_on));
	json_object_object_add(obj, "counters", named_obj(v->counters, GMT_CNT_MAX));
	json_object_object_add(obj, "policies", gmt_json_stat_policy(v->pols, v->nr_pols));
	gmt_json_emit(o, obj);
}

static json_object *error_obj(struct gmt_out *o, const char *what, const char *msg)
{
	json_object *obj = gmt_json_record_now(o, "error");

	json_object_object_add(obj, "what", J_STR(what));
	json_object_object_add(obj, "message", J_STR(msg));
	return obj;
}

static void json_error(struct gmt_out *o, const char *what, const char *msg)
{
	gmt_json_emit(o, error_obj(o, what, msg));
}

static void json_fatal(struct gmt_out *o, const char *what, const char *msg, int exit_code)
{
	json_object *obj = error_obj(o, what, msg);

	json_object_object_add(obj, "fatal", json_object_new_boolean(true));
	json_object_object_add(obj, "exit_code", J_I64(exit_code));
	gmt_json_emit(o, obj);
}

static const struct gmt_out_ops json_ops = {
	.event = json_event,
	.lost = json_lost,
	.attach = json_attach,
	.summary = json_summary,
	.stat = json_stat,
	.stat_summary = json_stat_summary,
	.error = json_error,
	.fatal = json_fatal,
	.refs_gmem = gmt_json_refs_gmem,
	.refs_folio = gmt_json_refs_folio,
	.refs_summary = gmt_json_refs_summary,
	.refs_total = gmt_json_refs_total,
	.features = gmt_json_features,
	.unpin = gmt_json_unpin,
};

GMT_OUT_FORMAT(json, "json", GMT_FMT_JSON, &json_ops)
