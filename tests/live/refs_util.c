// SPDX-License-Identifier: GPL-2.0-only
/* Live tests of gmemtrace refs: helpers shared by live_refs and live_refs_holders. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "live_util.h"
#include "refs_util.h"


/* can this kernel give us an mmap'able guest_memfd whose pages io_uring can pin? */
bool gmem_usable(void)
{
	static int cached = -1;
	static char why[200];
	const char *out = live_tmp("refs-probe.json");
	const char *argv[] = { live_bin("gmem-workload"), "--vm-type", "default",
			       "--conversions", "0", "--touch", "--pin", "1", "--json", NULL };
	json_object *wl, *vms, *vm, *touch, *pins;
	int rc;

	if (cached >= 0)
		goto out;
	cached = 0;
	rc = live_run((char *const *)argv, out, NULL, 60);
	wl = live_read_json(out);
	if (rc == 3 || !wl) {
		snprintf(why, sizeof(why), "gmem-workload cannot use KVM here (exit %d)", rc);
		goto out;
	}
	if (!json_object_object_get_ex(wl, "vms", &vms) || !(vm = json_object_array_get_idx(vms, 0)) ||
	    live_is_null(vm, "gmem_fd")) {
		snprintf(why, sizeof(why), "no guest_memfd on this kernel");
		goto out;
	}
	if (!json_object_object_get_ex(vm, "touch", &touch) || !touch ||
	    live_get_int(touch, "mmap_ret") != 0 || !live_is_null(touch, "sigbus_offset")) {
		snprintf(why, sizeof(why), "guest_memfd cannot be mmap'ed and touched here");
		goto out;
	}
	if (!json_object_object_get_ex(wl, "pins", &pins) || !pins ||
	    live_get_int(pins, "register_ret") != 0) {
		snprintf(why, sizeof(why), "io_uring cannot pin guest_memfd pages here");
		goto out;
	}
	cached = 1;
out:
	if (!cached)
		live_cannot_run("GMEM", "%s", why);
	return cached;
}

/* start a holding workload: 2M guest_memfd, every page touched, plus extra args */
void wl_start(struct wl *w, const char *tag, const char *const *extra)
{
	char errn[64], jsonn[64];
	const char *argv[24] = { live_bin("gmem-workload"), "--vm-type", "default",
				 "--conversions", "0", "--touch", "--hold-until-signal" };
	int n = 7;
	char needle[32];

	snprintf(errn, sizeof(errn), "refs-%s.err", tag);
	snprintf(jsonn, sizeof(jsonn), "refs-%s.json", tag);
	w->err = live_tmp(errn);
	w->json = live_tmp(jsonn);
	argv[n++] = "--json-out";
	argv[n++] = w->json;
	while (extra && *extra && n < 22)
		argv[n++] = *extra++;
	argv[n] = NULL;
	w->pid = live_spawn((char *const *)argv, NULL, w->err);
	assert_true(w->pid > 0);
	snprintf(needle, sizeof(needle), "holding %d", w->pid);
	if (!live_wait_for(w->err, needle, LIVE_START_S)) {
		live_dump(w->err, 20);
		fail_msg("gmem-workload did not reach its hold");
	}
}

void wl_stop(struct wl *w)
{
	kill(w->pid, SIGUSR1);
	assert_int_equal(live_wait(w->pid, 30), 0);
}

/* run gmemtrace refs ARGS -f json; returns the exit status, records in *recs */
int refs(json_object **recs, const char *errf, const char *const *args)
{
	const char *out = live_tmp("refs.jsonl");
	const char *argv[32] = { live_bin("gmemtrace"), "refs", "-f", "json", "-o", out };
	int n = 6, rc;

	while (args && *args && n < 31)
		argv[n++] = *args++;
	argv[n] = NULL;
	rc = live_run((char *const *)argv, NULL, errf, 120);
	*recs = live_read_ndjson(out);
	if (!*recs)
		*recs = json_object_new_array();
	return rc;
}

/* records of one kind ("gmem", "folio", "summary", "total"), optionally of one pid */
json_object *kind(json_object *recs, const char *record, pid_t pid)
{
	json_object *out = json_object_new_array();
	size_t i;

	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *t = live_get_str(r, "type"), *k = live_get_str(r, "record");

		if (!t || strcmp(t, "refs") || !k || strcmp(k, record))
			continue;
		if (pid > 0 && live_get_int(r, "pid") != pid)
			continue;
		json_object_array_add(out, json_object_get(r));
	}
	return out;
}

bool get_bool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v && json_object_get_boolean(v);
}

size_t len(json_object *a)
{
	return json_object_array_length(a);
}

json_object *at(json_object *a, size_t i)
{
	return json_object_array_get_idx(a, i);
}
