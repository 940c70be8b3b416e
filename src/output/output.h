/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The output layer: one interface, a text and a JSON (NDJSON, one object per
 * line with a "type" field) implementation. Commands never printf records
 * themselves, so new record kinds (blocked folios, policy verdicts, metrics)
 * are a new method here, not a rewrite of every command.
 */
#ifndef GMT_OUTPUT_H
#define GMT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "gmemtrace.h"
#include "memslots.h"

enum gmt_format {
	GMT_FMT_TEXT = 0,
	GMT_FMT_JSON,
};

struct gmt_session;
struct gmt_stat_snapshot;
struct gmt_out;

/* end-of-run totals for `trace` */
struct gmt_trace_summary {
	__u64 events[GMT_EV_TYPE_MAX];
	__u64 lost;			/* ring buffer drops */
	__u64 counters[GMT_CNT_MAX];
	double duration_s;
	int cmd_status;			/* -- CMD exit status, -1 = none */
	bool cmd_ran;
	bool cmd_stopped;		/* gmemtrace ended it: no status of its own */
	bool cmd_left_running;		/* --keep-running: still running at the end */
};

/* end-of-run record of `stat` */
struct gmt_stat_summary {
	unsigned long long intervals;	/* stat records written */
	double duration_s;
	int cmd_status;
	bool cmd_ran;
	bool cmd_stopped;
	bool cmd_left_running;
};

struct gmt_out_ops {
	void (*event)(struct gmt_out *o, const struct gmt_event *e);
	void (*lost)(struct gmt_out *o, __u64 new_lost, __u64 total);
	void (*attach)(struct gmt_out *o, const struct gmt_session *s);
	void (*summary)(struct gmt_out *o, const struct gmt_trace_summary *sum);
	void (*stat)(struct gmt_out *o, const struct gmt_stat_snapshot *snap, bool hist);
	void (*error)(struct gmt_out *o, const char *what, const char *msg);
	/* a fatal error: JSON writes an error record with the exit code; text
	 * writes nothing (the message is on stderr already) */
	void (*fatal)(struct gmt_out *o, const char *what, const char *msg, int exit_code);
	void (*stat_summary)(struct gmt_out *o, const struct gmt_stat_summary *sum);
};

struct gmt_out {
	const struct gmt_out_ops *ops;
	enum gmt_format fmt;
	FILE *f;
	bool own_file;
	char *vbuf;		/* stdio buffer of an own file */
	bool iso_time;		/* text: RFC 3339 timestamps */
	__u64 real_off;		/* CLOCK_MONOTONIC -> CLOCK_REALTIME */
	unsigned long long lines;
	struct gmt_memslots slots;
	int werr;		/* errno of the first failed write, 0 if none */
};

/* Opens FILE (NULL or "-": standard output) without following a symbolic
 * link, created 0640 at most whatever the umask, and refuses a FIFO with no
 * reader instead of blocking. Returns 0 or -errno, with a message printed. */
int gmt_out_open(struct gmt_out *o, enum gmt_format fmt, const char *path);
/* flush; 0 or -errno of the first write error (kept in o->werr) */
int gmt_out_check(struct gmt_out *o);
/* flush and close; 0 or -errno of the first write error */
int gmt_out_close(struct gmt_out *o);
int gmt_parse_format(const char *s, enum gmt_format *fmt);

static inline void gmt_out_event(struct gmt_out *o, const struct gmt_event *e)
{
	if (e->hdr.type == GMT_EV_MEMSLOT)
		gmt_memslots_update(&o->slots, e);
	else if (e->hdr.type == GMT_EV_VM_GONE)
		gmt_memslots_drop_vm(&o->slots, e->hdr.vm_key);
	o->ops->event(o, e);
}

static inline void gmt_out_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	o->ops->lost(o, n, total);
}

static inline void gmt_out_attach(struct gmt_out *o, const struct gmt_session *s)
{
	o->ops->attach(o, s);
}

static inline void gmt_out_summary(struct gmt_out *o, const struct gmt_trace_summary *sum)
{
	o->ops->summary(o, sum);
}

static inline void gmt_out_stat(struct gmt_out *o, const struct gmt_stat_snapshot *s, bool hist)
{
	o->ops->stat(o, s, hist);
}

static inline void gmt_out_error(struct gmt_out *o, const char *what, const char *msg)
{
	o->ops->error(o, what, msg);
}

static inline void gmt_out_fatal(struct gmt_out *o, const char *what, const char *msg,
				 int exit_code)
{
	o->ops->fatal(o, what, msg, exit_code);
}

static inline void gmt_out_stat_summary(struct gmt_out *o, const struct gmt_stat_summary *sum)
{
	o->ops->stat_summary(o, sum);
}

static inline void gmt_out_flush(struct gmt_out *o)
{
	fflush(o->f);
}

/* shared by both formats */
void gmt_vm_label(char *buf, size_t len, __s32 pid, __s32 fd);
const char *gmt_counter_name(unsigned int c);
struct gmt_refs_verdict;
/* a blocking folio split into pins, other references and the LRU batch,
 * the same way `gmemtrace refs` splits it */
void gmt_folio_decompose(const struct gmt_folio_snap *f, struct gmt_refs_verdict *v);
const char *gmt_vm_end_name(unsigned int how);
const char *gmt_greq_end_name(unsigned int end);

extern const struct gmt_out_ops gmt_out_text_ops;
extern const struct gmt_out_ops gmt_out_json_ops;

#endif /* GMT_OUTPUT_H */
