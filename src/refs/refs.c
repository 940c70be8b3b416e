// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace refs engine: runs bpf/refs.bpf.c's task_file iterator in passes
 * (discovery, then a resumable xarray walk per guest_memfd) and renders what
 * it read as text or NDJSON ("type":"refs" records, docs/json-schema.md).
 *
 * Each guest_memfd is walked to its end before the next one starts, so the
 * folio records stream out in index order and memory stays flat however
 * large the guest is.
 */
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


/* ---- the walk ---- */

static void on_walk(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	const struct gmt_refs_gmem *g = &c->cur->rec;

	if (h->tgid != g->hdr.tgid || h->fd != g->hdr.fd)
		return;
	if (h->type == GMT_REFS_REC_FOLIO && h->size >= sizeof(struct gmt_refs_folio)) {
		refs_render_folio(c, (const struct gmt_refs_folio *)h);
		c->cnt.emitted++;
	} else if (h->type == GMT_REFS_REC_CHUNK && h->size >= sizeof(struct gmt_refs_chunk)) {
		const struct gmt_refs_chunk *k = (const struct gmt_refs_chunk *)h;

		c->cnt.scanned += k->c.scanned;
		c->cnt.pages += k->c.pages;
		c->cnt.blocking += k->c.blocking;
		c->cnt.pinned += k->c.pinned;
		c->cnt.pins += k->c.pins;
		c->cnt.other += k->c.other;
		c->cnt.mapped += k->c.mapped;
		c->cnt.lru_batch += k->c.lru_batch;
		c->cnt.stale += k->c.stale;
		c->last = *k;
		c->chunk_seen = true;
	}
}

static int walk_gmem(struct refs_ctx *c, struct refs_gmem *g)
{
	struct gmt_refs_walk_key key = { .tgid = g->rec.hdr.tgid, .fd = g->rec.hdr.fd };
	struct gmt_refs_walk val;
	int mfd = bpf_map__fd(c->skel->maps.refs_walk), err = 0;
	__u64 t0 = gmt_mono_ns();
	struct bpf_link *link;

	memset(&val, 0, sizeof(val));
	val.ino = g->rec.hdr.ino;
	val.last = (1ULL << 52) - 1;
	if (c->o->has_range) {
		val.first = c->o->range_off >> c->page_shift;
		val.last = (c->o->range_off + c->o->range_len - 1) >> c->page_shift;
	}
	val.next = val.start = val.first;
	val.scan_left = c->o->max_folios ? c->o->max_folios : ~0ULL;
	if (bpf_map_update_elem(mfd, &key, &val, BPF_ANY)) {
		gmt_err("cannot queue guest_memfd %llu for the walk: %s",
			(unsigned long long)g->rec.hdr.ino, strerror(errno));
		return GMT_EXIT_RUNTIME;
	}
	c->cur = g;
	memset(&c->cnt, 0, sizeof(c->cnt));
	c->h_attributed = c->h_unattributed = 0;
	memset(&c->last, 0, sizeof(c->last));
	c->passes = 0;
	c->chunk_seen = false;
	refs_render_gmem(c, g);

	for (;;) {
		__u64 prev_next = c->chunk_seen ? c->last.next : val.first;

		c->chunk_seen = false;
		link = refs_link_for(c, REFS_IT_WALK, g->rec.hdr.tgid);
		if (!link)
			break;	/* the process exited: reported as gone */
		c->skel->bss->refs_pass = ++c->pass;
		c->passes++;
		err = refs_run_iter(c, link, on_walk);
		if (err || !c->chunk_seen || c->last.done)
			break;
		if (c->o->max_folios && c->cnt.scanned >= c->o->max_folios)
			break;	/* --max-folios: reported as truncated */
		if (c->last.next <= prev_next && !c->last.c.scanned && !c->last.steps) {
			gmt_err("internal: the walk of guest_memfd %llu does not advance",
				(unsigned long long)g->rec.hdr.ino);
			err = -EPROTO;
			break;
		}
		if (c->passes >= MAX_PASSES)
			break;
	}
	bpf_map_delete_elem(mfd, &key);
	refs_render_summary(c, g, gmt_mono_ns() - t0);

	c->t_gmems++;
	c->t_scanned += c->cnt.scanned;
	c->t_blocking += c->cnt.blocking;
	c->t_pins += c->cnt.pins;
	c->t_pinned += c->cnt.pinned;
	if (c->cnt.blocking)
		c->any_blocking = true;
	c->cur = NULL;
	return err ? GMT_EXIT_RUNTIME : 0;
}

int gmt_refs_run(const struct gmt_refs_opts *o)
{
	struct refs_ctx c;
	pid_t *empty = NULL;
	int nr_empty = 0, ret, i, k;
	char why[256];

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.t0 = gmt_mono_ns();
	c.page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	if (gmt_check_privilege(why, sizeof(why))) {
		gmt_err("%s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	gmt_libbpf_setup();
	c.buf = malloc(READ_BUF);
	if (!c.buf)
		return GMT_EXIT_RUNTIME;
	c.out = o->out;
	refs_calib_prepare(&c);
	ret = refs_load(&c);
	if (!ret)
		ret = refs_discover(&c, REFS_IT_WALK);
	gmt_vmemmap_done(&c.vmm);
	if (!ret && o->holders)
		ret = refs_rings_walk(&c);
	if (!ret && o->holders)
		ret = refs_dma_walk(&c);
	if (ret)
		goto out;
	refs_dedup_gmems(&c);

	/* processes asked for that hold no guest_memfd: said, not an error */
	empty = calloc(o->nr_pids + 1, sizeof(*empty));
	for (i = 0; empty && i < o->nr_pids; i++) {
		for (k = 0; k < c.nr_gmems; k++) {
			int h;

			if (c.gmems[k].rec.hdr.tgid == (__u32)o->pids[i])
				break;
			for (h = 0; h < c.gmems[k].nr_others; h++)
				if (c.gmems[k].others[h].pid == (__u32)o->pids[i])
					break;
			if (h < c.gmems[k].nr_others)
				break;
		}
		if (k == c.nr_gmems) {
			empty[nr_empty++] = o->pids[i];
			gmt_err("pid %d: no guest_memfd", o->pids[i]);
		}
	}
	if (!c.nr_gmems && !o->nr_pids)
		gmt_err("no guest_memfd in any process");

	for (i = 0; i < c.nr_gmems; i++) {
		if (!refs_gmem_wanted(&c, &c.gmems[i]))
			continue;
		ret = walk_gmem(&c, &c.gmems[i]);
		if (ret)
			break;
		/* a failed write (or a closed pipe) ends the walk: the caller says */
		if (gmt_out_check(c.out))
			break;
	}
	if (!ret && o->nr_gmem && !c.t_gmems)
		gmt_err("no guest_memfd matches --gmem");
	if (!ret)
		refs_render_total(&c, empty, nr_empty);
	if (!ret && o->exit_code && c.any_blocking)
		ret = GMT_EXIT_BLOCKING;
out:
	for (i = 0; i < c.nr_links; i++)
		bpf_link__destroy(c.links[i].link);
	for (i = 0; i < REFS_IT_NR; i++)
		bpf_link__destroy(c.global[i]);
	refs_bpf__destroy(c.skel);
	for (i = 0; i < c.nr_gmems; i++)
		free(c.gmems[i].others);
	free(c.gmems);
	free(c.vms);
	free(c.ubufs);
	free(c.rings);
	free(c.dmas);
	free(c.dma_more);
	free(c.gmaps);
	free(c.links);
	free(empty);
	free(c.buf);
	return ret;
}
