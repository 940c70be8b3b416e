// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "cli.h"
#include "util.h"

enum {
	OPT_CGROUP = 0x100,
	OPT_ISO,
	OPT_KBACKEND,
};

const struct argp_option gmt_common_options[] = {
	{ NULL, 0, NULL, 0, "Filters (applied in the kernel):", 1 },
	{ "pid", 'p', "PID", 0, "Only this process and its children (repeatable)", 1 },
	{ "comm", 'c', "COMM", 0, "Only threads whose comm is exactly COMM", 1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "Only tasks in this cgroup v2 directory or below", 1 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "format", 'f', "text|json", 0, "Output format (default text; json is one object per line)", 2 },
	{ "output", 'o', "FILE", 0, "Write records to FILE instead of standard output", 2 },
	{ "iso-time", OPT_ISO, NULL, 0, "Text timestamps as RFC 3339 UTC", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS", 2 },
	{ "verbose", 'v', NULL, 0, "Say what is loaded and why; show libbpf messages", 2 },
	{ "kernel-backend", OPT_KBACKEND, "auto|fentry|kprobe|none", 0,
	  "In-kernel latency, phases and refcount check: auto (fentry, else kprobe; default), "
	  "fentry only, kprobe first, or none (syscall tracepoints only)", 2 },
	{ 0 },
};

error_t gmt_argp_format(struct argp_state *state, const char *arg, enum gmt_format *fmt)
{
	if (!gmt_parse_format(arg, fmt))
		return 0;
	argp_error(state, "unknown format '%s' (text or json)", arg);
	return EINVAL;
}

error_t gmt_common_parse(int key, char *arg, struct argp_state *state, struct gmt_common_opts *o)
{
	unsigned long long v;

	switch (key) {
	case 'p':
		if (gmt_parse_u64(arg, &v) || v == 0 || v > 4194304) {
			argp_error(state, "invalid PID '%s'", arg);
			return EINVAL;
		}
		if (o->cfg.nr_pids >= GMT_MAX_PIDS) {
			argp_error(state, "at most %d -p options", GMT_MAX_PIDS);
			return EINVAL;
		}
		o->cfg.pids[o->cfg.nr_pids++] = (pid_t)v;
		o->cfg.filter_pid = true;
		break;
	case 'c':
		if (!*arg || strlen(arg) >= 16) {
			argp_error(state, "COMM must be 1 to 15 characters (the kernel's comm length): '%s'", arg);
			return EINVAL;
		}
		o->cfg.comm = arg;
		break;
	case OPT_CGROUP:
		o->cfg.cgroup = arg;
		break;
	case 'f':
		return gmt_argp_format(state, arg, &o->fmt);
	case 'o':
		o->out_path = arg;
		break;
	case OPT_ISO:
		o->iso_time = true;
		break;
	case 'd':
		if (gmt_parse_seconds(arg, &o->duration_s) || o->duration_s <= 0) {
			argp_error(state, "invalid duration '%s' (seconds, e.g. 10 or 0.5)", arg);
			return EINVAL;
		}
		break;
	case 'v':
		gmt_verbose = true;
		break;
	case OPT_KBACKEND:
		if (gmt_parse_kernel_pref(arg, &o->cfg.kernel_pref)) {
			argp_error(state, "unknown kernel backend '%s' (auto, fentry, kprobe or none)", arg);
			return EINVAL;
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

volatile sig_atomic_t gmt_exiting;

static void on_signal(int sig)
{
	gmt_exiting = sig;
}

void gmt_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* a closed pipe (trace | head) ends tracing, not the process */
	signal(SIGPIPE, SIG_IGN);
}

struct argp_option *gmt_merge_options(const struct argp_option *a, const struct argp_option *b)
{
	static struct argp_option all[64];
	int n = 0, k;

	for (k = 0; a[k].name || a[k].doc; k++)
		all[n++] = a[k];
	for (k = 0; b[k].name || b[k].doc; k++)
		all[n++] = b[k];
	memset(&all[n], 0, sizeof(all[n]));
	return all;
}

int gmt_check_pids(const struct gmt_config *cfg)
{
	int i;

	for (i = 0; i < cfg->nr_pids; i++) {
		if (kill(cfg->pids[i], 0) && errno == ESRCH) {
			gmt_err("no process with pid %d", cfg->pids[i]);
			return GMT_EXIT_USAGE;
		}
	}
	return 0;
}

bool gmt_any_pid_alive(const struct gmt_config *cfg)
{
	int i;

	for (i = 0; i < cfg->nr_pids; i++)
		if (!kill(cfg->pids[i], 0) || errno != ESRCH)
			return true;
	return false;
}

char **gmt_split_command(int *argc, char **argv)
{
	int i;

	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			*argc = i;
			return argv[i + 1] ? &argv[i + 1] : NULL;
		}
	}
	return NULL;
}

int gmt_start_command(struct gmt_common_opts *o, struct gmt_child *child)
{
	int err;

	if (!o->cmd)
		return 0;
	err = gmt_child_spawn(child, o->cmd);
	if (err) {
		gmt_err("cannot start %s: %s", o->cmd[0], strerror(-err));
		return GMT_EXIT_RUNTIME;
	}
	/* trace exactly the command (and what it forks) */
	o->cfg.filter_pid = true;
	o->cfg.pids[0] = child->pid;
	o->cfg.nr_pids = 1;
	return 0;
}
