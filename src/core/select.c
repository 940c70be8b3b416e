// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "select.h"

static bool func_has_args(struct btf *btf, int id, int nr_args)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	if (!t || !btf_is_func(t))
		return false;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) >= nr_args;
}

static bool btf_has(struct btf *btf, const struct gmt_prog_spec *spec, const char *name)
{
	char buf[128];
	int id;

	if (spec->backend == GMT_BE_TP_BTF) {
		/* a BTF-typed tracepoint is the typedef btf_trace_<name> */
		snprintf(buf, sizeof(buf), "btf_trace_%s", name);
		return btf__find_by_name_kind(btf, buf, BTF_KIND_TYPEDEF) > 0;
	}
	id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	return id > 0 && func_has_args(btf, id, spec->nr_args);
}

const char *gmt_resolve_target(const struct gmt_prog_spec *spec, struct btf *const *btfs,
			       int nr_btfs)
{
	int t, b;

	for (t = 0; t < GMT_MAX_TARGETS && spec->targets[t]; t++)
		for (b = 0; b < nr_btfs; b++)
			if (btfs[b] && btf_has(btfs[b], spec, spec->targets[t]))
				return spec->targets[t];
	return NULL;
}

static void targets_str(const struct gmt_prog_spec *spec, char *buf, size_t len)
{
	int t;

	buf[0] = 0;
	for (t = 0; t < GMT_MAX_TARGETS && spec->targets[t]; t++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", t ? "/" : "",
			 spec->targets[t]);
}

/* try every row of one feature with one backend; all must work */
static bool try_backend(struct gmt_selection *sel, const char *feature, enum gmt_backend be,
			struct btf *const *btfs, int nr_btfs, gmt_probe_fn probe, void *ctx,
			char *why, size_t len)
{
	const char *targets[64] = { 0 };
	int i, n = 0;

	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *sp = &gmt_prog_specs[i];
		char tw[160], tl[128];

		if (!sp->feature || strcmp(sp->feature, feature) || sp->backend != be)
			continue;
		n++;
		targets[i] = gmt_resolve_target(sp, btfs, nr_btfs);
		if (!targets[i]) {
			targets_str(sp, tl, sizeof(tl));
			if (be == GMT_BE_TP_BTF)
				snprintf(why, len, "tracepoint %s not in this kernel", tl);
			else
				snprintf(why, len, "%s: %s not in this kernel's BTF (absent or inlined)",
					 gmt_backend_name(be), tl);
			return false;
		}
		if (probe && probe(sp, targets[i], tw, sizeof(tw), ctx)) {
			snprintf(why, len, "%s on %s: %s", gmt_backend_name(be), targets[i], tw);
			return false;
		}
	}
	if (!n)
		return false;
	for (i = 0; i < gmt_nr_prog_specs; i++) {
		if (!targets[i])
			continue;
		sel->c[i].chosen = true;
		sel->c[i].target = targets[i];
	}
	return true;
}

void gmt_select(struct gmt_selection *sel, struct btf *const *btfs, int nr_btfs,
		enum gmt_kernel_pref pref, gmt_probe_fn probe, void *ctx)
{
	enum gmt_backend order[2] = { GMT_BE_FENTRY, GMT_BE_KPROBE };
	bool gmem_ioctl;
	int i, j, nb = 2;

	memset(sel, 0, sizeof(*sel));
	if (pref == GMT_KPREF_KPROBE) {
		order[0] = GMT_BE_KPROBE;
		order[1] = GMT_BE_FENTRY;
	} else if (pref == GMT_KPREF_FENTRY) {
		nb = 1;
	}
	/* the G2/G3-only markers matter only where the gmem ioctl exists */
	gmem_ioctl = false;
	for (i = 0; i < gmt_nr_prog_specs; i++)
		if (gmt_prog_specs[i].feature &&
		    !strcmp(gmt_prog_specs[i].feature, "gmem_kernel_latency") &&
		    gmt_resolve_target(&gmt_prog_specs[i], btfs, nr_btfs))
			gmem_ioctl = true;

