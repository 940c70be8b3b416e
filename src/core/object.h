/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one loader, for any of gmemtrace's BPF objects (the tracer, the refs
 * iterator, the probes): open -> configure -> load -> attach, where the
 * backend table (backends.h) decides which programs load and where they
 * attach, and a failure becomes one message and one exit code. Each owner
 * writes its own rodata between open and load; nothing else differs.
 */
#ifndef GMT_OBJECT_H
#define GMT_OBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "backends.h"
#include "select.h"

struct bpf_object;
struct bpf_object_skeleton;
struct bpf_program;
struct bpf_link;

enum gmt_attach_state {
	GMT_ATT_NOT_WANTED = 0,
	GMT_ATT_ATTACHED,
	GMT_ATT_FAILED,
	GMT_ATT_UNAVAILABLE,	/* its feature could not be had on this kernel */
};

struct gmt_attach_status {
	const struct gmt_prog_spec *spec;
	enum gmt_attach_state state;
	const char *target;	/* kernel function or tracepoint, kernel-side rows */
	char reason[420];
};

/* the programs of one object and what became of each */
struct gmt_plan {
	struct gmt_attach_status status[GMT_MAX_PROGS];
	int nr_status;
};

/* is a program that stands alone wanted? (the owner's "wanted when" rules) */
typedef bool (*gmt_wanted_fn)(const struct gmt_prog_spec *spec, const void *ctx);

void gmt_libbpf_setup(void);
/* libbpf's last warning, for error reports ("" if none) */
const char *gmt_libbpf_last_error(void);

/* a load error (-errno) as an exit code: the kernel refusing (privilege, a
 * feature it lacks, no BTF) is GMT_EXIT_UNSUPPORTED, the rest runtime */
int gmt_load_exit_code(int err);

/* Decide, per program of obj, whether it loads and where it attaches: kernel-
 * side rows as sel proved, the others by wanted(). A program missing from
 * the table is an error (it would load unexamined). GMT_EXIT_* code. */
int gmt_obj_plan(struct bpf_object *obj, struct gmt_plan *plan, const struct gmt_selection *sel,
		 gmt_wanted_fn wanted, const void *ctx);

/* load a skeleton's object; on failure "cannot load WHAT: ..." and a code */
int gmt_skel_load(struct bpf_object_skeleton *s, const char *what);

/* attach what the plan loaded; links stay in the skeleton (freed with it).
 * A required program that cannot attach is fatal: its code is returned. */
int gmt_skel_attach(struct bpf_object_skeleton *s, struct gmt_plan *plan);

/* only prog of obj will load (probing one program); NULL if obj has none */
struct bpf_program *gmt_obj_only(struct bpf_object *obj, const char *prog);

/* attach one program as its row says (kprobes take their target now) */
struct bpf_link *gmt_attach_spec(struct bpf_program *prog, const struct gmt_prog_spec *spec,
				 const char *target);

/* the link of an attached program of the skeleton, NULL if none */
struct bpf_link *gmt_skel_link(struct bpf_object_skeleton *s, const char *prog);

#endif /* GMT_OBJECT_H */
