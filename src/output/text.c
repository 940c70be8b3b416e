// SPDX-License-Identifier: GPL-2.0-only
/* Human-readable output: one line per event, key=value after a fixed prefix
 * so lines stay grep-able whatever the event kind. */
#include <string.h>

#include "escape.h"
#include "gmt_refs.h"
#include "hist.h"
#include "kvm_uapi.h"
#include "loader.h"
#include "output.h"
#include "stats.h"
#include "util.h"

static void put_ret(struct gmt_line *l, __s32 ret)
{
	const char *n = ret < 0 ? gmt_errno_name(-ret) : NULL;

	if (n)
		gmt_puts(l, n);
	else
		gmt_put_s64(l, ret);
}

/* "<pid>-<fd>", as gmt_vm_label */
static void put_vm(struct gmt_line *l, __s32 pid, __s32 fd)
{
	if (pid > 0) {
		gmt_put_s64(l, pid);
		gmt_putc(l, '-');
		if (fd >= 0)
			gmt_put_s64(l, fd);
		else
			gmt_putc(l, '?');
	} else {
		gmt_putc(l, '?');
	}
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

/* "<ino>:0x<off>" */
static void put_gmem(struct gmt_line *l, __u64 ino, __u64 off)
{
	gmt_put_u64(l, ino);
	gmt_putc(l, ':');
	gmt_put_hex(l, off);
}

/*
 * One line per record, built in a buffer and written with one fwrite: under
 * a storm of records stdio's per-field formatting was most of gmemtrace's
 * CPU. The comm is the process's choice: escaped (escape.h), spaces too, so
 * the line keeps its fields and a terminal only sees printable ASCII.
 */
static void text_event(struct gmt_out *o, const struct gmt_event *e)
{
	const struct gmt_event_hdr *h = &e->hdr;
	struct gmt_line l;
	size_t from;

	gmt_line_init(&l);
	gmt_put_time(&l, h->ts_ns + o->real_off, o->iso_time);
	gmt_putc(&l, ' ');
	if (h->type == GMT_EV_VM_GONE) {
		/* no process did this: gmemtrace learnt the VM is gone */
		gmt_puts(&l, "-               -         vm_gone     vm=");
		put_vm(&l, h->vm_pid, h->vm_fd);
		gmt_puts(&l, " how=");
		gmt_puts(&l, gmt_vm_end_name(e->vm_gone.how));
		*l.p++ = '\n';
		fwrite_unlocked(l.buf, 1, gmt_line_len(&l), o->f);
		o->lines++;
		return;
	}
	from = gmt_line_len(&l);
	gmt_put_esc(&l, h->comm, sizeof(h->comm), GMT_ESC_ASCII | GMT_ESC_SPACE);
	gmt_put_pad(&l, from, 15);
	gmt_putc(&l, ' ');
	gmt_put_s64(&l, (int)h->pid);
	gmt_putc(&l, '/');
	gmt_put_s64(&l, (int)h->tid);
	gmt_putc(&l, ' ');
	put_padded(&l, gmt_event_name(h->type), 11);
	gmt_puts(&l, " vm=");
	put_vm(&l, h->vm_pid, h->vm_fd);
	gmt_putc(&l, ' ');

	switch (h->type) {
	case GMT_EV_CONVERT: {
		const struct gmt_convert *c = &e->convert;
		__u64 ino, off;

		gmt_puts(&l, gmt_gen_name(c->gen));
		gmt_putc(&l, ' ');
		put_padded(&l, gmt_dir_name(c->dir), 10);
		gmt_putc(&l, ' ');
		if (c->gen == GMT_GEN_G1) {
			gmt_puts(&l, "gpa=");
			gmt_put_hex(&l, c->start);
			KV(&l, " size=", c->size);
			if (gmt_memslots_translate(&o->slots, h->vm_key, c->start, &ino, &off)) {
				gmt_puts(&l, " gmem=");
				put_gmem(&l, ino, off);
			}
		} else {
			gmt_puts(&l, "gmem=");
			put_gmem(&l, c->gmem_ino, c->start);
			KV(&l, " size=", c->size);
		}
		gmt_puts(&l, " ret=");
		put_ret(&l, h->ret);
		if (c->has_error_offset) {
			gmt_puts(&l, " error_offset=");
			gmt_put_hex(&l, c->error_offset);
		}
		if (h->ret == -11)	/* EAGAIN: the kernel refused, folios still referenced */
			gmt_puts(&l, " BLOCKED");
		if (c->folio.valid) {
			struct gmt_refs_verdict v;

			gmt_folio_decompose(&c->folio, &v);
			gmt_put_fmt(&l, " folio=0x%llx ref=%u expected=%u pins=%u other=%u map=%d%s%s",
				    c->folio.index << 12, c->folio.refcount, c->folio.expected,
				    v.pins, v.other, c->folio.mapcount,
				    v.lru_batch ? " lru_batch" : "",
				    c->folio.exact ? "" : " (read after the fact)");
		}
		if (c->kernel_latency_ns) {
			gmt_puts(&l, " klat=");
			gmt_put_ns(&l, c->kernel_latency_ns);
		}
		break;
	}
	case GMT_EV_GMEM_CREATE:
		KV(&l, "size=", e->gmem_create.size);
		gmt_puts(&l, " flags=");
		gmt_put_hex(&l, e->gmem_create.flags);
		gmt_puts(&l, " ret=");
		put_ret(&l, h->ret);
		if (e->gmem_create.gmem_ino)
			KV(&l, " ino=", e->gmem_create.gmem_ino);
		break;
	case GMT_EV_MEMSLOT: {
		const struct gmt_memslot *m = &e->memslot;

		KV(&l, "slot=", m->slot);
		gmt_puts(&l, " gpa=");
		gmt_put_hex(&l, m->gpa);
		KV(&l, " size=", m->size);
		gmt_puts(&l, " flags=");
		gmt_put_hex(&l, m->flags);
		if (m->flags & GMT_KVM_MEM_GUEST_MEMFD) {
			gmt_puts(&l, " gmem=");
			put_gmem(&l, m->gmem_ino, m->gmem_offset);
			gmt_puts(&l, " gmem_fd=");
			gmt_put_s64(&l, m->gmem_fd);
		}
		gmt_puts(&l, " ret=");
		put_ret(&l, h->ret);
		break;
	}
	case GMT_EV_FALLOCATE:
		gmt_puts(&l, "gmem=");
		put_gmem(&l, e->fallocate.gmem_ino, e->fallocate.offset);
		KV(&l, " len=", e->fallocate.len);
		gmt_puts(&l, " mode=");
		gmt_put_hex(&l, e->fallocate.mode);
		if (e->fallocate.mode & 2)
			gmt_puts(&l, " punch");
		gmt_puts(&l, " ret=");
		put_ret(&l, h->ret);
		break;
	case GMT_EV_VM_CREATE:
		KV(&l, "type=", e->vm_create.vm_type);
		gmt_puts(&l, " ret=");
		put_ret(&l, h->ret);
		break;
	case GMT_EV_GUEST_REQ: {
		const struct gmt_guest_req *g = &e->guest_req;

		gmt_puts(&l, g->kind == GMT_GREQ_MAP_GPA_RANGE ? "map_gpa_range" : "memory_fault");
		gmt_putc(&l, ' ');
		put_padded(&l, gmt_dir_name(g->dir), 10);
		gmt_puts(&l, " gpa=");
		gmt_put_hex(&l, g->gpa);
		KV(&l, " size=", g->size);
		gmt_puts(&l, " vcpu_fd=");
		gmt_put_s64(&l, g->vcpu_fd);
		KV(&l, " conversions=", g->conversions);
		gmt_puts(&l, " converting=");
		gmt_put_ns(&l, g->convert_ns);
		if (g->blocked)	/* EAGAIN: the VMM released a holder and retried */
			KV(&l, " blocked=", g->blocked);
		if (g->end != GMT_GREQ_END_REENTRY) {
			gmt_puts(&l, " INCOMPLETE(");
			gmt_puts(&l, gmt_greq_end_name(g->end));
			gmt_putc(&l, ')');
		}
		break;
	}

	}
	gmt_puts(&l, " lat=");
	gmt_put_ns(&l, h->latency_ns);
	*l.p++ = '\n';		/* the builder keeps this byte free */
	fwrite_unlocked(l.buf, 1, gmt_line_len(&l), o->f);
	o->lines++;
}

static void text_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	fprintf(stderr, "gmemtrace: lost %llu events (%llu in total): the ring buffer was "
		"full; use -b to enlarge it or filter with -p/-c\n", n, total);
}

