// SPDX-License-Identifier: GPL-2.0-only
/* Human-readable output: one line per event, key=value after a fixed prefix
 * so lines stay grep-able whatever the event kind. Formats view records
 * (view.h) only. */
#include <string.h>

#include "escape.h"
#include "fmt.h"
#include "output.h"
#include "stat_policy.h"
#include "text.h"
#include "text_holders.h"
#include "util.h"

static void put_ret(struct gmt_line *l, const struct gmt_event_view *v)
{
	gmt_puts(l, " ret=");
	if (v->errno_name)
		gmt_puts(l, v->errno_name);
	else
		gmt_put_s64(l, v->ret);
}

static void put_padded(struct gmt_line *l, const char *s, size_t width)
{
	size_t from = gmt_line_len(l);

	gmt_puts(l, s);
	gmt_put_pad(l, from, width);
}

/* " key=<u64>" */
static void put_kv(struct gmt_line *l, const char *key, size_t klen, __u64 v)
{
	gmt_put(l, key, klen);
	gmt_put_u64(l, v);
}

#define KV(l, key, v)	put_kv(l, key, sizeof(key) - 1, v)

/* " key=0x<hex>" */
static void put_kx(struct gmt_line *l, const char *key, size_t klen, __u64 v)
{
	gmt_put(l, key, klen);
	gmt_put_hex(l, v);
}

#define KX(l, key, v)	put_kx(l, key, sizeof(key) - 1, v)

/* "<ino>:0x<off>" */
static void put_gmem(struct gmt_line *l, __u64 ino, __u64 off)
{
	gmt_put_u64(l, ino);
	gmt_putc(l, ':');
	gmt_put_hex(l, off);
}

static void put_end(struct gmt_out *o, struct gmt_line *l)
{
	*l->p++ = '\n';		/* the builder keeps this byte free */
	fwrite_unlocked(l->buf, 1, gmt_line_len(l), o->f);
	o->lines++;
}

static void text_convert(struct gmt_line *l, const struct gmt_event_view *v, bool iso)
{
	const struct gmt_convert_view *c = &v->convert;

	gmt_puts(l, c->gen);
	gmt_putc(l, ' ');
	put_padded(l, c->dir, 10);
	gmt_putc(l, ' ');
	if (c->has_gpa) {
		KX(l, "gpa=", c->gpa);
		KV(l, " size=", c->size);
		if (c->has_gmem) {
			gmt_puts(l, " gmem=");
			put_gmem(l, c->gmem_ino, c->gmem_offset);
		}
	} else {
		gmt_puts(l, "gmem=");
		put_gmem(l, c->gmem_ino, c->gmem_offset);
		KV(l, " size=", c->size);
	}
	put_ret(l, v);
	if (c->has_error_offset)
		KX(l, " error_offset=", c->error_offset);
	if (c->blocked)
		gmt_puts(l, " BLOCKED");
	if (c->has_folio)
		gmt_put_fmt(l, " folio=0x%llx ref=%u expected=%u pins=%u other=%u map=%d%s%s",
			    c->folio.offset, c->folio.refcount, c->folio.expected, c->folio.pins,
			    c->folio.other, c->folio.mapcount,
			    c->folio.lru_batch ? " lru_batch" : "",
			    c->folio.exact ? "" : " (read after the fact)");
	if (c->blocked)
		gmt_text_blockers(l, &c->holders, iso);
	if (c->has_kernel_latency) {
		gmt_puts(l, " klat=");
		gmt_put_ns(l, c->kernel_latency_ns);
	}
}

static void text_memslot(struct gmt_line *l, const struct gmt_event_view *v)
{
	const struct gmt_memslot_view *m = &v->memslot;

	KV(l, "slot=", m->slot);
	KX(l, " gpa=", m->gpa);
	KV(l, " size=", m->size);
	KX(l, " flags=", m->flags);
	if (m->gmem_bound) {
		gmt_puts(l, " gmem=");
		put_gmem(l, m->gmem_ino, m->gmem_offset);
		gmt_puts(l, " gmem_fd=");
		gmt_put_s64(l, m->gmem_fd);
	}
	put_ret(l, v);
}

