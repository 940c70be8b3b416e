/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The holders alive now: long-term references on guest_memfd pages, as the
 * holder_start/holder_end records told them (trace --holders) or as BPF's
 * holder map holds them (stat, export). Kind-agnostic: a holder is a
 * guest_memfd range and who holds it (io_uring buffers today; any kind the
 * BPF side adds is kept and looked up the same way). Sorted by (guest_memfd
 * inode, offset), so "who holds this folio" is a binary search.
 */
#ifndef GMT_HOLDERS_H
#define GMT_HOLDERS_H

#include <stdbool.h>
#include <linux/types.h>

#include "gmemtrace.h"
#include "stacks.h"

/* a symbolized user stack, shared by the holders one registration made */
struct gmt_held_stack {
	int refs;
	__u32 pid;
	__s32 id;
	__u64 leaf_ret;		/* resolved with it: part of what makes it the same */
	struct gmt_stack st;
};

struct gmt_held_stack *gmt_held_stack_get(struct gmt_held_stack *s);
void gmt_held_stack_put(struct gmt_held_stack *s);

struct gmt_live_holder {
	__u64 id;			/* gmt_holder.id: unique while the BPF object lives */
	__u8 kind;			/* enum gmt_holder_kind */
	__u32 pid;
	char comm[GMT_COMM_LEN];
	__s32 fd;			/* the fd that owns it (a ring, a container, an IOAS) */
	__u32 index;			/* buffer index; iommufd: IOAS id */
	__u64 iova;			/* VFIO / iommufd / iommu_map: device address */
	__u64 paddr;			/* iommu_map: physical address */
	__u64 gmem_ino, gmem_offset, len, uaddr;
	__u64 start_ns;			/* CLOCK_MONOTONIC when taken */
	__u64 vm_id;
	__s32 vm_pid, vm_fd;
	struct gmt_held_stack *stack;	/* NULL: not symbolized */
};

struct gmt_holders {
	struct gmt_live_holder *h;	/* sorted by (gmem_ino, gmem_offset, id) */
	int nr, cap;
	__u64 max_len;			/* the longest held: lookups start that far below */
};

/* a holder_start record (stack: its symbolized stack, a reference is taken) */
int gmt_holders_start(struct gmt_holders *t, const struct gmt_event *e,
		      struct gmt_held_stack *stack);
/* a holder_end record: the holder goes */
void gmt_holders_end(struct gmt_holders *t, const struct gmt_event *e);
int gmt_holders_add(struct gmt_holders *t, const struct gmt_live_holder *h);
bool gmt_holders_remove(struct gmt_holders *t, __u64 id);

/*
 * The holders over [off, off + len) of guest_memfd `ino`, in offset order:
 * up to max of them in out; returns how many there are.
 */
int gmt_holders_find(const struct gmt_holders *t, __u64 ino, __u64 off, __u64 len,
		     const struct gmt_live_holder **out, int max);

/*
 * The syscall DMA holder (vfio_dma, iommufd) whose device mapping iommu_map
 * holder h is: over the same guest_memfd pages at the same IOVAs (one pin,
 * seen twice: by the ioctl and by the iommu:map it made). NULL: none, h
 * stands for its pages' pin itself (a driver's mapping, or a DMA holder
 * gmemtrace did not see taken).
 */
const struct gmt_live_holder *gmt_holders_dma_of(const struct gmt_holders *t,
						 const struct gmt_live_holder *h);

void gmt_holders_clear(struct gmt_holders *t);
void gmt_holders_free(struct gmt_holders *t);

#endif /* GMT_HOLDERS_H */
