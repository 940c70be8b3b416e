/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * `gmemtrace refs` ABI: the records bpf/refs.bpf.c writes into its iterator's
 * seq_file and the walk-state map user space seeds, plus the refcount
 * decomposition both sides use (BPF to decide what to emit, user space to
 * print it), so the two can never disagree.
 *
 * Same rules as gmemtrace.h: fixed-size fields, explicit padding, kernel
 * addresses only as opaque __u64, sizes pinned by static asserts.
 */
#ifndef GMT_REFS_H
#define GMT_REFS_H

#ifndef __bpf__
#include <stdbool.h>
#include <linux/types.h>
#endif

/* Record kinds, in hdr.type */
enum gmt_refs_rec_type {
	GMT_REFS_REC_GMEM	= 1,	/* a guest_memfd fd (discovery pass) */
	GMT_REFS_REC_VM		= 2,	/* a KVM VM fd (discovery pass) */
	GMT_REFS_REC_FOLIO	= 3,	/* one page-cache folio of a walked guest_memfd */
	GMT_REFS_REC_CHUNK	= 4,	/* end of one walk invocation: progress and counts */
	GMT_REFS_REC_CALIB	= 5,	/* folios of gmemtrace's own memfd: pfn calibration */
	GMT_REFS_REC_UBUF	= 6,	/* a guest_memfd page an io_uring fixed buffer pins */
	GMT_REFS_REC_RING	= 7,	/* after a ring's UBUF records: how its walk went */
	GMT_REFS_REC_DMA	= 8,	/* one DMA mapping: VFIO type1 container, IOAS area */
	GMT_REFS_REC_DMA_END	= 9,	/* after a container's (iommufd's) DMA records */
};

/* Every record starts with this; size lets a reader skip unknown kinds. */
struct gmt_refs_hdr {
	__u16 type;		/* enum gmt_refs_rec_type */
	__u16 size;		/* whole record, bytes */
	__u32 tgid;
	__s32 fd;
	__u32 pad;
	__u64 ino;		/* inode of the file behind fd */
};

#define GMT_REFS_GMEM_FLAGS_KNOWN	1u	/* gmt_refs_gmem.flags was read */

struct gmt_refs_gmem {
	struct gmt_refs_hdr hdr;
	__u64 size;		/* i_size */
	__u64 flags;		/* KVM_CREATE_GUEST_MEMFD flags */
	__u64 nrpages;		/* mapping->nrpages: pages in the page cache */
	__u64 kvm;		/* opaque VM identity, matches gmt_refs_vm.kvm */
	__u32 bits;		/* GMT_REFS_GMEM_* */
	__u32 pad;
	char comm[16];
};

struct gmt_refs_vm {
	struct gmt_refs_hdr hdr;
	__u64 kvm;
};

/* gmt_refs_folio.bits */
#define GMT_REFS_F_LRU		0x01	/* PG_lru set */
#define GMT_REFS_F_HEAD		0x02	/* PG_head set (large folio) */
#define GMT_REFS_F_BLOCKING	0x04	/* would block a conversion to private */
#define GMT_REFS_F_NO_ORDER	0x08	/* large, but its order is unreadable here */

struct gmt_refs_folio {
	struct gmt_refs_hdr hdr;
	__u64 index;		/* page index in the guest_memfd */
	__u64 folio;		/* kernel address (pfn is derived from it) */
	__u64 flags;		/* page flags word */
	__s32 refcount;		/* _refcount */
	__s32 mapcount;		/* folio_mapcount(): host PTE/PMD mappings */
	__s32 pincount;		/* large: _pincount; small: -1 (in refcount) */
	__u8 order;
	__u8 bits;		/* GMT_REFS_F_* */
	__u8 pad[2];
};

/* gmt_refs_chunk.status */
enum gmt_refs_status {
	GMT_REFS_ST_OK		= 0,
	GMT_REFS_ST_GONE	= 1,	/* fd now refers to another file */
	GMT_REFS_ST_BAD_TREE	= 2,	/* xarray deeper than GMT_REFS_XA_DEPTH or malformed */
	GMT_REFS_ST_READ_ERR	= 3,	/* a kernel read failed */
};