static void text_guest_req(struct gmt_line *l, const struct gmt_event_view *v)
{
	const struct gmt_guest_req_view *g = &v->guest_req;

	gmt_puts(l, g->kind);
	gmt_putc(l, ' ');
	put_padded(l, g->dir, 10);
	KX(l, " gpa=", g->gpa);
	KV(l, " size=", g->size);
	gmt_puts(l, " vcpu_fd=");
	gmt_put_s64(l, g->vcpu_fd);
	KV(l, " conversions=", g->conversions);
	gmt_puts(l, " converting=");
	gmt_put_ns(l, g->convert_ns);
	if (g->blocked)	/* the VMM released a holder and retried */
		KV(l, " blocked=", g->blocked);
	if (!g->complete) {
		gmt_puts(l, " INCOMPLETE(");
		gmt_puts(l, g->end);
		gmt_putc(l, ')');
	}
}

/* kind ring_fd= index= | container_fd= iova= | iommufd= ioas= iova=,
 * then gmem=ino:off size= uaddr= id= [how= held=] [stack=f0;f1] */
/* rule=7 deny mode=monitor would_deny G1 to_private gpa=0x.. size=4096 */
static void text_policy(struct gmt_line *l, const struct gmt_policy_view *p)
{
	if (p->is_default)
		gmt_puts(l, "rule=default");
	else
		KV(l, "rule=", p->rule_id);
	gmt_putc(l, ' ');
	gmt_puts(l, p->action);
	gmt_puts(l, " mode=");
	gmt_puts(l, p->mode);
	if (p->would_deny)
		gmt_puts(l, " would_deny");
	if (p->read_failed)
		gmt_puts(l, " unreadable_arg");
	gmt_putc(l, ' ');
	gmt_puts(l, p->gen);
	gmt_putc(l, ' ');
	gmt_puts(l, p->dir);
	if (p->has_gpa) {
		KX(l, " gpa=", p->start);
	} else {
		KV(l, " gmem=", p->gmem_ino);
		KX(l, ":", p->start);
	}
	KV(l, " size=", p->size);
}

/* the decision as above, then what the kernel converted: kernel=0x..+4096 [KILLED] */
static void text_policy_toctou(struct gmt_line *l, const struct gmt_policy_toctou_view *t)
{
	text_policy(l, &t->decided);
	KX(l, " kernel=", t->kern_start);
	KV(l, "+", t->kern_size);
	if (t->kern_attributes != t->decided.attributes)
		KX(l, " kernel_attributes=", t->kern_attributes);
	if (t->killed)
		gmt_puts(l, " KILLED");
}

static void text_holder(struct gmt_line *l, const struct gmt_holder_view *h)
{
	gmt_puts(l, h->kind);
	if (h->kernel_side) {
		KV(l, " pins=", h->pins);
		KX(l, " folio=", h->folio);
	} else if (h->holder_kind == GMT_HOLD_VFIO_DMA) {
		gmt_puts(l, " container_fd=");
		gmt_put_s64(l, h->ring_fd);
		KX(l, " iova=", h->iova);
	} else if (h->holder_kind == GMT_HOLD_IOMMUFD) {
		gmt_puts(l, " iommufd=");
		gmt_put_s64(l, h->ring_fd);
		KV(l, " ioas=", h->index);
		KX(l, " iova=", h->iova);
	} else {
		gmt_puts(l, " ring_fd=");
		gmt_put_s64(l, h->ring_fd);
		KV(l, " index=", h->index);
	}
	gmt_puts(l, " gmem=");
	put_gmem(l, h->gmem_ino, h->gmem_offset);
	KV(l, " size=", h->size);
	if (!h->kernel_side)
		KX(l, " uaddr=", h->uaddr);
	KV(l, " id=", h->id);
	if (h->end) {
		gmt_puts(l, " how=");
		gmt_puts(l, h->end);
		if (!h->kernel_side) {
			gmt_puts(l, " held=");
			gmt_put_ns(l, h->held_ns);
		}
	}
	gmt_text_stack(l, " kstack=", h->kframes, h->kframe_ips, h->nr_kframes);
	gmt_text_stack(l, " stack=", h->frames, h->frame_ips, h->nr_frames);
}

