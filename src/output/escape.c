// SPDX-License-Identifier: GPL-2.0-only
/* The escaping rule for untrusted strings, and the hot path's line builder
 * (see escape.h). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "escape.h"
#include "util.h"

static const char hexd[] = "0123456789abcdef";

/* length of the valid UTF-8 sequence at s (strict: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 if there is none */
static size_t utf8_seq(const unsigned char *s, size_t len, unsigned int *cp)
{
	unsigned int c = s[0], n, k, v;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n >= len)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[k] & 0x3f);
	}
	if ((n == 2 && v < 0x800) || (n == 3 && v < 0x10000) || v > 0x10ffff ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n + 1;
}

/* the escaped form into dst (room bytes, no NUL); returns bytes written */
static size_t esc(char *dst, size_t room, const char *src, size_t len, unsigned int flags)
{
	const unsigned char *s = (const unsigned char *)src;
	bool json = flags & GMT_ESC_JSON;
	size_t i = 0, o = 0;

	/* the usual name: printable ASCII with nothing to escape */
	while (i < len && o < room && s[i] > 0x20 && s[i] < 0x7f && s[i] != '\\' &&
	       s[i] != '"')
		dst[o++] = s[i++];
	while (i < len && s[i]) {
		unsigned int c = s[i], cp;
		size_t n;

		if (c >= 0x20 && c < 0x7f && c != '\\' && !(c == ' ' && (flags & GMT_ESC_SPACE))) {
			if (json && c == '"') {
				if (room - o < 2)
					break;
				dst[o++] = '\\';
			} else if (room == o) {
				break;
			}
			dst[o++] = c;
			i++;
			continue;
		}
		if (c == '\\') {
			n = json ? 4 : 2;
			if (room - o < n)
				break;
			memset(dst + o, '\\', n);
			o += n;
			i++;
			continue;
		}
		if (c >= 0x80 && !(flags & GMT_ESC_ASCII)) {
			n = utf8_seq(s + i, len - i, &cp);
			/* C1 controls are valid UTF-8 but steer terminals (CSI) */
			if (n && cp >= 0xa0) {
				if (room - o < n)
					break;
				memcpy(dst + o, s + i, n);
				o += n;
				i += n;
				continue;
			}
			if (n == 2) {
				/* a C1 control: both bytes escaped */
				if (room - o < (json ? 10u : 8u))
					break;
				for (n = 0; n < 2; n++, i++) {
					if (json)
						dst[o++] = '\\';
					dst[o++] = '\\';
					dst[o++] = 'x';
					dst[o++] = hexd[s[i] >> 4];
					dst[o++] = hexd[s[i] & 15];
				}
				continue;
			}
		}
		/* a control, a byte outside UTF-8, or any non-ASCII byte in text */
		if (room - o < (json ? 5u : 4u))
			break;
		if (json)
			dst[o++] = '\\';
		dst[o++] = '\\';
		dst[o++] = 'x';
		dst[o++] = hexd[c >> 4];
		dst[o++] = hexd[c & 15];
		i++;
	}
	return o;
}

size_t gmt_escape(char *dst, size_t size, const char *src, size_t len, unsigned int flags)
{
	size_t n;

	if (!size)
		return 0;
	n = esc(dst, size - 1, src, len, flags);
	dst[n] = 0;
	return n;
}

const char *gmt_escape_str(const char *s, unsigned int flags)
{
	static char buf[4][GMT_ESC_SIZE(1024)];
	static unsigned int k;
	char *b = buf[k++ % 4];

	if (!s)
		return NULL;
	gmt_escape(b, sizeof(buf[0]), s, strlen(s), flags);
	return b;
}

void gmt_put_esc(struct gmt_line *l, const char *s, size_t len, unsigned int flags)
{
	l->p += esc(l->p, l->end - l->p, s, len, flags);
}

