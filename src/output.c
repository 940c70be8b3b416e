// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

int gmt_out_open(struct gmt_out *o, enum gmt_format fmt, const char *path)
{
	memset(o, 0, sizeof(*o));
	o->fmt = fmt;
	o->ops = fmt == GMT_FMT_JSON ? &gmt_out_json_ops : &gmt_out_text_ops;
	o->real_off = gmt_mono_to_real_offset();
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
	} else {
		o->f = fopen(path, "w");
		if (!o->f) {
			gmt_err("cannot open output file %s: %s", path, strerror(errno));
			return -errno;
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

void gmt_out_close(struct gmt_out *o)
{
	if (o->f) {
		fflush(o->f);
		if (o->own_file)
			fclose(o->f);
	}
	free(o->vbuf);
	o->vbuf = NULL;
	o->f = NULL;
	gmt_memslots_free(&o->slots);
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
	};

	return c < GMT_CNT_MAX && n[c] ? n[c] : "?";
}
