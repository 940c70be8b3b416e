/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Device-DMA references on guest_memfd pages (--pin-with vfio|iommufd): the
 * pages a device may DMA into are pinned by the IOMMU mapping, which is what
 * blocked conversions in the report gmemtrace was written for. One device
 * bound to vfio-pci, opened once; each pin is a mapping of its own at IOVA
 * GMW_DMA_IOVA_BASE + its guest_memfd offset, so it can be released alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "workload.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define VFIO_PCI_DRV	"/sys/bus/pci/drivers/vfio-pci"

static void dma_fail(struct dma_ctx *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* the first failure is the reason, on stderr and in the JSON's dma.error */
static void dma_fail(struct dma_ctx *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gmem-workload: --pin-with %s: %s\n", pin_with_name(d->kind), d->error);
}

static bool is_bdf(const char *s)
{
	unsigned int dom, bus, dev, fn;
	char end;

	return sscanf(s, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &end) == 4;
}

/* the one device bound to vfio-pci, or the reason there is none */
static int find_vfio_device(struct dma_ctx *d)
{
	struct dirent *de;
	unsigned int n = 0;
	DIR *dir = opendir(VFIO_PCI_DRV);

	if (!dir) {
		dma_fail(d, "no vfio-pci driver (%s: %s): CONFIG_VFIO_PCI missing or "
			 "vfio-pci not loaded", VFIO_PCI_DRV, strerror(errno));
		return -1;
	}
	while ((de = readdir(dir)))
		if (is_bdf(de->d_name) && n++ == 0)
			snprintf(d->device, sizeof(d->device), "%.31s", de->d_name);
	closedir(dir);
	if (n == 1)
		return 0;
	if (!n)
		dma_fail(d, "no device is bound to vfio-pci (echo vfio-pci > %s/BDF/"
			 "driver_override; echo BDF > /sys/bus/pci/drivers_probe)", PCI_DEVICES);
	else
		dma_fail(d, "%u devices are bound to vfio-pci: choose one with --vfio-device", n);
	return -1;
}

/* basename of the symlink PCI_DEVICES/<device>/<link> into out; -1 if absent */
static int device_link(const struct dma_ctx *d, const char *link, char *out, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", d->device, link);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	snprintf(out, len, "%s", basename(target));
	return 0;
}

/* the device exists, is bound to vfio-pci and sits behind an IOMMU */
static int check_device(struct dma_ctx *d)
{
	char drv[64], path[PATH_MAX];

	if (!d->device[0] && find_vfio_device(d))
		return -1;
	snprintf(path, sizeof(path), PCI_DEVICES "/%s", d->device);
	if (access(path, F_OK)) {
		dma_fail(d, "no PCI device %s", d->device);
		return -1;
	}
	if (device_link(d, "driver", drv, sizeof(drv))) {
		dma_fail(d, "%s is not bound to any driver, not vfio-pci", d->device);
		return -1;
	}
	if (strcmp(drv, "vfio-pci")) {
		dma_fail(d, "%s is bound to %s, not vfio-pci", d->device, drv);
		return -1;
	}
	if (device_link(d, "iommu_group", d->group, sizeof(d->group))) {
		dma_fail(d, "%s has no IOMMU group: no IOMMU (e.g. boot with intel_iommu=on)",
			 d->device);
		return -1;
	}
	return 0;
}

static int open_dev(struct dma_ctx *d, const char *path, const char *why)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		dma_fail(d, "open %s: %s (%s)", path, strerror(errno), why);
	return fd;
}

