// SPDX-License-Identifier: GPL-2.0-only
/* NDJSON output: one object per line, "type" says which record it is.
 * The schema is docs/json-schema.md; field names never change meaning. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "backends.h"
#include "escape.h"
#include "gmt_refs.h"
#include "hist.h"
#include "kvm_uapi.h"
#include "loader.h"
#include "output.h"
#include "stats.h"
#include "util.h"

#define J_U64(v) json_object_new_uint64(v)
#define J_I64(v) json_object_new_int64(v)
/* every string through the escaping rule: json-c passes any byte through */
#define J_STR(v) json_object_new_string(gmt_escape_str(v, 0))

static void emit(struct gmt_out *o, json_object *obj)
{
	fputs(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN), o->f);
	fputc('\n', o->f);
	json_object_put(obj);
	o->lines++;
}

static json_object *record(struct gmt_out *o, const char *type, __u64 real_ns)
{
	json_object *obj = json_object_new_object();
	char ts[48];

	json_object_object_add(obj, "type", J_STR(type));
	gmt_fmt_time(ts, sizeof(ts), real_ns, true);
	json_object_object_add(obj, "time", J_STR(ts));
	return obj;
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

/* not an operation of a process: what gmemtrace learnt about a VM */
static void json_vm_gone(struct gmt_out *o, const struct gmt_event *e)
{
	json_object *obj = record(o, "vm_gone", e->hdr.ts_ns + o->real_off);
	char vm[32];

	gmt_vm_label(vm, sizeof(vm), e->hdr.vm_pid, e->hdr.vm_fd);
	json_object_object_add(obj, "vm", J_STR(vm));
	json_object_object_add(obj, "vm_pid", J_I64(e->hdr.vm_pid));
	json_object_object_add(obj, "vm_fd", J_I64(e->hdr.vm_fd));
	json_object_object_add(obj, "vm_id", J_U64(e->hdr.vm_key));
	json_object_object_add(obj, "how", J_STR(gmt_vm_end_name(e->vm_gone.how)));
	emit(o, obj);
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

/*
 * Same fields, order and values as the json-c object this replaces (golden
 * tests and docs/json-schema.md); json-c cost microseconds per record in
 * allocations and hashing, a storm of records made that most of the CPU.
 */
static void json_event(struct gmt_out *o, const struct gmt_event *e)
{
	const struct gmt_event_hdr *h = &e->hdr;
	const char *en = h->ret < 0 ? gmt_errno_name(-h->ret) : NULL;
	struct gmt_line l;

	if (h->type == GMT_EV_VM_GONE) {
		json_vm_gone(o, e);
		return;
	}
	gmt_line_init(&l);
	gmt_puts(&l, "{\"type\":\"event\",\"time\":\"");
	gmt_put_time(&l, h->ts_ns + o->real_off, true);
	gmt_putc(&l, '"');
	N(&l, "event", gmt_event_name(h->type));
	U(&l, "ts_ns", h->ts_ns);
	U(&l, "pid", h->pid);
	U(&l, "tid", h->tid);
	KEY(&l, "comm");
	gmt_putc(&l, '"');
	gmt_put_esc(&l, h->comm, sizeof(h->comm), GMT_ESC_JSON);
	gmt_putc(&l, '"');
	U(&l, "cgroup_id", h->cgroup_id);
	KEY(&l, "vm");
	gmt_putc(&l, '"');
	if (h->vm_pid > 0) {
		gmt_put_s64(&l, h->vm_pid);
		gmt_putc(&l, '-');
		if (h->vm_fd >= 0)
			gmt_put_s64(&l, h->vm_fd);
		else
			gmt_putc(&l, '?');
	} else {
		gmt_putc(&l, '?');
	}
	gmt_putc(&l, '"');
	S(&l, "vm_pid", h->vm_pid);
	S(&l, "vm_fd", h->vm_fd);
	if (h->vm_key)
		U(&l, "vm_id", h->vm_key);
	else
		gmt_puts(&l, ",\"vm_id\":null");
	S(&l, "fd", h->fd);
	S(&l, "ret", h->ret);
	if (en)
		N(&l, "errno", en);
	else
		gmt_puts(&l, ",\"errno\":null");
	U(&l, "latency_ns", h->latency_ns);

	switch (h->type) {
	case GMT_EV_CONVERT: {
		const struct gmt_convert *c = &e->convert;
		__u64 ino, off;
		int p, n = 0;

		N(&l, "gen", gmt_gen_name(c->gen));
		N(&l, "uapi", gmt_gen_uapi(c->gen, c->cmd));
		KEY(&l, "cmd");
		gmt_putc(&l, '"');
		gmt_put_hex(&l, c->cmd);
		gmt_putc(&l, '"');
		N(&l, "dir", gmt_dir_name(c->dir));
		if (c->gen == GMT_GEN_G1) {
			U(&l, "gpa", c->start);
			if (gmt_memslots_translate(&o->slots, h->vm_key, c->start, &ino, &off)) {
				U(&l, "gmem_ino", ino);
				U(&l, "gmem_offset", off);
			}
		} else {
			U(&l, "gmem_ino", c->gmem_ino);
			U(&l, "gmem_offset", c->start);
		}
		U(&l, "size", c->size);
		U(&l, "attributes", c->attributes);
		U(&l, "flags", c->flags);
		B(&l, "blocked", h->ret == -11);
		KEY(&l, "error_offset");
		if (c->has_error_offset)
			gmt_put_u64(&l, c->error_offset);
		else
			gmt_puts(&l, "null");
		KEY(&l, "kernel_latency_ns");
		if (c->kernel_latency_ns)
			gmt_put_u64(&l, c->kernel_latency_ns);
		else
			gmt_puts(&l, "null");
		N(&l, "source", gmt_source_name(c->source));
		gmt_puts(&l, ",\"phases_ns\":{");
		for (p = 0; p < GMT_PH_MAX; p++) {
			if (!c->phase_ns[p])
				continue;
			if (n++)
				gmt_putc(&l, ',');
			put_name(&l, gmt_phase_name(p));
			gmt_putc(&l, ':');
			gmt_put_u64(&l, c->phase_ns[p]);
		}
		gmt_putc(&l, '}');
		if (c->folio.valid) {
			struct gmt_refs_verdict v;

			gmt_folio_decompose(&c->folio, &v);
			gmt_puts(&l, ",\"blocking_folio\":{\"index\":");
			gmt_put_u64(&l, c->folio.index);
			U(&l, "offset", c->folio.index << 12);
			U(&l, "refcount", c->folio.refcount);
			U(&l, "expected", c->folio.expected);
			S(&l, "mapcount", c->folio.mapcount);
			U(&l, "pins", v.pins);
			U(&l, "other", v.other);
			U(&l, "lru_batch", v.lru_batch);
			U(&l, "nr_pages", c->folio.nr_pages);
			B(&l, "lru", c->folio.lru);
			B(&l, "exact", c->folio.exact);
			gmt_putc(&l, '}');
		} else {
			gmt_puts(&l, ",\"blocking_folio\":null");
		}
		break;
	}
	case GMT_EV_GMEM_CREATE:
		U(&l, "size", e->gmem_create.size);
		U(&l, "flags", e->gmem_create.flags);
		S(&l, "gmem_fd", h->ret >= 0 ? h->ret : -1);
		U(&l, "gmem_ino", e->gmem_create.gmem_ino);
		break;
	case GMT_EV_MEMSLOT: {
		const struct gmt_memslot *m = &e->memslot;

		U(&l, "slot", m->slot);
		U(&l, "flags", m->flags);
		U(&l, "gpa", m->gpa);
		U(&l, "size", m->size);
		U(&l, "uaddr", m->uaddr);
		S(&l, "gmem_fd", m->gmem_fd);
		U(&l, "gmem_ino", m->gmem_ino);
		U(&l, "gmem_offset", m->gmem_offset);
		break;
	}
	case GMT_EV_FALLOCATE:
		U(&l, "mode", e->fallocate.mode);
		B(&l, "punch_hole", e->fallocate.mode & 2);
		U(&l, "gmem_ino", e->fallocate.gmem_ino);
		U(&l, "gmem_offset", e->fallocate.offset);
		U(&l, "size", e->fallocate.len);
		break;
	case GMT_EV_VM_CREATE:
		U(&l, "vm_type", e->vm_create.vm_type);
		break;
	case GMT_EV_GUEST_REQ: {
		const struct gmt_guest_req *g = &e->guest_req;

		N(&l, "kind", g->kind == GMT_GREQ_MAP_GPA_RANGE ? "map_gpa_range" : "memory_fault");
		N(&l, "dir", gmt_dir_name(g->dir));
		U(&l, "gpa", g->gpa);
		U(&l, "size", g->size);
		U(&l, "flags", g->flags);
		S(&l, "vcpu_fd", g->vcpu_fd);
		U(&l, "conversions", g->conversions);
		U(&l, "blocked", g->blocked);
		U(&l, "convert_ns", g->convert_ns);
		/* latency_ns: the guest's wait, exit to re-entry; the rest was the VMM */
		U(&l, "vmm_ns", h->latency_ns > g->convert_ns ? h->latency_ns - g->convert_ns : 0);
		/* anything but reentry: the guest never got its answer while traced */
		B(&l, "complete", g->end == GMT_GREQ_END_REENTRY);
		N(&l, "end", gmt_greq_end_name(g->end));
		break;
	}

	}
	gmt_putc(&l, '}');
	*l.p++ = '\n';		/* the builder keeps this byte free */
	fwrite_unlocked(l.buf, 1, gmt_line_len(&l), o->f);
	o->lines++;
}

static void json_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	json_object *obj = record(o, "lost_events", gmt_mono_ns() + o->real_off);

	json_object_object_add(obj, "lost", J_U64(n));
	json_object_object_add(obj, "lost_total", J_U64(total));
	emit(o, obj);
}

static void json_attach(struct gmt_out *o, const struct gmt_session *s)
{
	json_object *obj = record(o, "attach", gmt_mono_ns() + o->real_off);
	json_object *arr = json_object_new_array();
	static const char *const state[] = { "not_wanted", "attached", "failed", "unavailable" };
	int i;

	for (i = 0; i < s->nr_status; i++) {
		const struct gmt_attach_status *st = &s->status[i];
		json_object *p = json_object_new_object();

		json_object_object_add(p, "program", J_STR(st->spec->prog));
		json_object_object_add(p, "backend", J_STR(gmt_backend_name(st->spec->backend)));
		json_object_object_add(p, "hook", J_STR(st->spec->hook));
		json_object_object_add(p, "feature", st->spec->feature ? J_STR(st->spec->feature) : NULL);
		json_object_object_add(p, "target", st->target ? J_STR(st->target) : NULL);
		json_object_object_add(p, "state", J_STR(state[st->state]));
		json_object_object_add(p, "reason", st->reason[0] ? J_STR(st->reason) : NULL);
		json_object_array_add(arr, p);
	}
	json_object_object_add(obj, "programs", arr);
	emit(o, obj);
}

static void json_summary(struct gmt_out *o, const struct gmt_trace_summary *sum)
{
	json_object *obj = record(o, "summary", gmt_mono_ns() + o->real_off);
	json_object *ev = json_object_new_object(), *cnt = json_object_new_object();
	int i;

	for (i = 1; i < GMT_EV_TYPE_MAX; i++)
		json_object_object_add(ev, gmt_event_name(i), J_U64(sum->events[i]));
	json_object_object_add(obj, "events", ev);
	json_object_object_add(obj, "lost", J_U64(sum->lost));
	for (i = 0; i < GMT_CNT_MAX; i++)
		json_object_object_add(cnt, gmt_counter_name(i), J_U64(sum->counters[i]));
	json_object_object_add(obj, "counters", cnt);
	json_object_object_add(obj, "duration_s", json_object_new_double(sum->duration_s));
	/* null without a command, and when gmemtrace stopped it */
	json_object_object_add(obj, "command_status", sum->cmd_ran && !sum->cmd_stopped &&
			       !sum->cmd_left_running ? J_I64(sum->cmd_status) : NULL);
	json_object_object_add(obj, "command_stopped", sum->cmd_ran ?
			       json_object_new_boolean(sum->cmd_stopped) : NULL);
	emit(o, obj);
}

static json_object *stats_obj(const struct gmt_stats *s)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "count", J_U64(s->count));
	json_object_object_add(obj, "ok", J_U64(s->ok));
	json_object_object_add(obj, "bytes", J_U64(s->bytes));
	json_object_object_add(obj, "failed", J_U64(s->failed));
	json_object_object_add(obj, "blocked", J_U64(s->blocked));
	json_object_object_add(obj, "latency_sum_ns", J_U64(s->lat_sum_ns));
	return obj;
}

