/* SPDX-License-Identifier: GPL-2.0-only */
/* The text format's holder parts: a blocked conversion's holders, stat's
 * holders per VM (text_holders.c). */
#ifndef GMT_TEXT_HOLDERS_H
#define GMT_TEXT_HOLDERS_H

#include <stdbool.h>
#include <stdio.h>

#include "escape.h"
#include "view.h"

/* KEY f0;f1;... (a frame without a symbol as its address): the frames that fit */
void gmt_text_stack(struct gmt_line *l, const char *key, const char *const *frames,
		    const __u64 *ips, int n);
/* " holders=N excess=E attributed=A unattributed=U holder=kind,pid=..." */
void gmt_text_blockers(struct gmt_line *l, const struct gmt_blockers_view *b, bool iso_time);
/* stat: one line per VM with holders now (or at the last record) */
void gmt_text_stat_holders(FILE *f, const struct gmt_stat_view *v);

#endif /* GMT_TEXT_HOLDERS_H */
