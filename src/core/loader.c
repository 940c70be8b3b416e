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
#include "dma_uapi.h"
#include "errsites.h"
#include "loader.h"
#include "probe.h"
#include "util.h"

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

static bool want_holders(const struct gmt_config *cfg)
{
	return cfg->holders;	/* trace streams them; stat and export read their map */
}

/* a record per pinned folio with two stacks: too much to have by default
 * (a VMM registering 1 GiB pins 262144 folios; docs/bench.md) */
static bool want_kernel_pins(const struct gmt_config *cfg)
{
	return want_holders(cfg) && cfg->kernel_pins;
}

/* GMT_HOLDERS_DMA=off (for testing): the VFIO / iommufd ioctls are not
 * followed, so only the iommu:map attribution names device mappings, as
 * for a mapping a driver made (gmt_config_holders_dma checks the value) */
static bool want_holders_dma(const struct gmt_config *cfg)
{
	return want_holders(cfg) && !cfg->holders_dma_off;
}

/* the iommu:map walk needs the struct page of a pfn: a calibrated base */
static bool want_iommu_maps(const struct gmt_config *cfg)
{
	return want_holders(cfg) && cfg->vmemmap_base;
}

static bool want_enforce_lsm(const struct gmt_config *cfg)
{
	return cfg->enforce == GMT_WANT_ENFORCE_LSM;
}

static bool want_enforce_fmod(const struct gmt_config *cfg)
{
	return cfg->enforce == GMT_WANT_ENFORCE_FMOD;
}

/* the rule of each enum gmt_want (NULL: always) */
static bool (*const want_holds[GMT_WANT_MAX])(const struct gmt_config *) = {
	[GMT_WANT_CONTEXT] = want_context,
	[GMT_WANT_FOLLOW] = want_follow,
	[GMT_WANT_GUEST] = want_guest,
	[GMT_WANT_FOLLOW_OR_GUEST] = want_follow_or_guest,
	[GMT_WANT_HOLDERS] = want_holders,
	[GMT_WANT_KERNEL_PINS] = want_kernel_pins,
	[GMT_WANT_HOLDERS_DMA] = want_holders_dma,
	[GMT_WANT_IOMMU_MAPS] = want_iommu_maps,
	[GMT_WANT_ENFORCE_LSM] = want_enforce_lsm,
	[GMT_WANT_ENFORCE_FMOD] = want_enforce_fmod,
};

static bool spec_wanted(const struct gmt_prog_spec *spec, const void *ctx)
{
	const struct gmt_config *cfg = ctx;

	return spec->want >= GMT_WANT_MAX || !want_holds[spec->want] || want_holds[spec->want](cfg);
}

/* a row this command does not want is not loaded to find out whether it
 * could be (trace without --holders skips the kernel_pins probes) */
static int probe_if_wanted(const struct gmt_prog_spec *spec, const char *target, char *why,
			   size_t len, void *ctx)
{
	if (!spec_wanted(spec, ctx)) {
		snprintf(why, len, "not wanted by this command's options");
		return -1;
	}
	return gmt_probe_by_loading(spec, target, why, len, NULL);
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
	gmt_select(&s->sel, btfs, n, cfg->kernel_pref, probe_if_wanted, (void *)cfg);
	gmt_free_btfs(btfs, n);
}

/* which char devices own DMA mappings (bpf/holders.bpf.c) */
static void configure_dma_holders(struct gmemtrace_bpf *skel)
{
	/* VFIO_MINOR is fixed: a vfio module loaded later is still followed */
	skel->rodata->cfg_vfio_rdev = GMT_MISC_MAJOR << 20 | GMT_VFIO_MINOR;
	skel->rodata->cfg_iommufd_rdev = gmt_misc_rdev("iommu");
	if (!skel->rodata->cfg_iommufd_rdev)
		gmt_info("holders: no /sys/class/misc/iommu (iommufd not loaded): "
			 "iommufd mappings are not followed");
}

