/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * gmem-workload's order of steps: setup (VMs, guest_memfd, memslots),
 * --allocate, --touch, --pin, the scenario's pins, --start-delay-ms and
 * --wait-signal, --dma-loop, the create storm, the conversions, the scenario, the
 * guest, --punch, --hold, release; then the report and teardown.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <linux/falloc.h>

#include "workload.h"

static void teardown(struct run *r)
{
	release_pin(r);
	scn_teardown(r);
	dma_close(r);
	guest_teardown(r);
	close_vms(r);
}

static void free_run(struct run *r)
{
	free(r->vms);
	free(r->calls);
	free(r->punches);
	free(r->allocs);
	if (r->kvm_fd >= 0)
		close(r->kvm_fd);
}

/* Signals and --comm, before anything is traced */
static int run_init(struct run *r, const struct cfg *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->t_start = now_ns();
	r->pid = getpid();
	r->tid = gettid();
	r->page_size = (__u64)sysconf(_SC_PAGESIZE);
	r->pin.pin_delta = LLONG_MIN;
	r->guest.vcpu_fd = -1;

	if (install_signals()) {
		fprintf(stderr, "gmem-workload: sigaction: %s\n", strerror(errno));
		return -1;
	}
	/* first, so every traced call carries the name */
	if (cfg->comm && prctl(PR_SET_NAME, (unsigned long)cfg->comm, 0, 0, 0)) {
		fprintf(stderr, "gmem-workload: prctl(PR_SET_NAME): %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int alloc_records(struct run *r)
{
	const struct cfg *cfg = r->cfg;

	r->vms = calloc(cfg->vms, sizeof(*r->vms));
	/* +1: calloc(0) may return NULL */
	r->punches = calloc(cfg->vms * cfg->punch + 1, sizeof(*r->punches));
	r->allocs = calloc(cfg->vms * cfg->allocate + 1, sizeof(*r->allocs));
	if (!r->vms || !r->punches || !r->allocs) {
		fprintf(stderr, "gmem-workload: out of memory (--punch/--allocate too large?)\n");
		return -ENOMEM;
	}
	return 0;
}

/* --allocate, --touch, --pin and the scenario's pins, then the start signal */
static void prepare(struct run *r)
{
	const struct cfg *cfg = r->cfg;

	if (cfg->allocate) {
		do_fallocates(r, FALLOC_FL_KEEP_SIZE, cfg->allocate, r->allocs);
		r->nallocs = cfg->vms * cfg->allocate;
	}
	if (cfg->touch)
		do_touch(r);
	if (cfg->pin_pages)
		do_pin(r);
	scn_setup(r);

	if (cfg->start_delay_ms)
		wait_for(cfg->start_delay_ms * 1000000ULL, false);
	if (cfg->wait_signal && !got_term) {
		fprintf(stderr, "ready %d\n", r->pid);
		wait_for(UINT64_MAX, true);
		got_usr1 = 0;	/* consumed: a later SIGUSR1 ends --hold */
	}
}

/* --dma-loop, the create storm, conversions, the scenario, the guest, --punch */
static void drive(struct run *r)
{
	const struct cfg *cfg = r->cfg;

	if (cfg->dma_loop && !got_term)
		dma_loop(r);
	if (cfg->gmem_create_storm)
		gmem_create_storm(r);
	run_conversions(r);
	if (cfg->race)
		run_race(r);
	scn_run(r);
	if (cfg->guest && !got_term)
		run_guest(r);
	if (cfg->touch_after)
		do_touch_after(r);

	if (cfg->punch) {
		do_fallocates(r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, cfg->punch,
			      r->punches);
		r->npunches = cfg->vms * cfg->punch;
	}
}

/* --hold / --hold-until-signal, with --unpin-on-signal */
static void hold(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	__u64 hold_ns, t0;

	if ((!cfg->hold_s && !cfg->hold_until_signal) || got_term)
		return;
	hold_ns = cfg->hold_until_signal ? UINT64_MAX : cfg->hold_s * 1000000000ULL;
	t0 = now_ns();
	fprintf(stderr, "holding %d\n", r->pid);
	wait_for(hold_ns, true);
	if (cfg->unpin_on_signal && got_usr1 && !got_term) {
		/* drop the pins, keep the rest, so a tracer sees them go */
		release_pin(r);
		fprintf(stderr, "unpinned %d\n", r->pid);
		got_usr1 = 0;
		wait_for(hold_ns == UINT64_MAX ? UINT64_MAX :
			 hold_ns - (now_ns() - t0 < hold_ns ? now_ns() - t0 : hold_ns), false);
	}
	r->hold_end = got_term ? "SIGTERM" : got_usr1 ? "SIGUSR1" : "timeout";
}

static int run_workload(const struct cfg *cfg)
{
	struct run r;
	unsigned int v;
	int type, rc = EXIT_OK;

	if (run_init(&r, cfg))
		return EXIT_RUNTIME;
	type = open_kvm(&r);
	if (type < 0)
		return EXIT_NOKVM;
	if (alloc_records(&r)) {
		rc = EXIT_RUNTIME;
		goto out_free;
	}
	for (v = 0; v < cfg->vms; v++) {
		if (setup_vm(&r, v, type)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	prepare(&r);
	drive(&r);
	hold(&r);
	release_pin(&r);
	if (write_outputs(&r))
		rc = EXIT_RUNTIME;
	if (r.dma.error[0])	/* asked for device DMA pins that could not be made */
		rc = EXIT_RUNTIME;
out:
	teardown(&r);
out_free:
	free_run(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct cfg cfg;

	if (parse_args(argc, argv, &cfg, 0))
		return EXIT_USAGE;
	return run_workload(&cfg);
}
