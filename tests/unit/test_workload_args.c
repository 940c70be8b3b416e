/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Unit tests of gmem-workload's option parsing, round arithmetic and the
 * guest it builds for --guest (code, page tables, registers). They link the
 * tool's pure objects (tools/workload/args*.c, guest_image.c); nothing here
 * needs root or /dev/kvm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "workload.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

static int parse(struct cfg *c, char **argv, int argc)
{
	return parse_args(argc, argv, c, ARGP_SILENT);
}

/*
 * The tool's exit status for a command line that never gets past parsing
 * (usage errors, --help): main() in tools/workload/main.c returns EXIT_USAGE
 * when parse_args fails; argp itself exits 0 after --help.
 */
static int gmw_main(int argc, char **argv)
{
	struct cfg c;

	return parse_args(argc, argv, &c, 0) ? EXIT_USAGE : EXIT_OK;
}

/* Parses in a child, as the tool would; returns its exit status */
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
		{ "--guest", "0" }, { "--guest", "1000001" }, { "--guest", "x" },
		{ "--guest-timeout", "-1" }, { "--guest-timeout", "90000" },
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
	/* --ioas-copy: iommufd only, src or dst */
	char *copy[] = { "gmem-workload", "--pin", "1", "--pin-with", "iommufd", "--ioas-copy",
			 "dst", NULL };
	char *copy_vfio[] = { "gmem-workload", "--pin", "1", "--pin-with", "vfio", "--ioas-copy",
			      "src", NULL };
	char *copy_bad[] = { "gmem-workload", "--pin", "1", "--pin-with", "iommufd",
			     "--ioas-copy", "both", NULL };
	/* --dma-loop: a DMA --pin-with, with or without --pin */
	char *loop[] = { "gmem-workload", "--pin-with", "vfio", "--dma-loop", "5", NULL };
	char *loop_pin[] = { "gmem-workload", "--pin", "1", "--pin-with", "iommufd",
			     "--dma-loop", "0x10", NULL };
	char *loop_uring[] = { "gmem-workload", "--pin", "1", "--dma-loop", "5", NULL };
	char *loop_zero[] = { "gmem-workload", "--pin-with", "vfio", "--dma-loop", "0", NULL };
	char *with_alone[] = { "gmem-workload", "--pin-with", "vfio", NULL };
	struct cfg c;

	assert_int_not_equal(parse(&c, unaligned, ARGC(unaligned)), 0);
	assert_int_not_equal(parse(&c, alone, ARGC(alone)), 0);
	assert_int_equal(parse(&c, fits, ARGC(fits)), 0);
	assert_int_not_equal(parse(&c, overflow, ARGC(overflow)), 0);
	assert_int_not_equal(parse(&c, extra, ARGC(extra)), 0);
	assert_int_equal(parse(&c, copy, ARGC(copy)), 0);
	assert_int_equal(c.ioas_copy, COPY_DST);
	assert_int_not_equal(parse(&c, copy_vfio, ARGC(copy_vfio)), 0);
	assert_int_not_equal(parse(&c, copy_bad, ARGC(copy_bad)), 0);
	assert_int_equal(parse(&c, loop, ARGC(loop)), 0);
	assert_int_equal(c.dma_loop, 5);
	assert_int_equal(parse(&c, loop_pin, ARGC(loop_pin)), 0);
	assert_int_equal(c.dma_loop, 16);
	assert_int_not_equal(parse(&c, loop_uring, ARGC(loop_uring)), 0);
	assert_int_not_equal(parse(&c, loop_zero, ARGC(loop_zero)), 0);
	assert_int_not_equal(parse(&c, with_alone, ARGC(with_alone)), 0);
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

