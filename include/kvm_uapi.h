/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * KVM uAPI for guest_memfd and memory-attribute conversions, all three
 * generations, declared here because the build machine's linux-libc-dev
 * (6.1) predates them and G2/G3 never reached a released header.
 *
 *   G1  mainline 6.8+  KVM_SET_MEMORY_ATTRIBUTES on the VM fd
 *   G2  RFC v2 2025-05 KVM_GMEM_CONVERT_SHARED/_PRIVATE on the guest_memfd fd
 *   G3  2026 series    KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd
 *
 * Values are the full 32-bit ioctl numbers, checked by the static asserts
 * at the bottom against the struct sizes (user space only).
 * Plain integer types only: the file is included by BPF programs too.
 */
#ifndef GMT_KVM_UAPI_H
#define GMT_KVM_UAPI_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* ioctl numbers (x86-64 encoding: dir<<30 | size<<16 | type<<8 | nr) */
#define GMT_KVM_CREATE_VM			0x0000ae01u	/* on /dev/kvm */
#define GMT_KVM_CHECK_EXTENSION			0x0000ae03u
#define GMT_KVM_CREATE_VCPU			0x0000ae41u
#define GMT_KVM_RUN				0x0000ae80u	/* on a vCPU fd */
#define GMT_KVM_ENABLE_CAP			0x4068aea3u
#define GMT_KVM_SET_USER_MEMORY_REGION		0x4020ae46u
#define GMT_KVM_SET_USER_MEMORY_REGION2		0x40a0ae49u
#define GMT_KVM_CREATE_GUEST_MEMFD		0xc040aed4u
#define GMT_KVM_PRE_FAULT_MEMORY		0xc040aed5u
/* G1: _IOW(KVMIO, 0xd2, struct kvm_memory_attributes), VM fd */
#define GMT_KVM_SET_MEMORY_ATTRIBUTES		0x4020aed2u
/* G2: _IOWR(0xAF, 0x41/0x42, struct kvm_gmem_convert), guest_memfd fd.
 * 0xAF is also VHOST_VIRTIO: never match on type/nr alone. */
#define GMT_KVM_GMEM_CONVERT_SHARED		0xc040af41u
#define GMT_KVM_GMEM_CONVERT_PRIVATE		0xc040af42u
/* G3: _IOWR(KVMIO, 0xd2, struct kvm_memory_attributes2), guest_memfd fd */
#define GMT_KVM_SET_MEMORY_ATTRIBUTES2		0xc080aed2u

/* capabilities (KVM_CHECK_EXTENSION) */
#define GMT_KVM_CAP_EXIT_HYPERCALL		201
#define GMT_KVM_CAP_MEMORY_ATTRIBUTES		233
#define GMT_KVM_CAP_GUEST_MEMFD			234
#define GMT_KVM_CAP_VM_TYPES			235
#define GMT_KVM_CAP_PRE_FAULT_MEMORY		236
#define GMT_KVM_CAP_GUEST_MEMFD_FLAGS		244
/* G3 v8 17/46; the RFCs used 245/248 for KVM_CAP_MEMORY_ATTRIBUTES2 */
#define GMT_KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 250

/* VM types (KVM_CREATE_VM argument on x86) */
#define GMT_KVM_X86_DEFAULT_VM			0
#define GMT_KVM_X86_SW_PROTECTED_VM		1

/* attributes */
#define GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE	(1ULL << 3)

/* guest_memfd create flags, mainline meaning (G2 used other bit meanings) */
#define GMT_GUEST_MEMFD_FLAG_MMAP		(1ULL << 0)
#define GMT_GUEST_MEMFD_FLAG_INIT_SHARED	(1ULL << 1)

/* memslot flags */
#define GMT_KVM_MEM_LOG_DIRTY_PAGES		(1u << 0)
#define GMT_KVM_MEM_READONLY			(1u << 1)
#define GMT_KVM_MEM_GUEST_MEMFD			(1u << 2)

