// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests of the backend table (src/core/backends.c) against the BPF objects
 * it describes: every program has a row and every row a program. Opening a
 * skeleton only parses the ELF, so that part needs no root; loading the
 * uapi rows for real does, and is skipped otherwise.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/libbpf.h>

#include "backends.h"
#include "gmemtrace.h"	/* types of the skeleton's globals */
#include "gmemtrace.skel.h"
#include "refs.skel.h"
#include "loader.h"
#include "probe.h"
#include "probes.skel.h"

/* BPF_OBJ_NAME_LEN - 1: the kernel truncates longer program names */
#define PROG_NAME_MAX	15

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

static void test_every_program_has_a_row(void **state)
{
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	struct bpf_program *p;
	int n = 0;

	assert_non_null(skel);
	bpf_object__for_each_program(p, skel->obj) {
		const char *name = bpf_program__name(p);

		if (!gmt_prog_spec_find(name))
			fail_msg("program %s (%s) is not in gmt_prog_specs", name,
				 bpf_program__section_name(p));
		n++;
	}
	gmemtrace_bpf__destroy(skel);
	/* and the refs iterator's */
	{
		struct refs_bpf *r = refs_bpf__open();

		assert_non_null(r);
		bpf_object__for_each_program(p, r->obj) {
			const struct gmt_prog_spec *s = gmt_prog_spec_find(bpf_program__name(p));

			if (!s || !s->object || strcmp(s->object, "refs"))
				fail_msg("refs program %s has no refs row", bpf_program__name(p));
			n++;
		}
		refs_bpf__destroy(r);
	}
	assert_int_equal(n, gmt_nr_prog_specs);
}

static void test_every_row_has_a_program(void **state)
{
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	struct refs_bpf *r = refs_bpf__open();
	int i;

	assert_non_null(skel);
	assert_non_null(r);
	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *s = &gmt_prog_specs[i];
		struct bpf_object *obj = s->object ? r->obj : skel->obj;

		if (!bpf_object__find_program_by_name(obj, s->prog))
			fail_msg("row %s has no program in %s.bpf.o", s->prog,
				 s->object ? s->object : "gmemtrace");
	}
	refs_bpf__destroy(r);
	gmemtrace_bpf__destroy(skel);
}

static void test_names_unique_and_short(void **state)
{
	int i, j;

	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const char *name = gmt_prog_specs[i].prog;

		assert_non_null(name);
		if (strlen(name) > PROG_NAME_MAX)
			fail_msg("%s: %zu characters, the kernel keeps %d", name, strlen(name),
				 PROG_NAME_MAX);
		for (j = i + 1; j < gmt_nr_prog_specs; j++)
			if (!strcmp(name, gmt_prog_specs[j].prog))
				fail_msg("%s is in the table twice", name);
		/* find returns the row itself */
		assert_ptr_equal(gmt_prog_spec_find(name), &gmt_prog_specs[i]);
	}
	assert_null(gmt_prog_spec_find("no_such_prog"));
	assert_null(gmt_prog_spec_find(""));
}

static void test_rows_described(void **state)
{
	int i, required = 0;

	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *s = &gmt_prog_specs[i];

		if (!s->hook || !*s->hook)
			fail_msg("%s has no hook", s->prog);
		if (!s->gives || !*s->gives)
			fail_msg("%s has no 'gives' text", s->prog);
		assert_true(s->backend < GMT_BE_MAX);
		assert_string_not_equal(gmt_backend_name(s->backend), "?");
		if (s->required)
			required++;
		assert_true(s->want < GMT_WANT_MAX);
		if (s->feature) {
			/* a kernel-side row: its feature exists, its targets are cited */
			const struct gmt_feature *f = gmt_feature_find(s->feature);
			int t;

			if (!f)
				fail_msg("%s: feature %s is not in gmt_features", s->prog, s->feature);
			if (!s->targets[0].name)
				fail_msg("%s has no target", s->prog);
			for (t = 0; t < GMT_MAX_TARGETS && s->targets[t].name; t++)
				if (!s->targets[t].since || !*s->targets[t].since)
					fail_msg("%s: target %s cites no commit or series", s->prog,
						 s->targets[t].name);
		}
	}
	/* something must be required, or tracing could start with nothing */
	assert_true(required > 0);
	assert_string_equal(gmt_backend_name(GMT_BE_MAX), "?");
}

