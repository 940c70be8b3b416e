// SPDX-License-Identifier: GPL-2.0-only
/*
 * The backend table against kernels this machine does not have: BTF built
 * here with the G1, G2 (2025 RFC) and G3 (2026 series) function names and
 * signatures (libbpf's btf__add_* API). Proves which programs and attach
 * targets gmt_select() chooses for each generation; the load-and-attach
 * step is exercised for real by the live tests and the VM suite.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/btf.h>

#include "backends.h"
#include "select.h"

struct kbtf {
	struct btf *btf;
	int t_int, t_uint, t_ulong, t_long, t_ptr_file, t_ptr_kvm, t_ptr_map, t_ptr_ul,
	    t_ptr_fb, t_bool;
};

static void kbtf_init(struct kbtf *k)
{
	int f, kv, m, fb;

	k->btf = btf__new_empty();
	assert_non_null(k->btf);
	k->t_int = btf__add_int(k->btf, "int", 4, BTF_INT_SIGNED);
	k->t_uint = btf__add_int(k->btf, "unsigned int", 4, 0);
	k->t_ulong = btf__add_int(k->btf, "long unsigned int", 8, 0);
	k->t_long = btf__add_int(k->btf, "long int", 8, BTF_INT_SIGNED);
	k->t_bool = btf__add_int(k->btf, "_Bool", 1, BTF_INT_BOOL);
	f = btf__add_fwd(k->btf, "file", BTF_FWD_STRUCT);
	kv = btf__add_fwd(k->btf, "kvm", BTF_FWD_STRUCT);
	m = btf__add_fwd(k->btf, "address_space", BTF_FWD_STRUCT);
	fb = btf__add_fwd(k->btf, "folio_batch", BTF_FWD_STRUCT);
	k->t_ptr_file = btf__add_ptr(k->btf, f);
	k->t_ptr_kvm = btf__add_ptr(k->btf, kv);
	k->t_ptr_map = btf__add_ptr(k->btf, m);
	k->t_ptr_ul = btf__add_ptr(k->btf, k->t_ulong);
	k->t_ptr_fb = btf__add_ptr(k->btf, fb);
}

/* add FUNC name(params...) -> ret */
static void add_func(struct kbtf *k, const char *name, int ret, int n, ...)
{
	va_list ap;
	int proto, i;

	proto = btf__add_func_proto(k->btf, ret);
	assert_true(proto > 0);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		assert_int_equal(btf__add_func_param(k->btf, "a", va_arg(ap, int)), 0);
	va_end(ap);
	assert_true(btf__add_func(k->btf, name, BTF_FUNC_GLOBAL, proto) > 0);
}

static void add_ioctl_handler(struct kbtf *k, const char *name)
{
	add_func(k, name, k->t_long, 3, k->t_ptr_file, k->t_uint, k->t_ulong);
}

static void add_tracepoint(struct kbtf *k, const char *tp)
{
	char buf[128];
	int proto = btf__add_func_proto(k->btf, 0);

	snprintf(buf, sizeof(buf), "btf_trace_%s", tp);
	assert_true(btf__add_typedef(k->btf, buf, btf__add_ptr(k->btf, proto)) > 0);
}

/* what every kernel with KVM has */
static void add_common(struct kbtf *k, const char *inv_start)
{
	add_ioctl_handler(k, "kvm_vm_ioctl");
	add_func(k, inv_start, 0, 1, k->t_ptr_kvm);
	add_func(k, "kvm_mmu_invalidate_end", 0, 1, k->t_ptr_kvm);
	add_func(k, "unmap_mapping_pages", 0, 4, k->t_ptr_map, k->t_ulong, k->t_ulong, k->t_bool);
	add_func(k, "filemap_get_folios", k->t_uint, 4, k->t_ptr_map, k->t_ptr_ul, k->t_ulong,
		 k->t_ptr_fb);
	add_func(k, "lru_add_drain_all", 0, 0);
}

static const struct gmt_choice *choice(const struct gmt_selection *sel, const char *prog)
{
	const struct gmt_prog_spec *sp = gmt_prog_spec_find(prog);

	assert_non_null(sp);
	return &sel->c[sp - gmt_prog_specs];
}

