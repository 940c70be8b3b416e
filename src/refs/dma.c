// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace refs --holders: device DMA mappings that existed before
 * gmemtrace ran: VFIO type1 containers' and iommufd IOASes' areas.
 * gmt_refs_dma's discovery pass writes the mappings of every container and
 * iommufd fd (bpf/lib/vfio_dma.bpf.h, iommufd_ioas.bpf.h), 256 at most, and
 * further passes read on from the (IOAS and) IOVA where one stopped. A
 * mapping of a user range is matched to guest_memfd offsets through the same
 * process's guest_memfd mmaps, read from /proc/PID/maps (inode and file
 * offset of each); an IOAS file mapping names its inode and offset itself.
 * The pages were pinned when the mapping was made: a guest_memfd mmap moved
 * since then would mislead, which holders.c bounds by the folio's pins.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "grow.h"
#include "internal.h"
#include "refs.skel.h"
#include "util.h"

void refs_dma_record(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	const struct gmt_refs_dma_end *e = (const void *)h;

	if (h->type == GMT_REFS_REC_DMA) {
		if (gmt_append(&c->dmas, &c->nr_dmas, h, sizeof(*c->dmas)))
			c->dma_lost++;	/* its pins stay unattributed, said so */
		return;
	}
	if (c->dma_resuming) {
		c->dma_last = *e;
		c->dma_last_seen = true;
		return;
	}
	c->dma_containers++;
	if (e->status == GMT_REFS_DMA_TRUNCATED) {
		if (gmt_append(&c->dma_more, &c->nr_dma_more, e, sizeof(*e)))
			c->dma_truncated++;	/* not read on: said */
	} else if (e->status == GMT_REFS_DMA_NO_BTF && e->kind == GMT_REFS_DMA_IOMMUFD)
		c->ioas_no_btf++;
	else if (e->status == GMT_REFS_DMA_NO_BTF)
		c->dma_no_btf++;
	else if (e->status == GMT_REFS_DMA_RACED)
		c->dma_raced++;
}

static bool is_gmem_ino(const struct refs_ctx *c, __u64 ino)
{
	int i;

	for (i = 0; i < c->nr_gmems; i++)
		if (c->gmems[i].rec.hdr.ino == ino)
			return true;
	return false;
}

/* the guest_memfd mmaps of tgid (the caller reads each process once) */
static void read_maps(struct refs_ctx *c, __u32 tgid)
{
	char path[64], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/maps", tgid);
	f = fopen(path, "re");
	if (!f)
		return;	/* exited: its mappings stay unattributed */
	while (fgets(line, sizeof(line), f)) {
		struct refs_gmem_map m = { .tgid = tgid };
		unsigned long long start, end, off, ino;

		if (sscanf(line, "%llx-%llx %*s %llx %*s %llu", &start, &end, &off, &ino) != 4 ||
		    !is_gmem_ino(c, ino))
			continue;
		m.start = start;
		m.end = end;
		m.pgoff = off;
		m.ino = ino;
		if (gmt_append(&c->gmaps, &c->nr_gmaps, &m, sizeof(m)))
			c->dma_lost++;
	}
	fclose(f);
}

/* (IOAS, IOVA) b is past a: where a read goes on must move */
static bool dma_moved_on(const struct gmt_refs_dma_walk *a, const struct gmt_refs_dma_end *b)
{
	return b->next_ioas > a->from_ioas ||
	       (b->next_ioas == a->from_ioas && b->next_iova > a->from_iova);
}

