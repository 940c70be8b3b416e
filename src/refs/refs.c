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
#include "refs.h"
#include "refs.skel.h"
#include "util.h"

#define READ_BUF	(128 << 10)	/* > the iterator's 32 KiB seq buffer */
#define MAX_PASSES	(1 << 22)	/* a walk that stops moving is a bug: bail */

struct refs_vm {
	__u32 tgid;
	__s32 fd;
	__u64 kvm;
};

struct refs_gmem {
	struct gmt_refs_gmem rec;	/* the first fd seen for this inode */
	struct gmt_refs_holder_view *others;	/* further fds on the same inode */
	int nr_others;
};

struct refs_pid_link {
	pid_t pid;
	struct bpf_link *link;
};

struct refs_ctx {
	const struct gmt_refs_opts *o;
	struct refs_bpf *skel;
	struct gmt_plan plan;
	struct gmt_out *out;
	char *buf;
	size_t have;
	unsigned int page_shift;

	struct refs_vm *vms;
	int nr_vms;
	struct refs_gmem *gmems;
	int nr_gmems;

	struct bpf_link *global;	/* all tasks: no -p, or no per-pid links here */
	bool no_pid_links;
	struct refs_pid_link *links;
	int nr_links;
	__u32 pass;

	/* pfn from folio address: vmemmap base found through our own memfd */
	int calib_fd;
	void *calib_map;
	__u64 calib_pfn[2];
	bool pfn_known;
	__u64 vmemmap_base, page_struct_size;

	/* the guest_memfd being walked */
	struct refs_gmem *cur;
	struct gmt_refs_counts cnt;
	struct gmt_refs_chunk last;
	bool chunk_seen;
	unsigned int passes;

	/* totals */
	__u64 t_scanned, t_blocking, t_pins, t_pinned;
	int t_gmems;
	bool any_blocking, any_truncated, any_incomplete;
	__u64 t0;
};

/* ---- parsing, shared with the CLI and the unit tests ---- */

int gmt_refs_parse_range(const char *s, unsigned long long *off, unsigned long long *len)
{
	const char *colon = s ? strchr(s, ':') : NULL;
	char first[64];

	if (!colon || (size_t)(colon - s) >= sizeof(first) || colon == s)
		return -EINVAL;
	memcpy(first, s, colon - s);
	first[colon - s] = 0;
	if (gmt_parse_size(first, off) || gmt_parse_size(colon + 1, len) || !*len)
		return -EINVAL;
	if (*off + *len < *off)
		return -EINVAL;
	return 0;
}

int gmt_refs_parse_gmem(const char *s, struct gmt_refs_gmem_filter *f)
{
	f->kind = GMT_REFS_MATCH_ANY;
	if (s && !strncmp(s, "fd:", 3)) {
		f->kind = GMT_REFS_MATCH_FD;
		s += 3;
	} else if (s && !strncmp(s, "ino:", 4)) {
		f->kind = GMT_REFS_MATCH_INO;
		s += 4;
	}
	if (gmt_parse_u64(s, &f->v))
		return -EINVAL;
	if (f->kind == GMT_REFS_MATCH_FD && f->v > 0x7fffffff)
		return -EINVAL;
	return 0;
}

void gmt_refs_verdict_str(const struct gmt_refs_verdict *v, char *buf, size_t len)
{
	if (v->blocking) {
		if (v->pins && v->other)
			snprintf(buf, len, "would block: %u pin%s, %u other ref%s", v->pins,
				 v->pins == 1 ? "" : "s", v->other, v->other == 1 ? "" : "s");
		else if (v->pins)
			snprintf(buf, len, "would block: %u pin%s", v->pins, v->pins == 1 ? "" : "s");
		else
			snprintf(buf, len, "would block: %u other ref%s", v->other,
				 v->other == 1 ? "" : "s");
	} else if (v->mapcount) {
		snprintf(buf, len, "mapped only");
	} else if (v->lru_batch) {
		snprintf(buf, len, "lru batch only");
	} else {
		snprintf(buf, len, "ok");
	}
}

/* ---- helpers ---- */