/* counts over the folios one invocation scanned */
struct gmt_refs_counts {
	__u64 scanned;		/* folios looked at */
	__u64 pages;		/* pages in them */
	__u64 blocking;		/* folios that would block */
	__u64 pinned;		/* folios with at least one pin */
	__u64 pins;		/* pins in total */
	__u64 other;		/* folios with other (non-pin) extra refs */
	__u64 mapped;		/* folios mapped in host page tables */
	__u64 lru_batch;	/* folios held by a per-CPU lru_add batch */
	__u64 stale;		/* freed or moved while read: skipped */
	__u64 emitted;		/* folio records written */
};

struct gmt_refs_chunk {
	struct gmt_refs_hdr hdr;
	__u64 start;		/* first index this invocation looked at */
	__u64 next;		/* where the next one resumes */
	struct gmt_refs_counts c;
	__u32 done;		/* the range was walked to its end */
	__u32 status;		/* enum gmt_refs_status */
	__u32 steps;		/* xarray slots visited */
	__u32 pad;
};

/* Two folio addresses of gmemtrace's own memfd, index 0 and 1 */
struct gmt_refs_calib {
	struct gmt_refs_hdr hdr;
	__u64 folio[2];
	__u64 page_size;	/* sizeof(struct page) on this kernel */
};

/*
 * One bvec of an io_uring fixed buffer whose page is in a guest_memfd folio
 * (discovery, --holders); hdr.fd is the ring. Each bvec holds one pin on its
 * folio, whether io_uring coalesced the folio's pages into it or not.
 */
struct gmt_refs_ubuf {
	struct gmt_refs_hdr hdr;
	__u64 page;		/* struct page address the bvec starts at */
	__u64 folio;		/* its folio: matches gmt_refs_folio.folio */
	__u32 buf_index;	/* registered buffer index */
	__u32 bvec;		/* bvec in that buffer */
	char comm[16];
};

/* gmt_refs_ring.status */
enum gmt_refs_ring_status {
	GMT_REFS_RING_OK	= 0,
	GMT_REFS_RING_GONE	= 1,	/* the fd now refers to another file */
	GMT_REFS_RING_LAYOUT	= 2,	/* this kernel's buffer table layout is unknown */
};

/*
 * A ring: announced by the discovery pass (done = 0, nothing read), then
 * after each walk invocation over its buffers, with where the next resumes.
 */
struct gmt_refs_ring {
	struct gmt_refs_hdr hdr;
	__u32 nr_bufs;		/* registered buffers */
	__u32 status;		/* enum gmt_refs_ring_status */
	__u64 bvecs;		/* bvecs this invocation read */
	__u64 emitted;		/* of them in guest_memfd folios: UBUF records */
	__u32 next_buf, next_bvec;	/* resume point */
	__u32 done;
	__u32 pad;
	__u64 ctx;		/* the ring (io_ring_ctx): anon inodes share one ino */
};

/*
 * refs --holders: a device DMA mapping read in the discovery pass of
 * gmt_refs_dma: a VFIO type1 container's (struct vfio_dma: user range and
 * IOVA, from its vfio_iommu's dma_list) or an iommufd IOAS area's (struct
 * iopt_area over a struct iopt_pages, from the iommufd's objects). A VFIO
 * mapping pinned its user range page by page (FOLL_PIN); an IOAS area pins
 * only while it is in an IOMMU domain or an access uses it (pinned), and
 * once per page of its iopt_pages however many areas share them (a copy).
 * User space matches a user range against the process's guest_memfd mmaps,
 * a file mapping (IOMMU_IOAS_MAP_FILE) by inode and offset.
 */
enum gmt_refs_dma_kind {
	GMT_REFS_DMA_VFIO	= 0,	/* hdr.fd: a VFIO container */
	GMT_REFS_DMA_IOMMUFD	= 1,	/* hdr.fd: an iommufd; ioas_id, pages */
};

