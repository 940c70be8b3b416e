// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "object.h"
#include "util.h"

static char last_libbpf_msg[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list cp;

	/* keep the last warning: it usually says why a load failed */
	if (level <= LIBBPF_WARN) {
		va_copy(cp, ap);
		vsnprintf(last_libbpf_msg, sizeof(last_libbpf_msg), fmt, cp);
		va_end(cp);
		last_libbpf_msg[strcspn(last_libbpf_msg, "\n")] = 0;
		/* callers print "libbpf: " themselves */
		if (!strncmp(last_libbpf_msg, "libbpf: ", 8))
			memmove(last_libbpf_msg, last_libbpf_msg + 8, strlen(last_libbpf_msg + 8) + 1);
	}
	if (level == LIBBPF_DEBUG && !gmt_verbose)
		return 0;
	if (!gmt_verbose && level == LIBBPF_WARN)
		return 0;	/* reported through our own messages */
	return vfprintf(stderr, fmt, ap);
}

void gmt_libbpf_setup(void)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_set_print(libbpf_print);
}

const char *gmt_libbpf_last_error(void)
{
	return last_libbpf_msg;
}

int gmt_load_exit_code(int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
	case EOPNOTSUPP:
	case 524:	/* ENOTSUPP, the kernel's own */
	case ESRCH:	/* no BTF for a CO-RE relocation */
	case ENOENT:	/* a hook or type this kernel does not have */
	case EINVAL:	/* the verifier refused a program for this kernel */
		return GMT_EXIT_UNSUPPORTED;
	}
	return GMT_EXIT_RUNTIME;
}

/* a kernel-side row: what gmt_select() proved works here */
static int plan_kernel_side(struct bpf_program *prog, struct gmt_attach_status *st,
			    const struct gmt_choice *ch)
{
	const struct gmt_prog_spec *spec = st->spec;

	bpf_program__set_autoload(prog, ch->chosen);
	if (!ch->chosen) {
		st->state = ch->twin_chosen ? GMT_ATT_NOT_WANTED : GMT_ATT_UNAVAILABLE;
		snprintf(st->reason, sizeof(st->reason), "%s", ch->reason);
		return 0;
	}
	st->target = ch->target;
	if ((spec->backend == GMT_BE_FENTRY || spec->backend == GMT_BE_TP_BTF) &&
	    bpf_program__set_attach_target(prog, 0, ch->target)) {
		gmt_err("internal: cannot target %s at %s", spec->prog, ch->target);
		return GMT_EXIT_RUNTIME;
	}
	return 0;
}

int gmt_obj_plan(struct bpf_object *obj, struct gmt_plan *plan, const struct gmt_selection *sel,
		 gmt_wanted_fn wanted, const void *ctx)
{
	struct bpf_program *prog;
	int err;

	plan->nr_status = 0;
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		const struct gmt_prog_spec *spec = gmt_prog_spec_find(name);
		struct gmt_attach_status *st;

		if (!spec) {
			gmt_err("internal: BPF program %s is not in the backend table", name);
			return GMT_EXIT_RUNTIME;
		}
		if (plan->nr_status >= GMT_MAX_PROGS)
			return GMT_EXIT_RUNTIME;
		st = &plan->status[plan->nr_status++];
		memset(st, 0, sizeof(*st));
		st->spec = spec;
		if (spec->feature && spec->want && wanted && !wanted(spec, ctx)) {
			/* a kernel-side row only some configurations want */
			bpf_program__set_autoload(prog, false);
			st->state = GMT_ATT_NOT_WANTED;
			snprintf(st->reason, sizeof(st->reason), "not wanted by this command's options");
			continue;
		}
		if (spec->feature) {
			err = plan_kernel_side(prog, st, &sel->c[spec - gmt_prog_specs]);
			if (err)
				return err;
			continue;
		}
		bpf_program__set_autoload(prog, !wanted || wanted(spec, ctx));
	}
	return 0;
}

int gmt_skel_load(struct bpf_object_skeleton *s, const char *what)
{
	int err = bpf_object__load_skeleton(s);
	const char *m = last_libbpf_msg;

	if (!err)
		return 0;
	gmt_err_what = "load";
	gmt_err("cannot load %s: %s%s%s", what, strerror(-err), m[0] ? "; libbpf: " : "", m);
	return gmt_load_exit_code(err);
}

struct bpf_program *gmt_obj_only(struct bpf_object *obj, const char *prog)
{
	struct bpf_program *p, *want = NULL;

	bpf_object__for_each_program(p, obj) {
		bool me = !strcmp(bpf_program__name(p), prog);

		bpf_program__set_autoload(p, me);
		if (me)
			want = p;
	}
	return want;
}

struct bpf_link *gmt_attach_spec(struct bpf_program *prog, const struct gmt_prog_spec *spec,
				 const char *target)
{
	/* kprobes take their target at attach time; trampolines at load */
	if (spec && spec->backend == GMT_BE_KPROBE && target)
		return bpf_program__attach_kprobe(prog,
				!strncmp(bpf_program__section_name(prog), "kretprobe", 9), target);
	return bpf_program__attach(prog);
}

static struct gmt_attach_status *status_of(struct gmt_plan *plan, const char *prog)
{
	int i;

	for (i = 0; i < plan->nr_status; i++)
		if (!strcmp(plan->status[i].spec->prog, prog))
			return &plan->status[i];
	return NULL;
}

int gmt_skel_attach(struct bpf_object_skeleton *s, struct gmt_plan *plan)
{
	int i;

	for (i = 0; i < s->prog_cnt; i++) {
		struct bpf_program *prog = *s->progs[i].prog;
		struct gmt_attach_status *st = status_of(plan, bpf_program__name(prog));
		struct bpf_link *link;
		int err;

		if (!st || !bpf_program__autoload(prog))
			continue;
		link = gmt_attach_spec(prog, st->spec, st->target);
		if (!link) {
			err = errno;
			st->state = GMT_ATT_FAILED;
			snprintf(st->reason, sizeof(st->reason), "attach failed: %s", strerror(err));
			if (!st->spec->required)
				continue;
			gmt_err_what = "attach";
			gmt_err("cannot attach %s (%s): %s", st->spec->prog, st->spec->hook,
				strerror(err));
			return gmt_load_exit_code(-err);
		}
		/* the skeleton destroys the links it holds */
		*s->progs[i].link = link;
		st->state = GMT_ATT_ATTACHED;
	}
	return 0;
}

struct bpf_link *gmt_skel_link(struct bpf_object_skeleton *s, const char *prog)
{
	int i;

	for (i = 0; i < s->prog_cnt; i++)
		if (!strcmp(s->progs[i].name, prog))
			return *s->progs[i].link;
	return NULL;
}
