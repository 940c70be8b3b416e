// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace refs --holders: the io_uring rings gmt_refs_rings' discovery pass
 * announced, each walked in passes like a guest_memfd (bpf/lib/uring.bpf.h):
 * user space seeds (tgid, fd) in map refs_rings and reruns the process's ring
 * iterator until the ring's RING record says done. The bvecs in guest_memfd folios collected
 * here are what holders.c matches against each blocking folio.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "refs.skel.h"
#include "util.h"

void refs_rings_announce(struct refs_ctx *c, const struct gmt_refs_ring *r)
{
	struct gmt_refs_ring *n = realloc(c->rings, (c->nr_rings + 1) * sizeof(*n));

	if (!n) {
		c->rings_truncated++;	/* not walked: its pins stay unattributed */
		return;
	}
	c->rings = n;
	c->rings[c->nr_rings++] = *r;
}

static void on_ring(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	const struct gmt_refs_ring *want = &c->rings[c->ring_idx];

	if (h->tgid != want->hdr.tgid || h->fd != want->hdr.fd)
		return;
	if (h->type == GMT_REFS_REC_UBUF && h->size >= sizeof(struct gmt_refs_ubuf)) {
		refs_holders_record(c, (const struct gmt_refs_ubuf *)h);
	} else if (h->type == GMT_REFS_REC_RING && h->size >= sizeof(struct gmt_refs_ring)) {
		c->ring_last = *(const struct gmt_refs_ring *)h;
		c->ring_seen = true;
	}
}

/* Walk one ring to its end; a ring that stops moving or closes is said so. */
static int walk_ring(struct refs_ctx *c, int mfd)
{
	const struct gmt_refs_ring *r = &c->rings[c->ring_idx];
	struct gmt_refs_walk_key key = { .tgid = r->hdr.tgid, .fd = r->hdr.fd };
	struct gmt_refs_ring_walk val = { .ctx = r->ctx };
	unsigned int passes = 0;
	int err = 0;

	if (bpf_map_update_elem(mfd, &key, &val, BPF_ANY)) {
		gmt_err("cannot queue io_uring ring fd %d of pid %u: %s", r->hdr.fd,
			r->hdr.tgid, strerror(errno));
		return -errno;
	}
	for (;;) {
		struct bpf_link *link = refs_link_for(c, REFS_IT_RINGS, r->hdr.tgid);
		__u64 before = (__u64)c->ring_last.next_buf << 32 | c->ring_last.next_bvec;

		c->ring_seen = false;
		if (!link) {
			c->rings_gone++;	/* the process exited */
			break;
		}
		c->skel->bss->refs_pass = ++c->pass;
		err = refs_run_iter(c, link, on_ring);
		if (err)
			break;
		if (!c->ring_seen) {
			c->rings_gone++;	/* the fd was closed */
			break;
		}
		if (c->ring_last.status == GMT_REFS_RING_GONE)
			c->rings_gone++;
		if (c->ring_last.done)
			break;
		/* a pass reads at least one bvec or record: no progress is a bug */
		if (++passes >= MAX_PASSES || (passes > 1 && !c->ring_last.bvecs &&
		    before == ((__u64)c->ring_last.next_buf << 32 | c->ring_last.next_bvec))) {
			c->rings_truncated++;
			break;
		}
	}
	bpf_map_delete_elem(mfd, &key);
	return err;
}

int refs_rings_walk(struct refs_ctx *c)
{
	int mfd = bpf_map__fd(c->skel->maps.refs_rings), err = 0;

	if (c->rings_off[0])
		return 0;	/* said at load; the pins are reported unattributed */
	err = refs_discover(c, REFS_IT_RINGS);
	if (err)
		return err;

	for (c->ring_idx = 0; c->ring_idx < c->nr_rings && !err; c->ring_idx++) {
		const struct gmt_refs_ring *r = &c->rings[c->ring_idx];

		if (r->status == GMT_REFS_RING_LAYOUT)
			c->rings_unknown++;
		if (r->done)
			continue;	/* no buffers, or a layout not known */
		memset(&c->ring_last, 0, sizeof(c->ring_last));
		err = walk_ring(c, mfd);
	}
	refs_holders_done(c);
	return err ? GMT_EXIT_RUNTIME : 0;
}
