/* SPDX-License-Identifier: GPL-2.0-only */
/* gmemtrace enforce's options, parsed apart so the unit tests see them */
#ifndef GMT_ENFORCE_H
#define GMT_ENFORCE_H

#include <stdbool.h>

#include "cli.h"

struct gmt_enforce_args {
	struct gmt_common_opts c;
	const char *policy;	/* --policy FILE */
	int mode;		/* enum gmt_pol_mode */
	bool pin, unpin;
};

/* 0, or GMT_EXIT_USAGE with argp's message printed; argp_flags: ARGP_NO_EXIT for tests */
int gmt_enforce_parse(int argc, char **argv, struct gmt_enforce_args *a, unsigned int argp_flags);

#endif /* GMT_ENFORCE_H */
