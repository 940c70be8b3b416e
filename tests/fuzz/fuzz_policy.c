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
	gmt_policy_print_text(null, &pol);
	gmt_policy_print_json(null, &pol);
	return 0;
}
