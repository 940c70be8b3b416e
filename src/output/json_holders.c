// SPDX-License-Identifier: GPL-2.0-only
/*
 * Holders in the JSON format: a blocked conversion's "holders" object (in
 * the event line, which has a fixed size: a holder or a frame that would not
 * fit is left out and counted, never cut in half) and stat's holders per VM.
 */
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "stacks.h"

/* room kept for what follows in the line: the holders' closing and the record's */
#define TAIL_ROOM	64
/* a holder without its stack, at most (comm escaped to \u00XX: 6 bytes a byte) */
#define HOLDER_ROOM	(400 + 6 * GMT_COMM_LEN)

static size_t room(const struct gmt_line *l)
{
	return l->end - l->p;
}

static void put_key_u(struct gmt_line *l, const char *key, __u64 v)
{
	gmt_puts(l, key);
	gmt_put_u64(l, v);
}

bool gmt_json_stack(struct gmt_line *l, const char *const *frames, const __u64 *ips, int n)
{
	return gmt_json_stack_key(l, ",\"stack\":[", frames, ips, n);
}

/* key: the opening, ",\"name\":[" */
bool gmt_json_stack_key(struct gmt_line *l, const char *key, const char *const *frames,
			const __u64 *ips, int n)
{
	char sym[GMT_ESC_SIZE(GMT_FRAME_LEN)];
	size_t len;
	int i;

	gmt_puts(l, key);
	for (i = 0; i < n; i++) {
		len = gmt_escape(sym, sizeof(sym), frames[i], strlen(frames[i]), GMT_ESC_JSON);
		if (room(l) < len + 48 + TAIL_ROOM)
			break;
		gmt_puts(l, i ? ",{\"ip\":" : "{\"ip\":");
		gmt_put_u64(l, ips[i]);
		gmt_puts(l, ",\"sym\":\"");
		gmt_put(l, sym, len);
		gmt_puts(l, "\"}");
	}
	gmt_putc(l, ']');
	return i == n;
}

static void put_blocker(struct gmt_line *l, const struct gmt_blocker_view *h, bool has_refs)
{
	bool complete;

	gmt_puts(l, "{\"kind\":\"");
	gmt_puts(l, h->kind);
	put_key_u(l, "\",\"pid\":", h->pid);
	gmt_puts(l, ",\"comm\":\"");
	gmt_put_esc(l, h->comm, strnlen(h->comm, GMT_COMM_LEN), GMT_ESC_JSON);
	gmt_puts(l, "\",\"fd\":");
	gmt_put_s64(l, h->fd);
	put_key_u(l, ",\"index\":", h->index);
	gmt_puts(l, ",\"iova\":");
	if (gmt_holder_has_iova(h->holder_kind))
		gmt_put_u64(l, h->iova);
	else
		gmt_puts(l, "null");
	gmt_puts(l, ",\"paddr\":");
	if (h->holder_kind == GMT_HOLD_IOMMU_MAP || h->device_mapping)
		gmt_put_u64(l, h->paddr);
	else
		gmt_puts(l, "null");
	gmt_puts(l, ",\"device_mapping\":");
	if (h->device_mapping)
		gmt_put_u64(l, h->device_mapping);
	else
		gmt_puts(l, "null");
	put_key_u(l, ",\"gmem_ino\":", h->gmem_ino);
	put_key_u(l, ",\"gmem_offset\":", h->gmem_offset);
	put_key_u(l, ",\"size\":", h->size);
	put_key_u(l, ",\"uaddr\":", h->uaddr);
	gmt_puts(l, ",\"since\":\"");
	gmt_put_time(l, h->since_real_ns, true);
	put_key_u(l, "\",\"held_ns\":", h->held_ns);
	gmt_puts(l, ",\"refs\":");
	if (has_refs)
		gmt_put_u64(l, h->refs);
	else
		gmt_puts(l, "null");
	put_key_u(l, ",\"holder_id\":", h->id);
	complete = gmt_json_stack(l, h->frames, h->frame_ips, h->nr_frames);
	gmt_puts(l, complete ? ",\"stack_complete\":true}" : ",\"stack_complete\":false}");
}

void gmt_json_blockers(struct gmt_line *l, const struct gmt_convert_view *c)
{
	const struct gmt_blockers_view *b = &c->holders;
	int i, named = 0;

	if (!c->blocked) {
		gmt_puts(l, ",\"holders\":null");
		return;
	}
	if (!b->traced) {
		gmt_puts(l, ",\"holders\":{\"traced\":false,\"hint\":\"trace --holders names them\"}");
		return;
	}
	put_key_u(l, ",\"holders\":{\"traced\":true,\"count\":", b->nr_holders);
	put_key_u(l, ",\"records_lost\":", b->records_lost);
	if (b->has_refs) {
		put_key_u(l, ",\"excess_refs\":", b->excess);
		put_key_u(l, ",\"attributed_refs\":", b->attributed);
		put_key_u(l, ",\"unattributed_refs\":", b->unattributed);
	} else {
		gmt_puts(l, ",\"excess_refs\":null,\"attributed_refs\":null,"
			 "\"unattributed_refs\":null");
	}
	gmt_puts(l, ",\"unattributed_why\":");
	if (b->unattributed_why) {
		gmt_putc(l, '"');
		gmt_puts(l, b->unattributed_why);	/* a constant sentence */
		gmt_putc(l, '"');
	} else {
		gmt_puts(l, "null");
	}
	gmt_puts(l, ",\"list\":[");
	for (i = 0; i < b->nr && room(l) > HOLDER_ROOM + TAIL_ROOM; i++, named++) {
		if (i)
			gmt_putc(l, ',');
		put_blocker(l, &b->h[i], b->has_refs);
	}
	/* the holders over the folio not in the list (its size, the line's) */
	put_key_u(l, "],\"unlisted\":", b->nr_holders - named);
	gmt_putc(l, '}');
}

json_object *gmt_json_stat_holders(const struct gmt_holders_row_view *rows, int nr, bool on)
{
	json_object *arr;
	int i, k;

	if (!on)
		return NULL;	/* null: not tracked (--holders) */
	arr = json_object_new_array();
	for (i = 0; i < nr; i++) {
		const struct gmt_holders_row_view *r = &rows[i];
		json_object *o = json_object_new_object(), *kinds = json_object_new_object();

		gmt_json_vm(o, &r->vm);
		json_object_object_add(o, "gone", J_BOOL(r->gone));
		json_object_object_add(o, "holders", J_U64(r->holders));
		for (k = 0; k < r->nr_kinds; k++)
			json_object_object_add(kinds, r->kinds[k].kind, J_U64(r->kinds[k].n));
		json_object_object_add(o, "by_kind", kinds);
		json_object_object_add(o, "pinned_bytes", J_U64(r->pinned_bytes));
		json_object_array_add(arr, o);
	}
	return arr;
}
