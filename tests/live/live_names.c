// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: hostile process names. gmem-workload renames itself (--comm, raw
 * bytes through prctl(PR_SET_NAME)) to names with invalid UTF-8, ESC
 * sequences, BEL, DEL, a C1 control, quotes, backslashes and a newline that
 * would forge a "# ..." summary line. Under `trace` and `refs`:
 *   - every NDJSON line is valid JSON under json-c's STRICT tokenizer and
 *     valid UTF-8 (checked here byte by byte: json-c alone accepts invalid
 *     UTF-8), and each comm decodes, by the documented rule (\\ and \xNN),
 *     back to the exact bytes the kernel holds, with no control character
 *     left in the decoded string;
 *   - text output carries no byte below 0x20 but the line ends, no 0x7f and
 *     nothing above 0x7e, and no line is forged.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_util.h"

#define COMM_MAX	15	/* the kernel keeps TASK_COMM_LEN - 1 bytes */

static const struct hostile {
	const char *tag;
	const char *name;
} names[] = {
	{ "badutf8", "\xff\xfe\x1b[31m\a\"\\x" },
	{ "newline", "\n# 9 conversions" },
	{ "mixed", "\\x41 \x7f\xc3\xc2\x9b\xe2\x80\xa8" },
};

/* diagnostics quote hostile bytes: never print them raw to the test log */
static const char *vis(const char *s, size_t n)
{
	static char buf[4][1024];
	static int k;
	char *b = buf[k++ % 4];
	size_t i, o = 0;

	for (i = 0; i < n && s[i] && o + 5 < sizeof(buf[0]); i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f)
			b[o++] = c;
		else
			o += snprintf(b + o, 5, "\\x%02x", c);
	}
	b[o] = 0;
	return b;
}

static size_t raw_comm(const char *name, char *out)
{
	size_t n = strnlen(name, COMM_MAX);

	memcpy(out, name, n);
	out[n] = 0;
	return n;
}

/* strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned int cp, n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* a decoded string a consumer may print: no C0, DEL or C1 control */
static bool decoded_safe(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			return false;
	}
	return true;
}

/* the documented rule backwards: "\\" is a backslash, "\xNN" a byte */
static int unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	while (*s) {
		if (n + 1 >= cap)
			return -1;
		if (*s != '\\') {
			out[n++] = *s++;
			continue;
		}
		if (s[1] == '\\') {
			out[n++] = '\\';
			s += 2;
		} else if (s[1] == 'x' && s[2] && s[3]) {
			char hex[3] = { s[2], s[3], 0 }, *end;
			unsigned long v = strtoul(hex, &end, 16);

			if (*end)
				return -1;
			out[n++] = (char)v;
			s += 4;
		} else {
			return -1;	/* a lone backslash: ambiguous */
		}
	}
	out[n] = 0;
	return (int)n;
}

