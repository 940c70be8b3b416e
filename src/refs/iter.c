// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace refs: load the iterator, run it (all tasks or per -p), discover guest_memfds. */
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


/* ---- iterator plumbing ---- */

typedef void (*rec_fn)(struct refs_ctx *c, const struct gmt_refs_hdr *h);

int refs_run_iter(struct refs_ctx *c, struct bpf_link *link, rec_fn fn)
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
				struct gmt_refs_ubuf ub;
				struct gmt_refs_ring r;
				struct gmt_refs_dma d;
				struct gmt_refs_dma_end de;
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

static struct bpf_program *refs_prog(struct refs_ctx *c, enum refs_it it)
{
	if (it == REFS_IT_RINGS)
		return c->skel->progs.gmt_refs_rings;
	return it == REFS_IT_DMA ? c->skel->progs.gmt_refs_dma : c->skel->progs.gmt_refs_iter;
}

struct bpf_link *refs_global_link(struct refs_ctx *c, enum refs_it it)
{
	if (!c->global[it]) {
		c->global[it] = bpf_program__attach_iter(refs_prog(c, it), NULL);
		if (!c->global[it])
			gmt_err("cannot attach the task_file iterator %s: %s",
				bpf_program__name(refs_prog(c, it)), strerror(errno));
	}
	return c->global[it];
}

/* An iterator over one process's fds (6.1+), else over every task. */
struct bpf_link *refs_link_for(struct refs_ctx *c, enum refs_it it, pid_t pid)
{
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info linfo;
	struct refs_pid_link *l;
	struct bpf_link *link;
	int i;

	if (c->no_pid_links)
		return refs_global_link(c, it);
	for (i = 0; i < c->nr_links; i++)
		if (c->links[i].pid == pid && c->links[i].it == it)
			return c->links[i].link;
	memset(&linfo, 0, sizeof(linfo));
	linfo.task.pid = pid;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(refs_prog(c, it), &opts);
	if (!link) {
		if (errno == ESRCH || errno == ENOENT)
			return NULL;	/* the process is gone */
		gmt_info("per-process iterator refused (%s): iterating every task",
			 strerror(errno));
		c->no_pid_links = true;
		return refs_global_link(c, it);
	}
	l = realloc(c->links, (c->nr_links + 1) * sizeof(*l));
	if (!l) {
		bpf_link__destroy(link);
		return NULL;
	}
	c->links = l;
	c->links[c->nr_links].pid = pid;
	c->links[c->nr_links].it = it;
	c->links[c->nr_links].link = link;
	c->nr_links++;
	return link;
}

/* ---- discovery ---- */

void refs_on_discovery(struct refs_ctx *c, const struct gmt_refs_hdr *h)
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
		refs_calib_record(c, (const struct gmt_refs_calib *)h);
	} else if (h->type == GMT_REFS_REC_RING && h->size >= sizeof(struct gmt_refs_ring)) {
		refs_rings_announce(c, (const struct gmt_refs_ring *)h);
	} else if ((h->type == GMT_REFS_REC_DMA && h->size >= sizeof(struct gmt_refs_dma)) ||
		   (h->type == GMT_REFS_REC_DMA_END && h->size >= sizeof(struct gmt_refs_dma_end))) {
		refs_dma_record(c, h);
	}
}

