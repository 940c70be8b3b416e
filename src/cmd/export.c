// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace export: the in-kernel per-VM aggregates (as stat reads them) as
 * Prometheus metrics, served over HTTP (libmicrohttpd) and/or written for
 * node_exporter's textfile collector.
 *
 * The kernel's stats slot of a gone VM is recycled, so the exporter keeps
 * every VM's cumulative totals itself (acc): its counters never go back
 * while its series exist, and the series of a gone VM go after --expire.
 * BPF maps are read on the main thread only: a scrape (libmicrohttpd's
 * thread) asks it through an eventfd for a fresh exposition and waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "command.h"
#include "cli.h"
#include "holders_vms.h"
#include "parse.h"
#include "runloop.h"
#include "live.h"
#include "stats.h"
#include "util.h"
#include "vms.h"

static const char export_doc[] =
"Prometheus metrics of guest_memfd conversions: per VM, generation, direction\n"
"and result, latency histograms, drops and BPF errors (docs/metrics.md).\n"
"\n"
"--listen serves them at http://ADDR:PORT/metrics (default 127.0.0.1:9464:\n"
"loopback only, as the metrics name the host's VMs and processes); --textfile\n"
"writes DIR/gmemtrace.prom atomically every interval, for node_exporter's\n"
"textfile collector. At least one of the two.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace export --listen\n"
"  gmemtrace export --listen 0.0.0.0:9464 --expire 600\n"
"  gmemtrace export --textfile /var/lib/prometheus/node-exporter\n"
"  gmemtrace export --listen --linger 5 -- gmem-workload --vms 2\n"
"\v"
"Exit status: 0 done, 1 runtime error (the port is in use, the textfile\n"
"directory is not writable), 2 usage error (a bad address, neither --listen\n"
"nor --textfile), 3 not root or the kernel lacks what tracing needs.";

enum { OPT_LISTEN = 0x100, OPT_TEXTFILE, OPT_EXPIRE, OPT_INTERVAL, OPT_LINGER, OPT_HOLDERS };

struct export_opts {
	struct gmt_common_opts c;
	const char *listen;		/* NULL: no HTTP */
	bool listen_bare;		/* --listen without =: the next argument may be its */
	const char *textfile;		/* a directory, NULL: none */
	double expire_s, interval_s, linger_s;
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

static const struct argp_option export_options[] = {
	{ NULL, 0, NULL, 0, "Export options:", 3 },
	{ "listen", OPT_LISTEN, "ADDR:PORT", OPTION_ARG_OPTIONAL,
	  "Serve /metrics over HTTP (default 127.0.0.1:9464; IPv6 as [ADDR]:PORT)", 3 },
	{ "textfile", OPT_TEXTFILE, "DIR", 0, "Write DIR/gmemtrace.prom every interval", 3 },
	{ "expire", OPT_EXPIRE, "SECONDS", 0, "Drop a gone VM's series after this (default 300)", 3 },
	{ "interval", OPT_INTERVAL, "SECONDS", 0,
	  "Read the aggregates (recycling gone VMs' slots) and write the textfile this often (default 1)", 3 },
	{ "linger", OPT_LINGER, "SECONDS", 0,
	  "Keep serving this long after tracing ends (-- CMD exited), for a last scrape", 3 },
	{ "holders", OPT_HOLDERS, NULL, 0,
	  "Also export each VM's holders (io_uring buffers over guest_memfd mmaps) by kind, "
	  "and the guest_memfd bytes they pin", 3 },
	{ 0 },
};

/* numeric ADDR:PORT or [ADDR6]:PORT: a bad one is a usage error */
static int parse_listen(struct export_opts *o, const char *s)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai;
	char host[128], *colon, *h = host;
	unsigned long long port;