static void expect_comm(const char *shown, const char *raw, size_t raw_len, const char *where)
{
	char back[256];
	int n = unescape(shown, back, sizeof(back));

	if (n != (int)raw_len || memcmp(back, raw, raw_len)) {
		print_message("%s: comm shown as '%s' does not decode to the process's name\n",
			      where, vis(shown, strlen(shown)));
		fail();
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (n + 4096 + 1 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* every line strictly valid; returns the records */
static json_object *strict_ndjson(const char *path)
{
	json_object *recs = json_object_new_array();
	size_t len, off = 0;
	char *buf = slurp(path, &len);
	int line = 0;

	assert_non_null(buf);
	assert_true(len > 0);
	assert_true(buf[len - 1] == '\n');
	while (off < len) {
		char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl - (buf + off), i;
		struct json_tokener *tok = json_tokener_new();
		json_object *o;

		line++;
		for (i = 0; i < l; i++)
			if ((unsigned char)buf[off + i] < 0x20) {
				print_message("%s:%d: raw control byte 0x%02x\n", path, line,
					      (unsigned char)buf[off + i]);
				fail();
			}
		if (!utf8_valid((unsigned char *)buf + off, l)) {
			print_message("%s:%d: not valid UTF-8: %s\n", path, line,
				      vis(buf + off, l));
			fail();
		}
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
		o = json_tokener_parse_ex(tok, buf + off, (int)l);
		if (!o || json_tokener_get_error(tok) != json_tokener_success ||
		    json_tokener_get_parse_end(tok) != l || !json_object_is_type(o, json_type_object)) {
			print_message("%s:%d: strict parse failed (%s): %s\n", path, line,
				      json_tokener_error_desc(json_tokener_get_error(tok)),
				      vis(buf + off, l));
			fail();
		}
		json_tokener_free(tok);
		json_object_array_add(recs, o);
		off += l + 1;
	}
	free(buf);
	return recs;
}

/* text: nothing but printable ASCII and the line ends */
static char *clean_text(const char *path, size_t *len)
{
	char *buf = slurp(path, len);
	size_t i;

	assert_non_null(buf);
	for (i = 0; i < *len; i++) {
		unsigned char c = buf[i];

		if (c == '\n')
			continue;
		if (c < 0x20 || c >= 0x7f) {
			print_message("%s: byte 0x%02x at offset %zu reaches the output\n", path, c,
				      i);
			fail();
		}
	}
	return buf;
}

/* trace -f FMT -o OUT -- gmem-workload --comm NAME ...; returns the workload's pid */
static long long traced(const char *fmt, const struct hostile *h, const char *out)
{
	const char *wl = live_tmp("wl.json"), *err = live_tmp("trace.err");
	const char *argv[] = { live_bin("gmemtrace"), "trace", "-f", fmt, "-o", out, "--",
			       live_bin("gmem-workload"), "--comm", h->name, "--vm-type",
			       "default", "--conversions", "2", "--uapi", "g1", "--punch", "1",
			       "--json-out", wl, NULL };
	json_object *w;
	long long pid;
	int rc;

	rc = live_run((char *const *)argv, NULL, err, 120);
	w = live_read_json(wl);
	if (rc || !w) {
		print_message("%s: trace exited %d\n", h->tag, rc);
		live_dump(err, 20);
		fail();
	}
	pid = live_get_int(w, "pid");
	json_object_put(w);
	return pid;
}

static void test_trace_json(void **state)
{
	size_t i, k;

	if (!live_require_tracing())
		skip();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *out = live_tmp("names.jsonl");
		char raw[COMM_MAX + 1];
		size_t rl = raw_comm(names[i].name, raw);
		long long pid = traced("json", &names[i], out);
		json_object *recs = strict_ndjson(out), *ev;
		int mine = 0, conv = 0;

		ev = live_filter(recs, "event", NULL);
		for (k = 0; k < json_object_array_length(ev); k++) {
			json_object *e = json_object_array_get_idx(ev, k);
			const char *comm = live_get_str(e, "comm");

			if (live_get_int(e, "pid") != pid)
				continue;
			mine++;
			conv += !strcmp(live_get_str(e, "event"), "convert");
			assert_non_null(comm);
			if (!decoded_safe(comm)) {
				print_message("%s: decoded comm keeps a control character\n",
					      names[i].tag);
				fail();
			}
			expect_comm(comm, raw, rl, names[i].tag);
		}
		print_message("%s: %d events of pid %lld, all strictly valid\n", names[i].tag, mine,
			      pid);
		assert_int_equal(conv, 2);
		assert_true(mine >= 5);	/* vm_create, gmem_create, memslot, 2 convert, punch */
		json_object_put(ev);
		json_object_put(recs);
	}
}

static void test_trace_text(void **state)
{
	size_t i;

	if (!live_require_tracing())
		skip();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *out = live_tmp("names.txt");
		char raw[COMM_MAX + 1], comm[128], pidtid[64];
		size_t rl = raw_comm(names[i].name, raw), len;
		long long pid = traced("text", &names[i], out);
		char *buf = clean_text(out, &len), *line, *save = NULL;
		int mine = 0, hashes = 0, lines = 0, last_hash = 0;

		for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char want[32];

			lines++;
			if (line[0] == '#') {
				hashes++;
				last_hash = lines;
				continue;
			}
			/* HH:MM:SS.uuuuuu COMM PID/TID ... */
			if (sscanf(line, "%*2d:%*2d:%*2d.%*6d %127s %63s", comm, pidtid) != 2) {
				print_message("%s: forged or malformed line: %s\n", names[i].tag,
					      vis(line, strlen(line)));
				fail();
			}
			snprintf(want, sizeof(want), "%lld/", pid);
			if (strncmp(pidtid, want, strlen(want)))
				continue;
			mine++;
			expect_comm(comm, raw, rl, names[i].tag);
		}
		print_message("%s: %d lines of pid %lld, one summary line\n", names[i].tag, mine, pid);
		assert_int_equal(hashes, 1);
		assert_int_equal(last_hash, lines);
		assert_true(mine >= 5);
		free(buf);
	}
}

