// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "util.h"

bool gmt_verbose;
const char *gmt_err_what = "setup";
static char last_err[512];

void gmt_err(const char *fmt, ...)
{
	va_list ap;

	/* kept for the JSON error record of a fatal path */
	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	fprintf(stderr, "gmemtrace: %s\n", last_err);
}

const char *gmt_last_error(void)
{
	return last_err;
}

void gmt_info(const char *fmt, ...)
{
	va_list ap;

	if (!gmt_verbose)
		return;
	fputs("gmemtrace: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int gmt_parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int gmt_parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v, mul = 1;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case 0:
		break;
	case 'k': case 'K':
		mul = 1ULL << 10; end++;
		break;
	case 'm': case 'M':
		mul = 1ULL << 20; end++;
		break;
	case 'g': case 'G':
		mul = 1ULL << 30; end++;
		break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || (mul > 1 && v > ~0ULL / mul))
		return -EINVAL;
	*out = v * mul;
	return 0;
}

int gmt_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return -EINVAL;
	/* seconds become u64 nanoseconds: keep far from 2^64 ns (584 years) */
	if (v > GMT_MAX_SECONDS)
		return -ERANGE;
	*out = v;
	return 0;
}

#define E(x) [x] = #x
static const char *const errno_names[] = {
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG),
	E(ENOEXEC), E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES),
	E(EFAULT), E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR),
	E(EISDIR), E(EINVAL), E(ENFILE), E(EMFILE), E(ENOTTY), E(EFBIG),
	E(ENOSPC), E(ESPIPE), E(EROFS), E(EPIPE), E(ERANGE), E(EDEADLK),
	E(ENOSYS), E(EOVERFLOW), E(EOPNOTSUPP), E(ETIMEDOUT), E(EHWPOISON),
};
#undef E

const char *gmt_errno_name(int err)
{
	if (err == 512)
		return "ERESTARTSYS";	/* leaks to tracepoints on signals */
	if (err <= 0 || (size_t)err >= sizeof(errno_names) / sizeof(errno_names[0]))
		return NULL;
	return errno_names[err];
}

const char *gmt_gen_name(unsigned int gen)
{
	static const char *const n[] = { "-", "G1", "G2", "G3" };

	return gen < GMT_GEN_MAX ? n[gen] : "?";
}

const char *gmt_gen_uapi(unsigned int gen, unsigned int cmd)
{
	switch (cmd) {
	case GMT_KVM_SET_MEMORY_ATTRIBUTES:
		return "KVM_SET_MEMORY_ATTRIBUTES";
	case GMT_KVM_GMEM_CONVERT_SHARED:
		return "KVM_GMEM_CONVERT_SHARED";
	case GMT_KVM_GMEM_CONVERT_PRIVATE:
		return "KVM_GMEM_CONVERT_PRIVATE";
	case GMT_KVM_SET_MEMORY_ATTRIBUTES2:
		return "KVM_SET_MEMORY_ATTRIBUTES2";
	}
	return gen == GMT_GEN_G2 ? "KVM_GMEM_CONVERT" : "?";
}

const char *gmt_dir_name(unsigned int dir)
{
	return dir == GMT_DIR_TO_PRIVATE ? "to_private" : "to_shared";
}

const char *gmt_event_name(unsigned int type)
{
	switch (type) {
	case GMT_EV_CONVERT:
		return "convert";
	case GMT_EV_GMEM_CREATE:
		return "gmem_create";
	case GMT_EV_MEMSLOT:
		return "memslot";
	case GMT_EV_FALLOCATE:
		return "fallocate";
	case GMT_EV_VM_CREATE:
		return "vm_create";
	case GMT_EV_GUEST_REQ:
		return "guest_request";
	case GMT_EV_VM_GONE:
		return "vm_gone";
	}
	return "unknown";
}

const char *gmt_source_name(unsigned int src)
{
	switch (src) {
	case GMT_SRC_FENTRY:
		return "fentry";
	case GMT_SRC_KPROBE:
		return "kprobe";
	}
	return "syscall_tp";
}

const char *gmt_phase_name(unsigned int ph)
{
	static const char *const n[GMT_PH_MAX] = {
		[GMT_PH_KERNEL_ENTER] = "kernel_enter",
		[GMT_PH_ATTR_TP] = "attr_tracepoint",
		[GMT_PH_PRE_SET] = "pre_set_attributes",
		[GMT_PH_POST_SET] = "post_set_attributes",
		[GMT_PH_UNMAP] = "unmap",
		[GMT_PH_REFCOUNT] = "refcount_check",
		[GMT_PH_LRU_DRAIN] = "lru_drain",
		[GMT_PH_INVALIDATE_START] = "invalidate_start",
		[GMT_PH_INVALIDATE_END] = "invalidate_end",
		[GMT_PH_KERNEL_EXIT] = "kernel_exit",
	};

	return ph < GMT_PH_MAX ? n[ph] : "?";
}

__u64 gmt_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 gmt_mono_to_real_offset(void)
{
	struct timespec r, m;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_MONOTONIC, &m);
	return ((__u64)r.tv_sec * 1000000000ULL + r.tv_nsec) -
	       ((__u64)m.tv_sec * 1000000000ULL + m.tv_nsec);
}

void gmt_fmt_time(char *buf, size_t len, __u64 real_ns, bool iso)
{
	time_t sec = real_ns / 1000000000ULL;
	struct tm tm;

	if (iso) {
		gmtime_r(&sec, &tm);
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			 tm.tm_min, tm.tm_sec, real_ns % 1000000000ULL);
	} else {
		localtime_r(&sec, &tm);
		snprintf(buf, len, "%02d:%02d:%02d.%06llu", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, (real_ns % 1000000000ULL) / 1000);
	}
}

void gmt_fmt_ns(char *buf, size_t len, __u64 ns)
{
	/* thresholds below the unit so 999999ns reads 1.00ms, not 1000.00us */
	if (ns < 1000)
		snprintf(buf, len, "%lluns", ns);
	else if (ns < 999995)
		snprintf(buf, len, "%.2fus", ns / 1e3);
	else if (ns < 999995000)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
}

void gmt_fmt_bytes(char *buf, size_t len, double b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;

	while (i < 4 && b >= (i ? 1023.95 : 1023.5)) {
		b /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%.0f%s", b, unit[i]);
	else
		snprintf(buf, len, "%.1f%s", b, unit[i]);
}
