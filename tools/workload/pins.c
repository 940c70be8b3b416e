/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pins on guest_memfd pages: --pin (one ring, a buffer per page; or one DMA
 * mapping of the whole range) and the scenarios' pins (a ring or a DMA
 * mapping each, released alone). The DMA mappings are pins_dma.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include "workload.h"

/*
 * Pages FOLL_PIN-pinned system-wide right now (acquired - released in
 * /proc/vmstat), after folding per-CPU deltas when allowed; -1 unknown.
 * Net, because a long-term pin may pin, unpin and re-pin (migration retry).
 */
static long long read_vmstat_pins(void)
{
	long long acq = -1, rel = -1;
	char line[256];
	FILE *f;
	int fd;

	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) {
			/* best effort: unfolded counters only lag */
		}
		close(fd);
	}
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "nr_foll_pin_acquired ", 21))
			acq = strtoll(line + 21, NULL, 10);
		else if (!strncmp(line, "nr_foll_pin_released ", 21))
			rel = strtoll(line + 21, NULL, 10);
	}
	fclose(f);
	return acq >= 0 && rel >= 0 ? acq - rel : -1;
}

void do_pin(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct pin_state *p = &r->pin;
	struct vm *vm = &r->vms[0];
	__u64 len = cfg->pin_pages * r->page_size, i;
	long long before, after;	/* net pinned pages around the register */
	struct iovec *iov;

	p->requested = true;
	p->pin_delta = LLONG_MIN;
	p->touch.sigbus_off = -1;
	if (vm->gmem_fd < 0) {
		p->error = "no guest_memfd";
		/* said as DMA setup failures are: a holding workload writes no
		 * report until it exits, and tests read why from here */
		if (cfg->pin_with != PIN_IOURING)
			fprintf(stderr, "gmem-workload: --pin-with %s: %s\n",
				pin_with_name(cfg->pin_with), p->error);
		return;
	}
	p->mmap_tried = true;
	p->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem_fd,
		      (off_t)cfg->pin_offset);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		p->mmap_ret = -errno;
		p->error = "mmap of the guest_memfd failed";
		return;
	}
	touch_range(p->map, len, r->page_size, &p->touch);
	if (cfg->pin_with != PIN_IOURING) {
		p->iova = GMW_DMA_IOVA_BASE + cfg->pin_offset;
		before = read_vmstat_pins();
		if (cfg->dma_per_page)
			for (i = 0; i < cfg->pin_pages && !p->dma_map_ret; i++)
				p->dma_map_ret = dma_map(r, (char *)p->map + i * r->page_size,
							 r->page_size, p->iova + i * r->page_size);
		else
			p->dma_map_ret = dma_map(r, p->map, len, p->iova);
		after = read_vmstat_pins();
		if (before >= 0 && after >= 0)
			p->pin_delta = after - before;
		p->dma_mapped = !p->dma_map_ret;
		if (p->dma_map_ret)
			p->error = r->dma.error[0] ? r->dma.error : "DMA map failed";
		return;
	}

	p->ring_tried = true;
	p->ring_ret = io_uring_queue_init(1, &p->ring, 0);
	if (p->ring_ret < 0) {
		p->error = "io_uring_queue_init failed";
		return;
	}
	p->ring_ok = true;
	p->ring_fd = p->ring.ring_fd;

	iov = calloc(cfg->pin_pages, sizeof(*iov));
	if (!iov) {
		p->error = "out of memory";
		return;
	}
	/* one buffer per page: each pinned offset is a separate registration */
	for (i = 0; i < cfg->pin_pages; i++) {
		iov[i].iov_base = (char *)p->map + i * r->page_size;
		iov[i].iov_len = r->page_size;
	}
	before = read_vmstat_pins();
	p->register_ret = io_uring_register_buffers(&p->ring, iov, (unsigned int)cfg->pin_pages);
	after = read_vmstat_pins();
	if (before >= 0 && after >= 0)
		p->pin_delta = after - before;
	hist_add(&r->hist[OP_IOURING_REG], p->register_ret);
	free(iov);
}

void release_pin(struct run *r)
{
	struct pin_state *p = &r->pin;

	if (!p->requested)
		return;
	if (p->dma_mapped) {
		p->dma_unmap_ret = dma_unmap(r, p->iova, r->cfg->pin_pages * r->page_size);
		p->dma_mapped = false;
		p->dma_unmapped = true;
		p->released = true;
	}
	if (p->ring_ok) {
		if (p->register_ret == 0) {
			p->unregister_ret = io_uring_unregister_buffers(&p->ring);
			p->unregistered = true;
		}
		/* the kernel drops the pins when the ring context goes away */
		io_uring_queue_exit(&p->ring);
		p->ring_ok = false;
		p->released = true;
	}
	if (p->map) {
		munmap(p->map, r->cfg->pin_pages * r->page_size);
		p->map = NULL;
	}
}

int scn_pin_hold(struct run *r, struct scn_pin *p, __u64 when)
{
	char *map = scn_map(r);
	struct iovec iov;

	if (!map)
		return -EFAULT;
	if (r->cfg->pin_with != PIN_IOURING) {
		p->iova = GMW_DMA_IOVA_BASE + p->page * r->page_size;
		p->register_ret = dma_map(r, map + p->page * r->page_size,
					  p->npages * r->page_size, p->iova);
		if (p->register_ret)
			return (int)p->register_ret;
		p->ring_ok = true;
		goto held;
	}
	p->ring_ret = io_uring_queue_init(1, &p->ring, 0);
	if (p->ring_ret < 0)
		return (int)p->ring_ret;
	p->ring_ok = true;
	iov.iov_base = map + p->page * r->page_size;
	iov.iov_len = p->npages * r->page_size;
	p->register_ret = io_uring_register_buffers(&p->ring, &iov, 1);
	hist_add(&r->hist[OP_IOURING_REG], p->register_ret);
	if (p->register_ret) {
		io_uring_queue_exit(&p->ring);
		p->ring_ok = false;
		return (int)p->register_ret;
	}
held:
	p->held = true;
	p->pinned_at = when;
	p->released_at = -1;
	return 0;
}

void scn_pin_release(struct run *r, struct scn_pin *p, __s64 when)
{
	if (!p->ring_ok)
		return;
	if (r->cfg->pin_with != PIN_IOURING) {
		p->unregister_ret = dma_unmap(r, p->iova, p->npages * r->page_size);
		p->ring_ok = false;
		p->held = false;
		p->released_at = when;
		return;
	}
	if (p->held)
		p->unregister_ret = io_uring_unregister_buffers(&p->ring);
	/* the kernel drops the pins when the ring context goes away */
	io_uring_queue_exit(&p->ring);
	p->ring_ok = false;
	p->held = false;
	p->released_at = when;
}

/* the held pin covering guest_memfd byte offset off, or NULL */
struct scn_pin *scn_pin_at(struct run *r, __u64 off)
{
	struct scn_state *s = &r->scn;
	__u64 page = off / r->page_size;
	unsigned int i;

	for (i = 0; i < s->npins; i++)
		if (s->pins[i].held && page >= s->pins[i].page &&
		    page < s->pins[i].page + s->pins[i].npages)
			return &s->pins[i];
	return NULL;
}

bool scn_page_pinned(struct run *r, __u64 page)
{
	return scn_pin_at(r, page * r->page_size) != NULL;
}
