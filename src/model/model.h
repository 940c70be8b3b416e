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

#include "memslots.h"

struct gmt_event;

struct gmt_stack;
struct gmt_ksyms;

struct gmt_model {
	struct gmt_memslots slots;
	/* holders' user stacks (trace --holders): the stack map, and the last
	 * stack symbolized (a registration's buffers share one) */
	bool stacks_on;
	int stack_map_fd;
	struct gmt_stack *stack;
	__u32 stack_pid;
	__s32 stack_id;
	__u64 stack_leaf;	/* the leaf_ret it was resolved with */
	/* gup_pin holders' kernel stacks, and the symbols they are read with */
	struct gmt_stack *kstack;
	__s32 kstack_id;
	struct gmt_ksyms *ksyms;
	bool ksyms_tried;
};

/* learn from an event: a memslot binds a GPA range, a VM gone drops its own */
void gmt_model_event(struct gmt_model *m, const struct gmt_event *e);
void gmt_model_free(struct gmt_model *m);

#endif /* GMT_MODEL_H */
