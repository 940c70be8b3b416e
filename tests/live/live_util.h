/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers for the live tests: run gmemtrace and gmem-workload as real
 * processes on the running kernel and read what they wrote.
 */
#ifndef GMT_LIVE_UTIL_H
#define GMT_LIVE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <sys/types.h>
#include <json-c/json.h>
#include <cmocka.h>

/* path of a built binary: $GMT_BIN/<name> (default build/<name>) */
const char *live_bin(const char *name);
/* a fresh path in the per-run scratch directory */
const char *live_tmp(const char *name);

/* start argv with stdout/stderr to files (NULL: /dev/null) */
pid_t live_spawn(char *const argv[], const char *out, const char *err);
/* per-test teardown: kill whatever a failed test left running */
int live_teardown(void **state);
/* wait up to timeout_s; kills it (SIGKILL) on timeout and returns -1 */
int live_wait(pid_t pid, double timeout_s);
int live_run(char *const argv[], const char *out, const char *err, double timeout_s);

/* gmemtrace ARGS... (NULL-ended) -f json -o out -- /bin/sh -c script; the run
 * must exit 0 (err is shown if not); its NDJSON records */
json_object *live_gmemtrace_script(const char *cmd, const char *script, const char *out,
				   const char *err, double timeout_s, ...);

/* wait until the file contains the string (tracer attached, "ready" printed) */
bool live_wait_for(const char *path, const char *needle, double timeout_s);
/* The ceiling for a process to start: a tracer probes by loading before it
 * attaches, which takes tens of seconds under TCG on a busy host (a 20 s
 * wait failed in CI); a workload's "ready" or "holding" can queue behind it.
 * The waits end as soon as the line is there, so the ceiling is generous. */
#define LIVE_START_S	180
/* the tracer writing JSON to path has attached (its attach record) */
bool live_wait_attached(const char *path);

json_object *live_read_json(const char *path);
/* NDJSON: array of the records; NULL if the file is missing */
json_object *live_read_ndjson(const char *path);
/* the holder a blocked conversion record (traced: --holders) names over the
 * guest_memfd offset off; fails the test if none does */
json_object *live_blocked_holder_at(json_object *rec, long long off);
/* ... of that kind ("iommu_map"; NULL: any) */
json_object *live_blocked_holder_of(json_object *rec, long long off, const char *kind);
/* run gmemtrace (-o out) over gmem-workload (--json-out wl_json) to the end:
 * exit 0 (else its stderr, err, is shown), the workload's report into *wl,
 * gmemtrace's records returned */
json_object *live_run_workload(char *const *argv, const char *err, const char *out,
			       const char *wl_json, json_object **wl);
/* records of one "type" (and for events, one "event" kind if non-NULL) */
json_object *live_filter(json_object *records, const char *type, const char *event);

/* the field must be present and a number: the test fails otherwise */
/* the event records of one pid whose "event" is event (a new array) */
json_object *live_events_of_pid(json_object *records, const char *event, long long pid);
/* a record's "stack" has a frame whose "sym" starts with prefix */
bool live_stack_has(json_object *rec, const char *prefix);
/* ... and its "kernel_stack" (which must be there: a failure if not) */
bool live_kstack_has(json_object *rec, const char *prefix);
/* the holder records (event holder_start or holder_end) of one pid and kind */
json_object *live_holders_of(json_object *records, const char *event, long long pid,
			     const char *kind);
/* the record of list at this guest_memfd offset: NULL if none, a failure if two */
json_object *live_at_offset(json_object *list, long long gmem_offset);
/* kernel pins (gup_pin records) of the guest_memfd page at off of inode ino:
 * at least one pin, every pin with its unpin (gup-fast may take one and put
 * it back before the slow path's: both show), one page each, by comm, and
 * each pin's kernel stack through the pinner's code (pinned_by); fails
 * naming what (e.g. "io_uring") if not. Returns the number of pins. */
int live_check_page_pins(json_object *starts, json_object *ends, long long off, long long ino,
			 const char *comm, bool (*pinned_by)(json_object *pin), const char *what);
/* why the attach record says FEATURE could not be had (a copy to free), NULL
 * if one of its programs attached */
char *live_feature_unavailable(json_object *records, const char *feature);
long long live_get_int(json_object *o, const char *key);
/* an optional field: `absent` when missing or null */
long long live_get_int_or(json_object *o, const char *key, long long absent);
bool live_has(json_object *o, const char *key);
const char *live_get_str(json_object *o, const char *key);
bool live_is_null(json_object *o, const char *key);

/* true when the VM matrix row promised KEY (GMT_EXPECT_<KEY>=yes) */
bool live_promised(const char *key);
/* The test cannot run here: SKIP with the reason, but FAIL where the VM
 * matrix row promised KEY (a promised capability that cannot be tested is
 * a failure, not a skip). */
#define live_cannot_run(key, ...)					\
	do {								\
		if (live_promised(key))					\
			fail_msg("promised " key "=yes, yet: " __VA_ARGS__); \
		print_message("SKIP: " __VA_ARGS__);			\
		print_message("\n");					\
		skip();							\
	} while (0)

/* a benchmark that runs only when asked: GMT_TESTS names it, or GMT_BENCH=1 */
bool live_bench_wanted(const char *name);
/* skip (with the reason printed) unless root, /dev/kvm and a tracer can attach */
bool live_require_tracing(void);
/* the gmemtrace under test has the export command (the VM suite's static
 * build has no libmicrohttpd): prints SKIP's reason when not */
bool live_have_export(void);
/* a cgroup v2 mount point: an existing one, else one mounted privately */
bool live_cgroup2_root(char *buf, size_t len);
/* print the file (for diagnosing a failure) */
void live_dump(const char *path, int max_lines);

/* stat records: each VM's (vm_id, gen, dir) row as last reported. A VM's
 * row stops appearing once the VM is gone (its last one says vm_gone), so
 * the last record alone does not hold every VM. A new array. */
json_object *live_stat_last_rows(json_object *stats);

/* "gen|cmd|vm_fd|fd|tid|dir|start|size|ret" for a workload call or a tracer
 * convert event, so the two can be compared as multisets */
void live_call_key(json_object *call, json_object *vms, char *buf, size_t len);
void live_event_key(json_object *ev, char *buf, size_t len);
/* how many keys of a differ from b (both arrays of strings): 0 = same multiset */
int live_multiset_diff(char **a, int na, char **b, int nb, bool print);

#endif /* GMT_LIVE_UTIL_H */
