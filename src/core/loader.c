// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.h"
#include "gmemtrace.skel.h"
#include "loader.h"
#include "probe.h"
#include "util.h"

static char last_libbpf_msg[512];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	va_list cp;

	/* keep the last warning: it usually says why a load failed */
	if (level <= LIBBPF_WARN) {
		va_copy(cp, ap);
		vsnprintf(last_libbpf_msg, sizeof(last_libbpf_msg), fmt, cp);
		va_end(cp);
		last_libbpf_msg[strcspn(last_libbpf_msg, "\n")] = 0;
		/* callers print "libbpf: " themselves */
		if (!strncmp(last_libbpf_msg, "libbpf: ", 8))
			memmove(last_libbpf_msg, last_libbpf_msg + 8, strlen(last_libbpf_msg + 8) + 1);
	}
	if (level == LIBBPF_DEBUG && !gmt_verbose)
		return 0;
	if (!gmt_verbose && level == LIBBPF_WARN)
		return 0;	/* reported through our own messages */
	return vfprintf(stderr, fmt, ap);
}

void gmt_libbpf_setup(void)
{
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_set_print(libbpf_print);
}

const char *gmt_libbpf_last_error(void)
{
	return last_libbpf_msg;
}

int gmt_check_privilege(char *why, size_t len)
{
	if (geteuid() == 0)
		return 0;
	/* tried on 6.18 as uid 65534 with CAP_BPF, CAP_PERFMON and
	 * CAP_DAC_READ_SEARCH: the load fails, libbpf cannot list the kvm
	 * module's BTF (BPF_BTF_GET_NEXT_ID needs CAP_SYS_ADMIN), and tracefs
	 * may need mounting: so say root, not capabilities that do not suffice */
	snprintf(why, len, "needs root (CAP_BPF and CAP_PERFMON are not enough: kernel "
		 "module BTF and tracefs need root): run with sudo");
	return -EPERM;
}

int gmt_check_btf(char *why, size_t len)
{
	struct btf *btf;

	/* CO-RE relocates every kernel access against it: parse it now, so a
	 * missing or broken one is said plainly rather than by the loader */
	gmt_libbpf_setup();	/* libbpf's own warnings only with -v */
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		snprintf(why, len, "kernel BTF /sys/kernel/btf/vmlinux missing or unreadable: "
			 "CO-RE needs it (a kernel built with CONFIG_DEBUG_INFO_BTF=y)");
		return -ENOENT;
	}
	btf__free(btf);
	return 0;
}

/* libbpf attaches syscall tracepoints by name through tracefs */
int gmt_ensure_tracefs(char *why, size_t len)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		gmt_info("mounted tracefs on /sys/kernel/tracing");
		return 0;
	}
	snprintf(why, len, "tracefs is not mounted and mounting it failed (%s): "
		 "mount -t tracefs tracefs /sys/kernel/tracing", strerror(errno));
	return -ENOENT;
}

static bool want_context(const struct gmt_config *cfg)
{
	return cfg->emit_events && cfg->emit_context;
}

static bool want_follow(const struct gmt_config *cfg)
{
	return cfg->filter_pid;
}

static bool want_guest(const struct gmt_config *cfg)
{
	return cfg->guest_requests && cfg->emit_events;
}

static bool want_follow_or_guest(const struct gmt_config *cfg)
{
	return want_follow(cfg) || want_guest(cfg);
}

/* the rule of each enum gmt_want (NULL: always) */
static bool (*const want_holds[GMT_WANT_MAX])(const struct gmt_config *) = {
	[GMT_WANT_CONTEXT] = want_context,
	[GMT_WANT_FOLLOW] = want_follow,
	[GMT_WANT_GUEST] = want_guest,
	[GMT_WANT_FOLLOW_OR_GUEST] = want_follow_or_guest,
};

static bool spec_wanted(const struct gmt_prog_spec *spec, const struct gmt_config *cfg)
{
	return spec->want >= GMT_WANT_MAX || !want_holds[spec->want] || want_holds[spec->want](cfg);
}

/* pick the kernel-side programs by resolving and loading each alone */
static void choose_kernel_side(struct gmt_session *s, const struct gmt_config *cfg)
{
	struct btf *btfs[2] = { 0 };
	int n;

	if (cfg->kernel_pref == GMT_KPREF_NONE) {
		/* nothing to resolve or load: just say why each row stays out */
		gmt_select(&s->sel, NULL, 0, cfg->kernel_pref, NULL, NULL);
		return;
	}
	n = gmt_kernel_btfs(btfs, 2);
	if (n <= 0) {
		int i;

		for (i = 0; i < gmt_nr_prog_specs; i++)
			snprintf(s->sel.c[i].reason, sizeof(s->sel.c[i].reason),
				 "no kernel BTF (/sys/kernel/btf/vmlinux)");
		return;
	}
	gmt_select(&s->sel, btfs, n, cfg->kernel_pref, gmt_probe_by_loading, NULL);
	gmt_free_btfs(btfs, n);
}

