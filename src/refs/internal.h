/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gmemtrace refs, inside: the state of one run and the steps that share it.
 * iter.c loads bpf/refs.bpf.c and runs its task_file iterator (discovery,
 * then passes); calib.c finds pfns; refs.c walks each guest_memfd to its
 * end; render.c hands what was read to the output layer as view records.
 */
#ifndef GMT_REFS_INTERNAL_H
#define GMT_REFS_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>
#include <linux/types.h>

#include "object.h"
#include "refs.h"
#include "vmemmap.h"

struct bpf_link;
struct gmt_out;

#define READ_BUF	(128 << 10)	/* > the iterator's 32 KiB seq buffer */
#define GMT_REFS_MAX_ATTR	16	/* distinct holders listed per folio */
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

/* the iterator programs of bpf/refs.bpf.c */
enum refs_it {
	REFS_IT_WALK,	/* gmt_refs_iter: guest_memfds, VM fds, the page-cache walk */
	REFS_IT_RINGS,	/* gmt_refs_rings: io_uring buffer tables (--holders) */
	REFS_IT_DMA,	/* gmt_refs_dma: VFIO type1 containers' DMA mappings (--holders) */
	REFS_IT_NR,
};

/* a guest_memfd mmap of a process (/proc/PID/maps): user range -> offset */
struct refs_gmem_map {
	__u32 tgid;
	__u64 ino;
	__u64 start, end;	/* user addresses */
	__u64 pgoff;		/* bytes into the guest_memfd */
};

struct refs_pid_link {
	pid_t pid;
	enum refs_it it;
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

	struct bpf_link *global[REFS_IT_NR];	/* all tasks: no -p, or no per-pid links */
	bool no_pid_links;
	struct refs_pid_link *links;
	int nr_links;
	__u32 pass;

	/* pfn from folio address: vmemmap base found through our own memfd */
	struct gmt_vmemmap vmm;

	/* --holders: pages io_uring fixed buffers pin, sorted by page */
	char rings_off[160];		/* why gmt_refs_rings is not loaded ("": it is) */
	struct gmt_refs_ubuf *ubufs;
	int nr_ubufs, cap_ubufs;
	__u64 ubufs_lost;
	struct gmt_refs_ring *rings;	/* announced by the discovery pass */
	int nr_rings;
	int ring_idx;			/* the ring being walked */
	struct gmt_refs_ring ring_last;	/* the walk's last RING record */
	bool ring_seen;
	int rings_truncated, rings_unknown, rings_gone;

	/* --holders: VFIO type1 DMA mappings and iommufd IOAS areas */
	char dma_off[160];		/* why gmt_refs_dma is not loaded ("": it is) */
	struct gmt_refs_dma *dmas;
	int nr_dmas;
	int dma_lost, dma_truncated, dma_no_btf, dma_raced, dma_containers;
	int ioas_no_btf;		/* iommufds whose structures have no BTF */
	struct gmt_refs_dma_end *dma_more;	/* containers with mappings left to read */
	int nr_dma_more;
	bool dma_resuming;		/* reading on: END records are dma_last */
	struct gmt_refs_dma_end dma_last;
	bool dma_last_seen;
	struct refs_gmem_map *gmaps;	/* guest_memfd mmaps of the DMA walk's processes */
	int nr_gmaps;

	/* the guest_memfd being walked */
	struct refs_gmem *cur;
	struct gmt_refs_counts cnt;
	__u64 h_attributed, h_unattributed;	/* --holders, this guest_memfd */
	struct gmt_refs_chunk last;
	bool chunk_seen;
	unsigned int passes;

	/* totals */
	__u64 t_scanned, t_blocking, t_pins, t_pinned;
	int t_gmems;
	bool any_blocking, any_truncated, any_incomplete;
	__u64 t0;
};

typedef void (*rec_fn)(struct refs_ctx *c, const struct gmt_refs_hdr *h);

const char *refs_status_name(unsigned int st);
const struct refs_vm *refs_vm_of(const struct refs_ctx *c, __u64 kvm, __u32 tgid);
bool refs_pfn_of(const struct refs_ctx *c, __u64 folio, __u64 *pfn);
void refs_calib_prepare(struct refs_ctx *c);
void refs_calib_record(struct refs_ctx *c, const struct gmt_refs_calib *r);
int refs_run_iter(struct refs_ctx *c, struct bpf_link *link, rec_fn fn);
struct bpf_link *refs_global_link(struct refs_ctx *c, enum refs_it it);
struct bpf_link *refs_link_for(struct refs_ctx *c, enum refs_it it, pid_t pid);
void refs_on_discovery(struct refs_ctx *c, const struct gmt_refs_hdr *h);
int refs_gmem_cmp(const void *a, const void *b);
void refs_dedup_gmems(struct refs_ctx *c);
bool refs_gmem_wanted(const struct refs_ctx *c, const struct refs_gmem *g);
void refs_render_gmem(struct refs_ctx *c, const struct refs_gmem *g);
void refs_render_folio(struct refs_ctx *c, const struct gmt_refs_folio *r);
const char *refs_incomplete_why(const struct refs_ctx *c);
void refs_render_summary(struct refs_ctx *c, const struct refs_gmem *g, __u64 elapsed_ns);
void refs_render_total(struct refs_ctx *c, const pid_t *empty, int nr_empty);
int refs_load(struct refs_ctx *c);
void refs_holders_record(struct refs_ctx *c, const struct gmt_refs_ubuf *r);
void refs_rings_announce(struct refs_ctx *c, const struct gmt_refs_ring *r);
int refs_rings_walk(struct refs_ctx *c);
void refs_holders_done(struct refs_ctx *c);
void refs_dma_record(struct refs_ctx *c, const struct gmt_refs_hdr *h);
int refs_dma_walk(struct refs_ctx *c);
/* bytes of a DMA mapping over a guest_memfd at off, the first at iova */
typedef void (*refs_dma_fn)(void *arg, const struct gmt_refs_dma *d, __u64 iova, __u64 off,
			    __u64 bytes);
void refs_dma_over(const struct refs_ctx *c, __u64 ino, __u64 off, __u64 len,
		   refs_dma_fn fn, void *arg);
void refs_holders_attribute(const struct refs_ctx *c, const struct gmt_refs_folio *r,
			    const struct gmt_refs_verdict *d, struct gmt_refs_folio_view *v,
			    struct gmt_refs_attr_view *attr);

int refs_discover(struct refs_ctx *c, enum refs_it it);
void refs_verifier_reason(const char *log, char *out, size_t len);

#endif /* GMT_REFS_INTERNAL_H */
