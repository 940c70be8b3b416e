// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace refs: what was read, as view records for the output layer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "escape.h"
#include "object.h"
#include "internal.h"
#include "refs.h"
#include "refs.skel.h"
#include "util.h"


const char *refs_status_name(unsigned int st)
{
	switch (st) {
	case GMT_REFS_ST_OK:
		return "ok";
	case GMT_REFS_ST_GONE:
		return "gone";
	case GMT_REFS_ST_BAD_TREE:
		return "bad_tree";
	case GMT_REFS_ST_READ_ERR:
		return "read_error";
	}
	return "unknown";
}


const struct refs_vm *refs_vm_of(const struct refs_ctx *c, __u64 kvm, __u32 tgid)
{
	const struct refs_vm *best = NULL;
	int i;

	if (!kvm)
		return NULL;
	/* prefer the VM fd of the process holding the guest_memfd */
	for (i = 0; i < c->nr_vms; i++) {
		if (c->vms[i].kvm != kvm)
			continue;
		if (c->vms[i].tgid == tgid)
			return &c->vms[i];
		if (!best)
			best = &c->vms[i];
	}
	return best;
}


/* ---- rendering ---- */

/* A guest_memfd, its folios and its summary as view records (view.h), each
 * worked out here once; the output's format writes them. */
void refs_render_gmem(struct refs_ctx *c, const struct refs_gmem *g)
{
	const struct gmt_refs_gmem *r = &g->rec;
	const struct refs_vm *vm = refs_vm_of(c, r->kvm, r->hdr.tgid);
	struct gmt_refs_gmem_view v = {
		.pid = r->hdr.tgid,
		.fd = r->hdr.fd,
		.comm = r->comm,
		.gmem_ino = r->hdr.ino,
		.size = r->size,
		.cached_pages = r->nrpages,
		.has_flags = r->bits & GMT_REFS_GMEM_FLAGS_KNOWN,
		.flags = r->flags,
		.others = g->others,
		.nr_others = g->nr_others,
		.has_range = c->o->has_range,
		.range_off = c->o->range_off,
		.range_len = c->o->range_len,
	};

	gmt_view_vm(&v.vm, vm ? (__s32)vm->tgid : -1, vm ? vm->fd : -1, 0);
	gmt_out_refs_gmem(c->out, &v);
}

void refs_render_folio(struct refs_ctx *c, const struct gmt_refs_folio *r)
{
	struct gmt_refs_attr_view attr[GMT_REFS_MAX_ATTR];
	struct gmt_refs_verdict d;
	char verdict[64];
	struct gmt_refs_folio_view v = {
		.pid = r->hdr.tgid,
		.fd = r->hdr.fd,
		.gmem_ino = r->hdr.ino,
		.index = r->index,
		.offset = r->index << c->page_shift,
		.has_order = !(r->bits & GMT_REFS_F_NO_ORDER),
		.order = r->order,
		.refcount = r->refcount,
		.mapcount = r->mapcount,
		.has_pincount = r->pincount >= 0,
		.pincount = r->pincount,
		.lru = r->bits & GMT_REFS_F_LRU,
		.page_flags = r->flags,
		.verdict = verdict,
		.first = !c->cnt.emitted,
	};

	v.has_pfn = refs_pfn_of(c, r->folio, &v.pfn);
	gmt_refs_decompose(r->refcount, r->mapcount, r->pincount, r->order, v.lru, &d);
	gmt_refs_verdict_str(&d, verdict, sizeof(verdict));
	v.nr_pages = d.nr_pages;
	v.expected = d.expected;
	v.pins = d.pins;
	v.other = d.other;
	v.lru_batch = d.lru_batch;
	v.blocking = d.blocking;
	if (c->o->holders && d.blocking) {
		refs_holders_attribute(c, r, &d, &v, attr);
		c->h_attributed += v.excess_refs - v.unattributed;
		c->h_unattributed += v.unattributed;
	}
	gmt_out_refs_folio(c->out, &v);
}

const char *refs_incomplete_why(const struct refs_ctx *c)
{
	if (!c->chunk_seen || c->last.status == GMT_REFS_ST_GONE)
		return "the fd was closed while it was read";
	if (c->last.status == GMT_REFS_ST_BAD_TREE)
		return "page cache tree deeper than expected or changing";
	return "a kernel read failed";
}

void refs_render_summary(struct refs_ctx *c, const struct refs_gmem *g, __u64 elapsed_ns)
{
	const struct gmt_refs_counts *k = &c->cnt;
	struct gmt_refs_summary_view v = {
		.pid = g->rec.hdr.tgid,
		.fd = g->rec.hdr.fd,
		.gmem_ino = g->rec.hdr.ino,
		.scanned = k->scanned,
		.pages = k->pages,
		.blocking = k->blocking,
		.pinned = k->pinned,
		.pins = k->pins,
		.other = k->other,
		.mapped = k->mapped,
		.lru_batch = k->lru_batch,
		.stale = k->stale,
		.listed = k->emitted,
		.truncated = c->o->max_folios && k->scanned >= c->o->max_folios && !c->last.done,
		.complete = c->chunk_seen && c->last.done && c->last.status == GMT_REFS_ST_OK,
		.status = c->chunk_seen ? refs_status_name(c->last.status) : "gone",
		.incomplete_why = refs_incomplete_why(c),
		.max_folios = c->o->max_folios,
		.holders = c->o->holders,
		.attributed_refs = c->h_attributed,
		.unattributed_refs = c->h_unattributed,
		.passes = c->passes,
		.elapsed_ns = elapsed_ns,
	};

	gmt_out_refs_summary(c->out, &v);
	if (v.truncated)
		c->any_truncated = true;
	else if (!v.complete)
		c->any_incomplete = true;
}

void refs_render_total(struct refs_ctx *c, const pid_t *empty, int nr_empty)
{
	struct gmt_refs_total_view v = {
		.gmems = c->t_gmems,
		.scanned = c->t_scanned,
		.blocking = c->t_blocking,
		.pinned = c->t_pinned,
		.pins = c->t_pins,
		.pids_without_gmem = empty,
		.nr_pids_without_gmem = nr_empty,
		.truncated = c->any_truncated,
		.complete = !c->any_truncated && !c->any_incomplete,
		.pfn_known = c->vmm.known,
		.elapsed_ns = gmt_mono_ns() - c->t0,
	};

	gmt_out_refs_total(c->out, &v);
}