static void json_stat(struct gmt_out *o, const struct gmt_stat_snapshot *snap, bool hist)
{
	json_object *obj = record(o, "stat", snap->real_ns);
	json_object *rows = json_object_new_array(), *cnt = json_object_new_object();
	int i, j;

	json_object_object_add(obj, "interval_s", json_object_new_double(snap->interval_s));
	json_object_object_add(obj, "live_vms", J_I64(snap->nr_live_vms));
	for (i = 0; i < snap->nr_rows; i++) {
		const struct gmt_stat_row *r = &snap->rows[i];
		json_object *row = json_object_new_object(), *errs = json_object_new_object();
		json_object *errs_total = json_object_new_object();
		char vm[32];

		gmt_vm_label(vm, sizeof(vm), r->total.vm_pid, r->total.vm_fd);
		json_object_object_add(row, "vm", J_STR(vm));
		json_object_object_add(row, "vm_pid", J_I64(r->total.vm_pid));
		json_object_object_add(row, "vm_fd", J_I64(r->total.vm_fd));
		json_object_object_add(row, "vm_id", J_U64(r->key.vm_key));
		json_object_object_add(row, "vm_gone", json_object_new_boolean(r->gone));
		json_object_object_add(row, "gen", J_STR(gmt_gen_name(r->key.gen)));
		json_object_object_add(row, "dir", J_STR(gmt_dir_name(r->key.dir)));
		json_object_object_add(row, "interval", stats_obj(&r->delta));
		json_object_object_add(row, "total", stats_obj(&r->total));
		json_object_object_add(row, "rate", json_object_new_double(
			snap->interval_s > 0 ? r->delta.count / snap->interval_s : 0));
		/* no conversion in the interval: no percentile, not a zero one */
		json_object_object_add(row, "p50_ns", r->delta.count ? J_U64(gmt_stat_percentile(r, 50)) : NULL);
		json_object_object_add(row, "p90_ns", r->delta.count ? J_U64(gmt_stat_percentile(r, 90)) : NULL);
		json_object_object_add(row, "p99_ns", r->delta.count ? J_U64(gmt_stat_percentile(r, 99)) : NULL);
		json_object_object_add(row, "max_ns", J_U64(r->total.lat_max_ns));
		/* in-kernel latency and the mean offset of each phase marker */
		json_object_object_add(row, "kernel_latency_avg_ns", r->delta.klat_count ?
				       J_U64(r->delta.klat_sum_ns / r->delta.klat_count) : NULL);
		{
			json_object *ph = json_object_new_object();

			for (j = 0; j < GMT_PH_MAX; j++)
				if (r->delta.phase_count[j])
					json_object_object_add(ph, gmt_phase_name(j),
						J_U64(r->delta.phase_sum_ns[j] / r->delta.phase_count[j]));
			json_object_object_add(row, "phases_avg_ns", ph);
		}
		for (j = 0; j < snap->nr_errs; j++) {
			const struct gmt_stat_err *e = &snap->errs[j];
			const char *n = gmt_errno_name(e->key.err);
			char num[16];

			if (e->key.vm_key != r->key.vm_key || e->key.dir != r->key.dir ||
			    e->key.gen != r->key.gen)
				continue;
			snprintf(num, sizeof(num), "%u", e->key.err);
			json_object_object_add(errs, n ? n : num, J_U64(e->delta));
			json_object_object_add(errs_total, n ? n : num, J_U64(e->total));
		}
		json_object_object_add(row, "errors", errs);
		json_object_object_add(row, "errors_total", errs_total);
		if (hist) {
			json_object *h = json_object_new_array();
			__u64 lo, hi;

			for (j = 0; j < GMT_HIST_SLOTS; j++) {
				json_object *b;

				if (!r->delta.hist[j])
					continue;
				gmt_hist_bounds(j, &lo, &hi);
				b = json_object_new_object();
				json_object_object_add(b, "min", J_U64(lo));
				json_object_object_add(b, "max", J_U64(hi));
				json_object_object_add(b, "count", J_U64(r->delta.hist[j]));
				json_object_array_add(h, b);
			}
			json_object_object_add(row, "hist", h);
		}
		json_object_array_add(rows, row);
	}
	json_object_object_add(obj, "rows", rows);
	for (i = 0; i < GMT_CNT_MAX; i++)
		json_object_object_add(cnt, gmt_counter_name(i), J_U64(snap->counters[i]));
	json_object_object_add(obj, "counters", cnt);
	emit(o, obj);
}

