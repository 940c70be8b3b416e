/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Option values: numbers with suffixes, uAPI lists, VM types, directions, and
 * the round arithmetic they imply (pure: the unit test links this file)
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/* Decimal, or hex with 0x; optional K/M/G (binary) suffix when allowed */
int parse_u64(const char *s, bool suffix, __u64 *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;
	int base = 10;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ' || *s == '\t')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || end == s)
		return -EINVAL;
	if (suffix && *end) {
		switch (*end) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		default: return -EINVAL;
		}
		end++;
	}
	if (*end)
		return -EINVAL;
	if (shift && v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*out = (__u64)v << shift;
	return 0;
}

/* "g1,g2,g3" or "all" into a uapi mask */
int parse_uapi(const char *s, unsigned int *mask)
{
	const char *p = s;
	unsigned int m = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == 3 && !strncmp(p, "all", 3))
			m |= UAPI_ALL;
		else if (len == 2 && !strncmp(p, "g1", 2))
			m |= UAPI_G1;
		else if (len == 2 && !strncmp(p, "g2", 2))
			m |= UAPI_G2;
		else if (len == 2 && !strncmp(p, "g3", 2))
			m |= UAPI_G3;
		else
			return -EINVAL;
		p += len;
		if (*p == ',') {
			p++;
			if (!*p)
				return -EINVAL;
		}
	}
	*mask = m;
	return 0;
}

int parse_vm_type(const char *s, int *type)
{
	__u64 v;

	if (!strcmp(s, "auto"))
		*type = -1;
	else if (!strcmp(s, "default"))
		*type = GMT_KVM_X86_DEFAULT_VM;
	else if (!strcmp(s, "sw-protected"))
		*type = GMT_KVM_X86_SW_PROTECTED_VM;
	else if (!parse_u64(s, false, &v) && v <= INT_MAX)
		*type = (int)v;	/* raw numbers let tests provoke EINVAL */
	else
		return -EINVAL;
	return 0;
}

int parse_dir(const char *s, enum dir_mode *dir)
{
	if (!strcmp(s, "alternate"))
		*dir = DIR_ALTERNATE;
	else if (!strcmp(s, "private"))
		*dir = DIR_PRIVATE;
	else if (!strcmp(s, "shared"))
		*dir = DIR_SHARED;
	else
		return -EINVAL;
	return 0;
}

static const char *const pin_with_names[] = {
	[PIN_IOURING] = "io_uring",
	[PIN_VFIO] = "vfio",
	[PIN_IOMMUFD] = "iommufd",
};

int parse_pin_with(const char *s, enum pin_with *w)
{
	unsigned int i;

	for (i = 0; i < sizeof(pin_with_names) / sizeof(pin_with_names[0]); i++) {
		if (!strcmp(s, pin_with_names[i])) {
			*w = (enum pin_with)i;
			return 0;
		}
	}
	return -EINVAL;
}

int parse_ioas_copy(const char *s, enum ioas_copy *c)
{
	if (!strcmp(s, "src"))
		*c = COPY_SRC;
	else if (!strcmp(s, "dst"))
		*c = COPY_DST;
	else
		return -EINVAL;
	return 0;
}

const char *pin_with_name(enum pin_with w)
{
	return pin_with_names[w];
}

const char *dir_mode_name(enum dir_mode d)
{
	return d == DIR_PRIVATE ? "private" : d == DIR_SHARED ? "shared" : "alternate";
}

/* Range of round r: walks the guest_memfd and wraps (128-bit: no overflow) */
__u64 round_offset(__u64 round, __u64 size, __u64 gmem_size)
{
	return (__u64)(((unsigned __int128)round * size) % gmem_size);
}

bool round_to_private(enum dir_mode d, __u64 round)
{
	if (d == DIR_ALTERNATE)
		return !(round & 1);
	return d == DIR_PRIVATE;
}
