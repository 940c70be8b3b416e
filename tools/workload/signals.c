/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Signals: SIGUSR1/SIGTERM flags, waits that no signal can slip past, SIGBUS
 * while touching guest_memfd pages, and the guest's SIGALRM watchdog
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "workload.h"

volatile sig_atomic_t got_usr1;

volatile sig_atomic_t got_term;

volatile sig_atomic_t got_alarm;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* SIGBUS while touching guest_memfd pages (private memory) is data */
static sigjmp_buf bus_jmp;

static volatile sig_atomic_t bus_armed;

static void *volatile bus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (!bus_armed) {
		signal(SIGBUS, SIG_DFL);
		raise(SIGBUS);
		return;
	}
	bus_armed = 0;
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || sigaction(SIGTERM, &sa, NULL) ||
	    sigaction(SIGINT, &sa, NULL))
		return -errno;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		return -errno;
	return 0;
}

/*
 * Wait until timeout_ns passes (UINT64_MAX: forever), SIGTERM/SIGINT, or
 * SIGUSR1 when usr1_ends. Signals stay blocked except inside ppoll, so
 * none is lost between the flag check and the sleep.
 */
void wait_for(__u64 timeout_ns, bool usr1_ends)
{
	__u64 deadline = timeout_ns == UINT64_MAX ? UINT64_MAX : now_ns() + timeout_ns;
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		struct timespec ts, *tsp = NULL;
		__u64 now;

		if (got_term || (usr1_ends && got_usr1))
			break;
		if (deadline != UINT64_MAX) {
			__u64 left;

			now = now_ns();
			if (now >= deadline)
				break;
			left = deadline - now;
			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		ppoll(NULL, 0, tsp, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Write one byte per page; stops at the first SIGBUS */
void touch_range(char *base, __u64 len, __u64 page, struct touch_res *t)
{
	volatile __u64 off = 0;

	t->done = true;
	t->sigbus_off = -1;
	if (sigsetjmp(bus_jmp, 1)) {
		t->pages = off / page;
		t->sigbus_off = (__s64)((char *)bus_addr - base);
		return;
	}
	bus_armed = 1;
	for (; off < len; off += page)
		((volatile char *)base)[off] = 1;
	bus_armed = 0;
	t->pages = off / page;
}

static void on_alarm(int sig)
{
	got_alarm = 1;
}

/* SIGALRM ends a guest that never exits: KVM_RUN returns EINTR */
void guest_watchdog(__u64 seconds)
{
	struct itimerval it;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)seconds;
	setitimer(ITIMER_REAL, &it, NULL);
}
