// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "gmt_refs.h"
#include "output.h"
#include "util.h"

int gmt_parse_format(const char *s, enum gmt_format *fmt)
{
	if (!strcmp(s, "text"))
		*fmt = GMT_FMT_TEXT;
	else if (!strcmp(s, "json"))
		*fmt = GMT_FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

#define GMT_OUT_BUF	(1 << 16)

/* open -o FILE the safe way; a message is printed on failure */
static int open_path(const char *path)
{
	char target[256];
	struct stat st;
	ssize_t n;
	int fd, err, fl;

	/* O_NOFOLLOW: a symlink planted where root writes would redirect the
	 * truncation to any file; O_NONBLOCK: a FIFO without reader fails
	 * with ENXIO instead of blocking before anything is attached */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		  0640);
	if (fd >= 0) {
		fl = fcntl(fd, F_GETFL);
		if (fl >= 0)
			fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
		return fd;
	}
	err = errno;
	gmt_err_what = "output";
	if (err == ELOOP && (n = readlink(path, target, sizeof(target) - 1)) >= 0) {
		target[n] = 0;
		gmt_err("refusing to write to %s: it is a symbolic link (to %s); "
			"give the file itself with -o", path, target);
	} else if (err == ENXIO && !stat(path, &st) && S_ISFIFO(st.st_mode)) {
		gmt_err("cannot open output %s: it is a FIFO with no reader; "
			"start the reader first", path);
	} else {
		gmt_err("cannot open output file %s: %s", path, strerror(err));
	}
	return -err;
}

int gmt_out_open(struct gmt_out *o, enum gmt_format fmt, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->fmt = fmt;
	o->ops = fmt == GMT_FMT_JSON ? &gmt_out_json_ops : &gmt_out_text_ops;
	o->real_off = gmt_mono_to_real_offset();
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
	} else {
		int fd = open_path(path);

		if (fd < 0)
			return fd;
		o->f = fdopen(fd, "w");
		if (!o->f) {
			int err = errno;

			close(fd);
			gmt_err("cannot open output file %s: %s", path, strerror(err));
			return -err;
		}
		o->own_file = true;
	}
	/* a terminal sees each line at once; files and pipes get whole
	 * buffers, flushed after every poll (gmt_out_flush): a write(2) per
	 * record would cost more than the record */
	if (isatty(fileno(o->f))) {
		setvbuf(o->f, NULL, _IOLBF, 0);
	} else {
		/* glibc ignores the size without a buffer and takes st_blksize
		 * (4 KiB): a write(2) per 4 KiB cost 4x the kernel time of 64 KiB */
		static char stdout_buf[GMT_OUT_BUF];
		char *b = o->own_file ? malloc(GMT_OUT_BUF) : stdout_buf;

		if (o->own_file)
			o->vbuf = b;
		setvbuf(o->f, b, _IOFBF, b ? GMT_OUT_BUF : 0);
	}
	return 0;
}

int gmt_out_check(struct gmt_out *o)
{
	if (!o->f)
		return -o->werr;
	errno = 0;
	if ((fflush(o->f) == EOF || ferror(o->f)) && !o->werr) {
		struct pollfd p = { .fd = fileno(o->f) };
		struct stat st;

		o->werr = errno;
		/* the failed write was inside an fputs and errno is gone: a pipe
		 * whose reader left says so with POLLERR */
		if (!o->werr && !fstat(p.fd, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
		    poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
			o->werr = EPIPE;
		if (!o->werr)
			o->werr = EIO;
	}
	return -o->werr;
}

int gmt_out_close(struct gmt_out *o)
{
	if (o->f) {
		gmt_out_check(o);
		if (o->own_file && fclose(o->f) && !o->werr)
			o->werr = errno;
	}
	free(o->vbuf);
	o->vbuf = NULL;
	o->f = NULL;
	gmt_memslots_free(&o->slots);
	return -o->werr;
}

/* KVM's own name for a VM is "<pid>-<fd>" (its debugfs directory) */
void gmt_vm_label(char *buf, size_t len, __s32 pid, __s32 fd)
{
	if (pid > 0 && fd >= 0)
		snprintf(buf, len, "%d-%d", pid, fd);
	else if (pid > 0)
		snprintf(buf, len, "%d-?", pid);
	else
		snprintf(buf, len, "?");
}

void gmt_folio_decompose(const struct gmt_folio_snap *f, struct gmt_refs_verdict *v)
{
	/* the exact snapshot includes filemap_get_folios' own batch reference */
	__s32 ref = (__s32)f->refcount - (f->exact ? 1 : 0);
	__u32 order = f->nr_pages > 1 ? 31 - __builtin_clz(f->nr_pages) : 0;

	gmt_refs_decompose(ref, f->mapcount, f->nr_pages > 1 ? (__s32)f->pincount : 0, order,
			   f->lru, v);
}

const char *gmt_vm_end_name(unsigned int how)
{
	switch (how) {
	case GMT_VM_END_REUSED:
		return "address_reused";
	case GMT_VM_END_RELEASED:
		return "released";
	case GMT_VM_END_SWEPT:
		return "no_file_left";
	}
	return "?";
}

const char *gmt_greq_end_name(unsigned int end)
{
	switch (end) {
	case GMT_GREQ_END_REENTRY:
		return "reentry";
	case GMT_GREQ_END_THREAD_EXIT:
		return "thread_exit";
	case GMT_GREQ_END_OTHER_VCPU:
		return "other_vcpu";
	case GMT_GREQ_END_TRACE_END:
		return "tracing_ended";
	}
	return "?";
}

const char *gmt_counter_name(unsigned int c)
{
	static const char *const n[GMT_CNT_MAX] = {
		[GMT_CNT_RB_DROPS] = "ringbuf_drops",
		[GMT_CNT_INFLIGHT_FULL] = "inflight_full",
		[GMT_CNT_INFLIGHT_MISS] = "inflight_miss",
		[GMT_CNT_READ_USER_ERR] = "read_user_errors",
		[GMT_CNT_READ_KERN_ERR] = "read_kernel_errors",
		[GMT_CNT_STATS_FULL] = "stats_map_full",
		[GMT_CNT_WRONG_FD] = "cmd_on_other_fd",
		[GMT_CNT_UNCOUNTED] = "conversions_not_counted",
		[GMT_CNT_VMS_FULL] = "vm_map_full",
		[GMT_CNT_PIDS_FULL] = "followed_pids_full",
		[GMT_CNT_GREQ_LOST] = "guest_requests_lost",
	};

	return c < GMT_CNT_MAX && n[c] ? n[c] : "?";
}