/* every feature has programs of each backend it lists, and a known requirement */
static void test_features_described(void **state)
{
	int i, b, j;

	for (i = 0; i < gmt_nr_features; i++) {
		const struct gmt_feature *f = &gmt_features[i];

		assert_true(f->nr_order > 0 && f->nr_order <= GMT_MAX_ORDER);
		if (f->requires && !gmt_feature_find(f->requires))
			fail_msg("%s requires unknown feature %s", f->name, f->requires);
		for (b = 0; b < f->nr_order; b++) {
			bool has = false;

			for (j = 0; j < gmt_nr_prog_specs; j++)
				has |= gmt_prog_specs[j].feature &&
				       !strcmp(gmt_prog_specs[j].feature, f->name) &&
				       gmt_prog_specs[j].backend == f->order[b];
			if (!has)
				fail_msg("%s lists %s but has no such program", f->name,
					 gmt_backend_name(f->order[b]));
		}
	}
}

/* the row's backend and hook say what the program's section says */
static void test_rows_match_sections(void **state)
{
	static const struct {
		enum gmt_backend be;
		const char *prefix[2];
	} kinds[] = {
		{ GMT_BE_UAPI, { "tracepoint/syscalls/", NULL } },
		{ GMT_BE_TP_BTF, { "tp_btf/", NULL } },
		{ GMT_BE_FENTRY, { "fentry/", "fexit/" } },
		{ GMT_BE_KPROBE, { "kprobe/", "kretprobe/" } },
		{ GMT_BE_LSM, { "lsm/", "lsm.s/" } },
		{ GMT_BE_ITER, { "iter/", NULL } },
		{ GMT_BE_FMOD_RET, { "fmod_ret/", NULL } },
	};
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	int i;

	assert_non_null(skel);
	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *s = &gmt_prog_specs[i];
		struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, s->prog);
		const char *sec, *target;
		bool ok = false;
		size_t k, j;

		if (!p)
			continue;	/* reported by test_every_row_has_a_program */
		sec = bpf_program__section_name(p);
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			for (j = 0; j < 2; j++)
				if (kinds[k].be == s->backend && kinds[k].prefix[j] &&
				    !strncmp(sec, kinds[k].prefix[j], strlen(kinds[k].prefix[j])))
					ok = true;
		if (!ok)
			fail_msg("%s: backend %s but section %s", s->prog,
				 gmt_backend_name(s->backend), sec);
		target = strrchr(sec, '/') + 1;
		if (!strstr(s->hook, target))
			fail_msg("%s: hook '%s' does not name %s", s->prog, s->hook, target);
	}
	gmemtrace_bpf__destroy(skel);
}

/* the capability list of `features` names programs of probes.bpf.o */
static void test_capabilities_exist(void **state)
{
	struct probes_bpf *skel = probes_bpf__open();
	int i;

	assert_non_null(skel);
	assert_true(gmt_nr_capabilities > 0);
	for (i = 0; i < gmt_nr_capabilities; i++) {
		assert_non_null(gmt_capabilities[i].name);
		assert_non_null(gmt_capabilities[i].what);
		if (!bpf_object__find_program_by_name(skel->obj, gmt_capabilities[i].prog))
			fail_msg("capability %s: no program %s in probes.bpf.o",
				 gmt_capabilities[i].name, gmt_capabilities[i].prog);
		assert_true(strlen(gmt_capabilities[i].prog) <= PROG_NAME_MAX);
	}
	probes_bpf__destroy(skel);
}

/* the uapi rows are the ones that must work everywhere: this host too */
static void test_uapi_rows_load(void **state)
{
	char why[256];
	int i, n = 0;

	if (geteuid() != 0) {
		print_message("SKIP: not root (loading BPF programs needs it)\n");
		skip();
	}
	/* as `features` does: tracepoint attach needs tracefs */
	if (gmt_ensure_tracefs(why, sizeof(why))) {
		print_message("SKIP: %s\n", why);
		skip();
	}
	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *s = &gmt_prog_specs[i];
		struct gmt_probe_result r;

		if (s->backend != GMT_BE_UAPI)
			continue;
		gmt_probe_program(s->prog, &r);
		if (!r.ok)
			fail_msg("%s (%s): %s", s->prog, s->hook, r.reason);
		n++;
	}
	assert_true(n > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_program_has_a_row),
		cmocka_unit_test(test_every_row_has_a_program),
		cmocka_unit_test(test_names_unique_and_short),
		cmocka_unit_test(test_rows_described),
		cmocka_unit_test(test_features_described),
		cmocka_unit_test(test_rows_match_sections),
		cmocka_unit_test(test_capabilities_exist),
		cmocka_unit_test(test_uapi_rows_load),
	};

	/* a failed probe load is reported by the test; libbpf's log is noise */
	if (!getenv("GMT_TEST_VERBOSE"))
		libbpf_set_print(silent);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
