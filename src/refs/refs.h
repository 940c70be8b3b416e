/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `gmemtrace refs`: the folios of each guest_memfd whose references would
 * make a conversion to private fail right now, and why. The engine (BPF
 * iterator passes) and its records, as views for the output layer
 * (output.h); cmd/refs.c is the CLI.
 */
#ifndef GMT_REFS_CMD_H
#define GMT_REFS_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

#include "gmt_refs.h"
#include "loader.h"
#include "output.h"


#define GMT_REFS_MAX_GMEM_FILTERS	16
#define GMT_REFS_DEFAULT_MAX_FOLIOS	(1ULL << 24)	/* 64 GiB of 4 KiB pages */

enum gmt_refs_match {
	GMT_REFS_MATCH_ANY = 0,	/* fd or inode */
	GMT_REFS_MATCH_FD,	/* "fd:N" */
	GMT_REFS_MATCH_INO,	/* "ino:N" */
};

struct gmt_refs_gmem_filter {
	enum gmt_refs_match kind;
	unsigned long long v;
};

struct gmt_refs_opts {
	pid_t pids[GMT_MAX_PIDS];	/* -p; none: every process holding a guest_memfd */
	int nr_pids;
	struct gmt_refs_gmem_filter gmem[GMT_REFS_MAX_GMEM_FILTERS];
	int nr_gmem;
	bool has_range;
	unsigned long long range_off, range_len;	/* bytes */
	bool all;		/* every folio, not only blocking ones */
	bool holders;		/* attribute each blocking folio's extra references */
	bool exit_code;		/* exit GMT_EXIT_BLOCKING when something would block */
	unsigned long long max_folios;	/* per guest_memfd; 0: no limit */
	unsigned int max_records;	/* per invocation (tests); 0: default */
	enum gmt_format fmt;
	const char *out_path;
	struct gmt_out *out;	/* opened by the caller (gmt_out_open); checked there */
};

/* Returns a GMT_EXIT_* code (or GMT_EXIT_BLOCKING); messages are printed. */
int gmt_refs_run(const struct gmt_refs_opts *o);

/*
 * The vmemmap base, from refs' iterator over gmemtrace's own calibration
 * memfd only (src/core/vmemmap.h); 0, or -1 with v->why said.
 */
struct gmt_vmemmap;
int gmt_refs_calibrate(struct gmt_vmemmap *v);

/* "OFF:LEN", byte offsets with 0x and K/M/G like every SIZE; LEN > 0 */
int gmt_refs_parse_range(const char *s, unsigned long long *off, unsigned long long *len);
/* "N", "fd:N" or "ino:N" */
int gmt_refs_parse_gmem(const char *s, struct gmt_refs_gmem_filter *f);
/* "would block: 1 pin", "mapped only", "ok", ... */
void gmt_refs_verdict_str(const struct gmt_refs_verdict *v, char *buf, size_t len);

#endif /* GMT_REFS_CMD_H */