	for (i = 0; i < gmt_nr_prog_specs; i++) {
		const struct gmt_prog_spec *sp = &gmt_prog_specs[i];
		char why[2][200] = { "", "" };
		bool done = false, seen = false;

		if (!sp->feature)
			continue;
		for (j = 0; j < i; j++)	/* each feature once */
			if (gmt_prog_specs[j].feature && !strcmp(gmt_prog_specs[j].feature, sp->feature))
				seen = true;
		if (seen)
			continue;
		if (pref == GMT_KPREF_NONE) {
			snprintf(why[0], sizeof(why[0]), "kernel-side backend turned off");
		} else if ((sp->flags & GMT_PS_GMEM_IOCTL) && !gmem_ioctl) {
			snprintf(why[0], sizeof(why[0]),
				 "only with a G2/G3 kernel (no kvm_gmem_ioctl in this kernel)");
		} else if (sp->backend == GMT_BE_TP_BTF) {
			done = try_backend(sel, sp->feature, GMT_BE_TP_BTF, btfs, nr_btfs, probe,
					   ctx, why[0], sizeof(why[0]));
		} else {
			for (j = 0; j < nb && !done; j++)
				done = try_backend(sel, sp->feature, order[j], btfs, nr_btfs, probe,
						   ctx, why[j], sizeof(why[j]));
		}
		if (done) {
			/* the twins of the winner: say why they stay unloaded */
			const char *winner = NULL;

			for (j = 0; j < gmt_nr_prog_specs; j++)
				if (sel->c[j].chosen && !strcmp(gmt_prog_specs[j].feature ?
								gmt_prog_specs[j].feature : "", sp->feature))
					winner = gmt_backend_name(gmt_prog_specs[j].backend);
			for (j = 0; j < gmt_nr_prog_specs; j++) {
				if (!gmt_prog_specs[j].feature || strcmp(gmt_prog_specs[j].feature, sp->feature) ||
				    sel->c[j].chosen)
					continue;
				sel->c[j].twin_chosen = true;
				if (why[0][0])	/* the preferred backend failed: keep why */
					snprintf(sel->c[j].reason, sizeof(sel->c[j].reason),
						 "%s; %s used instead", why[0], winner ? winner : "?");
				else
					snprintf(sel->c[j].reason, sizeof(sel->c[j].reason),
						 "not needed: %s uses %s", sp->feature,
						 winner ? winner : "?");
			}
			continue;
		}
		for (j = 0; j < gmt_nr_prog_specs; j++) {
			if (!gmt_prog_specs[j].feature || strcmp(gmt_prog_specs[j].feature, sp->feature))
				continue;
			snprintf(sel->c[j].reason, sizeof(sel->c[j].reason), "%s%s%s", why[0],
				 why[1][0] ? "; " : "", why[1]);
		}
	}
}

int gmt_kernel_btfs(struct btf **btfs, int max)
{
	int n = 0;

	if (max < 1)
		return 0;
	btfs[0] = btf__load_vmlinux_btf();
	if (!btfs[0])
		return -errno;
	n = 1;
	/* KVM as a module (Debian) keeps its functions in its own BTF */
	if (max > 1 && !access("/sys/kernel/btf/kvm", R_OK)) {
		btfs[1] = btf__load_module_btf("kvm", btfs[0]);
		if (btfs[1])
			n = 2;
	}
	return n;
}

void gmt_free_btfs(struct btf **btfs, int nr)
{
	int i;

	for (i = nr - 1; i >= 0; i--)
		btf__free(btfs[i]);
}

int gmt_parse_kernel_pref(const char *s, enum gmt_kernel_pref *p)
{
	static const char *const n[] = { "auto", "kprobe", "fentry", "none" };
	int i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, n[i])) {
			*p = i;
			return 0;
		}
	}
	return -EINVAL;
}