/* a workload holding a pinned guest_memfd under a hostile name */
static pid_t hold(const struct hostile *h, const char *err)
{
	const char *argv[] = { live_bin("gmem-workload"), "--comm", h->name, "--vm-type",
			       "default", "--conversions", "0", "--touch", "--pin", "1",
			       "--hold-until-signal", NULL };
	pid_t pid = live_spawn((char *const *)argv, NULL, err);
	char needle[32];

	assert_true(pid > 0);
	snprintf(needle, sizeof(needle), "holding %d", pid);
	if (!live_wait_for(err, needle, LIVE_START_S)) {
		live_dump(err, 20);
		fail_msg("gmem-workload did not reach its hold");
	}
	return pid;
}

/* refs needs a guest_memfd the workload can touch and pin */
static bool gmem_pinnable(void)
{
	const char *out = live_tmp("names-probe.json");
	const char *argv[] = { live_bin("gmem-workload"), "--vm-type", "default", "--conversions",
			       "0", "--touch", "--pin", "1", "--json-out", out, NULL };
	json_object *wl, *pins;
	bool ok;

	if (live_run((char *const *)argv, NULL, NULL, 60))
		return false;
	wl = live_read_json(out);
	ok = wl && json_object_object_get_ex(wl, "pins", &pins) && pins &&
	     live_get_int_or(pins, "register_ret", -1) == 0;
	json_object_put(wl);
	return ok;
}

static void test_refs(void **state)
{
	size_t i, k;

	if (!live_require_tracing())
		skip();
	if (!gmem_pinnable())
		live_cannot_run("GMEM", "no guest_memfd that io_uring can pin here");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *werr = live_tmp("hold.err"), *jout = live_tmp("refs.jsonl");
		const char *tout = live_tmp("refs.txt"), *rerr = live_tmp("refs.err");
		char raw[COMM_MAX + 1], pidarg[16], *buf, *p;
		size_t rl = raw_comm(names[i].name, raw), len;
		pid_t pid = hold(&names[i], werr);
		const char *jargv[] = { live_bin("gmemtrace"), "refs", "-p", pidarg, "-f", "json",
					"-o", jout, NULL };
		const char *targv[] = { live_bin("gmemtrace"), "refs", "-p", pidarg, "-o", tout,
					NULL };
		json_object *recs;
		int gmems = 0, rc;

		snprintf(pidarg, sizeof(pidarg), "%d", pid);
		rc = live_run((char *const *)jargv, NULL, rerr, 60);
		if (rc)
			live_dump(rerr, 20);
		assert_int_equal(rc, 0);
		rc = live_run((char *const *)targv, NULL, rerr, 60);
		if (rc)
			live_dump(rerr, 20);
		assert_int_equal(rc, 0);
		kill(pid, SIGUSR1);
		assert_int_equal(live_wait(pid, 30), 0);

		recs = strict_ndjson(jout);
		for (k = 0; k < json_object_array_length(recs); k++) {
			json_object *r = json_object_array_get_idx(recs, k);
			const char *rec = live_get_str(r, "record"), *comm;

			if (!rec || strcmp(rec, "gmem"))
				continue;
			gmems++;
			comm = live_get_str(r, "comm");
			assert_non_null(comm);
			assert_true(decoded_safe(comm));
			expect_comm(comm, raw, rl, names[i].tag);
		}
		assert_int_equal(gmems, 1);
		json_object_put(recs);

		/* "guest_memfd INO: pid PID (COMM) fd ..." on one line, nothing forged */
		buf = clean_text(tout, &len);
		p = strstr(buf, ": pid ");
		assert_non_null(p);
		p = strchr(p, '(');
		assert_non_null(p);
		{
			char *end = strstr(p, ") fd ");
			char shown[128];

			assert_non_null(end);
			assert_true(end - p - 1 < (long)sizeof(shown));
			memcpy(shown, p + 1, end - p - 1);
			shown[end - p - 1] = 0;
			expect_comm(shown, raw, rl, names[i].tag);
		}
		for (p = buf; (p = strchr(p, '\n')); p++)
			if (p[1] == '#' && strncmp(p + 1, "# 1 guest_memfd", 15)) {
				print_message("%s: forged line in refs text: %s\n", names[i].tag,
					      vis(p + 1, 40));
				fail();
			}
		print_message("%s: refs json and text clean\n", names[i].tag);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_trace_json, live_teardown),
		cmocka_unit_test_teardown(test_trace_text, live_teardown),
		cmocka_unit_test_teardown(test_refs, live_teardown),
	};

	return cmocka_run_group_tests_name("live_names", tests, NULL, NULL);
}
