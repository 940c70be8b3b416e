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
	char **cmd;		/* after "--" */
	bool iso_time;
};

/* argp options of the filter/output group; parse with gmt_common_parse */
extern const struct argp_option gmt_common_options[];
/* -f for every command: text or json, argp's error on anything else */
error_t gmt_argp_format(struct argp_state *state, const char *arg, enum gmt_format *fmt);
error_t gmt_common_parse(int key, char *arg, struct argp_state *state,
			 struct gmt_common_opts *o);

/* common options followed by a command's own, for one argp parser */
struct argp_option *gmt_merge_options(const struct argp_option *a, const struct argp_option *b);
/* a -p PID that does not exist is a usage error, not an empty trace */
int gmt_check_pids(const struct gmt_config *cfg);
bool gmt_any_pid_alive(const struct gmt_config *cfg);
/* cut argv at "--": returns the command after it (NULL if none) */
char **gmt_split_command(int *argc, char **argv);

struct gmt_child;
/* -- CMD: fork it stopped and make it the pid filter; a GMT_EXIT_* code */
int gmt_start_command(struct gmt_common_opts *o, struct gmt_child *child);

extern volatile sig_atomic_t gmt_exiting;
void gmt_install_signals(void);

int cmd_trace(int argc, char **argv);
int cmd_stat(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_refs(int argc, char **argv);

#endif /* GMT_CLI_H */