/* exits and hypercalls (guest-initiated conversions) */
#define GMT_KVM_EXIT_HYPERCALL			3
#define GMT_KVM_EXIT_MEMORY_FAULT		39
#define GMT_KVM_HC_MAP_GPA_RANGE		12
#define GMT_KVM_MAP_GPA_RANGE_ENCRYPTED		(1ULL << 4)
#define GMT_KVM_MEMORY_EXIT_FLAG_PRIVATE	(1ULL << 3)

/* G1: struct kvm_memory_attributes, 32 bytes */
struct gmt_kvm_memory_attributes {
	__u64 address;		/* GPA */
	__u64 size;
	__u64 attributes;
	__u64 flags;
};

/* G2: struct kvm_gmem_convert, 64 bytes */
struct gmt_kvm_gmem_convert {
	__u64 offset;		/* byte offset in the guest_memfd */
	__u64 size;
	__u64 error_offset;	/* out, meaningful only on -EAGAIN */
	__u64 reserved[5];
};

/* G3: struct kvm_memory_attributes2, 128 bytes */
struct gmt_kvm_memory_attributes2 {
	__u64 offset;		/* union with address; gmem offset on the gmem fd */
	__u64 size;
	__u64 attributes;
	__u64 flags;
	__u64 error_offset;	/* out, meaningful only on -EAGAIN */
	__u64 reserved[11];
};

/* struct kvm_create_guest_memfd, 64 bytes */
struct gmt_kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};

/* struct kvm_userspace_memory_region2, 160 bytes */
struct gmt_kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};

/* struct kvm_pre_fault_memory, 64 bytes */
struct gmt_kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};

/* byte offsets of the out field, for BPF reads of the user struct */
#define GMT_G2_ERROR_OFFSET_AT			16
#define GMT_G3_ERROR_OFFSET_AT			32

#ifndef __bpf__
#include <stddef.h>
#define GMT_IOC(dir, type, nr, size) \
	(((dir) << 30) | ((size) << 16) | ((type) << 8) | (nr))
_Static_assert(sizeof(struct gmt_kvm_memory_attributes) == 32, "G1 struct");
_Static_assert(sizeof(struct gmt_kvm_gmem_convert) == 64, "G2 struct");
_Static_assert(sizeof(struct gmt_kvm_memory_attributes2) == 128, "G3 struct");
_Static_assert(sizeof(struct gmt_kvm_create_guest_memfd) == 64, "create gmem");
_Static_assert(sizeof(struct gmt_kvm_userspace_memory_region2) == 160, "region2");
_Static_assert(offsetof(struct gmt_kvm_gmem_convert, error_offset) ==
	       GMT_G2_ERROR_OFFSET_AT, "G2 error_offset");
_Static_assert(offsetof(struct gmt_kvm_memory_attributes2, error_offset) ==
	       GMT_G3_ERROR_OFFSET_AT, "G3 error_offset");
_Static_assert(GMT_IOC(1u, 0xAEu, 0xd2u, 32u) == GMT_KVM_SET_MEMORY_ATTRIBUTES, "G1 cmd");
_Static_assert(GMT_IOC(3u, 0xAFu, 0x41u, 64u) == GMT_KVM_GMEM_CONVERT_SHARED, "G2 cmd");
_Static_assert(GMT_IOC(3u, 0xAFu, 0x42u, 64u) == GMT_KVM_GMEM_CONVERT_PRIVATE, "G2 cmd");
_Static_assert(GMT_IOC(3u, 0xAEu, 0xd2u, 128u) == GMT_KVM_SET_MEMORY_ATTRIBUTES2, "G3 cmd");
_Static_assert(GMT_IOC(3u, 0xAEu, 0xd4u, 64u) == GMT_KVM_CREATE_GUEST_MEMFD, "create cmd");
_Static_assert(GMT_IOC(1u, 0xAEu, 0x49u, 160u) == GMT_KVM_SET_USER_MEMORY_REGION2, "region2");
_Static_assert(GMT_IOC(3u, 0xAEu, 0xd5u, 64u) == GMT_KVM_PRE_FAULT_MEMORY, "prefault");
#endif

#endif /* GMT_KVM_UAPI_H */