static void expect(const struct gmt_selection *sel, const char *prog, const char *target)
{
	const struct gmt_choice *c = choice(sel, prog);

	if (!target) {
		if (c->chosen)
			print_message("%s chosen on %s, expected not\n", prog, c->target);
		assert_false(c->chosen);
		assert_true(c->reason[0] != 0);	/* and it says why */
		return;
	}
	if (!c->chosen)
		print_message("%s not chosen: %s\n", prog, c->reason);
	assert_true(c->chosen);
	assert_string_equal(c->target, target);
}

/* mainline G1 (6.8 .. 7.3): no guest_memfd ioctl handler */
static void test_g1_mainline(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_start");
	add_tracepoint(&k, "kvm_vm_set_mem_attributes");
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_vm_ioctl", "kvm_vm_ioctl");
	expect(&sel, "gmt_fx_vm_ioctl", "kvm_vm_ioctl");
	expect(&sel, "gmt_kp_vm_ioctl", NULL);	/* the fentry pair won */
	expect(&sel, "gmt_fe_invstart", "kvm_mmu_invalidate_start");
	expect(&sel, "gmt_fe_invend", "kvm_mmu_invalidate_end");
	expect(&sel, "gmt_tp_setattr", "kvm_vm_set_mem_attributes");
	/* G2/G3-only programs stay out: no refcount check exists in G1 */
	expect(&sel, "gmt_fe_gmem_ioc", NULL);
	expect(&sel, "gmt_fx_folios", NULL);
	expect(&sel, "gmt_fe_unmap", NULL);
	expect(&sel, "gmt_fe_lrudrain", NULL);
	assert_non_null(strstr(choice(&sel, "gmt_fx_folios")->reason, "G2/G3"));
	btf__free(k.btf);
}

/* G2 (RFC v2 on a 6.1x base): kvm_gmem_ioctl, the older _begin name */
static void test_g2_rfc(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_begin");
	add_ioctl_handler(&k, "kvm_gmem_ioctl");
	add_tracepoint(&k, "kvm_vm_set_mem_attributes");
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_gmem_ioc", "kvm_gmem_ioctl");
	expect(&sel, "gmt_fx_gmem_ioc", "kvm_gmem_ioctl");
	expect(&sel, "gmt_fe_invstart", "kvm_mmu_invalidate_begin");
	expect(&sel, "gmt_fx_folios", "filemap_get_folios");
	expect(&sel, "gmt_fe_unmap", "unmap_mapping_pages");
	expect(&sel, "gmt_kp_folios", NULL);
	expect(&sel, "gmt_kr_folios", NULL);
	btf__free(k.btf);
}

/* G3 v8 on a 7.x base: _start; KVM_VM_MEMORY_ATTRIBUTES off removes the tracepoint */
static void test_g3_series(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_start");
	add_ioctl_handler(&k, "kvm_gmem_ioctl");
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_gmem_ioc", "kvm_gmem_ioctl");
	expect(&sel, "gmt_fe_invstart", "kvm_mmu_invalidate_start");
	expect(&sel, "gmt_fe_lrudrain", "lru_add_drain_all");
	expect(&sel, "gmt_fx_folios", "filemap_get_folios");
	expect(&sel, "gmt_tp_setattr", NULL);
	assert_non_null(strstr(choice(&sel, "gmt_tp_setattr")->reason, "not in this kernel"));
	expect(&sel, "gmt_fx_lrudrain", "lru_add_drain_all");
	/* no __kvm_gmem_set_attributes (inlined): the syscall exit confirms */
	expect(&sel, "gmt_fx_g3_set", NULL);
	btf__free(k.btf);
}

/* v8 as built: __kvm_gmem_set_attributes(inode, start, nr_pages, attrs,
 * err_index) out of line, so the check's verdict is read there */
static void test_g3_check_result(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_start");
	add_ioctl_handler(&k, "kvm_gmem_ioctl");
	add_func(&k, "__kvm_gmem_set_attributes", k.t_long, 5, k.t_ptr_file, k.t_ulong, k.t_ulong,
		 k.t_ulong, k.t_ptr_ul);
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fx_g3_set", "__kvm_gmem_set_attributes");
	expect(&sel, "gmt_kp_g3_set", NULL);	/* the twin stands by */
	btf__free(k.btf);
}

