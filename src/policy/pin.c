// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinning the policy hook in bpffs (pin.h). The link is what keeps the
 * program attached once gmemtrace's fds are gone; the program and the maps
 * are pinned so an operator (and `stat`, `--unpin`) can see what runs.
 * The tracing programs loaded along are not pinned: they end with the
 * process (docs/policy.md says what that changes).
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
		{ "gmt_events", skel->maps.gmt_events },	/* records nobody reads: drops */
		{ "gmt_counters", skel->maps.gmt_counters },	/* ... counted here */
		{ "bss", skel->maps.bss },			/* gmt_pol_active */
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

int gmt_pin_hook(struct gmemtrace_bpf *skel, const char *prog, const char *dir,
		 char *why, size_t len)
{
	struct bpf_program *p = bpf_object__find_program_by_name(skel->obj, prog);
	struct bpf_link *link = NULL;
	struct bpf_map *m;
	const char *name;
	int i, err;

	for (i = 0; i < skel->skeleton->prog_cnt; i++)
		if (!strcmp(skel->skeleton->progs[i].name, prog))
			link = *skel->skeleton->progs[i].link;
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
	for (i = 0; !err && (m = pinned_map(skel, i, &name)); i++)
		err = pin_one(dir, name, pin_map, m, why, len);
	if (err) {
		gmt_unpin(dir, NULL);
		return err;
	}
	/* gmemtrace's exit closes its fd; the pin keeps the link attached */
	bpf_link__disconnect(link);
	return 0;
}

int gmt_unpin(const char *dir, FILE *report)
{
	char path[512];
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0, err = 0;

	if (!dp)
		return errno == ENOENT ? 0 : -errno;
	while ((d = readdir(dp))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (unlink(path)) {
			err = -errno;
			if (report)
				fprintf(report, "gmemtrace: cannot remove %s: %s\n", path,
					strerror(errno));
			continue;
		}
		n++;
		if (report)
			fprintf(report, "removed %s\n", path);
	}
	closedir(dp);
	if (!err && rmdir(dir))
		err = -errno;
	else if (!err && report && n)
		fprintf(report, "removed %s/\n", dir);
	return err ? err : n;
}
