// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "gmemtrace.h"
#include "gmemtrace.skel.h"
#include "loader.h"
#include "object.h"
#include "probe.h"
#include "probes.skel.h"
#include "refs.skel.h"
#include "select.h"
#include "kvm_probe.h"
#include <bpf/bpf.h>
#include "util.h"

const struct gmt_capability gmt_capabilities[] = {
	{ "tracepoint", "probe_tp", "perf-style tracepoints (syscalls:*)" },
	{ "raw_tp", "probe_raw_tp", "raw tracepoints" },
	{ "tp_btf", "probe_tp_btf", "BTF-typed tracepoints" },
	{ "fentry", "probe_fentry", "function entry trampolines" },
	{ "fexit", "probe_fexit", "function exit trampolines" },
	{ "fmod_ret", "probe_fmod_ret", "return-value override on security_* (policy fallback)" },
	{ "kprobe", "probe_kprobe", "kprobes" },
	{ "kretprobe", "probe_kretprobe", "kretprobes" },
	{ "lsm", "probe_lsm", "BPF LSM hook file_ioctl (policy)" },
	{ "iter_task_file", "probe_iter", "task_file iterator (fd discovery)" },
	{ "task_storage", "probe_task_stor", "task local storage (per-thread state)" },
};
const int gmt_nr_capabilities = sizeof(gmt_capabilities) / sizeof(gmt_capabilities[0]);

static void explain(struct gmt_probe_result *r, const char *stage, int err)
{
	r->ok = false;
	r->err = err < 0 ? -err : err;
	if (r->err == ENOENT && !strcmp(stage, "attach") &&
	    access("/sys/bus/event_source/devices/kprobe", F_OK))
		snprintf(r->reason, sizeof(r->reason),
			 "this kernel has no kprobe support (CONFIG_KPROBES off)");
	else if (r->err == EPERM && !strcmp(stage, "load"))
		snprintf(r->reason, sizeof(r->reason), "refused by the kernel at load (EPERM)");
	else if (r->err == ENOENT && !strcmp(stage, "attach"))
		snprintf(r->reason, sizeof(r->reason),
			 "attach target or mechanism missing (ENOENT)");
	else if (r->err == ESRCH && !strcmp(stage, "load"))
		snprintf(r->reason, sizeof(r->reason),
			 "attach target not in this kernel's BTF (ESRCH)");
	else
		snprintf(r->reason, sizeof(r->reason), "%s failed: %s (%s)", stage,
			 strerror(r->err), gmt_errno_name(r->err) ? gmt_errno_name(r->err) : "?");
}

static bool needs_iter_link(const struct bpf_program *p)
{
	return bpf_program__type(p) == BPF_PROG_TYPE_TRACING &&
	       bpf_program__expected_attach_type(p) == BPF_TRACE_ITER;
}

/* only prog of obj will load: NULL (and why in r) if obj has none */
static struct bpf_program *only(struct bpf_object *obj, const char *prog,
				struct gmt_probe_result *r)
{
	struct bpf_program *p = gmt_obj_only(obj, prog);

	if (!p)
		snprintf(r->reason, sizeof(r->reason), "internal: no program %s", prog);
	return p;
}

/* load and attach exactly one program of an object, report why not */
static void probe_one(struct bpf_object *obj, const char *prog, struct gmt_probe_result *r)
{
	struct bpf_program *want;
	struct bpf_link *link;
	struct bpf_map *m;
	int err;

	memset(r, 0, sizeof(*r));
	want = only(obj, prog, r);
	if (!want)
		return;
	/* a map type this kernel lacks must not fail unrelated probes */
	bpf_object__for_each_map(m, obj)
		if (bpf_map__type(m) == BPF_MAP_TYPE_TASK_STORAGE && strcmp(prog, "probe_task_stor") &&
		    strstr(bpf_map__name(m), "probe"))
			bpf_map__set_autocreate(m, false);
	err = bpf_object__load(obj);
	if (err) {
		explain(r, "load", err);
		return;
	}
	if (needs_iter_link(want))
		link = bpf_program__attach_iter(want, NULL);
	else
		link = bpf_program__attach(want);
	if (!link) {
		explain(r, "attach", errno);
		return;
	}
	bpf_link__destroy(link);
	r->ok = true;
	snprintf(r->reason, sizeof(r->reason), "loaded and attached");
}

