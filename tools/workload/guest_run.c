/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The guest's KVM_RUN loop: each KVM_HC_MAP_GPA_RANGE exit and each
 * KVM_EXIT_MEMORY_FAULT is served with a conversion and timed
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "workload.h"

/* Keep a request for the list as calls are kept; -1 when not kept */
static long long guest_keep(struct run *r, const struct guest_req *q)
{
	struct guest_state *g = &r->guest;

	if (r->cfg->no_calls || g->nkept >= r->cfg->max_calls)
		return -1;
	if (g->nkept == g->reqs_cap) {
		__u64 ncap = g->reqs_cap ? g->reqs_cap * 2 : 64;
		struct guest_req *n = realloc(g->reqs, ncap * sizeof(*n));

		if (!n)
			return -1;
		g->reqs = n;
		g->reqs_cap = ncap;
	}
	g->reqs[g->nkept] = *q;
	return (long long)g->nkept++;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

/* min p50 p90 p99 max mean (nearest rank) of the serve times */
static void guest_stats(struct guest_state *g)
{
	static const unsigned int pct[] = { 50, 90, 99 };
	__u64 n = g->nserve, sum = 0, i;

	if (!n)
		return;
	qsort(g->serve_ns, n, sizeof(g->serve_ns[0]), cmp_u64);
	for (i = 0; i < n; i++)
		sum += g->serve_ns[i];
	g->serve_pct[0] = g->serve_ns[0];
	for (i = 0; i < 3; i++)
		g->serve_pct[i + 1] = g->serve_ns[(n * pct[i] + 99) / 100 - 1];
	g->serve_pct[4] = g->serve_ns[n - 1];
	g->serve_pct[5] = sum / n;
}

/*
 * Serve a request with every selected uAPI, tagged with its index.
 * served_ret: 0 if one conversion returned 0, else the last error.
 */
static void guest_serve(struct run *r, struct guest_req *q, __u64 idx)
{
	bool issued = false;
	long ret, best = 0;
	int gen;

	for (gen = 1; gen <= 3; gen++) {
		struct call_rec c = { .round = idx, .flags = CALL_GUEST };

		if (!(r->cfg->uapi & (1u << (gen - 1))))
			continue;
		if (!convert_range(r, 0, gen, q->served_private, q->gpa,
				   q->npages * GUEST_PAGE, &c, &ret))
			continue;
		/* --guest-unpin-retry: release the holder, serve it again */
		while (gen == 3 && scn_guest_release(r, ret, c.error_offset, idx)) {
			c = (struct call_rec){ .round = idx, .flags = CALL_GUEST };
			if (!convert_range(r, 0, gen, q->served_private, q->gpa,
					   q->npages * GUEST_PAGE, &c, &ret))
				break;
		}
		if (!issued || best)
			best = ret;
		issued = true;
	}
	/* nothing could be issued (G2/G3 only, GPA outside the guest_memfd) */
	q->served_ret = issued ? best : -EINVAL;
}

static bool gpa_in_gmem(const struct run *r, __u64 gpa, __u64 size)
{
	const struct cfg *c = r->cfg;

	return r->vms[0].gmem_fd >= 0 && gpa >= c->gpa_base &&
	       gpa - c->gpa_base < c->gmem_size && size <= c->gmem_size - (gpa - c->gpa_base);
}

static void guest_note_rip(struct guest_state *g)
{
	struct kvm_regs regs;

	if (!ioctl(g->vcpu_fd, KVM_GET_REGS, &regs)) {
		g->error_rip = regs.rip;
		g->has_error_rip = true;
	}
}

static const char *exit_name(__u32 reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN:		return "UNKNOWN";
	case KVM_EXIT_EXCEPTION:	return "EXCEPTION";
	case KVM_EXIT_IO:		return "IO";
	case KVM_EXIT_HYPERCALL:	return "HYPERCALL";
	case KVM_EXIT_HLT:		return "HLT";
	case KVM_EXIT_MMIO:		return "MMIO";
	case KVM_EXIT_SHUTDOWN:		return "SHUTDOWN (triple fault)";
	case KVM_EXIT_FAIL_ENTRY:	return "FAIL_ENTRY";
	case KVM_EXIT_INTR:		return "INTR";
	case KVM_EXIT_INTERNAL_ERROR:	return "INTERNAL_ERROR";
	case GMT_KVM_EXIT_MEMORY_FAULT:	return "MEMORY_FAULT";
	default:			return "?";
	}
}

/* kvm_run.memory_fault (7.x uAPI; the 6.1 header predates it): union at 32 */
struct gmw_memory_fault {
	__u64 flags;
	__u64 gpa;
	__u64 size;
};

