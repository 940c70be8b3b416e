/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Options of the in-place and blocking scenarios: an argp child of its own
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

enum {
	OPT_IN_PLACE = 0x200, OPT_PIN_PAGES, OPT_FRESH_PAGES, OPT_SCENARIO, OPT_RANGE,
	OPT_ORACLE, OPT_SEED, OPT_ORACLE_WAIT, OPT_GUEST_UNPIN_RETRY,
};

static const struct argp_option scn_options[] = {
	{ NULL, 0, NULL, 0, "In-place conversion and blocking scenarios (G3):", 7 },
	{ "in-place", OPT_IN_PLACE, NULL, 0, "bind each memslot to the guest_memfd's own "
	  "mmap (userspace_addr), as the in-place conversion series wants", 7 },
	{ "pin-pages", OPT_PIN_PAGES, "LIST", 0, "pin these pages of VM 0's guest_memfd, "
	  "each entry (P or P-Q for one buffer over pages P..Q) an io_uring fixed buffer "
	  "on a ring of its own", 7 },
	{ "fresh-pages", OPT_FRESH_PAGES, "LIST", 0, "before each conversion attempt, "
	  "punch these pages and write them again: new folios in a per-CPU LRU batch", 7 },
	{ "scenario", OPT_SCENARIO, "NAME", 0, "block-retry: convert --range to private "
	  "with G3; on EAGAIN release the pin at error_offset and retry; then back to "
	  "shared", 7 },
	{ "range", OPT_RANGE, "OFF:LEN", 0, "guest_memfd range of the scenario "
	  "(default: the whole file)", 7 },
	{ "oracle", OPT_ORACLE, "N", 0, "N random steps: pins and fresh pages change, a "
	  "random range is converted to private (and back when it worked)", 7 },
	{ "seed", OPT_SEED, "S", 0, "seed of --oracle (default 1)", 7 },
	{ "oracle-wait", OPT_ORACLE_WAIT, NULL, 0, "before each --oracle conversion print "
	  "'oracle STEP OFFSET SIZE' on stderr and wait for SIGUSR1", 7 },
	{ "guest-unpin-retry", OPT_GUEST_UNPIN_RETRY, NULL, 0, "with --guest: a G3 "
	  "conversion refused with EAGAIN releases the --pin-pages pin at error_offset "
	  "and is retried before the guest runs again", 7 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

/* "3,7-8,12": entries of one page or one buffer over a page range */
static int parse_page_list(const char *s, __u64 *first, __u64 *len, unsigned int max,
			   unsigned int *n, bool ranges)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*n = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		__u64 a, b;

		if (*n >= max)
			return -1;
		if (dash) {
			if (!ranges)
				return -1;
			*dash = 0;
			if (parse_u64(tok, false, &a) || parse_u64(dash + 1, false, &b) || b < a)
				return -1;
		} else {
			if (parse_u64(tok, false, &a))
				return -1;
			b = a;
		}
		first[*n] = a;
		if (len)
			len[*n] = b - a + 1;
		(*n)++;
	}
	return *n ? 0 : -1;
}

static error_t scn_parse_opt(int key, char *arg, struct argp_state *state)
{
	struct scn_cfg *s = state->input;
	char *colon;

	switch (key) {
	case OPT_IN_PLACE:
		s->in_place = true;
		break;
	case OPT_PIN_PAGES:
		if (parse_page_list(arg, s->pin_page, s->pin_len, GMW_MAX_SPINS, &s->npins, true))
			return bad_value(state, "pin-pages", arg);
		break;
	case OPT_FRESH_PAGES:
		if (parse_page_list(arg, s->fresh, NULL, GMW_MAX_FRESH, &s->nfresh, false))
			return bad_value(state, "fresh-pages", arg);
		break;
	case OPT_SCENARIO:
		if (strcmp(arg, "block-retry"))
			return bad_value(state, "scenario", arg);
		s->scenario = SCN_BLOCK_RETRY;
		break;
	case OPT_RANGE:
		colon = strchr(arg, ':');
		if (!colon)
			return bad_value(state, "range", arg);
		*colon = 0;
		if (parse_u64(arg, true, &s->range_off) || parse_u64(colon + 1, true, &s->range_len) ||
		    !s->range_len) {
			*colon = ':';
			return bad_value(state, "range", arg);
		}
		*colon = ':';
		s->range_set = true;
		break;
	case OPT_ORACLE:
		if (parse_u64(arg, false, &s->oracle) || !s->oracle || s->oracle > GMW_MAX_ORACLE)
			return bad_value(state, "oracle", arg);
		break;
	case OPT_SEED:
		if (parse_u64(arg, false, &s->seed))
			return bad_value(state, "seed", arg);
		break;
	case OPT_ORACLE_WAIT:
		s->oracle_wait = true;
		break;
	case OPT_GUEST_UNPIN_RETRY:
		s->guest_unpin_retry = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp scn_argp = { .options = scn_options, .parser = scn_parse_opt };

/* checks that need the whole configuration, from the parent's KEY_END */
int scn_check(struct cfg *c, struct argp_state *state)
{
	struct scn_cfg *s = &c->scn;
	long ps = sysconf(_SC_PAGESIZE);
	__u64 page = ps > 0 ? (__u64)ps : 4096, npages = c->gmem_size / page;
	unsigned int i, j;

	if (s->seed == 0)
		s->seed = 1;
	for (i = 0; i < s->npins; i++) {
		if (s->pin_page[i] >= npages || s->pin_len[i] > npages - s->pin_page[i]) {
			argp_error(state, "--pin-pages entry %llu (+%llu) is outside --gmem-size",
				   (unsigned long long)s->pin_page[i],
				   (unsigned long long)s->pin_len[i]);
			return EINVAL;
		}
		for (j = 0; j < i; j++)
			if (s->pin_page[i] < s->pin_page[j] + s->pin_len[j] &&
			    s->pin_page[j] < s->pin_page[i] + s->pin_len[i]) {
				argp_error(state, "--pin-pages entries overlap");
				return EINVAL;
			}
	}
	for (i = 0; i < s->nfresh; i++)
		if (s->fresh[i] >= npages) {
			argp_error(state, "--fresh-pages %llu is outside --gmem-size",
				   (unsigned long long)s->fresh[i]);
			return EINVAL;
		}
	if (s->range_set && (s->range_off % page || s->range_len % page ||
			     s->range_off >= c->gmem_size ||
			     s->range_len > c->gmem_size - s->range_off)) {
		argp_error(state, "--range must be page aligned and inside --gmem-size");
		return EINVAL;
	}
	if (s->scenario && !s->npins) {
		argp_error(state, "--scenario block-retry needs --pin-pages");
		return EINVAL;
	}
	if (s->scenario && s->oracle) {
		argp_error(state, "--scenario and --oracle exclude each other");
		return EINVAL;
	}
	if (s->oracle && npages < 2) {
		argp_error(state, "--oracle needs a guest_memfd of at least 2 pages");
		return EINVAL;
	}
	if (s->oracle_wait && !s->oracle) {
		argp_error(state, "--oracle-wait needs --oracle");
		return EINVAL;
	}
	if (s->guest_unpin_retry && (!c->guest || !s->npins)) {
		argp_error(state, "--guest-unpin-retry needs --guest and --pin-pages");
		return EINVAL;
	}
	if ((s->scenario || s->oracle) && c->bench) {
		argp_error(state, "--scenario/--oracle cannot be combined with --bench");
		return EINVAL;
	}
	return 0;
}
