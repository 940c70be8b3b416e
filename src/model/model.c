// SPDX-License-Identifier: GPL-2.0-only
#include "gmemtrace.h"
#include "model.h"

void gmt_model_event(struct gmt_model *m, const struct gmt_event *e)
{
	if (e->hdr.type == GMT_EV_MEMSLOT)
		gmt_memslots_update(&m->slots, e);
	else if (e->hdr.type == GMT_EV_VM_GONE)
		gmt_memslots_drop_vm(&m->slots, e->hdr.vm_key);
}

void gmt_model_free(struct gmt_model *m)
{
	gmt_memslots_free(&m->slots);
}
