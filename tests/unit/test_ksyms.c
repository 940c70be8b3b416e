// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel symbols for gup_pin kernel stacks (src/model/ksyms.c): an address
 * inside a function reads back as that function plus the offset, with its
 * module where it has one. Checked against this machine's /proc/kallsyms;
 * skipped where its addresses are hidden (not root, kptr_restrict).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ksyms.h"

/* the address of the text symbol `want` of the kernel image, 0 if none */
static unsigned long long kallsyms_addr(const char *want, char *name, size_t len)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], n[256], mod[128];
	unsigned long long a = 0, addr;
	char type;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, n, mod) < 3 || !addr)
			continue;
		if (type != 'T' && type != 't')
			continue;
		if (strcmp(n, want) || mod[0])
			continue;
		a = addr;
		snprintf(name, len, "%s", n);
		break;
	}
	fclose(f);
	return a;
}

static void test_ksym_offset(void **state)
{
	struct gmt_ksyms *k = gmt_ksyms_load();
	char name[256], got[256], want[300];
	unsigned long long a;

	(void)state;
	a = kallsyms_addr("schedule", name, sizeof(name));
	if (!k || !a) {
		gmt_ksyms_free(k);
		skip();	/* addresses hidden here */
	}
	assert_true(gmt_ksym(k, a + 5, got, sizeof(got)));
	snprintf(want, sizeof(want), "%s+0x5", name);
	assert_string_equal(got, want);
	assert_false(gmt_ksym(k, 1, got, sizeof(got)));	/* below every symbol */
	assert_string_equal(got, "");
	gmt_ksyms_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksym_offset),
	};

	return cmocka_run_group_tests_name("test_ksyms", tests, NULL, NULL);
}