/* Across KVM_RUNs: the request waiting for its re-entry, and where we are */
struct guest_loop {
	__u64 max_runs;
	__u64 last_fault_gpa;
	__u64 nhc;		/* hypercalls that reached a result slot */
	bool pending;		/* a request served, KVM_RUN not yet issued again */
	__u64 pending_exit;
	long long pending_kept;
};

enum guest_next {
	GX_SERVE,		/* a request to serve */
	GX_AGAIN,		/* KVM_RUN again */
	GX_STOP,		/* halted, failed or abandoned */
};

/* The clock just before KVM_RUN is issued again closes the pending request */
static void guest_reenter(struct guest_state *g, struct guest_loop *l)
{
	__u64 t;

	if (!l->pending)
		return;
	t = now_ns();
	g->serve_ns[g->nserve++] = t - l->pending_exit;
	if (l->pending_kept >= 0)
		g->reqs[l->pending_kept].reenter_ns = t;
	l->pending = false;
}

static void guest_unexpected_exit(struct guest_state *g, __u32 reason)
{
	if (reason == KVM_EXIT_INTERNAL_ERROR)
		snprintf(g->error_buf, sizeof(g->error_buf), "unexpected exit %u "
			 "(INTERNAL_ERROR, suberror %u)", reason, g->run->internal.suberror);
	else
		snprintf(g->error_buf, sizeof(g->error_buf), "unexpected exit %u (%s)",
			 reason, exit_name(reason));
	g->error = g->error_buf;
	guest_note_rip(g);
}

/* What KVM_RUN's return and exit reason ask of the loop; counts the exit */
static enum guest_next guest_exit(const struct cfg *cfg, struct guest_state *g, long ret)
{
	struct kvm_run *run = g->run;
	__u32 reason = run->exit_reason;

	if (ret == -EINTR || (!ret && reason == KVM_EXIT_INTR)) {
		g->exits[KVM_EXIT_INTR]++;
		if (got_alarm) {
			g->timed_out = true;
			g->error = "timeout (--guest-timeout)";
			guest_note_rip(g);
		}
		return GX_AGAIN;	/* SIGTERM is seen at the top; others: run again */
	}
	/* a memory fault is the one exit that comes with -EFAULT */
	if (ret < 0 && !(ret == -EFAULT && reason == GMT_KVM_EXIT_MEMORY_FAULT)) {
		guest_fail(g, "KVM_RUN", ret);
		guest_note_rip(g);
		return GX_STOP;
	}
	g->exits[reason < GMW_EXIT_REASONS - 1 ? reason : GMW_EXIT_REASONS - 1]++;
	if (reason == KVM_EXIT_HLT) {
		g->halted = true;
		return GX_STOP;
	}
	if (reason != KVM_EXIT_HYPERCALL && reason != GMT_KVM_EXIT_MEMORY_FAULT) {
		guest_unexpected_exit(g, reason);
		return GX_STOP;
	}
	if (reason == KVM_EXIT_HYPERCALL && run->hypercall.nr != GMT_KVM_HC_MAP_GPA_RANGE) {
		snprintf(g->error_buf, sizeof(g->error_buf), "unexpected hypercall %llu",
			 (unsigned long long)run->hypercall.nr);
		g->error = g->error_buf;
		return GX_STOP;
	}
	if (cfg->guest_abandon) {
		g->abandoned = true;	/* the request stays open */
		return GX_STOP;
	}
	return GX_SERVE;
}

/* KVM_HC_MAP_GPA_RANGE: served as asked, its result handed back in RAX */
static void guest_take_hypercall(struct run *r, struct guest_loop *l, struct guest_req *q)
{
	struct kvm_run *run = r->guest.run;

	q->kind = GREQ_MAP_GPA_RANGE;
	q->gpa = run->hypercall.args[0];
	q->npages = run->hypercall.args[1];
	q->attrs = run->hypercall.args[2];
	q->hc_flags = run->hypercall.longmode;
	q->to_private = q->attrs & GMT_KVM_MAP_GPA_RANGE_ENCRYPTED;
	/* as asked: a VMM that cannot back it finds out at the access */
	q->served_private = q->to_private;
	guest_serve(r, q, r->guest.nreqs);
	run->hypercall.ret = (__u64)q->served_ret;
	/* the guest stores RAX in its nhc-th result slot */
	if (l->nhc < r->cfg->guest + 1) {
		q->has_guest_ret = true;
		q->res_slot = l->nhc++;
	}
	l->last_fault_gpa = ~0ULL;
}

static void guest_take_fault(struct run *r, struct guest_req *q)
{
	struct gmw_memory_fault mf;

	memcpy(&mf, (char *)r->guest.run + offsetof(struct kvm_run, hypercall), sizeof(mf));
	q->kind = GREQ_MEMORY_FAULT;
	q->gpa = mf.gpa;
	q->npages = (mf.size + GUEST_PAGE - 1) / GUEST_PAGE;
	q->attrs = mf.flags;
	q->to_private = mf.flags & GMT_KVM_MEMORY_EXIT_FLAG_PRIVATE;
	/* private needs a guest_memfd behind the GPA; else make it shared */
	q->served_private = q->to_private && gpa_in_gmem(r, mf.gpa, mf.size);
	guest_serve(r, q, r->guest.nreqs);
}