	snprintf(host, sizeof(host), "%s", s);
	colon = strrchr(host, ':');
	if (!colon || colon == host || gmt_parse_u64(colon + 1, &port) || !port || port > 65535)
		return -1;
	*colon = '\0';
	if (*h == '[' && colon[-1] == ']') {
		h++;
		colon[-1] = '\0';
	}
	if (getaddrinfo(h, colon + 1, &hints, &ai))
		return -1;
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addr_len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static error_t export_parse(int key, char *arg, struct argp_state *state)
{
	struct export_opts *o = state->input;
	double *sec = key == OPT_EXPIRE ? &o->expire_s : key == OPT_INTERVAL ? &o->interval_s :
		      &o->linger_s;

	switch (key) {
	case ARGP_KEY_ARG:
		/* "--listen ADDR:PORT" as well as "--listen=ADDR:PORT": argp gives
		 * an optional argument only in the second form */
		if (!o->listen_bare)
			return gmt_common_parse(key, arg, state, &o->c);
		/* fall through */
	case OPT_LISTEN:
		o->listen_bare = key == OPT_LISTEN && !arg;
		o->listen = arg ? arg : "127.0.0.1:9464";
		if (parse_listen(o, o->listen)) {
			argp_error(state, "invalid --listen address '%s' (numeric ADDR:PORT, "
				   "e.g. 127.0.0.1:9464 or [::1]:9464)", o->listen);
			return EINVAL;
		}
		break;
	case OPT_TEXTFILE:
		o->textfile = arg;
		break;
	case OPT_HOLDERS:
		o->c.cfg.holders = true;
		break;
	case OPT_EXPIRE:
	case OPT_INTERVAL:
	case OPT_LINGER:
		if (gmt_parse_seconds(arg, sec) || (key == OPT_INTERVAL && *sec < 0.01)) {
			argp_error(state, "invalid %s '%s' (seconds)", state->argv[state->next - 1],
				   arg);
			return EINVAL;
		}
		break;
	case ARGP_KEY_END:
		if (!o->listen && !o->textfile) {
			argp_error(state, "nothing to export to: give --listen and/or --textfile");
			return EINVAL;
		}
		return gmt_common_parse(key, arg, state, &o->c);
	default:
		return gmt_common_parse(key, arg, state, &o->c);
	}
	return 0;
}

struct export_ctx {
	struct export_opts *o;
	struct gmt_stat_snapshot acc;	/* cumulative rows, sorted by key */
	struct gmt_attach_view attach;
	bool have_attach;
	struct gmt_pol_live pols[GMT_POL_LIVE_MAX];	/* policy hooks, read per render */
	struct gmt_run *run;
	int listen_fd, efd;
	struct MHD_Daemon *httpd;
	/* shared with the HTTP thread */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *expo;			/* the latest exposition */
	size_t expo_len;
	unsigned long long asked, rendered;
	bool closing;
};

/* read the aggregates into acc; the slots of gone VMs go back to BPF */
static int absorb(struct gmt_run *r, struct export_ctx *x)
{
	struct gmt_stat_snapshot cur;
	__u64 now = gmt_mono_ns();
	int i, err;

	err = gmt_vms_stats_read(&r->s, NULL, &cur);
	if (!err)
		err = gmt_stats_accumulate(&x->acc, &cur, now);
	if (!err && cur.holders_on)
		err = gmt_holders_vms_accumulate(&x->acc, &cur, now);
	if (err) {
		gmt_stats_free(&cur);
		gmt_err_what = "read";
		gmt_err("reading statistics: %s", strerror(-err));
		return GMT_EXIT_RUNTIME;
	}
	gmt_vms_recycle_slots(&r->s, &cur);
	x->acc.nr_live_vms = cur.nr_live_vms;
	gmt_stats_free(&cur);
	for (i = 0; i < GMT_CNT_MAX; i++)
		x->acc.counters[i] = gmt_session_counter(&r->s, i);
	gmt_stats_expire(&x->acc, now, (__u64)(x->o->expire_s * 1e9));
	gmt_holders_vms_expire(&x->acc, now, (__u64)(x->o->expire_s * 1e9));
	return 0;
}

/* a fresh exposition, published for the HTTP thread */
static int render(struct gmt_run *r, struct export_ctx *x, unsigned long long asked)
{
	__u64 helper[GMT_SITE_MAX];
	struct gmt_metrics_view v;
	struct gmt_out out = { .ops = &gmt_prom_ops };
	char *buf = NULL;
	size_t len = 0;
	int err;

	err = absorb(r, x);
	if (err)
		return err;
	gmt_session_helper_errors(&r->s, helper);
	if (gmt_view_metrics(&v, &x->acc, helper, x->have_attach ? &x->attach : NULL))
		return GMT_EXIT_RUNTIME;
	v.nr_pols = gmt_pol_live_read(r->s.skel, x->pols);
	v.pols = x->pols;
	if (v.nr_pols < 0)
		v.nr_pols = 0;
	out.f = open_memstream(&buf, &len);
	if (out.f) {
		gmt_out_metrics(&out, &v);
		fclose(out.f);
	}
	gmt_view_metrics_free(&v);
	if (!buf)
		return GMT_EXIT_RUNTIME;
	pthread_mutex_lock(&x->lock);
	free(x->expo);
	x->expo = buf;
	x->expo_len = len;
	if (asked > x->rendered)
		x->rendered = asked;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

/* DIR/gmemtrace.prom replaced at once: the collector never reads half */
static int write_textfile(const char *dir, const char *data, size_t len)
{
	char tmp[4096], path[4096];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/gmemtrace.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s/.gmemtrace.prom.%d", dir, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* the temp file can be made there (root passes permission checks, not a
 * read-only mount or a missing directory) */
static int check_dir(const char *dir)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s/.gmemtrace.prom.%d", dir, getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(tmp);
	return 0;
}

/* ---- HTTP (libmicrohttpd's thread) ---- */

static struct MHD_Response *metrics_response(struct export_ctx *x)
{
	struct MHD_Response *resp;
	struct timespec until;
	unsigned long long ticket;
	__u64 one = 1;

