// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of include/gmt_decode.h, the conversion decoding the BPF
 * programs run: which generation a (cmd, fd kind) pair is, and what a real
 * ioctl argument of each generation decodes to. Arguments are built with
 * the kvm_uapi.h structs and read back as raw words, as BPF reads them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>
#include <linux/vhost.h>

#ifndef __always_inline
#define __always_inline inline
#endif
#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"

/* as the BPF side does it: the first GMT_CONVERT_ARG_WORDS u64s of the arg */
static void words_of(const void *arg, size_t len, __u64 w[GMT_CONVERT_ARG_WORDS])
{
	memset(w, 0, GMT_CONVERT_ARG_WORDS * sizeof(*w));
	memcpy(w, arg, len < GMT_CONVERT_ARG_WORDS * 8 ? len : GMT_CONVERT_ARG_WORDS * 8);
}

static const int kinds[] = { GMT_FD_OTHER, GMT_FD_VM, GMT_FD_GMEM };

static void test_gen_full_match(void **state)
{
	assert_int_equal(gmt_convert_gen(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_FD_VM), GMT_GEN_G1);
	assert_int_equal(gmt_convert_gen(GMT_KVM_GMEM_CONVERT_SHARED, GMT_FD_GMEM), GMT_GEN_G2);
	assert_int_equal(gmt_convert_gen(GMT_KVM_GMEM_CONVERT_PRIVATE, GMT_FD_GMEM), GMT_GEN_G2);
	assert_int_equal(gmt_convert_gen(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_FD_GMEM), GMT_GEN_G3);
	/* the literal numbers, in case a define is changed by mistake */
	assert_int_equal(gmt_convert_gen(0x4020aed2u, GMT_FD_VM), GMT_GEN_G1);
	assert_int_equal(gmt_convert_gen(0xc040af41u, GMT_FD_GMEM), GMT_GEN_G2);
	assert_int_equal(gmt_convert_gen(0xc040af42u, GMT_FD_GMEM), GMT_GEN_G2);
	assert_int_equal(gmt_convert_gen(0xc080aed2u, GMT_FD_GMEM), GMT_GEN_G3);
}

static void test_gen_wrong_fd_kind(void **state)
{
	/* G2 cmds on a VM fd or any other fd: vhost or someone else's ioctl */
	assert_int_equal(gmt_convert_gen(0xc040af41u, GMT_FD_VM), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0xc040af41u, GMT_FD_OTHER), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0xc040af42u, GMT_FD_VM), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0xc040af42u, GMT_FD_OTHER), GMT_GEN_NONE);
	/* 0xd2 is G1 on the VM fd only and G3 on the gmem fd only */
	assert_int_equal(gmt_convert_gen(0x4020aed2u, GMT_FD_GMEM), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0x4020aed2u, GMT_FD_OTHER), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0xc080aed2u, GMT_FD_VM), GMT_GEN_NONE);
	assert_int_equal(gmt_convert_gen(0xc080aed2u, GMT_FD_OTHER), GMT_GEN_NONE);
}

/* same type and nr, another size or direction: never a conversion */
static void test_gen_lookalikes(void **state)
{
	static const __u32 lookalike[] = {
		/* the real vhost ioctls with G2's type and nr */
		VHOST_SCSI_CLEAR_ENDPOINT,
		VHOST_SCSI_GET_ABI_VERSION,
		GMT_IOC(0u, 0xAFu, 0x41u, 0u),
		GMT_IOC(1u, 0xAFu, 0x41u, 64u),
		GMT_IOC(2u, 0xAFu, 0x41u, 64u),
		GMT_IOC(3u, 0xAFu, 0x41u, 8u),
		GMT_IOC(1u, 0xAFu, 0x42u, 8u),
		GMT_IOC(3u, 0xAFu, 0x42u, 128u),
		GMT_IOC(2u, 0xAFu, 0x42u, 64u),
		/* 0xd2 with another size or dir */
		GMT_IOC(3u, 0xAEu, 0xd2u, 32u),
		GMT_IOC(1u, 0xAEu, 0xd2u, 128u),
		GMT_IOC(3u, 0xAEu, 0xd2u, 64u),
		/* neighbours */
		GMT_IOC(3u, 0xAFu, 0x43u, 64u),
		GMT_IOC(1u, 0xAEu, 0xd3u, 32u),
		GMT_KVM_CREATE_GUEST_MEMFD,
		GMT_KVM_SET_USER_MEMORY_REGION2,
		GMT_KVM_CREATE_VM,
		0,
	};
	size_t i, k;

	for (i = 0; i < sizeof(lookalike) / sizeof(lookalike[0]); i++) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (gmt_convert_gen(lookalike[i], kinds[k]) != GMT_GEN_NONE)
				fail_msg("cmd 0x%08x on fd kind %d taken for a conversion",
					 lookalike[i], kinds[k]);
		assert_int_equal(gmt_convert_fd_kind(lookalike[i]), GMT_FD_OTHER);
	}
}

