// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "memslots.h"

void gmt_memslots_update(struct gmt_memslots *m, const struct gmt_event *e)
{
	const struct gmt_memslot *ms = &e->memslot;
	struct gmt_memslot_entry *ent = NULL;
	int i;

	if (e->hdr.type != GMT_EV_MEMSLOT || e->hdr.ret != 0)
		return;
	for (i = 0; i < m->nr; i++) {
		if (m->v[i].vm_key == e->hdr.vm_key && m->v[i].slot == ms->slot) {
			ent = &m->v[i];
			break;
		}
	}
	if (!ms->size || !(ms->flags & GMT_KVM_MEM_GUEST_MEMFD)) {
		/* deleted, or not backed by guest_memfd: nothing to translate */
		if (ent)
			*ent = m->v[--m->nr];
		return;
	}
	if (!ent) {
		if (m->nr == m->cap) {
			int cap = m->cap ? m->cap * 2 : 16;
			struct gmt_memslot_entry *v = realloc(m->v, cap * sizeof(*v));

			if (!v)
				return;
			m->v = v;
			m->cap = cap;
		}
		ent = &m->v[m->nr++];
	}
	ent->vm_key = e->hdr.vm_key;
	ent->slot = ms->slot;
	ent->gpa = ms->gpa;
	ent->size = ms->size;
	ent->gmem_ino = ms->gmem_ino;
	ent->gmem_offset = ms->gmem_offset;
}

bool gmt_memslots_translate(const struct gmt_memslots *m, __u64 vm_key, __u64 gpa,
			    __u64 *gmem_ino, __u64 *gmem_offset)
{
	int i;

	for (i = 0; i < m->nr; i++) {
		const struct gmt_memslot_entry *s = &m->v[i];

		if (s->vm_key == vm_key && gpa >= s->gpa && gpa - s->gpa < s->size) {
			*gmem_ino = s->gmem_ino;
			*gmem_offset = s->gmem_offset + (gpa - s->gpa);
			return true;
		}
	}
	return false;
}

void gmt_memslots_drop_vm(struct gmt_memslots *m, __u64 vm_key)
{
	int i = 0;

	while (i < m->nr) {
		if (m->v[i].vm_key == vm_key)
			m->v[i] = m->v[--m->nr];
		else
			i++;
	}
}

void gmt_memslots_free(struct gmt_memslots *m)
{
	free(m->v);
	m->v = NULL;
	m->nr = m->cap = 0;
}
