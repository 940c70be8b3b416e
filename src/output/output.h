/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The output layer: formats of view records (src/model/view.h). Commands
 * never printf records themselves; they hand the output an event, a
 * snapshot or a record of their own, the view layer works out what it says
 * (once, for every format), and the format writes it.
 *
 * Adding a format is one file in src/output/ (the Makefile builds every .c
 * there) that implements struct gmt_out_ops on view records and registers
 * itself by name:
 *
 *	static void prom_stat(struct gmt_out *o, const struct gmt_stat_view *v)
 *	{
 *		...fprintf(o->f, ...) per row...
 *	}
 *	static const struct gmt_out_ops prom_ops = { .stat = prom_stat, ... };
 *	GMT_OUT_FORMAT(prom, "prometheus", GMT_FMT_ANY, &prom_ops);
 *
 * after which `-f prometheus` selects it in every command. An op left NULL
 * writes nothing for that record kind. Formats write to o->f (or stderr for
 * what is no record, as text does); the hot path (event) should build its
 * line in a struct gmt_line (escape.h) and write it with one fwrite.
 * Untrusted strings (comm, paths, reasons) go through escape.h.
 */
#ifndef GMT_OUTPUT_H
#define GMT_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

#include "gmemtrace.h"
#include "view.h"

/* the two built-in formats keep their ids; others get theirs when registered */
enum gmt_format {
	GMT_FMT_TEXT = 0,
	GMT_FMT_JSON,
	GMT_FMT_ANY,		/* GMT_OUT_FORMAT: the next free id */
	GMT_FMT_MAX = 8,
};

struct gmt_session;
struct gmt_stat_snapshot;
struct gmt_model;
struct gmt_out;

/* one method per record kind; each gets the view record, never raw data */
struct gmt_out_ops {
	/* trace */
	void (*event)(struct gmt_out *o, const struct gmt_event_view *v);
	void (*lost)(struct gmt_out *o, __u64 new_lost, __u64 total);
	void (*attach)(struct gmt_out *o, const struct gmt_attach_view *v);
	void (*summary)(struct gmt_out *o, const struct gmt_end_view *v);
	/* stat */
	void (*stat)(struct gmt_out *o, const struct gmt_stat_view *v);
	void (*stat_summary)(struct gmt_out *o, const struct gmt_end_view *v);
	/* export: the whole exposition */
	void (*metrics)(struct gmt_out *o, const struct gmt_metrics_view *v);
	/* any command */
	void (*error)(struct gmt_out *o, const char *what, const char *msg);
	/* a fatal error: JSON writes an error record with the exit code; text
	 * writes nothing (the message is on stderr already) */
	void (*fatal)(struct gmt_out *o, const char *what, const char *msg, int exit_code);
	/* refs: per guest_memfd a gmem, its folios, a summary; then a total */
	void (*refs_gmem)(struct gmt_out *o, const struct gmt_refs_gmem_view *v);
	void (*refs_folio)(struct gmt_out *o, const struct gmt_refs_folio_view *v);
	void (*refs_summary)(struct gmt_out *o, const struct gmt_refs_summary_view *v);
	void (*refs_total)(struct gmt_out *o, const struct gmt_refs_total_view *v);
	/* features: the whole table */
	void (*features)(struct gmt_out *o, const struct gmt_features_view *v);
	/* enforce --unpin: what was removed */
	void (*unpin)(struct gmt_out *o, const struct gmt_unpin_view *v);
};

struct gmt_out_format {
	const char *name;		/* what -f takes */
	enum gmt_format id;		/* GMT_FMT_ANY: assigned at registration */
	const struct gmt_out_ops *ops;
};

void gmt_out_register(struct gmt_out_format *f);

/* define and register a format (before main, from a constructor) */
#define GMT_OUT_FORMAT(ident, fname, fid, fops)					\
	static struct gmt_out_format ident##_format = { fname, fid, fops };	\
	static void __attribute__((constructor)) ident##_format_register(void)	\
	{									\
		gmt_out_register(&ident##_format);				\
	}

struct gmt_out {
	const struct gmt_out_ops *ops;
	enum gmt_format fmt;
	FILE *f;
	bool own_file;
	char *vbuf;		/* stdio buffer of an own file */
	bool iso_time;		/* text: RFC 3339 timestamps */
	__u64 real_off;		/* CLOCK_MONOTONIC -> CLOCK_REALTIME */
	unsigned long long lines;
	/* what events are read against: the session's (gmt_out_bind_model)
	 * or, until one is bound, one of the output's own */
	struct gmt_model *model;
	bool own_model;
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

/* Learn from the event (the model), build its view, write it. */
void gmt_out_event(struct gmt_out *o, const struct gmt_event *e);
void gmt_out_attach(struct gmt_out *o, const struct gmt_session *s);
void gmt_out_summary(struct gmt_out *o, const struct gmt_trace_summary *sum);
void gmt_out_stat(struct gmt_out *o, const struct gmt_stat_snapshot *s, bool hist);
void gmt_out_stat_summary(struct gmt_out *o, const struct gmt_stat_summary *sum);
/* a session's model instead of the output's own (which is dropped) */
void gmt_out_bind_model(struct gmt_out *o, struct gmt_model *m);

#define GMT_OUT_CALL(o, op, ...)						\
	do {									\
		if ((o)->ops->op)						\
			(o)->ops->op((o), __VA_ARGS__);				\
	} while (0)

static inline void gmt_out_lost(struct gmt_out *o, __u64 n, __u64 total)
{
	GMT_OUT_CALL(o, lost, n, total);
}

static inline void gmt_out_error(struct gmt_out *o, const char *what, const char *msg)
{
	GMT_OUT_CALL(o, error, what, msg);
}

static inline void gmt_out_fatal(struct gmt_out *o, const char *what, const char *msg,
				 int exit_code)
{
	GMT_OUT_CALL(o, fatal, what, msg, exit_code);
}

/* records that commands build as views themselves */
static inline void gmt_out_refs_gmem(struct gmt_out *o, const struct gmt_refs_gmem_view *v)
{
	GMT_OUT_CALL(o, refs_gmem, v);
}

static inline void gmt_out_refs_folio(struct gmt_out *o, const struct gmt_refs_folio_view *v)
{
	GMT_OUT_CALL(o, refs_folio, v);
}

static inline void gmt_out_refs_summary(struct gmt_out *o,
					const struct gmt_refs_summary_view *v)
{
	GMT_OUT_CALL(o, refs_summary, v);
}

static inline void gmt_out_refs_total(struct gmt_out *o, const struct gmt_refs_total_view *v)
{
	GMT_OUT_CALL(o, refs_total, v);
}

static inline void gmt_out_features(struct gmt_out *o, const struct gmt_features_view *v)
{
	GMT_OUT_CALL(o, features, v);
}

static inline void gmt_out_unpin(struct gmt_out *o, const struct gmt_unpin_view *v)
{
	GMT_OUT_CALL(o, unpin, v);
}

static inline void gmt_out_metrics(struct gmt_out *o, const struct gmt_metrics_view *v)
{
	GMT_OUT_CALL(o, metrics, v);
}

/* the Prometheus text exposition (prom.c): not a -f format, as it has only
 * the metrics record; export writes it through a gmt_out of its own */
extern const struct gmt_out_ops gmt_prom_ops;

static inline void gmt_out_flush(struct gmt_out *o)
{
	fflush(o->f);
}

#endif /* GMT_OUTPUT_H */