/* Counts and keeps a served request; true when the loop must stop */
static bool guest_served(struct run *r, struct guest_loop *l, const struct guest_req *q)
{
	struct guest_state *g = &r->guest;

	g->nreqs++;
	g->nkind[q->kind]++;
	g->nserved_ok += !q->served_ret;
	l->pending_kept = guest_keep(r, q);
	l->pending_exit = q->exit_ns;
	l->pending = true;
	if (q->kind != GREQ_MEMORY_FAULT)
		return false;
	/* the access is retried on re-entry: it must not fault the same way */
	if (q->served_ret) {
		guest_fail(g, "memory fault not served", q->served_ret);
		return true;
	}
	if (q->gpa == l->last_fault_gpa) {
		g->error = "memory fault repeats after it was served";
		guest_note_rip(g);
		return true;
	}
	l->last_fault_gpa = q->gpa;
	return false;
}

/* After the loop: the watchdog off, statistics, what the guest saw */
static void guest_finish(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct guest_state *g = &r->guest;
	__u64 *res = (__u64 *)((char *)g->code_mem + GUEST_RES_OFF);
	__u64 i;

	if (cfg->guest_timeout_s) {
		struct itimerval off;

		memset(&off, 0, sizeof(off));
		setitimer(ITIMER_REAL, &off, NULL);
	}
	guest_stats(g);
	/* KVM answers a hypercall itself when the exit is off or the request bad */
	if (g->halted && g->nkind[GREQ_MAP_GPA_RANGE] < cfg->guest + cfg->guest_fault) {
		snprintf(g->error_buf, sizeof(g->error_buf), "%llu of %llu hypercalls returned "
			 "to the guest without an exit (see enable_cap_ret)",
			 (unsigned long long)(cfg->guest + cfg->guest_fault -
					      g->nkind[GREQ_MAP_GPA_RANGE]),
			 (unsigned long long)(cfg->guest + cfg->guest_fault));
		g->error = g->error_buf;
	}
	/* what the guest saw: only slots it wrote differ from the fill */
	for (i = 0; i < g->nkept; i++) {
		struct guest_req *q = &g->reqs[i];

		if (!q->has_guest_ret)
			continue;
		q->has_guest_ret = res[q->res_slot] != GUEST_RES_UNSET;
		q->guest_ret = (__s64)res[q->res_slot];
	}
	if (cfg->guest_fault && res[cfg->guest + 1] != GUEST_RES_UNSET)
		g->fault_read = (__s64)res[cfg->guest + 1];
}

/*
 * Run the vCPU until the guest halts, serving each KVM_HC_MAP_GPA_RANGE
 * exit and each KVM_EXIT_MEMORY_FAULT with a conversion. The clock is read
 * when KVM_RUN returns and just before it is issued again: exit_ns and
 * reenter_ns bracket the whole VMM side of the request.
 */
void guest_run(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct guest_state *g = &r->guest;
	/* N hypercalls, the fault phase's one, a fault; the rest is slack */
	struct guest_loop l = {
		.max_runs = cfg->guest + 64,
		.last_fault_gpa = ~0ULL,
		.pending_kept = -1,
	};
	__u64 t0;

	g->serve_ns = calloc(l.max_runs, sizeof(*g->serve_ns));
	if (!g->serve_ns) {
		g->error = "out of memory";
		return;
	}
	if (cfg->guest_timeout_s)
		guest_watchdog(guest_timeout(cfg));
	t0 = now_ns();
	while (!g->error) {
		enum guest_next next;
		struct guest_req q;
		__u64 t_exit;
		long ret;

		if (got_term) {
			r->interrupted = true;
			g->error = "interrupted";
			break;
		}
		if (g->runs >= l.max_runs) {
			g->error = "too many exits";
			break;
		}
		guest_reenter(g, &l);
		ret = sys_ret(ioctl(g->vcpu_fd, KVM_RUN, 0UL));
		t_exit = now_ns();
		g->runs++;
		next = guest_exit(cfg, g, ret);
		if (next == GX_AGAIN)
			continue;
		if (next == GX_STOP)
			break;
		memset(&q, 0, sizeof(q));
		q.exit_ns = t_exit;
		if (g->run->exit_reason == KVM_EXIT_HYPERCALL)
			guest_take_hypercall(r, &l, &q);
		else
			guest_take_fault(r, &q);
		if (guest_served(r, &l, &q))
			break;
	}
	g->run_ns = now_ns() - t0;
	guest_finish(r);
}
