// SPDX-License-Identifier: GPL-2.0-only
/*
 * The BPF tier: bpf/lib functions run in the kernel's BPF VM on crafted input
 * (BPF_PROG_TEST_RUN of the SEC("syscall") programs in test_lib.bpf.c) and
 * checked against the user-space twins that print their results: the folio
 * decomposition (include/gmt_refs.h, src/output's gmt_folio_decompose), the
 * uAPI decoders (include/gmt_decode.h), the histogram slot, the xarray reader
 * on a tree built in BPF memory, and the per-site error counter as
 * src/core/errsites.c reads it. Skipped (not failed) where BPF cannot load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.h"
#include "gmt_refs.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"
#include "../bpf/lib/hist.bpf.h"
#include "test_lib.h"
#include "test_lib.skel.h"
#include "view.h"
#include "errsites.h"
#include "refs.h"
#include "vmemmap.h"

static struct test_lib_bpf *skel;

static int run(struct bpf_program *prog)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	assert_int_equal(err, 0);
	return opts.retval;
}

static int setup(void **state)
{
	if (geteuid() != 0)
		return 0;
	skel = test_lib_bpf__open_and_load();
	return 0;
}

static int teardown(void **state)
{
	test_lib_bpf__destroy(skel);
	return 0;
}

#define NEED_BPF()							\
	do {								\
		if (!skel)						\
			skip();	/* not root, or no BPF here */		\
	} while (0)

/* one folio through BPF: reader, decomposition, snapshot */
static void folio_case(__s32 ref, __s32 map, __s32 pin, __u32 order, bool lru, __u32 extra)
{
	struct t_folio_out *o = &skel->bss->folio_out;
	struct gmt_refs_verdict u, back;

	skel->bss->folio_in = (struct t_folio_in){ .refcount = ref, .mapcount = map,
		.pincount = pin, .order = order, .lru = lru, .extra = extra, .index = 42 };
	assert_int_equal(run(skel->progs.t_folio), 0);

	/* the reader got the fields back through CO-RE */
	assert_int_equal(o->refcount, ref);
	assert_int_equal(o->mapcount, map);
	assert_int_equal(o->pincount, order ? pin : -1);
	assert_int_equal(o->order, order);
	assert_int_equal(o->index, 42);
	assert_int_equal(!!(o->bits & 1), lru);

	/* BPF's split is user space's split, exactly */
	gmt_refs_decompose(ref - (__s32)extra, map, order ? pin : -1, order, lru, &u);
	assert_int_equal(o->v.nr_pages, u.nr_pages);
	assert_int_equal(o->v.expected, u.expected);
	assert_int_equal(o->v.mapcount, u.mapcount);
	assert_int_equal(o->v.pins, u.pins);
	assert_int_equal(o->v.other, u.other);
	assert_int_equal(o->v.lru_batch, u.lru_batch);
	assert_int_equal(o->v.under, u.under);
	assert_int_equal(o->v.blocking, u.blocking);

	/* the event record: expected is nr_pages; printing it splits the same */
	assert_int_equal(o->snap.expected, 1u << order);
	assert_int_equal(o->snap.nr_pages, 1u << order);
	assert_int_equal(o->snap.exact, extra ? 1 : 0);
	assert_int_equal(o->snap.refcount, (__u32)ref);
	assert_int_equal(o->snap.index, 42);
	gmt_folio_decompose(&o->snap, &back);
	assert_int_equal(back.pins, u.pins);
	assert_int_equal(back.other, u.other);
	assert_int_equal(back.lru_batch, u.lru_batch);
	assert_int_equal(back.blocking, u.blocking);
	assert_int_equal(back.expected, u.expected);

	/* the kernel's own test: refcount == nr_pages + extra */
	assert_int_equal(o->check_fails, (__u32)ref != (1u << order) + extra);
}

static void test_folio_small(void **state)
{
	NEED_BPF();
	folio_case(1, 0, 0, 0, true, 0);		/* at rest */
	folio_case(2, 0, 0, 0, true, 1);		/* at the check: its +1 only */
	folio_case(2, 1, 0, 0, true, 0);		/* mapped once */
	folio_case(1 + 1024, 0, 0, 0, true, 0);		/* one FOLL_PIN */
	folio_case(2 + 2048 + 1, 0, 0, 0, true, 1);	/* two pins and a GET, exact */
	folio_case(2, 0, 0, 0, false, 0);		/* held by an lru_add batch */
	folio_case(3, 0, 0, 0, false, 0);		/* batch + one other */
	folio_case(1025, 0, 0, 0, false, 0);		/* off LRU, a pin alone */
	folio_case(0, 0, 0, 0, true, 0);		/* being freed: under */
}

