// SPDX-License-Identifier: GPL-2.0-only
/*
 * The compiled policy's prefilter (include/gmt_policy.h, struct
 * gmt_policy_index): which rules a conversion's generation and direction
 * leave, and the range rules as sorted starts and ends with prefix and
 * suffix masks. The hook then checks only the candidates (bench_policy:
 * every rule walked used to cost ~54 ns under TCG, matching or not).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gmemtrace.h"
#include "policy.h"

_Static_assert(GMT_GEN_MAX <= 4 && GMT_DIR_MAX <= 2 && GMT_POL_GEN_DIRS == 8,
	       "GMT_POL_GEN_DIR packs gen in 2 bits and dir in 1");
_Static_assert(GMT_POLICY_MAX_RULES == 64, "rule masks are one __u64");

struct edge {
	__u64 at;
	unsigned int rule;
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* could rule r match a conversion of this generation and direction? */
static bool gen_dir_fits(const struct gmt_policy_rule *r, unsigned int gen, unsigned int dir)
{
	if ((r->match & GMT_PM_GEN) && !(r->gens & (1u << gen)))
		return false;
	if ((r->match & GMT_PM_DIR) && !(r->dirs & (1u << dir)))
		return false;
	if (r->match & GMT_PM_RANGE)	/* gpa is G1's space, offsets G2/G3's */
		return r->range_space == GMT_PR_GPA ? gen == GMT_GEN_G1 : gen != GMT_GEN_G1;
	return true;
}

/*
 * The elementary intervals: the distinct edges of the space's n range rules
 * (starts and ends, each sorted) merged into bounds, and for each interval
 * [bounds[k-1], bounds[k]) the rules whose range covers it (k = 0 starts at
 * 0; from the last bound on, no rule covers anything).
 */
static void elementary_index(const struct gmt_policy_abi *abi, const struct edge *starts,
			     const struct edge *ends, unsigned int n,
			     struct gmt_policy_range_index *x)
{
	unsigned int i = 0, j = 0, nb = 0, k, r;

	while (i < n || j < n) {
		__u64 at = j >= n || (i < n && starts[i].at < ends[j].at) ?
			   starts[i].at : ends[j].at;

		if (!nb || x->bounds[nb - 1] != at)
			x->bounds[nb++] = at;
		if (i < n && starts[i].at == at)
			i++;
		else
			j++;
	}
	x->bound_step = 1;
	while (2 * x->bound_step < nb)
		x->bound_step *= 2;
	for (k = nb; k < GMT_POLICY_MAX_BOUNDS; k++)
		x->bounds[k] = ~0ULL;
	x->hull_end = nb ? x->bounds[nb - 1] : 0;
	/* interval k (1..nb-1) is [bounds[k-1], bounds[k]): a rule covers it
	 * when it starts at or before its first byte and ends at or past its
	 * end; interval 0 and those from nb on lie outside every range */
	memset(x->cover, 0, sizeof(x->cover));
	for (i = 0; i < n; i++) {
		r = starts[i].rule;
		for (k = 1; k < nb; k++)
			if (abi->rules[r].range_start <= x->bounds[k - 1] &&
			    abi->rules[r].range_end >= x->bounds[k])
				x->cover[k] |= 1ULL << r;
	}
}

static void range_index(const struct gmt_policy_abi *abi, unsigned int space,
			struct gmt_policy_range_index *x)
{
	struct edge starts[GMT_POLICY_MAX_RULES], ends[GMT_POLICY_MAX_RULES];
	unsigned int i, n = 0;

	for (i = 0; i < abi->hdr.nr_rules && i < GMT_POLICY_MAX_RULES; i++) {
		const struct gmt_policy_rule *r = &abi->rules[i];

		if (!(r->match & GMT_PM_RANGE) || r->range_space != space)
			continue;
		starts[n] = (struct edge){ r->range_start, i };
		ends[n] = (struct edge){ r->range_end, i };
		n++;
		if (r->range_inside)
			x->inside |= 1ULL << i;
		else
			x->overlap |= 1ULL << i;
	}
	x->first_step = 1;
	while (2 * x->first_step < n)
		x->first_step *= 2;
	qsort(starts, n, sizeof(*starts), edge_cmp);
	qsort(ends, n, sizeof(*ends), edge_cmp);
	for (i = 0; i < GMT_POLICY_MAX_RULES; i++) {
		x->starts[i] = i < n ? starts[i].at : ~0ULL;
		x->ends[i] = i < n ? ends[i].at : ~0ULL;
	}
	/* a count past n (an ~0 slot) lands on the saturated tail */
	x->start_prefix[0] = 0;
	for (i = 0; i < GMT_POLICY_MAX_RULES; i++)
		x->start_prefix[i + 1] = x->start_prefix[i] |
					 (i < n ? 1ULL << starts[i].rule : 0);
	x->end_suffix[GMT_POLICY_MAX_RULES] = 0;
	for (i = GMT_POLICY_MAX_RULES; i-- > 0;)
		x->end_suffix[i] = x->end_suffix[i + 1] | (i < n ? 1ULL << ends[i].rule : 0);
	elementary_index(abi, starts, ends, n, x);
}

void gmt_policy_index(struct gmt_policy_abi *abi)
{
	struct gmt_policy_index *x = &abi->hdr.index;
	unsigned int i, gen, dir;

	memset(x, 0, sizeof(*x));
	for (i = 0; i < abi->hdr.nr_rules && i < GMT_POLICY_MAX_RULES; i++) {
		const struct gmt_policy_rule *r = &abi->rules[i];

		if (!(r->match & GMT_PM_RANGE))
			x->no_range |= 1ULL << i;
		for (gen = 0; gen < GMT_GEN_MAX; gen++)
			for (dir = 0; dir < GMT_DIR_MAX; dir++) {
				if (!gen_dir_fits(r, gen, dir))
					continue;
				x->by_gen_dir[GMT_POL_GEN_DIR(gen, dir)] |= 1ULL << i;
				x->needs[GMT_POL_GEN_DIR(gen, dir)] |= r->match;
			}
	}
	range_index(abi, GMT_PR_GPA, &x->space[GMT_PR_GPA - 1]);
	range_index(abi, GMT_PR_GMEM, &x->space[GMT_PR_GMEM - 1]);
}
