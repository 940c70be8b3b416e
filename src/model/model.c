// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "gmemtrace.h"
#include "model.h"
#include "stacks.h"

/* symbolize a holder's stack while its process still runs: once per stack */
static void model_holder(struct gmt_model *m, const struct gmt_event *e)
{
	const struct gmt_holder *h = &e->holder;

	if (!m->stacks_on || h->stack_id < 0)
		return;
	if (m->stack && m->stack_pid == e->hdr.pid && m->stack_id == h->stack_id)
		return;
	if (!m->stack)
		m->stack = calloc(1, sizeof(*m->stack));
	if (!m->stack)
		return;
	m->stack_pid = e->hdr.pid;
	m->stack_id = h->stack_id;
	gmt_stack_resolve(m->stack, m->stack_map_fd, e->hdr.pid, h->stack_id, h->leaf_ret);
}

void gmt_model_event(struct gmt_model *m, const struct gmt_event *e)
{
	if (e->hdr.type == GMT_EV_MEMSLOT)
		gmt_memslots_update(&m->slots, e);
	else if (e->hdr.type == GMT_EV_VM_GONE)
		gmt_memslots_drop_vm(&m->slots, e->hdr.vm_key);
	else if (e->hdr.type == GMT_EV_HOLDER_START)
		model_holder(m, e);
}

void gmt_model_free(struct gmt_model *m)
{
	gmt_memslots_free(&m->slots);
	free(m->stack);
	m->stack = NULL;
}
