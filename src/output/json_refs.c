// SPDX-License-Identifier: GPL-2.0-only
/* JSON of the one-shot commands: `refs` records ("type":"refs", one per
 * guest_memfd, folio, summary and the total) and the `features` table. */
#include <stdio.h>
#include <string.h>

#include "json.h"

static json_object *refs_record(struct gmt_out *o, const char *record)
{
	json_object *obj = gmt_json_record_now(o, "refs");

	json_object_object_add(obj, "record", json_object_new_string(record));
	return obj;
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* pid, fd and inode: which guest_memfd a record is about */
static json_object *gmem_record(struct gmt_out *o, const char *record, __u32 pid, __s32 fd,
				__u64 ino)
{
	json_object *obj = refs_record(o, record);

	add(obj, "pid", J_I64(pid));
	add(obj, "fd", J_I64(fd));
	add(obj, "gmem_ino", J_U64(ino));
	return obj;
}

void gmt_json_refs_gmem(struct gmt_out *o, const struct gmt_refs_gmem_view *v)
{
	json_object *obj = refs_record(o, "gmem"), *hs = json_object_new_array(), *rg = NULL;
	char comm[GMT_ESC_SIZE(16)];
	int i;

	gmt_escape(comm, sizeof(comm), v->comm, 16, 0);
	add(obj, "pid", J_I64(v->pid));
	add(obj, "comm", json_object_new_string(comm));	/* escaped above */
	add(obj, "fd", J_I64(v->fd));
	add(obj, "gmem_ino", J_U64(v->gmem_ino));
	add(obj, "vm", J_STR(v->vm.label));
	add(obj, "vm_pid", J_I64(v->vm.pid));
	add(obj, "vm_fd", J_I64(v->vm.fd));
	add(obj, "size", J_U64(v->size));
	add(obj, "flags", v->has_flags ? J_U64(v->flags) : NULL);
	add(obj, "cached_pages", J_U64(v->cached_pages));
	for (i = 0; i < v->nr_others; i++) {
		json_object *h = json_object_new_object();

		add(h, "pid", J_I64(v->others[i].pid));
		add(h, "fd", J_I64(v->others[i].fd));
		json_object_array_add(hs, h);
	}
	add(obj, "other_holders", hs);
	if (v->has_range) {
		rg = json_object_new_object();
		add(rg, "offset", J_U64(v->range_off));
		add(rg, "length", J_U64(v->range_len));
	}
	add(obj, "range", rg);
	gmt_json_emit(o, obj);
}

/* --holders: attributed + unattributed == excess_refs, always */
static void add_holders(json_object *obj, const struct gmt_refs_folio_view *v)
{
	json_object *arr = json_object_new_array();
	int i;

	for (i = 0; i < v->nr_attr; i++) {
		const struct gmt_refs_attr_view *a = &v->attr[i];
		json_object *h = json_object_new_object();
		char comm[GMT_ESC_SIZE(16)];

		add(h, "kind", J_STR(a->kind));
		add(h, "pid", J_U64(a->pid));
		gmt_escape(comm, sizeof(comm), a->comm, 16, 0);
		add(h, "comm", json_object_new_string(comm));	/* escaped above */
		add(h, "fd", J_I64(a->fd));
		/* every holder has every key: null where the kind has none */
		add(h, "buf_index", a->has_iova ? NULL : J_U64(a->buf_index));
		add(h, "iova", a->has_iova ? J_U64(a->iova) : NULL);
		add(h, "mapping_iova", a->has_iova ? J_U64(a->map_iova) : NULL);
		add(h, "mapping_size", a->has_iova ? J_U64(a->map_size) : NULL);
		add(h, "ioas_id", a->has_ioas ? J_U64(a->ioas_id) : NULL);
		add(h, "pages", J_U64(a->pages));
		add(h, "refs", J_U64(a->refs));
		json_object_array_add(arr, h);
	}
	add(obj, "holders", arr);
	add(obj, "excess_refs", J_U64(v->excess_refs));
	add(obj, "unattributed", J_U64(v->unattributed));
	add(obj, "unattributed_why", v->unattributed_why ? J_STR(v->unattributed_why) : NULL);
}

void gmt_json_refs_folio(struct gmt_out *o, const struct gmt_refs_folio_view *v)
{
	json_object *obj = gmem_record(o, "folio", v->pid, v->fd, v->gmem_ino);
	char flags[24];

	add(obj, "index", J_U64(v->index));
	add(obj, "offset", J_U64(v->offset));
	add(obj, "pfn", v->has_pfn ? J_U64(v->pfn) : NULL);
	/* a large folio whose order this kernel does not expose */
	add(obj, "order", v->has_order ? J_I64(v->order) : NULL);
	add(obj, "nr_pages", J_U64(v->nr_pages));
	add(obj, "refcount", J_I64(v->refcount));
	add(obj, "expected", J_U64(v->expected));
	add(obj, "mapcount", J_I64(v->mapcount));
	add(obj, "pincount", v->has_pincount ? J_I64(v->pincount) : NULL);
	add(obj, "pins", J_U64(v->pins));
	add(obj, "other", J_U64(v->other));
	add(obj, "lru", J_BOOL(v->lru));
	add(obj, "lru_batch", J_U64(v->lru_batch));
	add(obj, "blocking", J_BOOL(v->blocking));
	add(obj, "verdict", J_STR(v->verdict));
	snprintf(flags, sizeof(flags), "0x%llx", v->page_flags);
	add(obj, "page_flags", J_STR(flags));
	if (v->holders)
		add_holders(obj, v);
	gmt_json_emit(o, obj);
}

void gmt_json_refs_summary(struct gmt_out *o, const struct gmt_refs_summary_view *v)
{
	json_object *obj = gmem_record(o, "summary", v->pid, v->fd, v->gmem_ino);

	add(obj, "folios_scanned", J_U64(v->scanned));
	add(obj, "pages_scanned", J_U64(v->pages));
	add(obj, "blocking", J_U64(v->blocking));
	add(obj, "pinned_folios", J_U64(v->pinned));
	add(obj, "pins", J_U64(v->pins));
	add(obj, "other_folios", J_U64(v->other));
	add(obj, "mapped", J_U64(v->mapped));
	add(obj, "lru_batch", J_U64(v->lru_batch));
	add(obj, "stale", J_U64(v->stale));
	add(obj, "listed", J_U64(v->listed));
	add(obj, "complete", J_BOOL(v->complete));
	add(obj, "truncated", J_BOOL(v->truncated));
	add(obj, "status", J_STR(v->status));
	if (v->holders) {
		add(obj, "attributed_refs", J_U64(v->attributed_refs));
		add(obj, "unattributed_refs", J_U64(v->unattributed_refs));
	}
	add(obj, "passes", J_U64(v->passes));
	add(obj, "elapsed_ns", J_U64(v->elapsed_ns));
	gmt_json_emit(o, obj);
}

void gmt_json_refs_total(struct gmt_out *o, const struct gmt_refs_total_view *v)
{
	json_object *obj = refs_record(o, "total"), *e = json_object_new_array();
	int i;

	add(obj, "gmems", J_I64(v->gmems));
	add(obj, "folios_scanned", J_U64(v->scanned));
	add(obj, "blocking", J_U64(v->blocking));
	add(obj, "pinned_folios", J_U64(v->pinned));
	add(obj, "pins", J_U64(v->pins));
	for (i = 0; i < v->nr_pids_without_gmem; i++)
		json_object_array_add(e, J_I64(v->pids_without_gmem[i]));
	add(obj, "pids_without_gmem", e);
	add(obj, "truncated", J_BOOL(v->truncated));
	add(obj, "complete", J_BOOL(v->complete));
	add(obj, "pfn_known", J_BOOL(v->pfn_known));
	add(obj, "elapsed_ns", J_U64(v->elapsed_ns));
	gmt_json_emit(o, obj);
}

/* one object: "type":"features", the kernel, then an array per section */
void gmt_json_features(struct gmt_out *o, const struct gmt_features_view *v)
{
	json_object *obj = json_object_new_object();
	int i;

	add(obj, "type", json_object_new_string("features"));
	add(obj, "kernel", json_object_new_string(v->kernel));
	for (i = 0; i < v->nr_rows; i++) {
		const struct gmt_feature_row *r = &v->rows[i];
		json_object *sec, *row = json_object_new_object();

		if (!json_object_object_get_ex(obj, r->section, &sec)) {
			sec = json_object_new_array();
			add(obj, r->section, sec);
		}
		add(row, "name", json_object_new_string(r->name));
		add(row, "available", r->state == GMT_FEAT_NA ? NULL : J_BOOL(r->state));
		add(row, "detail", json_object_new_string(r->detail));
		json_object_array_add(sec, row);
	}
	gmt_json_emit(o, obj);
}
