/* SPDX-License-Identifier: GPL-2.0-only */
/* Human units for the formats: times, durations, byte counts, histograms. */
#ifndef GMT_FMT_H
#define GMT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

/* "16:10:00.123456" (local time), or RFC 3339 UTC with ns when iso is set */
void gmt_fmt_time(char *buf, size_t len, __u64 real_ns, bool iso);
void gmt_fmt_ns(char *buf, size_t len, __u64 ns);	/* "1.23us" */
void gmt_fmt_bytes(char *buf, size_t len, double bytes);	/* "4.0KiB" */
/* bcc-style "low -> high : count |****|" table of power-of-two buckets
 * (pow2[i] counts [2^i, 2^(i+1)), pow2[0] also 0) */
void gmt_fmt_log2_table(FILE *f, const __u64 *pow2, int n, const char *unit_label);

#endif /* GMT_FMT_H */