	pthread_mutex_lock(&x->lock);
	ticket = ++x->asked;
	/* fails only when the counter is full: a render is due anyway */
	if (write(x->efd, &one, sizeof(one)) != sizeof(one))
		gmt_info("scrape: the main thread is behind");
	/* a fresh one, or the latest if the main thread is busy for 2 s */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	while (x->rendered < ticket && !x->closing &&
	       pthread_cond_timedwait(&x->cond, &x->lock, &until) != ETIMEDOUT)
		;
	resp = MHD_create_response_from_buffer(x->expo_len, x->expo ? x->expo : "",
					       MHD_RESPMEM_MUST_COPY);
	pthread_mutex_unlock(&x->lock);
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
					"text/plain; version=0.0.4; charset=utf-8");
	return resp;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req)
{
	static const char not_found[] = "only /metrics here\n";
	struct export_ctx *x = cls;
	struct MHD_Response *resp;
	unsigned int code = MHD_HTTP_OK;
	enum MHD_Result ret;

	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	} else if (strcmp(url, "/metrics")) {
		code = MHD_HTTP_NOT_FOUND;
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1, (void *)not_found,
						       MHD_RESPMEM_PERSISTENT);
	} else {
		resp = metrics_response(x);
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* bound before anything is attached: a port in use is said at once */
static int listen_socket(const struct export_opts *o)
{
	int fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addr_len) || listen(fd, 64)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int http_start(struct export_ctx *x)
{
	x->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, x,
				    MHD_OPTION_LISTEN_SOCKET, x->listen_fd,
				    MHD_OPTION_CONNECTION_TIMEOUT, 10U, MHD_OPTION_END);
	if (!x->httpd) {
		gmt_err_what = "listen";
		gmt_err("cannot serve HTTP on %s", x->o->listen);
		return GMT_EXIT_RUNTIME;
	}
	x->listen_fd = -1;	/* the daemon's now */
	return 0;
}

static void http_stop(struct export_ctx *x)
{
	pthread_mutex_lock(&x->lock);
	x->closing = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
	if (x->httpd)
		MHD_stop_daemon(x->httpd);
	x->httpd = NULL;
}

/* ---- the run ---- */