void gmt_probe_capability(const char *prog, struct gmt_probe_result *r)
{
	struct probes_bpf *skel = probes_bpf__open();

	if (!skel) {
		explain(r, "open", errno);
		return;
	}
	probe_one(skel->obj, prog, r);
	probes_bpf__destroy(skel);
}


/* true if the check failed (r says why) */
static bool fire_test(struct bpf_program *prog, const char *target, struct gmt_probe_result *r)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);
	int stats, err;

	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0)
		return false;	/* cannot count: trust the attach */
	err = gmt_kvm_trigger(target);
	memset(&info, 0, sizeof(info));
	if (!err && !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) &&
	    info.run_cnt == 0) {
		r->ok = false;
		r->err = ENOEXEC;
		snprintf(r->reason, sizeof(r->reason),
			 "attached but never ran when the kernel called %s", target);
		close(stats);
		return true;
	}
	close(stats);
	return false;
}

static void probe_spec(const char *prog, const struct gmt_prog_spec *spec, const char *target,
		       bool attach, struct gmt_probe_result *r)
{
	struct gmemtrace_bpf *skel = gmemtrace_bpf__open();
	struct bpf_program *want;
	struct bpf_link *link;
	int err;

	memset(r, 0, sizeof(*r));
	if (!skel) {
		explain(r, "open", errno);
		return;
	}
	/* small maps: this is only a probe */
	bpf_map__set_max_entries(skel->maps.gmt_events, 4096);
	bpf_map__set_max_entries(skel->maps.gmt_stats, 1);
	want = only(skel->obj, prog, r);
	if (!want)
		goto out;
	if (spec && target && (spec->backend == GMT_BE_FENTRY || spec->backend == GMT_BE_TP_BTF)) {
		err = bpf_program__set_attach_target(want, 0, target);
		if (err) {
			explain(r, "set target", err);
			goto out;
		}
	}
	err = gmemtrace_bpf__load(skel);
	if (err) {
		explain(r, "load", err);
		goto out;
	}
	if (!attach) {
		r->ok = true;
		snprintf(r->reason, sizeof(r->reason), "passed the verifier");
		goto out;
	}
	link = gmt_attach_spec(want, spec, target);
	if (!link) {
		explain(r, "attach", errno);
		goto out;
	}
	/*
	 * Attached is not proof that it runs: on Debian's 7.3 under qemu an
	 * fentry on kvm_vm_ioctl (a module function called through f_op)
	 * attaches, yet never runs (run_cnt 0, absent from enabled_functions),
	 * while kprobes there work. Where gmemtrace can make the kernel call the
	 * target, it does, and checks the program's run count.
	 */
	if (target && fire_test(want, target, r)) {
		bpf_link__destroy(link);
		goto out;
	}
	bpf_link__destroy(link);
	r->ok = true;
	snprintf(r->reason, sizeof(r->reason), "loaded and attached");
out:
	gmemtrace_bpf__destroy(skel);
}

void gmt_probe_program(const char *prog, struct gmt_probe_result *r)
{
	const struct gmt_prog_spec *spec = gmt_prog_spec_find(prog);
	struct refs_bpf *skel;

	if (!spec || !spec->object) {
		probe_spec(prog, spec, NULL, true, r);
		return;
	}
	/* a program of the refs object */
	skel = refs_bpf__open();
	if (!skel) {
		explain(r, "open", errno);
		return;
	}
	probe_one(skel->obj, prog, r);
	refs_bpf__destroy(skel);
}

int gmt_probe_by_loading(const struct gmt_prog_spec *spec, const char *target, char *why,
			 size_t len, void *ctx)
{
	struct gmt_probe_result r;

	probe_spec(spec->prog, spec, target, true, &r);
	if (!r.ok)
		snprintf(why, len, "%s", r.reason);
	return r.ok ? 0 : -(r.err ? r.err : EINVAL);
}

void gmt_verify_program(const struct gmt_prog_spec *spec, const char *target,
			struct gmt_probe_result *r)
{
	probe_spec(spec->prog, spec, target, false, r);
}
