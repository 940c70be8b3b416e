// SPDX-License-Identifier: GPL-2.0-only
/*
 * --race N: N conversions of VM 0 whose argument another thread keeps
 * changing while the ioctl runs, so a policy hook and the kernel may read
 * different values (TOCTOU, docs/policy.md). The flipper toggles the
 * struct's size between --size and twice it: both are valid, so the kernel
 * converts whichever it copied. G1 on the VM fd at --gpa-base when --uapi
 * has g1, else G3 on the guest_memfd at offset 0; always to private. The two
 * threads run on different CPUs where there are two: on one CPU a kernel
 * without full preemption never switches to the flipper inside the ioctl.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload.h"

struct race_arg {
	union {
		struct gmt_kvm_memory_attributes g1;
		struct gmt_kvm_memory_attributes2 g3;
	};
	__u64 size_a, size_b;
	atomic_bool started, stop;
	__u64 flips;
};

/* a short wait, so each size stays as long as the other */
static void hold_value(void)
{
	volatile int i;

	for (i = 0; i < 64; i++)
		;
}

/*
 * Each value is held as long as the other: where the two threads do not
 * truly run at once (qemu's single-threaded TCG runs one vCPU at a time),
 * the value a frozen flipper leaves behind is then either, not almost
 * always the one written last in the loop.
 */
static void *flipper(void *p)
{
	struct race_arg *a = p;
	volatile __u64 *size = &a->g1.size;	/* g1.size and g3.size: both at byte 8 */
	__u64 n = 0;

	atomic_store(&a->started, true);
	while (!atomic_load_explicit(&a->stop, memory_order_relaxed)) {
		*size = a->size_b;
		hold_value();
		*size = a->size_a;
		hold_value();
		n += 2;
	}
	a->flips = n;
	return NULL;
}

_Static_assert(offsetof(struct gmt_kvm_memory_attributes, size) == 8, "G1 size at 8");
_Static_assert(offsetof(struct gmt_kvm_memory_attributes2, size) == 8, "G3 size at 8");

void run_race(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	struct race_res *res = &r->race;
	struct vm *vm = &r->vms[0];
	static struct race_arg a;
	unsigned long cmd;
	pthread_t t;
	__u64 i;
	int fd;

	res->gen = (cfg->uapi & UAPI_G1) ? 1 : 3;
	memset(&a, 0, sizeof(a));
	a.size_a = cfg->size;
	a.size_b = cfg->size * 2;
	if (res->gen == 1) {
		a.g1.address = cfg->gpa_base;
		a.g1.size = a.size_a;
		a.g1.attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE;
		fd = vm->vm_fd;
		cmd = GMT_KVM_SET_MEMORY_ATTRIBUTES;
	} else {
		a.g3.offset = 0;
		a.g3.size = a.size_a;
		a.g3.attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE;
		fd = vm->gmem_fd;
		cmd = GMT_KVM_SET_MEMORY_ATTRIBUTES2;
	}
	res->done = true;
	if (fd < 0) {
		res->error = "no guest_memfd";
		return;
	}
	if (pthread_create(&t, NULL, flipper, &a)) {
		res->error = "pthread_create failed";
		return;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(1, &set);
		pthread_setaffinity_np(t, sizeof(set), &set);	/* best effort */
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	/* the calls start once the flipper runs */
	while (!atomic_load(&a.started))
		;
	for (i = 0; i < cfg->race && !got_term; i++) {
		long ret = sys_ret(ioctl(fd, cmd, &a));

		if (!ret)
			res->ok++;
		else if (ret == -EPERM)
			res->eperm++;
		else
			res->other++;
		res->calls++;
	}
	atomic_store(&a.stop, true);
	pthread_join(t, NULL);
	res->flips = a.flips;
}
