// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace trace: stream one record per conversion and context event. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "command.h"
#include "child.h"
#include "cli.h"
#include "gmemtrace.skel.h"
#include "ksyms.h"
#include "model.h"
#include "runloop.h"
#include "util.h"
#include "vms.h"

static const char trace_doc[] =
"Stream guest_memfd conversions and their context as they happen.\n"
"\n"
"Every KVM_SET_MEMORY_ATTRIBUTES (G1, VM fd), KVM_GMEM_CONVERT_SHARED/PRIVATE\n"
"(G2) and KVM_SET_MEMORY_ATTRIBUTES2 (G3, guest_memfd fd) gives one 'convert'\n"
"record with VM, range, direction, return value, latency and, when the kernel\n"
"reports EAGAIN, the blocking error_offset. KVM_CREATE_VM, KVM_CREATE_GUEST_MEMFD,\n"
"KVM_SET_USER_MEMORY_REGION2 and fallocate on a guest_memfd give context\n"
"records. A guest's own request (KVM_RUN returning KVM_EXIT_HYPERCALL with\n"
"KVM_HC_MAP_GPA_RANGE, or KVM_EXIT_MEMORY_FAULT) gives a 'guest_request' record\n"
"when the vCPU thread re-enters KVM_RUN: the round trip, and how much of it\n"
"the conversion ioctls took. Lost records are counted and reported, never silent.\n"
"With --holders, io_uring buffers registered over a guest_memfd mmap, VFIO\n"
"and iommufd DMA mappings of one, and IOMMU mappings of guest_memfd folios\n"
"whoever makes them (the iommu:map tracepoint: 'iommu_map') give\n"
"'holder_start' (with the registering call's user stack) and 'holder_end'\n"
"(unregistered, unmapped, fd closed or process exited) records, and a blocked\n"
"conversion names the holders of its folio (without --holders it says that\n"
"--holders names them) and how many of the folio's extra references they\n"
"explain; the rest is reported 'unattributed' (held before tracing started, or\n"
"by a holder --holders does not follow), never left out.\n"
"--kernel-pins adds 'gup_pin' records: each pin and unpin of a guest_memfd\n"
"folio, seen in the kernel.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace trace                       # all VMs on the host, text\n"
"  gmemtrace trace -p 4242 -f json       # one VMM, NDJSON\n"
"  gmemtrace trace -c qemu-system-x86 -o conv.log -d 60\n"
"  gmemtrace trace --cgroup /sys/fs/cgroup/machine.slice\n"
"  gmemtrace trace -f json -- gmem-workload --conversions 100\n"
"\n"
"-- CMD and -p follow the process tree: tracing ends when its last process\n"
"exits. If gmemtrace ends first (-d, Ctrl-C, output closed), the command's\n"
"process group gets SIGTERM, then SIGKILL after --grace seconds; it never\n"
"outlives gmemtrace, even a killed one, unless --keep-running.\n"
"\v"
"Exit status: 0 done (also when the output's reader went away: EPIPE), 1\n"
"runtime error (a failed write too), 2 usage error (a CMD that cannot be run,\n"
"an output that cannot be opened), 3 not root or the kernel lacks what\n"
"tracing needs (see `gmemtrace features`).";

enum { OPT_NO_CONTEXT = 0x200, OPT_NO_GUEST, OPT_HOLDERS, OPT_KERNEL_PINS };

struct trace_opts {
	struct gmt_common_opts c;
	unsigned long long rb_bytes;
};

