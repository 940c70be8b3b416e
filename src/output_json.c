// SPDX-License-Identifier: GPL-2.0-only
/* NDJSON output: one object per line, "type" says which record it is.
 * The schema is docs/json-schema.md; field names never change meaning. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "backends.h"
#include "gmt_refs.h"
#include "hist.h"
#include "kvm_uapi.h"
#include "loader.h"
#include "output.h"
#include "stats.h"
#include "util.h"

#define J_U64(v) json_object_new_uint64(v)
#define J_I64(v) json_object_new_int64(v)
#define J_STR(v) json_object_new_string(v)

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

static void add_hex(json_object *obj, const char *key, __u64 v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%llx", v);
	json_object_object_add(obj, key, J_STR(buf));
}

static void add_ret(json_object *obj, __s32 ret)
{
	const char *n = ret < 0 ? gmt_errno_name(-ret) : NULL;

	json_object_object_add(obj, "ret", J_I64(ret));
	json_object_object_add(obj, "errno", n ? J_STR(n) : NULL);
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

static void json_event(struct gmt_out *o, const struct gmt_event *e)
{
	const struct gmt_event_hdr *h = &e->hdr;
	json_object *obj;
	char vm[32];

	if (h->type == GMT_EV_VM_GONE) {
		json_vm_gone(o, e);
		return;
	}
	obj = record(o, "event", h->ts_ns + o->real_off);

	json_object_object_add(obj, "event", J_STR(gmt_event_name(h->type)));
	json_object_object_add(obj, "ts_ns", J_U64(h->ts_ns));
	json_object_object_add(obj, "pid", J_I64(h->pid));
	json_object_object_add(obj, "tid", J_I64(h->tid));
	json_object_object_add(obj, "comm", json_object_new_string_len(h->comm,
					strnlen(h->comm, sizeof(h->comm))));
	json_object_object_add(obj, "cgroup_id", J_U64(h->cgroup_id));
	gmt_vm_label(vm, sizeof(vm), h->vm_pid, h->vm_fd);
	json_object_object_add(obj, "vm", J_STR(vm));
	json_object_object_add(obj, "vm_pid", J_I64(h->vm_pid));
	json_object_object_add(obj, "vm_fd", J_I64(h->vm_fd));
	json_object_object_add(obj, "vm_id", h->vm_key ? J_U64(h->vm_key) : NULL);
	json_object_object_add(obj, "fd", J_I64(h->fd));
	add_ret(obj, h->ret);
	json_object_object_add(obj, "latency_ns", J_U64(h->latency_ns));

	switch (h->type) {
	case GMT_EV_CONVERT: {
		const struct gmt_convert *c = &e->convert;
		__u64 ino, off;

		json_object_object_add(obj, "gen", J_STR(gmt_gen_name(c->gen)));
		json_object_object_add(obj, "uapi", J_STR(gmt_gen_uapi(c->gen, c->cmd)));
		add_hex(obj, "cmd", c->cmd);
		json_object_object_add(obj, "dir", J_STR(gmt_dir_name(c->dir)));
		if (c->gen == GMT_GEN_G1) {
			json_object_object_add(obj, "gpa", J_U64(c->start));
			if (gmt_memslots_translate(&o->slots, h->vm_key, c->start, &ino, &off)) {
				json_object_object_add(obj, "gmem_ino", J_U64(ino));
				json_object_object_add(obj, "gmem_offset", J_U64(off));
			}
		} else {
			json_object_object_add(obj, "gmem_ino", J_U64(c->gmem_ino));
			json_object_object_add(obj, "gmem_offset", J_U64(c->start));
		}
		json_object_object_add(obj, "size", J_U64(c->size));
		json_object_object_add(obj, "attributes", J_U64(c->attributes));
		json_object_object_add(obj, "flags", J_U64(c->flags));
		json_object_object_add(obj, "blocked", json_object_new_boolean(h->ret == -11));
		json_object_object_add(obj, "error_offset",
				       c->has_error_offset ? J_U64(c->error_offset) : NULL);
		json_object_object_add(obj, "kernel_latency_ns",
				       c->kernel_latency_ns ? J_U64(c->kernel_latency_ns) : NULL);
		json_object_object_add(obj, "source", J_STR(gmt_source_name(c->source)));
		{
			json_object *ph = json_object_new_object();
			int p;

			for (p = 0; p < GMT_PH_MAX; p++)
				if (c->phase_ns[p])
					json_object_object_add(ph, gmt_phase_name(p), J_U64(c->phase_ns[p]));
			json_object_object_add(obj, "phases_ns", ph);
		}
		if (c->folio.valid) {
			json_object *f = json_object_new_object();

			json_object_object_add(f, "index", J_U64(c->folio.index));
			json_object_object_add(f, "offset", J_U64(c->folio.index << 12));
			json_object_object_add(f, "refcount", J_U64(c->folio.refcount));
			json_object_object_add(f, "expected", J_U64(c->folio.expected));
			json_object_object_add(f, "mapcount", J_I64(c->folio.mapcount));
			{
				struct gmt_refs_verdict v;

				gmt_folio_decompose(&c->folio, &v);
				json_object_object_add(f, "pins", J_U64(v.pins));
				json_object_object_add(f, "other", J_U64(v.other));
				json_object_object_add(f, "lru_batch", J_U64(v.lru_batch));
			}
			json_object_object_add(f, "nr_pages", J_U64(c->folio.nr_pages));
			json_object_object_add(f, "lru", json_object_new_boolean(c->folio.lru));
			json_object_object_add(f, "exact", json_object_new_boolean(c->folio.exact));
			json_object_object_add(obj, "blocking_folio", f);
		} else {
			json_object_object_add(obj, "blocking_folio", NULL);
		}
		break;
	}
	case GMT_EV_GMEM_CREATE:
		json_object_object_add(obj, "size", J_U64(e->gmem_create.size));
		json_object_object_add(obj, "flags", J_U64(e->gmem_create.flags));
		json_object_object_add(obj, "gmem_fd", J_I64(h->ret >= 0 ? h->ret : -1));
		json_object_object_add(obj, "gmem_ino", J_U64(e->gmem_create.gmem_ino));
		break;
	case GMT_EV_MEMSLOT: {
		const struct gmt_memslot *m = &e->memslot;

		json_object_object_add(obj, "slot", J_U64(m->slot));
		json_object_object_add(obj, "flags", J_U64(m->flags));
		json_object_object_add(obj, "gpa", J_U64(m->gpa));
		json_object_object_add(obj, "size", J_U64(m->size));
		json_object_object_add(obj, "uaddr", J_U64(m->uaddr));
		json_object_object_add(obj, "gmem_fd", J_I64(m->gmem_fd));
		json_object_object_add(obj, "gmem_ino", J_U64(m->gmem_ino));
		json_object_object_add(obj, "gmem_offset", J_U64(m->gmem_offset));
		break;
	}
	case GMT_EV_FALLOCATE:
		json_object_object_add(obj, "mode", J_U64(e->fallocate.mode));
		json_object_object_add(obj, "punch_hole",
				       json_object_new_boolean(e->fallocate.mode & 2));
		json_object_object_add(obj, "gmem_ino", J_U64(e->fallocate.gmem_ino));
		json_object_object_add(obj, "gmem_offset", J_U64(e->fallocate.offset));
		json_object_object_add(obj, "size", J_U64(e->fallocate.len));
		break;
	case GMT_EV_VM_CREATE:
		json_object_object_add(obj, "vm_type", J_U64(e->vm_create.vm_type));
		break;
	case GMT_EV_GUEST_REQ: {
		const struct gmt_guest_req *g = &e->guest_req;

		json_object_object_add(obj, "kind", J_STR(g->kind == GMT_GREQ_MAP_GPA_RANGE ?
							  "map_gpa_range" : "memory_fault"));
		json_object_object_add(obj, "dir", J_STR(gmt_dir_name(g->dir)));
		json_object_object_add(obj, "gpa", J_U64(g->gpa));
		json_object_object_add(obj, "size", J_U64(g->size));
		json_object_object_add(obj, "flags", J_U64(g->flags));
		json_object_object_add(obj, "vcpu_fd", J_I64(g->vcpu_fd));
		json_object_object_add(obj, "conversions", J_U64(g->conversions));
		json_object_object_add(obj, "convert_ns", J_U64(g->convert_ns));
		/* latency_ns: the guest's wait, exit to re-entry; the rest was the VMM */
		json_object_object_add(obj, "vmm_ns", J_U64(e->hdr.latency_ns > g->convert_ns ?
							    e->hdr.latency_ns - g->convert_ns : 0));
		/* anything but reentry: the guest never got its answer while traced */
		json_object_object_add(obj, "complete",
				       json_object_new_boolean(g->end == GMT_GREQ_END_REENTRY));
		json_object_object_add(obj, "end", J_STR(gmt_greq_end_name(g->end)));
		break;
	}

	}
	emit(o, obj);
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
