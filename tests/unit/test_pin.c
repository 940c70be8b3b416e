// SPDX-License-Identifier: GPL-2.0-only
/*
 * src/policy/pin.c's bookkeeping on a plain directory (bpffs pins are files
 * to unlink as well): counting entries, removing them with one line each,
 * and nothing said or failed when there is nothing.
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

static void test_count_and_unpin(void **state)
{
	char dir[] = "/tmp/gmt-pin-XXXXXX", *text = NULL;
	size_t len = 0;
	struct stat st;
	FILE *report;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(gmt_pin_count(dir), 0);
	touch(dir, GMT_PIN_LINK);
	touch(dir, "gmt_pol_counts");
	assert_int_equal(gmt_pin_count(dir), 2);
	report = open_memstream(&text, &len);
	assert_int_equal(gmt_unpin(dir, report), 2);
	fclose(report);
	assert_non_null(strstr(text, "removed "));
	assert_non_null(strstr(text, "/link\n"));
	assert_non_null(strstr(text, "/gmt_pol_counts\n"));
	assert_int_not_equal(stat(dir, &st), 0);	/* the directory too */
	free(text);
	/* gone: nothing to count or remove, no error */
	assert_int_equal(gmt_pin_count(dir), 0);
	assert_int_equal(gmt_unpin(dir, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_and_unpin),
	};

	return cmocka_run_group_tests_name("pin", tests, NULL, NULL);
}
