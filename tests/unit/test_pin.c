// SPDX-License-Identifier: GPL-2.0-only
/*
 * src/policy/pin.c's bookkeeping on a plain directory (bpffs pins are files
 * to unlink as well): counting entries, removing them with each named in the
 * result, and nothing named or failed when there is nothing. (The record
 * --unpin writes of it: test_output.c, golden unpin.*.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "pin.h"

static void touch(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

static bool removed(const struct gmt_unpin_result *res, const char *name)
{
	int i;

	for (i = 0; i < res->nr_removed && i < GMT_UNPIN_MAX; i++)
		if (!strcmp(res->removed[i], name))
			return true;
	return false;
}

static void test_count_and_unpin(void **state)
{
	static struct gmt_unpin_result res;
	char dir[] = "/tmp/gmt-pin-XXXXXX";
	struct stat st;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(gmt_pin_count(dir), 0);
	touch(dir, GMT_PIN_LINK);
	touch(dir, GMT_PIN_DEP_LINK "gmt_ioctl_exit");
	touch(dir, "gmt_pol_counts");
	assert_int_equal(gmt_pin_count(dir), 3);
	assert_int_equal(gmt_unpin(dir, &res), 3);
	assert_int_equal(res.nr_removed, 3);
	assert_int_equal(res.nr_failed, 0);
	assert_true(removed(&res, "link"));
	assert_true(removed(&res, "link_gmt_ioctl_exit"));
	assert_true(removed(&res, "gmt_pol_counts"));
	assert_true(res.dir_removed);
	assert_int_equal(res.dir_err, 0);
	assert_int_not_equal(stat(dir, &st), 0);	/* the directory too */
	/* gone: nothing to count or remove, no error */
	assert_int_equal(gmt_pin_count(dir), 0);
	assert_int_equal(gmt_unpin(dir, &res), 0);
	assert_int_equal(res.nr_removed + res.nr_failed, 0);
	assert_false(res.dir_removed);
	assert_int_equal(gmt_unpin(dir, NULL), 0);
}

/* more entries than are named: all removed, all counted */
static void test_unpin_many(void **state)
{
	static struct gmt_unpin_result res;
	char dir[] = "/tmp/gmt-pin-XXXXXX", name[32];
	int i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < GMT_UNPIN_MAX + 3; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		touch(dir, name);
	}
	assert_int_equal(gmt_unpin(dir, &res), GMT_UNPIN_MAX + 3);
	assert_int_equal(res.nr_removed, GMT_UNPIN_MAX + 3);
	assert_true(res.dir_removed);
}

/* an entry that cannot be removed: named with its errno, the rest goes,
 * the directory stays, the error is returned */
static void test_unpin_failure(void **state)
{
	static struct gmt_unpin_result res;
	char dir[] = "/tmp/gmt-pin-XXXXXX", sub[64];

	assert_non_null(mkdtemp(dir));
	touch(dir, GMT_PIN_LINK);
	snprintf(sub, sizeof(sub), "%s/stuck", dir);
	assert_int_equal(mkdir(sub, 0700), 0);	/* unlink(2) refuses a directory */
	assert_true(gmt_unpin(dir, &res) < 0);
	assert_int_equal(res.nr_removed, 1);
	assert_string_equal(res.removed[0], "link");
	assert_int_equal(res.nr_failed, 1);
	assert_string_equal(res.failed[0].name, "stuck");
	assert_int_not_equal(res.failed[0].err, 0);
	assert_false(res.dir_removed);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_and_unpin),
		cmocka_unit_test(test_unpin_many),
		cmocka_unit_test(test_unpin_failure),
	};

	return cmocka_run_group_tests_name("pin", tests, NULL, NULL);
}
