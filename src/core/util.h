/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the commands: parsing, names, time. */
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

int gmt_parse_u64(const char *s, unsigned long long *out);	/* decimal or 0x */
int gmt_parse_size(const char *s, unsigned long long *out);	/* 4096, 4K, 2M, 1G */
/* the largest interval, duration or grace accepted: one year */
#define GMT_MAX_SECONDS	(366.0 * 86400)
int gmt_parse_seconds(const char *s, double *out);		/* 5, 0.5; <= GMT_MAX_SECONDS */

const char *gmt_errno_name(int err);	/* positive errno -> "ENOTTY", NULL if unknown */
const char *gmt_gen_name(unsigned int gen);	/* "G1" */
const char *gmt_gen_uapi(unsigned int gen, unsigned int cmd);	/* "KVM_SET_MEMORY_ATTRIBUTES" */
const char *gmt_dir_name(unsigned int dir);	/* "to_private" */
const char *gmt_event_name(unsigned int type);	/* "convert" */
const char *gmt_source_name(unsigned int src);	/* "syscall_tp", "fentry", "kprobe" */
const char *gmt_phase_name(unsigned int ph);	/* "invalidate_start" */

__u64 gmt_mono_ns(void);
__u64 gmt_mono_to_real_offset(void);	/* add to CLOCK_MONOTONIC ns to get CLOCK_REALTIME ns */
/* "16:10:00.123456" (local time), or RFC 3339 UTC with ns when iso is set */
void gmt_fmt_time(char *buf, size_t len, __u64 real_ns, bool iso);
void gmt_fmt_ns(char *buf, size_t len, __u64 ns);	/* "1.23us" */
void gmt_fmt_bytes(char *buf, size_t len, double bytes);	/* "4.0KiB" */

#endif /* GMT_UTIL_H */
