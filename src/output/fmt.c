// SPDX-License-Identifier: GPL-2.0-only
/* Human units: times, durations, byte counts, log2 histogram tables. */
#include <stdio.h>
#include <time.h>

#include "fmt.h"

void gmt_fmt_time(char *buf, size_t len, __u64 real_ns, bool iso)
{
	time_t sec = real_ns / 1000000000ULL;
	struct tm tm;

	if (iso) {
		gmtime_r(&sec, &tm);
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, real_ns % 1000000000ULL);
	} else {
		localtime_r(&sec, &tm);
		snprintf(buf, len, "%02d:%02d:%02d.%06llu", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (real_ns % 1000000000ULL) / 1000);
	}
}

void gmt_fmt_ns(char *buf, size_t len, __u64 ns)
{
	/* thresholds below the unit so 999999ns reads 1.00ms, not 1000.00us */
	if (ns < 1000)
		snprintf(buf, len, "%lluns", ns);
	else if (ns < 999995)
		snprintf(buf, len, "%.2fus", ns / 1e3);
	else if (ns < 999995000)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

void gmt_fmt_bytes(char *buf, size_t len, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (i < 4 && b >= (i ? 1023.95 : 1023.5)) {
		b /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f%s", b, unit[i]);
	else
		snprintf(buf, len, "%.1f%s", b, unit[i]);
}

void gmt_fmt_log2_table(FILE *f, const __u64 *buckets, int n, const char *unit)
{
	__u64 max = 0;
	int i, first = -1, last = -1, stars, j;

	for (i = 0; i < n; i++) {
		if (!buckets[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (buckets[i] > max)
			max = buckets[i];
	}
	if (first < 0) {
		fprintf(f, "     (no samples)\n");
		return;
	}
	fprintf(f, "     %-27s : count    distribution\n", unit);
	for (i = first; i <= last; i++) {
		__u64 lo = i ? 1ULL << i : 0, hi = (1ULL << (i + 1)) - 1;

		stars = max ? (int)(buckets[i] * 40 / max) : 0;
		fprintf(f, "%12llu -> %-12llu : %-8llu |", lo, hi, buckets[i]);
		for (j = 0; j < 40; j++)
			fputc(j < stars ? '*' : ' ', f);
		fputs("|\n", f);
	}
}
