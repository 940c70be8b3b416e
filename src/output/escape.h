/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strings that come from the kernel or from a process (comm, names, paths)
 * are untrusted bytes: any /dev/kvm user picks its own comm. Every formatter
 * prints them through gmt_escape(), one rule (docs/json-schema.md,
 * "Escaping"):
 *
 *   - a backslash becomes "\\";
 *   - a control character (0x00-0x1f, 0x7f, and the C1 controls
 *     U+0080-U+009F), and a byte that is not part of valid UTF-8, becomes
 *     "\xNN" (two lowercase hex digits per byte);
 *   - GMT_ESC_ASCII (text output): every byte above 0x7e too, so a terminal
 *     only ever sees printable ASCII; GMT_ESC_SPACE: spaces too, so a
 *     whitespace-separated field stays one field.
 *
 * The result is reversible ("\\" -> '\', "\xNN" -> byte) and valid UTF-8.
 * GMT_ESC_JSON additionally quotes the result for a JSON string literal
 * ('"' and '\' get a second backslash), without the surrounding quotes.
 *
 * Also here: a line builder for the per-record hot path (no stdio
 * formatting per field: a record is written with one fwrite).
 */
#ifndef GMT_ESCAPE_H
#define GMT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>

#define GMT_ESC_ASCII	0x1
#define GMT_ESC_SPACE	0x2
#define GMT_ESC_JSON	0x4

/* room for the escaped form of n bytes, NUL included (JSON: "\\xNN" per byte) */
#define GMT_ESC_SIZE(n)	(5 * (n) + 1)

/*
 * Escape len bytes of src (stopping early at a NUL) into dst of size bytes,
 * NUL-terminated; never cuts an escape in half. Returns the length written.
 */
size_t gmt_escape(char *dst, size_t size, const char *src, size_t len, unsigned int flags);

/* the same for a NUL-terminated string, into a static buffer (rare paths only) */
const char *gmt_escape_str(const char *s, unsigned int flags);

/* ---- line builder ---- */

struct gmt_line {
	char *p;
	char *end;	/* stays 1 byte before the buffer's end, for the '\n' */
	char buf[2048];
};

static inline void gmt_line_init(struct gmt_line *l)
{
	l->p = l->buf;
	l->end = l->buf + sizeof(l->buf) - 1;
}

static inline size_t gmt_line_len(const struct gmt_line *l)
{
	return l->p - l->buf;
}

void gmt_put_slow(struct gmt_line *l, const char *s, size_t n);

/* inlined with a constant n, memcpy becomes a few moves: no call per field */
static inline void gmt_put(struct gmt_line *l, const char *s, size_t n)
{
	if (__builtin_expect(n <= (size_t)(l->end - l->p), 1)) {
		memcpy(l->p, s, n);
		l->p += n;
	} else {
		gmt_put_slow(l, s, n);
	}
}

/* a string literal or constant name */
#define gmt_puts(l, s)	gmt_put((l), (s), strlen(s))

static inline void gmt_putc(struct gmt_line *l, char c)
{
	if (l->p < l->end)
		*l->p++ = c;
}

void gmt_put_u64(struct gmt_line *l, __u64 v);
void gmt_put_s64(struct gmt_line *l, __s64 v);
void gmt_put_hex(struct gmt_line *l, __u64 v);		/* "0x1f" */
void gmt_put_pad(struct gmt_line *l, size_t from, size_t width);	/* spaces up to width */
/* printf into the line, for the rare parts of a record */
void gmt_put_fmt(struct gmt_line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* escaped bytes, as gmt_escape */
void gmt_put_esc(struct gmt_line *l, const char *s, size_t len, unsigned int flags);
/* gmt_fmt_ns()'s exact output ("950ns", "1.23us"), without stdio in the common case */
void gmt_put_ns(struct gmt_line *l, __u64 ns);
/* gmt_fmt_time()'s exact output; the date part is cached per second */
void gmt_put_time(struct gmt_line *l, __u64 real_ns, bool iso);

#endif /* GMT_ESCAPE_H */
