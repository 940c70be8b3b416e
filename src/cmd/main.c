// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace: trace and measure guest_memfd shared<->private conversions.
 * main() only dispatches to the subcommands in cmd_*.c.
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

const char *argp_program_version = "gmemtrace " GMT_VERSION;
const char *argp_program_bug_address = "the gmemtrace issue tracker";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} commands[] = {
	{ "trace", cmd_trace, "stream conversion and context events (text or JSON)" },
	{ "stat", cmd_stat, "per-VM conversion rates, latency percentiles, failures" },
	{ "features", cmd_features, "what this kernel allows, probed by loading" },
	{ "refs", cmd_refs, "guest_memfd folios whose references would block a conversion now" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: gmemtrace COMMAND [OPTIONS]\n"
		"Trace and measure guest_memfd shared<->private conversions of KVM guests.\n\n"
		"Commands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(f,
		"\nExamples:\n"
		"  gmemtrace features                      # what works on this kernel\n"
		"  gmemtrace trace -p $(pidof qemu-system-x86_64)\n"
		"  gmemtrace stat 1 -H                     # per-VM latency every second\n"
		"  gmemtrace trace -f json -- gmem-workload  # trace a command from its start\n"
		"\n'gmemtrace COMMAND --help' describes each command. See gmemtrace(8).\n"
		"Exit status: 0 ok, 1 runtime error, 2 usage error, 3 unsupported here\n"
		"(not root, or the kernel lacks a needed feature), 4 refs --exit-code found a\n"
		"folio that would block a conversion to private.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	/* argp exits on a bad option: with our documented usage code */
	argp_err_exit_status = GMT_EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return GMT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return GMT_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s\n", argp_program_version);
		return GMT_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			char prog[64];

			/* "gmemtrace trace" in argp's messages */
			snprintf(prog, sizeof(prog), "gmemtrace %s", commands[i].name);
			argv[1] = prog;
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gmemtrace: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return GMT_EXIT_USAGE;
}
