/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Blocking scenarios for in-place conversion kernels: fresh pages,
 * block-retry, the seeded oracle, and --guest-unpin-retry
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/falloc.h>

#include "workload.h"

/* splitmix64: the same sequence from the same --seed everywhere */
static __u64 scn_rand(struct scn_state *s)
{
	__u64 z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* VM 0's guest_memfd as mapped here: the memslot's own mapping with
 * --in-place, else one mapping made for the scenario */
char *scn_map(struct run *r)
{
	static char *own;
	struct vm *vm = &r->vms[0];
	void *p;

	if (r->cfg->scn.in_place)
		return vm->backing;
	if (own)
		return own;
	p = mmap(NULL, r->cfg->gmem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem_fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	own = p;
	return own;
}

static void scn_touch(struct run *r, __u64 off, __u64 len)
{
	struct touch_res t;
	char *map = scn_map(r);

	if (map)
		touch_range(map + off, len, r->page_size, &t);
}

/* --pin-pages: pinned after --touch, before the conversions */
void scn_setup(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	char *map;

	s->rng = c->seed;
	if (!c->npins && !c->oracle)
		return;
	s->used = true;
	if (r->vms[0].gmem_fd < 0) {
		s->error = "no guest_memfd";
		return;
	}
	map = scn_map(r);
	if (!map) {
		s->error = "mmap of the guest_memfd failed";
		return;
	}
	/* every page present and shared-mapped before anything is pinned */
	scn_touch(r, 0, r->cfg->gmem_size);
	for (s->npins = 0; s->npins < c->npins; s->npins++) {
		struct scn_pin *p = &s->pins[s->npins];

		p->page = c->pin_page[s->npins];
		p->npages = c->pin_len[s->npins];
		if (scn_pin_hold(r, p, 0) && !s->error)
			s->error = r->cfg->pin_with == PIN_IOURING ? "io_uring pin failed" :
				   "DMA pin failed (see dma.error)";
	}
}

void scn_teardown(struct run *r)
{
	unsigned int i;

	for (i = 0; i < r->scn.npins; i++)
		scn_pin_release(r, &r->scn.pins[i], -2);
}

/* punch a page and write it again: a new folio, in this CPU's lru_add batch */
static bool scn_freshen(struct run *r, __u64 page)
{
	char *map = scn_map(r);

	if (!map || scn_page_pinned(r, page))
		return false;
	if (fallocate(r->vms[0].gmem_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(page * r->page_size), (off_t)r->page_size)) {
		r->scn.fresh_punch_err++;
		return false;
	}
	scn_touch(r, page * r->page_size, r->page_size);
	return true;
}

/* the pages held right now, for the step's record */
static void scn_note_pins(const struct scn_state *s, struct scn_step *st)
{
	unsigned int i;
	__u64 k;

	for (i = 0; i < s->npins; i++)
		for (k = 0; s->pins[i].held && k < s->pins[i].npages; k++)
			if (st->npinned < GMW_STEP_PINS)
				st->pinned[st->npinned++] = s->pins[i].page + k;
}

static struct scn_step *scn_new_step(struct run *r)
{
	struct scn_state *s = &r->scn;
	struct scn_step *n = realloc(s->steps, (s->nsteps + 1) * sizeof(*n));

	if (!n)
		return NULL;
	s->steps = n;
	n = &s->steps[s->nsteps++];
	memset(n, 0, sizeof(*n));
	n->back_ret = 1;
	n->released_page = -1;
	scn_note_pins(s, n);
	return n;
}

/* one G3 conversion of VM 0's guest_memfd, recorded as a call of round `round` */
static long scn_convert(struct run *r, __u64 off, __u64 len, bool priv, __u64 round,
			__u64 *eo)
{
	struct call_rec c = { .round = round };
	long ret = -EINVAL;

	if (convert_range(r, 0, 3, priv, r->cfg->gpa_base + off, len, &c, &ret))
		r->conv_issued++;
	*eo = c.error_offset;
	return ret;
}

/* --scenario block-retry */
static void scn_block_retry(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	__u64 off = c->range_set ? c->range_off : 0;
	__u64 len = c->range_set ? c->range_len : r->cfg->gmem_size;
	__u64 attempt, eo, back_eo;
	unsigned int i;

	for (attempt = 0; attempt <= s->npins + 1 && !got_term; attempt++) {
		struct scn_step *st = scn_new_step(r);
		struct scn_pin *p;
		long ret;

		if (!st)
			break;
		for (i = 0; i < c->nfresh; i++)
			if (scn_freshen(r, c->fresh[i]) && st->nfresh < 4)
				st->fresh[st->nfresh++] = c->fresh[i];
		st->offset = off;
		st->size = len;
		ret = scn_convert(r, off, len, true, attempt, &eo);
		st->ret = (__s32)ret;
		st->error_offset = ret == -EAGAIN ? eo : 0;
		if (ret != -EAGAIN)
			break;
		p = scn_pin_at(r, eo);
		if (!p)
			break;	/* refused at a page we do not hold: nothing to release */
		st->released_page = (__s64)(eo / r->page_size);
		scn_pin_release(r, p, (__s64)attempt);
	}
	if (s->nsteps && s->steps[s->nsteps - 1].ret == 0) {
		s->steps[s->nsteps - 1].back_ret = (__s32)scn_convert(r, off, len, false, attempt,
								      &back_eo);
		scn_touch(r, off, len);
	}
}

/* An oracle step's pins: each held one goes with probability 1/3, then up
 * to two new ones (one or two pages each) while fewer than 4 are held */
static void scn_churn_pins(struct run *r, __u64 step, __u64 npages)
{
	struct scn_state *s = &r->scn;
	unsigned int i;
	__u64 k;

	/* each pin goes with probability 1/3; up to 4 held */
	for (i = 0; i < s->npins; i++)
		if (s->pins[i].held && scn_rand(s) % 3 == 0)
			scn_pin_release(r, &s->pins[i], (__s64)step);
	for (k = 0; k < 2; k++) {
		struct scn_pin *p;
		__u64 pg = scn_rand(s) % npages, held = 0;

		for (i = 0; i < s->npins; i++)
			held += s->pins[i].held;
		if (held >= 4 || scn_rand(s) % 2 || s->npins >= GMW_MAX_SPINS ||
		    scn_page_pinned(r, pg))
			continue;
		/* recycle a released slot */
		for (i = 0; i < s->npins; i++)
			if (!s->pins[i].ring_ok)
				break;
		p = &s->pins[i];
		if (i == s->npins)
			s->npins++;
		memset(p, 0, sizeof(*p));
		p->page = pg;
		p->npages = 1;
		/* now and then one buffer over two pages */
		if (pg + 1 < npages && !scn_page_pinned(r, pg + 1) && scn_rand(s) % 4 == 0)
			p->npages = 2;
		if (scn_pin_hold(r, p, step) && !s->error)
			s->error = r->cfg->pin_with == PIN_IOURING ? "io_uring pin failed" :
				   "DMA pin failed (see dma.error)";
	}
}

/* --oracle N: random pins, fresh pages and ranges, reproducible from --seed */
static void scn_oracle(struct run *r)
{
	const struct scn_cfg *c = &r->cfg->scn;
	struct scn_state *s = &r->scn;
	__u64 npages = r->cfg->gmem_size / r->page_size, step, eo;

	for (step = 0; step < c->oracle && !got_term; step++) {
		struct scn_step *st;
		__u64 a, n, k;
		long ret;

		scn_churn_pins(r, step, npages);
		st = scn_new_step(r);
		if (!st)
			break;
		n = scn_rand(s) % 3;
		for (k = 0; k < n; k++) {
			__u64 pg = scn_rand(s) % npages;

			if (scn_freshen(r, pg))
				st->fresh[st->nfresh++] = pg;
		}
		a = scn_rand(s) % npages;
		n = 1 + scn_rand(s) % (npages - a);
		st->offset = a * r->page_size;
		st->size = n * r->page_size;
		if (c->oracle_wait) {
			fprintf(stderr, "oracle %llu %llu %llu\n", (unsigned long long)step,
				(unsigned long long)st->offset, (unsigned long long)st->size);
			wait_for(UINT64_MAX, true);
			got_usr1 = 0;
			if (got_term) {
				s->nsteps--;
				break;
			}
		}
		ret = scn_convert(r, st->offset, st->size, true, step, &eo);
		st->ret = (__s32)ret;
		st->error_offset = ret == -EAGAIN ? eo : 0;
		if (ret == 0) {
			st->back_ret = (__s32)scn_convert(r, st->offset, st->size, false, step, &eo);
			scn_touch(r, st->offset, st->size);
		}
	}
}

void scn_run(struct run *r)
{
	__u64 t0;

	if (!r->scn.used || r->scn.error || (!r->cfg->scn.scenario && !r->cfg->scn.oracle))
		return;
	t0 = now_ns();
	if (r->cfg->scn.scenario == SCN_BLOCK_RETRY)
		scn_block_retry(r);
	else
		scn_oracle(r);
	r->conv_ns += now_ns() - t0;
	if (got_term)
		r->interrupted = true;
}

/* --guest-unpin-retry: serve a refused G3 request again after releasing the
 * pin at error_offset, as a VMM that owns the pin would */
bool scn_guest_release(struct run *r, long ret, __u64 eo, __u64 idx)
{
	struct scn_pin *p;

	if (!r->cfg->scn.guest_unpin_retry || ret != -EAGAIN)
		return false;
	p = scn_pin_at(r, eo);
	if (!p)
		return false;
	scn_pin_release(r, p, (__s64)idx);
	return true;
}
