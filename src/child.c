// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "child.h"
#include "util.h"

int gmt_child_spawn(struct gmt_child *c, char **argv)
{
	int go[2], er[2];

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	if (pipe2(go, O_CLOEXEC) || pipe2(er, O_CLOEXEC))
		return -errno;
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char b;
		int e;

		close(go[1]);
		close(er[0]);
		/* don't outlive a tracer that dies before releasing us */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(er[1]);
	c->go_fd = go[1];
	c->err_fd = er[0];
	return 0;
}

int gmt_child_release(struct gmt_child *c)
{
	int e = 0;
	ssize_t n;

	if (write(c->go_fd, "x", 1) != 1)
		return -errno;
	close(c->go_fd);
	c->go_fd = -1;
	do
		n = read(c->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	return n == sizeof(e) ? -e : 0;
}

bool gmt_child_reap(struct gmt_child *c)
{
	int st;

	if (c->pid <= 0 || c->exited)
		return c->exited;
	if (waitpid(c->pid, &st, WNOHANG) != c->pid)
		return false;
	c->exited = true;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return true;
}

void gmt_child_kill(struct gmt_child *c)
{
	if (c->pid > 0 && !c->exited) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->exited = true;
	}
	if (c->go_fd > 0)
		close(c->go_fd);
	if (c->err_fd > 0)
		close(c->err_fd);
	c->go_fd = c->err_fd = -1;
}