static int configure(struct gmt_session *s, const struct gmt_config *cfg)
{
	struct gmemtrace_bpf *skel = s->skel;
	struct bpf_program *prog;
	struct stat exe;

	skel->rodata->cfg_filter_pid = cfg->filter_pid;
	skel->rodata->cfg_emit_events = cfg->emit_events;
	skel->rodata->cfg_emit_context = cfg->emit_context;
	skel->rodata->cfg_wakeup_bytes = cfg->wakeup_bytes;
	skel->rodata->cfg_guest_requests = cfg->guest_requests && cfg->emit_events;
	skel->rodata->cfg_stats = !cfg->emit_events || cfg->stats;
	skel->rodata->cfg_follow = cfg->filter_pid;
	if (cfg->follow_max && bpf_map__set_max_entries(skel->maps.gmt_pids, cfg->follow_max))
		return GMT_EXIT_RUNTIME;
	/* processes running this very binary are gmemtrace: never reported */
	if (!stat("/proc/self/exe", &exe)) {
		skel->rodata->cfg_self_ino = exe.st_ino;
		skel->rodata->cfg_self_dev = major(exe.st_dev) << 20 | minor(exe.st_dev);
	}
	if (cfg->comm) {
		skel->rodata->cfg_filter_comm = true;
		strncpy((char *)skel->rodata->cfg_comm, cfg->comm, GMT_COMM_LEN - 1);
	}
	if (cfg->cgroup)
		skel->rodata->cfg_filter_cgroup = true;
	if (cfg->ringbuf_bytes &&
	    bpf_map__set_max_entries(skel->maps.gmt_events, cfg->ringbuf_bytes)) {
		gmt_err("invalid ring buffer size %zu (a power of two of at least 4096)",
			cfg->ringbuf_bytes);
		return GMT_EXIT_USAGE;
	}

	s->nr_status = 0;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *name = bpf_program__name(prog);
		const struct gmt_prog_spec *spec = gmt_prog_spec_find(name);
		struct gmt_attach_status *st;

		if (!spec) {
			/* a program nobody listed would load unexamined */
			gmt_err("internal: BPF program %s is not in the backend table", name);
			return GMT_EXIT_RUNTIME;
		}
		if (s->nr_status >= (int)(sizeof(s->status) / sizeof(s->status[0])))
			return GMT_EXIT_RUNTIME;
		st = &s->status[s->nr_status++];
		st->spec = spec;
		st->state = GMT_ATT_NOT_WANTED;
		st->target = NULL;
		st->reason[0] = 0;
		if (spec->feature) {
			/* kernel side: what gmt_select() proved works here */
			const struct gmt_choice *ch = &s->sel.c[spec - gmt_prog_specs];

			bpf_program__set_autoload(prog, ch->chosen);
			if (!ch->chosen) {
				st->state = ch->twin_chosen ? GMT_ATT_NOT_WANTED : GMT_ATT_UNAVAILABLE;
				memcpy(st->reason, ch->reason, sizeof(st->reason));
				st->reason[sizeof(st->reason) - 1] = 0;
				continue;
			}
			st->target = ch->target;
			if ((spec->backend == GMT_BE_FENTRY || spec->backend == GMT_BE_TP_BTF) &&
			    bpf_program__set_attach_target(prog, 0, ch->target)) {
				gmt_err("internal: cannot target %s at %s", name, ch->target);
				return GMT_EXIT_RUNTIME;
			}
			continue;
		}
		bpf_program__set_autoload(prog, spec_wanted(spec, cfg));
	}
	return 0;
}

static struct gmt_attach_status *status_of(struct gmt_session *s, const char *prog)
{
	int i;

	for (i = 0; i < s->nr_status; i++)
		if (!strcmp(s->status[i].spec->prog, prog))
			return &s->status[i];
	return NULL;
}

