// SPDX-License-Identifier: GPL-2.0-only
/* The text format of `gmemtrace refs`: a guest_memfd, its folios (and with
 * --holders who holds them), its summary, and the total. */
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "fmt.h"
#include "output.h"
#include "text.h"
#include "util.h"

void text_refs_gmem(struct gmt_out *o, const struct gmt_refs_gmem_view *v)
{
	char comm[GMT_ESC_SIZE(16)], size[32];
	int i;

	/* the process's own name: escaped, spaces too */
	gmt_escape(comm, sizeof(comm), v->comm, 16, GMT_ESC_ASCII | GMT_ESC_SPACE);
	gmt_fmt_bytes(size, sizeof(size), (double)v->size);
	fprintf(o->f, "guest_memfd %llu: pid %u (%s) fd %d, vm %s, size %s, ", v->gmem_ino,
		v->pid, comm, v->fd, v->vm.label, size);
	if (v->has_flags)
		fprintf(o->f, "flags 0x%llx, ", v->flags);
	fprintf(o->f, "%llu pages cached\n", v->cached_pages);
	for (i = 0; i < v->nr_others; i++)
		fprintf(o->f, "  also open as pid %u fd %d\n", v->others[i].pid, v->others[i].fd);
	if (v->has_range)
		fprintf(o->f, "  range 0x%llx+0x%llx\n", v->range_off, v->range_len);
}

/* --holders: who explains the folio's excess, then what nobody explains */
static void text_refs_holders(struct gmt_out *o, const struct gmt_refs_folio_view *v)
{
	char comm[GMT_ESC_SIZE(16)];
	int i;

	for (i = 0; i < v->nr_attr; i++) {
		const struct gmt_refs_attr_view *a = &v->attr[i];

		gmt_escape(comm, sizeof(comm), a->comm, 16, GMT_ESC_ASCII | GMT_ESC_SPACE);
		if (a->has_ioas)
			fprintf(o->f, "  %12s holder %s: pid %u (%s) iommufd fd %d ioas %u iova 0x%llx "
				"(area 0x%llx+0x%llx), %u page%s, %llu refs\n", "", a->kind, a->pid,
				comm, a->fd, a->ioas_id, a->iova, a->map_iova, a->map_size, a->pages,
				a->pages == 1 ? "" : "s", a->refs);
		else if (a->has_iova)
			fprintf(o->f, "  %12s holder %s: pid %u (%s) container fd %d iova 0x%llx "
				"(mapping 0x%llx+0x%llx), %u page%s, %llu refs\n", "", a->kind,
				a->pid, comm, a->fd, a->iova, a->map_iova, a->map_size, a->pages,
				a->pages == 1 ? "" : "s", a->refs);
		else
			fprintf(o->f, "  %12s holder %s: pid %u (%s) ring fd %d buffer %u, %u page%s, "
				"%llu refs\n", "", a->kind, a->pid, comm, a->fd, a->buf_index,
				a->pages, a->pages == 1 ? "" : "s", a->refs);
	}
	if (v->unattributed)
		fprintf(o->f, "  %12s %llu of %llu references not attributed: %s\n", "",
			v->unattributed, v->excess_refs, v->unattributed_why);
}

void text_refs_folio(struct gmt_out *o, const struct gmt_refs_folio_view *v)
{
	char pfns[24], offs[24];

	if (v->first)
		fprintf(o->f, "  %12s %10s %12s %6s %4s %4s %5s %6s %5s  %s\n", "OFFSET", "INDEX",
			"PFN", "REF", "EXP", "MAP", "PINS", "OTHER", "LRU", "VERDICT");
	if (v->has_pfn)
		snprintf(pfns, sizeof(pfns), "0x%llx", v->pfn);
	else
		snprintf(pfns, sizeof(pfns), "-");
	snprintf(offs, sizeof(offs), "0x%llx", v->offset);
	fprintf(o->f, "  %12s %10llu %12s %6d %4u %4d %5u %6u %5s  %s\n", offs, v->index, pfns,
		v->refcount, v->expected, v->mapcount, v->pins, v->other,
		v->lru ? "yes" : v->lru_batch ? "batch" : "no", v->verdict);
	if (v->holders)
		text_refs_holders(o, v);
}

void text_refs_summary(struct gmt_out *o, const struct gmt_refs_summary_view *v)
{
	char el[32];

	gmt_fmt_ns(el, sizeof(el), v->elapsed_ns);
	fprintf(o->f, "  %llu folio%s scanned, ", v->scanned, v->scanned == 1 ? "" : "s");
	if (v->blocking)
		fprintf(o->f, "%llu would block (%llu pinned, %llu with other refs)", v->blocking,
			v->pinned, v->other);
	else
		fprintf(o->f, "none would block");
	fprintf(o->f, ", %llu mapped, %llu in an lru batch", v->mapped, v->lru_batch);
	if (v->stale)
		fprintf(o->f, ", %llu changed while read", v->stale);
	fprintf(o->f, " (%s)\n", el);
	if (v->holders && v->attributed_refs + v->unattributed_refs)
		fprintf(o->f, "  holders explain %llu of %llu blocking references; %llu not attributed\n",
			v->attributed_refs, v->attributed_refs + v->unattributed_refs,
			v->unattributed_refs);
	if (v->truncated)
		fprintf(o->f, "  TRUNCATED at --max-folios %llu: the rest was not scanned\n",
			v->max_folios);
	else if (!v->complete)
		fprintf(o->f, "  INCOMPLETE: %s\n", v->incomplete_why);
}

void text_refs_total(struct gmt_out *o, const struct gmt_refs_total_view *v)
{
	char b[32];

	if (!v->gmems)
		return;
	gmt_fmt_ns(b, sizeof(b), v->elapsed_ns);
	fprintf(o->f, "# %d guest_memfd%s, %llu folios scanned, %llu would block, in %s\n",
		v->gmems, v->gmems == 1 ? "" : "s", v->scanned, v->blocking, b);
}