static void test_folio_large(void **state)
{
	NEED_BPF();
	folio_case(512, 0, 0, 9, true, 0);		/* 2M at rest */
	folio_case(513, 0, 0, 9, true, 1);		/* at the check */
	folio_case(512 + 3, 0, 3, 9, true, 0);		/* three pins in _pincount */
	folio_case(512 + 4, 2, 1, 9, true, 0);		/* two mappings, a pin, one other */
	folio_case(512 + 2, 0, 5, 9, true, 0);		/* _pincount beyond refs: capped */
	folio_case(4 + 1, 0, 0, 2, false, 0);		/* order 2 in a batch */
}

static void decode_case(__u32 cmd, int kind, __u64 attrs, __u64 hist_value, __u32 err)
{
	struct t_decode_out *o = &skel->bss->decode_out;
	__u64 w[GMT_CONVERT_ARG_WORDS] = { 0x200000, 0x3000, attrs, 7 };
	struct gmt_convert c = {};
	__u8 gen = gmt_convert_gen(cmd, kind);

	skel->bss->decode_in = (struct t_decode_in){ .cmd = cmd, .fd_kind = kind,
		.w = { w[0], w[1], w[2], w[3] }, .hist_value = hist_value, .err = err };
	assert_int_equal(run(skel->progs.t_decode), 0);
	gmt_decode_convert(cmd, gen, w, &c);
	assert_int_equal(o->gen, gen);
	assert_int_equal(o->want_fd_kind, gmt_convert_fd_kind(cmd));
	assert_int_equal(o->error_offset_at, gmt_error_offset_at(gen));
	assert_memory_equal(&o->c, &c, sizeof(c));
	assert_int_equal(o->hist_slot, gmt_hist_slot(hist_value));
	assert_int_equal(o->err_class, gmt_err_class(err));
}

static void test_decode(void **state)
{
	NEED_BPF();
	decode_case(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_FD_VM, GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE, 0, 11);
	decode_case(GMT_KVM_SET_MEMORY_ATTRIBUTES, GMT_FD_GMEM, 0, 7, 22);	/* wrong fd */
	decode_case(GMT_KVM_GMEM_CONVERT_PRIVATE, GMT_FD_GMEM, 0, 8, 14);
	decode_case(GMT_KVM_GMEM_CONVERT_SHARED, GMT_FD_GMEM, 0, 1000, 4);
	decode_case(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_FD_GMEM, GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE,
		    123456789, 95);
	decode_case(GMT_KVM_SET_MEMORY_ATTRIBUTES2, GMT_FD_VM, 0, ~0ULL, 0);	/* G1 number, G3 size */
	decode_case(0x1234, GMT_FD_OTHER, 0, 1ULL << 41, 200);
}

/* run the xarray program; loads at the indices given, a walk over [first, last] */
static struct t_xa_out *xa_run(__u64 first, __u64 last, bool bad, bool lone)
{
	static const __u64 idx[T_XA_LOADS] = { 0, 5, 6, 7, 191, 200, 255, 64, 4096, 1, 190, 256 };
	struct t_xa_in *in = &skel->bss->xa_in;

	memset(in, 0, sizeof(*in));
	memcpy(in->load_index, idx, sizeof(idx));
	in->first = first;
	in->last = last;
	in->bad_shift = bad;
	in->lone_head = lone;
	in->max_steps = 4096;
	assert_int_equal(run(skel->progs.t_xarray), 0);
	return &skel->bss->xa_out;
}

/* the rb-tree walker (lib/rbtree.bpf.h) over 7 nodes keyed 10..70 */
static struct t_rb_out *rb_run(__u64 from, __u32 max_steps)
{
	skel->bss->rb_in.from = from;
	skel->bss->rb_in.max_steps = max_steps;
	assert_int_equal(run(skel->progs.t_rbtree), 0);
	return &skel->bss->rb_out;
}

