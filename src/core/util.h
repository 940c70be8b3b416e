/* SPDX-License-Identifier: GPL-2.0-only */
/* Messages, exit codes and clocks; also an umbrella for names.h (model),
 * fmt.h (output) and parse.h (cmd), which were split out of it. */
#ifndef GMT_UTIL_H
#define GMT_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Exit codes, documented in gmemtrace(8) */
enum gmt_exit {
	GMT_EXIT_OK		= 0,
	GMT_EXIT_RUNTIME	= 1,	/* failed while running */
	GMT_EXIT_USAGE		= 2,	/* bad command line or input file */
	GMT_EXIT_UNSUPPORTED	= 3,	/* no privilege or the kernel lacks what is needed */
	GMT_EXIT_BLOCKING	= 4,	/* refs --exit-code: a conversion to private would block */
};

extern bool gmt_verbose;
/* what a fatal error was about ("output", "command", "attach"...): the
 * "what" of the JSON error record; gmt_last_error() is its message */
extern const char *gmt_err_what;

void gmt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *gmt_last_error(void);
void gmt_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* "MAJOR:MINOR" of a misc device from sysfs as a kernel dev_t
 * (major << 20 | minor), 0 if absent: /dev/iommu's minor is dynamic */
__u32 gmt_misc_rdev(const char *name);

__u64 gmt_mono_ns(void);
__u64 gmt_mono_to_real_offset(void);	/* add to CLOCK_MONOTONIC ns to get CLOCK_REALTIME ns */

/* the names, units and option parsers that lived here, by concern */
#include "fmt.h"
#include "names.h"
#include "parse.h"

#endif /* GMT_UTIL_H */