/* VFIO type1: container, the device's group in it, TYPE1v2 */
static int open_vfio(struct dma_ctx *d)
{
	struct gmt_vfio_group_status st = { .argsz = sizeof(st) };
	char path[64];

	d->container_fd = open_dev(d, "/dev/vfio/vfio", "CONFIG_VFIO_CONTAINER");
	if (d->container_fd < 0)
		return -1;
	if (ioctl(d->container_fd, GMT_VFIO_GET_API_VERSION) != GMT_VFIO_API_VERSION ||
	    ioctl(d->container_fd, GMT_VFIO_CHECK_EXTENSION, GMT_VFIO_TYPE1v2_IOMMU) <= 0) {
		dma_fail(d, "the VFIO container offers no type1v2 IOMMU");
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", d->group);
	d->group_fd = open_dev(d, path, "the device's IOMMU group");
	if (d->group_fd < 0)
		return -1;
	if (ioctl(d->group_fd, GMT_VFIO_GROUP_GET_STATUS, &st) ||
	    !(st.flags & GMT_VFIO_GROUP_FLAGS_VIABLE)) {
		dma_fail(d, "IOMMU group %s is not viable: every device in it must be bound "
			 "to vfio-pci", d->group);
		return -1;
	}
	if (ioctl(d->group_fd, GMT_VFIO_GROUP_SET_CONTAINER, &d->container_fd) ||
	    ioctl(d->container_fd, GMT_VFIO_SET_IOMMU, GMT_VFIO_TYPE1v2_IOMMU)) {
		dma_fail(d, "group %s into the container, TYPE1v2: %s", d->group, strerror(errno));
		return -1;
	}
	return 0;
}

/* iommufd: an IOAS, and the device's vfio cdev bound and attached to it:
 * areas of an IOAS with no device attached are not pinned */
static int open_iommufd(struct dma_ctx *d)
{
	struct gmt_iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct gmt_vfio_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct gmt_vfio_attach_pt att = { .argsz = sizeof(att) };
	char cdev[32], path[64];
	struct dirent *de;
	DIR *dir;

	d->iommufd = open_dev(d, "/dev/iommu", "CONFIG_IOMMUFD");
	if (d->iommufd < 0)
		return -1;
	if (ioctl(d->iommufd, GMT_IOMMU_IOAS_ALLOC, &alloc)) {
		dma_fail(d, "IOMMU_IOAS_ALLOC: %s", strerror(errno));
		return -1;
	}
	d->ioas_id = alloc.out_ioas_id;
	if (d->copy) {
		alloc.out_ioas_id = 0;
		if (ioctl(d->iommufd, GMT_IOMMU_IOAS_ALLOC, &alloc)) {
			dma_fail(d, "IOMMU_IOAS_ALLOC (the --ioas-copy IOAS): %s", strerror(errno));
			return -1;
		}
		d->copy_ioas_id = alloc.out_ioas_id;
	}
	cdev[0] = '\0';
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/vfio-dev", d->device);
	dir = opendir(path);
	while (dir && (de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(cdev, sizeof(cdev), "%.31s", de->d_name);
	if (dir)
		closedir(dir);
	if (!cdev[0]) {
		dma_fail(d, "%s has no vfio cdev (%s): CONFIG_VFIO_DEVICE_CDEV missing",
			 d->device, path);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	d->device_fd = open_dev(d, path, "the device's vfio cdev");
	if (d->device_fd < 0)
		return -1;
	bind.iommufd = d->iommufd;
	if (ioctl(d->device_fd, GMT_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		dma_fail(d, "VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(errno));
		return -1;
	}
	att.pt_id = d->copy == COPY_DST ? d->copy_ioas_id : d->ioas_id;
	if (ioctl(d->device_fd, GMT_VFIO_DEVICE_ATTACH_IOMMUFD_PT, &att)) {
		dma_fail(d, "VFIO_DEVICE_ATTACH_IOMMUFD_PT (IOAS %u): %s", att.pt_id,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* --ioas-copy: [iova, iova + len) of the first IOAS into the second */
static long ioas_copy(struct dma_ctx *d, __u64 iova, __u64 len)
{
	struct gmt_iommu_ioas_copy c = {
		.size = sizeof(c), .dst_ioas_id = d->copy_ioas_id, .src_ioas_id = d->ioas_id,
		.flags = GMT_IOMMU_IOAS_MAP_FIXED_IOVA | GMT_IOMMU_IOAS_MAP_WRITEABLE |
			 GMT_IOMMU_IOAS_MAP_READABLE,
		.length = len, .dst_iova = iova + GMW_IOAS_COPY_SHIFT, .src_iova = iova,
	};

	if (ioctl(d->iommufd, GMT_IOMMU_IOAS_COPY, &c)) {
		dma_fail(d, "IOMMU_IOAS_COPY (IOAS %u 0x%llx+0x%llx to IOAS %u): %s",
			 d->ioas_id, (unsigned long long)iova, (unsigned long long)len,
			 d->copy_ioas_id, strerror(errno));
		return -errno;
	}
	d->ncopies++;
	return 0;
}

/* once per run: 0 ready, -1 failed (d->error says why) */
static int dma_open(struct run *r)
{
	struct dma_ctx *d = &r->dma;

	if (d->opened)
		return d->error[0] ? -1 : 0;
	d->opened = true;
	d->kind = r->cfg->pin_with;
	d->copy = r->cfg->ioas_copy;
	d->container_fd = d->group_fd = d->iommufd = d->device_fd = -1;
	if (r->cfg->vfio_device)
		snprintf(d->device, sizeof(d->device), "%.31s", r->cfg->vfio_device);
	if (check_device(d))
		return -1;
	return d->kind == PIN_VFIO ? open_vfio(d) : open_iommufd(d);
}

/* map [va, va + len) for device DMA at iova: 0 or -errno */
long dma_map(struct run *r, void *va, __u64 len, __u64 iova)
{
	struct dma_ctx *d = &r->dma;
	long ret;

	if (dma_open(r))
		return -ENODEV;
	if (d->kind == PIN_VFIO) {
		struct gmt_vfio_dma_map m = {
			.argsz = sizeof(m), .vaddr = (__u64)(unsigned long)va,
			.flags = GMT_VFIO_DMA_MAP_FLAG_READ | GMT_VFIO_DMA_MAP_FLAG_WRITE,
			.iova = iova, .size = len,
		};

		ret = ioctl(d->container_fd, GMT_VFIO_IOMMU_MAP_DMA, &m);
	} else {
		struct gmt_iommu_ioas_map m = {
			.size = sizeof(m), .ioas_id = d->ioas_id, .iova = iova, .length = len,
			.flags = GMT_IOMMU_IOAS_MAP_FIXED_IOVA | GMT_IOMMU_IOAS_MAP_WRITEABLE |
				 GMT_IOMMU_IOAS_MAP_READABLE,
			.user_va = (__u64)(unsigned long)va,
		};

		ret = ioctl(d->iommufd, GMT_IOMMU_IOAS_MAP, &m);
	}
	if (ret)
		return -errno;
	d->nmaps++;
	return d->copy ? ioas_copy(d, iova, len) : 0;
}

/* 0 or -errno */
long dma_unmap(struct run *r, __u64 iova, __u64 len)
{
	struct dma_ctx *d = &r->dma;
	long ret;

	if (d->kind == PIN_VFIO) {
		struct gmt_vfio_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = len };

		ret = ioctl(d->container_fd, GMT_VFIO_IOMMU_UNMAP_DMA, &u);
	} else {
		struct gmt_iommu_ioas_unmap u = {
			.size = sizeof(u), .ioas_id = d->copy_ioas_id,
			.iova = iova + GMW_IOAS_COPY_SHIFT, .length = len,
		};

		/* the copy first: the pages stay mapped (and pinned) until both go */
		ret = d->ncopies ? ioctl(d->iommufd, GMT_IOMMU_IOAS_UNMAP, &u) : 0;
		u.ioas_id = d->ioas_id;
		u.iova = iova;
		u.length = len;
		if (!ret)
			ret = ioctl(d->iommufd, GMT_IOMMU_IOAS_UNMAP, &u);
	}
	if (ret)
		return -errno;
	d->nunmaps++;
	return 0;
}

void dma_close(struct run *r)
{
	struct dma_ctx *d = &r->dma;
	int *fds[] = { &d->device_fd, &d->group_fd, &d->container_fd, &d->iommufd };
	unsigned int i;

	if (!d->opened || d->closed)
		return;
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		/* the numbers stay for the report: they name the holders */
	}
	d->closed = true;
}

/*
 * --dma-loop N: N maps and unmaps of one anonymous page at GMW_DMA_LOOP_IOVA,
 * timed. Each goes through iommu_map()/iommu_unmap() as a driver's streaming
 * DMA does, so it weighs what a tracer's iommu:map/unmap programs add to
 * mappings that are not of guest memory (tests/live/live_bench_iommu.c).
 */
void dma_loop(struct run *r)
{
	struct dma_ctx *d = &r->dma;
	__u64 i, t0, len = r->page_size;
	long ret = 0;
	char *page;

	if (dma_open(r)) {	/* outside the timing; the reason is in dma.error */
		d->loop_ret = -ENODEV;
		return;
	}
	page = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		d->loop_ret = -errno;
		return;
	}
	memset(page, 1, len);
	t0 = now_ns();
	for (i = 0; i < r->cfg->dma_loop && !got_term && !ret; i++) {
		ret = dma_map(r, page, len, GMW_DMA_LOOP_IOVA);
		if (!ret)
			ret = dma_unmap(r, GMW_DMA_LOOP_IOVA, len);
	}
	d->loop_ns = now_ns() - t0;
	d->loop_pairs = ret ? i - 1 : i;
	d->loop_ret = ret;
	munmap(page, len);
}
