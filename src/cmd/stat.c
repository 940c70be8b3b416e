// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace stat: per-VM conversion rates and latency from in-kernel
 * aggregates; no event stream, so it costs less than trace. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "command.h"
#include "child.h"
#include "cli.h"
#include "gmemtrace.skel.h"
#include "live.h"
#include "runloop.h"
#include "stats.h"
#include "util.h"
#include "vms.h"

static const char stat_doc[] =
"Per-VM conversion statistics, refreshed every INTERVAL seconds (default 1).\n"
"\n"
"For each VM, generation and direction: conversions/s, bytes/s, p50/p99\n"
"latency of the interval, the maximum since start, failures (by errno) and\n"
"blocked conversions (EAGAIN: a folio still had references). Aggregated in the\n"
"kernel: nothing is streamed per conversion. With --holders, also each VM's\n"
"holders now (long-term references on its guest_memfd pages, by kind) and the\n"
"bytes they pin; a VM whose holders went shows 0 once.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace stat                  # every second until Ctrl-C\n"
"  gmemtrace stat 5 12             # every 5 s, 12 times\n"
"  gmemtrace stat -H -p 4242       # with log2 latency histograms, one VMM\n"
"  gmemtrace stat --holders 5      # and who pins guest_memfd pages\n"
"  gmemtrace stat -f json -- gmem-workload --vms 2\n"
"\n"
"A summary closes the output: intervals, duration and the command's exit\n"
"status. -- CMD, -p and the shutdown of the command work as for trace.\n"
"\v"
"Exit status: 0 done (also when the output's reader went away: EPIPE), 1\n"
"runtime error (a failed write too), 2 usage error, 3 not root or the kernel\n"
"lacks what tracing needs (see `gmemtrace features`).";

struct stat_opts {
	struct gmt_common_opts c;
	double interval_s;
	unsigned long long count;	/* 0: unlimited */
	int positional;
	bool hist;
};

enum { OPT_HOLDERS = 0x200 };

static const struct argp_option stat_options[] = {
	{ NULL, 0, NULL, 0, "Stat options:", 3 },
	{ "histogram", 'H', NULL, 0, "Also print log2 latency histograms", 3 },
	{ "holders", OPT_HOLDERS, NULL, 0,
	  "Also show each VM's holders (io_uring buffers over guest_memfd mmaps) and the "
	  "guest_memfd bytes they pin", 3 },
	{ 0 },
};

static error_t stat_parse(int key, char *arg, struct argp_state *state)
{
	struct stat_opts *o = state->input;

	switch (key) {
	case 'H':
		o->hist = true;
		break;
	case OPT_HOLDERS:
		o->c.cfg.holders = true;
		break;
	case ARGP_KEY_ARG:
		if (o->positional == 0) {
			if (gmt_parse_seconds(arg, &o->interval_s) || o->interval_s < 0.01) {
				argp_error(state, "invalid interval '%s' (seconds, 0.01 to %.0f)",
					   arg, GMT_MAX_SECONDS);
				return EINVAL;
			}
		} else if (o->positional == 1) {
			if (gmt_parse_u64(arg, &o->count) || !o->count) {
				argp_error(state, "invalid count '%s' (a positive number)", arg);
				return EINVAL;
			}
		} else {
			argp_error(state, "unexpected argument '%s' (a command goes after --)", arg);
			return EINVAL;
		}
		o->positional++;
		break;
	default:
		return gmt_common_parse(key, arg, state, &o->c);
	}
	return 0;
}

struct stat_ctx {
	struct stat_opts *o;
	struct gmt_stat_snapshot prev;
	struct gmt_pol_live pols[GMT_POL_LIVE_MAX];
	unsigned long long printed;
	bool finished;		/* COUNT reached */
};

static int snapshot(struct gmt_run *r, struct stat_ctx *st)
{
	struct gmt_session *s = &r->s;
	struct gmt_stat_snapshot cur;
	int i, err;

	err = gmt_vms_stats_read(s, &st->prev, &cur);
	if (err) {
		gmt_err_what = "read";
		gmt_err("reading statistics: %s", strerror(-err));
		return GMT_EXIT_RUNTIME;
	}
	for (i = 0; i < GMT_CNT_MAX; i++)
		cur.counters[i] = gmt_session_counter(s, i);
	/* a policy running or pinned: its per-rule counters (docs/policy.md) */
	err = gmt_pol_live_read(s->skel, st->pols);
	cur.pols = st->pols;
	cur.nr_pols = err > 0 ? err : 0;
	gmt_out_stat(&r->out, &cur, st->o->hist);
	gmt_out_flush(&r->out);
	/* gone VMs had their last row: their slots serve new VMs */
	gmt_vms_recycle_slots(s, &cur);
	gmt_stats_free(&st->prev);
	st->prev = cur;
	st->printed++;
	return 0;
}

static int stat_attached(struct gmt_run *r)
{
	struct stat_ctx *st = r->ctx;

	if (gmt_verbose || r->opts->fmt == GMT_FMT_JSON) {
		gmt_out_attach(&r->out, &r->s);
		gmt_out_flush(&r->out);	/* readers wait for this record */
	}
	/* the first interval starts at attach: an empty snapshot taken now */
	st->prev.real_ns = gmt_mono_ns() + gmt_mono_to_real_offset();
	return 0;
}

/* one record per interval; at the end, the partial interval cut short */
static int stat_tick(struct gmt_run *r, bool last)
{
	struct stat_ctx *st = r->ctx;
	int err;

	if (st->finished)
		return 0;
	err = snapshot(r, st);
	if (err)
		return err;
	if (last || (st->o->count && st->printed >= st->o->count)) {
		st->finished = true;
		return 1;
	}
	return 0;
}

static void stat_end(struct gmt_run *r)
{
	struct stat_ctx *st = r->ctx;
	struct gmt_stat_summary sum = {
		.intervals = st->printed,
		.duration_s = r->duration_s,
		.cmd_status = r->cmd_status,
		.cmd_ran = r->cmd_ran,
		.cmd_stopped = r->cmd_stopped,
		.cmd_left_running = r->cmd_left_running,
	};

	gmt_session_helper_errors(&r->s, sum.helper_errors);
	gmt_out_stat_summary(&r->out, &sum);
}

static const struct gmt_run_ops stat_ops = {
	.attached = stat_attached,
	.tick = stat_tick,
	.end = stat_end,
};

static int cmd_stat(int argc, char **argv)
{
	struct argp argp = { NULL, stat_parse, "[INTERVAL [COUNT]] [-- CMD [ARG...]]", stat_doc,
			     NULL, NULL, NULL };
	struct stat_opts o = { .interval_s = 1, .c.takes_command = true };
	struct stat_ctx st = { .o = &o };
	struct gmt_run r;
	int rc;

	argp.options = gmt_merge_options(gmt_common_options, stat_options);
	o.c.cmd = gmt_split_command(&argc, argv, &o.c.dashdash);
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	o.c.cfg.emit_events = false;
	o.c.cfg.ringbuf_bytes = 4096;	/* nothing is streamed */

	gmt_run_init(&r, &o.c, &stat_ops, &st);
	r.tick_ns = (__u64)(o.interval_s * 1e9);
	rc = gmt_run(&r);
	gmt_stats_free(&st.prev);
	return rc;
}

GMT_COMMAND(stat_command) = {
	.name = "stat",
	.run = cmd_stat,
	.what = "per-VM conversion rates, latency percentiles, failures",
	.order = 2,
};