static const char *status_name(unsigned int st)
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

static const struct refs_vm *vm_of(const struct refs_ctx *c, __u64 kvm, __u32 tgid)
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

static bool pfn_of(const struct refs_ctx *c, __u64 folio, __u64 *pfn)
{
	if (!c->pfn_known || folio < c->vmemmap_base)
		return false;
	*pfn = (folio - c->vmemmap_base) / c->page_struct_size;
	return true;
}

/* ---- calibration: vmemmap base from a memfd of our own ---- */

static void calib_prepare(struct refs_ctx *c)
{
	long psz = sysconf(_SC_PAGESIZE);
	int pm, i;

	c->calib_fd = memfd_create("gmemtrace-refs-calib", MFD_CLOEXEC);
	if (c->calib_fd < 0 || ftruncate(c->calib_fd, 2 * psz))
		goto fail;
	c->calib_map = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED, c->calib_fd, 0);
	if (c->calib_map == MAP_FAILED) {
		c->calib_map = NULL;
		goto fail;
	}
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		goto fail;
	for (i = 0; i < 2; i++) {
		__u64 e = 0;
		char *p = (char *)c->calib_map + i * psz;

		*(volatile char *)p = 1;	/* allocate it in the page cache */
		if (pread(pm, &e, sizeof(e), ((unsigned long)p / psz) * sizeof(e)) != sizeof(e))
			e = 0;
		/* bit 63 present, bits 0-54 the pfn (zero without CAP_SYS_ADMIN) */
		c->calib_pfn[i] = (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
	}
	close(pm);
	if (c->calib_pfn[0] && c->calib_pfn[1])
		return;
fail:
	gmt_info("pfn calibration unavailable: pfns will be null");
	if (c->calib_fd >= 0)
		close(c->calib_fd);
	c->calib_fd = -1;
}

static void calib_done(struct refs_ctx *c)
{
	if (c->calib_map)
		munmap(c->calib_map, 2 * sysconf(_SC_PAGESIZE));
	c->calib_map = NULL;
	if (c->calib_fd >= 0)
		close(c->calib_fd);
	c->calib_fd = -1;
}

static void calib_record(struct refs_ctx *c, const struct gmt_refs_calib *r)
{
	__u64 b0, b1;

	/* plain folio pointers (no xarray tag bits), two distinct folios */
	if (!r->page_size || (r->folio[0] & 3) || (r->folio[1] & 3) || !r->folio[0] ||
	    r->folio[0] == r->folio[1])
		return;
	b0 = r->folio[0] - c->calib_pfn[0] * r->page_size;
	b1 = r->folio[1] - c->calib_pfn[1] * r->page_size;
	if (b0 != b1) {
		gmt_info("pfn calibration: bases differ (not a linear vmemmap?)");
		return;
	}
	c->vmemmap_base = b0;
	c->page_struct_size = r->page_size;
	c->pfn_known = true;
}

/* ---- iterator plumbing ---- */

typedef void (*rec_fn)(struct refs_ctx *c, const struct gmt_refs_hdr *h);

static int run_iter(struct refs_ctx *c, struct bpf_link *link, rec_fn fn)
{
	int fd = bpf_iter_create(bpf_link__fd(link)), err = 0;

	if (fd < 0) {
		gmt_err("cannot create the BPF iterator: %s", strerror(errno));
		return -errno;
	}
	c->have = 0;
	for (;;) {
		ssize_t n = read(fd, c->buf + c->have, READ_BUF - c->have);
		size_t off = 0;

		/* EAGAIN: a million objects without output in one read; go on */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			err = -errno;
			gmt_err("reading the BPF iterator: %s", strerror(errno));
			break;
		}
		if (n == 0)
			break;
		c->have += n;
		/* records never straddle a read, but do not rely on it */
		while (c->have - off >= sizeof(struct gmt_refs_hdr)) {
			struct gmt_refs_hdr h;
			union {
				struct gmt_refs_hdr h;
				struct gmt_refs_gmem g;
				struct gmt_refs_vm v;
				struct gmt_refs_folio f;
				struct gmt_refs_chunk k;
				struct gmt_refs_calib b;
			} u;

			memcpy(&h, c->buf + off, sizeof(h));
			if (h.size < sizeof(h) || h.size > sizeof(u) || (h.size & 7)) {
				gmt_err("corrupt record from the BPF iterator (type %u size %u)",
					h.type, h.size);
				err = -EPROTO;
				goto out;
			}
			if (c->have - off < h.size)
				break;
			memset(&u, 0, sizeof(u));
			memcpy(&u, c->buf + off, h.size);
			fn(c, &u.h);
			off += h.size;
		}
		memmove(c->buf, c->buf + off, c->have - off);
		c->have -= off;
	}
