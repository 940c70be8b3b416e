/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * GPA -> guest_memfd offset, learned from KVM_SET_USER_MEMORY_REGION2
 * events, so G1 conversions (which name GPAs) can be shown as gmem offsets.
 */
#ifndef GMT_MEMSLOTS_H
#define GMT_MEMSLOTS_H

#include <stdbool.h>
#include <linux/types.h>

struct gmt_event;

struct gmt_memslot_entry {
	__u64 vm_key;
	__u32 slot;
	__u64 gpa;
	__u64 size;
	__u64 gmem_ino;
	__u64 gmem_offset;
};

struct gmt_memslots {
	struct gmt_memslot_entry *v;
	int nr, cap;
};

/* learn from a memslot event (successful ones only; size 0 deletes) */
void gmt_memslots_update(struct gmt_memslots *m, const struct gmt_event *e);
bool gmt_memslots_translate(const struct gmt_memslots *m, __u64 vm_key, __u64 gpa,
			    __u64 *gmem_ino, __u64 *gmem_offset);
void gmt_memslots_free(struct gmt_memslots *m);
/* the VM is gone: its bindings with it */
void gmt_memslots_drop_vm(struct gmt_memslots *m, __u64 vm_key);

#endif /* GMT_MEMSLOTS_H */
