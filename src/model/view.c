// SPDX-License-Identifier: GPL-2.0-only
/* Events and snapshots turned into view records, once (view.h). Built per
 * record on the hot path: no allocation, no stdio, only what the kind has. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/falloc.h>

#include "backends.h"
#include "errsites.h"
#include "gmt_refs.h"
#include "hist.h"
#include "kvm_uapi.h"
#include "gmt_policy.h"
#include "loader.h"
#include "model.h"
#include "names.h"
#include "stacks.h"
#include "stats.h"
#include "view.h"

/* decimal of a positive value at p; returns the end */
static char *put_dec(char *p, __u32 v)
{
	char tmp[10];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while (v /= 10);
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* KVM's own name for a VM is "<pid>-<fd>" (its debugfs directory). Events
 * come in runs of one VM: the last label is kept (gmemtrace is one thread). */
void gmt_view_vm(struct gmt_vm_view *v, __s32 pid, __s32 fd, __u64 id)
{
	static struct {
		__s32 pid, fd;
		__u32 len;
		char label[24];
	} last = { .pid = 0, .fd = -1, .len = 1, .label = "?" };
	char *p;

	v->pid = pid;
	v->fd = fd;
	v->id = id;
	if (pid <= 0)
		fd = -1;	/* "?" whatever the fd */
	if (pid != last.pid || fd != last.fd) {
		p = last.label;
		if (pid > 0) {
			p = put_dec(p, pid);
			*p++ = '-';
			if (fd >= 0)
				p = put_dec(p, fd);
			else
				*p++ = '?';
		} else {
			*p++ = '?';
		}
		*p = 0;
		last.len = p - last.label;
		last.pid = pid > 0 ? pid : 0;
		last.fd = fd;
	}
	memcpy(v->label, last.label, sizeof(v->label));
	v->label_len = last.len;
}

/* the phase markers seen: an event's offsets (ns), or a row's means (sum / count) */
int gmt_view_phases(struct gmt_phase_view *out, const __u32 *ns, const __u64 *sum,
		    const __u64 *count)
{
	int p, n = 0;

	if (ns) {
		/* per event: most markers are 0 */
		for (p = 0; p < GMT_PH_MAX; p++) {
			if (!ns[p])
				continue;
			out[n].name = gmt_phase_name(p);
			out[n++].ns = ns[p];
		}
		return n;
	}
	for (p = 0; p < GMT_PH_MAX; p++) {
		if (!count[p])
			continue;
		out[n].name = gmt_phase_name(p);
		out[n++].ns = sum[p] / count[p];
	}
	return n;
}

/* the blocking folio split into pins, other references and the LRU batch,
 * the same way `gmemtrace refs` splits it */
void gmt_folio_decompose(const struct gmt_folio_snap *f, struct gmt_refs_verdict *d)
{
	/* the exact snapshot includes filemap_get_folios' own batch reference */
	__s32 ref = (__s32)f->refcount - (f->exact ? 1 : 0);
	__u32 order = f->nr_pages > 1 ? 31 - __builtin_clz(f->nr_pages) : 0;

	gmt_refs_decompose(ref, f->mapcount, f->nr_pages > 1 ? (__s32)f->pincount : 0, order,
			   f->lru, d);
}

static void view_folio(struct gmt_folio_view *v, const struct gmt_folio_snap *f)
{
	struct gmt_refs_verdict d;

	gmt_folio_decompose(f, &d);
	v->index = f->index;
	v->offset = f->index << 12;
	v->refcount = f->refcount;
	v->expected = f->expected;
	v->mapcount = f->mapcount;
	v->pins = d.pins;
	v->other = d.other;
	v->lru_batch = d.lru_batch;
	v->nr_pages = f->nr_pages;
	v->lru = f->lru;
	v->exact = f->exact;
}

static void view_convert(struct gmt_convert_view *v, const struct gmt_model *m,
			 const struct gmt_event *e, __u64 real_off)
{
	const struct gmt_convert *c = &e->convert;

	v->gen = gmt_gen_name(c->gen);
	v->uapi = gmt_gen_uapi(c->gen, c->cmd);
	v->dir = gmt_dir_name(c->dir);
	v->source = gmt_source_name(c->source);
	v->cmd = c->cmd;
	v->has_gpa = c->gen == GMT_GEN_G1;
	if (v->has_gpa) {
		v->gpa = c->start;
		v->has_gmem = gmt_memslots_translate(&m->slots, e->hdr.vm_key, c->start,
						     &v->gmem_ino, &v->gmem_offset);
	} else {
		v->has_gmem = true;
		v->gmem_ino = c->gmem_ino;
		v->gmem_offset = c->start;
	}
	v->size = c->size;
	v->attributes = c->attributes;
	v->flags = c->flags;
	v->blocked = e->hdr.ret == -EAGAIN;
	v->has_error_offset = c->has_error_offset;
	v->error_offset = c->error_offset;
	v->has_kernel_latency = c->kernel_latency_ns != 0;
	v->kernel_latency_ns = c->kernel_latency_ns;
	v->nr_phases = gmt_view_phases(v->phases, c->phase_ns, NULL, NULL);
	v->has_folio = c->folio.valid;
	if (v->has_folio)
		view_folio(&v->folio, &c->folio);
	if (v->blocked)
		gmt_view_blockers(&v->holders, m, e, v, real_off);
}

static void view_holder(struct gmt_holder_view *v, const struct gmt_model *m,
			const struct gmt_event *e)
{
	const struct gmt_holder *h = &e->holder;
	const struct gmt_held_stack *st = m->stack;
	int i;

	v->kind = gmt_holder_kind_name(h->kind);
	v->end = e->hdr.type == GMT_EV_HOLDER_END ? gmt_holder_end_name(h->kind, h->end) : NULL;
	v->holder_kind = h->kind;
	v->ring_fd = h->ring_fd;
	v->iova = h->iova;
	v->index = h->index;
	v->gmem_ino = h->gmem_ino;
	v->gmem_offset = h->gmem_offset;
	v->size = h->len;
	v->uaddr = h->uaddr;
	v->id = h->id;
	v->held_ns = v->end ? e->hdr.latency_ns : 0;
	v->nr_frames = 0;
	v->nr_kframes = 0;
	v->kernel_side = h->kind == GMT_HOLD_GUP_PIN;
	v->pins = v->kernel_side ? h->index : 0;
	v->folio = v->kernel_side || h->kind == GMT_HOLD_IOMMU_MAP ? h->folio : 0;
	v->paddr = h->kind == GMT_HOLD_IOMMU_MAP ? h->paddr : 0;
	if (v->kernel_side)
		v->held_ns = 0;	/* a pin's release does not know when it was taken */
	/* kernel stacks: a gup_pin's (start and end), an iommu_map's start */
	if (v->kernel_side || (h->kind == GMT_HOLD_IOMMU_MAP && !v->end)) {
		const struct gmt_stack *ks = m->kstack;

		if (ks && h->kstack_id >= 0 && m->kstack_id == h->kstack_id) {
			for (i = 0; i < ks->nr && i < GMT_VIEW_KSTACK_MAX; i++) {
				v->kframes[i] = ks->f[i].sym;
				v->kframe_ips[i] = ks->f[i].ip;
			}
			v->nr_kframes = i;
		}
	}
	/* the stack the model symbolized for this record (a gup_pin's end too) */
	if ((v->end && !v->kernel_side) || !st || h->stack_id < 0 || st->pid != e->hdr.pid ||
	    st->id != h->stack_id || st->leaf_ret != h->leaf_ret)
		return;
	v->nr_frames = gmt_view_stack(v->frames, v->frame_ips, &st->st);
}

int gmt_view_stack(const char **frames, __u64 *ips, const struct gmt_stack *st)
{
	int i;

	for (i = 0; i < st->nr && i < GMT_VIEW_STACK_MAX; i++) {
		frames[i] = st->f[i].sym;
		ips[i] = st->f[i].ip;
	}
	return i;
}

static void view_guest_req(struct gmt_guest_req_view *v, const struct gmt_event *e)
{
	const struct gmt_guest_req *g = &e->guest_req;

	v->kind = gmt_greq_kind_name(g->kind);
	v->dir = gmt_dir_name(g->dir);
	v->end = gmt_greq_end_name(g->end);
	v->gpa = g->gpa;
	v->size = g->size;
	v->flags = g->flags;
	v->vcpu_fd = g->vcpu_fd;
	v->conversions = g->conversions;
	v->blocked = g->blocked;
	v->convert_ns = g->convert_ns;
	/* latency_ns: the guest's wait, exit to re-entry; the rest was the VMM */
	v->vmm_ns = e->hdr.latency_ns > g->convert_ns ? e->hdr.latency_ns - g->convert_ns : 0;
	/* anything but reentry: the guest never got its answer while traced */
	v->complete = g->end == GMT_GREQ_END_REENTRY;
}

static void view_memslot(struct gmt_memslot_view *v, const struct gmt_memslot *m)
{
	v->slot = m->slot;
	v->flags = m->flags;
	v->gpa = m->gpa;
	v->size = m->size;
	v->uaddr = m->uaddr;
	v->gmem_bound = m->flags & GMT_KVM_MEM_GUEST_MEMFD;
	v->gmem_fd = m->gmem_fd;
	v->gmem_ino = m->gmem_ino;
	v->gmem_offset = m->gmem_offset;
}

static void view_policy_rec(struct gmt_policy_view *v, const struct gmt_policy_rec *p, __s32 ret)
{
	static const char *const actions[GMT_PA_MAX] = { "allow", "deny", "audit" };

	v->action = p->action < GMT_PA_MAX ? actions[p->action] : "unknown";
	v->mode = p->mode == GMT_POL_ENFORCE ? "enforce" : "monitor";
	v->gen = gmt_gen_name(p->gen);
	v->dir = gmt_dir_name(p->dir);
	v->rule_id = p->rule_id;
	v->is_default = p->rule_index >= GMT_POLICY_MAX_RULES;
	v->denied = ret != 0;
	v->would_deny = p->action == GMT_PA_DENY && p->mode != GMT_POL_ENFORCE;
	v->read_failed = p->read_failed;
	v->has_gpa = p->gen == GMT_GEN_G1;
	v->cmd = p->cmd;
	v->err = p->err;
	v->start = p->start;
	v->size = p->size;
	v->attributes = p->attributes;
	v->gmem_ino = p->gmem_ino;
}

static void view_policy(struct gmt_policy_view *v, const struct gmt_event *e)
{
	view_policy_rec(v, &e->policy, e->hdr.ret);
}

static void view_policy_toctou(struct gmt_policy_toctou_view *v, const struct gmt_event *e)
{
	const struct gmt_policy_toctou_rec *t = &e->policy_toctou;

	view_policy_rec(&v->decided, &t->decided, 0);	/* the hook let it through */
	v->kern_start = t->kern_start;
	v->kern_size = t->kern_size;
	v->kern_attributes = t->kern_attributes;
	v->killed = t->killed;
}

static void view_body(struct gmt_event_view *v, const struct gmt_model *m,
		      const struct gmt_event *e, __u64 real_off)
{
	switch (e->hdr.type) {
	case GMT_EV_CONVERT:
		view_convert(&v->convert, m, e, real_off);
		break;
	case GMT_EV_GMEM_CREATE:
		v->gmem_create.size = e->gmem_create.size;
		v->gmem_create.flags = e->gmem_create.flags;
		v->gmem_create.gmem_ino = e->gmem_create.gmem_ino;
		v->gmem_create.gmem_fd = e->hdr.ret >= 0 ? e->hdr.ret : -1;
		break;
	case GMT_EV_MEMSLOT:
		view_memslot(&v->memslot, &e->memslot);
		break;
	case GMT_EV_FALLOCATE:
		v->fallocate.mode = e->fallocate.mode;
		v->fallocate.punch_hole = e->fallocate.mode & FALLOC_FL_PUNCH_HOLE;
		v->fallocate.gmem_ino = e->fallocate.gmem_ino;
		v->fallocate.offset = e->fallocate.offset;
		v->fallocate.len = e->fallocate.len;
		break;
	case GMT_EV_VM_CREATE:
		v->vm_type = e->vm_create.vm_type;
		break;
	case GMT_EV_GUEST_REQ:
		view_guest_req(&v->guest_req, e);
		break;
	case GMT_EV_VM_GONE:
		v->vm_gone_how = gmt_vm_end_name(e->vm_gone.how);
		break;
	case GMT_EV_HOLDER_START:
	case GMT_EV_HOLDER_END:
		view_holder(&v->holder, m, e);
		break;
	case GMT_EV_POLICY:
		view_policy(&v->policy, e);
		break;
	case GMT_EV_POLICY_TOCTOU:
		view_policy_toctou(&v->policy_toctou, e);
		break;
	}
}

void gmt_view_event(struct gmt_event_view *v, const struct gmt_model *m,
		    const struct gmt_event *e, __u64 real_off)
{
	const struct gmt_event_hdr *h = &e->hdr;

	v->type = h->type;
	v->name = gmt_event_name(h->type);
	v->ts_ns = h->ts_ns;
	v->real_ns = h->ts_ns + real_off;
	v->pid = h->pid;
	v->tid = h->tid;
	v->comm = h->comm;
	v->cgroup_id = h->cgroup_id;
	gmt_view_vm(&v->vm, h->vm_pid, h->vm_fd, h->vm_key);
	v->fd = h->fd;
	v->ret = h->ret;
	v->errno_name = h->ret < 0 ? gmt_errno_name(-h->ret) : NULL;
	v->latency_ns = h->latency_ns;
	view_body(v, m, e, real_off);
}

/* ---- attach ---- */

int gmt_view_attach(struct gmt_attach_view *v, const struct gmt_session *s)
{
	static const char *const state[] = { "not_wanted", "attached", "failed", "unavailable" };
	int i, j;

	memset(v, 0, sizeof(*v));
	v->progs = calloc(s->plan.nr_status ? s->plan.nr_status : 1, sizeof(*v->progs));
	if (!v->progs)
		return -ENOMEM;
	v->nr_progs = s->plan.nr_status;
	for (i = 0; i < s->plan.nr_status; i++) {
		const struct gmt_attach_status *st = &s->plan.status[i];
		struct gmt_prog_view *p = &v->progs[i];

		p->program = st->spec->prog;
		p->backend = gmt_backend_name(st->spec->backend);
		p->hook = st->spec->hook;
		/* the hook names the default target: its kind, then the chosen one */
		p->hook_kind_len = strcspn(st->spec->hook, " ");
		p->feature = st->spec->feature;
		p->target = st->target;
		p->state = state[st->state];
		p->reason = st->reason[0] ? st->reason : NULL;
		p->attached = st->state == GMT_ATT_ATTACHED;
		p->failed = st->state == GMT_ATT_FAILED;
		p->unavailable = st->state == GMT_ATT_UNAVAILABLE;
		p->asked_for = st->spec->feature && st->spec->want != GMT_WANT_ALWAYS;
		v->nr_attached += p->attached;
		v->nr_kernel += p->attached && p->target;
		p->first_of_feature = p->unavailable;
		for (j = 0; p->unavailable && j < i; j++)
			if (v->progs[j].unavailable && !strcmp(v->progs[j].feature, p->feature))
				p->first_of_feature = false;
	}
	return 0;
}

void gmt_view_attach_free(struct gmt_attach_view *v)
{
	free(v->progs);
	v->progs = NULL;
}

/* ---- end of a run ---- */

static void view_cmd_end(struct gmt_end_view *v, bool ran, bool stopped, bool left_running,
			 int status)
{
	v->cmd = !ran ? GMT_CMD_NONE : left_running ? GMT_CMD_LEFT_RUNNING :
		 stopped ? GMT_CMD_STOPPED : GMT_CMD_EXITED;
	v->cmd_status = status;
}

void gmt_view_helper_errors(struct gmt_named_u64 *out, const __u64 *n)
{
	int i;

	for (i = 1; i < GMT_SITE_MAX; i++) {	/* 0: no site */
		out[i - 1].name = gmt_errsite_name(i);
		out[i - 1].v = n[i];
	}
}

void gmt_view_trace_end(struct gmt_end_view *v, const struct gmt_trace_summary *s)
{
	int i;

	memset(v, 0, sizeof(*v));
	v->duration_s = s->duration_s;
	view_cmd_end(v, s->cmd_ran, s->cmd_stopped, s->cmd_left_running, s->cmd_status);
	v->lost = s->lost;
	for (i = 1; i < GMT_EV_TYPE_MAX; i++) {
		v->events[i - 1].name = gmt_event_name(i);
		v->events[i - 1].v = s->events[i];
	}
	for (i = 0; i < GMT_CNT_MAX; i++) {
		v->counters[i].name = gmt_counter_name(i);
		v->counters[i].v = s->counters[i];
	}
	gmt_view_helper_errors(v->helper_errors, s->helper_errors);
}

void gmt_view_stat_end(struct gmt_end_view *v, const struct gmt_stat_summary *s)
{
	memset(v, 0, sizeof(*v));
	v->duration_s = s->duration_s;
	view_cmd_end(v, s->cmd_ran, s->cmd_stopped, s->cmd_left_running, s->cmd_status);
	v->intervals = s->intervals;
	gmt_view_helper_errors(v->helper_errors, s->helper_errors);
}
