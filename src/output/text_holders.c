// SPDX-License-Identifier: GPL-2.0-only
/* Holders in the text format (text_holders.h). */
#include <string.h>

#include "fmt.h"
#include "text_holders.h"

void gmt_text_stack(struct gmt_line *l, const char *key, const char *const *frames,
		    const __u64 *ips, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		/* the line has a fixed size: a frame is whole or left out */
		if ((size_t)(l->end - l->p) < 4 * strlen(frames[i]) + 64)
			break;
		gmt_puts(l, i ? ";" : key);
		if (frames[i][0])
			gmt_put_esc(l, frames[i], strlen(frames[i]), GMT_ESC_ASCII | GMT_ESC_SPACE);
		else
			gmt_put_hex(l, ips[i]);
	}
}

/* holder=io_uring_buffer,pid=..,comm=..,fd=..,index=..,gmem=ino:off+size,since=..,
 * held=..,refs=..,id=..,stack=f0;f1 (one field: no spaces) */
static void text_blocker(struct gmt_line *l, const struct gmt_blocker_view *h, bool has_refs,
			 bool iso)
{
	gmt_puts(l, " holder=");
	gmt_puts(l, h->kind);
	gmt_puts(l, ",pid=");
	gmt_put_u64(l, h->pid);
	gmt_puts(l, ",comm=");
	gmt_put_esc(l, h->comm, strnlen(h->comm, GMT_COMM_LEN),
		    GMT_ESC_ASCII | GMT_ESC_SPACE);
	gmt_puts(l, ",fd=");
	gmt_put_s64(l, h->fd);
	gmt_puts(l, ",index=");
	gmt_put_u64(l, h->index);
	if (gmt_holder_has_iova(h->holder_kind)) {
		gmt_puts(l, ",iova=");
		gmt_put_hex(l, h->iova);
	}
	if (h->device_mapping) {	/* its iommu_map holder, folded in */
		gmt_puts(l, ",device_mapping=");
		gmt_put_u64(l, h->device_mapping);
	}
	if (h->holder_kind == GMT_HOLD_IOMMU_MAP || h->device_mapping) {
		gmt_puts(l, ",paddr=");
		gmt_put_hex(l, h->paddr);
	}
	gmt_puts(l, ",gmem=");
	gmt_put_u64(l, h->gmem_ino);
	gmt_putc(l, ':');
	gmt_put_hex(l, h->gmem_offset);
	gmt_putc(l, '+');
	gmt_put_hex(l, h->size);
	gmt_puts(l, ",since=");
	gmt_put_time(l, h->since_real_ns, iso);
	gmt_puts(l, ",held=");
	gmt_put_ns(l, h->held_ns);
	if (has_refs) {
		gmt_puts(l, ",refs=");
		gmt_put_u64(l, h->refs);
	}
	gmt_puts(l, ",id=");
	gmt_put_u64(l, h->id);
	gmt_text_stack(l, ",stack=", h->frames, h->frame_ips, h->nr_frames);
}

void gmt_text_blockers(struct gmt_line *l, const struct gmt_blockers_view *b, bool iso)
{
	int i;

	if (!b->traced) {
		gmt_puts(l, " holders=? (--holders names them)");
		return;
	}
	gmt_puts(l, " holders=");
	gmt_put_u64(l, b->nr_holders);
	if (b->has_refs) {
		gmt_puts(l, " excess=");
		gmt_put_u64(l, b->excess);
		gmt_puts(l, " attributed=");
		gmt_put_u64(l, b->attributed);
		gmt_puts(l, " unattributed=");
		gmt_put_u64(l, b->unattributed);
	}
	for (i = 0; i < b->nr && (size_t)(l->end - l->p) > 400; i++)
		text_blocker(l, &b->h[i], b->has_refs, iso);
	if (i < b->nr_holders)
		gmt_put_fmt(l, " (%d more holders)", b->nr_holders - i);
	if (b->records_lost)	/* a lost start or end: the holders here may be off */
		gmt_put_fmt(l, " (%llu records lost: holders may be missing or stale)",
			    (unsigned long long)b->records_lost);
	if (b->unattributed_why) {
		gmt_puts(l, " (unattributed: ");
		gmt_puts(l, b->unattributed_why);
		gmt_putc(l, ')');
	}
}

void gmt_text_stat_holders(FILE *f, const struct gmt_stat_view *v)
{
	char pinned[24];
	int i, k;

	if (!v->holders_on)
		return;
	if (!v->nr_hrows) {
		fprintf(f, "  holders: none\n");
		return;
	}
	fprintf(f, "  %-12s %8s %10s  %s\n", "VM", "HOLDERS", "PINNED", "BY KIND");
	for (i = 0; i < v->nr_hrows; i++) {
		const struct gmt_holders_row_view *r = &v->hrows[i];

		gmt_fmt_bytes(pinned, sizeof(pinned), (double)r->pinned_bytes);
		fprintf(f, "  %-12s %8llu %10s ", r->vm.label, r->holders, pinned);
		for (k = 0; k < r->nr_kinds; k++)
			if (r->kinds[k].n)
				fprintf(f, " %s %llu", r->kinds[k].kind, r->kinds[k].n);
		fprintf(f, "%s\n", r->gone ? "  (gone)" : "");
	}
}
