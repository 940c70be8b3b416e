// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace enforce --policy FILE: veto (or, in monitor mode, report)
 * conversions that break the policy (docs/policy.md), with the hooks of
 * bpf/policy.bpf.c. The hook is chosen by loading: the BPF LSM first, then
 * fmod_ret. If neither loads, nothing is installed and the exit is 3: it
 * never falls back to monitoring silently.
 */
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "enforce.h"
#include "gmemtrace.skel.h"
#include "live.h"
#include "pin.h"
#include "policy.h"
#include "runloop.h"
#include "util.h"

static const char enforce_doc[] =
"Enforce a policy on guest_memfd conversions (docs/policy.md): every\n"
"conversion ioctl is decided by the policy's rules before the kernel runs\n"
"it; denied ones fail with the rule's errno. Every deny and audit decision\n"
"is a `policy` record. In monitor mode nothing is denied and the records\n"
"say what would have been. SIGHUP reads FILE again and swaps the rules in\n"
"at once (an invalid file keeps the running policy).\n"
"\n"
"WITHOUT --pin, ENFORCEMENT ENDS WHEN GMEMTRACE EXITS (a crash or a SIGKILL\n"
"included). With --pin the hook, its program and its maps stay in bpffs\n"
"(" GMT_PIN_DIR ") and keep vetoing after gmemtrace is gone, until\n"
"`gmemtrace enforce --unpin`, with the programs that name VMs created\n"
"later (their vm_id, creator pid and cgroup) and the TOCTOU checks. A\n"
"pinned policy present is never adopted: --pin refuses until --unpin\n"
"removed it. --unpin -f json writes one `unpin` record.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace enforce --policy /etc/gmemtrace/policy.yaml --mode monitor\n"
"  gmemtrace enforce --policy /etc/gmemtrace/policy.yaml --pin -d 1\n"
"  gmemtrace enforce --unpin\n"
"\v"
"Exit status: 0 done (--unpin: removed, or nothing was pinned), 1 runtime\n"
"error (--pin: a pinned policy is already present, or pinning failed;\n"
"--unpin: an entry could not be removed), 2 usage error or an invalid\n"
"policy (FILE:LINE:COLUMN: reason), 3 the hook cannot be installed here (not\n"
"root, no BPF LSM and no fmod_ret trampolines, no bpffs for --pin): nothing\n"
"was installed.";

enum { OPT_POLICY = 0x100, OPT_MODE, OPT_PIN, OPT_UNPIN };

static const struct argp_option enforce_options[] = {
	{ "policy", OPT_POLICY, "FILE", 0, "The policy (required)", 0 },
	{ "mode", OPT_MODE, "monitor|enforce", 0, "Deny (enforce, default) or only report", 0 },
	{ "format", 'f', "text|json", 0, "Output format (default text)", 0 },
	{ "output", 'o', "FILE", 0, "Write records to FILE", 0 },
	{ "duration", 'd', "SECONDS", 0, "End after SECONDS", 0 },
	{ "verbose", 'v', NULL, 0, "Say what is loaded and why; show libbpf messages", 0 },
	{ "pin", OPT_PIN, NULL, 0, "Keep the hook in bpffs (" GMT_PIN_DIR ") after exit", 0 },
	{ "unpin", OPT_UNPIN, NULL, 0, "Remove a pinned hook, say what was removed, exit", 0 },
	{ 0 },
};

