/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Commands register themselves: each src/cmd/<name>.c defines one
 * GMT_COMMAND, the linker gathers them in the gmt_commands section, and
 * main() dispatches over that. Adding a command is adding one file.
 */
#ifndef GMT_COMMAND_H
#define GMT_COMMAND_H

struct gmt_command {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is "gmemtrace NAME" */
	const char *what;			/* one line for `gmemtrace --help` */
	int order;				/* place in that list */
} __attribute__((aligned(16)));

#define GMT_COMMAND(var)						\
	static const struct gmt_command var				\
	__attribute__((used, section("gmt_commands"), aligned(16)))

/* set by the linker around the section */
extern const struct gmt_command __start_gmt_commands[];
extern const struct gmt_command __stop_gmt_commands[];

#endif /* GMT_COMMAND_H */
