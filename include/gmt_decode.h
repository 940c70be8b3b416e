/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Decoding of the conversion uAPI, shared by the BPF programs and user
 * space so the unit tests exercise exactly what runs in the kernel.
 * Needs gmemtrace.h and kvm_uapi.h first.
 */
#ifndef GMT_DECODE_H
#define GMT_DECODE_H

/* What an fd is, as far as conversions care */
enum gmt_fd_kind {
	GMT_FD_OTHER = 0,
	GMT_FD_VM,		/* anon_inode:kvm-vm */
	GMT_FD_GMEM,		/* guest_memfd */
	GMT_FD_SELF,		/* any fd of a gmemtrace process: its own probing */
};

/* Bytes of the ioctl argument every decoder needs: the first four u64s,
 * identical in G1 and G3 (pinned by MEMORY_ATTRIBUTES_MATCH), and G2's
 * offset/size in the first two. */
#define GMT_CONVERT_ARG_WORDS	4

/*
 * Which conversion generation an ioctl is. The full 32-bit cmd AND the fd
 * kind must match: 0xAF is shared with vhost, and 0xd2 exists both as the
 * VM ioctl (G1) and the guest_memfd ioctl (G3) with different sizes.
 */
static __always_inline __u8 gmt_convert_gen(__u32 cmd, int fd_kind)
{
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
		return fd_kind == GMT_FD_VM ? GMT_GEN_G1 : GMT_GEN_NONE;
	case GMT_KVM_GMEM_CONVERT_SHARED:
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
		return fd_kind == GMT_FD_GMEM ? GMT_GEN_G2 : GMT_GEN_NONE;
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		return fd_kind == GMT_FD_GMEM ? GMT_GEN_G3 : GMT_GEN_NONE;
	}
	return GMT_GEN_NONE;
}

/* The fd kind a conversion cmd must be issued on (GMT_FD_OTHER: not a conversion) */
static __always_inline int gmt_convert_fd_kind(__u32 cmd)
{
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
		return GMT_FD_VM;
	case GMT_KVM_GMEM_CONVERT_SHARED:
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		return GMT_FD_GMEM;
	}
	return GMT_FD_OTHER;
}

/* Fill range, attributes and direction from the argument's first words. */
static __always_inline void gmt_decode_convert(__u32 cmd, __u8 gen,
					       const __u64 w[GMT_CONVERT_ARG_WORDS],
					       struct gmt_convert *c)
{
	c->cmd = cmd;
	c->gen = gen;
	c->start = w[0];
	c->size = w[1];
	if (gen == GMT_GEN_G2) {
		c->attributes = cmd == GMT_KVM_GMEM_CONVERT_PRIVATE ?
				GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
		c->flags = 0;
	} else {
		c->attributes = w[2];
		c->flags = w[3];
	}
	c->dir = (c->attributes & GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE) ?
		 GMT_DIR_TO_PRIVATE : GMT_DIR_TO_SHARED;
}

/* Where the kernel writes error_offset, or 0 if this generation has none */
static __always_inline __u32 gmt_error_offset_at(__u8 gen)
{
	if (gen == GMT_GEN_G2)
		return GMT_G2_ERROR_OFFSET_AT;
	if (gen == GMT_GEN_G3)
		return GMT_G3_ERROR_OFFSET_AT;
	return 0;
}

#endif /* GMT_DECODE_H */