static void text_attach(struct gmt_out *o, const struct gmt_session *s)
{
	int i, j, n = 0, kernel = 0;

	for (i = 0; i < s->nr_status; i++)
		n += s->status[i].state == GMT_ATT_ATTACHED;
	fprintf(stderr, "gmemtrace: %d programs attached:", n);
	for (i = 0; i < s->nr_status; i++) {
		const struct gmt_attach_status *st = &s->status[i];

		if (st->state != GMT_ATT_ATTACHED)
			continue;
		if (st->target) {
			/* the hook names the default target; show the chosen one */
			fprintf(stderr, " %.*s %s", (int)strcspn(st->spec->hook, " "),
				st->spec->hook, gmt_escape_str(st->target, GMT_ESC_ASCII));
			kernel++;
		} else {
			fprintf(stderr, " %s", st->spec->hook);
		}
	}
	fputc('\n', stderr);
	for (i = 0; i < s->nr_status; i++)
		if (s->status[i].state == GMT_ATT_FAILED)
			fprintf(stderr, "gmemtrace: not attached: %s (%s): %s\n",
				s->status[i].spec->prog, s->status[i].spec->hook,
				gmt_escape_str(s->status[i].reason, GMT_ESC_ASCII));
	if (!kernel)
		fprintf(stderr, "gmemtrace: no kernel-side backend here: conversions are timed at "
			"the syscall boundary only (see gmemtrace features)\n");
	/* one line per feature that could not be had, with -v */
	for (i = 0; gmt_verbose && i < s->nr_status; i++) {
		const struct gmt_attach_status *st = &s->status[i];
		bool dup = false;

		if (st->state != GMT_ATT_UNAVAILABLE)
			continue;
		for (j = 0; j < i; j++)
			if (s->status[j].state == GMT_ATT_UNAVAILABLE &&
			    !strcmp(s->status[j].spec->feature, st->spec->feature))
				dup = true;
		if (!dup)
			fprintf(stderr, "gmemtrace: %s unavailable: %s\n", st->spec->feature,
				gmt_escape_str(st->reason, GMT_ESC_ASCII));
	}
}

