/* SPDX-License-Identifier: GPL-2.0-only */
/* The JSON format's own helpers, shared by json.c, json_refs.c, json_holders.c and
 * json_unpin.c. */
#ifndef GMT_OUTPUT_JSON_H
#define GMT_OUTPUT_JSON_H

#include <json-c/json.h>

#include "escape.h"
#include "output.h"

#define J_U64(v) json_object_new_uint64(v)
#define J_I64(v) json_object_new_int64(v)
#define J_BOOL(v) json_object_new_boolean(v)
/* every string through the escaping rule: json-c passes any byte through */
#define J_STR(v) json_object_new_string(gmt_escape_str(v, 0))

/* {"type":TYPE,"time":RFC 3339 of real_ns (or now)} to add fields to */
json_object *gmt_json_record(const char *type, __u64 real_ns);
json_object *gmt_json_record_now(struct gmt_out *o, const char *type);
/* one line, and the object is put */
void gmt_json_emit(struct gmt_out *o, json_object *obj);
/* a VM's identity: "vm", "vm_pid", "vm_fd", "vm_id" */
void gmt_json_vm(json_object *obj, const struct gmt_vm_view *vm);

void gmt_json_refs_gmem(struct gmt_out *o, const struct gmt_refs_gmem_view *v);
void gmt_json_refs_folio(struct gmt_out *o, const struct gmt_refs_folio_view *v);
void gmt_json_refs_summary(struct gmt_out *o, const struct gmt_refs_summary_view *v);
void gmt_json_refs_total(struct gmt_out *o, const struct gmt_refs_total_view *v);
void gmt_json_features(struct gmt_out *o, const struct gmt_features_view *v);
void gmt_json_unpin(struct gmt_out *o, const struct gmt_unpin_view *v);	/* json_unpin.c */

/* json_holders.c: a conversion's ,"holders":... (null unless blocked), and
 * stat's holders per VM (NULL when not tracked: the field is null) */
void gmt_json_blockers(struct gmt_line *l, const struct gmt_convert_view *c);
/* ,"stack":[{"ip":N,"sym":"..."},...]: the frames that fit the line; whether all did */
bool gmt_json_stack(struct gmt_line *l, const char *const *frames, const __u64 *ips, int n);
/* the same under another key (a gup_pin's kernel_stack) */
bool gmt_json_stack_key(struct gmt_line *l, const char *key, const char *const *frames,
			const __u64 *ips, int n);
json_object *gmt_json_stat_holders(const struct gmt_holders_row_view *rows, int nr, bool on);

#endif /* GMT_OUTPUT_JSON_H */
