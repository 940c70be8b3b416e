/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel stacks of kernel-side holders (gup_pin), symbolized against
 * /proc/kallsyms, read once when the first kernel stack needs it.
 */
#ifndef GMT_KSYMS_H
#define GMT_KSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct gmt_ksyms;
struct gmt_stack;

/* NULL when /proc/kallsyms cannot be read (addresses are then shown alone) */
struct gmt_ksyms *gmt_ksyms_load(void);
void gmt_ksyms_free(struct gmt_ksyms *k);

/* "func+0x1c" or "func+0x1c[module]"; false when no symbol covers ip */
bool gmt_ksym(const struct gmt_ksyms *k, __u64 ip, char *out, size_t len);

/* Read kernel stack `id` from the stack map and symbolize it, without the
 * BPF program's and trampoline's own frames on top: 0 or -errno. */
int gmt_kstack_resolve(struct gmt_stack *st, int map_fd, __s32 id, const struct gmt_ksyms *k);

#endif /* GMT_KSYMS_H */