static void text_body(struct gmt_line *l, const struct gmt_event_view *v, bool iso)
{
	switch (v->type) {
	case GMT_EV_CONVERT:
		text_convert(l, v, iso);
		break;
	case GMT_EV_GMEM_CREATE:
		KV(l, "size=", v->gmem_create.size);
		KX(l, " flags=", v->gmem_create.flags);
		put_ret(l, v);
		if (v->gmem_create.gmem_ino)
			KV(l, " ino=", v->gmem_create.gmem_ino);
		break;
	case GMT_EV_MEMSLOT:
		text_memslot(l, v);
		break;
	case GMT_EV_FALLOCATE:
		gmt_puts(l, "gmem=");
		put_gmem(l, v->fallocate.gmem_ino, v->fallocate.offset);
		KV(l, " len=", v->fallocate.len);
		KX(l, " mode=", v->fallocate.mode);
		if (v->fallocate.punch_hole)
			gmt_puts(l, " punch");
		put_ret(l, v);
		break;
	case GMT_EV_VM_CREATE:
		KV(l, "type=", v->vm_type);
		put_ret(l, v);
		break;
	case GMT_EV_GUEST_REQ:
		text_guest_req(l, v);
		break;
	case GMT_EV_HOLDER_START:
	case GMT_EV_HOLDER_END:
		text_holder(l, &v->holder);
		break;
	case GMT_EV_POLICY:
		text_policy(l, &v->policy);
		put_ret(l, v);
		break;
	case GMT_EV_POLICY_TOCTOU:
		text_policy_toctou(l, &v->policy_toctou);
		break;
	}
}

/*
 * One line per record, built in a buffer and written with one fwrite: under
 * a storm of records stdio's per-field formatting was most of gmemtrace's
 * CPU. The comm is the process's choice: escaped (escape.h), spaces too, so
 * the line keeps its fields and a terminal only sees printable ASCII.
 */
static void text_event(struct gmt_out *o, const struct gmt_event_view *v)
{
	struct gmt_line l;
	size_t from;

	gmt_line_init(&l);
	gmt_put_time(&l, v->real_ns, o->iso_time);
	gmt_putc(&l, ' ');
	if (v->type == GMT_EV_VM_GONE) {
		/* no process did this: gmemtrace learnt the VM is gone */
		gmt_puts(&l, "-               -         vm_gone     vm=");
		gmt_put(&l, v->vm.label, v->vm.label_len);
		gmt_puts(&l, " how=");
		gmt_puts(&l, v->vm_gone_how);
		put_end(o, &l);
		return;
	}
	from = gmt_line_len(&l);
	gmt_put_esc(&l, v->comm, GMT_COMM_LEN, GMT_ESC_ASCII | GMT_ESC_SPACE);
	gmt_put_pad(&l, from, 15);
	gmt_putc(&l, ' ');
	gmt_put_s64(&l, (int)v->pid);
	gmt_putc(&l, '/');
	gmt_put_s64(&l, (int)v->tid);
	gmt_putc(&l, ' ');
	put_padded(&l, v->name, 11);
	gmt_puts(&l, " vm=");
	gmt_put(&l, v->vm.label, v->vm.label_len);
	gmt_putc(&l, ' ');
	text_body(&l, v, o->iso_time);
	if (v->type != GMT_EV_HOLDER_START && v->type != GMT_EV_HOLDER_END &&
	    v->type != GMT_EV_POLICY && v->type != GMT_EV_POLICY_TOCTOU) {
		gmt_puts(&l, " lat=");
		gmt_put_ns(&l, v->latency_ns);
	}
	put_end(o, &l);
}

static void text_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	fprintf(stderr, "gmemtrace: lost %llu events (%llu in total): the ring buffer was "
		"full; use -b to enlarge it or filter with -p/-c\n", n, total);
}

