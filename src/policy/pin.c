// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning the policy hook in bpffs (pin.h). The links are what keep the
 * programs attached once gmemtrace's fds are gone: the hook's, and those of
 * the programs its decisions depend on (which name VMs, and which compare
 * the kernel's copy for TOCTOU). The hook's program and the maps are pinned
 * so an operator (and `stat`, `--unpin`) can see what runs. The other
 * tracing programs loaded along end with the process (docs/policy.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.skel.h"
#include "object.h"
#include "pin.h"

#define GMT_BPF_FS_MAGIC	0xcafe4a11	/* linux/magic.h BPF_FS_MAGIC */

int gmt_pin_bpffs(char *why, size_t len)
{
	struct statfs fs;

	if (!statfs(GMT_BPFFS, &fs) && fs.f_type == GMT_BPF_FS_MAGIC)
		return 0;
	if (!mount("bpf", GMT_BPFFS, "bpf", 0, NULL))
		return 0;
	snprintf(why, len, "bpffs is not mounted on " GMT_BPFFS " and mounting it failed "
		 "(%s): mount -t bpf bpf " GMT_BPFFS, strerror(errno));
	return -errno;
}

int gmt_pin_count(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, ".."))
			n++;
	closedir(dp);
	return n;
}

/* the maps user space reads or writes for a pinned policy */
static struct bpf_map *pinned_map(struct gmemtrace_bpf *skel, int i, const char **name)
{
	struct {
		const char *name;
		struct bpf_map *map;
	} const maps[] = {
		{ "gmt_pol_hdr0", skel->maps.gmt_pol_hdr0 },
		{ "gmt_pol_hdr1", skel->maps.gmt_pol_hdr1 },
		{ "gmt_pol_rules0", skel->maps.gmt_pol_rules0 },
		{ "gmt_pol_rules1", skel->maps.gmt_pol_rules1 },
		{ "gmt_pol_buckets", skel->maps.gmt_pol_buckets },
		{ "gmt_pol_counts", skel->maps.gmt_pol_counts },
		{ "gmt_pol_stash", skel->maps.gmt_pol_stash },	/* TOCTOU: hook -> check */
		{ "gmt_vms", skel->maps.gmt_vms },		/* VM identities */
		{ "gmt_events", skel->maps.gmt_events },	/* records nobody reads: drops */
		{ "gmt_counters", skel->maps.gmt_counters },	/* ... counted here */
		{ "bss", skel->maps.bss },	/* gmt_pol_active, gmt_vm_next_id */
		{ "rodata", skel->maps.rodata },		/* cfg_pol_mode */
	};

	if (i >= (int)(sizeof(maps) / sizeof(maps[0])))
		return NULL;
	*name = maps[i].name;
	return maps[i].map;
}

static int pin_one(const char *dir, const char *name, int (*pin)(void *, const char *),
		   void *obj, char *why, size_t len)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err = pin(obj, path);
	if (err)
		snprintf(why, len, "cannot pin %s: %s", path, strerror(-err));
	return err;
}

static int pin_link(void *o, const char *p) { return bpf_link__pin(o, p); }
static int pin_prog(void *o, const char *p) { return bpf_program__pin(o, p); }
static int pin_map(void *o, const char *p) { return bpf_map__pin(o, p); }

/*
 * The programs the hook's decisions depend on, pinned with it (those of
 * them attached: a twin's other backend is not):
 * - the ioctl tracepoints give a VM created later its identity at
 *   KVM_CREATE_VM (vm_id, the creator's pid and cgroup: per-VM rate
 *   buckets, vm.creator_pid, vm.creator_cgroup, caller_is_creator);
 * - vm_release ends it when the kernel destroys the VM (without it an
 *   entry stays until the address is reused: gmt_vms' 4096 entries bound it);
 * - the TOCTOU check (`toctou: kill`) on the kernel's copy, G1 and G3.
 */
static const char *const pin_deps[] = {
	"gmt_ioctl_enter", "gmt_ioctl_exit",
	"gmt_fe_vmgone", "gmt_kp_vmgone",
	"gmt_tp_setattr", "gmt_fx_g3_set", "gmt_kp_g3_set",
};

static bool is_vm_release(const char *prog)
{
	return !strcmp(prog, "gmt_fe_vmgone") || !strcmp(prog, "gmt_kp_vmgone");
}

int gmt_pin_policy(struct gmemtrace_bpf *skel, const char *prog, const char *dir,
		   struct gmt_pin_done *done, char *why, size_t len)
{
	struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, prog);
	struct bpf_link *link = gmt_skel_link(skel->skeleton, prog), *dep;
	struct bpf_map *m;
	const char *name;
	char dep_name[64];
	unsigned int d;
	int i, err;

	memset(done, 0, sizeof(*done));
	if (!p || !link) {
		snprintf(why, len, "%s is not attached: nothing to pin", prog);
		return -ENOENT;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		snprintf(why, len, "cannot create %s: %s", dir, strerror(errno));
		return err;
	}
	err = pin_one(dir, GMT_PIN_LINK, pin_link, link, why, len);
	if (!err)
		err = pin_one(dir, "prog", pin_prog, p, why, len);
	for (d = 0; !err && d < sizeof(pin_deps) / sizeof(pin_deps[0]); d++) {
		dep = gmt_skel_link(skel->skeleton, pin_deps[d]);
		if (!dep)
			continue;
		snprintf(dep_name, sizeof(dep_name), GMT_PIN_DEP_LINK "%s", pin_deps[d]);
		err = pin_one(dir, dep_name, pin_link, dep, why, len);
		done->dep_links += !err;
		done->vm_release |= !err && is_vm_release(pin_deps[d]);
	}
	for (i = 0; !err && (m = pinned_map(skel, i, &name)); i++)
		err = pin_one(dir, name, pin_map, m, why, len);
	if (err) {
		gmt_unpin(dir, NULL);
		memset(done, 0, sizeof(*done));
		return err;
	}
	/* gmemtrace's exit closes its fds; the pins keep the links attached */
	bpf_link__disconnect(link);
	for (d = 0; d < sizeof(pin_deps) / sizeof(pin_deps[0]); d++) {
		dep = gmt_skel_link(skel->skeleton, pin_deps[d]);
		if (dep)
			bpf_link__disconnect(dep);
	}
	return 0;
}

int gmt_unpin(const char *dir, struct gmt_unpin_result *res)
{
	struct gmt_unpin_result scratch;
	char path[512];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int err = 0;

	if (!res)
		res = &scratch;
	memset(res, 0, sizeof(*res));
	if (!dp) {
		if (errno == ENOENT)
			return 0;
		res->dir_err = errno;
		return -errno;
	}
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path)) {
			err = -errno;
			if (res->nr_failed < GMT_UNPIN_MAX) {
				snprintf(res->failed[res->nr_failed].name, NAME_MAX + 1, "%s",
					 d->d_name);
				res->failed[res->nr_failed].err = errno;
			}
			res->nr_failed++;
			continue;
		}
		if (res->nr_removed < GMT_UNPIN_MAX)
			snprintf(res->removed[res->nr_removed], NAME_MAX + 1, "%s", d->d_name);
		res->nr_removed++;
	}
	closedir(dp);
	if (!err && rmdir(dir)) {
		err = -errno;
		res->dir_err = errno;
	} else if (!err) {
		res->dir_removed = true;
	}
	return err ? err : res->nr_removed;
}