/* both names present: newest first */
static void test_newest_name_first(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_begin");
	add_func(&k, "kvm_mmu_invalidate_start", 0, 1, k.t_ptr_kvm);
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_invstart", "kvm_mmu_invalidate_start");
	btf__free(k.btf);
}

/* a handler with the wrong signature is not attached to */
static void test_signature_checked(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_func(&k, "kvm_vm_ioctl", k.t_long, 1, k.t_ptr_file);
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_vm_ioctl", NULL);
	expect(&sel, "gmt_kp_vm_ioctl", NULL);
	btf__free(k.btf);
}

/* a kernel that refuses trampolines (like this project's host): kprobe twins */
static int refuse_fentry(const struct gmt_prog_spec *spec, const char *target, char *why,
			 size_t len, void *ctx)
{
	if (spec->backend == GMT_BE_FENTRY) {
		snprintf(why, len, "refused by the kernel at load (EPERM)");
		return -EPERM;
	}
	return 0;
}

static void test_fallback_to_kprobe(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_start");
	add_ioctl_handler(&k, "kvm_gmem_ioctl");
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_AUTO, refuse_fentry, NULL);
	expect(&sel, "gmt_fe_vm_ioctl", NULL);
	expect(&sel, "gmt_kp_vm_ioctl", "kvm_vm_ioctl");
	expect(&sel, "gmt_kr_vm_ioctl", "kvm_vm_ioctl");
	expect(&sel, "gmt_kp_gmem_ioc", "kvm_gmem_ioctl");
	expect(&sel, "gmt_kp_folios", "filemap_get_folios");
	expect(&sel, "gmt_kr_folios", "filemap_get_folios");
	assert_non_null(strstr(choice(&sel, "gmt_fe_vm_ioctl")->reason, "EPERM"));
	btf__free(k.btf);
}

static void test_preferences(void **state)
{
	struct gmt_selection sel;
	struct kbtf k;

	kbtf_init(&k);
	add_common(&k, "kvm_mmu_invalidate_start");
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_KPROBE, NULL, NULL);
	expect(&sel, "gmt_kp_vm_ioctl", "kvm_vm_ioctl");
	expect(&sel, "gmt_fe_vm_ioctl", NULL);
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_NONE, NULL, NULL);
	expect(&sel, "gmt_fe_vm_ioctl", NULL);
	expect(&sel, "gmt_kp_vm_ioctl", NULL);
	assert_non_null(strstr(choice(&sel, "gmt_kp_vm_ioctl")->reason, "turned off"));
	gmt_select(&sel, &k.btf, 1, GMT_KPREF_FENTRY, refuse_fentry, NULL);
	expect(&sel, "gmt_kp_vm_ioctl", NULL);	/* fentry only: no fallback */
	btf__free(k.btf);
}

/* KVM as a module: its functions live in a second BTF */
static void test_module_btf(void **state)
{
	struct gmt_selection sel;
	struct kbtf core, kvm;
	struct btf *set[2];

	kbtf_init(&core);
	add_func(&core, "filemap_get_folios", core.t_uint, 4, core.t_ptr_map, core.t_ptr_ul,
		 core.t_ulong, core.t_ptr_fb);
	kbtf_init(&kvm);
	add_ioctl_handler(&kvm, "kvm_vm_ioctl");
	set[0] = core.btf;
	set[1] = kvm.btf;
	gmt_select(&sel, set, 2, GMT_KPREF_AUTO, NULL, NULL);
	expect(&sel, "gmt_fe_vm_ioctl", "kvm_vm_ioctl");
	btf__free(kvm.btf);
	btf__free(core.btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_g1_mainline),
		cmocka_unit_test(test_g2_rfc),
		cmocka_unit_test(test_g3_series),
		cmocka_unit_test(test_g3_check_result),
		cmocka_unit_test(test_newest_name_first),
		cmocka_unit_test(test_signature_checked),
		cmocka_unit_test(test_fallback_to_kprobe),
		cmocka_unit_test(test_preferences),
		cmocka_unit_test(test_module_btf),
	};

	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
