// SPDX-License-Identifier: GPL-2.0-only
/* A snapshot's holders per VM as view rows (stat and export, --holders). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "stats.h"
#include "view.h"

_Static_assert(sizeof(((struct gmt_holders_row_view *)0)->kinds) /
	       sizeof(struct gmt_holder_kind_count) == GMT_HOLDER_KINDS, "a count per kind");

static void view_hrow(struct gmt_holders_row_view *v, const struct gmt_stat_holders *h)
{
	unsigned int k;

	gmt_view_vm(&v->vm, h->vm_pid, h->vm_fd, h->vm_id);
	v->gone = h->gone;
	v->holders = h->holders;
	v->pinned_bytes = h->pinned_bytes;
	v->nr_kinds = 0;
	/* every kind this build names, so a series is there at 0 too */
	for (k = 1; k < GMT_HOLDER_KINDS; k++) {
		const char *name = gmt_holder_kind_name(k);

		if (!strcmp(name, "?"))
			continue;
		v->kinds[v->nr_kinds].kind = name;
		v->kinds[v->nr_kinds++].n = h->by_kind[k];
	}
	if (h->by_kind[0]) {	/* a kind newer than this build: counted, not hidden */
		v->kinds[v->nr_kinds].kind = "unknown";
		v->kinds[v->nr_kinds++].n = h->by_kind[0];
	}
}

int gmt_view_holders_rows(struct gmt_holders_row_view **out, int *nr,
			  const struct gmt_stat_snapshot *snap)
{
	int i;

	*out = NULL;
	*nr = 0;
	if (!snap->holders_on || !snap->nr_hvms)
		return 0;
	*out = calloc(snap->nr_hvms, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (i = 0; i < snap->nr_hvms; i++)
		view_hrow(&(*out)[i], &snap->hvms[i]);
	*nr = snap->nr_hvms;
	return 0;
}