static void json_error(struct gmt_out *o, const char *what, const char *msg)
{
	json_object *obj = record(o, "error", gmt_mono_ns() + o->real_off);

	json_object_object_add(obj, "what", J_STR(what));
	json_object_object_add(obj, "message", J_STR(msg));
	emit(o, obj);
}

static void json_fatal(struct gmt_out *o, const char *what, const char *msg, int exit_code)
{
	json_object *obj = record(o, "error", gmt_mono_ns() + o->real_off);

	json_object_object_add(obj, "what", J_STR(what));
	json_object_object_add(obj, "message", J_STR(msg));
	json_object_object_add(obj, "fatal", json_object_new_boolean(true));
	json_object_object_add(obj, "exit_code", J_I64(exit_code));
	emit(o, obj);
}

static void json_stat_summary(struct gmt_out *o, const struct gmt_stat_summary *sum)
{
	json_object *obj = record(o, "summary", gmt_mono_ns() + o->real_off);

	json_object_object_add(obj, "intervals", J_U64(sum->intervals));
	json_object_object_add(obj, "duration_s", json_object_new_double(sum->duration_s));
	json_object_object_add(obj, "command_status", sum->cmd_ran && !sum->cmd_stopped &&
			       !sum->cmd_left_running ? J_I64(sum->cmd_status) : NULL);
	json_object_object_add(obj, "command_stopped", sum->cmd_ran ?
			       json_object_new_boolean(sum->cmd_stopped) : NULL);
	emit(o, obj);
}

const struct gmt_out_ops gmt_out_json_ops = {
	.event = json_event,
	.lost = json_lost,
	.attach = json_attach,
	.summary = json_summary,
	.stat = json_stat,
	.error = json_error,
	.fatal = json_fatal,
	.stat_summary = json_stat_summary,
};
