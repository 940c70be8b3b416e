/* SPDX-License-Identifier: GPL-2.0-only */
/* Live tests of gmemtrace refs: a holding gmem-workload and refs' records. */
#ifndef LIVE_REFS_UTIL_H
#define LIVE_REFS_UTIL_H

#include <stdbool.h>
#include <sys/types.h>
#include <json-c/json.h>

struct wl {
	pid_t pid;
	const char *err, *json;
};

/* can this kernel give us an mmap'able guest_memfd whose pages io_uring can pin? */
bool gmem_usable(void);
/* start a holding workload: 2M guest_memfd, every page touched, plus extra args */
void wl_start(struct wl *w, const char *tag, const char *const *extra);
void wl_stop(struct wl *w);
/* run gmemtrace refs ARGS -f json; returns the exit status, records in *recs */
int refs(json_object **recs, const char *errf, const char *const *args);
/* records of one kind ("gmem", "folio", "summary", "total"), optionally of one pid */
json_object *kind(json_object *recs, const char *record, pid_t pid);
bool get_bool(json_object *o, const char *key);
size_t len(json_object *a);
json_object *at(json_object *a, size_t i);

#endif /* LIVE_REFS_UTIL_H */
