// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness over a policy's parse and compile (src/policy), and
 * the printers of what compiled: no input may crash, leak or hit undefined
 * behaviour, and a compiled policy always satisfies the ABI's invariants.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "policy.h"

static void check_invariants(const struct gmt_policy *p)
{
	const struct gmt_policy_hdr *h = &p->abi.hdr;
	unsigned int i;

	if (h->nr_rules > GMT_POLICY_MAX_RULES || h->default_action >= GMT_PA_MAX)
		abort();
	for (i = 0; i < h->nr_rules; i++) {
		const struct gmt_policy_rule *r = &p->abi.rules[i];

		if (!r->id || r->action >= GMT_PA_MAX || (r->match & ~(unsigned int)GMT_PM_ALL))
			abort();
		if (r->action == GMT_PA_DENY && (!r->err || r->err > GMT_POLICY_MAX_ERRNO))
			abort();
		if ((r->match & GMT_PM_RANGE) && r->range_end <= r->range_start)
			abort();
		if ((r->match & GMT_PM_SIZE) && r->size_max < r->size_min)
			abort();
		if ((r->match & GMT_PM_RATE) && (!r->rate || !r->burst))
			abort();
	}
}

/*
 * The range index of one space (src/policy/index.c) against the rules
 * themselves: bounds ascending and distinct, then ~0; each interval's cover
 * is the set of the space's range rules that contain its first byte (rule
 * edges are bounds, so such a rule spans the whole interval); nothing
 * covers what lies before the first bound or from the last one on.
 */
static void check_range_index(const struct gmt_policy_abi *abi, unsigned int space)
{
	const struct gmt_policy_range_index *x = &abi->hdr.index.space[space - 1];
	unsigned int nb = 0, k, i;

	while (nb < GMT_POLICY_MAX_BOUNDS && x->bounds[nb] != ~0ULL)
		nb++;
	if (x->hull_end == ~0ULL)
		nb++;	/* a range that ends at the top: ~0 is a bound too */
	for (k = 1; k < nb; k++)
		if (x->bounds[k] <= x->bounds[k - 1])
			abort();
	for (k = nb; k < GMT_POLICY_MAX_BOUNDS; k++)
		if (x->bounds[k] != ~0ULL)
			abort();
	if (x->hull_end != (nb ? x->bounds[nb - 1] : 0))
		abort();
	/* the search's first step: the least power of two P with 2P >= nb */
	if ((x->bound_step & (x->bound_step - 1)) || 2 * x->bound_step < nb ||
	    (x->bound_step > 1 && x->bound_step >= nb))
		abort();
	if (x->cover[0])
		abort();
	for (k = nb ? nb : 1; k <= GMT_POLICY_MAX_BOUNDS; k++)
		if (x->cover[k])
			abort();
	for (k = 1; k < nb; k++) {
		__u64 at = x->bounds[k - 1], want = 0;

		for (i = 0; i < abi->hdr.nr_rules; i++) {
			const struct gmt_policy_rule *r = &abi->rules[i];

			if ((r->match & GMT_PM_RANGE) && r->range_space == space &&
			    r->range_start <= at && at < r->range_end)
				want |= 1ULL << i;
		}
		if (x->cover[k] != want)
			abort();
	}
}

/* libFuzzer calls it; no header declares it */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gmt_policy pol;
	static FILE *null;
	struct gmt_policy_error e;

	if (!null)
		null = fopen("/dev/null", "w");
	if (gmt_policy_parse((const char *)data, size, &pol, &e)) {
		if (!e.msg[0])
			abort();	/* a refusal always says why */
		return 0;
	}
	check_invariants(&pol);
	check_range_index(&pol.abi, GMT_PR_GPA);
	check_range_index(&pol.abi, GMT_PR_GMEM);
	gmt_policy_print_text(null, &pol);
	gmt_policy_print_json(null, &pol);
	return 0;
}
