// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: `stat --holders` and `export --holders` against gmem-workload's
 * io_uring pins of a real guest_memfd: while the workload holds its pins,
 * its VM shows as many io_uring holders as it pinned buffers and the bytes
 * it pinned; after the unpin (and the exit) the VM reads 0, in stat's
 * records and in the exported gauges.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define PAGE		4096
#define PIN_PAGES	3

/* the workload's account: pid, VM label "<pid>-<vm fd>", pages pinned */
static void account(json_object *wl, long long *pid, char *label, size_t len, long long *pages)
{
	json_object *vms, *pins;

	assert_true(json_object_object_get_ex(wl, "vms", &vms));
	assert_true(json_object_object_get_ex(wl, "pins", &pins));
	if (live_get_int_or(pins, "register_ret", -1) != 0)
		live_cannot_run("GMEM", "io_uring cannot pin guest_memfd pages here");
	*pid = live_get_int(wl, "pid");
	*pages = live_get_int(pins, "pages");
	snprintf(label, len, "%lld-%lld", *pid,
		 live_get_int(json_object_array_get_idx(vms, 0), "vm_fd"));
}

/* the VM's holders row of one stat record, NULL if none */
static json_object *vm_row(json_object *stat, const char *label)
{
	json_object *rows;
	size_t i;

	if (!json_object_object_get_ex(stat, "holders", &rows))
		fail_msg("stat record without a holders field: %s", json_object_to_json_string(stat));
	if (!json_object_is_type(rows, json_type_array))
		fail_msg("holders is not a list with --holders: %s",
			 json_object_to_json_string(stat));
	for (i = 0; i < json_object_array_length(rows); i++) {
		json_object *r = json_object_array_get_idx(rows, i);

		if (!strcmp(live_get_str(r, "vm"), label))
			return r;
	}
	return NULL;
}

static void test_stat_holders(void **state)
{
	const char *out = live_tmp("hstat.jsonl"), *wlj = live_tmp("hstat-wl.json");
	const char *argv[] = { live_bin("gmemtrace"), "stat", "--holders", "-f", "json", "-o", out,
			       "0.2", "--", live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--touch", "--pin", "3", "--pin-offset",
			       "8192", "--hold", "1", "--json-out", wlj, NULL };
	json_object *recs, *wl, *stats, *r, *kinds;
	long long pid, pages, held = 0, zero_after = 0;
	char label[48];
	size_t i;

	if (!live_require_tracing())
		return;
	assert_int_equal(live_run((char *const *)argv, NULL, live_tmp("hstat.err"), 120), 0);
	wl = live_read_json(wlj);
	recs = live_read_ndjson(out);
	assert_non_null(wl);
	assert_non_null(recs);
	account(wl, &pid, label, sizeof(label), &pages);
	assert_int_equal(pages, PIN_PAGES);
	stats = live_filter(recs, "stat", NULL);
	for (i = 0; i < json_object_array_length(stats); i++) {
		r = vm_row(json_object_array_get_idx(stats, i), label);
		if (!r)
			continue;
		if (live_get_int(r, "holders")) {
			/* every record while held: exactly the workload's pins */
			assert_int_equal(live_get_int(r, "holders"), pages);
			assert_int_equal(live_get_int(r, "pinned_bytes"), pages * PAGE);
			assert_true(json_object_object_get_ex(r, "by_kind", &kinds));
			assert_int_equal(live_get_int(kinds, "io_uring_buffer"), pages);
			assert_int_equal(zero_after, 0);	/* never back up after 0 */
			held++;
		} else {
			assert_int_equal(live_get_int(r, "pinned_bytes"), 0);
			zero_after++;
		}
	}
	print_message("VM %s: %lld records with %lld holders, %lld with 0 after\n", label, held,
		      pages, zero_after);
	assert_true(held >= 2);		/* a 1 s hold, 0.2 s intervals */
	assert_int_equal(zero_after, 1);	/* 0 once, then the VM is no longer listed */
	json_object_put(stats);
	json_object_put(recs);
	json_object_put(wl);
}