struct gmt_refs_dma {
	struct gmt_refs_hdr hdr;	/* fd: the container, the iommufd */
	__u64 iova;
	__u64 vaddr;		/* user address the mapping was made from (file: 0) */
	__u64 size;		/* bytes */
	char comm[16];
	__u64 pages;		/* iommufd: its struct iopt_pages (shared pins) */
	__u64 file_ino;		/* iommufd file mapping: the file's inode, else 0 */
	__u64 file_off;		/* and the offset in it of iova */
	__u32 ioas_id;
	__u8 kind;		/* enum gmt_refs_dma_kind */
	__u8 pinned;		/* it holds pins (VFIO: always; iommufd: a domain
				 * or an access is filled from it) */
	__u8 pad[2];
};

/* gmt_refs_dma_end.status */
enum gmt_refs_dma_status {
	GMT_REFS_DMA_OK		= 0,
	GMT_REFS_DMA_TRUNCATED	= 1,	/* more mappings than one invocation writes:
					 * the next pass resumes at next_ioas, next_iova */
	GMT_REFS_DMA_NO_BTF	= 2,	/* no BTF for the driver's structures */
	GMT_REFS_DMA_NOT_TYPE1	= 3,	/* another IOMMU backend, or none set yet */
	GMT_REFS_DMA_RACED	= 4,	/* the tree changed under the walk (read unlocked) */
};

struct gmt_refs_dma_end {
	struct gmt_refs_hdr hdr;
	__u32 status;		/* enum gmt_refs_dma_status */
	__u32 emitted;		/* DMA records written before this one */
	__u64 container;	/* vfio_container, iommufd_ctx: its fds share one inode */
	__u64 next_iova;	/* TRUNCATED: the first mapping not written */
	__u32 next_ioas;	/* iommufd: in this IOAS (and the IOASes after it) */
	__u8 kind;		/* enum gmt_refs_dma_kind */
	__u8 pad[3];
};

/* Map refs_dmas: containers (iommufds) to read on from an IOVA in the next pass */
struct gmt_refs_dma_walk {
	__u64 container;	/* read only while the fd still holds it */
	__u64 from_iova;	/* the first mapping at or above it */
	__u32 from_ioas;	/* iommufd: of this IOAS; later IOASes from 0 */
	__u32 pad;
};

#define GMT_REFS_DMA_MAX_STEPS	(1u << 16)	/* rb-tree steps per invocation */

/* Map refs_rings: which rings to walk and where each stands (as refs_walk) */
struct gmt_refs_ring_walk {
	__u64 ctx;		/* walk only while the fd still holds this ring */
	__u32 next_buf, next_bvec;	/* resume point (user space seeds 0, 0) */
	__u32 start_buf, start_bvec;	/* where this pass began */
	__u32 pass;		/* pass that set start */
	__u32 done;
};

#define GMT_REFS_RING_MAX_STEPS	(1u << 17)	/* bvecs and buffers read per invocation */

/* Map refs_walk: which fds to walk and where each stands */
struct gmt_refs_walk_key {
	__u32 tgid;
	__s32 fd;
};

struct gmt_refs_walk {
	__u64 ino;		/* walk only while the fd still holds this inode */
	__u64 first;		/* page index range wanted, inclusive */
	__u64 last;
	__u64 next;		/* resume point (user space seeds it = first) */
	__u64 start;		/* where this pass began (re-shown objects restart here) */
	__u64 scan_left;	/* folio budget (--max-folios) left at pass start */
	__u64 scanned;		/* folios the last run of the pass scanned */
	__u32 pass;		/* pass that set start */
	__u32 done;
};

/*
 * Per-invocation limits. An iterator's seq_file holds 8 pages; a single
 * object's output that does not fit even an empty buffer fails the read with
 * E2BIG, so one invocation writes at most GMT_REFS_MAX_RECORDS folio records
 * (16 KiB) and resumes in the next pass.
 */
