// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy files (src/policy): every selector compiled into the ABI, every
 * refusal with its line and column, the limits (rules, ranges, rates).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "gmemtrace.h"
#include "policy.h"

static struct gmt_policy pol;
static struct gmt_policy_error perr_;

#define HDR "version: 1\ndefault: allow\nrules:\n"

static int parse(const char *y)
{
	return gmt_policy_parse(y, strlen(y), &pol, &perr_);
}

/* the policy is refused at line:col with a message containing what */
static void refused(const char *y, unsigned int line, unsigned int col, const char *what)
{
	assert_int_equal(parse(y), -1);
	if (!strstr(perr_.msg, what) || perr_.line != line || perr_.col != col)
		fail_msg("%u:%u: '%s', wanted %u:%u: '%s'", perr_.line, perr_.col, perr_.msg,
			 line, col, what);
	assert_int_equal(pol.abi.hdr.nr_rules, 0);
}

/* a cgroup v2 directory of this host (hybrid hosts mount it below
 * /sys/fs/cgroup); NULL if there is none */
static const char *cgroup2_dir(void)
{
	static char dir[256];
	char line[512], dev[64], mnt[256], type[32];
	FILE *f = fopen("/proc/self/mounts", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %255s %31s", dev, mnt, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(dir, sizeof(dir), "%s", mnt);
			fclose(f);
			return dir;
		}
	}
	if (f)
		fclose(f);
	return NULL;
}

static const struct gmt_policy_rule *one(const char *match)
{
	char y[1024];

	snprintf(y, sizeof(y), HDR "  - id: 7\n    action: audit\n    match:\n%s", match);
	if (parse(y))
		fail_msg("%u:%u: %s", perr_.line, perr_.col, perr_.msg);
	assert_int_equal(pol.abi.hdr.nr_rules, 1);
	return &pol.abi.rules[0];
}

static void test_minimal_and_defaults(void **state)
{
	assert_int_equal(parse("version: 1\ndefault: deny\n"), 0);
	assert_int_equal(pol.abi.hdr.version, GMT_POLICY_VERSION);
	assert_int_equal(pol.abi.hdr.default_action, GMT_PA_DENY);
	assert_int_equal(pol.abi.hdr.default_err, EPERM);
	assert_int_equal(parse("version: 1\ndefault: deny\ndefault_errno: EACCES\n"), 0);
	assert_int_equal(pol.abi.hdr.default_err, EACCES);
	assert_int_equal(parse(HDR "  - id: 3\n    action: deny\n"), 0);
	assert_int_equal(pol.abi.rules[0].err, EPERM);
	assert_int_equal(pol.abi.rules[0].match, 0);
	assert_int_equal(parse(HDR "  - {id: 3, action: deny, errno: 16}\n"), 0);
	assert_int_equal(pol.abi.rules[0].err, EBUSY);
	/* a racing argument: reported unless the policy says kill */
	assert_int_equal(parse("version: 1\ndefault: allow\n"), 0);
	assert_int_equal(pol.abi.hdr.toctou, GMT_PTOCTOU_REPORT);
	assert_int_equal(parse("version: 1\ndefault: allow\ntoctou: kill\n"), 0);
	assert_int_equal(pol.abi.hdr.toctou, GMT_PTOCTOU_KILL);
	/* what the hook must read: only what some rule selects on */
	assert_int_equal(parse(HDR "  - {id: 3, action: deny, match: {uapi: g1}}\n"
			       "  - {id: 4, action: deny, match: {comm: qemu}}\n"), 0);
	assert_int_equal(pol.abi.hdr.match_any, GMT_PM_GEN | GMT_PM_COMM);
}

static void test_order_kept(void **state)
{
	assert_int_equal(parse(HDR "  - {id: 9, action: deny}\n  - {id: 2, action: allow}\n"
			       "  - {id: 5, action: audit}\n"), 0);
	assert_int_equal(pol.abi.hdr.nr_rules, 3);
	assert_int_equal(pol.abi.rules[0].id, 9);
	assert_int_equal(pol.abi.rules[1].id, 2);
	assert_int_equal(pol.abi.rules[2].action, GMT_PA_AUDIT);
	assert_int_equal(pol.src[1].line, 5);
}

static void test_process_selectors(void **state)
{
	const struct gmt_policy_rule *r;
	struct stat st;
	char m[320];

	r = one("      comm: qemu-system-x86\n      pid: 42\n      uid: 1000\n");
	assert_int_equal(r->match, GMT_PM_COMM | GMT_PM_PID | GMT_PM_UID);
	assert_string_equal(r->comm, "qemu-system-x86");
	assert_int_equal(r->pid, 42);
	assert_int_equal(r->uid, 1000);
	r = one("      exe: /bin/sh\n");
	assert_int_equal(stat("/bin/sh", &st), 0);
	assert_int_equal(r->match, GMT_PM_EXE);
	assert_int_equal(r->exe_ino, st.st_ino);
	assert_string_equal(pol.src[0].exe, "/bin/sh");
	if (!cgroup2_dir())
		skip();
	snprintf(m, sizeof(m), "      cgroup: %s\n", cgroup2_dir());
	r = one(m);
	assert_int_equal(r->match, GMT_PM_CGROUP);
	assert_int_equal(r->cgroup_level, 0);
	assert_int_not_equal(r->cgroup, 0);
}

