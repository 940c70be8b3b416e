// SPDX-License-Identifier: GPL-2.0-only
/* The vmemmap base, calibrated on a memfd of our own (vmemmap.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "gmt_refs.h"
#include "vmemmap.h"

#define PAGEMAP_PRESENT		(1ULL << 63)
#define PAGEMAP_PFN_MASK	((1ULL << 55) - 1)

static void unavailable(struct gmt_vmemmap *v, const char *why)
{
	snprintf(v->why, sizeof(v->why), "%s", why);
	gmt_vmemmap_done(v);
}

void gmt_vmemmap_prepare(struct gmt_vmemmap *v)
{
	long psz = sysconf(_SC_PAGESIZE);
	int pm, i;

	memset(v, 0, sizeof(*v));
	v->fd = memfd_create("gmemtrace-calib", MFD_CLOEXEC);
	if (v->fd < 0 || ftruncate(v->fd, 2 * psz))
		return unavailable(v, "no memfd to calibrate on");
	v->map = mmap(NULL, 2 * psz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->map == MAP_FAILED) {
		v->map = NULL;
		return unavailable(v, "cannot map the calibration memfd");
	}
	pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return unavailable(v, "/proc/self/pagemap is unreadable");
	for (i = 0; i < 2; i++) {
		__u64 e = 0;
		char *p = (char *)v->map + i * psz;

		*(volatile char *)p = 1;	/* allocate it in the page cache */
		if (pread(pm, &e, sizeof(e), ((unsigned long)p / psz) * sizeof(e)) != sizeof(e))
			e = 0;
		/* pfns read as zero without CAP_SYS_ADMIN */
		v->pfn[i] = (e & PAGEMAP_PRESENT) ? e & PAGEMAP_PFN_MASK : 0;
	}
	close(pm);
	if (!v->pfn[0] || !v->pfn[1])
		return unavailable(v, "/proc/self/pagemap gives no pfns (needs CAP_SYS_ADMIN)");
}

void gmt_vmemmap_done(struct gmt_vmemmap *v)
{
	if (v->map)
		munmap(v->map, 2 * sysconf(_SC_PAGESIZE));
	v->map = NULL;
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
}

void gmt_vmemmap_record(struct gmt_vmemmap *v, const struct gmt_refs_calib *r)
{
	__u64 b0, b1;

	/* plain folio pointers (no xarray tag bits), two distinct folios */
	if (!r->page_size || (r->folio[0] & 3) || (r->folio[1] & 3) || !r->folio[0] ||
	    r->folio[0] == r->folio[1]) {
		snprintf(v->why, sizeof(v->why), "the calibration memfd's folios were not read");
		return;
	}
	b0 = r->folio[0] - v->pfn[0] * r->page_size;
	b1 = r->folio[1] - v->pfn[1] * r->page_size;
	if (b0 != b1) {
		snprintf(v->why, sizeof(v->why), "two pages give two bases (not a linear vmemmap?)");
		return;
	}
	v->base = b0;
	v->page_struct_size = r->page_size;
	v->known = true;
	v->why[0] = 0;
}

bool gmt_vmemmap_pfn_of(const struct gmt_vmemmap *v, __u64 folio, __u64 *pfn)
{
	if (!v->known || folio < v->base)
		return false;
	*pfn = (folio - v->base) / v->page_struct_size;
	return true;
}