static error_t enforce_opt(int key, char *arg, struct argp_state *state)
{
	struct gmt_enforce_args *a = state->input;
	char *end;

	switch (key) {
	case OPT_POLICY:
		a->policy = arg;
		break;
	case OPT_MODE:
		if (!strcmp(arg, "monitor"))
			a->mode = GMT_POL_MONITOR;
		else if (!strcmp(arg, "enforce"))
			a->mode = GMT_POL_ENFORCE;
		else
			goto bad;
		break;
	case 'f':
		return gmt_argp_format(state, arg, &a->c.fmt);
	case 'o':
		a->c.out_path = arg;
		break;
	case 'v':
		gmt_verbose = true;
		break;
	case 'd':
		a->c.duration_s = strtod(arg, &end);
		if (*end || end == arg || a->c.duration_s <= 0)
			goto bad;
		break;
	case OPT_PIN:
		a->pin = true;
		break;
	case OPT_UNPIN:
		a->unpin = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	case ARGP_KEY_END:
		if (a->unpin && (a->pin || a->policy)) {
			argp_error(state, "--unpin takes no --pin or --policy");
			return EINVAL;
		}
		if (!a->policy && !a->unpin) {
			argp_error(state, "--policy FILE is required");
			return EINVAL;
		}
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
bad:
	/* with ARGP_NO_EXIT argp_error returns: the error must be returned too */
	argp_error(state, "%s: '%s' is not valid", key == 'd' ? "-d" : "--mode", arg);
	return EINVAL;
}

int gmt_enforce_parse(int argc, char **argv, struct gmt_enforce_args *a, unsigned int argp_flags)
{
	struct argp argp = { enforce_options, enforce_opt, NULL, enforce_doc, NULL, NULL, NULL };
	int err;

	memset(a, 0, sizeof(*a));
	a->mode = GMT_POL_ENFORCE;
	a->c.fmt = GMT_FMT_TEXT;
	err = argp_parse(&argp, argc, argv, argp_flags, NULL, a);
	return err || (!a->policy && !a->unpin) ? GMT_EXIT_USAGE : 0;
}

struct enforce_ctx {
	struct gmt_enforce_args *a;
	struct gmt_policy *pol;
	struct gmt_policy *next;	/* a reload is compiled here first */
	struct ring_buffer *rb;
	struct gmt_run *r;
};

static void pol_counts_reset(int fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct gmt_pol_count *zero;
	__u32 i;

	zero = ncpu > 0 ? calloc(ncpu, sizeof(*zero)) : NULL;
	for (i = 0; zero && i <= GMT_POLICY_MAX_RULES; i++)
		bpf_map_update_elem(fd, &i, zero, BPF_ANY);
	free(zero);
}

/*
 * Write the policy into the inactive half, then flip the live index: the
 * hook reads one half or the other, never a half-written one. Before attach
 * (the first load) the flip makes half 0 or 1 live before any decision.
 */
static int policy_install(struct gmt_session *s, const struct gmt_policy *pol)
{
	struct gmemtrace_bpf *skel = s->skel;
	__u32 next = !skel->bss->gmt_pol_active, i, zero = 0;
	struct bpf_map *hdr = next ? skel->maps.gmt_pol_hdr1 : skel->maps.gmt_pol_hdr0;
	struct bpf_map *rules = next ? skel->maps.gmt_pol_rules1 : skel->maps.gmt_pol_rules0;

	for (i = 0; i < pol->abi.hdr.nr_rules; i++)
		if (bpf_map_update_elem(bpf_map__fd(rules), &i, &pol->abi.rules[i], BPF_ANY))
			return -errno;
	/* the header last: it says how many rules the half has */
	if (bpf_map_update_elem(bpf_map__fd(hdr), &zero, &pol->abi.hdr, BPF_ANY))
		return -errno;
	__atomic_store_n(&skel->bss->gmt_pol_active, next, __ATOMIC_RELEASE);
	/* counters are by rule index: a reload starts them again */
	pol_counts_reset(bpf_map__fd(skel->maps.gmt_pol_counts));
	return 0;
}

static int enforce_before_attach(struct gmt_session *s, void *ctx)
{
	struct enforce_ctx *e = ctx;
	int err = policy_install(s, e->pol);

	if (err) {
		gmt_err("cannot load the policy into its maps: %s", strerror(-err));
		return GMT_EXIT_RUNTIME;
	}
	return 0;
}

static volatile sig_atomic_t reload_requested;

static void on_hup(int sig)
{
	reload_requested = 1;
}

/* SIGHUP: compile the file again; a bad one keeps the live policy */
static void policy_reload(struct gmt_run *r, struct enforce_ctx *e)
{
	struct gmt_policy_error pe;
	struct gmt_policy *t;
	int err;

	reload_requested = 0;
	if (gmt_policy_load(e->a->policy, e->next, &pe)) {
		gmt_err("reload: %s:%u:%u: %s; the previous policy stays", e->a->policy, pe.line,
			pe.col, pe.msg);
		return;
	}
	err = policy_install(&r->s, e->next);
	if (err) {
		gmt_err("reload: cannot write the policy: %s; the previous policy stays",
			strerror(-err));
		return;
	}
	t = e->pol;
	e->pol = e->next;
	e->next = t;
	gmt_info("reloaded %s: %u rules", e->a->policy, e->pol->abi.hdr.nr_rules);
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct enforce_ctx *e = ctx;
	const struct gmt_event *ev = data;

	/* only decisions: the tracing programs loaded along feed VM names */
	if (len < sizeof(ev->hdr) ||
	    (ev->hdr.type != GMT_EV_POLICY && ev->hdr.type != GMT_EV_POLICY_TOCTOU))
		return 0;
	gmt_out_event(&e->r->out, ev);
	return 0;
}

static int enforce_attached(struct gmt_run *r)
{
	struct enforce_ctx *e = r->ctx;
	int i;

	/* a hook that loaded but did not attach is not enforcement */
	for (i = 0; i < r->s.plan.nr_status; i++) {
		const struct gmt_attach_status *st = &r->s.plan.status[i];

		if ((int)st->spec->want == r->opts->cfg.enforce && st->state != GMT_ATT_ATTACHED) {
			gmt_err("cannot attach %s (%s): %s", st->spec->prog, st->spec->hook,
				st->reason);
			return GMT_EXIT_UNSUPPORTED;
		}
	}
	if (e->a->pin) {
		const char *prog = r->opts->cfg.enforce == GMT_WANT_ENFORCE_LSM ? "gmt_pol_lsm" :
								     "gmt_pol_fmod";
		struct gmt_pin_done done;
		char why[512];

		if (gmt_pin_policy(r->s.skel, prog, GMT_PIN_DIR, &done, why, sizeof(why))) {
			gmt_err("--pin: %s; nothing is pinned", why);
			return GMT_EXIT_RUNTIME;
		}
		gmt_info("pinned the hook and %d programs it depends on (VM identity, TOCTOU)",
			 done.dep_links);
		if (!done.vm_release)
			fprintf(stderr, "gmemtrace: --pin: no VM release program attached "
				"here: after gmemtrace exits, a destroyed VM's identity stays "
				"until the kernel reuses its address (at most 4096; VMs beyond "
				"them get vm_id 0, counted as vm_map_full)\n");
	}
	gmt_out_attach(&r->out, &r->s);
	gmt_out_flush(&r->out);
	e->rb = ring_buffer__new(bpf_map__fd(r->s.skel->maps.gmt_events), on_record, e, NULL);
	if (!e->rb) {
		gmt_err("cannot open the ring buffer: %s", strerror(errno));
		return GMT_EXIT_RUNTIME;
	}
	r->poll_fd = ring_buffer__epoll_fd(e->rb);
	/* the run loop ends on SIGHUP; enforce reloads instead */
	signal(SIGHUP, on_hup);
	fprintf(stderr, "gmemtrace: policy %s %s with %s (%u rules); %s\n",
		e->a->policy, e->a->mode == GMT_POL_ENFORCE ? "enforced" : "monitored",
		r->opts->cfg.enforce == GMT_WANT_ENFORCE_LSM ? "BPF LSM" : "fmod_ret",
		e->pol->abi.hdr.nr_rules,
		e->a->pin ? "pinned at " GMT_PIN_DIR " with the programs that name VMs: it "
			    "stays after gmemtrace exits (gmemtrace enforce --unpin removes it)" :
			    "Ctrl-C ends it (not pinned: enforcement ends with gmemtrace)");
	return 0;
}

static int enforce_consume(struct gmt_run *r)
{
	struct enforce_ctx *e = r->ctx;

	return e->rb ? ring_buffer__consume(e->rb) : 0;
}

static int enforce_tick(struct gmt_run *r, bool last)
{
	int i;

	if (reload_requested && !last)
		policy_reload(r, r->ctx);
	for (i = 0; last && i < 1000 && enforce_consume(r) > 0; i++)
		;
	return 0;
}

static const struct gmt_run_ops enforce_ops = {
	.attached = enforce_attached,
	.consume = enforce_consume,
	.tick = enforce_tick,
};

/* which hook loads here: LSM, else fmod_ret; 0 and both reasons if none.
 * skip_lsm (GMT_ENFORCE_HOOK=fmod_ret, for testing) tries fmod_ret only. */
static int choose_hook(bool skip_lsm, char *why, size_t len)
{
	static const int order[] = { GMT_WANT_ENFORCE_LSM, GMT_WANT_ENFORCE_FMOD };
	size_t used = 0;
	unsigned int i;
	int k;

	gmt_libbpf_setup();
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		for (k = 0; k < gmt_nr_prog_specs; k++) {
			const struct gmt_prog_spec *sp = &gmt_prog_specs[k];
			char w[300];

			if (sp->want != (enum gmt_want)order[i] ||
			    (skip_lsm && order[i] == GMT_WANT_ENFORCE_LSM))
				continue;
			if (!gmt_probe_by_loading(sp, NULL, w, sizeof(w), NULL))
				return order[i];
			used += snprintf(why + used, used < len ? len - used : 0, "%s%s: %s",
					 used ? "; " : "", sp->hook, w);
		}
	}
	return 0;
}

