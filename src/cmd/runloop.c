// SPDX-License-Identifier: GPL-2.0-only
/* The run loop shared by trace and stat: see runloop.h for the rules. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.skel.h"
#include "refs.h"
#include "runloop.h"
#include "util.h"
#include "vmemmap.h"

#define LIVENESS_NS	200000000ULL	/* how often the process tree is checked */
#define POLL_MAX_MS	100

void gmt_run_init(struct gmt_run *r, struct gmt_common_opts *opts,
		  const struct gmt_run_ops *ops, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->opts = opts;
	r->ops = ops;
	r->ctx = ctx;
	r->poll_fd = -1;
	r->child.pid = -1;
	r->child.guard_pid = -1;
	r->child.go_fd = r->child.err_fd = r->child.guard_fd = -1;
	r->s.cgroup_fd = -1;
	r->cmd_status = -1;
}

bool gmt_pid_alive(pid_t pid)
{
	char path[64], buf[1024], *p;
	int threads = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');	/* comm may hold anything, even ')' */
	if (!p || p[1] != ' ')
		return false;
	if (p[2] != 'Z' && p[2] != 'X')
		return true;
	/* a zombie leader whose other threads still run is alive */
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "Threads: %d", &threads) == 1)
			break;
	if (f)
		fclose(f);
	return threads > 1;
}

/* Any followed process alive? The kernel adds children to gmt_pids at fork;
 * a dead entry is removed here, so a recycled pid cannot keep the run going
 * or pull an unrelated process into the trace. */
static bool tree_alive(struct gmt_run *r)
{
	int fd = bpf_map__fd(r->s.skel->maps.gmt_pids), nd = 0, i;
	__u32 key = 0, next, dead[256];
	bool alive = false, first = true;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (gmt_pid_alive((pid_t)next))
			alive = true;
		else if (nd < (int)(sizeof(dead) / sizeof(dead[0])))
			dead[nd++] = next;
	}
	for (i = 0; i < nd; i++)
		bpf_map_delete_elem(fd, &dead[i]);
	return alive;
}

