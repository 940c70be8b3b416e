// SPDX-License-Identifier: GPL-2.0-only
/* Option values: numbers, sizes, seconds. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "parse.h"

int gmt_parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int gmt_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K':
		mul = 1ULL << 10; end++;
		break;
	case 'm': case 'M':
		mul = 1ULL << 20; end++;
		break;
	case 'g': case 'G':
		mul = 1ULL << 30; end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (mul > 1 && v > ~0ULL / mul))
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int gmt_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return -EINVAL;
	/* seconds become u64 nanoseconds: keep far from 2^64 ns (584 years) */
	if (v > GMT_MAX_SECONDS)
		return -ERANGE;
	*out = v;
	return 0;
}
