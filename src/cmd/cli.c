// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "child.h"
#include "cli.h"
#include "util.h"

enum {
	OPT_CGROUP = 0x100,
	OPT_ISO,
	OPT_KBACKEND,
	OPT_GRACE,
	OPT_KEEP,
	OPT_FOLLOW_MAX,
};

const struct argp_option gmt_common_options[] = {
	{ NULL, 0, NULL, 0, "Filters (applied in the kernel):", 1 },
	{ "pid", 'p', "PID", 0, "Only this process and its children (repeatable)", 1 },
	{ "comm", 'c', "COMM", 0, "Only threads whose comm is exactly COMM", 1 },
	{ "cgroup", OPT_CGROUP, "PATH", 0, "Only tasks in this cgroup v2 directory or below", 1 },
	{ "follow-max", OPT_FOLLOW_MAX, "N", 0, "With -p or -- CMD: follow at most N processes at "
	  "once (default 16384); children beyond it are not traced and are counted", 1 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "format", 'f', "text|json", 0, "Output format (default text; json is one object per line)", 2 },
	{ "output", 'o', "FILE", 0, "Write records to FILE instead of standard output", 2 },
	{ "iso-time", OPT_ISO, NULL, 0, "Text timestamps as RFC 3339 UTC", 2 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS", 2 },
	{ "verbose", 'v', NULL, 0, "Say what is loaded and why; show libbpf messages", 2 },
	{ "kernel-backend", OPT_KBACKEND, "auto|fentry|kprobe|none", 0,
	  "In-kernel latency, phases and refcount check: auto (fentry, else kprobe; default), "
	  "fentry only, kprobe first, or none (syscall tracepoints only)", 2 },
	{ NULL, 0, NULL, 0, "Command (-- CMD):", 4 },
	{ "grace", OPT_GRACE, "SECONDS", 0, "When gmemtrace ends first (-d, Ctrl-C, output closed), "
	  "time between SIGTERM and SIGKILL to the command's process group (default 5)", 4 },
	{ "keep-running", OPT_KEEP, NULL, 0, "Let the command outlive gmemtrace: no SIGTERM/SIGKILL "
	  "when gmemtrace ends, none when gmemtrace is killed", 4 },
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
			argp_error(state, "invalid duration '%s' (seconds, e.g. 10 or 0.5, "
				   "at most %.0f)", arg, GMT_MAX_SECONDS);
			return EINVAL;
		}
		break;
	case OPT_GRACE:
		if (gmt_parse_seconds(arg, &o->grace_s) || o->grace_s > 3600) {
			argp_error(state, "invalid grace '%s' (seconds, 0 to 3600)", arg);
			return EINVAL;
		}
		o->grace_set = true;
		break;
	case OPT_KEEP:
		o->keep_running = true;
		break;
	case OPT_FOLLOW_MAX:
		if (gmt_parse_u64(arg, &v) || v < 1 || v > (1 << 22)) {
			argp_error(state, "invalid --follow-max '%s' (1 to 4194304)", arg);
			return EINVAL;
		}
		o->cfg.follow_max = v;
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
	case ARGP_KEY_ARG:	/* commands that take none (a command goes after --) */
		argp_error(state, "unexpected argument '%s'%s", arg,
			   o->takes_command ? " (a command goes after --)" : "");
		return EINVAL;
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
	/* taking the terminal back from the command's group */
	signal(SIGTTOU, SIG_IGN);
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

pid_t gmt_tgid_of(pid_t pid)
{
	char path[64], line[128];
	pid_t tgid = pid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	if (f)
		fclose(f);
	return tgid > 0 ? tgid : pid;
}

int gmt_check_pids(struct gmt_config *cfg)
{
	int i, k, n = 0;

	for (i = 0; i < cfg->nr_pids; i++) {
		pid_t tgid;

		if (kill(cfg->pids[i], 0) && errno == ESRCH) {
			gmt_err_what = "arguments";
			gmt_err("no process with pid %d", cfg->pids[i]);
			return GMT_EXIT_USAGE;
		}
		tgid = gmt_tgid_of(cfg->pids[i]);
		if (tgid != cfg->pids[i])
			gmt_info("-p %d is a thread of process %d: tracing the process",
				 cfg->pids[i], tgid);
		for (k = 0; k < n && cfg->pids[k] != tgid; k++)
			;
		if (k == n)
			cfg->pids[n++] = tgid;
	}
	cfg->nr_pids = n;
	return 0;
}

int gmt_check_cgroup(const char *path)
{
	struct statfs sfs;
	struct stat st;

	gmt_err_what = "arguments";
	if (stat(path, &st)) {
		gmt_err("--cgroup %s: %s (give a cgroup v2 directory, e.g. "
			"/sys/fs/cgroup/machine.slice)", path, strerror(errno));
		return GMT_EXIT_USAGE;
	}
	if (!S_ISDIR(st.st_mode) || statfs(path, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		gmt_err("--cgroup %s: not a cgroup v2 directory (give one under the cgroup2 "
			"mount, e.g. /sys/fs/cgroup/machine.slice)", path);
		return GMT_EXIT_USAGE;
	}
	return 0;
}

char **gmt_split_command(int *argc, char **argv, bool *dashdash)
{
	int i;

	*dashdash = false;
	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			argv[i] = NULL;
			*argc = i;
			*dashdash = true;
			return argv[i + 1] ? &argv[i + 1] : NULL;
		}
	}
	return NULL;
}

int gmt_validate(struct gmt_common_opts *o)
{
	char why[512];
	int err;

	gmt_err_what = "arguments";
	if (o->dashdash && !o->cmd) {
		/* not the whole host: the user meant a command and gave none */
		gmt_err("no command after --");
		return GMT_EXIT_USAGE;
	}
	if (o->cfg.filter_pid && o->cmd) {
		gmt_err("-p and -- CMD cannot be combined");
		return GMT_EXIT_USAGE;
	}
	if (!o->cmd && (o->keep_running || o->grace_set)) {
		gmt_err("--grace and --keep-running apply to -- CMD only");
		return GMT_EXIT_USAGE;
	}
	if (!o->grace_set)
		o->grace_s = GMT_DEFAULT_GRACE_S;
	err = gmt_check_pids(&o->cfg);
	if (err)
		return err;
	if (o->cfg.cgroup) {
		err = gmt_check_cgroup(o->cfg.cgroup);
		if (err)
			return err;
	}
	if (o->cmd && gmt_check_exec(o->cmd[0], why, sizeof(why))) {
		gmt_err_what = "command";
		gmt_err("cannot run %s", why);
		return GMT_EXIT_USAGE;
	}
	gmt_err_what = "privilege";
	if (gmt_check_privilege(why, sizeof(why))) {
		gmt_err("%s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	gmt_err_what = "btf";
	if (!o->btf_optional && gmt_check_btf(why, sizeof(why))) {
		gmt_err("%s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	gmt_err_what = "setup";
	return 0;
}