/* read on a container (iommufd) the discovery pass left TRUNCATED, pass by pass */
static int dma_read_on(struct refs_ctx *c, int mfd, const struct gmt_refs_dma_end *e)
{
	struct gmt_refs_walk_key key = { .tgid = e->hdr.tgid, .fd = e->hdr.fd };
	struct gmt_refs_dma_walk val = { .container = e->container, .from_iova = e->next_iova,
					 .from_ioas = e->next_ioas };
	int err = 0;

	c->dma_resuming = true;
	for (;;) {
		struct bpf_link *link = refs_link_for(c, REFS_IT_DMA, key.tgid);

		if (!link || bpf_map_update_elem(mfd, &key, &val, BPF_ANY)) {
			c->dma_truncated++;	/* exited, or not queued: said */
			break;
		}
		c->dma_last_seen = false;
		c->skel->bss->refs_pass = ++c->pass;
		err = refs_run_iter(c, link, refs_on_discovery);
		if (err)
			break;
		if (!c->dma_last_seen) {
			c->dma_truncated++;	/* the fd was closed meanwhile */
			break;
		}
		if (c->dma_last.status == GMT_REFS_DMA_RACED)
			c->dma_raced++;
		if (c->dma_last.status != GMT_REFS_DMA_TRUNCATED)
			break;
		/* (IOAS ids and) iovas only grow: a pass that does not move on is a cycle */
		if (!dma_moved_on(&val, &c->dma_last)) {
			c->dma_raced++;
			break;
		}
		val.from_iova = c->dma_last.next_iova;
		val.from_ioas = c->dma_last.next_ioas;
	}
	bpf_map_delete_elem(mfd, &key);
	c->dma_resuming = false;
	return err;
}

int refs_dma_walk(struct refs_ctx *c)
{
	int i, err;

	if (c->dma_off[0])
		return 0;	/* said at load; the pins are reported unattributed */
	err = refs_discover(c, REFS_IT_DMA);
	if (err)
		return err;
	for (i = 0; i < c->nr_dma_more && !err; i++)
		err = dma_read_on(c, bpf_map__fd(c->skel->maps.refs_dmas), &c->dma_more[i]);
	if (err)
		return GMT_EXIT_RUNTIME;
	/* once per process, whether or not it has guest_memfd mmaps */
	for (i = 0; i < c->nr_dmas; i++) {
		int j = 0;

		while (j < i && c->dmas[j].hdr.tgid != c->dmas[i].hdr.tgid)
			j++;
		if (j == i)
			read_maps(c, c->dmas[i].hdr.tgid);
	}
	return 0;
}

/*
 * The DMA mappings over guest_memfd ino's [off, off+len): for each, the
 * bytes of the range it covers, their offset in the guest_memfd and the
 * IOVA of the first. fn is called once per (mapping, guest_memfd mmap)
 * overlap; an IOAS file mapping of the guest_memfd overlaps it directly.
 */
void refs_dma_over(const struct refs_ctx *c, __u64 ino, __u64 off, __u64 len,
		   refs_dma_fn fn, void *arg)
{
	int i, j;

	for (j = 0; j < c->nr_dmas; j++) {
		const struct gmt_refs_dma *d = &c->dmas[j];
		__u64 s = off > d->file_off ? off : d->file_off;
		__u64 e = off + len < d->file_off + d->size ? off + len : d->file_off + d->size;

		if (d->file_ino == ino && s < e)
			fn(arg, d, d->iova + (s - d->file_off), s, e - s);
	}
	for (i = 0; i < c->nr_gmaps; i++) {
		const struct refs_gmem_map *m = &c->gmaps[i];
		__u64 ms, me, us, ue;

		if (m->ino != ino)
			continue;
		/* the folio's bytes within this mmap, as user addresses */
		ms = off > m->pgoff ? off : m->pgoff;
		me = off + len < m->pgoff + (m->end - m->start) ?
		     off + len : m->pgoff + (m->end - m->start);
		if (ms >= me)
			continue;
		us = m->start + (ms - m->pgoff);
		ue = m->start + (me - m->pgoff);
		for (j = 0; j < c->nr_dmas; j++) {
			const struct gmt_refs_dma *d = &c->dmas[j];
			__u64 s, e;

			if (d->hdr.tgid != m->tgid || d->file_ino)
				continue;
			s = us > d->vaddr ? us : d->vaddr;
			e = ue < d->vaddr + d->size ? ue : d->vaddr + d->size;
			if (s < e)
				fn(arg, d, d->iova + (s - d->vaddr), m->pgoff + (s - m->start), e - s);
		}
	}
}
