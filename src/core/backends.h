/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The backend table: every BPF program gmemtrace has, what it attaches to,
 * what it gives, and when it is wanted. The loader and `gmemtrace features`
 * both walk this one table; nothing else decides what loads.
 *
 * Programs that give the same thing in different ways share a feature name;
 * within a feature the backends are tried in order of preference (fentry,
 * then kprobe) and every program of the chosen backend must attach, or none
 * of them is used. Candidate targets are listed newest name first.
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
	GMT_BE_MAX,
};

/* When a row is wanted */
#define GMT_PS_REQUIRED		(1u << 0)	/* tracing cannot work without it */
#define GMT_PS_CONTEXT		(1u << 1)	/* only when context events are wanted */
#define GMT_PS_FOLLOW		(1u << 2)	/* only with a pid filter (fork follow) */
#define GMT_PS_GMEM_IOCTL	(1u << 3)	/* only if the kernel has G2 or G3 */
#define GMT_PS_GUEST		(1u << 4)	/* only when guest requests are followed */
/* A row with both GMT_PS_FOLLOW and GMT_PS_GUEST is wanted when either is. */

#define GMT_MAX_TARGETS		4

struct gmt_prog_spec {
	const char *prog;	/* program name in the BPF object */
	enum gmt_backend backend;
	const char *hook;	/* attach point, as a human reads it */
	unsigned int flags;
	const char *gives;	/* one line: what it contributes */
	const char *feature;	/* NULL: stands alone (uAPI rows) */
	const char *targets[GMT_MAX_TARGETS];	/* kernel functions, newest name first */
	int nr_args;		/* arguments the program reads from its target */
};

extern const struct gmt_prog_spec gmt_prog_specs[];
extern const int gmt_nr_prog_specs;

const char *gmt_backend_name(enum gmt_backend be);
const struct gmt_prog_spec *gmt_prog_spec_find(const char *prog);

#endif /* GMT_BACKENDS_H */