static const struct argp_option trace_options[] = {
	{ NULL, 0, NULL, 0, "Trace options:", 3 },
	{ "buffer", 'b', "SIZE", 0, "Ring buffer size, power of two (default 8M)", 3 },
	{ "no-context", OPT_NO_CONTEXT, NULL, 0, "Only conversion records", 3 },
	{ "no-guest", OPT_NO_GUEST, NULL, 0,
	  "Do not follow KVM_RUN exits (guest requests cost a little on every KVM_RUN)", 3 },
	{ "holders", OPT_HOLDERS, NULL, 0,
	  "Also report who holds guest_memfd pages (io_uring buffers and VFIO / iommufd DMA "
	  "mappings over guest_memfd mmaps, IOMMU mappings of guest_memfd folios), "
	  "with symbolized user stacks: 'holder_start'/'holder_end' records", 3 },
	{ "kernel-pins", OPT_KERNEL_PINS, NULL, 0,
	  "With --holders (implied): every FOLL_PIN taken or released on a guest_memfd folio, "
	  "by anyone, seen in the kernel (fentry or kprobes): 'gup_pin' records with kernel "
	  "and user stacks; one per folio, so not by default", 3 },
	{ 0 },
};

static error_t trace_parse(int key, char *arg, struct argp_state *state)
{
	struct trace_opts *o = state->input;

	switch (key) {
	case 'b':
		if (gmt_parse_size(arg, &o->rb_bytes) || o->rb_bytes < 4096 ||
		    (o->rb_bytes & (o->rb_bytes - 1)) || o->rb_bytes > (1ULL << 30)) {
			argp_error(state, "invalid buffer size '%s' (a power of two, 4K to 1G)", arg);
			return EINVAL;
		}
		break;
	case OPT_NO_CONTEXT:
		o->c.cfg.emit_context = false;
		o->c.cfg.guest_requests = false;
		break;
	case OPT_NO_GUEST:
		o->c.cfg.guest_requests = false;
		break;
	case OPT_HOLDERS:
		o->c.cfg.holders = true;
		break;
	case OPT_KERNEL_PINS:
		o->c.cfg.holders = true;
		o->c.cfg.kernel_pins = true;
		break;
	default:
		return gmt_common_parse(key, arg, state, &o->c);
	}
	return 0;
}

struct trace_ctx {
	struct gmt_run *r;
	struct ring_buffer *rb;
	struct gmt_model model;		/* what events are read against (memslots) */
	struct gmt_trace_summary sum;
	__u64 lost_seen;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct trace_ctx *t = ctx;
	const struct gmt_event *e = data;

	if (len < sizeof(e->hdr) || e->hdr.type == 0 || e->hdr.type >= GMT_EV_TYPE_MAX)
		return 0;	/* a newer BPF object's kind: skip, size says how far */
	t->sum.events[e->hdr.type]++;
	gmt_out_event(&t->r->out, e);
	return 0;
}

/* a program with kernel stacks (gup_pin, iommu_map) is attached */
static bool kernel_stacks_attached(const struct gmt_run *r)
{
	int i;

	for (i = 0; i < r->s.plan.nr_status; i++) {
		const struct gmt_attach_status *st = &r->s.plan.status[i];

		if (st->state == GMT_ATT_ATTACHED && st->spec->feature &&
		    (!strcmp(st->spec->feature, "kernel_pins") ||
		     !strcmp(st->spec->feature, "iommu_maps")))
			return true;
	}
	return false;
}

static int trace_attached(struct gmt_run *r)
{
	struct trace_ctx *t = r->ctx;

	if (r->opts->cfg.holders) {
		t->model.holders_on = true;	/* a blocked conversion names its folio's */
		t->model.stacks_on = true;
		t->model.stack_map_fd = bpf_map__fd(r->s.skel->maps.gmt_hstacks);
	}
	/* kallsyms now, before the command runs: read at the first kernel
	 * stack, it took over a second under emulation, and user stacks
	 * symbolized after it found a short-lived process gone */
	if (r->opts->cfg.holders && kernel_stacks_attached(r)) {
		t->model.ksyms = gmt_ksyms_load();
		t->model.ksyms_tried = true;
	}
	gmt_out_bind_model(&r->out, &t->model);
	gmt_out_attach(&r->out, &r->s);
	gmt_out_flush(&r->out);	/* readers wait for this record */
	t->rb = ring_buffer__new(bpf_map__fd(r->s.skel->maps.gmt_events), on_event, t, NULL);
	if (!t->rb) {
		gmt_err_what = "attach";
		gmt_err("cannot open the ring buffer: %s", strerror(errno));
		return GMT_EXIT_RUNTIME;
	}
	r->poll_fd = ring_buffer__epoll_fd(t->rb);
	if (!r->opts->cmd && r->opts->fmt == GMT_FMT_TEXT)
		fprintf(stderr, "gmemtrace: tracing guest_memfd conversions, Ctrl-C to end\n");
	return 0;
}

