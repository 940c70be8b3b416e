/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a session has learnt from its events so far, that later events are
 * read against: today the memslots (GPA -> guest_memfd), so a G1 conversion,
 * which names GPAs, shows the guest_memfd range it converts. One per
 * session; every event goes through gmt_model_event() before its view is
 * built (gmt_out_event() does both).
 */
#ifndef GMT_MODEL_H
#define GMT_MODEL_H

#include <stdbool.h>

#include "holders.h"
#include "memslots.h"

struct gmt_event;

struct gmt_ksyms;
struct gmt_stack;

struct gmt_model {
	struct gmt_memslots slots;
	/* trace --holders: the holders alive now, so a blocked conversion can
	 * name its folio's; their user stacks from the stack map, the last one
	 * symbolized kept (a registration's buffers share one) */
	bool holders_on;
	bool stacks_on;
	int stack_map_fd;
	struct gmt_holders holders;
	struct gmt_held_stack *stack;
	__u64 records_lost;	/* so far: a lost holder record leaves the holders incomplete */
	/* gup_pin holders' kernel stacks, and the symbols they are read with */
	struct gmt_stack *kstack;
	__s32 kstack_id;
	struct gmt_ksyms *ksyms;
	bool ksyms_tried;
};

/* learn from an event: a memslot binds a GPA range, a VM gone drops its own,
 * a holder starts or ends */
void gmt_model_event(struct gmt_model *m, const struct gmt_event *e);
void gmt_model_free(struct gmt_model *m);

#endif /* GMT_MODEL_H */
