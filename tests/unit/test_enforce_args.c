// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace enforce's options (src/cmd/enforce.c) */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <argp.h>
#include <stdio.h>
#include <cmocka.h>

#include "gmemtrace.h"
#include "enforce.h"
#include "util.h"

/* argv is rewritten by argp: pass a copy */
static int parse(struct gmt_enforce_args *a, int argc, const char **args)
{
	char *argv[16];
	int i;

	for (i = 0; i < argc; i++)
		argv[i] = (char *)args[i];
	argv[argc] = NULL;
	return gmt_enforce_parse(argc, argv, a, ARGP_NO_EXIT | ARGP_NO_HELP);
}

static void test_defaults(void **state)
{
	const char *args[] = { "enforce", "--policy", "p.yaml" };
	struct gmt_enforce_args a;

	assert_int_equal(parse(&a, 3, args), 0);
	assert_string_equal(a.policy, "p.yaml");
	assert_int_equal(a.mode, GMT_POL_ENFORCE);
	assert_int_equal(a.c.fmt, GMT_FMT_TEXT);
	assert_false(a.pin);
	assert_null(a.c.out_path);
}

static void test_all_options(void **state)
{
	const char *args[] = { "enforce", "--policy", "p.yaml", "--mode", "monitor", "-f", "json",
			       "-o", "/tmp/x", "-d", "2.5", "--pin" };
	struct gmt_enforce_args a;

	assert_int_equal(parse(&a, 12, args), 0);
	assert_int_equal(a.mode, GMT_POL_MONITOR);
	assert_int_equal(a.c.fmt, GMT_FMT_JSON);
	assert_string_equal(a.c.out_path, "/tmp/x");
	assert_true(a.c.duration_s > 2.4 && a.c.duration_s < 2.6);
	assert_true(a.pin);
}

static void test_usage_errors(void **state)
{
	const char *no_policy[] = { "enforce", "--mode", "enforce" };
	const char *bad_mode[] = { "enforce", "--policy", "p", "--mode", "audit" };
	const char *bad_fmt[] = { "enforce", "--policy", "p", "-f", "xml" };
	const char *extra[] = { "enforce", "--policy", "p", "stray" };
	const char *bad_d[] = { "enforce", "--policy", "p", "-d", "-1" };
	const char *unpin[] = { "enforce", "--unpin" };
	const char *unpin_pin[] = { "enforce", "--unpin", "--pin" };
	const char *unpin_pol[] = { "enforce", "--unpin", "--policy", "p" };
	struct gmt_enforce_args a;

	assert_int_equal(parse(&a, 3, no_policy), GMT_EXIT_USAGE);
	assert_int_equal(parse(&a, 5, bad_mode), GMT_EXIT_USAGE);
	assert_int_equal(parse(&a, 5, bad_fmt), GMT_EXIT_USAGE);
	assert_int_equal(parse(&a, 4, extra), GMT_EXIT_USAGE);
	assert_int_equal(parse(&a, 5, bad_d), GMT_EXIT_USAGE);
	/* --unpin needs no policy, and takes none (it only removes) */
	assert_int_equal(parse(&a, 2, unpin), 0);
	assert_true(a.unpin);
	assert_int_equal(parse(&a, 3, unpin_pin), GMT_EXIT_USAGE);
	assert_int_equal(parse(&a, 4, unpin_pol), GMT_EXIT_USAGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_usage_errors),
	};

	return cmocka_run_group_tests_name("enforce_args", tests, NULL, NULL);
}