static int attach(struct gmt_session *s)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, s->skel->obj) {
		struct gmt_attach_status *st = status_of(s, bpf_program__name(prog));
		struct bpf_link *link;

		if (!bpf_program__autoload(prog))
			continue;
		link = gmt_attach_spec(prog, st->spec, st->target);
		if (!link) {
			int err = errno;

			st->state = GMT_ATT_FAILED;
			snprintf(st->reason, sizeof(st->reason), "attach failed: %s",
				 strerror(err));
			if (st->spec->required) {
				gmt_err("cannot attach %s (%s): %s", st->spec->prog,
					st->spec->hook, strerror(err));
				return err == EPERM || err == ENOENT ? GMT_EXIT_UNSUPPORTED :
								      GMT_EXIT_RUNTIME;
			}
			continue;
		}
		bpf_program__set_autoattach(prog, false);
		if (!strcmp(bpf_program__name(prog), "gmt_vm_sweep"))
			s->sweep_link = link;
		else if (!strcmp(bpf_program__name(prog), "gmt_greq_flush"))
			s->greq_flush_link = link;
		/* the skeleton destroys links it knows; keep ours there */
		{
			int i;

			for (i = 0; i < s->skel->skeleton->prog_cnt; i++)
				if (*s->skel->skeleton->progs[i].prog == prog)
					*s->skel->skeleton->progs[i].link = link;
		}
		st->state = GMT_ATT_ATTACHED;
	}
	return 0;
}

int gmt_session_start(struct gmt_session *s, const struct gmt_config *cfg)
{
	char why[256];
	int i, err;

	memset(s, 0, sizeof(*s));
	s->cgroup_fd = -1;
	if (gmt_check_privilege(why, sizeof(why))) {
		gmt_err("%s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	if (gmt_ensure_tracefs(why, sizeof(why))) {
		gmt_err("%s", why);
		return GMT_EXIT_UNSUPPORTED;
	}
	gmt_libbpf_setup();
	choose_kernel_side(s, cfg);

	s->skel = gmemtrace_bpf__open();
	if (!s->skel) {
		gmt_err("cannot open the BPF object: %s", strerror(errno));
		return GMT_EXIT_RUNTIME;
	}
	err = configure(s, cfg);
	if (err)
		goto fail;
	if (cfg->cgroup) {
		s->cgroup_fd = open(cfg->cgroup, O_RDONLY | O_DIRECTORY);
		if (s->cgroup_fd < 0) {
			gmt_err("cannot open cgroup %s: %s (give a cgroup v2 directory, "
				"e.g. /sys/fs/cgroup/machine.slice)", cfg->cgroup, strerror(errno));
			err = GMT_EXIT_USAGE;
			goto fail;
		}
	}

	err = gmemtrace_bpf__load(s->skel);
	if (err) {
		const char *m = last_libbpf_msg;

		/* libbpf's messages carry their own "libbpf: " */
		if (!strncmp(m, "libbpf: ", 8))
			m += 8;
		gmt_err_what = "load";
		gmt_err("cannot load the BPF programs: %s%s%s", strerror(-err),
			m[0] ? "; libbpf: " : "", m);
		err = (err == -EPERM || err == -EACCES || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */ ||
		       err == -ESRCH) ? GMT_EXIT_UNSUPPORTED : GMT_EXIT_RUNTIME;
		goto fail;
	}

	if (s->cgroup_fd >= 0) {
		__u32 zero = 0;

		if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.gmt_cgroup), &zero,
					&s->cgroup_fd, BPF_ANY)) {
			gmt_err("cannot use %s as a cgroup filter: %s (is it cgroup v2?)",
				cfg->cgroup, strerror(errno));
			err = GMT_EXIT_USAGE;
			goto fail;
		}
	}
	for (i = 0; i < cfg->nr_pids; i++) {
		if (gmt_session_add_pid(s, cfg->pids[i])) {
			err = GMT_EXIT_RUNTIME;
			goto fail;
		}
	}

	err = attach(s);
	if (err)
		goto fail;
	return 0;
fail:
	gmt_session_stop(s);
	return err;
}

int gmt_session_add_pid(struct gmt_session *s, pid_t pid)
{
	__u32 key = pid;
	__u8 one = 1;

	if (bpf_map_update_elem(bpf_map__fd(s->skel->maps.gmt_pids), &key, &one, BPF_ANY)) {
		gmt_err("cannot add pid %d to the filter: %s", pid, strerror(errno));
		return -errno;
	}
	return 0;
}

void gmt_session_stop(struct gmt_session *s)
{
	if (s->skel)
		gmemtrace_bpf__destroy(s->skel);
	s->skel = NULL;
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	s->cgroup_fd = -1;
}

__u64 gmt_session_counter(struct gmt_session *s, unsigned int which)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	__u64 vals[ncpu > 0 ? ncpu : 1], sum = 0;

	if (ncpu <= 0 || !s->skel)
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.gmt_counters), &which, vals))
		return 0;
	for (i = 0; i < ncpu; i++)
		sum += vals[i];
	return sum;
}