static int trace_consume(struct gmt_run *r)
{
	struct trace_ctx *t = r->ctx;

	return t->rb ? ring_buffer__consume(t->rb) : 0;
}

static void on_vm_gone(void *ctx, const struct gmt_event *e)
{
	on_event(ctx, (void *)e, sizeof(*e));
}

/* lost records are said as soon as they are seen */
static int trace_tick(struct gmt_run *r, bool last)
{
	struct trace_ctx *t = r->ctx;
	__u64 lost;
	int i;

	if (!last) {
		/* VMs no file refers to any more: their names and memslots end */
		gmt_vms_sweep(&r->s, 2000000000ULL, on_vm_gone, t);
	} else {
		/* guest requests still open are reported, as incomplete */
		if (gmt_vms_flush_guest_requests(&r->s))
			gmt_err("cannot report open guest requests: %s", strerror(errno));
		for (i = 0; i < 1000 && trace_consume(r) > 0; i++)
			;
	}
	lost = gmt_session_counter(&r->s, GMT_CNT_RB_DROPS);
	if (lost > t->lost_seen) {
		gmt_out_lost(&r->out, lost - t->lost_seen, lost);
		t->lost_seen = lost;
		t->model.records_lost = lost;	/* blocked records say their holders may be off */
	}
	return 0;
}

static void trace_end(struct gmt_run *r)
{
	struct trace_ctx *t = r->ctx;
	int i;

	t->sum.lost = t->lost_seen;
	for (i = 0; i < GMT_CNT_MAX; i++)
		t->sum.counters[i] = gmt_session_counter(&r->s, i);
	gmt_session_helper_errors(&r->s, t->sum.helper_errors);
	t->sum.duration_s = r->duration_s;
	t->sum.cmd_ran = r->cmd_ran;
	t->sum.cmd_stopped = r->cmd_stopped;
	t->sum.cmd_left_running = r->cmd_left_running;
	t->sum.cmd_status = r->cmd_status;
	gmt_out_summary(&r->out, &t->sum);
}

static const struct gmt_run_ops trace_ops = {
	.attached = trace_attached,
	.consume = trace_consume,
	.tick = trace_tick,
	.end = trace_end,
};

static int cmd_trace(int argc, char **argv)
{
	struct argp argp = { trace_options, trace_parse, "[-- CMD [ARG...]]", trace_doc,
			     NULL, NULL, NULL };
	struct trace_opts o = { .c.takes_command = true, .c.cfg.emit_events = true, .c.cfg.emit_context = true,
				.c.cfg.guest_requests = true };
	struct trace_ctx t = { 0 };
	struct gmt_run r;
	int rc;

	argp.options = gmt_merge_options(gmt_common_options, trace_options);
	o.c.cmd = gmt_split_command(&argc, argv, &o.c.dashdash);
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	o.c.cfg.ringbuf_bytes = o.rb_bytes;
	/* batch wakeups: a quarter of the ring, so bursts never wait for the timer */
	o.c.cfg.wakeup_bytes = (o.rb_bytes ? o.rb_bytes : 8 << 20) / 4;

	gmt_run_init(&r, &o.c, &trace_ops, &t);
	r.tick_ns = 100000000ULL;
	t.r = &r;
	t.sum.cmd_status = -1;
	rc = gmt_run(&r);
	ring_buffer__free(t.rb);
	gmt_model_free(&t.model);
	return rc;
}

GMT_COMMAND(trace_command) = {
	.name = "trace",
	.run = cmd_trace,
	.what = "stream conversion and context events (text or JSON)",
	.order = 1,
};
