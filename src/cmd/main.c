// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace: trace and measure guest_memfd shared<->private conversions.
 * main() only dispatches to the commands that src/cmd/ files register.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "command.h"
#include "util.h"

const char *argp_program_version = "gmemtrace " GMT_VERSION;
const char *argp_program_bug_address = "the gmemtrace issue tracker";

/* the registered commands, in their help order */
static const struct gmt_command *sorted[32];
static int nr_sorted;

static int by_order(const void *a, const void *b)
{
	const struct gmt_command *x = *(const struct gmt_command *const *)a;
	const struct gmt_command *y = *(const struct gmt_command *const *)b;

	return x->order - y->order;
}

static void collect(void)
{
	const struct gmt_command *c;

	for (c = __start_gmt_commands; c < __stop_gmt_commands && nr_sorted < 32; c++)
		sorted[nr_sorted++] = c;
	qsort(sorted, nr_sorted, sizeof(sorted[0]), by_order);
}

static void usage(FILE *f)
{
	int i;

	fprintf(f,
		"Usage: gmemtrace COMMAND [OPTIONS]\n"
		"Trace and measure guest_memfd shared<->private conversions of KVM guests.\n\n"
		"Commands:\n");
	for (i = 0; i < nr_sorted; i++)
		fprintf(f, "  %-10s %s\n", sorted[i]->name, sorted[i]->what);
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
	int i;

	collect();
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
	for (i = 0; i < nr_sorted; i++) {
		if (!strcmp(argv[1], sorted[i]->name)) {
			char prog[64];

			/* "gmemtrace trace" in argp's messages */
			snprintf(prog, sizeof(prog), "gmemtrace %s", sorted[i]->name);
			argv[1] = prog;
			return sorted[i]->run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "gmemtrace: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return GMT_EXIT_USAGE;
}