/* the fd kind a cmd needs is the one gmt_convert_gen accepts, and only it */
static void test_fd_kind_consistent(void **state)
{
	static const __u32 cmds[] = {
		GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_KVM_GMEM_CONVERT_SHARED,
		GMT_KVM_GMEM_CONVERT_PRIVATE, GMT_KVM_SET_MEMORY_ATTRIBUTES2,
	};
	size_t i, k;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int want = gmt_convert_fd_kind(cmds[i]);

		assert_int_not_equal(want, GMT_FD_OTHER);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			assert_int_equal(gmt_convert_gen(cmds[i], kinds[k]) != GMT_GEN_NONE,
					 kinds[k] == want);
	}
}

static void test_decode_g1(void **state)
{
	struct gmt_kvm_memory_attributes a = {
		.address = 0x100200000ULL,
		.size = 0x200000,
		.attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE,
		.flags = 0,
	};
	__u64 w[GMT_CONVERT_ARG_WORDS];
	struct gmt_convert c;

	memset(&c, 0xa5, sizeof(c));
	words_of(&a, sizeof(a), w);
	gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_GEN_G1, w, &c);
	assert_int_equal(c.cmd, GMT_KVM_SET_MEMORY_ATTRIBUTES);
	assert_int_equal(c.gen, GMT_GEN_G1);
	assert_int_equal(c.start, 0x100200000ULL);
	assert_int_equal(c.size, 0x200000);
	assert_int_equal(c.attributes, GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.dir, GMT_DIR_TO_PRIVATE);

	a.attributes = 0;
	a.flags = 0x5;	/* reserved today, but reported as given */
	words_of(&a, sizeof(a), w);
	gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_GEN_G1, w, &c);
	assert_int_equal(c.attributes, 0);
	assert_int_equal(c.flags, 0x5);
	assert_int_equal(c.dir, GMT_DIR_TO_SHARED);
}

static void test_decode_g2(void **state)
{
	struct gmt_kvm_gmem_convert g = {
		.offset = 0x3000,
		.size = 0x1000,
		.error_offset = 0xdead000,	/* an out field: never decoded */
		.reserved = { 1, 2, 3, 4, 5 },
	};
	__u64 w[GMT_CONVERT_ARG_WORDS];
	struct gmt_convert c;

	memset(&c, 0xa5, sizeof(c));
	words_of(&g, sizeof(g), w);
	gmt_decode_convert(GMT_KVM_GMEM_CONVERT_PRIVATE, GMT_GEN_G2, w, &c);
	assert_int_equal(c.gen, GMT_GEN_G2);
	assert_int_equal(c.cmd, GMT_KVM_GMEM_CONVERT_PRIVATE);
	assert_int_equal(c.start, 0x3000);
	assert_int_equal(c.size, 0x1000);
	/* direction and attributes come from the cmd, not from words 2..3 */
	assert_int_equal(c.attributes, GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.dir, GMT_DIR_TO_PRIVATE);

	/* word 2 (error_offset) has bit 3 set: must not make this "private" */
	g.error_offset = ~0ULL;
	words_of(&g, sizeof(g), w);
	gmt_decode_convert(GMT_KVM_GMEM_CONVERT_SHARED, GMT_GEN_G2, w, &c);
	assert_int_equal(c.cmd, GMT_KVM_GMEM_CONVERT_SHARED);
	assert_int_equal(c.attributes, 0);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.dir, GMT_DIR_TO_SHARED);
	assert_int_equal(c.start, 0x3000);
	assert_int_equal(c.size, 0x1000);
}

static void test_decode_g3(void **state)
{
	struct gmt_kvm_memory_attributes2 a = {
		.offset = 0x1ff000,
		.size = 0x1000,
		.attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE,
		.flags = 0x2,
		.error_offset = 0x123000,
	};
	__u64 w[GMT_CONVERT_ARG_WORDS];
	struct gmt_convert c;

	memset(&c, 0xa5, sizeof(c));
	words_of(&a, sizeof(a), w);
	gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_GEN_G3, w, &c);
	assert_int_equal(c.gen, GMT_GEN_G3);
	assert_int_equal(c.cmd, GMT_KVM_SET_MEMORY_ATTRIBUTES2);
	assert_int_equal(c.start, 0x1ff000);
	assert_int_equal(c.size, 0x1000);
	assert_int_equal(c.attributes, GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	assert_int_equal(c.flags, 0x2);
	assert_int_equal(c.dir, GMT_DIR_TO_PRIVATE);

	a.attributes = 0;
	words_of(&a, sizeof(a), w);
	gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_GEN_G3, w, &c);
	assert_int_equal(c.dir, GMT_DIR_TO_SHARED);
}

