// SPDX-License-Identifier: GPL-2.0-only
/*
 * `enforce --unpin -f json`: one `unpin` record (docs/json-schema.md) with
 * what was removed, what could not be, and the hooks still attached.
 */
#include <string.h>

#include "json.h"
#include "names.h"

static json_object *errno_obj(int err)
{
	const char *name = gmt_errno_name(err);

	return name ? J_STR(name) : NULL;
}

void gmt_json_unpin(struct gmt_out *o, const struct gmt_unpin_view *v)
{
	json_object *obj = gmt_json_record("unpin", v->ts_ns + o->real_off);
	json_object *removed = json_object_new_array(), *failed = json_object_new_array();
	json_object *attached = json_object_new_array(), *f, *h;
	int i;

	json_object_object_add(obj, "dir", J_STR(v->dir));
	json_object_object_add(obj, "pinned", J_BOOL(v->nr_removed || v->nr_failed));
	for (i = 0; i < v->nr_removed_named; i++)
		json_object_array_add(removed, J_STR(v->removed[i]));
	json_object_object_add(obj, "removed", removed);
	json_object_object_add(obj, "nr_removed", J_I64(v->nr_removed));
	json_object_object_add(obj, "dir_removed", J_BOOL(v->dir_removed));
	for (i = 0; i < v->nr_failed_named; i++) {
		f = json_object_new_object();
		json_object_object_add(f, "name", J_STR(v->failed[i].name));
		json_object_object_add(f, "errno", errno_obj(v->failed[i].err));
		json_object_object_add(f, "message", J_STR(strerror(v->failed[i].err)));
		json_object_array_add(failed, f);
	}
	json_object_object_add(obj, "failed", failed);
	json_object_object_add(obj, "nr_failed", J_I64(v->nr_failed));
	json_object_object_add(obj, "dir_errno", v->dir_err ? errno_obj(v->dir_err) : NULL);
	for (i = 0; i < v->nr_attached; i++) {
		h = json_object_new_object();
		json_object_object_add(h, "program", J_STR(v->attached[i].prog));
		json_object_object_add(h, "link_id", J_U64(v->attached[i].link_id));
		json_object_object_add(h, "prog_id", J_U64(v->attached[i].prog_id));
		json_object_array_add(attached, h);
	}
	json_object_object_add(obj, "still_attached", attached);
	gmt_json_emit(o, obj);
}
