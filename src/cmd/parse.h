/* SPDX-License-Identifier: GPL-2.0-only */
/* Option values of the command line and of input files. */
#ifndef GMT_PARSE_H
#define GMT_PARSE_H

int gmt_parse_u64(const char *s, unsigned long long *out);	/* decimal or 0x */
int gmt_parse_size(const char *s, unsigned long long *out);	/* 4096, 4K, 2M, 1G */
/* the largest interval, duration or grace accepted: one year */
#define GMT_MAX_SECONDS	(366.0 * 86400)
int gmt_parse_seconds(const char *s, double *out);		/* 5, 0.5; <= GMT_MAX_SECONDS */

#endif /* GMT_PARSE_H */
