// SPDX-License-Identifier: GPL-2.0-only
/*
 * Live: gmemtrace export scraped by a real Prometheus (Debian's package)
 * against gmem-workload's own account; promtool on the exposition; gone
 * VMs' series expiring; bad command lines.
 */
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "live_util.h"

#define PROMETHEUS	"/usr/bin/prometheus"
#define PROMTOOL	"/usr/bin/promtool"

/* a loopback port nobody listens on now */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* GET http://127.0.0.1:port/path: the status, the body into buf */
static int http_get(int port, const char *path, char *buf, size_t size)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), status = -1;
	size_t got = 0;
	ssize_t n;
	char *body;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	dprintf(fd, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	body = strstr(buf, "\r\n\r\n");
	memmove(buf, body ? body + 4 : buf + got, strlen(body ? body + 4 : buf + got) + 1);
	return status;
}

/* the value of a PromQL expression that yields one sample, -1 if none */
static double prom_query(int port, const char *expr)
{
	static char buf[1 << 16];
	char path[1024], *p = path + snprintf(path, sizeof(path), "/api/v1/query?query=");
	json_object *o, *d, *res, *v;
	double val = -1;

	for (; *expr && p < path + sizeof(path) - 4; expr++)	/* percent-encode */
		p += isalnum((unsigned char)*expr) ? sprintf(p, "%c", *expr) :
						     sprintf(p, "%%%02X", (unsigned char)*expr);
	*p = '\0';
	if (http_get(port, path, buf, sizeof(buf)) != 200)
		return -1;
	o = json_tokener_parse(buf);
	if (o && json_object_object_get_ex(o, "data", &d) &&
	    json_object_object_get_ex(d, "result", &res) && json_object_array_length(res) == 1 &&
	    json_object_object_get_ex(json_object_array_get_idx(res, 0), "value", &v))
		val = atof(json_object_get_string(json_object_array_get_idx(v, 1)));
	json_object_put(o);
	return val;
}

static pid_t start_prometheus(int port, int target)
{
	const char *cfg = live_tmp("prometheus.yml"), *db = live_tmp("prom-db");
	char listen[64], cfgarg[600], dbarg[600], body[4096];
	FILE *f = fopen(cfg, "w");
	pid_t pid;
	int i;

	assert_non_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "scrape_configs:\n  - job_name: gmemtrace\n    static_configs:\n"
		   "      - targets: ['127.0.0.1:%d']\n", target);
	fclose(f);
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	snprintf(cfgarg, sizeof(cfgarg), "--config.file=%s", cfg);
	snprintf(dbarg, sizeof(dbarg), "--storage.tsdb.path=%s", db);
	pid = live_spawn((char *const[]){ PROMETHEUS, cfgarg, dbarg, listen, NULL }, NULL,
			 live_tmp("prometheus.log"));
	for (i = 0; i < 300 && http_get(port, "/-/ready", body, sizeof(body)) != 200; i++)
		usleep(100000);
	if (i == 300)
		live_dump(live_tmp("prometheus.log"), 30);
	assert_true(i < 300);
	return pid;
}

/* the workload's conversion ioctls: all, and those that failed */
static void workload_account(json_object *wl, long long *calls, long long *failed)
{
	json_object *cs;
	size_t i;

	*calls = *failed = 0;
	assert_true(json_object_object_get_ex(wl, "calls", &cs));
	for (i = 0; i < json_object_array_length(cs); i++) {
		json_object *c = json_object_array_get_idx(cs, i);

		if (!live_is_null(c, "skipped") || live_is_null(c, "ret"))
			continue;
		(*calls)++;
		*failed += live_get_int(c, "ret") != 0;
	}
}

/* max over the last minute: the exporter is gone, its series stale */
static double prom_sum(int port, const char *metric, const char *match)
{
	char q[512];

	snprintf(q, sizeof(q), "sum(max_over_time(%s{%s}[1m]))", metric, match);
	return prom_query(port, q);
}

