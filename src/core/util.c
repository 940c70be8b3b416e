// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

bool gmt_verbose;
const char *gmt_err_what = "setup";
static char last_err[512];

void gmt_err(const char *fmt, ...)
{
	va_list ap;

	/* kept for the JSON error record of a fatal path */
	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gmemtrace: %s\n", last_err);
}

const char *gmt_last_error(void)
{
	return last_err;
}

void gmt_info(const char *fmt, ...)
{
	va_list ap;

	if (!gmt_verbose)
		return;
	fputs("gmemtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

__u64 gmt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 gmt_mono_to_real_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((__u64)r.tv_sec * 1000000000ULL + r.tv_nsec) -
	       ((__u64)m.tv_sec * 1000000000ULL + m.tv_nsec);
}

__u32 gmt_misc_rdev(const char *name)
{
	unsigned int ma, mi;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/dev", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fscanf(f, "%u:%u", &ma, &mi);
	fclose(f);
	return n == 2 ? ma << 20 | mi : 0;
}