out:
	close(fd);
	return err;
}

static struct bpf_link *global_link(struct refs_ctx *c)
{
	if (!c->global) {
		c->global = bpf_program__attach_iter(c->skel->progs.gmt_refs_iter, NULL);
		if (!c->global)
			gmt_err("cannot attach the task_file iterator: %s", strerror(errno));
	}
	return c->global;
}

/* An iterator over one process's fds (6.1+), else over every task. */
static struct bpf_link *link_for(struct refs_ctx *c, pid_t pid)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo;
	struct refs_pid_link *l;
	struct bpf_link *link;
	int i;

	if (c->no_pid_links)
		return global_link(c);
	for (i = 0; i < c->nr_links; i++)
		if (c->links[i].pid == pid)
			return c->links[i].link;
	memset(&linfo, 0, sizeof(linfo));
	linfo.task.pid = pid;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(c->skel->progs.gmt_refs_iter, &opts);
	if (!link) {
		if (errno == ESRCH || errno == ENOENT)
			return NULL;	/* the process is gone */
		gmt_info("per-process iterator refused (%s): iterating every task",
			 strerror(errno));
		c->no_pid_links = true;
		return global_link(c);
	}
	l = realloc(c->links, (c->nr_links + 1) * sizeof(*l));
	if (!l) {
		bpf_link__destroy(link);
		return NULL;
	}
	c->links = l;
	c->links[c->nr_links].pid = pid;
	c->links[c->nr_links].link = link;
	c->nr_links++;
	return link;
}

/* ---- discovery ---- */

static void on_discovery(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	if (h->type == GMT_REFS_REC_VM && h->size >= sizeof(struct gmt_refs_vm)) {
		struct refs_vm *v = realloc(c->vms, (c->nr_vms + 1) * sizeof(*v));

		if (!v)
			return;
		c->vms = v;
		v[c->nr_vms].tgid = h->tgid;
		v[c->nr_vms].fd = h->fd;
		v[c->nr_vms].kvm = ((const struct gmt_refs_vm *)h)->kvm;
		c->nr_vms++;
	} else if (h->type == GMT_REFS_REC_GMEM && h->size >= sizeof(struct gmt_refs_gmem)) {
		struct refs_gmem *g = realloc(c->gmems, (c->nr_gmems + 1) * sizeof(*g));

		if (!g)
			return;
		c->gmems = g;
		memset(&g[c->nr_gmems], 0, sizeof(*g));
		g[c->nr_gmems].rec = *(const struct gmt_refs_gmem *)h;
		c->nr_gmems++;
	} else if (h->type == GMT_REFS_REC_CALIB && h->size >= sizeof(struct gmt_refs_calib)) {
		calib_record(c, (const struct gmt_refs_calib *)h);
	}
}