/*
 * The generations whose kernel copy of a conversion a program of this load
 * compares with the policy hook's (bpf/policy_toctou.bpf.h): the hook
 * stashes only for those. One that then fails to attach leaves a stash
 * nothing compares: work for nothing, never a check skipped.
 */
static __u8 toctou_gens(struct gmemtrace_bpf *skel)
{
	__u8 gens = 0;

	if (bpf_program__autoload(skel->progs.gmt_tp_setattr))
		gens |= 1 << GMT_GEN_G1;
	if (bpf_program__autoload(skel->progs.gmt_fx_g3_set) ||
	    bpf_program__autoload(skel->progs.gmt_kp_g3_set))
		gens |= 1 << GMT_GEN_G3;
	return gens;
}

static int configure(struct gmt_session *s, const struct gmt_config *cfg)
{
	struct gmemtrace_bpf *skel = s->skel;
	struct stat exe;
	int err;

	skel->rodata->cfg_filter_pid = cfg->filter_pid;
	skel->rodata->cfg_emit_events = cfg->emit_events;
	skel->rodata->cfg_emit_context = cfg->emit_context;
	skel->rodata->cfg_wakeup_bytes = cfg->wakeup_bytes;
	skel->rodata->cfg_guest_requests = cfg->guest_requests && cfg->emit_events;
	skel->rodata->cfg_stats = !cfg->no_stats && (!cfg->emit_events || cfg->stats);
	skel->rodata->cfg_follow = cfg->filter_pid;
	skel->rodata->cfg_pol_mode = cfg->pol_mode;
	skel->rodata->cfg_vmemmap_base = cfg->vmemmap_base;
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
	/* without --holders their maps are not used: the smallest there are */
	if (want_holders(cfg))
		configure_dma_holders(skel);
	if (!want_holders(cfg) && (bpf_map__set_max_entries(skel->maps.gmt_hmaps, 1) ||
				   bpf_map__set_max_entries(skel->maps.gmt_hpend, 1) ||
				   bpf_map__set_max_entries(skel->maps.gmt_holders, 1) ||
				   bpf_map__set_max_entries(skel->maps.gmt_hstacks, 1)))
		return GMT_EXIT_RUNTIME;
	if (cfg->ringbuf_bytes &&
	    bpf_map__set_max_entries(skel->maps.gmt_events, cfg->ringbuf_bytes)) {
		gmt_err("invalid ring buffer size %zu (a power of two of at least 4096)",
			cfg->ringbuf_bytes);
		return GMT_EXIT_USAGE;
	}

	err = gmt_obj_plan(skel->obj, &s->plan, &s->sel, spec_wanted, cfg);
	if (err)
		return err;
	if (cfg->pol_toctou)
		skel->rodata->cfg_pol_toctou_gens = toctou_gens(skel);
	return 0;
}

int gmt_session_start(struct gmt_session *s, const struct gmt_config *cfg)
{
	char why[256];
	int i, err;

	memset(s, 0, sizeof(*s));
	s->cgroup_fd = -1;
	s->holders = want_holders(cfg);
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

	err = gmt_skel_load(s->skel->skeleton, "the BPF programs");
	if (err)
		goto fail;

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

	if (cfg->before_attach) {
		err = cfg->before_attach(s, cfg->before_attach_ctx);
		if (err)
			goto fail;
	}
	err = gmt_skel_attach(s->skel->skeleton, &s->plan);
	if (err)
		goto fail;
	/* iterators are run on demand */
	s->sweep_link = gmt_skel_link(s->skel->skeleton, "gmt_vm_sweep");
	s->greq_flush_link = gmt_skel_link(s->skel->skeleton, "gmt_greq_flush");
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

void gmt_session_helper_errors(struct gmt_session *s, __u64 out[GMT_SITE_MAX])
{
	struct gmt_site_err e[GMT_SITE_MAX];
	int i;

	memset(out, 0, GMT_SITE_MAX * sizeof(*out));
	if (!s->skel || gmt_errsites_read(bpf_map__fd(s->skel->maps.gmt_err_sites), e))
		return;
	for (i = 0; i < GMT_SITE_MAX; i++)
		out[i] = e[i].count;
}
