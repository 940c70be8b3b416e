// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace refs: folio address -> pfn, calibrated on a memfd page of our own. */
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


bool refs_pfn_of(const struct refs_ctx *c, __u64 folio, __u64 *pfn)
{
	if (!c->pfn_known || folio < c->vmemmap_base)
		return false;
	*pfn = (folio - c->vmemmap_base) / c->page_struct_size;
	return true;
}

/* ---- calibration: vmemmap base from a memfd of our own ---- */

void refs_calib_prepare(struct refs_ctx *c)
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

void refs_calib_done(struct refs_ctx *c)
{
	if (c->calib_map)
		munmap(c->calib_map, 2 * sysconf(_SC_PAGESIZE));
	c->calib_map = NULL;
	if (c->calib_fd >= 0)
		close(c->calib_fd);
	c->calib_fd = -1;
}

void refs_calib_record(struct refs_ctx *c, const struct gmt_refs_calib *r)
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