static void test_guest_args(void **state)
{
	char *plain[] = { "gmem-workload", "--guest", "8", NULL };
	char *kept[] = { "gmem-workload", "--guest", "8", "--uapi", "all",
			 "--conversions", "5", "--guest-fault", "--guest-timeout", "0", NULL };
	char *nofault[] = { "gmem-workload", "--guest-fault", NULL };
	char *bench[] = { "gmem-workload", "--guest", "1", "--bench", NULL };
	char *unaligned[] = { "gmem-workload", "--guest", "1", "--gpa-base", "0x1001", NULL };
	char *toohigh[] = { "gmem-workload", "--guest", "1", "--gpa-base", "0x10000000000000",
			    NULL };
	char *noguest[] = { "gmem-workload", NULL };
	struct cfg c;

	/* the guest drives: G1 serving and no VMM conversions unless asked */
	assert_int_equal(parse(&c, plain, ARGC(plain)), 0);
	assert_int_equal(c.guest, 8);
	assert_false(c.guest_fault);
	assert_int_equal(c.uapi, UAPI_G1);
	assert_int_equal(c.conversions, 0);
	assert_int_equal(guest_timeout(&c), 60);

	assert_int_equal(parse(&c, kept, ARGC(kept)), 0);
	assert_int_equal(c.uapi, UAPI_ALL);
	assert_int_equal(c.conversions, 5);
	assert_true(c.guest_fault);
	assert_int_equal(c.guest_timeout_s, 0);

	assert_int_not_equal(parse(&c, nofault, ARGC(nofault)), 0);
	assert_int_not_equal(parse(&c, bench, ARGC(bench)), 0);
	assert_int_not_equal(parse(&c, unaligned, ARGC(unaligned)), 0);
	assert_int_not_equal(parse(&c, toohigh, ARGC(toohigh)), 0);

	/* without --guest nothing changes */
	assert_int_equal(parse(&c, noguest, ARGC(noguest)), 0);
	assert_int_equal(c.guest, 0);
	assert_int_equal(c.uapi, UAPI_ALL);
	assert_int_equal(c.conversions, 16);
}

static void test_guest_layout(void **state)
{
	struct cfg c;

	cfg_init(&c);
	c.guest = 1;
	/* code, 3 page-table pages, fault page, results: one 2M page */
	assert_int_equal(guest_slot_size(1), GUEST_2M);
	assert_int_equal(guest_slot_size(GMW_MAX_GUEST), align_up(GUEST_RES_OFF +
			 (GMW_MAX_GUEST + 2) * 8, GUEST_2M));
	assert_true(guest_slot_size(GMW_MAX_GUEST) <= GUEST_1G);
	/* GPA 0 when free, else the 1G after the guest_memfd slot */
	assert_int_equal(guest_code_gpa(&c), 0);
	c.gpa_base = 0;
	assert_int_equal(guest_code_gpa(&c), GUEST_1G);
	c.gpa_base = 1ULL << 20;
	c.gmem_size = 3ULL << 30;
	assert_int_equal(guest_code_gpa(&c), 4 * GUEST_1G);
	c.gpa_base = GUEST_2M;
	assert_int_equal(guest_code_gpa(&c), 0);
}

static void test_guest_code(void **state)
{
	static const unsigned int mov_nr_at[] = { 0x05, 0x37 };	/* mov $12,%eax */
	unsigned int i;

	/* the bytes the comments describe: 0x5a long, labels where jumps land */
	assert_int_equal(sizeof(guest_code), 0x5a);
	for (i = 0; i < sizeof(guest_hc_at) / sizeof(guest_hc_at[0]); i++) {
		assert_int_equal(guest_code[guest_hc_at[i]], 0x0f);
		assert_int_equal(guest_code[guest_hc_at[i] + 1], 0x01);
		assert_int_equal(guest_code[guest_hc_at[i] + 2], 0xd9);
		assert_int_equal(guest_code[mov_nr_at[i]], 0xb8);
		assert_int_equal(guest_code[mov_nr_at[i] + 1], GMT_KVM_HC_MAP_GPA_RANGE);
	}
	assert_int_equal(guest_code[0x03], 0x74);			/* je done */
	assert_int_equal(0x05 + guest_code[0x04], 0x32);
	assert_int_equal(guest_code[0x30], 0xeb);			/* jmp loop */
	assert_int_equal((0x32 + (signed char)guest_code[0x31]), 0x00);
	assert_int_equal(guest_code[0x35], 0x74);			/* je halt */
	assert_int_equal(0x37 + guest_code[0x36], 0x57);
	assert_int_equal(guest_code[0x57], 0xf4);			/* hlt */
	assert_int_equal(0x5a + (signed char)guest_code[0x59], 0x57);
}

