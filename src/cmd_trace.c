// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace trace: stream one record per conversion and context event. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "child.h"
#include "cli.h"
#include "gmemtrace.skel.h"
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
"\n"
"EXAMPLES:\n"
"  gmemtrace trace                       # all VMs on the host, text\n"
"  gmemtrace trace -p 4242 -f json       # one VMM, NDJSON\n"
"  gmemtrace trace -c qemu-system-x86 -o conv.log -d 60\n"
"  gmemtrace trace --cgroup /sys/fs/cgroup/machine.slice\n"
"  gmemtrace trace -f json -- gmem-workload --conversions 100\n"
"\v"
"Exit status: 0 done, 1 runtime error, 2 usage error, 3 not root or the kernel\n"
"lacks what tracing needs (see `gmemtrace features`).";

enum { OPT_NO_CONTEXT = 0x200, OPT_NO_GUEST };

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
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s' (a command goes after --)", arg);
		return EINVAL;
	default:
		return gmt_common_parse(key, arg, state, &o->c);
	}
	return 0;
}

struct trace_ctx {
	struct gmt_out *out;
	struct gmt_trace_summary sum;
};

static int on_event(void *ctx, void *data, size_t len)
{
	struct trace_ctx *t = ctx;
	const struct gmt_event *e = data;

	if (len < sizeof(e->hdr) || e->hdr.type == 0 || e->hdr.type >= GMT_EV_TYPE_MAX)
		return 0;	/* a newer BPF object's kind: skip, size says how far */
	t->sum.events[e->hdr.type]++;
	gmt_out_event(t->out, e);
	return 0;
}

static void on_vm_gone(void *ctx, const struct gmt_event *e)
{
	on_event(ctx, (void *)e, sizeof(*e));
}

int cmd_trace(int argc, char **argv)
{
	struct argp argp = { trace_options, trace_parse, "[-- CMD [ARG...]]", trace_doc,
			     NULL, NULL, NULL };
	struct trace_opts o = { .c.cfg.emit_events = true, .c.cfg.emit_context = true,
				.c.cfg.guest_requests = true };
	struct trace_ctx t = { 0 };
	struct gmt_session s = { 0 };
	struct gmt_child child = { .pid = -1 };
	struct ring_buffer *rb = NULL;
	struct gmt_out out;
	__u64 start, lost_seen = 0, last_pid_check = 0;
	int err, i;

	argp.options = gmt_merge_options(gmt_common_options, trace_options);
	o.c.cmd = gmt_split_command(&argc, argv);
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	o.c.cfg.ringbuf_bytes = o.rb_bytes;
	/* batch wakeups: a quarter of the ring, so bursts never wait for the timer */
	o.c.cfg.wakeup_bytes = (o.rb_bytes ? o.rb_bytes : 8 << 20) / 4;
	if (o.c.cfg.filter_pid && o.c.cmd) {
		gmt_err("-p and -- CMD cannot be combined");
		return GMT_EXIT_USAGE;
	}
	err = gmt_check_pids(&o.c.cfg);
	if (err)
		return err;

	if (gmt_out_open(&out, o.c.fmt, o.c.out_path))
		return GMT_EXIT_USAGE;
	out.iso_time = o.c.iso_time;
	t.out = &out;
	t.sum.cmd_status = -1;
	gmt_install_signals();

	err = gmt_start_command(&o.c, &child);
	if (err)
		goto out;

	err = gmt_session_start(&s, &o.c.cfg);
	if (err)
		goto out;
	gmt_out_attach(&out, &s);
	gmt_out_flush(&out);	/* readers wait for this record */
	rb = ring_buffer__new(bpf_map__fd(s.skel->maps.gmt_events), on_event, &t, NULL);
	if (!rb) {
		gmt_err("cannot open the ring buffer: %s", strerror(errno));
		err = GMT_EXIT_RUNTIME;
		goto out;
	}
	if (o.c.cmd) {
		err = gmt_child_release(&child);
		if (err) {
			gmt_err("cannot run %s: %s", o.c.cmd[0], strerror(-err));
			gmt_child_reap(&child);
			err = GMT_EXIT_RUNTIME;
			goto out;
		}
	} else if (o.c.fmt == GMT_FMT_TEXT) {
		fprintf(stderr, "gmemtrace: tracing guest_memfd conversions, Ctrl-C to end\n");
	}

	start = gmt_mono_ns();
	while (!gmt_exiting) {
		__u64 now, lost;

		err = ring_buffer__poll(rb, 100);
		/* records below the wakeup threshold are read on the timer */
		if (err >= 0) {
			int more = ring_buffer__consume(rb);

			err = more < 0 ? more : err + more;
		}
		if (err < 0 && err != -EINTR) {
			gmt_err("reading the ring buffer: %s", strerror(-err));
			err = GMT_EXIT_RUNTIME;
			goto out;
		}
		if (err > 0)
			gmt_out_flush(&out);
		err = 0;
		if (ferror(out.f)) {
			/* the reader went away (trace | head): stop, it is not an error */
			gmt_info("output closed: %s", strerror(errno));
			break;
		}
		lost = gmt_session_counter(&s, GMT_CNT_RB_DROPS);
		if (lost > lost_seen) {
			gmt_out_lost(&out, lost - lost_seen, lost);
			lost_seen = lost;
		}
		now = gmt_mono_ns();
		if (o.c.duration_s > 0 && now - start >= o.c.duration_s * 1e9)
			break;
		/* VMs no file refers to any more: their names and memslots end */
		gmt_vms_sweep(&s, 2000000000ULL, on_vm_gone, &t);
		if (o.c.cmd && gmt_child_reap(&child))
			break;
		if (o.c.cfg.nr_pids && !o.c.cmd && now - last_pid_check > 500000000ULL) {
			last_pid_check = now;
			if (!gmt_any_pid_alive(&o.c.cfg)) {
				gmt_info("all traced processes exited");
				break;
			}
		}
	}
	/* guest requests still open are reported, as incomplete */
	if (gmt_vms_flush_guest_requests(&s))
		gmt_err("cannot report open guest requests: %s", strerror(errno));
	/* whatever the kernel wrote before we stopped still counts */
	while (ring_buffer__consume(rb) > 0)
		;
	t.sum.lost = gmt_session_counter(&s, GMT_CNT_RB_DROPS);
	if (t.sum.lost > lost_seen)
		gmt_out_lost(&out, t.sum.lost - lost_seen, t.sum.lost);
	for (i = 0; i < GMT_CNT_MAX; i++)
		t.sum.counters[i] = gmt_session_counter(&s, i);
	t.sum.duration_s = (gmt_mono_ns() - start) / 1e9;
	if (o.c.cmd) {
		if (!child.exited) {
			kill(child.pid, SIGTERM);
		}
		t.sum.cmd_ran = true;
		t.sum.cmd_status = child.exited ? child.status : -1;
	}
	gmt_out_summary(&out, &t.sum);
out:
	ring_buffer__free(rb);
	gmt_session_stop(&s);
	if (o.c.cmd)
		gmt_child_kill(&child);
	gmt_out_close(&out);
	return err;
}
