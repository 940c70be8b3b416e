// SPDX-License-Identifier: GPL-2.0-only
/*
 * Command-line tests: build/gmemtrace run as a subprocess ($GMT_BIN/gmemtrace,
 * default build/gmemtrace from the repo root), checking exit status and
 * messages. Only errors found while parsing, before anything is loaded, are
 * tested here; as root the same errors are also checked for an unprivileged
 * user, to make sure they are reported before the privilege check.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <grp.h>
#include <cmocka.h>

#define NOBODY		65534
#define OUT_MAX		16384

struct run {
	int status;		/* exit status, -1 if killed or not run */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static char bin[4096];

static void read_all(int fd, char *buf, size_t len)
{
	ssize_t n;
	size_t got = 0;

	lseek(fd, 0, SEEK_SET);
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	buf[got] = 0;
}

/* run gmemtrace with args (NULL-terminated), optionally as uid NOBODY */
static void run_as(struct run *r, bool unprivileged, const char *const *args)
{
	char outp[] = "/tmp/gmt-cli-out-XXXXXX", errp[] = "/tmp/gmt-cli-err-XXXXXX";
	char *argv[32];
	int out, err, st, i, n = 0;
	pid_t pid;

	argv[n++] = bin;
	for (i = 0; args[i] && n < 31; i++)
		argv[n++] = (char *)args[i];
	argv[n] = NULL;

	out = mkstemp(outp);
	err = mkstemp(errp);
	assert_true(out >= 0 && err >= 0);
	unlink(outp);
	unlink(errp);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(out, 1);
		dup2(err, 2);
		/* a trace that parsed fine must not run for long */
		alarm(10);
		if (unprivileged &&
		    (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
			_exit(126);
		execv(bin, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	read_all(out, r->out, sizeof(r->out));
	read_all(err, r->err, sizeof(r->err));
	close(out);
	close(err);
	if (r->status == 127)
		fail_msg("cannot run %s (make build/gmemtrace first, or set GMT_BIN)", bin);
}

static void run(struct run *r, const char *const *args)
{
	run_as(r, false, args);
}

#define RUN(r, ...) run(r, (const char *const[]){ __VA_ARGS__, NULL })

static void expect(const struct run *r, int status, const char *in_err)
{
	if (r->status != status)
		fail_msg("exit status %d, want %d; stderr:\n%s", r->status, status, r->err);
	if (in_err && !strstr(r->err, in_err))
		fail_msg("stderr lacks '%s':\n%s", in_err, r->err);
}

/* a pid nobody has: 999999 unless that one happens to exist */
static int free_pid(char *buf, size_t len)
{
	int pid;

	for (pid = 999999; pid > 900000; pid--)
		if (kill(pid, 0) && errno == ESRCH)
			break;
	snprintf(buf, len, "%d", pid);
	return pid;
}

static void test_bad_option(void **state)
{
	struct run *r = *state;

	RUN(r, "trace", "--bogus");
	expect(r, 2, "unrecognized option");
	RUN(r, "stat", "--bogus");
	expect(r, 2, "unrecognized option");
	RUN(r, "features", "-z");
	expect(r, 2, "invalid option");
	assert_string_equal(r->out, "");
}

static void test_invalid_pid(void **state)
{
	struct run *r = *state;
	char pid[16];

	RUN(r, "trace", "-p", "abc");
	expect(r, 2, "invalid PID");
	RUN(r, "trace", "-p", "0");
	expect(r, 2, "invalid PID");
	RUN(r, "trace", "-p", "-5");
	expect(r, 2, "invalid PID");
	RUN(r, "stat", "-p", "12x");
	expect(r, 2, "invalid PID");
	/* well-formed, but no such process: also a usage error */
	free_pid(pid, sizeof(pid));
	RUN(r, "trace", "-p", pid);
	expect(r, 2, "no process with pid");
	RUN(r, "stat", "-p", pid);
	expect(r, 2, "no process with pid");
}

static void test_invalid_values(void **state)
{
	struct run *r = *state;

	RUN(r, "trace", "-f", "xml");
	expect(r, 2, "unknown format 'xml'");
	RUN(r, "features", "-f", "yaml");
	expect(r, 2, "unknown format");
	RUN(r, "trace", "-b", "3000");
	expect(r, 2, "invalid buffer size");
	RUN(r, "trace", "-b", "2G");
	expect(r, 2, "invalid buffer size");
	RUN(r, "trace", "-d", "0");
	expect(r, 2, "invalid duration");
	RUN(r, "trace", "-d", "soon");
	expect(r, 2, "invalid duration");
	RUN(r, "trace", "-c", "qemu-system-x86_64");	/* 18 > 15 */
	expect(r, 2, "COMM must be 1 to 15");
	RUN(r, "trace", "-c", "abcdefghijklmnop");	/* exactly 16 */
	expect(r, 2, "COMM must be 1 to 15");
	RUN(r, "trace", "-c", "");
	expect(r, 2, "COMM must be 1 to 15");
}

static void test_stat_positionals(void **state)
{
	struct run *r = *state;

	RUN(r, "stat", "0");
	expect(r, 2, "invalid interval");
	RUN(r, "stat", "0.001");
	expect(r, 2, "invalid interval");
	RUN(r, "stat", "-1");
	expect(r, 2, NULL);
	RUN(r, "stat", "1", "0");
	expect(r, 2, "invalid count");
	RUN(r, "stat", "1", "x");
	expect(r, 2, "invalid count");
	RUN(r, "stat", "1", "2", "3");
	expect(r, 2, "unexpected argument '3'");
}

static void test_misplaced_arguments(void **state)
{
	struct run *r = *state;

	RUN(r, "trace", "extra");
	expect(r, 2, "unexpected argument 'extra'");
	RUN(r, "features", "extra");
	expect(r, 2, "unexpected argument");
	/* a pid filter and a command to trace exclude each other */
	RUN(r, "trace", "-p", "1", "--", "true");
	expect(r, 2, "cannot be combined");
	RUN(r, "stat", "-p", "1", "--", "true");
	expect(r, 2, "cannot be combined");
}

static void test_commands(void **state)
{
	struct run *r = *state;

	RUN(r, "bogus");
	expect(r, 2, "unknown command 'bogus'");
	assert_non_null(strstr(r->err, "Usage:"));
	/* an option where the command belongs is not a command either */
	RUN(r, "--bogus");
	expect(r, 2, "--bogus");
	run(r, (const char *const[]){ NULL });
	expect(r, 2, "Usage:");
	assert_string_equal(r->out, "");
}

static void test_help(void **state)
{
	static const char *const cmds[] = { "trace", "stat", "features" };
	struct run *r = *state;
	size_t i;

	RUN(r, "--help");
	expect(r, 0, NULL);
	assert_true(strstr(r->out, "Examples") || strstr(r->out, "EXAMPLES"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		assert_non_null(strstr(r->out, cmds[i]));
	assert_non_null(strstr(r->out, "Exit status"));
	RUN(r, "-h");
	expect(r, 0, NULL);
	assert_non_null(strstr(r->out, "Usage:"));

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(r, cmds[i], "--help");
		expect(r, 0, NULL);
		if (!strstr(r->out, "EXAMPLES:"))
			fail_msg("%s --help has no EXAMPLES section:\n%s", cmds[i], r->out);
		/* the examples show this command */
		assert_non_null(strstr(r->out, "gmemtrace "));
		assert_non_null(strstr(r->out, cmds[i]));
		assert_non_null(strstr(r->out, "Exit status"));
	}
}

static void test_version(void **state)
{
	struct run *r = *state;

	RUN(r, "--version");
	expect(r, 0, NULL);
	assert_true(!strncmp(r->out, "gmemtrace ", 10));
	assert_true(strlen(r->out) > 11);
	RUN(r, "-V");
	expect(r, 0, NULL);
	assert_true(!strncmp(r->out, "gmemtrace ", 10));
}

/* parse errors come before the privilege check: same answer without root */
static void test_parse_errors_unprivileged(void **state)
{
	static const char *const cases[][4] = {
		{ "trace", "--bogus", NULL },
		{ "trace", "-p", "abc", NULL },
		{ "trace", "-f", "xml", NULL },
		{ "trace", "-b", "3000", NULL },
		{ "stat", "0", NULL },
		{ "stat", "1", "0", NULL },
		{ "trace", "-c", "abcdefghijklmnop", NULL },
		{ "features", "extra", NULL },
		{ "bogus", NULL },
		/* issue 7 finding 11: checked before the privilege check too */
		{ "stat", "2e10", NULL },
		{ "trace", "--", NULL },
		{ "trace", "--cgroup", "/tmp", NULL },
		{ "trace", "--", "/nonexistent", NULL },
	};
	struct run *r = *state;
	char pid[16];
	size_t i;

	if (geteuid() != 0) {
		print_message("SKIP: not root (cannot switch to an unprivileged user)\n");
		skip();
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_as(r, true, cases[i]);
		if (r->status != 2)
			fail_msg("as uid %d, '%s %s': exit %d, want 2\n%s", NOBODY, cases[i][0],
				 cases[i][1] ? cases[i][1] : "", r->status, r->err);
	}
	free_pid(pid, sizeof(pid));
	run_as(r, true, (const char *const[]){ "trace", "-p", pid, NULL });
	expect(r, 2, "no process with pid");
	/* and a valid command line without root is "unsupported here" */
	run_as(r, true, (const char *const[]){ "trace", "-d", "0.1", NULL });
	expect(r, 3, "root");
	/* the check is euid 0: no promise that capabilities would do */
	if (strstr(r->err, "or CAP_BPF"))
		fail_msg("claims capabilities suffice:\n%s", r->err);
	run_as(r, true, (const char *const[]){ "stat", "1", "1", NULL });
	expect(r, 3, "root");
	run_as(r, true, (const char *const[]){ "features", NULL });
	expect(r, 3, "root");
}

/* issue 7 finding 11: out-of-range times, an empty command, a cgroup that
 * is not one: usage errors with a message saying what is wrong */
static void test_ranges_and_messages(void **state)
{
	struct run *r = *state;

	/* 1.85e10 s overflowed u64 ns and printed every 20 ms */
	RUN(r, "stat", "18500000000");
	expect(r, 2, "invalid interval");
	RUN(r, "stat", "1e300");
	expect(r, 2, "invalid interval");
	RUN(r, "trace", "-d", "2e10");
	expect(r, 2, "invalid duration");
	RUN(r, "stat", "-d", "1e19", "1");
	expect(r, 2, "invalid duration");
	RUN(r, "trace", "--grace", "4000", "--", "/bin/true");
	expect(r, 2, "invalid grace");
	RUN(r, "trace", "--grace", "1");
	expect(r, 2, "-- CMD only");
	/* "--" and nothing after it is not "the whole host" */
	RUN(r, "trace", "--");
	expect(r, 2, "no command after --");
	RUN(r, "stat", "1", "--");
	expect(r, 2, "no command after --");
	RUN(r, "trace", "--cgroup", "/tmp", "-d", "0.1");
	expect(r, 2, "not a cgroup v2 directory");
	if (strstr(r->err, "Bad file descriptor"))
		fail_msg("EBADF leaked:\n%s", r->err);
	RUN(r, "trace", "--cgroup", "/no/such/cgroup", "-d", "0.1");
	expect(r, 2, "No such file or directory");
	RUN(r, "trace", "--", "/nonexistent");
	expect(r, 2, "cannot run /nonexistent");
	RUN(r, "stat", "--", "no-such-command-gmt");
	expect(r, 2, "command not found");
}

static int setup(void **state)
{
	const char *dir = getenv("GMT_BIN");
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	if (dir && *dir)
		snprintf(bin, sizeof(bin), "%s/gmemtrace", dir);
	else
		snprintf(bin, sizeof(bin), "build/gmemtrace");
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bad_option, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stat_positionals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misplaced_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_and_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parse_errors_unprivileged, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
