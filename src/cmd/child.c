// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "child.h"
#include "util.h"

/* Waits for gmemtrace's "done" byte; EOF without it means gmemtrace died:
 * the command's group must not run on untraced and unkillable. */
static void __attribute__((noreturn)) guardian(int rfd, pid_t pgid)
{
	static const int ign[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGTSTP,
				   SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2 };
	size_t i;
	ssize_t n;
	int null;
	char b = 0;

	/* only the pipe tells it what to do, not the terminal's signals */
	for (i = 0; i < sizeof(ign) / sizeof(ign[0]); i++)
		signal(ign[i], SIG_IGN);
	prctl(PR_SET_NAME, "gmt-guardian");
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	/* hold no other fd: an output pipe must see EOF when gmemtrace ends */
	if (dup2(rfd, 3) < 0)
		_exit(1);
	close_range(4, ~0U, 0);
	do
		n = read(3, &b, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && b == 'd')
		_exit(0);
	kill(-pgid, SIGKILL);
	_exit(0);
}

int gmt_child_spawn(struct gmt_child *c, char **argv, bool keep_running)
{
	int go[2], er[2], gp[2];
	pid_t parent = getpid();

	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->guard_pid = -1;
	c->go_fd = c->err_fd = c->guard_fd = -1;
	if (pipe2(go, O_CLOEXEC) || pipe2(er, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (c->pid == 0) {
		char b;
		int e;

		close(go[1]);
		close(er[0]);
		/* its own group: the shutdown signals reach all it starts */
		setpgid(0, 0);
		if (!keep_running) {
			/* don't outlive a tracer killed with SIGKILL */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(127);
		}
		/* gmemtrace ignores these; the command gets the defaults */
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		if (read(go[0], &b, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	setpgid(c->pid, c->pid);	/* no race with the child's own call */
	close(go[0]);
	close(er[1]);
	c->go_fd = go[1];
	c->err_fd = er[0];

	/* an interactive command (a VMM on a serial console) keeps the
	 * terminal: a background group reading it would be stopped */
	if (isatty(0) && tcgetpgrp(0) == getpgrp() && !tcsetpgrp(0, c->pid))
		c->tty_given = true;

	if (keep_running)
		return 0;
	if (pipe2(gp, O_CLOEXEC))
		return -errno;
	c->guard_pid = fork();
	if (c->guard_pid < 0) {
		int err = errno;

		close(gp[0]);
		close(gp[1]);
		return -err;
	}
	if (c->guard_pid == 0)
		guardian(gp[0], c->pid);
	close(gp[0]);
	c->guard_fd = gp[1];
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

static void take_tty_back(struct gmt_child *c)
{
	if (c->tty_given) {
		tcsetpgrp(0, getpgrp());
		c->tty_given = false;
	}
}

static void record(struct gmt_child *c, int st)
{
	c->exited = true;
	c->term_sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	c->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* what remains of the tree runs on in the background; Ctrl-C now
	 * reaches gmemtrace, which ends it by the shutdown rule */
	take_tty_back(c);
}

bool gmt_child_reap(struct gmt_child *c)
{
	int st;

	if (c->pid <= 0 || c->exited)
		return c->exited;
	if (waitpid(c->pid, &st, WNOHANG) != c->pid)
		return false;
	record(c, st);
	return true;
}

void gmt_child_signal(struct gmt_child *c, int sig)
{
	if (c->pid > 0)
		kill(-c->pid, sig);
}

void gmt_child_guard_done(struct gmt_child *c)
{
	if (c->guard_fd >= 0) {
		if (write(c->guard_fd, "d", 1) != 1)
			gmt_info("guardian: %s", strerror(errno));
		close(c->guard_fd);
		c->guard_fd = -1;
	}
	if (c->guard_pid > 0) {
		waitpid(c->guard_pid, NULL, 0);
		c->guard_pid = -1;
	}
}

void gmt_child_kill(struct gmt_child *c)
{
	int st;

	if (c->pid > 0 && !c->exited) {
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		if (waitpid(c->pid, &st, 0) == c->pid)
			record(c, st);
		c->exited = true;
	}
	take_tty_back(c);
	if (c->go_fd >= 0)
		close(c->go_fd);
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->go_fd = c->err_fd = -1;
	gmt_child_guard_done(c);
}

static int check_file(const char *p)
{
	struct stat st;

	if (stat(p, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || access(p, X_OK))
		return -EACCES;
	return 0;
}

int gmt_check_exec(const char *cmd, char *why, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	bool denied = false;
	char full[4096];
	int err;

	if (!*cmd) {
		snprintf(why, len, "the command is empty");
		return -ENOENT;
	}
	if (strchr(cmd, '/')) {
		err = check_file(cmd);
		if (err == -EACCES)
			snprintf(why, len, "%s: not an executable file", cmd);
		else if (err == -EISDIR)
			snprintf(why, len, "%s: is a directory", cmd);
		else if (err)
			snprintf(why, len, "%s: %s", cmd, strerror(-err));
		return err;
	}
	/* the search execvp does, with glibc's default when PATH is unset */
	if (!path)
		path = "/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		snprintf(full, sizeof(full), "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "",
			 cmd);
		err = check_file(full);
		if (!err)
			return 0;
		if (err == -EACCES)
			denied = true;
		if (!*end)
			break;
	}
	if (denied) {
		snprintf(why, len, "%s: found in PATH but not executable", cmd);
		return -EACCES;
	}
	snprintf(why, len, "%s: command not found (PATH=%s)", cmd, path);
	return -ENOENT;
}
