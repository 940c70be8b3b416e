// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "model.h"
#include "output.h"
#include "util.h"

/* the formats, by id: text.c and json.c, and any other that registered */
static const struct gmt_out_format *formats[GMT_FMT_MAX];

void gmt_out_register(struct gmt_out_format *f)
{
	int id = f->id;

	if (id == GMT_FMT_ANY)
		for (id = GMT_FMT_ANY; id < GMT_FMT_MAX && formats[id]; id++)
			;
	if (id >= GMT_FMT_MAX || formats[id])
		return;		/* no room: the format is not offered */
	f->id = id;
	formats[id] = f;
}

int gmt_parse_format(const char *s, enum gmt_format *fmt)
{
	int i;

	for (i = 0; i < GMT_FMT_MAX; i++) {
		if (formats[i] && !strcmp(s, formats[i]->name)) {
			*fmt = i;
			return 0;
		}
	}
	return -EINVAL;
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
	if ((unsigned int)fmt >= GMT_FMT_MAX || !formats[fmt])
		fmt = GMT_FMT_TEXT;
	o->fmt = fmt;
	o->ops = formats[fmt]->ops;
	o->model = calloc(1, sizeof(*o->model));
	if (!o->model) {
		gmt_err("cannot open the output: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	o->own_model = true;
	o->real_off = gmt_mono_to_real_offset();
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
	} else {
		int fd = open_path(path);

		if (fd < 0) {
			gmt_out_bind_model(o, NULL);
			return fd;
		}
		o->f = fdopen(fd, "w");
		if (!o->f) {
			int err = errno;

			close(fd);
			gmt_out_bind_model(o, NULL);
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
	gmt_out_bind_model(o, NULL);
	return -o->werr;
}

void gmt_out_bind_model(struct gmt_out *o, struct gmt_model *m)
{
	if (o->own_model) {
		gmt_model_free(o->model);
		free(o->model);
	}
	o->model = m;
	o->own_model = false;
}

/* ---- records: the view worked out once, then the format ---- */

void gmt_out_event(struct gmt_out *o, const struct gmt_event *e)
{
	struct gmt_event_view v;

	gmt_model_event(o->model, e);
	gmt_view_event(&v, o->model, e, o->real_off);
	o->ops->event(o, &v);
}

void gmt_out_attach(struct gmt_out *o, const struct gmt_session *s)
{
	struct gmt_attach_view v;

	if (!o->ops->attach)
		return;
	if (gmt_view_attach(&v, s)) {
		gmt_err("cannot report what is attached: %s", strerror(ENOMEM));
		return;
	}
	o->ops->attach(o, &v);
	gmt_view_attach_free(&v);
}

void gmt_out_summary(struct gmt_out *o, const struct gmt_trace_summary *sum)
{
	struct gmt_end_view v;

	gmt_view_trace_end(&v, sum);
	GMT_OUT_CALL(o, summary, &v);
}

void gmt_out_stat(struct gmt_out *o, const struct gmt_stat_snapshot *s, bool hist)
{
	struct gmt_stat_view v;

	if (!o->ops->stat)
		return;
	if (gmt_view_stat(&v, s, hist)) {
		gmt_err("cannot report statistics: %s", strerror(ENOMEM));
		return;
	}
	o->ops->stat(o, &v);
	gmt_view_stat_free(&v);
}

void gmt_out_stat_summary(struct gmt_out *o, const struct gmt_stat_summary *sum)
{
	struct gmt_end_view v;

	gmt_view_stat_end(&v, sum);
	GMT_OUT_CALL(o, stat_summary, &v);
}