static void test_rbtree_walk(void **state)
{
	struct t_rb_out *o;
	__u32 i;

	NEED_BPF();
	/* everything, in key order */
	o = rb_run(0, 1000);
	assert_int_equal(o->nseen, 7);
	for (i = 0; i < 7; i++)
		assert_int_equal(o->keys[i], (i + 1) * 10);
	assert_int_equal(o->done, 1);
	/* resumed: from the first key at or above, across subtrees */
	o = rb_run(35, 1000);
	assert_int_equal(o->nseen, 4);
	assert_int_equal(o->keys[0], 40);
	assert_int_equal(o->keys[3], 70);
	o = rb_run(41, 1000);
	assert_int_equal(o->nseen, 3);
	assert_int_equal(o->keys[0], 50);
	o = rb_run(30, 1000);
	assert_int_equal(o->nseen, 5);
	assert_int_equal(o->keys[0], 30);
	o = rb_run(71, 1000);
	assert_int_equal(o->nseen, 0);
	assert_int_equal(o->done, 1);
	/* out of steps: not done, what it saw is in order */
	o = rb_run(0, 6);
	assert_true(o->nseen < 7);
	assert_int_equal(o->done, 0);
}

static void test_xarray_load(void **state)
{
	/* folio found at each load index: 0, 5, (value), (sibling), 191,
	 * 200 and 255 inside the 64-page folio, (value), (out of range), ... */
	static const int want[T_XA_LOADS] = { 0, 1, -1, -1, 2, 3, 3, -1, -1, -1, -1, -1 };
	static const int lone[T_XA_LOADS] = { 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
	struct t_xa_out *o;
	int i;

	NEED_BPF();
	o = xa_run(0, 4095, false, false);
	for (i = 0; i < T_XA_LOADS; i++)
		assert_int_equal(o->load_which[i], want[i]);
	assert_int_equal(o->offset_checks, 4);
	o = xa_run(0, 4095, false, true);
	for (i = 0; i < T_XA_LOADS; i++)
		assert_int_equal(o->load_which[i], lone[i]);
}

static void test_xarray_walk(void **state)
{
	struct t_xa_out *o;

	NEED_BPF();
	/* everything, in index order */
	o = xa_run(0, 4095, false, false);
	assert_int_equal(o->start, 0);
	assert_int_equal(o->nseen, 4);
	assert_int_equal(o->seen_index[0], 0);
	assert_int_equal(o->seen_which[0], 0);
	assert_int_equal(o->seen_index[1], 5);
	assert_int_equal(o->seen_which[1], 1);
	assert_int_equal(o->seen_index[2], 191);
	assert_int_equal(o->seen_which[2], 2);
	assert_int_equal(o->seen_index[3], 192);
	assert_int_equal(o->seen_which[3], 3);
	assert_int_equal(o->done, 1);
	assert_int_equal(o->status, GMT_REFS_ST_OK);

	/* resumed at 6, stopping at 191: the slots before 6 are skipped */
	o = xa_run(6, 191, false, false);
	assert_int_equal(o->nseen, 1);
	assert_int_equal(o->seen_index[0], 191);
	assert_int_equal(o->done, 1);

	/* a range inside the 64-page folio still finds it (it covers the range) */
	o = xa_run(200, 210, false, false);
	assert_int_equal(o->nseen, 1);
	assert_int_equal(o->seen_which[0], 3);
	assert_int_equal(o->next, 256);

	/* nothing in range */
	o = xa_run(8, 150, false, false);
	assert_int_equal(o->nseen, 0);
	assert_int_equal(o->done, 1);

	/* a node with an impossible shift: the walk says so and stops */
	o = xa_run(0, 4095, true, false);
	assert_int_equal(o->status, GMT_REFS_ST_BAD_TREE);
	assert_int_equal(o->nseen, 2);	/* what came before it */

	/* no node at all: the head is the folio at index 0 */
	o = xa_run(0, 10, false, true);
	assert_int_equal(o->start, 1);
	assert_int_equal(o->nseen, 1);
	assert_int_equal(o->seen_which[0], 0);
	o = xa_run(1, 10, false, true);
	assert_int_equal(o->nseen, 0);
}

static void test_error_sites(void **state)
{
	struct gmt_site_err before[GMT_SITE_MAX], after[GMT_SITE_MAX];
	int fd, i;

	NEED_BPF();
	fd = bpf_map__fd(skel->maps.gmt_err_sites);
	assert_int_equal(gmt_errsites_read(fd, before), 0);
	assert_int_equal(run(skel->progs.t_site), 0);
	assert_int_equal(gmt_errsites_read(fd, after), 0);
	for (i = 0; i < GMT_SITE_MAX; i++) {
		if (i == GMT_SITE_XA_SLOT)
			continue;
		assert_int_equal(after[i].count, before[i].count);
	}
	/* one failed read, the successful one not counted */
	assert_int_equal(after[GMT_SITE_XA_SLOT].count, before[GMT_SITE_XA_SLOT].count + 1);
	assert_true(after[GMT_SITE_XA_SLOT].last_err < 0);	/* -EFAULT */
	assert_string_equal(gmt_errsite_name(GMT_SITE_XA_SLOT), "xa_slot");
	for (i = 0; i < GMT_SITE_MAX; i++)
		assert_string_not_equal(gmt_errsite_name(i), "?");
}

#define T_PAGE		4096
#define T_PFN_REPS	100000

/* a page's pfn from our own pagemap (0: unknown) */
static __u64 pfn_of(void *p)
{
	__u64 e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (pread(fd, &e, sizeof(e), (unsigned long)p / T_PAGE * sizeof(e)) != sizeof(e))
		e = 0;
	close(fd);
	return (e >> 63) ? e & ((1ULL << 55) - 1) : 0;
}

static void pfn_case(__u64 base, void *page, int fd, bool gmem, __u64 index)
{
	struct t_pfn_out *o = &skel->bss->pfn_out;
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	skel->bss->pfn_in = (struct t_pfn_in){ .base = base, .pfn = pfn_of(page),
					      .reps = T_PFN_REPS };
	assert_true(skel->bss->pfn_in.pfn != 0);
	assert_int_equal(run(skel->progs.t_pfn_folio), 0);
	assert_true(o->found);
	assert_int_equal(o->gmem, gmem);
	assert_int_equal(o->index, index);
	assert_int_equal(o->ino, st.st_ino);
	assert_true(o->head_pfn <= skel->bss->pfn_in.pfn);
	assert_true(o->nr_pages >= 1);
	print_message("pfn -> folio -> mapping (%s): %.1f ns per step, empty bpf_loop step "
		      "%.1f ns (same run)\n", gmem ? "guest_memfd" : "memfd",
		      (double)o->ns / T_PFN_REPS, (double)o->ns_empty / T_PFN_REPS);
}

/*
 * The iommu:map walk's step on real pages: the vmemmap base calibrated as
 * trace --holders does (refs' iterator), then a guest_memfd page's pfn (our
 * own mapping of it, from pagemap) leads to its folio, index 5 of that
 * guest_memfd's inode; a memfd page's to a folio that is not guest_memfd's.
 */
static void test_pfn_folio(void **state)
{
	struct gmt_kvm_create_guest_memfd g = { .size = 16 * T_PAGE,
		.flags = GMT_GUEST_MEMFD_FLAG_MMAP | GMT_GUEST_MEMFD_FLAG_INIT_SHARED };
	int kvm, vm = -1, gfd = -1, mfd;
	struct gmt_vmemmap v;
	char *gp, *mp;

	NEED_BPF();
	if (gmt_refs_calibrate(&v))
		skip();	/* said by v.why: no pagemap pfns here */
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm >= 0)
		vm = ioctl(kvm, GMT_KVM_CREATE_VM, 0);
	if (vm >= 0)
		gfd = ioctl(vm, GMT_KVM_CREATE_GUEST_MEMFD, &g);
	if (gfd < 0) {
		print_message("SKIP: no mmap-able guest_memfd here\n");
		if (kvm >= 0)
			close(kvm);
		if (vm >= 0)
			close(vm);
		skip();
	}
	gp = mmap(NULL, 16 * T_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, gfd, 0);
	assert_true(gp != MAP_FAILED);
	gp[5 * T_PAGE] = 1;
	pfn_case(v.base, gp + 5 * T_PAGE, gfd, true, 5);
	mfd = memfd_create("t_pfn", MFD_CLOEXEC);
	assert_int_equal(ftruncate(mfd, 4 * T_PAGE), 0);
	mp = mmap(NULL, 4 * T_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(mp != MAP_FAILED);
	mp[2 * T_PAGE] = 1;
	pfn_case(v.base, mp + 2 * T_PAGE, mfd, false, 2);
	munmap(mp, 4 * T_PAGE);
	munmap(gp, 16 * T_PAGE);
	close(mfd);
	close(gfd);
	close(vm);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folio_small),
		cmocka_unit_test(test_folio_large),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_xarray_load),
		cmocka_unit_test(test_xarray_walk),
		cmocka_unit_test(test_rbtree_walk),
		cmocka_unit_test(test_error_sites),
		cmocka_unit_test(test_pfn_folio),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