static void text_attach(struct gmt_out *o, const struct gmt_attach_view *v)
{
	int i;

	fprintf(stderr, "gmemtrace: %d programs attached:", v->nr_attached);
	for (i = 0; i < v->nr_progs; i++) {
		const struct gmt_prog_view *p = &v->progs[i];

		if (!p->attached)
			continue;
		if (p->target)	/* the hook names the default target; show the chosen one */
			fprintf(stderr, " %.*s %s", p->hook_kind_len, p->hook,
				gmt_escape_str(p->target, GMT_ESC_ASCII));
		else
			fprintf(stderr, " %s", p->hook);
	}
	fputc('\n', stderr);
	for (i = 0; i < v->nr_progs; i++)
		if (v->progs[i].failed)
			fprintf(stderr, "gmemtrace: not attached: %s (%s): %s\n", v->progs[i].program,
				v->progs[i].hook,
				gmt_escape_str(v->progs[i].reason ?: "", GMT_ESC_ASCII));
	if (!v->nr_kernel)
		fprintf(stderr, "gmemtrace: no kernel-side backend here: conversions are timed at "
			"the syscall boundary only (see gmemtrace features)\n");
	/* one line per feature that could not be had, with -v or when asked for */
	for (i = 0; i < v->nr_progs; i++)
		if (v->progs[i].first_of_feature && (gmt_verbose || v->progs[i].asked_for))
			fprintf(stderr, "gmemtrace: %s unavailable: %s\n", v->progs[i].feature,
				gmt_escape_str(v->progs[i].reason ?: "", GMT_ESC_ASCII));
}

static void text_cmd_end(struct gmt_out *o, const struct gmt_end_view *v)
{
	if (v->cmd == GMT_CMD_LEFT_RUNNING)
		fprintf(o->f, "; command left running");
	else if (v->cmd == GMT_CMD_STOPPED)
		fprintf(o->f, "; command stopped by gmemtrace");
	else if (v->cmd == GMT_CMD_EXITED)
		fprintf(o->f, "; command exit status %d", v->cmd_status);
	fputc('\n', o->f);
}

#define EVENTS(v, type)	((v)->events[(type) - 1].v)

/* BPF helper failures, said where they happened (only when there were any) */
static void text_helper_errors(struct gmt_out *o, const struct gmt_end_view *v)
{
	int i;

	for (i = 0; i < GMT_SITE_MAX - 1; i++)
		if (v->helper_errors[i].v)
			fprintf(o->f, "; helper errors at %s %llu", v->helper_errors[i].name,
				v->helper_errors[i].v);
}

static void text_summary(struct gmt_out *o, const struct gmt_end_view *v)
{
	int i;

	fprintf(o->f, "# %llu conversions, %llu gmem creates, %llu memslots, %llu fallocates, "
		"%llu VM creates, %llu VMs gone, %llu guest requests in %.2fs; %llu events lost",
		EVENTS(v, GMT_EV_CONVERT), EVENTS(v, GMT_EV_GMEM_CREATE),
		EVENTS(v, GMT_EV_MEMSLOT), EVENTS(v, GMT_EV_FALLOCATE),
		EVENTS(v, GMT_EV_VM_CREATE), EVENTS(v, GMT_EV_VM_GONE),
		EVENTS(v, GMT_EV_GUEST_REQ), v->duration_s, v->lost);
	for (i = 1; i < GMT_CNT_MAX; i++)
		if (v->counters[i].v)
			fprintf(o->f, "; %s %llu", v->counters[i].name, v->counters[i].v);
	text_helper_errors(o, v);
	text_cmd_end(o, v);
}

static void text_stat_summary(struct gmt_out *o, const struct gmt_end_view *v)
{
	fprintf(o->f, "# %llu intervals in %.2fs", v->intervals, v->duration_s);
	text_helper_errors(o, v);
	text_cmd_end(o, v);
}

/* the lines under a row: failures by errno, in-kernel time, the histogram */
static void text_stat_details(struct gmt_out *o, const struct gmt_stat_row_view *r, bool hist)
{
	char kl[24], pv[24];
	int j;

	for (j = 0; j < r->nr_errs; j++) {
		const struct gmt_err_view *e = &r->errs[j];

		if (!e->delta)
			continue;
		if (e->name)
			fprintf(o->f, "  %-27s failed with %s: %llu\n", "", e->name, e->delta);
		else
			fprintf(o->f, "  %-27s failed with errno %u: %llu\n", "", e->err, e->delta);
	}
	if (r->has_kernel_latency) {
		gmt_fmt_ns(kl, sizeof(kl), r->kernel_latency_avg_ns);
		fprintf(o->f, "  %-27s in kernel %s (mean); phases from syscall entry:", "", kl);
		for (j = 0; j < r->nr_phases; j++) {
			gmt_fmt_ns(pv, sizeof(pv), r->phases[j].ns);
			fprintf(o->f, " %s %s", r->phases[j].name, pv);
		}
		fputc('\n', o->f);
	}
	if (hist) {
		fprintf(o->f, "\n  %s %s %s latency:\n", r->vm.label, r->gen, r->dir);
		gmt_fmt_log2_table(o->f, r->pow2, 64, "nsecs");
		fputc('\n', o->f);
	}
}

