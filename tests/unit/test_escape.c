// SPDX-License-Identifier: GPL-2.0-only
/*
 * The escaping rule for strings from the kernel or a process (src/output/escape.c,
 * docs/json-schema.md "Escaping"), with hostile inputs: invalid and overlong
 * UTF-8, surrogates, C0/C1 controls, DEL, quotes, backslashes that look like
 * escapes, truncation; random bytes for the properties (reversible, valid
 * UTF-8, nothing a terminal acts on, strict JSON). And the line builder's
 * number, latency and time formatting against the stdio versions it replaces.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "escape.h"
#include "util.h"

static const char *esc(const char *s, size_t len, unsigned int flags)
{
	static char buf[GMT_ESC_SIZE(256)];

	gmt_escape(buf, sizeof(buf), s, len, flags);
	return buf;
}

#define E(s, f)	esc(s, sizeof(s) - 1, f)

static void test_plain_names_unchanged(void **state)
{
	assert_string_equal(E("qemu-system-x86", 0), "qemu-system-x86");
	assert_string_equal(E("qemu-system-x86", GMT_ESC_JSON), "qemu-system-x86");
	assert_string_equal(E("qemu-system-x86", GMT_ESC_ASCII | GMT_ESC_SPACE),
			    "qemu-system-x86");
	assert_string_equal(E("kworker/0:1", GMT_ESC_JSON), "kworker/0:1");
	assert_string_equal(E("a b", 0), "a b");
	assert_string_equal(E("a b", GMT_ESC_SPACE), "a\\x20b");
}

static void test_backslash_and_quote(void **state)
{
	/* a name that looks like an escape must not read as one */
	assert_string_equal(E("\\x41", 0), "\\\\x41");
	assert_string_equal(E("\\x41", GMT_ESC_JSON), "\\\\\\\\x41");
	assert_string_equal(E("\"", 0), "\"");
	assert_string_equal(E("\"", GMT_ESC_JSON), "\\\"");
	assert_string_equal(E("a\\", GMT_ESC_ASCII), "a\\\\");
}

static void test_controls(void **state)
{
	assert_string_equal(E("\x1b[31m\a", 0), "\\x1b[31m\\x07");
	assert_string_equal(E("\n# 9 conversions", GMT_ESC_ASCII), "\\x0a# 9 conversions");
	assert_string_equal(E("\r\t\x7f", 0), "\\x0d\\x09\\x7f");
	assert_string_equal(E("\x01", GMT_ESC_JSON), "\\\\x01");
	/* C1 controls are valid UTF-8 but a terminal's CSI: escaped everywhere */
	assert_string_equal(E("\xc2\x9b" "2J", 0), "\\xc2\\x9b2J");
	assert_string_equal(E("\xc2\x85", GMT_ESC_JSON), "\\\\xc2\\\\x85");
	/* a NUL ends the string, as in a comm */
	assert_string_equal(esc("ab\0cd", 5, 0), "ab");
}

static void test_invalid_utf8(void **state)
{
	assert_string_equal(E("\xff\xfe", 0), "\\xff\\xfe");
	assert_string_equal(E("\x80", 0), "\\x80");			/* lone continuation */
	assert_string_equal(E("a\xc3", 0), "a\\xc3");			/* truncated */
	assert_string_equal(E("\xc3(", 0), "\\xc3(");			/* bad continuation */
	assert_string_equal(E("\xc0\xaf", 0), "\\xc0\\xaf");		/* overlong '/' */
	assert_string_equal(E("\xe0\x80\xaf", 0), "\\xe0\\x80\\xaf");	/* overlong */
	assert_string_equal(E("\xed\xa0\x80", 0), "\\xed\\xa0\\x80");	/* surrogate */
	assert_string_equal(E("\xf4\x90\x80\x80", 0), "\\xf4\\x90\\x80\\x80");	/* > U+10FFFF */
	assert_string_equal(E("\xf5", 0), "\\xf5");
}

static void test_valid_utf8(void **state)
{
	assert_string_equal(E("caf\xc3\xa9", 0), "caf\xc3\xa9");
	assert_string_equal(E("\xf0\x9f\x98\x80", GMT_ESC_JSON), "\xf0\x9f\x98\x80");
	assert_string_equal(E("\xc2\xa0", 0), "\xc2\xa0");	/* U+00A0, first after C1 */
	/* text shows only printable ASCII */
	assert_string_equal(E("caf\xc3\xa9", GMT_ESC_ASCII), "caf\\xc3\\xa9");
}

