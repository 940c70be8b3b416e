// SPDX-License-Identifier: GPL-2.0-only
/* Selectors on the conversion itself: its range, its size, the VM's rate. */
#include <string.h>

#include "policy_int.h"

#define U64_MAX_LL	(~0ULL)

/* the pairs of a small mapping, by name (pwalk has checked the keys) */
static yaml_node_t *pget(struct pctx *c, yaml_node_t *map, const char *name)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, pair->key);

		if (k && !strcmp((const char *)k->data.scalar.value, name))
			return yaml_document_get_node(c->doc, pair->value);
	}
	return NULL;
}

static int no_op(struct pctx *c, yaml_node_t *v)
{
	return 0;	/* read after the walk, where the keys' combination is known */
}

enum { RG_SPACE, RG_START, RG_END, RG_SIZE, RG_MATCH };

static const struct pkey range_keys[] = {
	[RG_SPACE] = { "space", no_op },
	[RG_START] = { "start", no_op },
	[RG_END] = { "end", no_op },
	[RG_SIZE] = { "size", no_op },
	[RG_MATCH] = { "match", no_op },
	{ NULL, NULL },
};

static const char *const space_names[] = { "", "gpa", "offset", NULL };
static const char *const rmatch_names[] = { "overlap", "inside", NULL };

static int range_bounds(struct pctx *c, yaml_node_t *v, unsigned int seen)
{
	struct gmt_policy_rule *r = c->rule;
	unsigned long long start, x;

	if (pu64(c, pget(c, v, "start"), "range start", 0, U64_MAX_LL - 1, &start))
		return -1;
	if (seen & (1u << RG_END)) {
		if (pu64(c, pget(c, v, "end"), "range end", start + 1, U64_MAX_LL, &x))
			return -1;
	} else {
		/* start + size must not wrap: [start, end) is what BPF compares */
		if (pu64(c, pget(c, v, "size"), "range size", 1, U64_MAX_LL - start, &x))
			return -1;
		x += start;
	}
	r->range_start = start;
	r->range_end = x;
	return 0;
}

int prange(struct pctx *c, yaml_node_t *v)
{
	unsigned int seen, val;

	c->rule->match |= GMT_PM_RANGE;
	if (pwalk(c, v, "range", range_keys, &seen))
		return -1;
	if (!(seen & (1u << RG_SPACE)) || !(seen & (1u << RG_START)))
		return perr(c, v, "range needs space (gpa for G1, offset for G2/G3) and start");
	if (!!(seen & (1u << RG_END)) == !!(seen & (1u << RG_SIZE)))
		return perr(c, v, "range needs exactly one of end (exclusive) and size");
	if (penum(c, pget(c, v, "space"), "range space", space_names, &val))
		return -1;
	c->rule->range_space = (__u8)val;
	if (seen & (1u << RG_MATCH)) {
		if (penum(c, pget(c, v, "match"), "range match", rmatch_names, &val))
			return -1;
		c->rule->range_inside = (__u8)val;
	}
	return range_bounds(c, v, seen);
}

static const struct pkey size_keys[] = {
	{ "min", no_op },
	{ "max", no_op },
	{ NULL, NULL },
};

int psize(struct pctx *c, yaml_node_t *v)
{
	struct gmt_policy_rule *r = c->rule;
	unsigned long long min = 0, max = U64_MAX_LL;
	unsigned int seen;

	r->match |= GMT_PM_SIZE;
	if (pwalk(c, v, "size", size_keys, &seen))
		return -1;
	if (!seen)
		return perr(c, v, "size needs min, max or both (bytes, inclusive)");
	if ((seen & 1) && pu64(c, pget(c, v, "min"), "size min", 0, U64_MAX_LL, &min))
		return -1;
	if ((seen & 2) && pu64(c, pget(c, v, "max"), "size max", min, U64_MAX_LL, &max))
		return -1;
	r->size_min = min;
	r->size_max = max;
	return 0;
}

enum { RT_BYTES, RT_CONV, RT_BURST };

static const struct pkey rate_keys[] = {
	[RT_BYTES] = { "bytes_per_second", no_op },
	[RT_CONV] = { "conversions_per_second", no_op },
	[RT_BURST] = { "burst", no_op },
	{ NULL, NULL },
};

/* tokens are scaled by 1e9 in BPF (ns clock): keep rate * 1e9 in a u64 */
#define RATE_MAX	(1ULL << 33)

int prate(struct pctx *c, yaml_node_t *v)
{
	struct gmt_policy_rule *r = c->rule;
	unsigned long long rate, burst;
	unsigned int seen;
	bool bytes;

	r->match |= GMT_PM_RATE;
	if (pwalk(c, v, "rate", rate_keys, &seen))
		return -1;
	if (!!(seen & (1u << RT_BYTES)) == !!(seen & (1u << RT_CONV)))
		return perr(c, v, "rate needs exactly one of bytes_per_second and "
			    "conversions_per_second");
	bytes = seen & (1u << RT_BYTES);
	if (pu64(c, pget(c, v, bytes ? "bytes_per_second" : "conversions_per_second"),
		 "rate", 1, RATE_MAX, &rate))
		return -1;
	burst = rate;
	if ((seen & (1u << RT_BURST)) &&
	    pu64(c, pget(c, v, "burst"), "rate burst", 1, RATE_MAX, &burst))
		return -1;
	r->rate_kind = bytes ? GMT_PRATE_BYTES : GMT_PRATE_CONVERSIONS;
	r->rate = rate;
	r->burst = burst;
	return 0;
}
