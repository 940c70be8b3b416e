// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace refs: which guest_memfd folios would block a conversion to
 * private right now, and why (pins, other references, mappings). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "cli.h"
#include "refs.h"
#include "runloop.h"
#include "util.h"

static const char refs_doc[] =
"For each guest_memfd of the traced processes (-p, repeatable; default: every\n"
"process holding one), list the folios whose reference count exceeds what a\n"
"conversion to private accepts, with the reason: pins (FOLL_PIN, e.g. io_uring\n"
"fixed buffers, VFIO, O_DIRECT in flight), other references, host mappings\n"
"(unmapped by the conversion itself, so not blocking) and the per-CPU lru_add\n"
"batch (drained before the check). Read from the page cache as it is now, by\n"
"a BPF iterator: nothing needs to be running beforehand.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace refs                           # every VM on the host\n"
"  gmemtrace refs -p $(pidof qemu-system-x86_64) --all\n"
"  gmemtrace refs -p 4242 --gmem 11 --range 0x200000:2M -f json\n"
"  gmemtrace refs --exit-code -p 4242 || echo 'a conversion would fail now'\n"
"\v"
"Exit status: 0 ran (whether or not something would block; also when the\n"
"output's reader went away: EPIPE), 1 runtime error (a failed write too),\n"
"2 usage error (also a -p PID that does not exist), 3 not root or the kernel\n"
"lacks BTF or refuses the iterator, 4 with --exit-code: some folio would block.";

enum {
	OPT_GMEM = 0x100,
	OPT_RANGE,
	OPT_EXIT_CODE,
	OPT_MAX_FOLIOS,
	OPT_MAX_RECORDS,
	OPT_HOLDERS,
};

static const struct argp_option refs_options[] = {
	{ NULL, 0, NULL, 0, "Selection:", 1 },
	{ "pid", 'p', "PID", 0, "Only the guest_memfds of this process (repeatable)", 1 },
	{ "gmem", OPT_GMEM, "FD|INODE", 0, "Only the guest_memfd with this fd or inode "
	  "(fd:N or ino:N to say which; repeatable)", 1 },
	{ "range", OPT_RANGE, "OFF:LEN", 0, "Only folios overlapping this byte range "
	  "(0x and K/M/G accepted)", 1 },
	{ "all", 'a', NULL, 0, "List every folio, not only the ones that would block", 1 },
	{ "holders", OPT_HOLDERS, NULL, 0, "For each blocking folio, the holders that explain "
	  "its extra references (io_uring fixed buffers) and how many remain unattributed", 1 },
	{ "max-folios", OPT_MAX_FOLIOS, "N", 0, "Scan at most N folios per guest_memfd "
	  "(default 16M, 0 = no limit); the summary says when it stopped early", 1 },
	{ "max-records", OPT_MAX_RECORDS, "N", OPTION_HIDDEN, "folio records per "
	  "iterator run (tests of the resumable walk)", 1 },
	{ NULL, 0, NULL, 0, "Output:", 2 },
	{ "format", 'f', "text|json", 0, "Output format (default text; json is one object per line)", 2 },
	{ "output", 'o', "FILE", 0, "Write to FILE instead of standard output", 2 },
	{ "exit-code", OPT_EXIT_CODE, NULL, 0, "Exit with status 4 if any folio would block", 2 },
	{ "verbose", 'v', NULL, 0, "Say what is loaded and why; show libbpf messages", 2 },
	{ 0 },
};

/* refs' own options, and the common ones (-p, -f, -o, -v) as every command
 * parses them */
struct refs_run {
	struct gmt_refs_opts o;
	struct gmt_common_opts co;
};

static error_t refs_parse(int key, char *arg, struct argp_state *state)
{
	struct refs_run *r = state->input;
	struct gmt_refs_opts *o = &r->o;
	unsigned long long v;

	switch (key) {
	case OPT_GMEM:
		if (o->nr_gmem >= GMT_REFS_MAX_GMEM_FILTERS) {
			argp_error(state, "at most %d --gmem options", GMT_REFS_MAX_GMEM_FILTERS);
			return EINVAL;
		}
		if (gmt_refs_parse_gmem(arg, &o->gmem[o->nr_gmem])) {
			argp_error(state, "invalid --gmem '%s' (an fd or inode number, "
				   "or fd:N / ino:N)", arg);
			return EINVAL;
		}
		o->nr_gmem++;
		break;
	case OPT_RANGE:
		if (gmt_refs_parse_range(arg, &o->range_off, &o->range_len)) {
			argp_error(state, "invalid --range '%s' (OFF:LEN in bytes, LEN > 0, "
				   "e.g. 0x3000:16K)", arg);
			return EINVAL;
		}
		o->has_range = true;
		break;
	case 'a':
		o->all = true;
		break;
	case OPT_MAX_FOLIOS:
		if (gmt_parse_size(arg, &o->max_folios)) {
			argp_error(state, "invalid --max-folios '%s'", arg);
			return EINVAL;
		}
		break;
	case OPT_MAX_RECORDS:
		if (gmt_parse_u64(arg, &v) || !v || v > GMT_REFS_MAX_RECORDS) {
			argp_error(state, "invalid --max-records '%s' (1..%d)", arg,
				   GMT_REFS_MAX_RECORDS);
			return EINVAL;
		}
		o->max_records = (unsigned int)v;
		break;
	case OPT_HOLDERS:
		o->holders = true;
		break;
	case OPT_EXIT_CODE:
		o->exit_code = true;
		break;
	default:	/* -p, -f, -o, -v, stray arguments: as every command */
		return gmt_common_parse(key, arg, state, &r->co);
	}
	return 0;
}

static int refs_body(struct gmt_out *out, void *ctx)
{
	struct refs_run *r = ctx;
	int i;

	/* -p as validated: thread ids made their processes */
	for (i = 0; i < r->co.cfg.nr_pids; i++)
		r->o.pids[i] = r->co.cfg.pids[i];
	r->o.nr_pids = r->co.cfg.nr_pids;
	r->o.out = out;
	gmt_err_what = "refs";
	return gmt_refs_run(&r->o);
}

static int cmd_refs(int argc, char **argv)
{
	struct argp argp = { refs_options, refs_parse, NULL, refs_doc, NULL, NULL, NULL };
	struct refs_run r;

	memset(&r, 0, sizeof(r));
	r.o.max_folios = GMT_REFS_DEFAULT_MAX_FOLIOS;
	if (argp_parse(&argp, argc, argv, 0, NULL, &r))
		return GMT_EXIT_USAGE;
	/* the checks, output and exit rules of every command; a -p that does
	 * not exist is a usage error, and a thread id means its process */
	r.o.fmt = r.co.fmt;
	r.o.out_path = r.co.out_path;
	return gmt_run_once(&r.co, refs_body, &r);
}

GMT_COMMAND(refs_command) = {
	.name = "refs",
	.run = cmd_refs,
	.what = "guest_memfd folios whose references would block a conversion now",
	.order = 4,
};
