// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "gmemtrace.h"
#include "ksyms.h"
#include "model.h"
#include "stacks.h"

/* a gup_pin's kernel stack: once per stack id */
static void model_kstack(struct gmt_model *m, __s32 id)
{
	if (id < 0 || (m->kstack && m->kstack_id == id))
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

/* a holder's user stack while its process still runs: once per stack */
static void model_ustack(struct gmt_model *m, const struct gmt_event *e)
{
	const struct gmt_holder *h = &e->holder;

	if (h->stack_id < 0)
		return;
	if (m->stack && m->stack_pid == e->hdr.pid && m->stack_id == h->stack_id &&
	    m->stack_leaf == h->leaf_ret)
		return;
	if (!m->stack)
		m->stack = calloc(1, sizeof(*m->stack));
	if (!m->stack)
		return;
	m->stack_pid = e->hdr.pid;
	m->stack_id = h->stack_id;
	m->stack_leaf = h->leaf_ret;
	gmt_stack_resolve(m->stack, m->stack_map_fd, e->hdr.pid, h->stack_id, h->leaf_ret);
}

static void model_holder(struct gmt_model *m, const struct gmt_event *e)
{
	if (!m->stacks_on)
		return;
	/* the user stack first: reading kallsyms (once) can outlast a short-lived
	 * process (over a second under emulation) */
	model_ustack(m, e);
	if (e->holder.kind == GMT_HOLD_GUP_PIN)
		model_kstack(m, e->holder.kstack_id);
}

void gmt_model_event(struct gmt_model *m, const struct gmt_event *e)
{
	if (e->hdr.type == GMT_EV_MEMSLOT)
		gmt_memslots_update(&m->slots, e);
	else if (e->hdr.type == GMT_EV_VM_GONE)
		gmt_memslots_drop_vm(&m->slots, e->hdr.vm_key);
	else if (e->hdr.type == GMT_EV_HOLDER_START ||
		 (e->hdr.type == GMT_EV_HOLDER_END && e->holder.kind == GMT_HOLD_GUP_PIN))
		model_holder(m, e);	/* a pin's release has stacks too */
}

void gmt_model_free(struct gmt_model *m)
{
	gmt_memslots_free(&m->slots);
	free(m->stack);
	m->stack = NULL;
	free(m->kstack);
	m->kstack = NULL;
	gmt_ksyms_free(m->ksyms);
	m->ksyms = NULL;
	m->ksyms_tried = false;
}
