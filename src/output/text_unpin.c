// SPDX-License-Identifier: GPL-2.0-only
/*
 * `enforce --unpin` in text: a `removed PATH` line per entry, then the
 * directory; failures on stderr (they are no record); hooks a running
 * enforce still holds.
 */
#include <string.h>

#include "text.h"

void text_unpin(struct gmt_out *o, const struct gmt_unpin_view *v)
{
	int i;

	for (i = 0; i < v->nr_removed_named; i++)
		fprintf(o->f, "removed %s/%s\n", v->dir, v->removed[i]);
	if (v->nr_removed > v->nr_removed_named)
		fprintf(o->f, "removed %d more under %s\n", v->nr_removed - v->nr_removed_named,
			v->dir);
	for (i = 0; i < v->nr_failed_named; i++)
		fprintf(stderr, "gmemtrace: cannot remove %s/%s: %s\n", v->dir, v->failed[i].name,
			strerror(v->failed[i].err));
	if (v->nr_failed > v->nr_failed_named)
		fprintf(stderr, "gmemtrace: cannot remove %d more under %s\n",
			v->nr_failed - v->nr_failed_named, v->dir);
	if (v->dir_removed && v->nr_removed)
		fprintf(o->f, "removed %s/\n", v->dir);
	else if (!v->nr_removed && !v->nr_failed && !v->dir_err)
		fprintf(o->f, "nothing was pinned at %s\n", v->dir);
	for (i = 0; i < v->nr_attached; i++)
		fprintf(o->f, "still attached: %s (link %u, prog %u), held by a running gmemtrace "
			"enforce: it ends when that process exits\n", v->attached[i].prog,
			v->attached[i].link_id, v->attached[i].prog_id);
}