/* everything that can refuse before anything is installed */
static int enforce_prepare(struct gmt_enforce_args *a, struct gmt_policy *pol)
{
	const char *hook = getenv("GMT_ENFORCE_HOOK");
	struct gmt_policy_error pe;
	char why[1024] = "";
	int n;

	if (hook && *hook && strcmp(hook, "fmod_ret")) {
		gmt_err("GMT_ENFORCE_HOOK=%s: only fmod_ret (for testing: skip the BPF LSM "
			"program) is known", hook);
		return GMT_EXIT_USAGE;
	}
	if (gmt_policy_load(a->policy, pol, &pe)) {
		if (pe.line)
			gmt_err("%s:%u:%u: %s", a->policy, pe.line, pe.col, pe.msg);
		else
			gmt_err("%s: %s", a->policy, pe.msg);
		return GMT_EXIT_USAGE;
	}
	if (gmt_check_privilege(why, sizeof(why)) || gmt_check_btf(why, sizeof(why))) {
		gmt_err("cannot enforce: %s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	if (a->pin) {
		if (gmt_pin_bpffs(why, sizeof(why))) {
			gmt_err("cannot pin: %s; nothing was installed", why);
			return GMT_EXIT_UNSUPPORTED;
		}
		n = gmt_pin_count(GMT_PIN_DIR);
		if (n < 0) {
			gmt_err("cannot read %s: %s; nothing was installed", GMT_PIN_DIR,
				strerror(-n));
			return GMT_EXIT_RUNTIME;
		}
		if (n) {
			/* never adopted: its policy and mode are not this one's */
			gmt_err("a pinned policy is present at %s (%d entries): it stays in "
				"force; remove it first with `gmemtrace enforce --unpin`; "
				"nothing was installed", GMT_PIN_DIR, n);
			return GMT_EXIT_RUNTIME;
		}
	}
	a->c.cfg.enforce = choose_hook(hook && *hook, why, sizeof(why));
	if (!a->c.cfg.enforce) {
		gmt_err("cannot enforce (%s mode): no policy hook loads here, nothing was "
			"installed: %s", a->mode == GMT_POL_ENFORCE ? "enforce" : "monitor", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	return 0;
}

/* the unpin record of res and the hooks still attached */
static void unpin_report(struct gmt_out *out, const struct gmt_unpin_result *res)
{
	static struct gmt_pol_live live[GMT_POL_LIVE_MAX];
	struct gmt_unpin_failure_view failed[GMT_UNPIN_MAX];
	struct gmt_unpin_hook_view hooks[GMT_POL_LIVE_MAX];
	const char *removed[GMT_UNPIN_MAX];
	struct gmt_unpin_view v = {
		.ts_ns = gmt_mono_ns(),
		.dir = GMT_PIN_DIR,
		.removed = removed,
		.nr_removed = res->nr_removed,
		.dir_removed = res->dir_removed,
		.failed = failed,
		.nr_failed = res->nr_failed,
		.dir_err = res->dir_err,
		.attached = hooks,
	};
	int i, n;

	for (i = 0; i < res->nr_removed && i < GMT_UNPIN_MAX; i++)
		removed[v.nr_removed_named++] = res->removed[i];
	for (i = 0; i < res->nr_failed && i < GMT_UNPIN_MAX; i++) {
		failed[i].name = res->failed[i].name;
		failed[i].err = res->failed[i].err;
		v.nr_failed_named++;
	}
	/* a running enforce still holds its own hook: not ours to end */
	n = gmt_pol_live_read(NULL, live);
	for (i = 0; i < n && i < GMT_POL_LIVE_MAX; i++) {
		hooks[i].prog = live[i].prog;
		hooks[i].link_id = live[i].link_id;
		hooks[i].prog_id = live[i].prog_id;
		v.nr_attached++;
	}
	gmt_out_unpin(out, &v);
}

/* --unpin: remove the pinned set and say what was removed */
static int enforce_unpin(struct gmt_out *out, void *ctx)
{
	static struct gmt_unpin_result res;
	char why[256];
	int n;

	if (gmt_check_privilege(why, sizeof(why))) {
		gmt_err_what = "privilege";
		gmt_err("cannot unpin: %s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	n = gmt_unpin(GMT_PIN_DIR, &res);
	unpin_report(out, &res);
	if (n < 0) {
		gmt_err_what = "unpin";
		gmt_err("cannot remove everything under %s: %s", GMT_PIN_DIR, strerror(-n));
		return GMT_EXIT_RUNTIME;
	}
	return GMT_EXIT_OK;
}

static int cmd_enforce(int argc, char **argv)
{
	static struct gmt_policy pol, next;	/* 20 KiB each: not on the stack */
	static struct gmt_enforce_args a;
	struct enforce_ctx e = { .a = &a, .pol = &pol, .next = &next };
	struct gmt_run r;
	int rc;

	if (gmt_enforce_parse(argc, argv, &a, 0))
		return GMT_EXIT_USAGE;
	if (a.unpin)
		return gmt_run_once(&a.c, enforce_unpin, NULL);
	rc = enforce_prepare(&a, &pol);
	if (rc)
		return gmt_exit_report(NULL, a.c.fmt, a.c.out_path, rc);
	a.c.cfg.pol_mode = a.mode;
	a.c.cfg.pol_toctou = true;
	/* the tracing programs only name VMs here: no conversion records,
	 * no context events in the ring the decisions go through */
	a.c.cfg.emit_events = false;
	/* nothing reads per-VM aggregates here; pinned, their slots would
	 * never be freed (that is user space's work) */
	a.c.cfg.no_stats = true;
	a.c.cfg.before_attach = enforce_before_attach;
	a.c.cfg.before_attach_ctx = &e;
	gmt_run_init(&r, &a.c, &enforce_ops, &e);
	r.tick_ns = 100000000ULL;
	e.r = &r;
	rc = gmt_run(&r);
	ring_buffer__free(e.rb);
	return rc;
}

GMT_COMMAND(enforce_command) = {
	.name = "enforce",
	.run = cmd_enforce,
	.what = "veto or report conversions that break a policy (BPF LSM or fmod_ret)",
	.order = 7,
};