/* G1 and G3 share the first four words: the same bytes decode the same */
static void test_g1_g3_common_prefix(void **state)
{
	assert_int_equal(offsetof(struct gmt_kvm_memory_attributes, address),
			 offsetof(struct gmt_kvm_memory_attributes2, offset));
	assert_int_equal(offsetof(struct gmt_kvm_memory_attributes, size),
			 offsetof(struct gmt_kvm_memory_attributes2, size));
	assert_int_equal(offsetof(struct gmt_kvm_memory_attributes, attributes),
			 offsetof(struct gmt_kvm_memory_attributes2, attributes));
	assert_int_equal(offsetof(struct gmt_kvm_memory_attributes, flags),
			 offsetof(struct gmt_kvm_memory_attributes2, flags));
	assert_true(GMT_CONVERT_ARG_WORDS * 8 <= sizeof(struct gmt_kvm_memory_attributes));
	assert_true(GMT_CONVERT_ARG_WORDS * 8 <= sizeof(struct gmt_kvm_gmem_convert));
	assert_int_equal(offsetof(struct gmt_kvm_gmem_convert, offset), 0);
	assert_int_equal(offsetof(struct gmt_kvm_gmem_convert, size), 8);
}

/* direction is attribute bit 3 (PRIVATE) alone; other bits do not matter */
static void test_direction_bit3_only(void **state)
{
	__u64 w[GMT_CONVERT_ARG_WORDS] = { 0, 4096, 0, 0 };
	struct gmt_convert c;
	int bit;

	for (bit = 0; bit < 64; bit++) {
		w[2] = 1ULL << bit;
		gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_GEN_G3, w, &c);
		assert_int_equal(c.dir, bit == 3 ? GMT_DIR_TO_PRIVATE : GMT_DIR_TO_SHARED);
		w[2] = ~(1ULL << bit);
		gmt_decode_convert(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_GEN_G1, w, &c);
		assert_int_equal(c.dir, bit == 3 ? GMT_DIR_TO_SHARED : GMT_DIR_TO_PRIVATE);
	}
	assert_int_equal(GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE, 1ULL << 3);
}

static void test_error_offset_at(void **state)
{
	assert_int_equal(gmt_error_offset_at(GMT_GEN_G2), 16);
	assert_int_equal(gmt_error_offset_at(GMT_GEN_G3), 32);
	assert_int_equal(gmt_error_offset_at(GMT_GEN_G2),
			 offsetof(struct gmt_kvm_gmem_convert, error_offset));
	assert_int_equal(gmt_error_offset_at(GMT_GEN_G3),
			 offsetof(struct gmt_kvm_memory_attributes2, error_offset));
	/* G1 has no out field */
	assert_int_equal(gmt_error_offset_at(GMT_GEN_G1), 0);
	assert_int_equal(gmt_error_offset_at(GMT_GEN_NONE), 0);
}

/* what the exit program does: read a u64 at uarg + offset */
static void test_error_offset_read_back(void **state)
{
	struct gmt_kvm_gmem_convert g2;
	struct gmt_kvm_memory_attributes2 g3;
	__u64 v;

	memset(&g2, 0xee, sizeof(g2));
	g2.error_offset = 0x7654321000ULL;
	memcpy(&v, (const char *)&g2 + gmt_error_offset_at(GMT_GEN_G2), sizeof(v));
	assert_int_equal(v, 0x7654321000ULL);

	memset(&g3, 0xee, sizeof(g3));
	g3.error_offset = 0x1234000ULL;
	memcpy(&v, (const char *)&g3 + gmt_error_offset_at(GMT_GEN_G3), sizeof(v));
	assert_int_equal(v, 0x1234000ULL);
	/* the field lies inside the struct the user passed */
	assert_true(gmt_error_offset_at(GMT_GEN_G2) + 8 <= sizeof(g2));
	assert_true(gmt_error_offset_at(GMT_GEN_G3) + 8 <= sizeof(g3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen_full_match),
		cmocka_unit_test(test_gen_wrong_fd_kind),
		cmocka_unit_test(test_gen_lookalikes),
		cmocka_unit_test(test_fd_kind_consistent),
		cmocka_unit_test(test_decode_g1),
		cmocka_unit_test(test_decode_g2),
		cmocka_unit_test(test_decode_g3),
		cmocka_unit_test(test_g1_g3_common_prefix),
		cmocka_unit_test(test_direction_bit3_only),
		cmocka_unit_test(test_error_offset_at),
		cmocka_unit_test(test_error_offset_read_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
