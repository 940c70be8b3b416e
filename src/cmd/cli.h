/* SPDX-License-Identifier: GPL-2.0-only */
/* Options shared by `trace` and `stat`, and the command entry points. */
#ifndef GMT_CLI_H
#define GMT_CLI_H

#include <argp.h>
#include <stdbool.h>
#include <signal.h>

#include "loader.h"
#include "output.h"

struct gmt_common_opts {
	struct gmt_config cfg;
	enum gmt_format fmt;
	const char *out_path;
	double duration_s;	/* 0: until Ctrl-C (or the command exits) */
	double grace_s;		/* SIGTERM to SIGKILL of the command's group */
	char **cmd;		/* after "--" */
	bool btf_optional;	/* the command reports kernel BTF itself (features) */
	bool takes_command;	/* -- CMD is accepted (trace, stat) */
	bool dashdash;		/* "--" was given (with or without a command) */
	bool keep_running;	/* the command may outlive gmemtrace */
	bool grace_set;
	bool iso_time;
};

#define GMT_DEFAULT_GRACE_S	5.0

/* argp options of the filter/output group; parse with gmt_common_parse */
extern const struct argp_option gmt_common_options[];
/* -f for every command: text or json, argp's error on anything else */
error_t gmt_argp_format(struct argp_state *state, const char *arg, enum gmt_format *fmt);
error_t gmt_common_parse(int key, char *arg, struct argp_state *state,
			 struct gmt_common_opts *o);

/* common options followed by a command's own, for one argp parser */
struct argp_option *gmt_merge_options(const struct argp_option *a, const struct argp_option *b);
/* a -p PID that does not exist is a usage error, not an empty trace; a
 * thread id is replaced by its process id (filters are by process) */
int gmt_check_pids(struct gmt_config *cfg);
/* the process (Tgid) of a thread id; pid itself if unknown */
pid_t gmt_tgid_of(pid_t pid);
/* --cgroup PATH: 0 or GMT_EXIT_USAGE with a message */
int gmt_check_cgroup(const char *path);
/* cut argv at "--": returns the command after it (NULL if none); *dashdash
 * says whether "--" was there */
char **gmt_split_command(int *argc, char **argv, bool *dashdash);
/* every check of trace/stat that needs no output, no BPF and no child:
 * run before -o is opened, so a bad command line leaves FILE untouched.
 * A GMT_EXIT_* code, the message printed. */
int gmt_validate(struct gmt_common_opts *o);

/* the last signal asking to stop (SIGINT, SIGTERM, SIGHUP), 0 if none */
extern volatile sig_atomic_t gmt_exiting;
void gmt_install_signals(void);


#endif /* GMT_CLI_H */
