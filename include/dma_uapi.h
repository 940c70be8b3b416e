/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The device-DMA uAPI that takes long-term references on user pages: VFIO
 * type1 (a container's DMA mappings) and iommufd (an IOAS's areas), with the
 * cdev attach iommufd needs before it pins anything. Declared here because
 * the build machine's linux-libc-dev (6.1) has no iommufd.h and no
 * VFIO_DEVICE_BIND_IOMMUFD (6.6). Plain integer types: BPF includes it too.
 */
#ifndef GMT_DMA_UAPI_H
#define GMT_DMA_UAPI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* VFIO and iommufd both use type ';' with _IO (no size in the number): the
 * number alone is ambiguous (VFIO_BASE + 13 is also VFIO_DEVICE_PCI_HOT_RESET
 * on a device fd), so the fd's kind is always checked as well */
#define GMT_VFIO_GET_API_VERSION		0x3b64u	/* VFIO_BASE + 0 */
#define GMT_VFIO_CHECK_EXTENSION		0x3b65u
#define GMT_VFIO_SET_IOMMU			0x3b66u
#define GMT_VFIO_GROUP_GET_STATUS		0x3b67u
#define GMT_VFIO_GROUP_SET_CONTAINER		0x3b68u
#define GMT_VFIO_IOMMU_MAP_DMA			0x3b71u	/* VFIO_BASE + 13, container fd */
#define GMT_VFIO_IOMMU_UNMAP_DMA		0x3b72u	/* VFIO_BASE + 14, container fd */
#define GMT_VFIO_DEVICE_BIND_IOMMUFD		0x3b76u	/* VFIO_BASE + 18, vfio cdev (6.6+) */
#define GMT_VFIO_DEVICE_ATTACH_IOMMUFD_PT	0x3b77u	/* VFIO_BASE + 19 */
#define GMT_IOMMU_IOAS_ALLOC			0x3b81u	/* IOMMUFD_CMD_BASE 0x80 + 1 */
#define GMT_IOMMU_IOAS_COPY			0x3b83u
#define GMT_IOMMU_IOAS_MAP			0x3b85u
#define GMT_IOMMU_IOAS_UNMAP			0x3b86u

#define GMT_VFIO_API_VERSION			0
#define GMT_VFIO_TYPE1v2_IOMMU			3
#define GMT_VFIO_GROUP_FLAGS_VIABLE		(1u << 0)
#define GMT_VFIO_DMA_MAP_FLAG_READ		(1u << 0)
#define GMT_VFIO_DMA_MAP_FLAG_WRITE		(1u << 1)
#define GMT_VFIO_DMA_UNMAP_FLAG_ALL		(1u << 1)	/* 5.12+ */
#define GMT_IOMMU_IOAS_MAP_FIXED_IOVA		(1u << 0)
#define GMT_IOMMU_IOAS_MAP_WRITEABLE		(1u << 1)
#define GMT_IOMMU_IOAS_MAP_READABLE		(1u << 2)

/* the misc minor of /dev/vfio/vfio (include/linux/miscdevice.h VFIO_MINOR) */
#define GMT_MISC_MAJOR				10
#define GMT_VFIO_MINOR				196

struct gmt_vfio_group_status {
	__u32 argsz, flags;
};

struct gmt_vfio_dma_map {
	__u32 argsz, flags;
	__u64 vaddr, iova, size;
};

struct gmt_vfio_dma_unmap {
	__u32 argsz, flags;
	__u64 iova, size;	/* size: out, what was unmapped */
};

struct gmt_vfio_bind_iommufd {
	__u32 argsz, flags;
	__s32 iommufd;
	__u32 out_devid;
};

struct gmt_vfio_attach_pt {
	__u32 argsz, flags, pt_id;
};

struct gmt_iommu_ioas_alloc {
	__u32 size, flags, out_ioas_id;
};

struct gmt_iommu_ioas_map {
	__u32 size, flags, ioas_id, reserved;
	__u64 user_va, length, iova;	/* iova: out unless FIXED_IOVA */
};

/* the same pages in a second IOAS: flags as IOMMU_IOAS_MAP's */
struct gmt_iommu_ioas_copy {
	__u32 size, flags, dst_ioas_id, src_ioas_id;
	__u64 length, dst_iova, src_iova;	/* dst_iova: out unless FIXED_IOVA */
};

struct gmt_iommu_ioas_unmap {
	__u32 size, ioas_id;
	__u64 iova, length;	/* length: out, what was unmapped */
};

#ifndef __bpf__
_Static_assert(sizeof(struct gmt_vfio_dma_map) == 32, "vfio_iommu_type1_dma_map");
_Static_assert(sizeof(struct gmt_vfio_dma_unmap) == 24, "vfio_iommu_type1_dma_unmap");
_Static_assert(sizeof(struct gmt_vfio_bind_iommufd) == 16, "vfio_device_bind_iommufd");
_Static_assert(sizeof(struct gmt_vfio_attach_pt) == 12, "vfio_device_attach_iommufd_pt");
_Static_assert(sizeof(struct gmt_iommu_ioas_alloc) == 12, "iommu_ioas_alloc");
_Static_assert(sizeof(struct gmt_iommu_ioas_map) == 40, "iommu_ioas_map");
_Static_assert(sizeof(struct gmt_iommu_ioas_unmap) == 24, "iommu_ioas_unmap");
_Static_assert(sizeof(struct gmt_iommu_ioas_copy) == 40, "iommu_ioas_copy");
#endif

#endif /* GMT_DMA_UAPI_H */
