// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "gmemtrace.h"
#include "ksyms.h"
#include "model.h"
#include "stacks.h"

/* a gup_pin's kernel stack: once per stack id */
static void model_kstack(struct gmt_model *m, __s32 id)
{
	if (!m->stacks_on || id < 0 || (m->kstack && m->kstack_id == id))
		return;
	if (!m->ksyms_tried) {
		m->ksyms = gmt_ksyms_load();
		m->ksyms_tried = true;
	}
	if (!m->kstack)
		m->kstack = calloc(1, sizeof(*m->kstack));
	if (!m->kstack)
		return;
	m->kstack_id = id;
	gmt_kstack_resolve(m->kstack, m->stack_map_fd, id, m->ksyms);
}

/* symbolize a holder's stack while its process still runs: once per stack */
static struct gmt_held_stack *holder_stack(struct gmt_model *m, const struct gmt_event *e)
{
	const struct gmt_holder *h = &e->holder;
	struct gmt_held_stack *st;

	if (!m->stacks_on || h->stack_id < 0)
		return NULL;
	if (m->stack && m->stack->pid == e->hdr.pid && m->stack->id == h->stack_id &&
	    m->stack->leaf_ret == h->leaf_ret)
		return m->stack;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->refs = 1;	/* the model's: the last one symbolized */
	st->pid = e->hdr.pid;
	st->id = h->stack_id;
	st->leaf_ret = h->leaf_ret;
	gmt_stack_resolve(&st->st, m->stack_map_fd, e->hdr.pid, h->stack_id, h->leaf_ret);
	gmt_held_stack_put(m->stack);
	m->stack = st;
	return st;
}

void gmt_model_event(struct gmt_model *m, const struct gmt_event *e)
{
	struct gmt_held_stack *st;

	switch (e->hdr.type) {
	case GMT_EV_MEMSLOT:
		gmt_memslots_update(&m->slots, e);
		break;
	case GMT_EV_VM_GONE:
		gmt_memslots_drop_vm(&m->slots, e->hdr.vm_key);
		break;
	case GMT_EV_HOLDER_START:
		st = holder_stack(m, e);
		/* the user stack first: reading kallsyms (once) can outlast a
		 * short-lived process (over a second under emulation) */
		if (e->holder.kind == GMT_HOLD_GUP_PIN) {
			model_kstack(m, e->holder.kstack_id);
			break;	/* a pin of a folio, not a holder kept by id */
		}
		if (e->holder.kind == GMT_HOLD_IOMMU_MAP)
			model_kstack(m, e->holder.kstack_id);
		/* a holder not kept is one a blocked conversion cannot name:
		 * it then counts as unattributed, never as absent */
		if (m->holders_on)
			gmt_holders_start(&m->holders, e, st);
		break;
	case GMT_EV_HOLDER_END:
		if (e->holder.kind == GMT_HOLD_GUP_PIN) {	/* a release has stacks too */
			holder_stack(m, e);
			model_kstack(m, e->holder.kstack_id);
			break;
		}
		if (m->holders_on)
			gmt_holders_end(&m->holders, e);
		break;
	}
}

void gmt_model_free(struct gmt_model *m)
{
	gmt_memslots_free(&m->slots);
	gmt_holders_free(&m->holders);
	gmt_held_stack_put(m->stack);
	m->stack = NULL;
	free(m->kstack);
	m->kstack = NULL;
	gmt_ksyms_free(m->ksyms);
	m->ksyms = NULL;
	m->ksyms_tried = false;
}
