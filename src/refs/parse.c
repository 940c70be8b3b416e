// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace refs: the --range and --gmem arguments, and a verdict as text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "escape.h"
#include "object.h"
#include "internal.h"
#include "refs.h"
#include "refs.skel.h"
#include "util.h"


/* ---- parsing, shared with the CLI and the unit tests ---- */

int gmt_refs_parse_range(const char *s, unsigned long long *off, unsigned long long *len)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	char first[64];

	if (!colon || (size_t)(colon - s) >= sizeof(first) || colon == s)
		return -EINVAL;
	memcpy(first, s, colon - s);
	first[colon - s] = 0;
	if (gmt_parse_size(first, off) || gmt_parse_size(colon + 1, len) || !*len)
		return -EINVAL;
	if (*off + *len < *off)
		return -EINVAL;
	return 0;
}

int gmt_refs_parse_gmem(const char *s, struct gmt_refs_gmem_filter *f)
{
	f->kind = GMT_REFS_MATCH_ANY;
	if (s && !strncmp(s, "fd:", 3)) {
		f->kind = GMT_REFS_MATCH_FD;
		s += 3;
	} else if (s && !strncmp(s, "ino:", 4)) {
		f->kind = GMT_REFS_MATCH_INO;
		s += 4;
	}
	if (gmt_parse_u64(s, &f->v))
		return -EINVAL;
	if (f->kind == GMT_REFS_MATCH_FD && f->v > 0x7fffffff)
		return -EINVAL;
	return 0;
}

void gmt_refs_verdict_str(const struct gmt_refs_verdict *v, char *buf, size_t len)
{
	if (v->blocking) {
		if (v->pins && v->other)
			snprintf(buf, len, "would block: %u pin%s, %u other ref%s", v->pins,
				 v->pins == 1 ? "" : "s", v->other, v->other == 1 ? "" : "s");
		else if (v->pins)
			snprintf(buf, len, "would block: %u pin%s", v->pins, v->pins == 1 ? "" : "s");
		else
			snprintf(buf, len, "would block: %u other ref%s", v->other,
				 v->other == 1 ? "" : "s");
	} else if (v->mapcount) {
		snprintf(buf, len, "mapped only");
	} else if (v->lru_batch) {
		snprintf(buf, len, "lru batch only");
	} else {
		snprintf(buf, len, "ok");
	}
}