static int gmem_cmp(const void *a, const void *b)
{
	const struct gmt_refs_hdr *x = &((const struct refs_gmem *)a)->rec.hdr;
	const struct gmt_refs_hdr *y = &((const struct refs_gmem *)b)->rec.hdr;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* one entry per inode, the lowest (pid, fd) first; the others as holders */
static void dedup_gmems(struct refs_ctx *c)
{
	int i, j, n = 0;

	qsort(c->gmems, c->nr_gmems, sizeof(*c->gmems), gmem_cmp);
	for (i = 0; i < c->nr_gmems; i++) {
		struct refs_gmem *g = &c->gmems[i];

		for (j = 0; j < n; j++) {
			struct refs_gmem *p = &c->gmems[j];
			struct gmt_refs_holder_view *h;

			if (p->rec.hdr.ino != g->rec.hdr.ino)
				continue;
			h = realloc(p->others, (p->nr_others + 1) * sizeof(*h));
			if (h) {
				p->others = h;
				h[p->nr_others].pid = g->rec.hdr.tgid;
				h[p->nr_others].fd = g->rec.hdr.fd;
				p->nr_others++;
			}
			break;
		}
		if (j == n)
			c->gmems[n++] = *g;
	}
	c->nr_gmems = n;
}

static bool gmem_wanted(const struct refs_ctx *c, const struct refs_gmem *g)
{
	int i, k;

	if (!c->o->nr_gmem)
		return true;
	for (i = 0; i < c->o->nr_gmem; i++) {
		const struct gmt_refs_gmem_filter *f = &c->o->gmem[i];

		if (f->kind != GMT_REFS_MATCH_FD && g->rec.hdr.ino == f->v)
			return true;
		if (f->kind == GMT_REFS_MATCH_INO)
			continue;
		if ((__u64)g->rec.hdr.fd == f->v)
			return true;
		for (k = 0; k < g->nr_others; k++)
			if ((__u64)g->others[k].fd == f->v)
				return true;
	}
	return false;
}

/* ---- rendering ---- */

/* A guest_memfd, its folios and its summary as view records (view.h), each
 * worked out here once; the output's format writes them. */
static void render_gmem(struct refs_ctx *c, const struct refs_gmem *g)
{
	const struct gmt_refs_gmem *r = &g->rec;
	const struct refs_vm *vm = vm_of(c, r->kvm, r->hdr.tgid);
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

static void render_folio(struct refs_ctx *c, const struct gmt_refs_folio *r)
{
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

	v.has_pfn = pfn_of(c, r->folio, &v.pfn);
	gmt_refs_decompose(r->refcount, r->mapcount, r->pincount, r->order, v.lru, &d);
	gmt_refs_verdict_str(&d, verdict, sizeof(verdict));
	v.nr_pages = d.nr_pages;
	v.expected = d.expected;
	v.pins = d.pins;
	v.other = d.other;
	v.lru_batch = d.lru_batch;
	v.blocking = d.blocking;
	gmt_out_refs_folio(c->out, &v);
}

static const char *incomplete_why(const struct refs_ctx *c)
{
	if (!c->chunk_seen || c->last.status == GMT_REFS_ST_GONE)
		return "the fd was closed while it was read";
	if (c->last.status == GMT_REFS_ST_BAD_TREE)
		return "page cache tree deeper than expected or changing";
	return "a kernel read failed";
}

static void render_summary(struct refs_ctx *c, const struct refs_gmem *g, __u64 elapsed_ns)
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
		.status = c->chunk_seen ? status_name(c->last.status) : "gone",
		.incomplete_why = incomplete_why(c),
		.max_folios = c->o->max_folios,
		.passes = c->passes,
		.elapsed_ns = elapsed_ns,
	};

	gmt_out_refs_summary(c->out, &v);
	if (v.truncated)
		c->any_truncated = true;
	else if (!v.complete)
		c->any_incomplete = true;
}

/* ---- the walk ---- */