static void test_vm_selectors(void **state)
{
	const struct gmt_policy_rule *r;
	char m[320];

	r = one("      vm: {creator_pid: 77, caller_is_creator: false}\n");
	assert_int_equal(r->match, GMT_PM_VM_PID | GMT_PM_VM_OWNER);
	assert_int_equal(r->vm_pid, 77);
	assert_int_equal(r->vm_owner, 0);
	refused(HDR "  - id: 1\n    action: deny\n    match: {vm: {}}\n", 6, 17, "vm: give");
	if (!cgroup2_dir())
		skip();
	snprintf(m, sizeof(m), "      vm: {creator_cgroup: %s, caller_is_creator: true}\n",
		 cgroup2_dir());
	r = one(m);
	assert_int_equal(r->match, GMT_PM_VM_CGROUP | GMT_PM_VM_OWNER);
	assert_int_equal(r->vm_owner, 1);
}

static void test_conversion_selectors(void **state)
{
	const struct gmt_policy_rule *r;

	r = one("      uapi: [g1, g3]\n      direction: to_private\n");
	assert_int_equal(r->gens, (1 << GMT_GEN_G1) | (1 << GMT_GEN_G3));
	assert_int_equal(r->dirs, 1 << GMT_DIR_TO_PRIVATE);
	r = one("      uapi: g2\n      direction: [to_shared, to_private]\n");
	assert_int_equal(r->gens, 1 << GMT_GEN_G2);
	assert_int_equal(r->dirs, 3);
	r = one("      range: {space: gpa, start: 0x1000, size: 8K, match: inside}\n");
	assert_int_equal(r->range_space, GMT_PR_GPA);
	assert_int_equal(r->range_start, 0x1000);
	assert_int_equal(r->range_end, 0x3000);
	assert_int_equal(r->range_inside, 1);
	r = one("      range: {space: offset, start: 0, end: 2M}\n");
	assert_int_equal(r->range_space, GMT_PR_GMEM);
	assert_int_equal(r->range_end, 2 << 20);
	assert_int_equal(r->range_inside, 0);
	r = one("      size: {max: 4K}\n");
	assert_int_equal(r->size_min, 0);
	assert_int_equal(r->size_max, 4096);
	r = one("      size: {min: 1G}\n");
	assert_true(r->size_max == ~0ULL);
	r = one("      rate: {bytes_per_second: 1M, burst: 4M}\n");
	assert_int_equal(r->rate_kind, GMT_PRATE_BYTES);
	assert_int_equal(r->rate, 1 << 20);
	assert_int_equal(r->burst, 4 << 20);
	r = one("      rate: {conversions_per_second: 100}\n");
	assert_int_equal(r->rate_kind, GMT_PRATE_CONVERSIONS);
	assert_int_equal(r->burst, 100);
}

static void test_errors_name_line_column(void **state)
{
	refused("version: 1\ndefault: allow\nbogus: 1\n", 3, 1, "unknown key 'bogus'");
	refused("version: 2\ndefault: allow\n", 1, 10, "out of range");
	refused("default: allow\n", 1, 1, "needs 'version: 1'");
	refused("version: 1\n", 1, 1, "default action");
	refused("version: 1\ndefault: maybe\n", 2, 10, "not one of: allow, deny, audit");
	refused("version: 1\ndefault: allow\ntoctou: maybe\n", 3, 9, "not one of: report, kill");
	refused("version: 1\ndefault: allow\ndefault: deny\n", 3, 1, "duplicate key 'default'");
	refused("version: 1\ndefault: [allow\n", 3, 1, "YAML:");
	refused("version: 1\ndefault: allow\n---\nversion: 1\n", 3, 1, "one YAML document");
	refused("", 0, 0, "empty policy");
	refused("- 1\n", 1, 1, "must be a mapping");
	refused(HDR "  - action: deny\n", 4, 5, "needs an id");
	refused(HDR "  - id: 1\n", 4, 5, "needs an action");
	refused(HDR "  - {id: 1, action: allow, errno: EPERM}\n", 4, 5, "only for action deny");
	refused(HDR "  - {id: 1, action: deny}\n  - {id: 1, action: deny}\n", 5, 10,
		"already the id of the rule at line 4");
	refused(HDR "  - {id: 0, action: deny}\n", 4, 10, "out of range");
	refused(HDR "  - {id: 1, action: deny, errno: ENOPE}\n", 4, 34, "not a known name");
	refused(HDR "  - {id: 1, action: deny, errno: 4096}\n", 4, 34, "out of range");
	refused(HDR "  - {id: 1, action: deny, match: {pid: -1}}\n", 4, 40, "not a number");
	refused(HDR "  - {id: 1, action: deny, match: {uid: 4294967295}}\n", 4, 40, "out of range");
	refused(HDR "  - {id: 1, action: deny, match: {comm: 0123456789abcdef}}\n", 4, 41,
		"too long");
	refused(HDR "  - {id: 1, action: deny, match: {comm: \"a\\x1bb\"}}\n", 4, 41, "control");
	refused(HDR "  - {id: 1, action: deny, match: {uapi: g4}}\n", 4, 41, "not one of: g1");
	refused(HDR "  - {id: 1, action: deny, match: {uapi: []}}\n", 4, 41, "empty list");
	refused(HDR "  - {id: 1, action: deny, match: {uapi: [g1, g1]}}\n", 4, 46, "given twice");
	refused(HDR "  - {id: 1, action: deny, match: {direction: {a: b}}}\n", 4, 46, "a list");
	refused(HDR "  - {id: 1, action: deny, match: {exe: bin/sh}}\n", 4, 40, "absolute");
	refused(HDR "  - {id: 1, action: deny, match: {exe: /nonexistent/x}}\n", 4, 40,
		"cannot be compiled");
	refused(HDR "  - {id: 1, action: deny, match: {cgroup: /tmp}}\n", 4, 43, "not a cgroup v2");
}

