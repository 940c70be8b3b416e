/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/falloc.h>

#include "workload.h"

static void teardown(struct run *r)
{
	unsigned int v;

	release_pin(r);
	scn_teardown(r);
	guest_teardown(r);
	for (v = 0; v < r->nvms; v++) {
		struct vm *vm = &r->vms[v];

		if (vm->vcpu_fd >= 0)
			close(vm->vcpu_fd);
		if (vm->gmem_fd >= 0)
			close(vm->gmem_fd);
		if (vm->backing)
			munmap(vm->backing, r->cfg->gmem_size);
		close(vm->vm_fd);
	}
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

static int run_workload(const struct cfg *cfg)
{
	struct run r;
	unsigned int v;
	int type, rc = EXIT_OK;

	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.t_start = now_ns();
	r.pid = getpid();
	r.tid = gettid();
	r.page_size = (__u64)sysconf(_SC_PAGESIZE);
	r.pin.pin_delta = LLONG_MIN;
	r.guest.vcpu_fd = -1;

	if (install_signals()) {
		fprintf(stderr, "gmem-workload: sigaction: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	/* first, so every traced call carries the name */
	if (cfg->comm && prctl(PR_SET_NAME, (unsigned long)cfg->comm, 0, 0, 0)) {
		fprintf(stderr, "gmem-workload: prctl(PR_SET_NAME): %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}

	r.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (r.kvm_fd < 0) {
		fprintf(stderr, "gmem-workload: cannot open /dev/kvm: %s (KVM is not "
			"available here)\n", strerror(errno));
		return EXIT_NOKVM;
	}
	r.caps.api_version = sys_ret(ioctl(r.kvm_fd, GMW_KVM_GET_API_VERSION, 0UL));
	r.caps.vm_types = check_ext(r.kvm_fd, GMT_KVM_CAP_VM_TYPES);
	if (cfg->vm_type >= 0)
		type = cfg->vm_type;
	else if (r.caps.vm_types > 0 && (r.caps.vm_types & (1L << GMT_KVM_X86_SW_PROTECTED_VM)))
		type = GMT_KVM_X86_SW_PROTECTED_VM;
	else
		type = GMT_KVM_X86_DEFAULT_VM;

	r.vms = calloc(cfg->vms, sizeof(*r.vms));
	/* +1: calloc(0) may return NULL */
	r.punches = calloc(cfg->vms * cfg->punch + 1, sizeof(*r.punches));
	r.allocs = calloc(cfg->vms * cfg->allocate + 1, sizeof(*r.allocs));
	if (!r.vms || !r.punches || !r.allocs) {
		fprintf(stderr, "gmem-workload: out of memory (--punch/--allocate too large?)\n");
		rc = EXIT_RUNTIME;
		goto out_free;
	}

	for (v = 0; v < cfg->vms; v++) {
		if (setup_vm(&r, v, type)) {
			rc = EXIT_RUNTIME;
			goto out;
		}
	}

	if (cfg->allocate) {
		do_fallocates(&r, FALLOC_FL_KEEP_SIZE, cfg->allocate, r.allocs);
		r.nallocs = cfg->vms * cfg->allocate;
	}
	if (cfg->touch)
		do_touch(&r);
	if (cfg->pin_pages)
		do_pin(&r);
	scn_setup(&r);

	if (cfg->start_delay_ms)
		wait_for(cfg->start_delay_ms * 1000000ULL, false);
	if (cfg->wait_signal && !got_term) {
		fprintf(stderr, "ready %d\n", r.pid);
		wait_for(UINT64_MAX, true);
		got_usr1 = 0;	/* consumed: a later SIGUSR1 ends --hold */
	}

	if (cfg->gmem_create_storm)
		gmem_create_storm(&r);
	run_conversions(&r);
	scn_run(&r);
	if (cfg->guest && !got_term)
		run_guest(&r);

	if (cfg->punch) {
		do_fallocates(&r, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, cfg->punch,
			      r.punches);
		r.npunches = cfg->vms * cfg->punch;
	}

	if ((cfg->hold_s || cfg->hold_until_signal) && !got_term) {
		__u64 hold_ns = cfg->hold_until_signal ? UINT64_MAX : cfg->hold_s * 1000000000ULL;
		__u64 t0 = now_ns();

		fprintf(stderr, "holding %d\n", r.pid);
		wait_for(hold_ns, true);
		if (cfg->unpin_on_signal && got_usr1 && !got_term) {
			/* drop the pins, keep the rest, so a tracer sees them go */
			release_pin(&r);
			fprintf(stderr, "unpinned %d\n", r.pid);
			got_usr1 = 0;
			wait_for(hold_ns == UINT64_MAX ? UINT64_MAX :
				 hold_ns - (now_ns() - t0 < hold_ns ? now_ns() - t0 : hold_ns), false);
		}
		r.hold_end = got_term ? "SIGTERM" : got_usr1 ? "SIGUSR1" : "timeout";
	}
	release_pin(&r);

	if (write_outputs(&r))
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
