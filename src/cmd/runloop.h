/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one run loop of the streaming commands (trace, stat): validation
 * before any output is opened, the command started stopped in its own
 * process group, attach, release, the loop (poll, ticks, duration, tree
 * liveness, signals, output errors), the shutdown rule, teardown and the
 * exit code with its JSON error record.
 *
 * Shutdown rule (gmemtrace(8)): tracing ends when every followed process has
 * exited (-- CMD or -p: the process tree, children included), at -d, on
 * SIGINT/SIGTERM/SIGHUP, when a command-specific end is reached (stat COUNT)
 * or when the output fails. If the command still runs then, its process
 * group gets SIGTERM, events are still read for --grace seconds (default 5)
 * while it exits, then SIGKILL; a second signal skips the grace. With
 * --keep-running it is left running. A write error is exit 1; EPIPE (the
 * reader went away, `| head`) ends the run with exit 0.
 */
#ifndef GMT_RUNLOOP_H
#define GMT_RUNLOOP_H

#include <stdbool.h>
#include <linux/types.h>

#include "child.h"
#include "cli.h"
#include "loader.h"
#include "output.h"

struct gmt_run;

struct gmt_run_ops {
	/* attached, the command not yet running: first records, ring buffer */
	int (*attached)(struct gmt_run *r);		/* GMT_EXIT_* */
	/* read what is ready: records read, or -errno */
	int (*consume)(struct gmt_run *r);
	/* every tick_ns, and once with last at the end: 0 go on, 1 done,
	 * else a GMT_EXIT_* code */
	int (*tick)(struct gmt_run *r, bool last);
	/* the closing record; the command fields below are final */
	void (*end)(struct gmt_run *r);
};

enum gmt_end_reason {
	GMT_END_NONE = 0,
	GMT_END_TREE,		/* every followed process exited */
	GMT_END_DURATION,	/* -d */
	GMT_END_SIGNAL,
	GMT_END_DONE,		/* the command's own end (stat COUNT) */
	GMT_END_OUTPUT,		/* the output failed or was closed */
	GMT_END_ERROR,
};

struct gmt_run {
	/* set by the command */
	struct gmt_common_opts *opts;
	const struct gmt_run_ops *ops;
	void *ctx;
	__u64 tick_ns;
	int poll_fd;		/* readable when consume has work; -1: none */
	/* state */
	struct gmt_out out;
	bool out_open;
	struct gmt_session s;
	struct gmt_child child;
	__u64 start_ns;
	enum gmt_end_reason reason;
	/* results, for the end record */
	double duration_s;
	bool cmd_ran;
	bool cmd_stopped;	/* gmemtrace signalled it before it exited */
	bool cmd_left_running;	/* --keep-running and still running */
	int cmd_status;		/* when it exited by itself */
};

void gmt_run_init(struct gmt_run *r, struct gmt_common_opts *opts,
		  const struct gmt_run_ops *ops, void *ctx);
/* everything from validation to teardown; returns the exit code */
int gmt_run(struct gmt_run *r);

/* A command that reports once (refs, features): the same validation, output
 * and exit rules as gmt_run, around body (which returns a GMT_EXIT_* code). */
int gmt_run_once(struct gmt_common_opts *o, int (*body)(struct gmt_out *out, void *ctx),
		 void *ctx);

/* The exit code rc of a command, after writing the JSON error record (type
 * "error", "what", "message", "exit_code") of a fatal one (1, 2, 3) to the
 * output: out if open and writable, else standard output when that is the
 * output (path NULL or "-"). */
int gmt_exit_report(struct gmt_out *out, enum gmt_format fmt, const char *path, int rc);

/* a followed process: exists and is not a zombie (or a zombie leader whose
 * other threads run) */
bool gmt_pid_alive(pid_t pid);

#endif /* GMT_RUNLOOP_H */