static bool out_pollable(struct gmt_out *o)
{
	struct stat st;

	/* a pipe or socket says POLLERR once its reader is gone, even while
	 * nothing is written */
	return o->f && !fstat(fileno(o->f), &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/* wait up to ms for records or an output error; read them; check the output */
static int poll_once(struct gmt_run *r, int ms, bool pollout)
{
	struct pollfd p[2];
	int n = 0, got;

	if (r->poll_fd >= 0)
		p[n++] = (struct pollfd){ .fd = r->poll_fd, .events = POLLIN };
	if (pollout)
		p[n++] = (struct pollfd){ .fd = fileno(r->out.f), .events = 0 };
	if (poll(p, n, ms) > 0 && pollout && (p[n - 1].revents & (POLLERR | POLLHUP)) &&
	    !r->out.werr)
		r->out.werr = EPIPE;
	if (r->ops->consume) {
		got = r->ops->consume(r);
		if (got < 0 && got != -EINTR) {
			gmt_err_what = "read";
			gmt_err("reading the ring buffer: %s", strerror(-got));
			return GMT_EXIT_RUNTIME;
		}
	}
	gmt_out_check(&r->out);
	return 0;
}

static bool group_alive(struct gmt_child *c)
{
	return c->pid > 0 && (!kill(-c->pid, 0) || errno != ESRCH);
}

/* the documented shutdown of a command still running when gmemtrace ends */
static void stop_command(struct gmt_run *r, bool pollout)
{
	struct gmt_child *c = &r->child;
	__u64 deadline;

	if (r->opts->keep_running) {
		r->cmd_left_running = true;
		gmt_info("leaving the command running (--keep-running)");
		return;
	}
	r->cmd_stopped = true;
	gmt_info("sending SIGTERM to the command's process group %d (grace %.1fs)", c->pid,
		 r->opts->grace_s);
	gmt_child_signal(c, SIGTERM);
	gmt_exiting = 0;	/* a second signal ends the grace */
	deadline = gmt_mono_ns() + (__u64)(r->opts->grace_s * 1e9);
	while (gmt_mono_ns() < deadline && !gmt_exiting) {
		/* what it does while exiting is still traced */
		poll_once(r, 20, pollout);
		gmt_child_reap(c);
		if (c->exited && !group_alive(c))
			break;
	}
	if (group_alive(c) || !c->exited)
		gmt_info("the command's group is still there: SIGKILL");
	gmt_child_kill(c);
}

static void drain(struct gmt_run *r)
{
	int i;

	/* whatever the kernel wrote before we stopped still counts */
	for (i = 0; r->ops->consume && i < 1000 && r->ops->consume(r) > 0; i++)
		;
}

/* -- CMD: let it run now that everything is attached */
static int release_command(struct gmt_run *r)
{
	int err = gmt_child_release(&r->child);

	if (!err) {
		r->cmd_ran = true;
		return 0;
	}
	gmt_err_what = "command";
	gmt_err("cannot run %s: %s", r->opts->cmd[0], strerror(-err));
	gmt_child_kill(&r->child);
	r->reason = GMT_END_ERROR;
	return GMT_EXIT_RUNTIME;
}

/* how long poll may wait: until the next tick at most */
static int poll_ms(const struct gmt_run *r, __u64 now, __u64 next_tick)
{
	if (!r->ops->tick || next_tick > now + POLL_MAX_MS * 1000000ULL)
		return POLL_MAX_MS;
	return next_tick > now ? (next_tick - now) / 1000000 : 0;
}

/* a due tick: 0 go on, else the end (reason set) with its code in *rc */
static bool run_tick(struct gmt_run *r, __u64 now, __u64 *next_tick, int *rc)
{
	int t;

	if (!r->ops->tick || now < *next_tick)
		return false;
	*next_tick += r->tick_ns;
	if (*next_tick <= now)	/* late (stopped?): no burst of ticks */
		*next_tick = now + r->tick_ns;
	t = r->ops->tick(r, false);
	if (t == 1)
		r->reason = GMT_END_DONE;
	else if (t)
		r->reason = GMT_END_ERROR;
	*rc = t > 1 ? t : 0;
	return t != 0;
}

/* has the direct child exited just now? (Ctrl-C at the terminal ends all) */
static bool child_exited_now(struct gmt_run *r)
{
	struct gmt_child *c = &r->child;
	bool had_tty = c->tty_given;

	if (!r->opts->cmd || c->exited || !gmt_child_reap(c))
		return false;
	/* Ctrl-C killed it at the terminal: the user wants all of it to
	 * stop, as a shell would */
	if (had_tty && (c->term_sig == SIGINT || c->term_sig == SIGQUIT))
		gmt_exiting = c->term_sig;
	return true;
}

static int loop(struct gmt_run *r)
{
	struct gmt_common_opts *o = r->opts;
	bool pollout = out_pollable(&r->out);
	__u64 now, next_tick, next_live;
	int rc = 0;

	r->start_ns = gmt_mono_ns();
	next_tick = r->start_ns + r->tick_ns;
	next_live = r->start_ns + LIVENESS_NS;
	if (o->cmd && release_command(r))
		return GMT_EXIT_RUNTIME;
	for (;;) {
		bool check_tree;

		if (gmt_exiting) {
			r->reason = GMT_END_SIGNAL;
			break;
		}
		rc = poll_once(r, poll_ms(r, gmt_mono_ns(), next_tick), pollout);
		if (rc) {
			r->reason = GMT_END_ERROR;
			break;
		}
		if (r->out.werr) {
			r->reason = GMT_END_OUTPUT;
			break;
		}
		now = gmt_mono_ns();
		if (run_tick(r, now, &next_tick, &rc))
			break;
		if (o->duration_s > 0 && now - r->start_ns >= (__u64)(o->duration_s * 1e9)) {
			r->reason = GMT_END_DURATION;
			break;
		}
		check_tree = child_exited_now(r);
		if (o->cfg.filter_pid && (check_tree || now >= next_live)) {
			next_live = now + LIVENESS_NS;
			if (!tree_alive(r)) {
				gmt_info("every traced process exited");
				r->reason = GMT_END_TREE;
				break;
			}
		}
	}
	if (o->cmd && r->cmd_ran) {
		gmt_child_reap(&r->child);
		if (!r->child.exited)
			stop_command(r, pollout);
	}
	drain(r);
	return rc;
}

/* the end of every command's output: the error record of a fatal exit, the
 * close, and the rule for a failed write (EPIPE is the reader's choice) */
static int finish_output(struct gmt_out *out, const struct gmt_common_opts *o, int rc)
{
	int werr;

	gmt_out_check(out);
	if (!out->werr)
		rc = gmt_exit_report(out, o->fmt, o->out_path, rc);
	werr = -gmt_out_close(out);
	if (werr == EPIPE) {
		/* like `yes | head`: the reader had enough, not an error */
		gmt_info("output closed by its reader: stopped");
	} else if (werr && (!rc || rc == GMT_EXIT_RUNTIME)) {
		gmt_err_what = "output";
		gmt_err("writing %s: %s", o->out_path && strcmp(o->out_path, "-") ?
			o->out_path : "standard output", strerror(werr));
		rc = GMT_EXIT_RUNTIME;
	}
	return rc;
}

/* an IOMMU registered with the kernel (/sys/class/iommu/dmar0, ...): without
 * one iommu:map never fires, and calibrating (refs' iterator loaded at
 * every start) would be work for nothing */
static bool host_has_iommu(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	bool any = false;

	while (d && !any && (e = readdir(d)))
		any = e->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

/*
 * --holders: the vmemmap base for the iommu:map attribution (without it,
 * said, tracing runs without that attribution) and the GMT_HOLDERS_DMA
 * testing knob. 0 or GMT_EXIT_USAGE.
 */
static int holders_prepare(struct gmt_config *cfg)
{
	const char *dma = getenv("GMT_HOLDERS_DMA");
	struct gmt_vmemmap v;

	if (!cfg->holders)
		return 0;
	if (dma && *dma && strcmp(dma, "off")) {
		gmt_err("GMT_HOLDERS_DMA=%s: only off (for testing: do not follow VFIO / iommufd "
			"ioctls) is known", dma);
		return GMT_EXIT_USAGE;
	}
	cfg->holders_dma_off = dma && *dma;
	if (!host_has_iommu())
		gmt_info("holders: IOMMU mappings (iommu:map) not followed: no IOMMU on this host "
			 "(/sys/class/iommu is empty)");
	else if (!gmt_refs_calibrate(&v))
		cfg->vmemmap_base = v.base;
	else
		gmt_info("holders: IOMMU mappings (iommu:map) not attributed: vmemmap base not "
			 "calibrated: %s", v.why);
	return 0;
}

int gmt_run(struct gmt_run *r)
{
	struct gmt_common_opts *o = r->opts;
	int rc, t;

	rc = gmt_validate(o);
	if (rc)
		return gmt_exit_report(NULL, o->fmt, o->out_path, rc);
	gmt_install_signals();
	gmt_err_what = "output";
	if (gmt_out_open(&r->out, o->fmt, o->out_path))
		return gmt_exit_report(NULL, o->fmt, o->out_path, GMT_EXIT_USAGE);
	r->out_open = true;
	r->out.iso_time = o->iso_time;

	if (o->cmd) {
		int err;

		gmt_err_what = "command";
		err = gmt_child_spawn(&r->child, o->cmd, o->keep_running);
		if (err) {
			gmt_err("cannot start %s: %s", o->cmd[0], strerror(-err));
			rc = GMT_EXIT_RUNTIME;
			goto out;
		}
		/* trace exactly the command and what it forks */
		o->cfg.filter_pid = true;
		o->cfg.pids[0] = r->child.pid;
		o->cfg.nr_pids = 1;
	}
	gmt_err_what = "attach";
	rc = holders_prepare(&o->cfg);
	if (!rc)
		rc = gmt_session_start(&r->s, &o->cfg);
	if (rc)
		goto out;
	rc = r->ops->attached ? r->ops->attached(r) : 0;
	gmt_out_check(&r->out);
	if (rc)
		goto out;
	rc = loop(r);
	if (r->ops->tick) {
		t = r->ops->tick(r, true);
		if (t > 1 && !rc)
			rc = t;
	}
	r->duration_s = (gmt_mono_ns() - r->start_ns) / 1e9;
	if (r->child.exited && !r->cmd_stopped)
		r->cmd_status = r->child.status;
	if (r->ops->end && r->reason != GMT_END_ERROR)
		r->ops->end(r);
out:
	gmt_session_stop(&r->s);
	if (o->cmd && r->child.pid > 0) {
		if (o->keep_running && r->cmd_ran)
			gmt_child_guard_done(&r->child);	/* none: nothing to stop */
		else
			gmt_child_kill(&r->child);
	}
	return finish_output(&r->out, o, rc);
}

int gmt_run_once(struct gmt_common_opts *o, int (*body)(struct gmt_out *out, void *ctx),
		 void *ctx)
{
	struct gmt_out out;
	int rc;

	rc = gmt_validate(o);
	if (rc)
		return gmt_exit_report(NULL, o->fmt, o->out_path, rc);
	gmt_install_signals();
	gmt_err_what = "output";
	if (gmt_out_open(&out, o->fmt, o->out_path))
		return gmt_exit_report(NULL, o->fmt, o->out_path, GMT_EXIT_USAGE);
	out.iso_time = o->iso_time;
	gmt_err_what = "setup";
	rc = body(&out, ctx);
	return finish_output(&out, o, rc);
}

int gmt_exit_report(struct gmt_out *out, enum gmt_format fmt, const char *path, int rc)
{
	struct gmt_out tmp;

	if (fmt != GMT_FMT_JSON || rc < GMT_EXIT_RUNTIME || rc > GMT_EXIT_UNSUPPORTED)
		return rc;
	if (out && out->f) {
		if (!out->werr) {
			gmt_out_fatal(out, gmt_err_what, gmt_last_error(), rc);
			gmt_out_check(out);
		}
		return rc;
	}
	/* not opened: a file given with -o stays untouched */
	if (path && strcmp(path, "-"))
		return rc;
	if (gmt_out_open(&tmp, fmt, NULL))
		return rc;
	gmt_out_fatal(&tmp, gmt_err_what, gmt_last_error(), rc);
	gmt_out_close(&tmp);
	return rc;
}