#define GMT_REFS_MAX_RECORDS	256	/* power of two */
#define GMT_REFS_MAX_STEPS	(1u << 17)	/* xarray slots per invocation */
#define GMT_REFS_XA_DEPTH	8	/* 8 levels of 64 slots: 2^48 pages */
#define GMT_REFS_PIN_BIAS	1024	/* GUP_PIN_COUNTING_BIAS */

/*
 * What a conversion to private would make of this folio. The kernel wants
 * folio_ref_count == nr_pages + 1 (its own filemap_get_folios reference) after
 * unmap_mapping_pages: at rest nr_pages (the page cache's) plus one per host
 * mapping is fine. The rest: pins (1024 each for small folios, counted in
 * _pincount for large ones); of what remains, one reference is the lru_add
 * batch's when PG_lru is clear (G3 drains the batch before it fails), and
 * anything else (GET references, I/O in flight, KVM's transient ones)
 * blocks.
 */
struct gmt_refs_verdict {
	__u32 nr_pages;
	__u32 expected;		/* at rest, unmapped: nr_pages */
	__u32 mapcount;
	__u32 pins;
	__u32 other;		/* extra references that are not pins */
	__u32 lru_batch;	/* 1: one reference is the lru_add batch's */
	__u32 under;		/* refcount below expected (being freed: raced) */
	bool blocking;
};

static inline void gmt_refs_decompose(__s32 refcount, __s32 mapcount, __s32 pincount,
				      __u32 order, bool lru, struct gmt_refs_verdict *v)
{
	__s64 diff;
	__u64 excess;

	v->nr_pages = 1u << (order & 31);
	v->expected = v->nr_pages;
	v->mapcount = mapcount > 0 ? (__u32)mapcount : 0;
	diff = (__s64)refcount - v->nr_pages - v->mapcount;
	v->under = diff < 0;
	/* unsigned from here: BPF (cpu v3) has no signed division */
	excess = diff < 0 ? 0 : (__u64)diff;
	if (order == 0) {
		v->pins = (__u32)(excess / GMT_REFS_PIN_BIAS);
		excess %= GMT_REFS_PIN_BIAS;
	} else {
		v->pins = pincount > 0 ? (__u32)pincount : 0;
		if (v->pins > excess)
			v->pins = (__u32)excess;
		excess -= v->pins;
	}
	/* off the LRU with a reference to spare: the batch's (a pin alone is not) */
	v->lru_batch = !lru && excess > 0;
	v->other = (__u32)(excess - v->lru_batch);
	v->blocking = v->pins || v->other;
}

#ifndef __bpf__
_Static_assert(sizeof(struct gmt_refs_hdr) == 24, "gmt_refs_hdr ABI");
_Static_assert(sizeof(struct gmt_refs_gmem) == 80, "gmt_refs_gmem ABI");
_Static_assert(sizeof(struct gmt_refs_vm) == 32, "gmt_refs_vm ABI");
_Static_assert(sizeof(struct gmt_refs_folio) == 64, "gmt_refs_folio ABI");
_Static_assert(sizeof(struct gmt_refs_chunk) == 136, "gmt_refs_chunk ABI");
_Static_assert(sizeof(struct gmt_refs_calib) == 48, "gmt_refs_calib ABI");
_Static_assert(sizeof(struct gmt_refs_ubuf) == 64, "gmt_refs_ubuf ABI");
_Static_assert(sizeof(struct gmt_refs_ring) == 72, "gmt_refs_ring ABI");
_Static_assert(sizeof(struct gmt_refs_dma) == 96, "gmt_refs_dma ABI");
_Static_assert(sizeof(struct gmt_refs_dma_end) == 56, "gmt_refs_dma_end ABI");
_Static_assert(sizeof(struct gmt_refs_dma_walk) == 24, "gmt_refs_dma_walk ABI");
_Static_assert(sizeof(struct gmt_refs_ring_walk) == 32, "gmt_refs_ring_walk ABI");
_Static_assert(sizeof(struct gmt_refs_walk) == 64, "gmt_refs_walk ABI");
#endif

#endif /* GMT_REFS_H */
