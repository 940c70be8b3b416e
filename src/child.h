/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `-- CMD`: fork the command stopped before exec, attach, then let it run,
 * so the tracer sees it from its first instruction.
 */
#ifndef GMT_CHILD_H
#define GMT_CHILD_H

#include <stdbool.h>
#include <sys/types.h>

struct gmt_child {
	pid_t pid;
	int go_fd;	/* parent writes: exec now */
	int err_fd;	/* parent reads: errno of a failed exec, EOF on success */
	bool exited;
	int status;	/* exit status, 128+sig if killed */
};

int gmt_child_spawn(struct gmt_child *c, char **argv);
/* returns 0 once the command is running, -errno if exec failed */
int gmt_child_release(struct gmt_child *c);
/* true once it has exited (non-blocking) */
bool gmt_child_reap(struct gmt_child *c);
void gmt_child_kill(struct gmt_child *c);

#endif /* GMT_CHILD_H */