static void text_summary(struct gmt_out *o, const struct gmt_trace_summary *sum)
{
	int i;

	fprintf(o->f, "# %llu conversions, %llu gmem creates, %llu memslots, %llu fallocates, "
		"%llu VM creates, %llu VMs gone, %llu guest requests in %.2fs; %llu events lost",
		sum->events[GMT_EV_CONVERT], sum->events[GMT_EV_GMEM_CREATE],
		sum->events[GMT_EV_MEMSLOT], sum->events[GMT_EV_FALLOCATE],
		sum->events[GMT_EV_VM_CREATE], sum->events[GMT_EV_VM_GONE],
		sum->events[GMT_EV_GUEST_REQ], sum->duration_s, sum->lost);
	for (i = 1; i < GMT_CNT_MAX; i++)
		if (sum->counters[i])
			fprintf(o->f, "; %s %llu", gmt_counter_name(i), sum->counters[i]);
	if (sum->cmd_left_running)
		fprintf(o->f, "; command left running");
	else if (sum->cmd_stopped)
		fprintf(o->f, "; command stopped by gmemtrace");
	else if (sum->cmd_ran)
		fprintf(o->f, "; command exit status %d", sum->cmd_status);
	fputc('\n', o->f);
}

static void text_stat(struct gmt_out *o, const struct gmt_stat_snapshot *snap, bool hist)
{
	char ts[40];
	int i, j;

	gmt_fmt_time(ts, sizeof(ts), snap->real_ns, o->iso_time);
	fprintf(o->f, "%s  interval %.2fs  ringbuf drops %llu  VMs %d", ts, snap->interval_s,
		snap->counters[GMT_CNT_RB_DROPS], snap->nr_live_vms);
	/* conversions of VMs that got no stats slot: never silently missing */
	if (snap->counters[GMT_CNT_UNCOUNTED])
		fprintf(o->f, "  NOT COUNTED %llu conversions (stats map full: %llu VMs without a "
			"slot)", snap->counters[GMT_CNT_UNCOUNTED],
			snap->counters[GMT_CNT_STATS_FULL]);
	fputc('\n', o->f);
	if (!snap->nr_rows) {
		fprintf(o->f, "  (no conversions yet)\n");
		return;
	}
	fprintf(o->f, "  %-12s %-3s %-10s %9s %10s %9s %9s %9s %7s %7s %8s\n", "VM", "GEN",
		"DIR", "CONV/s", "BYTES/s", "P50", "P99", "MAX", "FAIL", "BLOCKED", "TOTAL");
	for (i = 0; i < snap->nr_rows; i++) {
		const struct gmt_stat_row *r = &snap->rows[i];
		double iv = snap->interval_s > 0 ? snap->interval_s : 1;
		char vm[32], bytes[24], p50[16], p99[16], max[16];

		gmt_vm_label(vm, sizeof(vm), r->total.vm_pid, r->total.vm_fd);
		gmt_fmt_bytes(bytes, sizeof(bytes), r->delta.bytes / iv);
		gmt_fmt_ns(p50, sizeof(p50), gmt_stat_percentile(r, 50));
		gmt_fmt_ns(p99, sizeof(p99), gmt_stat_percentile(r, 99));
		gmt_fmt_ns(max, sizeof(max), r->total.lat_max_ns);
		fprintf(o->f, "  %-12s %-3s %-10s %9.1f %10s %9s %9s %9s %7llu %7llu %8llu%s\n", vm,
			gmt_gen_name(r->key.gen), gmt_dir_name(r->key.dir), r->delta.count / iv,
			bytes, r->delta.count ? p50 : "-", r->delta.count ? p99 : "-", max,
			r->delta.failed, r->delta.blocked, r->total.count, r->gone ? "  (gone)" : "");
		for (j = 0; j < snap->nr_errs; j++) {
			const struct gmt_stat_err *e = &snap->errs[j];
			const char *n = gmt_errno_name(e->key.err);

			if (e->key.vm_key != r->key.vm_key || e->key.dir != r->key.dir ||
			    e->key.gen != r->key.gen || !e->delta)
				continue;
			if (n)
				fprintf(o->f, "  %-27s failed with %s: %llu\n", "", n, e->delta);
			else
				fprintf(o->f, "  %-27s failed with errno %u: %llu\n", "",
					e->key.err, e->delta);
		}
		if (r->delta.klat_count) {
			char kl[24], pv[24];

			gmt_fmt_ns(kl, sizeof(kl), r->delta.klat_sum_ns / r->delta.klat_count);
			fprintf(o->f, "  %-27s in kernel %s (mean); phases from syscall entry:", "",
				kl);
			for (j = 0; j < GMT_PH_MAX; j++) {
				if (!r->delta.phase_count[j])
					continue;
				gmt_fmt_ns(pv, sizeof(pv),
					   r->delta.phase_sum_ns[j] / r->delta.phase_count[j]);
				fprintf(o->f, " %s %s", gmt_phase_name(j), pv);
			}
			fputc('\n', o->f);
		}
		if (hist) {
			fprintf(o->f, "\n  %s %s %s latency:\n", vm, gmt_gen_name(r->key.gen),
				gmt_dir_name(r->key.dir));
			gmt_hist_print_log2(o->f, r->delta.hist, "nsecs");
			fputc('\n', o->f);
		}
	}
}

static void text_error(struct gmt_out *o, const char *what, const char *msg)
{
	/* messages may quote paths and names: nothing raw reaches the terminal */
	fprintf(stderr, "gmemtrace: %s: %s\n", what, gmt_escape_str(msg, GMT_ESC_ASCII));
}

static void text_fatal(struct gmt_out *o, const char *what, const char *msg, int exit_code)
{
	/* the message went to stderr with gmt_err: records stay records */
}

static void text_stat_summary(struct gmt_out *o, const struct gmt_stat_summary *sum)
{
	fprintf(o->f, "# %llu intervals in %.2fs", sum->intervals, sum->duration_s);
	if (sum->cmd_left_running)
		fprintf(o->f, "; command left running");
	else if (sum->cmd_stopped)
		fprintf(o->f, "; command stopped by gmemtrace");
	else if (sum->cmd_ran)
		fprintf(o->f, "; command exit status %d", sum->cmd_status);
	fputc('\n', o->f);
}

const struct gmt_out_ops gmt_out_text_ops = {
	.event = text_event,
	.lost = text_lost,
	.attach = text_attach,
	.summary = text_summary,
	.stat = text_stat,
	.error = text_error,
	.fatal = text_fatal,
	.stat_summary = text_stat_summary,
};