static void test_range_size_rate_refusals(void **state)
{
	refused(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, start: 0}}}\n", 4, 42,
		"exactly one of end");
	refused(HDR "  - {id: 1, action: deny, match: {range: {start: 0, size: 1}}}\n", 4, 42,
		"needs space");
	refused(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, start: 8, end: 8}}}\n",
		4, 70, "out of range");
	/* addr + size must not wrap: end is exclusive, so at most 2^64 - 1 */
	refused(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, "
		"start: 0xfffffffffffff000, size: 0x1001}}}\n", 4, 88, "out of range");
	assert_int_equal(parse(HDR "  - {id: 1, action: deny, match: {range: {space: gpa, "
			       "start: 0xfffffffffffff000, size: 0xfff}}}\n"), 0);
	assert_true(pol.abi.rules[0].range_end == ~0ULL);
	refused(HDR "  - {id: 1, action: deny, match: {uapi: g3, range: {space: gpa, start: 0, "
		"size: 1}}}\n", 4, 34, "can never match");
	refused(HDR "  - {id: 1, action: deny, match: {size: {min: 8, max: 4}}}\n", 4, 55,
		"out of range");
	refused(HDR "  - {id: 1, action: deny, match: {size: {}}}\n", 4, 41, "needs min");
	refused(HDR "  - {id: 1, action: deny, match: {rate: {burst: 5}}}\n", 4, 41, "exactly one");
	refused(HDR "  - {id: 1, action: deny, match: {rate: {conversions_per_second: 0}}}\n",
		4, 66, "out of range");
	refused(HDR "  - {id: 1, action: deny, match: {rate: {bytes_per_second: 16G}}}\n",
		4, 60, "out of range");
}

static void test_rule_limit(void **state)
{
	char *y = malloc(8192);
	size_t off;
	int i;

	off = (size_t)snprintf(y, 8192, HDR);
	for (i = 1; i <= GMT_POLICY_MAX_RULES; i++)
		off += (size_t)snprintf(y + off, 8192 - off, "  - {id: %d, action: deny}\n", i);
	assert_int_equal(parse(y), 0);
	assert_int_equal(pol.abi.hdr.nr_rules, GMT_POLICY_MAX_RULES);
	snprintf(y + off, 8192 - off, "  - {id: 999, action: deny}\n");
	refused(y, 3 + GMT_POLICY_MAX_RULES + 1, 5, "too many rules: at most 64");
	free(y);
}

static void test_examples_compile(void **state)
{
	static const char *const files[] = {
		"docs/policies/own-vmm-only.yaml", "docs/policies/shared-ring.yaml",
		"docs/policies/limits.yaml", "docs/policies/audit-firmware.yaml",
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (gmt_policy_load(files[i], &pol, &perr_))
			fail_msg("%s:%u:%u: %s", files[i], perr_.line, perr_.col, perr_.msg);
	assert_int_equal(gmt_policy_load("/nonexistent.yaml", &pol, &perr_), -1);
	assert_int_equal(gmt_policy_load("/tmp", &pol, &perr_), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_order_kept),
		cmocka_unit_test(test_process_selectors),
		cmocka_unit_test(test_vm_selectors),
		cmocka_unit_test(test_conversion_selectors),
		cmocka_unit_test(test_errors_name_line_column),
		cmocka_unit_test(test_range_size_rate_refusals),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_examples_compile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