static int export_consume(struct gmt_run *r)
{
	struct export_ctx *x = r->ctx;
	unsigned long long asked;
	__u64 n;
	int err;

	if (read(x->efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	pthread_mutex_lock(&x->lock);
	asked = x->asked;
	pthread_mutex_unlock(&x->lock);
	err = render(r, x, asked);
	return err ? -EIO : 0;
}

/* every interval: slots recycled, gone series expired, the textfile (the
 * exposition is made only for a reader: a scrape makes its own) */
static int export_tick(struct gmt_run *r, bool last)
{
	struct export_ctx *x = r->ctx;
	int err = x->o->textfile ? render(r, x, 0) : absorb(r, x);

	if (err)
		return err;
	if (x->o->textfile) {
		err = write_textfile(x->o->textfile, x->expo, x->expo_len);
		if (err) {
			gmt_err_what = "textfile";
			gmt_err("writing %s/gmemtrace.prom: %s", x->o->textfile, strerror(-err));
			return GMT_EXIT_RUNTIME;
		}
	}
	return 0;
}

static int export_attached(struct gmt_run *r)
{
	struct export_ctx *x = r->ctx;
	int err;

	x->have_attach = !gmt_view_attach(&x->attach, &r->s);
	err = x->o->textfile ? export_tick(r, false) : render(r, x, 0);
	if (!err && x->o->listen)
		err = http_start(x);
	if (!err)
		gmt_info("exporting%s%s%s%s", x->o->listen ? " on http://" : "",
			 x->o->listen ? x->o->listen : "", x->o->listen ? "/metrics" : "",
			 x->o->textfile ? " to the textfile" : "");
	return err;
}

/* --linger: the last values stay served (for a last scrape) */
static void export_end(struct gmt_run *r)
{
	struct export_ctx *x = r->ctx;
	__u64 until = gmt_mono_ns() + (__u64)(x->o->linger_s * 1e9);
	struct pollfd p = { .fd = x->efd, .events = POLLIN };

	while (x->httpd && !gmt_exiting && gmt_mono_ns() < until) {
		if (poll(&p, 1, 100) > 0 && export_consume(r) < 0)
			break;
	}
	http_stop(x);
}

static const struct gmt_run_ops export_ops = {
	.attached = export_attached,
	.consume = export_consume,
	.tick = export_tick,
	.end = export_end,
};

/* what needs no BPF: the listening socket, a writable textfile directory */
static int export_prepare(struct export_ctx *x)
{
	const struct export_opts *o = x->o;
	int err;

	if (o->listen) {
		x->listen_fd = listen_socket(o);
		if (x->listen_fd < 0) {
			gmt_err_what = "listen";
			gmt_err("cannot listen on %s: %s", o->listen, strerror(-x->listen_fd));
			return GMT_EXIT_RUNTIME;
		}
	}
	if (o->textfile) {
		err = check_dir(o->textfile);
		if (err) {
			gmt_err_what = "textfile";
			gmt_err("cannot write to --textfile directory %s: %s", o->textfile,
				strerror(-err));
			return GMT_EXIT_RUNTIME;
		}
	}
	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return x->efd < 0 ? GMT_EXIT_RUNTIME : 0;
}

static int cmd_export(int argc, char **argv)
{
	struct argp argp = { NULL, export_parse, "[-- CMD [ARG...]]", export_doc,
			     NULL, NULL, NULL };
	struct export_opts o = { .expire_s = 300, .interval_s = 1, .c.takes_command = true };
	struct export_ctx x = { .o = &o, .listen_fd = -1, .efd = -1,
				.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	struct gmt_run r;
	int rc;

	argp.options = gmt_merge_options(gmt_common_options, export_options);
	o.c.cmd = gmt_split_command(&argc, argv, &o.c.dashdash);
	if (argp_parse(&argp, argc, argv, 0, NULL, &o))
		return GMT_EXIT_USAGE;
	o.c.cfg.emit_events = false;
	o.c.cfg.ringbuf_bytes = 4096;	/* nothing is streamed */
	rc = export_prepare(&x);
	if (!rc) {
		gmt_run_init(&r, &o.c, &export_ops, &x);
		r.tick_ns = (__u64)(o.interval_s * 1e9);
		r.poll_fd = x.efd;
		rc = gmt_run(&r);
	}
	http_stop(&x);
	if (x.listen_fd >= 0)
		close(x.listen_fd);
	if (x.efd >= 0)
		close(x.efd);
	if (x.have_attach)
		gmt_view_attach_free(&x.attach);
	gmt_stats_free(&x.acc);
	free(x.expo);
	return rc;
}

GMT_COMMAND(export_command) = {
	.name = "export",
	.run = cmd_export,
	.what = "Prometheus metrics over HTTP or for node_exporter's textfile collector",
	.order = 5,
};