static void text_stat_row(struct gmt_out *o, const struct gmt_stat_row_view *r)
{
	char bytes[24], p50[16], p99[16], max[16];

	gmt_fmt_bytes(bytes, sizeof(bytes), r->bytes_rate);
	gmt_fmt_ns(p50, sizeof(p50), r->p50_ns);
	gmt_fmt_ns(p99, sizeof(p99), r->p99_ns);
	gmt_fmt_ns(max, sizeof(max), r->max_ns);
	fprintf(o->f, "  %-12s %-3s %-10s %9.1f %10s %9s %9s %9s %7llu %7llu %8llu%s\n",
		r->vm.label, r->gen, r->dir, r->rate, bytes, r->has_percentiles ? p50 : "-",
		r->has_percentiles ? p99 : "-", max, r->interval.failed, r->interval.blocked,
		r->total.count, r->gone ? "  (gone)" : "");
}

static void text_stat(struct gmt_out *o, const struct gmt_stat_view *v)
{
	char ts[40];
	int i;

	gmt_fmt_time(ts, sizeof(ts), v->real_ns, o->iso_time);
	fprintf(o->f, "%s  interval %.2fs  ringbuf drops %llu  VMs %d", ts, v->interval_s,
		v->drops, v->nr_live_vms);
	/* conversions of VMs that got no stats slot: never silently missing */
	if (v->uncounted)
		fprintf(o->f, "  NOT COUNTED %llu conversions (stats map full: %llu VMs without a "
			"slot)", v->uncounted, v->stats_full);
	fputc('\n', o->f);
	if (!v->nr_rows) {
		fprintf(o->f, "  (no conversions yet)\n");
		gmt_text_stat_policy(o->f, v->pols, v->nr_pols);
		gmt_text_stat_holders(o->f, v);
		return;
	}
	fprintf(o->f, "  %-12s %-3s %-10s %9s %10s %9s %9s %9s %7s %7s %8s\n", "VM", "GEN",
		"DIR", "CONV/s", "BYTES/s", "P50", "P99", "MAX", "FAIL", "BLOCKED", "TOTAL");
	for (i = 0; i < v->nr_rows; i++) {
		text_stat_row(o, &v->rows[i]);
		text_stat_details(o, &v->rows[i], v->hist);
	}
	gmt_text_stat_policy(o->f, v->pols, v->nr_pols);
	gmt_text_stat_holders(o->f, v);
}

static void text_error(struct gmt_out *o, const char *what, const char *msg)
{
	/* messages may quote paths and names: nothing raw reaches the terminal */
	fprintf(stderr, "gmemtrace: %s: %s\n", what, gmt_escape_str(msg, GMT_ESC_ASCII));
}

/* fatal: nothing; the message went to stderr with gmt_err: records stay records */

/* ---- features ---- */

static void text_features(struct gmt_out *o, const struct gmt_features_view *v)
{
	static const char *const st[] = { "no ", "yes", "n/a" };
	int s, i;

	fprintf(o->f, "gmemtrace features on Linux %s (%s)\n", v->kernel, v->machine);
	for (s = 0; s < v->nr_sections; s++) {
		fprintf(o->f, "\n%s\n", v->sections[s].title);
		for (i = 0; i < v->nr_rows; i++)
			if (!strcmp(v->rows[i].section, v->sections[s].key))
				fprintf(o->f, "  %-30s %s  %s\n", v->rows[i].name,
					st[v->rows[i].state], v->rows[i].detail);
	}
}

static const struct gmt_out_ops text_ops = {
	.event = text_event,
	.lost = text_lost,
	.attach = text_attach,
	.summary = text_summary,
	.stat = text_stat,
	.stat_summary = text_stat_summary,
	.error = text_error,
	.refs_gmem = text_refs_gmem,
	.refs_folio = text_refs_folio,
	.refs_summary = text_refs_summary,
	.refs_total = text_refs_total,
	.features = text_features,
	.unpin = text_unpin,
};

GMT_OUT_FORMAT(text, "text", GMT_FMT_TEXT, &text_ops)
