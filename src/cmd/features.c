// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace features: what this kernel lets gmemtrace do, each item found
 * by actually loading, attaching or issuing it, with the reason when not. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "command.h"
#include "backends.h"
#include "cli.h"
#include "kvm_probe.h"
#include "loader.h"
#include "output.h"
#include "runloop.h"
#include "probe.h"
#include "select.h"
#include "util.h"

static const char features_doc[] =
"Probe and list every backend, attach point and KVM conversion uAPI that\n"
"gmemtrace knows, on the running kernel: programs are really loaded and\n"
"attached, ioctls really issued (on a throw-away VM, with empty ranges).\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace features\n"
"  gmemtrace features -f json | jq '.capabilities[] | select(.available|not)'\n"
"\v"
"Exit status: 0 listed, 1 runtime error, 2 usage error, 3 not root.";

enum { F_NO = GMT_FEAT_NO, F_YES = GMT_FEAT_YES, F_NA = GMT_FEAT_NA };

/* every program twice (its backend row, its --verify row) and the other
 * sections' rows: 128 left --verify's last rows out once the table passed
 * 60 programs */
struct ftable {
	struct gmt_feature_row rows[2 * GMT_MAX_PROGS + 64];
	int n;
};

static struct gmt_feature_row *add(struct ftable *t, const char *section, int state, const char *name,
			const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct gmt_feature_row *add(struct ftable *t, const char *section, int state, const char *name,
			const char *fmt, ...)
{
	struct gmt_feature_row *r;
	va_list ap;

	if (t->n >= (int)(sizeof(t->rows) / sizeof(t->rows[0]))) {
		gmt_err("internal: the features table is full: %s %s left out", section, name);
		return NULL;
	}
	r = &t->rows[t->n++];
	r->section = section;
	r->state = state;
	snprintf(r->name, sizeof(r->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	return r;
}

static bool path_exists(const char *p)
{
	struct stat st;

	return !stat(p, &st);
}

static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

static void environment(struct ftable *t)
{
	const char *S = "environment";
	char buf[256];

	add(t, S, geteuid() == 0, "root", geteuid() == 0 ? "running as root" :
	    "not root: gmemtrace needs root (sudo)");
	/* present is not enough: CO-RE needs it to parse */
	if (!gmt_check_btf(buf, sizeof(buf)))
		add(t, S, F_YES, "btf", "/sys/kernel/btf/vmlinux present and parsed (CO-RE works)");
	else
		add(t, S, F_NO, "btf", "%s", buf);
	if (path_exists("/sys/kernel/tracing/events"))
		add(t, S, F_YES, "tracefs", "mounted at /sys/kernel/tracing");
	else if (path_exists("/sys/kernel/debug/tracing/events"))
		add(t, S, F_YES, "tracefs", "mounted at /sys/kernel/debug/tracing");
	else
		add(t, S, F_NO, "tracefs", "not mounted; trace/stat mount it, or: "
		    "mount -t tracefs tracefs /sys/kernel/tracing");
	{
		struct statfs sfs;
		bool bpffs = !statfs("/sys/fs/bpf", &sfs) && sfs.f_type == 0xcafe4a11; /* BPF_FS_MAGIC */

		add(t, S, bpffs, "bpffs", "%s; not needed by gmemtrace (nothing is pinned)",
		    bpffs ? "mounted at /sys/fs/bpf" : "not mounted");
	}
	/* the LSM list lives in securityfs, which some systems leave unmounted */
	if (!path_exists("/sys/kernel/security/lsm"))
		mount("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	read_line("/sys/kernel/security/lsm", buf, sizeof(buf));
	if (!buf[0])
		add(t, S, F_NO, "lsm_list", "cannot read /sys/kernel/security/lsm "
		    "(mount -t securityfs securityfs /sys/kernel/security)");
	else
		add(t, S, strstr(buf, "bpf") != NULL, "lsm_list", "%s%s", buf,
		    strstr(buf, "bpf") ? "" : " (no bpf: BPF LSM programs cannot run; boot with lsm=...,bpf)");
	read_line("/proc/sys/kernel/bpf_stats_enabled", buf, sizeof(buf));
	add(t, S, buf[0] == '1', "bpf_stats", "kernel.bpf_stats_enabled=%s%s", buf[0] ? buf : "?",
	    buf[0] == '1' ? "" : " (per-program run time not counted)");
	read_line("/sys/kernel/security/lockdown", buf, sizeof(buf));
	if (buf[0])
		add(t, S, strstr(buf, "[confidentiality]") == NULL, "lockdown", "%s", buf);
}

static void capabilities(struct ftable *t)
{
	int i;

	for (i = 0; i < gmt_nr_capabilities; i++) {
		struct gmt_probe_result r;

		gmt_probe_capability(gmt_capabilities[i].prog, &r);
		add(t, "capabilities", r.ok, gmt_capabilities[i].name, "%s: %s",
		    gmt_capabilities[i].what, r.reason);
	}
}

static void programs(struct ftable *t)
{
	struct gmt_selection *sel = calloc(1, sizeof(*sel));
	struct btf *btfs[2] = { 0 };
	int i, nb;

	if (!sel)
		return;
	/* kernel-side rows: the same choice trace and stat make, by loading */
	nb = gmt_kernel_btfs(btfs, 2);
	if (nb > 0) {
		gmt_select(sel, btfs, nb, GMT_KPREF_AUTO, gmt_probe_by_loading, NULL);
		gmt_free_btfs(btfs, nb);
	}
	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *sp = &gmt_prog_specs[i];
		const struct gmt_choice *ch = &sel->c[i];
		struct gmt_probe_result r;

		if (!sp->feature) {
			gmt_probe_program(sp->prog, &r);
			add(t, "programs", r.ok, sp->prog, "[%s] %s: %s; gives: %s",
			    gmt_backend_name(sp->backend), sp->hook, r.reason, sp->gives);
		} else if (ch->chosen) {
			add(t, "programs", F_YES, sp->prog, "[%s] %.*s %s: chosen for %s; gives: %s",
			    gmt_backend_name(sp->backend), (int)strcspn(sp->hook, " "), sp->hook,
			    ch->target, sp->feature, sp->gives);
		} else {
			add(t, "programs", ch->twin_chosen ? F_NA : F_NO, sp->prog, "[%s] %s: %s",
			    gmt_backend_name(sp->backend), sp->feature,
			    nb > 0 ? ch->reason : "no kernel BTF");
		}
	}
	free(sel);
}

static void ioctl_row(struct ftable *t, const char *name, const char *what, bool tried, int err)
{
	if (!tried)
		add(t, "kvm", F_NA, name, "%s: not probed (no guest_memfd to issue it on)", what);
	else if (!gmt_ioctl_exists(err))
		add(t, "kvm", F_NO, name, "%s: not supported by this kernel (ENOTTY)", what);
	else
		add(t, "kvm", F_YES, name, "%s: present (empty-range probe answered %s)", what,
		    err ? gmt_errno_name(err) ? gmt_errno_name(err) : "an error" : "0");
}

/* G3 v8's module gate (24/46): the guest_memfd ioctl answers ENOTTY unless
 * it is Y, and then PRIVATE lives only in guest_memfd */
static void gate_row(struct ftable *t)
{
	const char *p = "/sys/module/kvm/parameters/gmem_in_place_conversion";
	char v[8] = "";
	FILE *f = fopen(p, "r");

	if (!f) {
		add(t, "kvm", F_NA, "gmem_in_place_conversion",
		    "kvm.gmem_in_place_conversion: no such parameter (not the G3 v8 series)");
		return;
	}
	if (!fgets(v, sizeof(v), f))
		v[0] = 0;
	fclose(f);
	add(t, "kvm", v[0] == 'Y', "gmem_in_place_conversion",
	    "kvm.gmem_in_place_conversion=%c: %s", v[0] ? v[0] : '?',
	    v[0] == 'Y' ? "in-place conversion on guest_memfd; per-VM attributes off" :
			  "per-VM attributes (G1); the G3 ioctl answers ENOTTY");
}

static void kvm(struct ftable *t)
{
	struct gmt_kvm_probe p;

	gmt_kvm_probe(&p);
	if (p.kvm_err) {
		add(t, "kvm", F_NO, "dev_kvm", "cannot open /dev/kvm: %s%s", strerror(p.kvm_err),
		    p.kvm_err == ENOENT ? " (KVM not loaded: modprobe kvm_amd or kvm_intel)" : "");
		return;
	}
	add(t, "kvm", F_YES, "dev_kvm", "/dev/kvm opens");
	if (p.vm_err) {
		add(t, "kvm", F_NO, "create_vm", "KVM_CREATE_VM failed: %s", strerror(p.vm_err));
		return;
	}
	add(t, "kvm", p.sw_protected, "private_memory",
	    "KVM_CAP_VM_TYPES=0x%lx: %s", p.vm_types < 0 ? 0 : p.vm_types,
	    p.sw_protected ? "KVM_X86_SW_PROTECTED_VM available: private guest_memfd memory, "
			     "real conversions" :
			     "no protected VM type: no private memory, conversions cannot succeed here");
	add(t, "kvm", p.cap_mem_attrs > 0, "memory_attributes",
	    "KVM_CAP_MEMORY_ATTRIBUTES=0x%lx%s", p.cap_mem_attrs < 0 ? 0 : p.cap_mem_attrs,
	    p.cap_mem_attrs > 0 ? "" : " (0: G1 conversions not supported)");
	if (p.gmem_err)
		add(t, "kvm", F_NO, "guest_memfd", "KVM_CREATE_GUEST_MEMFD: not supported by this "
		    "kernel (%s)", gmt_errno_name(p.gmem_err) ? gmt_errno_name(p.gmem_err) : "?");
	else
		add(t, "kvm", F_YES, "guest_memfd", "KVM_CREATE_GUEST_MEMFD works, flags 0x%llx%s%s",
		    p.gmem_flags, p.gmem_flags & 1 ? " MMAP" : "", p.gmem_flags & 2 ? " INIT_SHARED" : "");
	ioctl_row(t, "g1_set_memory_attributes", "G1 KVM_SET_MEMORY_ATTRIBUTES on the VM fd",
		  true, p.g1_err);
	ioctl_row(t, "g2_gmem_convert", "G2 KVM_GMEM_CONVERT_SHARED/PRIVATE on the guest_memfd fd",
		  p.g2_tried, p.g2_err);
	ioctl_row(t, "g3_set_memory_attributes2",
		  "G3 KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd fd", p.g3_tried, p.g3_err);
	gate_row(t);
	add(t, "kvm", path_exists("/sys/kernel/tracing/events/kvm/kvm_vm_set_mem_attributes") ||
	    path_exists("/sys/kernel/debug/tracing/events/kvm/kvm_vm_set_mem_attributes"),
	    "tp_kvm_vm_set_mem_attributes",
	    "tracepoint kvm:kvm_vm_set_mem_attributes (G1 in-kernel start; needs per-VM "
	    "memory attributes: CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES, renamed "
	    "CONFIG_KVM_VM_MEMORY_ATTRIBUTES by the in-place conversion series, "
	    "<20260618-gmem-inplace-conversion-v8-2-9d2959357853@google.com>)");
}

/* the table as the output's features record */
static void report(struct gmt_out *out, const struct ftable *t)
{
	static const struct gmt_feature_section sections[] = {
		{ "environment", "Environment" },
		{ "capabilities", "BPF capabilities (each loaded and attached on this kernel)" },
		{ "programs", "gmemtrace programs (the backend table, each loaded and attached alone)" },
		{ "kvm", "KVM conversion uAPI (real ioctls on a throw-away VM, empty ranges)" },
		{ "verify", "Every kernel-side program against its target (--verify)" },
	};
	struct gmt_features_view v = {
		.sections = sections,
		.nr_sections = sizeof(sections) / sizeof(sections[0]),
		.rows = t->rows,
		.nr_rows = t->n,
	};
	struct utsname u;

	uname(&u);
	v.kernel = u.release;
	v.machine = u.machine;
	gmt_out_features(out, &v);
}

struct features_opts {
	struct gmt_common_opts co;	/* -f, -v as every command parses them */
	bool verify;
};

/*
 * --verify: every kernel-side program loaded against its target wherever this
 * kernel has one, whatever the generation gating says, so a CO-RE or
 * verifier problem shows up on any kernel that has the functions.
 */
static void verify_all(struct ftable *t)
{
	struct btf *btfs[2] = { 0 };
	int i, nb = gmt_kernel_btfs(btfs, 2);

	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *sp = &gmt_prog_specs[i];
		const char *target = nb > 0 ? gmt_resolve_target(sp, btfs, nb) : NULL;
		struct gmt_probe_result r;

		if (!sp->feature)
			continue;
		if (!target) {
			add(t, "verify", F_NA, sp->prog, "no target in this kernel");
			continue;
		}
		gmt_verify_program(sp, target, &r);
		/* trampolines refused (EPERM) say nothing about the program */
		add(t, "verify", r.ok ? F_YES : r.err == EPERM ? F_NA : F_NO, sp->prog,
		    "%s on %s: %s", gmt_backend_name(sp->backend), target, r.reason);
	}
	if (nb > 0)
		gmt_free_btfs(btfs, nb);
}

static error_t features_parse(int key, char *arg, struct argp_state *state)
{
	struct features_opts *o = state->input;

	if (key != 'V')	/* -f, -v, stray arguments: as every command */
		return gmt_common_parse(key, arg, state, &o->co);
	o->verify = true;
	return 0;
}

static int features_body(struct gmt_out *out, void *ctx)
{
	const struct features_opts *o = ctx;
	struct ftable *t = calloc(1, sizeof(*t));
	char why[256];

	if (!t)
		return GMT_EXIT_RUNTIME;
	gmt_libbpf_setup();
	gmt_ensure_tracefs(why, sizeof(why));	/* attach probes need it; rows say if missing */
	environment(t);
	capabilities(t);
	programs(t);
	kvm(t);
	if (o->verify)
		verify_all(t);
	report(out, t);
	free(t);
	return GMT_EXIT_OK;
}

static int cmd_features(int argc, char **argv)
{
	static const struct argp_option opts[] = {
		{ "format", 'f', "text|json", 0, "Output format (default text)", 0 },
		{ "verbose", 'v', NULL, 0, "Show libbpf messages", 0 },
		{ "verify", 'V', NULL, 0, "Also load every kernel-side program against "
		  "its target where this kernel has one (for developers: CO-RE and verifier "
		  "check beyond what this kernel's generation uses)", 0 },
		{ 0 },
	};
	struct argp argp = { opts, features_parse, NULL, features_doc, NULL, NULL, NULL };
	struct features_opts o = { .co.btf_optional = true };	/* BTF is reported, not required */

	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	return gmt_run_once(&o.co, features_body, &o);
}

GMT_COMMAND(features_command) = {
	.name = "features",
	.run = cmd_features,
	.what = "what this kernel allows, probed by loading",
	.order = 3,
};
