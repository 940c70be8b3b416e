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

#include "child.h"
#include "cli.h"
#include "gmemtrace.skel.h"
#include "stats.h"
#include "util.h"
#include "vms.h"

static const char stat_doc[] =
"Per-VM conversion statistics, refreshed every INTERVAL seconds (default 1).\n"
"\n"
"For each VM, generation and direction: conversions/s, bytes/s, p50/p99\n"
"latency of the interval, the maximum since start, failures (by errno) and\n"
"blocked conversions (EAGAIN: a folio still had references). Aggregated in the\n"
"kernel: nothing is streamed per conversion.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace stat                  # every second until Ctrl-C\n"
"  gmemtrace stat 5 12             # every 5 s, 12 times\n"
"  gmemtrace stat -H -p 4242       # with log2 latency histograms, one VMM\n"
"  gmemtrace stat -f json -- gmem-workload --vms 2\n"
"\v"
"Exit status: 0 done, 1 runtime error, 2 usage error, 3 not root or the kernel\n"
"lacks what tracing needs (see `gmemtrace features`).";

struct stat_opts {
	struct gmt_common_opts c;
	double interval_s;
	unsigned long long count;	/* 0: unlimited */
	int positional;
	bool hist;
};

static const struct argp_option stat_options[] = {
	{ NULL, 0, NULL, 0, "Stat options:", 3 },
	{ "histogram", 'H', NULL, 0, "Also print log2 latency histograms", 3 },
	{ 0 },
};

static error_t stat_parse(int key, char *arg, struct argp_state *state)
{
	struct stat_opts *o = state->input;

	switch (key) {
	case 'H':
		o->hist = true;
		break;
	case ARGP_KEY_ARG:
		if (o->positional == 0) {
			if (gmt_parse_seconds(arg, &o->interval_s) || o->interval_s < 0.01) {
				argp_error(state, "invalid interval '%s' (seconds, >= 0.01)", arg);
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

static int snapshot(struct gmt_session *s, struct gmt_out *out, struct gmt_stat_snapshot *prev,
		    bool hist)
{
	struct gmt_stat_snapshot cur;
	int i, err;

	err = gmt_vms_stats_read(s, prev, &cur);
	if (err) {
		gmt_err("reading statistics: %s", strerror(-err));
		return GMT_EXIT_RUNTIME;
	}
	for (i = 0; i < GMT_CNT_MAX; i++)
		cur.counters[i] = gmt_session_counter(s, i);
	gmt_out_stat(out, &cur, hist);
	gmt_out_flush(out);
	/* gone VMs had their last row: their slots serve new VMs */
	gmt_vms_recycle_slots(s, &cur);
	gmt_stats_free(prev);
	*prev = cur;
	return 0;
}

int cmd_stat(int argc, char **argv)
{
	struct argp argp = { NULL, stat_parse, "[INTERVAL [COUNT]] [-- CMD [ARG...]]", stat_doc,
			     NULL, NULL, NULL };
	struct stat_opts o = { .interval_s = 1 };
	struct gmt_stat_snapshot prev = { 0 };
	struct gmt_session s = { 0 };
	struct gmt_child child = { .pid = -1 };
	struct gmt_out out;
	__u64 start, next;
	unsigned long long printed = 0;
	int err;

	argp.options = gmt_merge_options(gmt_common_options, stat_options);
	o.c.cmd = gmt_split_command(&argc, argv);
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	if (o.c.cfg.filter_pid && o.c.cmd) {
		gmt_err("-p and -- CMD cannot be combined");
		return GMT_EXIT_USAGE;
	}
	err = gmt_check_pids(&o.c.cfg);
	if (err)
		return err;
	o.c.cfg.emit_events = false;
	o.c.cfg.ringbuf_bytes = 4096;	/* nothing is streamed */

	if (gmt_out_open(&out, o.c.fmt, o.c.out_path))
		return GMT_EXIT_USAGE;
	out.iso_time = o.c.iso_time;
	gmt_install_signals();
	err = gmt_start_command(&o.c, &child);
	if (err)
		goto out;
	err = gmt_session_start(&s, &o.c.cfg);
	if (err)
		goto out;
	if (gmt_verbose || o.c.fmt == GMT_FMT_JSON) {
		gmt_out_attach(&out, &s);
		gmt_out_flush(&out);	/* readers wait for this record */
	}
	start = gmt_mono_ns();
	/* the first interval starts at attach: an empty snapshot taken now */
	prev.real_ns = start + gmt_mono_to_real_offset();
	if (o.c.cmd) {
		err = gmt_child_release(&child);
		if (err) {
			gmt_err("cannot run %s: %s", o.c.cmd[0], strerror(-err));
			err = GMT_EXIT_RUNTIME;
			goto out;
		}
	}

	next = start + (__u64)(o.interval_s * 1e9);
	while (!gmt_exiting) {
		__u64 now = gmt_mono_ns();
		bool last = false;

		if (o.c.duration_s > 0 && now - start >= o.c.duration_s * 1e9)
			last = true;
		if (o.c.cmd && gmt_child_reap(&child))
			last = true;
		if (o.c.cfg.nr_pids && !o.c.cmd && !gmt_any_pid_alive(&o.c.cfg))
			last = true;	/* the traced processes are gone */
		if (now >= next || last) {
			err = snapshot(&s, &out, &prev, o.hist);
			if (err)
				goto out;
			printed++;
			next += (__u64)(o.interval_s * 1e9);
			if (last || (o.count && printed >= o.count))
				break;
		}
		usleep(20000);
	}
	if (gmt_exiting)	/* the partial interval Ctrl-C cut short */
		err = snapshot(&s, &out, &prev, o.hist);
out:
	gmt_stats_free(&prev);
	gmt_session_stop(&s);
	if (o.c.cmd)
		gmt_child_kill(&child);
	gmt_out_close(&out);
	return err;
}
