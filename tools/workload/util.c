/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers: clock, errno names, ioctl returns, return histograms
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "workload.h"

__u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

const char *errname(long ret)
{
	const char *n = ret < 0 ? strerrorname_np((int)-ret) : NULL;

	return n ? n : "?";
}

long sys_ret(long r)
{
	return r < 0 ? -errno : r;
}

long check_ext(int fd, long cap)
{
	return sys_ret(ioctl(fd, GMT_KVM_CHECK_EXTENSION, cap));
}

void hist_add(struct ret_hist *h, long ret)
{
	unsigned int i;

	h->calls++;
	for (i = 0; i < h->n; i++) {
		if (h->ret[i] == ret) {
			h->count[i]++;
			return;
		}
	}
	if (h->n == GMW_MAX_RETS) {
		h->other++;
		return;
	}
	h->ret[h->n] = ret;
	h->count[h->n++] = 1;
}

void sleep_us(__u64 us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000ULL),
		.tv_nsec = (long)(us % 1000000ULL) * 1000L,
	};

	/* a signal cuts the sleep short: the loop then sees got_term */
	clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
}
