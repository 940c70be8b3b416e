/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend table, as data: every BPF program gmemtrace has (gmt_prog_specs:
 * what it attaches to, what it gives, when it is wanted) and every feature
 * that kernel-side programs give (gmt_features: the backends to try, in
 * order, and what the kernel must have first). The loader, selection and
 * `gmemtrace features` all walk these two tables; nothing else decides what
 * loads. Adding a program is one row here plus its BPF body.
 *
 * Programs that give the same thing in different ways share a feature; the
 * feature's backends are tried in its order, and every program of the
 * chosen backend must attach, or none of them is used. Each program lists
 * its candidate targets newest name first, each with the kernel commit or
 * series that gave it that name.
 */
#ifndef GMT_BACKENDS_H
#define GMT_BACKENDS_H

#include <stdbool.h>

enum gmt_backend {
	GMT_BE_UAPI = 0,	/* syscall tracepoints: works everywhere */
	GMT_BE_TP_BTF,		/* BTF-typed tracepoints */
	GMT_BE_FENTRY,		/* fentry/fexit trampolines */
	GMT_BE_KPROBE,		/* kprobe/kretprobe twins of the fentry rows */
	GMT_BE_LSM,		/* BPF LSM (policy) */
	GMT_BE_ITER,		/* BPF iterators, run on demand by user space */
	GMT_BE_FMOD_RET,	/* fmod_ret trampolines (policy, where BPF LSM is off) */
	GMT_BE_MAX,
};

/*
 * When a program is wanted: one rule per program, each a predicate over the
 * command's configuration (src/core/loader.c, want_holds). A new mode (policy
 * enforcement, holder tracking) is a new value and its predicate.
 */
enum gmt_want {
	GMT_WANT_ALWAYS = 0,
	GMT_WANT_CONTEXT,		/* context events are streamed */
	GMT_WANT_FOLLOW,		/* a pid filter follows forks */
	GMT_WANT_GUEST,			/* guest requests are followed */
	GMT_WANT_FOLLOW_OR_GUEST,
	GMT_WANT_HOLDERS,		/* --holders: who holds guest_memfd pages */
	GMT_WANT_KERNEL_PINS,		/* --kernel-pins: GUP pins of them, in the kernel */
	GMT_WANT_ENFORCE_LSM,		/* enforce, with the BPF LSM hook */
	GMT_WANT_ENFORCE_FMOD,		/* enforce, with the fmod_ret fallback */
	GMT_WANT_MAX,
};

#define GMT_MAX_TARGETS		4
#define GMT_MAX_ORDER		3
/* rows of gmt_prog_specs at most (per-row state is sized by it; checked at
 * compile time in backends.c) */
#define GMT_MAX_PROGS		128

/* A kernel function or tracepoint a program may attach to */
struct gmt_target {
	const char *name;
	const char *since;	/* the commit or series that gave the kernel this name */
};

/* What a group of kernel-side programs gives, and how it may be had */
struct gmt_feature {
	const char *name;
	const char *gives;
	enum gmt_backend order[GMT_MAX_ORDER];	/* tried first to last */
	int nr_order;
	/* another feature whose targets this kernel must have (the G2/G3
	 * markers matter only where the guest_memfd ioctl exists); NULL */
	const char *requires;
	const char *requires_why;	/* said when it does not */
};

struct gmt_prog_spec {
	const char *prog;	/* program name in the BPF object */
	const char *object;	/* which object: NULL the tracer's, "refs" refs' */
	enum gmt_backend backend;
	const char *hook;	/* attach point, as a human reads it */
	enum gmt_want want;
	bool required;		/* tracing cannot work without it */
	const char *gives;	/* one line: what it contributes */
	const char *feature;	/* a gmt_features name; NULL: stands alone */
	struct gmt_target targets[GMT_MAX_TARGETS];	/* newest name first */
	int nr_args;		/* arguments the program reads from its target */
};

extern const struct gmt_prog_spec gmt_prog_specs[];
extern const int gmt_nr_prog_specs;
extern const struct gmt_feature gmt_features[];
extern const int gmt_nr_features;

const char *gmt_backend_name(enum gmt_backend be);
const struct gmt_prog_spec *gmt_prog_spec_find(const char *prog);
const struct gmt_feature *gmt_feature_find(const char *name);

#endif /* GMT_BACKENDS_H */
