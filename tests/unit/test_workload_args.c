/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of gmem-workload's option parsing and round arithmetic. The
 * tool is one file, so it is included here with main() renamed; nothing
 * here needs root or /dev/kvm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/types.h>
#include <liburing.h>

int gmw_main(int argc, char **argv);
#define main gmw_main
/* a gmemtrace library object may define its own */
#define argp_program_version gmw_argp_program_version
#include "../../tools/gmem-workload.c"
#undef main

/*
 * The unit test link line has no liburing: parsing never reaches these,
 * so stubs that fail are enough.
 */
int io_uring_queue_init(unsigned int entries, struct io_uring *ring, unsigned int flags)
{
	return -ENOSYS;
}

void io_uring_queue_exit(struct io_uring *ring)
{
}

int io_uring_register_buffers(struct io_uring *ring, const struct iovec *iovecs,
			      unsigned int nr_iovecs)
{
	return -ENOSYS;
}

int io_uring_unregister_buffers(struct io_uring *ring)
{
	return -ENOSYS;
}

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static int parse(struct cfg *c, char **argv, int argc)
{
	return parse_args(argc, argv, c, ARGP_SILENT);
}

/* Runs the whole tool in a child; returns its exit status */
static int run_child(char **argv, int argc)
{
	pid_t pid;
	int st;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		_exit(gmw_main(argc, argv));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void test_parse_u64(void **state)
{
	__u64 v;

	assert_int_equal(parse_u64("4096", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_u64("4K", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_u64("2m", true, &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(parse_u64("1G", true, &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(parse_u64("0x100000000", true, &v), 0);
	assert_int_equal(v, 0x100000000ULL);
	/* leading zero is decimal, not octal */
	assert_int_equal(parse_u64("010", false, &v), 0);
	assert_int_equal(v, 10);

	assert_int_not_equal(parse_u64("4K", false, &v), 0);
	assert_int_not_equal(parse_u64("abc", true, &v), 0);
	assert_int_not_equal(parse_u64("", true, &v), 0);
	assert_int_not_equal(parse_u64("-1", true, &v), 0);
	assert_int_not_equal(parse_u64(" 1", true, &v), 0);
	assert_int_not_equal(parse_u64("12x", true, &v), 0);
	assert_int_not_equal(parse_u64("4KB", true, &v), 0);
	assert_int_not_equal(parse_u64("99999999999999999999", true, &v), 0);
	assert_int_not_equal(parse_u64("17179869184G", true, &v), 0);
}

static void test_parse_uapi(void **state)
{
	unsigned int m;

	assert_int_equal(parse_uapi("all", &m), 0);
	assert_int_equal(m, UAPI_ALL);
	assert_int_equal(parse_uapi("g1", &m), 0);
	assert_int_equal(m, UAPI_G1);
	assert_int_equal(parse_uapi("g3,g1", &m), 0);
	assert_int_equal(m, UAPI_G1 | UAPI_G3);
	assert_int_not_equal(parse_uapi("g4", &m), 0);
	assert_int_not_equal(parse_uapi("g1,", &m), 0);
	assert_int_not_equal(parse_uapi(",g1", &m), 0);
	assert_int_not_equal(parse_uapi("", &m), 0);
	assert_int_not_equal(parse_uapi("g12", &m), 0);
}

static void test_defaults(void **state)
{
	char *argv[] = { "gmem-workload", NULL };
	struct cfg c;

	assert_int_equal(parse(&c, argv, ARGC(argv)), 0);
	assert_int_equal(c.vms, 1);
	assert_int_equal(c.vm_type, -1);
	assert_int_equal(c.gmem_size, 2 << 20);
	assert_false(c.gmem_flags_set);
	assert_int_equal(c.gpa_base, 0x100000000ULL);
	assert_int_equal(c.conversions, 16);
	assert_int_equal(c.uapi, UAPI_ALL);
	assert_int_equal(c.size, 4096);
	assert_int_equal(c.dir, DIR_ALTERNATE);
	assert_int_equal(c.max_calls, GMW_DEF_MAX_CALLS);
	assert_false(c.json);
	assert_false(c.no_calls);
}

static void test_full_line(void **state)
{
	char *argv[] = { "gmem-workload", "--vms", "3", "--vm-type", "sw-protected",
			 "--gmem-size", "4M", "--gmem-flags", "0x1", "--uapi", "g2,g3",
			 "--size", "12", "--dir", "private", "--conversions", "0",
			 "--pin", "4", "--pin-offset", "8K", "--hold", "2", "--json",
			 "--json-out", "/tmp/x.json", "--bench", NULL };
	struct cfg c;

	assert_int_equal(parse(&c, argv, ARGC(argv)), 0);
	assert_int_equal(c.vms, 3);
	assert_int_equal(c.vm_type, GMT_KVM_X86_SW_PROTECTED_VM);
	assert_int_equal(c.gmem_size, 4 << 20);
	assert_true(c.gmem_flags_set);
	assert_int_equal(c.gmem_flags, 1);
	assert_int_equal(c.uapi, UAPI_G2 | UAPI_G3);
	assert_int_equal(c.size, 12);	/* unaligned is allowed: EINVAL is data */
	assert_int_equal(c.dir, DIR_PRIVATE);
	assert_int_equal(c.conversions, 0);
	assert_int_equal(c.pin_pages, 4);
	assert_int_equal(c.pin_offset, 8192);
	assert_int_equal(c.hold_s, 2);
	assert_true(c.json);
	assert_string_equal(c.json_out, "/tmp/x.json");
	assert_true(c.bench);
	assert_true(c.no_calls);	/* implied by --bench */
}

static void test_bad_values(void **state)
{
	static char *bad[][3] = {
		{ "--size", "0" }, { "--size", "abc" }, { "--vms", "0" },
		{ "--vms", "5000" }, { "--uapi", "g4" }, { "--dir", "up" },
		{ "--vm-type", "tdx" }, { "--gmem-size", "0" }, { "--conversions", "-1" },
		{ "--pin", "0" }, { "--pin", "513" }, { "--interval-us", "1x" },
		{ "--max-calls", "many" }, { "--punch", "2000000" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "gmem-workload", bad[i][0], bad[i][1], NULL };
		struct cfg c;

		if (!parse(&c, argv, ARGC(argv)))
			fail_msg("%s %s accepted", bad[i][0], bad[i][1]);
	}
}

static void test_cross_checks(void **state)
{
	char *unaligned[] = { "gmem-workload", "--pin", "1", "--pin-offset", "100", NULL };
	char *alone[] = { "gmem-workload", "--pin-offset", "4096", NULL };
	char *fits[] = { "gmem-workload", "--gmem-size", "1M", "--pin", "256", NULL };
	char *overflow[] = { "gmem-workload", "--gmem-size", "1M", "--pin", "1",
			     "--pin-offset", "1M", NULL };
	char *extra[] = { "gmem-workload", "stray", NULL };
	struct cfg c;

	assert_int_not_equal(parse(&c, unaligned, ARGC(unaligned)), 0);
	assert_int_not_equal(parse(&c, alone, ARGC(alone)), 0);
	assert_int_equal(parse(&c, fits, ARGC(fits)), 0);
	assert_int_not_equal(parse(&c, overflow, ARGC(overflow)), 0);
	assert_int_not_equal(parse(&c, extra, ARGC(extra)), 0);
}

static void test_rounds(void **state)
{
	/* offsets walk the guest_memfd and wrap */
	assert_int_equal(round_offset(0, 4096, 2 << 20), 0);
	assert_int_equal(round_offset(1, 4096, 2 << 20), 4096);
	assert_int_equal(round_offset(512, 4096, 2 << 20), 0);
	assert_int_equal(round_offset(513, 4096, 2 << 20), 4096);
	assert_int_equal(round_offset(3, 12, 4096), 36);
	/* no 64-bit overflow for huge round * size */
	assert_int_equal(round_offset(1ULL << 40, 1ULL << 30, (1ULL << 21) + 4096),
			 (__u64)(((unsigned __int128)(1ULL << 40) * (1ULL << 30)) %
				 ((1ULL << 21) + 4096)));

	assert_true(round_to_private(DIR_ALTERNATE, 0));
	assert_false(round_to_private(DIR_ALTERNATE, 1));
	assert_true(round_to_private(DIR_ALTERNATE, 2));
	assert_true(round_to_private(DIR_PRIVATE, 1));
	assert_false(round_to_private(DIR_SHARED, 0));
}

static void test_exit_codes(void **state)
{
	char *size0[] = { "gmem-workload", "--size", "0", NULL };
	char *bogus[] = { "gmem-workload", "--bogus", NULL };
	char *help[] = { "gmem-workload", "--help", NULL };

	assert_int_equal(run_child(size0, ARGC(size0)), EXIT_USAGE);
	assert_int_equal(run_child(bogus, ARGC(bogus)), EXIT_USAGE);
	assert_int_equal(run_child(help, ARGC(help)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_uapi),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_line),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_rounds),
		cmocka_unit_test(test_exit_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