void gmt_put_fmt(struct gmt_line *l, const char *fmt, ...)
{
	size_t room = l->end - l->p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	/* room + 1: vsnprintf's NUL may take the byte kept for the '\n' */
	n = vsnprintf(l->p, room + 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->p += (size_t)n < room ? (size_t)n : room;
}

/* ---- numbers ---- */

static const char digits2[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

void gmt_put_slow(struct gmt_line *l, const char *s, size_t n)
{
	if (n > (size_t)(l->end - l->p))
		n = l->end - l->p;
	memcpy(l->p, s, n);
	l->p += n;
}

static unsigned int nr_digits(__u64 v)
{
	unsigned int n = 1;

	for (;;) {
		if (v < 10)
			return n;
		if (v < 100)
			return n + 1;
		if (v < 1000)
			return n + 2;
		if (v < 10000)
			return n + 3;
		v /= 10000;
		n += 4;
	}
}

/* digits written in place, two at a time */
void gmt_put_u64(struct gmt_line *l, __u64 v)
{
	unsigned int n = nr_digits(v);
	char *q;

	if (n > (size_t)(l->end - l->p))
		return;
	q = l->p + n;
	l->p = q;
	/* 32-bit divisions where the value fits: most fields do */
	if (v <= 0xffffffffu) {
		unsigned int w = v;

		while (w >= 100) {
			unsigned int d = (w % 100) * 2;

			w /= 100;
			*--q = digits2[d + 1];
			*--q = digits2[d];
		}
		v = w;
	}
	while (v >= 100) {
		unsigned int d = (v % 100) * 2;

		v /= 100;
		*--q = digits2[d + 1];
		*--q = digits2[d];
	}
	if (v >= 10) {
		*--q = digits2[v * 2 + 1];
		*--q = digits2[v * 2];
	} else {
		*--q = '0' + v;
	}
}

void gmt_put_s64(struct gmt_line *l, __s64 v)
{
	if (v < 0) {
		gmt_putc(l, '-');
		gmt_put_u64(l, -(__u64)v);
	} else {
		gmt_put_u64(l, v);
	}
}

void gmt_put_hex(struct gmt_line *l, __u64 v)
{
	char tmp[20], *q = tmp + sizeof(tmp);

	do {
		*--q = hexd[v & 15];
		v >>= 4;
	} while (v);
	*--q = 'x';
	*--q = '0';
	gmt_put(l, q, tmp + sizeof(tmp) - q);
}

void gmt_put_pad(struct gmt_line *l, size_t from, size_t width)
{
	size_t have = gmt_line_len(l) - from;

	while (have++ < width)
		gmt_putc(l, ' ');
}

/* n zero-padded decimal digits (v < 10^n <= 10^9) */
static void put_fixed(struct gmt_line *l, unsigned int v, int n)
{
	char tmp[12], *q = tmp + n;

	while (q - tmp >= 2) {
		unsigned int d = (v % 100) * 2;

		v /= 100;
		*--q = digits2[d + 1];
		*--q = digits2[d];
	}
	if (q > tmp)
		*--q = '0' + v % 10;
	gmt_put(l, tmp, n);
}

/*
 * printf("%.2f", ns / unit) rounds the double's exact value. Away from a tie
 * (the remainder exactly half a step) integer rounding agrees with it; at a
 * tie, and for values where the double loses precision, ask printf itself.
 */
void gmt_put_ns(struct gmt_line *l, __u64 ns)
{
	static const char *const sfx[] = { "us", "ms", "s" };
	__u64 step, q, r;
	int u;

	if (ns < 1000) {
		gmt_put_u64(l, ns);
		gmt_put(l, "ns", 2);
		return;
	}
	if (ns < 999995) {
		step = 10;
		u = 0;
	} else if (ns < 999995000) {
		step = 10000;
		u = 1;
	} else {
		step = 10000000;
		u = 2;
	}
	q = ns / step;
	r = ns % step;
	if (r * 2 == step || ns >= 1000000000000000ULL) {
		char buf[40];

		gmt_fmt_ns(buf, sizeof(buf), ns);
		gmt_puts(l, buf);
		return;
	}
	if (r * 2 > step)
		q++;
	gmt_put_u64(l, q / 100);
	gmt_putc(l, '.');
	put_fixed(l, q % 100, 2);
	gmt_puts(l, sfx[u]);
}

void gmt_put_time(struct gmt_line *l, __u64 real_ns, bool iso)
{
	static struct {
		__u64 sec;
		bool valid;
		size_t n;
		char pre[48];
	} cache[2];
	__u64 sec = real_ns / 1000000000ULL, frac = real_ns % 1000000000ULL;
	typeof(&cache[0]) c = &cache[iso];

	if (!c->valid || c->sec != sec) {
		char buf[64];
		size_t n;

		/* gmt_fmt_time itself, once a second: the same output by construction */
		gmt_fmt_time(buf, sizeof(buf), sec * 1000000000ULL, iso);
		n = strlen(buf);
		/* drop the fraction (and "Z"): 9 digits + Z, or 6 digits */
		n -= iso ? 10 : 6;
		memcpy(c->pre, buf, n);
		c->n = n;
		c->sec = sec;
		c->valid = true;
	}
	gmt_put(l, c->pre, c->n);
	if (iso) {
		put_fixed(l, frac, 9);
		gmt_putc(l, 'Z');
	} else {
		put_fixed(l, frac / 1000, 6);
	}
}
