/* SPDX-License-Identifier: GPL-2.0-only */
/* The text format's `refs` records (text_refs.c) and `enforce --unpin`'s
 * (text_unpin.c), in text.c's ops table. */
#ifndef GMT_OUTPUT_TEXT_H
#define GMT_OUTPUT_TEXT_H

#include "output.h"

void text_refs_gmem(struct gmt_out *o, const struct gmt_refs_gmem_view *v);
void text_refs_folio(struct gmt_out *o, const struct gmt_refs_folio_view *v);
void text_refs_summary(struct gmt_out *o, const struct gmt_refs_summary_view *v);
void text_refs_total(struct gmt_out *o, const struct gmt_refs_total_view *v);
void text_unpin(struct gmt_out *o, const struct gmt_unpin_view *v);	/* text_unpin.c */

#endif /* GMT_OUTPUT_TEXT_H */
