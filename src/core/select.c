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

	for (t = 0; t < GMT_MAX_TARGETS && spec->targets[t].name; t++)
		for (b = 0; b < nr_btfs; b++)
			if (btfs[b] && btf_has(btfs[b], spec, spec->targets[t].name))
				return spec->targets[t].name;
	return NULL;
}

static void targets_str(const struct gmt_prog_spec *spec, char *buf, size_t len)
{
	int t;

	buf[0] = 0;
	for (t = 0; t < GMT_MAX_TARGETS && spec->targets[t].name; t++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", t ? "/" : "",
			 spec->targets[t].name);
}

/* try every row of one feature with one backend; all must work */
static bool try_backend(struct gmt_selection *sel, const char *feature, enum gmt_backend be,
			struct btf *const *btfs, int nr_btfs, gmt_probe_fn probe, void *ctx,
			char *why, size_t len)
{
	const char *targets[GMT_MAX_PROGS] = { 0 };
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

/* a reason longer than the room for it is cut, not refused */
static void copy_cut(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* the feature's backends in the order the user's preference makes them */
static int backend_order(const struct gmt_feature *f, enum gmt_kernel_pref pref,
			 enum gmt_backend *order)
{
	int i, n = 0;

	if (pref == GMT_KPREF_NONE)
		return 0;
	if (pref == GMT_KPREF_KPROBE)	/* kprobes first where the feature has them */
		for (i = 0; i < f->nr_order; i++)
			if (f->order[i] == GMT_BE_KPROBE)
				order[n++] = GMT_BE_KPROBE;
	for (i = 0; i < f->nr_order; i++) {
		if (f->order[i] == GMT_BE_KPROBE && pref != GMT_KPREF_AUTO)
			continue;	/* placed first above, or refused (fentry only) */
		order[n++] = f->order[i];
	}
	return n;
}

/* does this kernel have what the feature requires first? */
static bool requirement_met(const struct gmt_feature *f, struct btf *const *btfs, int nr_btfs)
{
	int i;

	if (!f->requires)
		return true;
	for (i = 0; i < gmt_nr_prog_specs; i++)
		if (gmt_prog_specs[i].feature && !strcmp(gmt_prog_specs[i].feature, f->requires) &&
		    gmt_resolve_target(&gmt_prog_specs[i], btfs, nr_btfs))
			return true;
	return false;
}

static bool in_feature(int i, const char *feature)
{
	return gmt_prog_specs[i].feature && !strcmp(gmt_prog_specs[i].feature, feature);
}

/* the programs of the backend that lost or was not needed: say why */
static void explain_twins(struct gmt_selection *sel, const char *feature, const char *failed)
{
	const char *winner = "?";
	int j;

	for (j = 0; j < gmt_nr_prog_specs; j++)
		if (sel->c[j].chosen && in_feature(j, feature))
			winner = gmt_backend_name(gmt_prog_specs[j].backend);
	for (j = 0; j < gmt_nr_prog_specs; j++) {
		if (!in_feature(j, feature) || sel->c[j].chosen)
			continue;
		sel->c[j].twin_chosen = true;
		if (failed[0])	/* the preferred backend failed: keep why */
			snprintf(sel->c[j].reason, sizeof(sel->c[j].reason), "%s; %s used instead",
				 failed, winner);
		else
			snprintf(sel->c[j].reason, sizeof(sel->c[j].reason),
				 "not needed: %s uses %s", feature, winner);
	}
}

static void select_feature(struct gmt_selection *sel, const struct gmt_feature *f,
			   struct btf *const *btfs, int nr_btfs, enum gmt_kernel_pref pref,
			   gmt_probe_fn probe, void *ctx)
{
	enum gmt_backend order[GMT_MAX_ORDER];
	char why[GMT_MAX_ORDER][200] = { "" };
	char all[GMT_MAX_ORDER * 202] = "";
	int nb = backend_order(f, pref, order), j;

	if (!nb) {
		snprintf(all, sizeof(all), pref == GMT_KPREF_NONE ?
			 "kernel-side backend turned off" : "no backend allowed by --kernel-backend");
	} else if (!requirement_met(f, btfs, nr_btfs)) {
		snprintf(all, sizeof(all), "%s", f->requires_why ? f->requires_why : f->requires);
	} else {
		for (j = 0; j < nb; j++) {
			if (try_backend(sel, f->name, order[j], btfs, nr_btfs, probe, ctx, why[j],
					sizeof(why[j]))) {
				explain_twins(sel, f->name, why[0]);
				return;
			}
		}
		for (j = 0; j < nb; j++) {
			size_t used = strlen(all);

			snprintf(all + used, sizeof(all) - used, "%s%.199s",
				 j && why[j][0] ? "; " : "", why[j]);
		}
	}
	for (j = 0; j < gmt_nr_prog_specs; j++)
		if (in_feature(j, f->name))
			copy_cut(sel->c[j].reason, sizeof(sel->c[j].reason), all);
}

void gmt_select(struct gmt_selection *sel, struct btf *const *btfs, int nr_btfs,
		enum gmt_kernel_pref pref, gmt_probe_fn probe, void *ctx)
{
	int i;

	memset(sel, 0, sizeof(*sel));
	for (i = 0; i < gmt_nr_features; i++)
		select_feature(sel, &gmt_features[i], btfs, nr_btfs, pref, probe, ctx);
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