static char *slurp(const char *path)
{
	static char buf[1 << 18];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* the value of the sample NAME{vm="label",...[,extra]}, -1 if absent */
static long long sample(const char *expo, const char *name, const char *label, const char *extra)
{
	char head[160];
	const char *p;

	snprintf(head, sizeof(head), "\n%s{vm=\"%s\",", name, label);
	for (p = expo; (p = strstr(p, head)); p++) {
		const char *eol = strchr(p + 1, '\n'), *close = strchr(p, '}');

		if (!close || (eol && close > eol))
			continue;
		if (extra && (!strstr(p, extra) || strstr(p, extra) > close))
			continue;
		return strtoll(close + 2, NULL, 10);
	}
	return -1;
}

static void test_export_holders(void **state)
{
	char dir[] = "/tmp/gmt-hexport-XXXXXX", prom[64], label[48], prefix[48];
	const char *wlj = live_tmp("hexport-wl.json"), *err = live_tmp("hexport.err");
	long long pid = -1, pages = PIN_PAGES, h = -1, b = -1;
	const char *expo;
	json_object *wl;
	pid_t exp;
	int i;

	if (!live_require_tracing() || !live_have_export())
		skip();
	assert_non_null(mkdtemp(dir));
	snprintf(prom, sizeof(prom), "%s/gmemtrace.prom", dir);
	exp = live_spawn((char *const[]){ (char *)live_bin("gmemtrace"), "export", "--holders",
					  "--textfile", dir, "--interval", "0.2", "--",
					  (char *)live_bin("gmem-workload"), "--vm-type", "default",
					  "--conversions", "0", "--touch", "--pin", "3",
					  "--hold", "3", "--json-out", (char *)wlj, NULL },
			  NULL, err);
	assert_true(exp > 0);
	if (!live_wait_for(err, "holding ", LIVE_START_S)) {
		live_dump(err, 20);
		fail_msg("gmem-workload did not reach its hold");
	}
	assert_true(sscanf(strstr(slurp(err), "holding "), "holding %lld", &pid) == 1);
	snprintf(prefix, sizeof(prefix), "vm=\"%lld-", pid);
	for (i = 0; i < 40 && (h != pages || b != pages * PAGE); i++) {
		usleep(100000);
		expo = slurp(prom);
		if (!expo || !strstr(expo, prefix))
			continue;	/* not written yet, or the VM not yet seen */
		/* the VM's label, "<pid>-<vm fd>", as exported */
		snprintf(label, sizeof(label), "%lld-%d", pid,
			 atoi(strstr(expo, prefix) + strlen(prefix)));
		h = sample(expo, "gmemtrace_holders", label, "kind=\"io_uring_buffer\"");
		b = sample(expo, "gmemtrace_pinned_bytes", label, NULL);
	}
	print_message("while held: gmemtrace_holders %lld, gmemtrace_pinned_bytes %lld\n", h, b);
	assert_int_equal(live_wait(exp, 60), 0);
	wl = live_read_json(wlj);
	assert_non_null(wl);
	account(wl, &pid, label, sizeof(label), &pages);
	assert_int_equal(h, pages);
	assert_int_equal(b, pages * PAGE);
	/* after the unpin and the exit: 0, the series kept until --expire */
	expo = slurp(prom);
	assert_non_null(expo);
	assert_int_equal(sample(expo, "gmemtrace_holders", label, "kind=\"io_uring_buffer\""), 0);
	assert_int_equal(sample(expo, "gmemtrace_pinned_bytes", label, NULL), 0);
	/* the exposition stays valid with the holder families in it */
	if (!access("/usr/bin/promtool", X_OK)) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "/usr/bin/promtool check metrics < %s", prom);
		assert_int_equal(live_run((char *const[]){ "/bin/sh", "-c", cmd, NULL }, NULL,
					  live_tmp("hexport-promtool.err"), 60), 0);
	}
	unlink(prom);
	rmdir(dir);
	json_object_put(wl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_stat_holders, live_teardown),
		cmocka_unit_test_teardown(test_export_holders, live_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