static void test_guest_build(void **state)
{
	__u64 size = guest_slot_size(4), *q;
	char *mem = calloc(1, size);
	unsigned int i;

	assert_non_null(mem);
	guest_build(mem, 0, size, 4, false);
	assert_memory_equal(mem, guest_code, sizeof(guest_code));
	q = (__u64 *)(mem + GUEST_PML4_OFF);
	assert_int_equal(q[0], GUEST_PDPT_OFF | PTE_P | PTE_RW);
	q = (__u64 *)(mem + GUEST_PDPT_OFF);
	assert_int_equal(q[0], GUEST_PD_OFF | PTE_P | PTE_RW);
	q = (__u64 *)(mem + GUEST_PD_OFF);
	assert_int_equal(q[0], PTE_P | PTE_RW | PTE_PS);
	assert_int_equal(q[1], 0);
	assert_int_equal((__u8)mem[GUEST_FAULT_OFF], GUEST_FAULT_MARK);
	q = (__u64 *)(mem + GUEST_RES_OFF);
	for (i = 0; i < 6; i++)
		assert_int_equal(q[i], GUEST_RES_UNSET);
	assert_int_equal(q[6], 0);

	/* Intel: vmcall; and a slot at 1G maps through PDPT entry 1 */
	memset(mem, 0, size);
	guest_build(mem, GUEST_1G, size, 4, true);
	for (i = 0; i < sizeof(guest_hc_at) / sizeof(guest_hc_at[0]); i++)
		assert_int_equal((__u8)mem[guest_hc_at[i] + 2], 0xc1);
	q = (__u64 *)(mem + GUEST_PML4_OFF);
	assert_int_equal(q[0], (GUEST_1G + GUEST_PDPT_OFF) | PTE_P | PTE_RW);
	q = (__u64 *)(mem + GUEST_PDPT_OFF);
	assert_int_equal(q[0], 0);
	assert_int_equal(q[1], (GUEST_1G + GUEST_PD_OFF) | PTE_P | PTE_RW);
	q = (__u64 *)(mem + GUEST_PD_OFF);
	assert_int_equal(q[0], GUEST_1G | PTE_P | PTE_RW | PTE_PS);
	free(mem);
}

static void test_guest_regs(void **state)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	struct cfg c;

	cfg_init(&c);
	c.guest = 8;
	guest_init_regs(&r, &c, 0, GUEST_2M);
	assert_int_equal(r.rip, GUEST_CODE_OFF);
	assert_int_equal(r.rflags, 2);
	assert_int_equal(r.rdi, 8);
	assert_int_equal(r.r8, c.gpa_base);
	assert_int_equal(r.r9, c.gpa_base + c.gmem_size);
	assert_int_equal(r.r12, c.gpa_base);
	assert_int_equal(r.r15, 4096);
	/* alternate starts to-private and toggles bit 4 */
	assert_int_equal(r.r13, GMT_KVM_MAP_GPA_RANGE_ENCRYPTED);
	assert_int_equal(r.r14, GMT_KVM_MAP_GPA_RANGE_ENCRYPTED);
	assert_int_equal(r.rsi, GUEST_RES_OFF);
	assert_int_equal(r.r10, 0);

	c.dir = DIR_SHARED;
	c.guest_fault = true;
	guest_init_regs(&r, &c, GUEST_1G, GUEST_2M);
	assert_int_equal(r.r13, 0);
	assert_int_equal(r.r14, 0);
	assert_int_equal(r.r10, GUEST_1G + GUEST_FAULT_OFF);
	c.dir = DIR_PRIVATE;
	guest_init_regs(&r, &c, 0, GUEST_2M);
	assert_int_equal(r.r13, GMT_KVM_MAP_GPA_RANGE_ENCRYPTED);
	assert_int_equal(r.r14, 0);

	/* 64-bit code segment at CPL 0, paging with PAE, EFER.LME|LMA */
	memset(&s, 0, sizeof(s));
	guest_init_sregs(&s, GUEST_1G);
	assert_int_equal(s.cs.l, 1);
	assert_int_equal(s.cs.db, 0);
	assert_int_equal(s.cs.dpl, 0);
	assert_int_equal(s.ss.dpl, 0);
	assert_int_equal(s.cr3, GUEST_1G + GUEST_PML4_OFF);
	assert_true(s.cr0 & (1ULL << 31));
	assert_true(s.cr0 & 1);
	assert_true(s.cr4 & (1ULL << 5));
	assert_int_equal(s.efer & 0x500, 0x500);
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
		cmocka_unit_test(test_guest_args),
		cmocka_unit_test(test_guest_layout),
		cmocka_unit_test(test_guest_code),
		cmocka_unit_test(test_guest_build),
		cmocka_unit_test(test_guest_regs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
