// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel-side pins benchmark (bench/gmt-bench-pins.c) where fentry
 * loads: inside a VM row, since the build host refuses it. A live test so
 * that the VM suite carries the static bench binary, but it only runs when
 * asked for (GMT_TESTS names bench_pins, or GMT_BENCH=1): otherwise SKIP.
 *
 *     make vmtest VM_KERNELS=debian-7.3 TESTS=bench_pins
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

static void test_bench_pins(void **state)
{
	const char *bench = live_bin("gmt-bench-pins");
	const char *out = live_tmp("bench-pins.out");
	const char *argv[] = { bench, live_bin("gmemtrace"), NULL };
	int rc;

	(void)state;
	if (!live_bench_wanted("bench_pins")) {
		print_message("SKIP: a benchmark: run it with TESTS=bench_pins (or GMT_BENCH=1)\n");
		skip();
	}
	if (access(bench, X_OK)) {
		print_message("SKIP: no %s (make static builds it)\n", bench);
		skip();
	}
	rc = live_run((char *const *)argv, out, out, 3600);
	live_dump(out, 40);
	if (rc == 3) {
		print_message("SKIP: gmt-bench-pins cannot run here (above)\n");
		skip();
	}
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_bench_pins, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