static void test_truncation_keeps_escapes_whole(void **state)
{
	char buf[8];
	size_t n;

	n = gmt_escape(buf, sizeof(buf), "ab\xff\xff", 4, 0);
	assert_int_equal(n, 6);
	assert_string_equal(buf, "ab\\xff");
	n = gmt_escape(buf, 4, "\\\\", 2, GMT_ESC_JSON);
	assert_int_equal(n, 0);		/* 4 bytes do not fit in 3 */
	assert_string_equal(buf, "");
	n = gmt_escape(buf, 3, "\xc3\xa9\xc3\xa9", 4, 0);
	assert_string_equal(buf, "\xc3\xa9");
	assert_int_equal(gmt_escape(buf, 0, "x", 1, 0), 0);
}

/* the documented rule backwards */
static int unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (n >= cap)
			return -1;
		if (*s != '\\') {
			out[n++] = *s++;
		} else if (s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = { s[2], s[3], 0 };

			out[n++] = (char)strtoul(hex, NULL, 16);
			s += 4;
		} else {
			return -1;
		}
	}
	return (int)n;
}

/* strict UTF-8, written independently of escape.c's decoder */
static bool utf8_ok(const unsigned char *s)
{
	while (*s) {
		unsigned int cp, n, k;

		if (*s < 0x80) {
			s++;
			continue;
		}
		if (*s >= 0xc2 && *s <= 0xdf)
			n = 1, cp = *s & 0x1f;
		else if (*s >= 0xe0 && *s <= 0xef)
			n = 2, cp = *s & 0x0f;
		else if (*s >= 0xf0 && *s <= 0xf4)
			n = 3, cp = *s & 0x07;
		else
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static void test_random_bytes(void **state)
{
	static const unsigned int modes[] = { 0, GMT_ESC_ASCII | GMT_ESC_SPACE, GMT_ESC_JSON };
	unsigned int seed = 12345;
	int round, m;

	for (round = 0; round < 20000; round++) {
		unsigned char raw[16];
		size_t len = 1 + rand_r(&seed) % 15, i, rl;
		char back[64];

		for (i = 0; i < len; i++) {
			unsigned int r = rand_r(&seed);

			/* bias toward the interesting bytes */
			raw[i] = r % 4 == 0 ? (unsigned char)"\\\"\x1b\n\x7f\xc2\x9b\xe2\x80\xff"[r / 4 % 11] :
				 (unsigned char)(r >> 8);
			if (!raw[i])
				raw[i] = 'z';
		}
		raw[len] = 0;
		rl = strlen((char *)raw);
		for (m = 0; m < 3; m++) {
			const char *out = esc((char *)raw, len, modes[m]);
			const unsigned char *p;
			char quoted[GMT_ESC_SIZE(256) + 2];
			json_object *j;
			struct json_tokener *tok;

			for (p = (const unsigned char *)out; *p; p++) {
				assert_true(*p >= 0x20 && *p != 0x7f);
				assert_false(p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f);
				if (modes[m] & GMT_ESC_ASCII)
					assert_true(*p < 0x7f && *p != ' ');
			}
			assert_true(utf8_ok((const unsigned char *)out));
			if (modes[m] != GMT_ESC_JSON) {
				assert_int_equal(unescape(out, back, sizeof(back)), rl);
				assert_memory_equal(back, raw, rl);
				continue;
			}
			/* JSON: a strict parser takes it, and it decodes to the flags-0 form */
			snprintf(quoted, sizeof(quoted), "\"%s\"", out);
			tok = json_tokener_new();
			json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
			j = json_tokener_parse_ex(tok, quoted, (int)strlen(quoted));
			assert_non_null(j);
			assert_int_equal(json_tokener_get_error(tok), json_tokener_success);
			{
				char plain[GMT_ESC_SIZE(16)];

				gmt_escape(plain, sizeof(plain), (char *)raw, len, 0);
				assert_string_equal(json_object_get_string(j), plain);
				assert_int_equal(unescape(plain, back, sizeof(back)), rl);
				assert_memory_equal(back, raw, rl);
			}
			json_object_put(j);
			json_tokener_free(tok);
		}
	}
}

/* ---- the line builder against the stdio code it replaces ---- */

static const char *line_of(void (*fn)(struct gmt_line *, __u64), __u64 v)
{
	static struct gmt_line l;

	gmt_line_init(&l);
	fn(&l, v);
	*l.p = 0;
	return l.buf;
}

static void put_u(struct gmt_line *l, __u64 v) { gmt_put_u64(l, v); }
static void put_s(struct gmt_line *l, __u64 v) { gmt_put_s64(l, (__s64)v); }
static void put_x(struct gmt_line *l, __u64 v) { gmt_put_hex(l, v); }
static void put_ns(struct gmt_line *l, __u64 v) { gmt_put_ns(l, v); }
static void put_iso(struct gmt_line *l, __u64 v) { gmt_put_time(l, v, true); }
static void put_loc(struct gmt_line *l, __u64 v) { gmt_put_time(l, v, false); }

static __u64 rnd64(unsigned int *seed)
{
	__u64 v = (__u64)rand_r(seed) << 33 ^ (__u64)rand_r(seed) << 11 ^ rand_r(seed);

	return v >> (rand_r(seed) % 64);
}

static void test_numbers(void **state)
{
	static const __u64 edge[] = { 0, 9, 10, 99, 100, 4294967295ULL, 4294967296ULL,
				      9999999999ULL, 18446744073709551615ULL };
	unsigned int seed = 7, i;
	char want[64];

	for (i = 0; i < 200000 + sizeof(edge) / sizeof(edge[0]); i++) {
		__u64 v = i < sizeof(edge) / sizeof(edge[0]) ? edge[i] : rnd64(&seed);

		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		assert_string_equal(line_of(put_u, v), want);
		snprintf(want, sizeof(want), "%lld", (long long)v);
		assert_string_equal(line_of(put_s, v), want);
		snprintf(want, sizeof(want), "0x%llx", (unsigned long long)v);
		assert_string_equal(line_of(put_x, v), want);
	}
}

static void test_latency_same_as_gmt_fmt_ns(void **state)
{
	static const __u64 edge[] = { 0, 999, 1000, 1005, 1015, 1999, 2005, 999994, 999995,
				      999999, 1000000, 1005000, 999994999, 999995000,
				      1000000000, 1005000000, 2200000000ULL, 1000000000000000ULL,
				      18446744073709551615ULL };
	unsigned int seed = 3, i;
	char want[64];

	for (i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		gmt_fmt_ns(want, sizeof(want), edge[i]);
		assert_string_equal(line_of(put_ns, edge[i]), want);
	}
	/* every value in the us range, then random ones */
	for (i = 0; i < 1000000; i++) {
		gmt_fmt_ns(want, sizeof(want), i);
		assert_string_equal(line_of(put_ns, i), want);
	}
	for (i = 0; i < 300000; i++) {
		__u64 v = rnd64(&seed);

		gmt_fmt_ns(want, sizeof(want), v);
		assert_string_equal(line_of(put_ns, v), want);
	}
}

static void test_time_same_as_gmt_fmt_time(void **state)
{
	unsigned int seed = 11, i;
	__u64 t = 1748779200000000000ULL;
	char want[64];

	setenv("TZ", "Europe/Paris", 1);
	for (i = 0; i < 100000; i++) {
		/* mostly the same second (the cache), sometimes a jump */
		t += i % 1000 ? (__u64)(rand_r(&seed) % 3000) : (__u64)rand_r(&seed) * 1000000ULL;
		gmt_fmt_time(want, sizeof(want), t, true);
		assert_string_equal(line_of(put_iso, t), want);
		gmt_fmt_time(want, sizeof(want), t, false);
		assert_string_equal(line_of(put_loc, t), want);
	}
}

static void test_line_never_overflows(void **state)
{
	struct gmt_line l;
	char big[4096];
	int i;

	memset(big, 'a', sizeof(big));
	gmt_line_init(&l);
	for (i = 0; i < 100; i++) {
		gmt_put(&l, big, 100);
		gmt_put_u64(&l, 18446744073709551615ULL);
		gmt_put_esc(&l, "\xff\xff\xff", 3, GMT_ESC_JSON);
		gmt_put_fmt(&l, "%s", "xyz");
		gmt_put_time(&l, 1748779200000000000ULL, true);
		gmt_putc(&l, 'c');
	}
	assert_true(gmt_line_len(&l) <= sizeof(l.buf) - 1);
	assert_true(l.p <= l.end);
	*l.p++ = '\n';	/* the byte kept free */
	assert_int_equal(gmt_line_len(&l), sizeof(l.buf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_unchanged),
		cmocka_unit_test(test_backslash_and_quote),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_truncation_keeps_escapes_whole),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_latency_same_as_gmt_fmt_ns),
		cmocka_unit_test(test_time_same_as_gmt_fmt_time),
		cmocka_unit_test(test_line_never_overflows),
	};

	return cmocka_run_group_tests_name("escape", tests, NULL, NULL);
}