int refs_gmem_cmp(const void *a, const void *b)
{
	const struct gmt_refs_hdr *x = &((const struct refs_gmem *)a)->rec.hdr;
	const struct gmt_refs_hdr *y = &((const struct refs_gmem *)b)->rec.hdr;

	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* one entry per inode, the lowest (pid, fd) first; the others as holders */
void refs_dedup_gmems(struct refs_ctx *c)
{
	int i, j, n = 0;

	qsort(c->gmems, c->nr_gmems, sizeof(*c->gmems), refs_gmem_cmp);
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

bool refs_gmem_wanted(const struct refs_ctx *c, const struct refs_gmem *g)
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

/* ---- setup ---- */

/*
 * The verifier's reason, from its log: the line before "processed N insns"
 * (libbpf has already rewritten a poisoned CO-RE relocation there into
 * "failed to resolve CO-RE relocation ..."), else the last line.
 */
void refs_verifier_reason(const char *log, char *out, size_t len)
{
	const char *p = log, *prev = NULL;

	snprintf(out, len, "the verifier refused it (no log)");
	for (; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (*p == '\n')
			continue;
		if (!strncmp(p, "processed ", 10) && prev)
			break;
		prev = p;
	}
	if (prev)
		snprintf(out, len, "the verifier refused it: %.*s", (int)strcspn(prev, "\n"), prev);
}

static bool want_prog(const struct gmt_prog_spec *spec, const void *ctx)
{
	const struct refs_ctx *c = ctx;

	if (spec->want != GMT_WANT_HOLDERS)
		return true;
	if (!c->o->holders)
		return false;
	if (!strcmp(spec->prog, "gmt_refs_dma"))
		return !c->dma_off[0];
	return !c->rings_off[0];
}

/* Open, configure and load the object; 0 or an exit code. */
static int refs_load_once(struct refs_ctx *c, struct bpf_program *(*logged)(struct refs_ctx *),
			  char *log, size_t log_len)
{
	const struct gmt_refs_opts *o = c->o;
	int err;

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
	/* iommufds are /dev/iommu, a dynamic misc minor (0: none loaded) */
	c->skel->rodata->cfg_iommufd_rdev = gmt_misc_rdev("iommu");
	if (c->vmm.fd >= 0) {
		c->skel->rodata->cfg_self_tgid = getpid();
		c->skel->rodata->cfg_calib_fd = c->vmm.fd;
	}
	err = gmt_obj_plan(c->skel->obj, &c->plan, NULL, want_prog, c);
	if (err)
		return err;
	if (log) {
		log[0] = 0;
		bpf_program__set_log_buf(logged(c), log, log_len);
		bpf_program__set_log_level(logged(c), 1);
	}
	return 0;
}

static struct bpf_program *rings_prog(struct refs_ctx *c)
{
	return c->skel->progs.gmt_refs_rings;
}

static struct bpf_program *dma_prog(struct refs_ctx *c)
{
	return c->skel->progs.gmt_refs_dma;
}

/* open and load what want_prog asks for now; 0 or an error */
static int refs_try_load(struct refs_ctx *c)
{
	int err;

	refs_bpf__destroy(c->skel);
	c->skel = NULL;
	err = refs_load_once(c, NULL, NULL, 0);
	return err ? err : -bpf_object__load_skeleton(c->skel->skeleton);
}

/* why a --holders walk does not load: loaded again with its verifier log at
 * hand (only then: before 6.4 a log that overflows its buffer fails the load) */
static void refused_why(struct refs_ctx *c, struct bpf_program *(*logged)(struct refs_ctx *),
			char *why, size_t len)
{
	size_t log_len = 4 << 20;
	char *log = malloc(log_len);

	snprintf(why, len, "no memory for its verifier log");
	if (!log)
		return;
	refs_bpf__destroy(c->skel);
	c->skel = NULL;
	if (!refs_load_once(c, logged, log, log_len) && bpf_object__load_skeleton(c->skel->skeleton))
		refs_verifier_reason(log, why, len);
	else
		snprintf(why, len, "it failed to load once, then loaded (not retried)");
	free(log);
}

/*
 * --holders: the ring walk and the DMA walk are each dropped, with the reason,
 * when the verifier refuses it; plain refs must not fail with either. Tried in
 * turn: without the DMA walk, then without the ring walk, then without both.
 */
static int refs_load_holders(struct refs_ctx *c)
{
	char why[sizeof(c->rings_off)];
	bool dma_wanted = !c->dma_off[0];
	int err;

	if (!dma_wanted) {	/* turned off: only the ring walk can have failed */
		refused_why(c, rings_prog, why, sizeof(why));
		snprintf(c->rings_off, sizeof(c->rings_off), "%s", why);
		goto out;
	}
	snprintf(c->dma_off, sizeof(c->dma_off), "-");
	if (!refs_try_load(c)) {	/* the DMA walk was the one refused */
		c->dma_off[0] = 0;
		refused_why(c, dma_prog, why, sizeof(why));
		snprintf(c->dma_off, sizeof(c->dma_off), "%s", why);
		goto out;
	}
	refused_why(c, rings_prog, why, sizeof(why));
	snprintf(c->rings_off, sizeof(c->rings_off), "%s", why);
	c->dma_off[0] = 0;
	if (!refs_try_load(c))
		goto out;
	refused_why(c, dma_prog, why, sizeof(why));
	snprintf(c->dma_off, sizeof(c->dma_off), "%s", why);
out:
	refs_bpf__destroy(c->skel);
	c->skel = NULL;
	err = refs_load_once(c, NULL, NULL, 0);
	if (!err)
		err = gmt_skel_load(c->skel->skeleton, "the refs iterator");
	if (err)
		return err;	/* not the walks: plain refs fails too */
	if (c->rings_off[0])
		fprintf(stderr, "gmemtrace: io_uring walk not available: %s\n", c->rings_off);
	if (c->dma_off[0] && dma_wanted)
		fprintf(stderr, "gmemtrace: VFIO/iommufd DMA walk not available: %s\n", c->dma_off);
	return 0;
}

int refs_load(struct refs_ctx *c)
{
	const struct gmt_refs_opts *o = c->o;
	const char *walk;
	int err, i;

	walk = getenv("GMT_REFS_DMA_WALK");
	if (walk && *walk && strcmp(walk, "off")) {
		gmt_err("GMT_REFS_DMA_WALK=%s: only off (for testing: do not load the DMA walk) "
			"is known", walk);
		return GMT_EXIT_USAGE;
	}
	if (walk && *walk)
		snprintf(c->dma_off, sizeof(c->dma_off), "turned off by GMT_REFS_DMA_WALK=off");
	err = refs_load_once(c, NULL, NULL, 0);
	if (!err)
		err = o->holders ? -bpf_object__load_skeleton(c->skel->skeleton) :
				   gmt_skel_load(c->skel->skeleton, "the refs iterator");
	if (err && o->holders)
		err = refs_load_holders(c);
	if (err)
		return err;
	if (o->holders && walk && *walk)
		fprintf(stderr, "gmemtrace: VFIO/iommufd DMA walk not available: %s\n", c->dma_off);
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

/* pass 0 of program it over the wanted processes (all of them without -p) */
int refs_discover(struct refs_ctx *c, enum refs_it it)
{
	const struct gmt_refs_opts *o = c->o;
	struct bpf_link *link;
	int i, err;

	c->skel->bss->refs_pass = 0;
	if (!o->nr_pids) {
		link = refs_global_link(c, it);
		if (!link)
			return GMT_EXIT_UNSUPPORTED;
		return refs_run_iter(c, link, refs_on_discovery) ? GMT_EXIT_RUNTIME : 0;
	}
	for (i = 0; i <= o->nr_pids; i++) {
		/* the last round is gmemtrace itself, for the pfn calibration */
		pid_t pid = i < o->nr_pids ? o->pids[i] : getpid();

		if (i == o->nr_pids && (c->vmm.fd < 0 || it != REFS_IT_WALK))
			break;
		link = refs_link_for(c, it, pid);
		if (!link) {
			if (c->no_pid_links && !c->global[it])
				return GMT_EXIT_UNSUPPORTED;
			continue;	/* exited since the command line was checked */
		}
		err = refs_run_iter(c, link, refs_on_discovery);
		if (err)
			return GMT_EXIT_RUNTIME;
		if (c->no_pid_links)
			break;	/* one pass over every task covered them all */
	}
	return 0;
}
