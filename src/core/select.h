/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Choosing the kernel-side programs from the backend table: resolve each
 * row's candidate targets against the kernel's BTF (vmlinux and the kvm
 * module), then prove the choice by loading and attaching (a callback, so the
 * resolution can be tested against BTF built in a test).
 */
#ifndef GMT_SELECT_H
#define GMT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "backends.h"

struct btf;

enum gmt_kernel_pref {
	GMT_KPREF_AUTO = 0,	/* fentry, then kprobe */
	GMT_KPREF_KPROBE,	/* kprobe, then fentry */
	GMT_KPREF_FENTRY,	/* fentry only */
	GMT_KPREF_NONE,		/* uAPI only */
};

struct gmt_choice {
	bool chosen;
	bool twin_chosen;	/* not chosen because another backend gives the same */
	const char *target;	/* the candidate that resolved and attached */
	char reason[420];	/* why not chosen */
};

struct gmt_selection {
	struct gmt_choice c[GMT_MAX_PROGS];	/* indexed like gmt_prog_specs */
};

/* 0 if the program loads and attaches on target, else -errno and why */
typedef int (*gmt_probe_fn)(const struct gmt_prog_spec *spec, const char *target,
			    char *why, size_t len, void *ctx);

/* the first candidate of spec that this BTF set has with enough arguments */
const char *gmt_resolve_target(const struct gmt_prog_spec *spec, struct btf *const *btfs,
			       int nr_btfs);

void gmt_select(struct gmt_selection *sel, struct btf *const *btfs, int nr_btfs,
		enum gmt_kernel_pref pref, gmt_probe_fn probe, void *ctx);

/* the running kernel's BTF: vmlinux plus the kvm module when it has its own */
int gmt_kernel_btfs(struct btf **btfs, int max);
void gmt_free_btfs(struct btf **btfs, int nr);

/* the real probe: load and attach the program alone (src/probe.c) */
int gmt_probe_by_loading(const struct gmt_prog_spec *spec, const char *target, char *why,
			 size_t len, void *ctx);

int gmt_parse_kernel_pref(const char *s, enum gmt_kernel_pref *p);

#endif /* GMT_SELECT_H */
