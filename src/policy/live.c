// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy hooks running now, read from the kernel (live.h): the link
 * walk finds them whoever holds them; their maps are found among the
 * program's by name, so a pinned hook and one of a running `enforce` read
 * the same way.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.h"
#include "gmemtrace.skel.h"
#include "live.h"
#include "pin.h"

enum { M_HDR0, M_HDR1, M_RULES0, M_RULES1, M_COUNTS, M_BSS, M_RODATA, M_MAX };

/* the kernel's map names (BPF_OBJ_NAME_LEN, internal maps prefixed by the
 * object's name: "gmemtrac.bss") */
static int map_role(const char *name)
{
	static const char *const names[M_MAX] = {
		"gmt_pol_hdr0", "gmt_pol_hdr1", "gmt_pol_rules0", "gmt_pol_rules1",
		"gmt_pol_counts",
	};
	size_t n = strlen(name);
	int i;

	for (i = 0; i < M_BSS; i++)
		if (!strcmp(name, names[i]))
			return i;
	if (n > 4 && !strcmp(name + n - 4, ".bss"))
		return M_BSS;
	if (n > 7 && !strcmp(name + n - 7, ".rodata"))
		return M_RODATA;
	return -1;
}

static __u32 pinned_link_id(void)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(GMT_PIN_DIR "/" GMT_PIN_LINK);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/* one array element (key 0 or idx) of a map of this size into buf */
static int lookup(int fd, __u32 key, void *buf)
{
	return bpf_map_lookup_elem(fd, &key, buf) ? -errno : 0;
}

static __u64 percpu_sum(int fd, __u32 key, size_t off)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct gmt_pol_count *v;
	__u64 sum = 0;

	if (ncpu <= 0)
		return 0;
	v = calloc(ncpu, sizeof(*v));
	if (v && !bpf_map_lookup_elem(fd, &key, v))
		for (i = 0; i < ncpu; i++)
			sum += *(__u64 *)((char *)&v[i] + off);
	free(v);
	return sum;
}

/* the hook's rules and counters from its maps (fds by role) */
static void read_hook(const struct gmemtrace_bpf *self, const int fd[M_MAX],
		      const __u32 vsize[M_MAX], struct gmt_pol_live *h)
{
	size_t bss_size, ro_size;
	struct gmt_policy_rule rule;
	struct gmt_policy_hdr hdr;
	char *bss = NULL, *ro = NULL;
	__u32 active, i;
	int k;

	if (!self)
		return;
	for (k = 0; k < M_MAX; k++)
		if (fd[k] < 0)
			return;
	bss_size = bpf_map__value_size(self->maps.bss);
	ro_size = bpf_map__value_size(self->maps.rodata);
	/* another gmemtrace build's layout: say so rather than guess */
	if (vsize[M_BSS] != bss_size || vsize[M_RODATA] != ro_size)
		return;
	bss = malloc(bss_size);
	ro = malloc(ro_size);
	if (!bss || !ro || lookup(fd[M_BSS], 0, bss) || lookup(fd[M_RODATA], 0, ro))
		goto out;
	memcpy(&active, bss + offsetof(struct gmemtrace_bpf__bss, gmt_pol_active), sizeof(active));
	h->mode = ro[offsetof(struct gmemtrace_bpf__rodata, cfg_pol_mode)];
	if (lookup(fd[active ? M_HDR1 : M_HDR0], 0, &hdr) || hdr.nr_rules > GMT_POLICY_MAX_RULES)
		goto out;
	h->nr_rules = hdr.nr_rules;
	for (i = 0; i < hdr.nr_rules; i++) {
		if (lookup(fd[active ? M_RULES1 : M_RULES0], i, &rule))
			goto out;
		h->rules[i].id = rule.id;
		h->rules[i].action = rule.action;
		h->rules[i].hits = percpu_sum(fd[M_COUNTS], i,
					      offsetof(struct gmt_pol_count, hits));
		h->rules[i].denies = percpu_sum(fd[M_COUNTS], i,
						offsetof(struct gmt_pol_count, denies));
	}
	/* the default's counters live at GMT_POLICY_MAX_RULES (gmt_pol_verdict) */
	h->rules[i].id = 0;
	h->rules[i].action = hdr.default_action;
	h->rules[i].hits = percpu_sum(fd[M_COUNTS], GMT_POLICY_MAX_RULES,
				      offsetof(struct gmt_pol_count, hits));
	h->rules[i].denies = percpu_sum(fd[M_COUNTS], GMT_POLICY_MAX_RULES,
					offsetof(struct gmt_pol_count, denies));
	h->readable = true;
out:
	free(bss);
	free(ro);
}

/* the program's maps, by role: fds the caller closes */
static void prog_maps(int prog_fd, int fd[M_MAX], __u32 vsize[M_MAX])
{
	__u32 ids[64], len, i;
	struct bpf_prog_info info;
	int k;

	for (k = 0; k < M_MAX; k++)
		fd[k] = -1;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return;
	for (i = 0; i < info.nr_map_ids && i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bpf_map_info mi = {};
		__u32 mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);

		if (mfd < 0)
			continue;
		k = bpf_obj_get_info_by_fd(mfd, &mi, &mlen) ? -1 : map_role(mi.name);
		if (k < 0 || fd[k] >= 0) {
			close(mfd);
			continue;
		}
		fd[k] = mfd;
		vsize[k] = mi.value_size;
	}
}

int gmt_pol_live_read(const struct gmemtrace_bpf *self, struct gmt_pol_live *out)
{
	__u32 id = 0, pinned = pinned_link_id();
	int n = 0, k, err;

	while (!(err = bpf_link_get_next_id(id, &id))) {
		struct bpf_link_info li = {};
		struct bpf_prog_info pi = {};
		__u32 llen = sizeof(li), plen = sizeof(pi), vsize[M_MAX] = {};
		int lfd = bpf_link_get_fd_by_id(id), pfd, fd[M_MAX];
		struct gmt_pol_live *h;

		if (lfd < 0)
			continue;	/* gone meanwhile */
		if (bpf_obj_get_info_by_fd(lfd, &li, &llen) || li.type != BPF_LINK_TYPE_TRACING) {
			close(lfd);
			continue;
		}
		close(lfd);
		pfd = bpf_prog_get_fd_by_id(li.prog_id);
		if (pfd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(pfd, &pi, &plen) ||
		    (strcmp(pi.name, "gmt_pol_lsm") && strcmp(pi.name, "gmt_pol_fmod"))) {
			close(pfd);
			continue;
		}
		if (n++ >= GMT_POL_LIVE_MAX) {
			close(pfd);
			continue;
		}
		h = &out[n - 1];
		memset(h, 0, sizeof(*h));
		h->link_id = li.id;
		h->prog_id = li.prog_id;
		h->pinned = li.id == pinned;
		memcpy(h->prog, pi.name, sizeof(h->prog) - 1);
		prog_maps(pfd, fd, vsize);
		close(pfd);
		read_hook(self, fd, vsize, h);
		for (k = 0; k < M_MAX; k++)
			if (fd[k] >= 0)
				close(fd[k]);
	}
	return err == -ENOENT ? n : err;
}
