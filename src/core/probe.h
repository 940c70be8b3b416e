/* SPDX-License-Identifier: GPL-2.0-only */
/* Probing by loading: BPF capabilities, gmemtrace's own programs. */
#ifndef GMT_PROBE_H
#define GMT_PROBE_H

#include <stdbool.h>
#include <stddef.h>

struct gmt_probe_result {
	bool ok;
	int err;		/* positive errno when !ok */
	char reason[200];	/* "refused by the kernel at load (EPERM)" */
};

/* one capability program of bpf/probes.bpf.c, loaded and attached alone */
void gmt_probe_capability(const char *prog, struct gmt_probe_result *r);
/* one row of the backend table, loaded and attached alone */
void gmt_probe_program(const char *prog, struct gmt_probe_result *r);

struct bpf_program;
struct bpf_link;
struct gmt_prog_spec;
/* attach one program of the table (kprobes get their target here) */
struct bpf_link *gmt_attach_spec(struct bpf_program *prog, const struct gmt_prog_spec *spec,
				 const char *target);

/* load one program of the table against target without attaching: does this
 * kernel's verifier accept it (CO-RE relocations included)? */
void gmt_verify_program(const struct gmt_prog_spec *spec, const char *target,
			struct gmt_probe_result *r);

struct gmt_capability {
	const char *name;	/* shown by features */
	const char *prog;	/* in probes.bpf.c */
	const char *what;
};
extern const struct gmt_capability gmt_capabilities[];
extern const int gmt_nr_capabilities;

#endif /* GMT_PROBE_H */