static void on_walk(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	const struct gmt_refs_gmem *g = &c->cur->rec;

	if (h->tgid != g->hdr.tgid || h->fd != g->hdr.fd)
		return;
	if (h->type == GMT_REFS_REC_FOLIO && h->size >= sizeof(struct gmt_refs_folio)) {
		render_folio(c, (const struct gmt_refs_folio *)h);
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
	memset(&c->last, 0, sizeof(c->last));
	c->passes = 0;
	c->chunk_seen = false;
	render_gmem(c, g);

	for (;;) {
		__u64 prev_next = c->chunk_seen ? c->last.next : val.first;

		c->chunk_seen = false;
		link = link_for(c, g->rec.hdr.tgid);
		if (!link)
			break;	/* the process exited: reported as gone */
		c->skel->bss->refs_pass = ++c->pass;
		c->passes++;
		err = run_iter(c, link, on_walk);
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
	render_summary(c, g, gmt_mono_ns() - t0);

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

static void render_total(struct refs_ctx *c, const pid_t *empty, int nr_empty)
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
		.pfn_known = c->pfn_known,
		.elapsed_ns = gmt_mono_ns() - c->t0,
	};

	gmt_out_refs_total(c->out, &v);
}

/* ---- setup ---- */

static int load(struct refs_ctx *c)
{
	const struct gmt_refs_opts *o = c->o;
	int err, i;

	c->skel = refs_bpf__open();
	if (!c->skel) {
		err = errno;
		gmt_err("cannot open the BPF object: %s", strerror(err));
		return gmt_load_exit_code(-err);
	}
	c->skel->rodata->cfg_all = o->all;
	c->skel->rodata->cfg_filter_tgid = o->nr_pids > 0;
	if (o->max_records && o->max_records < GMT_REFS_MAX_RECORDS)
		c->skel->rodata->cfg_max_records = o->max_records;
	if (c->calib_fd >= 0) {
		c->skel->rodata->cfg_self_tgid = getpid();
		c->skel->rodata->cfg_calib_fd = c->calib_fd;
	}
	err = gmt_obj_plan(c->skel->obj, &c->plan, NULL, NULL, NULL);
	if (!err)
		err = gmt_skel_load(c->skel->skeleton, "the refs iterator");
	if (err)
		return err;
	for (i = 0; i < o->nr_pids; i++) {
		__u32 k = o->pids[i];
		__u8 one = 1;

		if (bpf_map_update_elem(bpf_map__fd(c->skel->maps.refs_tgids), &k, &one, BPF_ANY)) {
			gmt_err("cannot add pid %d to the filter: %s", o->pids[i], strerror(errno));
			return GMT_EXIT_RUNTIME;
		}
	}
	return 0;
}

static int discover(struct refs_ctx *c)
{
	const struct gmt_refs_opts *o = c->o;
	struct bpf_link *link;
	int i, err;

	c->skel->bss->refs_pass = 0;
	if (!o->nr_pids) {
		link = global_link(c);
		if (!link)
			return GMT_EXIT_UNSUPPORTED;
		return run_iter(c, link, on_discovery) ? GMT_EXIT_RUNTIME : 0;
	}
	for (i = 0; i <= o->nr_pids; i++) {
		/* the last round is gmemtrace itself, for the pfn calibration */
		pid_t pid = i < o->nr_pids ? o->pids[i] : getpid();

		if (i == o->nr_pids && c->calib_fd < 0)
			break;
		link = link_for(c, pid);
		if (!link) {
			if (c->no_pid_links && !c->global)
				return GMT_EXIT_UNSUPPORTED;
			continue;	/* exited since the command line was checked */
		}
		err = run_iter(c, link, on_discovery);
		if (err)
			return GMT_EXIT_RUNTIME;
		if (c->no_pid_links)
			break;	/* one pass over every task covered them all */
	}
	return 0;
}

int gmt_refs_run(const struct gmt_refs_opts *o)
{
	struct refs_ctx c;
	pid_t *empty = NULL;
	int nr_empty = 0, ret, i, k;
	char why[256];

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.calib_fd = -1;
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
	calib_prepare(&c);
	ret = load(&c);
	if (!ret)
		ret = discover(&c);
	calib_done(&c);
	if (ret)
		goto out;
	dedup_gmems(&c);

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
		if (!gmem_wanted(&c, &c.gmems[i]))
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
		render_total(&c, empty, nr_empty);
	if (!ret && o->exit_code && c.any_blocking)
		ret = GMT_EXIT_BLOCKING;
out:
	for (i = 0; i < c.nr_links; i++)
		bpf_link__destroy(c.links[i].link);
	bpf_link__destroy(c.global);
	refs_bpf__destroy(c.skel);
	for (i = 0; i < c.nr_gmems; i++)
		free(c.gmems[i].others);
	free(c.gmems);
	free(c.vms);
	free(c.links);
	free(empty);
	free(c.buf);
	return ret;
}