/* scrape until the exporter exits; the last exposition stays in buf */
static void scrape_until_exit(pid_t pid, int port, char *buf, size_t size)
{
	char *tmp = malloc(size);
	int i, st;

	assert_non_null(tmp);
	buf[0] = '\0';
	for (i = 0; i < 1200 && waitpid(pid, &st, WNOHANG) == 0; i++) {
		if (http_get(port, "/metrics", tmp, size) == 200)
			memcpy(buf, tmp, size);
		usleep(100000);
	}
	free(tmp);
	assert_true(i < 1200);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void check_promtool(const char *expo)
{
	const char *in = live_tmp("expo.prom"), *out = live_tmp("promtool.out");
	char cmd[1200];
	FILE *f = fopen(in, "w");
	long sz;

	assert_non_null(f);
	fputs(expo, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s > %s 2>&1", in, out);
	assert_int_equal(system(cmd), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	fclose(f);
	if (sz)
		live_dump(out, 20);
	assert_int_equal(sz, 0);	/* no lint finding either */
}

/* Prometheus's view of a run equals the workload's account */
/* the static gmemtrace of the VM suite is built without the exporter (Debian's
 * libmicrohttpd has no complete static archive): there the command is absent */
static void test_export_prometheus(void **state)
{
	static char expo[1 << 20];
	const char *wl_json = live_tmp("export-wl.json"), *err = live_tmp("export.err");
	int eport = free_port(), pport = free_port(), i;
	char listen[64], match[64];
	long long calls, failed;
	double n = -1, nf = -1, hc = -1;
	pid_t prom, exp;
	json_object *wl;

	if (!live_require_tracing() || !live_have_export())
		skip();
	if (access(PROMETHEUS, X_OK) || access(PROMTOOL, X_OK))
		live_cannot_run("PROMETHEUS", "no %s (Debian package prometheus)", PROMETHEUS);
	prom = start_prometheus(pport, eport);
	snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%d", eport);
	/* --linger: the final values stay up for Prometheus's next scrapes */
	exp = live_spawn((char *const[]){ (char *)live_bin("gmemtrace"), "export", listen,
					  "--linger", "4", "--", (char *)live_bin("gmem-workload"),
					  "--vms", "2", "--conversions", "40", "--interval-us", "20000",
					  "--json-out", (char *)wl_json, NULL }, NULL, err);
	scrape_until_exit(exp, eport, expo, sizeof(expo));
	check_promtool(expo);
	wl = live_read_json(wl_json);
	assert_non_null(wl);
	workload_account(wl, &calls, &failed);
	assert_true(calls > 0);
	snprintf(match, sizeof(match), "vm_pid=\"%lld\"", live_get_int(wl, "pid"));
	for (i = 0; i < 50 && (n != calls || nf != failed || hc != calls); i++) {
		char m2[128];

		snprintf(m2, sizeof(m2), "%s,result!=\"ok\"", match);
		n = prom_sum(pport, "gmemtrace_conversions_total", match);
		nf = prom_sum(pport, "gmemtrace_conversions_total", m2);
		hc = prom_sum(pport, "gmemtrace_conversion_latency_seconds_count", match);
		usleep(100000);
	}
	print_message("workload: %lld conversions, %lld failed; Prometheus: %.0f, %.0f, "
		      "histogram count %.0f\n", calls, failed, n, nf, hc);
	kill(prom, SIGTERM);
	live_wait(prom, 20);
	assert_true(n == calls);
	assert_true(nf == failed);
	assert_true(hc == calls);
	json_object_put(wl);
}

static int count_lines(const char *s, const char *needle)
{
	int n = 0;

	for (; (s = strstr(s, needle)); s++)
		n++;
	return n;
}

/* 500 short-lived VMs: after --expire only live VMs keep series */
static void test_export_expiry(void **state)
{
	static char expo[1 << 22];
	const char *mark = live_tmp("loop.done"), *err = live_tmp("expire.err");
	char listen[64], script[1024];
	int port = free_port(), peak = 0, series, i;
	pid_t exp;

	if (!live_require_tracing() || !live_have_export())
		skip();
	snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%d", port);
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt 100 ]; do %s --vms 5 --conversions 2 --uapi g1 --no-calls "
		 ">/dev/null || exit 1; i=$((i+1)); done; touch %s; sleep 8",
		 live_bin("gmem-workload"), mark);
	exp = live_spawn((char *const[]){ (char *)live_bin("gmemtrace"), "export", listen,
					  "--expire", "2", "--interval", "0.5", "--", "sh", "-c",
					  script, NULL }, NULL, err);
	for (i = 0; i < 1200 && access(mark, F_OK); i++) {
		int n;

		if (http_get(port, "/metrics", expo, sizeof(expo)) == 200) {
			n = count_lines(expo, "gmemtrace_converted_bytes_total{");
			peak = n > peak ? n : peak;
		}
		usleep(100000);
	}
	assert_true(i < 1200);
	sleep(3);	/* --expire 2 and an interval */
	assert_int_equal(http_get(port, "/metrics", expo, sizeof(expo)), 200);
	series = count_lines(expo, "vm_id=\"");
	print_message("500 VMs: up to %d (VM, gen, dir) rows at once; %d VM series left after expiry\n",
		      peak, series);
	kill(exp, SIGTERM);
	assert_int_equal(live_wait(exp, 30), 0);
	assert_true(peak > 0);
	assert_int_equal(series, 0);	/* every VM gone: none left */
	assert_non_null(strstr(expo, "gmemtrace_exported_vms 0\n"));
}

static bool temp_left(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while ((e = readdir(d)))
		found |= !strncmp(e->d_name, ".gmemtrace.prom", 15);
	closedir(d);
	return found;
}

static int run_err(const char *const argv[], const char *err)
{
	return live_run((char *const *)argv, NULL, err, 30);
}

/* a bad command line or host state: a clear message and the documented code */
static void test_export_bad_input(void **state)
{
	const char *err = live_tmp("bad.err"), *dir = live_tmp("textdir");
	const char *gmt = live_bin("gmemtrace");
	char lopt[64], path[600];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd;

	if (!live_have_export())
		skip();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(run_err((const char *[]){ gmt, "export", NULL }, err), 2);
	assert_true(live_wait_for(err, "give --listen and/or --textfile", 1));
	assert_int_equal(run_err((const char *[]){ gmt, "export", "--listen=nowhere:80", NULL },
				 err), 2);
	assert_true(live_wait_for(err, "invalid --listen address", 1));
	assert_int_equal(run_err((const char *[]){ gmt, "export", "--listen", "1.2.3.4:99999",
						   NULL }, err), 2);
	/* a port in use */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 1), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(lopt, sizeof(lopt), "--listen=127.0.0.1:%d", ntohs(a.sin_port));
	assert_int_equal(run_err((const char *[]){ gmt, "export", lopt, "-d", "1", NULL }, err), 1);
	assert_true(live_wait_for(err, "Address already in use", 1));
	close(fd);
	assert_int_equal(run_err((const char *[]){ gmt, "export", "--textfile", "/nonexistent/x",
						   "-d", "1", NULL }, err), 1);
	assert_true(live_wait_for(err, "cannot write to --textfile directory", 1));
	if (!live_require_tracing() || !live_have_export())
		skip();
	/* and a good textfile: written whole, no temporary file left */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(run_err((const char *[]){ gmt, "export", "--textfile", dir, "--interval",
						   "0.2", "-d", "1", NULL }, err), 0);
	snprintf(path, sizeof(path), "%s/gmemtrace.prom", dir);
	assert_true(live_wait_for(path, "gmemtrace_info{version=", 1));
	assert_false(temp_left(dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_export_prometheus, live_teardown),
		cmocka_unit_test_teardown(test_export_expiry, live_teardown),
		cmocka_unit_test_teardown(test_export_bad_input, live_teardown),
	};

	return cmocka_run_group_tests_name("live_export", tests, NULL, NULL);
}
