/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `-- CMD`: fork the command stopped before exec, attach, then let it run,
 * so the tracer sees it from its first instruction.
 *
 * The command runs in its own process group, so that gmemtrace can end the
 * whole group it started (SIGTERM, a grace period, SIGKILL), and it cannot
 * outlive gmemtrace unless asked (--keep-running): the direct child has
 * PR_SET_PDEATHSIG SIGKILL, and a guardian process forked by gmemtrace kills
 * the group with SIGKILL when gmemtrace dies without saying it is done.
 */
#ifndef GMT_CHILD_H
#define GMT_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

struct gmt_child {
	pid_t pid;	/* also the process group */
	int go_fd;	/* parent writes: exec now */
	int err_fd;	/* parent reads: errno of a failed exec, EOF on success */
	bool exited;
	int status;	/* exit status, 128+sig if killed */
	int term_sig;	/* the signal that killed it, 0 if it exited */
	pid_t guard_pid;	/* the guardian, -1 if none */
	int guard_fd;	/* gmemtrace's end of the guardian's pipe */
	bool tty_given;	/* the terminal's foreground group is the command's */
};

/* keep_running: no death signal and no guardian, the command may outlive us */
int gmt_child_spawn(struct gmt_child *c, char **argv, bool keep_running);
/* returns 0 once the command is running, -errno if exec failed */
int gmt_child_release(struct gmt_child *c);
/* true once it has exited (non-blocking) */
bool gmt_child_reap(struct gmt_child *c);
/* signal the command's process group */
void gmt_child_signal(struct gmt_child *c, int sig);
/* SIGKILL the group and reap the direct child; then release the guardian */
void gmt_child_kill(struct gmt_child *c);
/* tell the guardian all is done (the command may stay) and reap it */
void gmt_child_guard_done(struct gmt_child *c);

/* PATH search as execvp does it: 0 if CMD can be executed, else -errno with
 * the reason in why */
int gmt_check_exec(const char *cmd, char *why, size_t len);

#endif /* GMT_CHILD_H */
