/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The open -> configure -> load -> attach lifecycle of the gmemtrace BPF
 * object, driven by the backend table.
 */
#ifndef GMT_LOADER_H
#define GMT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "gmemtrace.h"
#include "backends.h"
#include "object.h"
#include "select.h"

#define GMT_MAX_PIDS	64

struct gmt_session;

struct gmt_config {
	pid_t pids[GMT_MAX_PIDS];	/* -p; empty: all processes */
	int nr_pids;
	bool filter_pid;		/* also set for -- CMD */
	const char *comm;		/* -c */
	const char *cgroup;		/* --cgroup PATH */
	bool emit_events;		/* false for stat */
	bool emit_context;		/* gmem create / memslot / fallocate events */
	size_t ringbuf_bytes;
	size_t wakeup_bytes;		/* 0: wake the reader for every record */
	enum gmt_kernel_pref kernel_pref;	/* kernel-side backend choice */
	bool guest_requests;		/* follow KVM_RUN exits asking for conversions */
	bool holders;			/* --holders: long-term references on guest_memfd pages */
	bool kernel_pins;		/* --kernel-pins: and every GUP pin of them (with holders) */
	int enforce;			/* 0, or the GMT_WANT_ENFORCE_* hook to load */
	__u8 pol_mode;			/* enum gmt_pol_mode, with enforce */
	bool pol_toctou;		/* enforce: compare the kernel's copy (policy_toctou) */
	/* after load, before attach (enforce fills its rules); non-zero: a
	 * GMT_EXIT_* code, the session is not started */
	int (*before_attach)(struct gmt_session *s, void *ctx);
	void *before_attach_ctx;
	unsigned int follow_max;	/* gmt_pids entries; 0: GMT_MAX_FOLLOWED */
	bool stats;			/* per-VM aggregates while streaming (always
					 * on without events) */
	bool no_stats;			/* none at all: nobody reads them (enforce,
					 * whose pinned programs could not free slots) */
};

struct gmemtrace_bpf;

struct gmt_session {
	struct gmemtrace_bpf *skel;
	int cgroup_fd;
	struct gmt_plan plan;	/* every program and what became of it */
	struct gmt_selection sel;
	struct bpf_link *sweep_link;		/* iterators, run on demand */
	struct bpf_link *greq_flush_link;
	__u32 sweep_gen;
	bool sweep_warned;
	__u64 last_sweep_ns;
	bool holders;		/* the holder programs run: stat and export read their map */
};

/* Returns a GMT_EXIT_* code; on failure a message has been printed. */
int gmt_session_start(struct gmt_session *s, const struct gmt_config *cfg);
void gmt_session_stop(struct gmt_session *s);
int gmt_session_add_pid(struct gmt_session *s, pid_t pid);

/* helper failures per site (enum gmt_site), summed over CPUs */
void gmt_session_helper_errors(struct gmt_session *s, __u64 out[GMT_SITE_MAX]);

/* sum of a per-CPU counter (enum gmt_counter) */
__u64 gmt_session_counter(struct gmt_session *s, unsigned int which);

/* checks shared with `features`: a reason string when not satisfied */
int gmt_check_privilege(char *why, size_t len);
/* the kernel's BTF exists and parses (CO-RE needs it) */
int gmt_check_btf(char *why, size_t len);
int gmt_ensure_tracefs(char *why, size_t len);

#endif /* GMT_LOADER_H */
