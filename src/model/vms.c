// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.skel.h"
#include "grow.h"
#include "holders_vms.h"
#include "loader.h"
#include "stats.h"
#include "util.h"
#include "vms.h"

/* run an iterator program to its end (its output, if any, is discarded) */
static int run_iter(struct bpf_link *link)
{
	char buf[256];
	ssize_t n;
	int fd;

	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0 || (n < 0 && errno == EINTR));
	close(fd);
	return n < 0 ? -errno : 0;
}

static void bump_epoch(struct gmt_session *s)
{
	/* cached fd -> VM classifications in BPF are redone */
	__atomic_fetch_add(&s->skel->bss->gmt_vm_epoch, 1, __ATOMIC_SEQ_CST);
}

static int sweep_once(struct gmt_session *s, __u64 min_gap_ns, gmt_vm_gone_fn gone, void *ctx)
{
	int vms_fd = bpf_map__fd(s->skel->maps.gmt_vms);
	__u64 key, next, *kp = NULL, watermark, now = gmt_mono_ns();
	struct gmt_vm_info info;
	int err, n = 0, nr_dead = 0, cap = 0;
	__u64 *dead = NULL;

	if (!s->sweep_link)
		return -ENOENT;	/* the iterator did not attach (the attach record says why) */
	if (min_gap_ns && now - s->last_sweep_ns < min_gap_ns)
		return 0;
	s->last_sweep_ns = now;
	/* VMs created while the sweep runs may be missed by it: keep them */
	watermark = __atomic_load_n(&s->skel->data->gmt_vm_next_id, __ATOMIC_SEQ_CST);
	s->sweep_gen++;
	__atomic_store_n(&s->skel->bss->gmt_sweep_gen, s->sweep_gen, __ATOMIC_SEQ_CST);
	err = run_iter(s->sweep_link);
	if (err)
		return err;
	while (!bpf_map_get_next_key(vms_fd, kp, &next)) {
		key = next;
		kp = &key;
		if (bpf_map_lookup_elem(vms_fd, &key, &info) || info.mark == s->sweep_gen ||
		    info.id >= watermark)
			continue;
		if (gmt_grow(&dead, &cap, nr_dead, sizeof(*dead), 16)) {
			free(dead);
			return -ENOMEM;
		}
		dead[nr_dead++] = key;
	}
	for (n = 0; n < nr_dead; n++) {
		struct gmt_event e;

		if (bpf_map_lookup_elem(vms_fd, &dead[n], &info) || info.mark == s->sweep_gen)
			continue;
		bpf_map_delete_elem(vms_fd, &dead[n]);
		if (!gone || info.quiet)	/* never reported: nothing to end */
			continue;
		memset(&e, 0, sizeof(e));
		e.hdr.type = GMT_EV_VM_GONE;
		e.hdr.size = GMT_EVENT_SIZE;
		e.hdr.ts_ns = now;
		e.hdr.pid = getpid();
		e.hdr.tid = e.hdr.pid;
		strncpy(e.hdr.comm, "gmemtrace", sizeof(e.hdr.comm) - 1);
		e.hdr.vm_key = info.id;
		e.hdr.vm_pid = info.pid;
		e.hdr.vm_fd = info.fd;
		e.hdr.fd = -1;
		e.vm_gone.how = GMT_VM_END_SWEPT;
		gone(ctx, &e);
	}
	free(dead);
	if (nr_dead)
		bump_epoch(s);
	return nr_dead;
}

int gmt_vms_sweep(struct gmt_session *s, __u64 min_gap_ns, gmt_vm_gone_fn gone, void *ctx)
{
	int err = sweep_once(s, min_gap_ns, gone, ctx);

	if (err < 0 && !s->sweep_warned) {
		/* never silent: gone VMs then keep their names and stats slots */
		gmt_err("cannot sweep for gone VMs: %s; a VM the kernel's release path does not "
			"show stays known until its address is reused", strerror(-err));
		s->sweep_warned = true;
	}
	return err;
}

int gmt_vms_recycle_slots(struct gmt_session *s, const struct gmt_stat_snapshot *snap)
{
	int stats_fd = bpf_map__fd(s->skel->maps.gmt_stats);
	int errors_fd = bpf_map__fd(s->skel->maps.gmt_errors);
	int free_fd = bpf_map__fd(s->skel->maps.gmt_free_slots);
	struct gmt_err_key k, next, *kp = NULL;
	struct gmt_stats *zero;
	int i, j;

	if (!snap->nr_dead)
		return 0;
	zero = calloc(1, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (i = 0; i < snap->nr_dead; i++) {
		__u32 slot = snap->dead_slots[i];

		for (j = 0; j < GMT_STATS_PER_VM; j++) {
			__u32 idx = slot * GMT_STATS_PER_VM + j;

			bpf_map_update_elem(stats_fd, &idx, zero, BPF_ANY);
		}
		if (bpf_map_update_elem(free_fd, NULL, &slot, BPF_ANY))
			gmt_info("cannot recycle stats slot %u: %s", slot, strerror(errno));
	}
	free(zero);
	/* rare errnos of VMs that are gone */
	while (!bpf_map_get_next_key(errors_fd, kp, &next)) {
		bool dead = false;

		k = next;
		kp = &k;
		for (i = 0; i < snap->nr_rows && !dead; i++)
			dead = snap->rows[i].gone && snap->rows[i].key.vm_key == k.vm_key;
		if (dead)
			bpf_map_delete_elem(errors_fd, &k);
	}
	bump_epoch(s);
	return 0;
}

int gmt_vms_stats_read(struct gmt_session *s, const struct gmt_stat_snapshot *prev,
		       struct gmt_stat_snapshot *out)
{
	__u64 watermark;
	int err;

	gmt_vms_sweep(s, 0, NULL, NULL);
	/* VMs from this id on are younger than the read: never taken for gone */
	watermark = __atomic_load_n(&s->skel->data->gmt_vm_next_id, __ATOMIC_SEQ_CST);
	err = gmt_stats_read(bpf_map__fd(s->skel->maps.gmt_stats),
			     s->skel->bss->gmt_nr_vm_slots, bpf_map__fd(s->skel->maps.gmt_vms),
			     watermark, bpf_map__fd(s->skel->maps.gmt_errors), prev, out);
	/* after the identities: a VM whose holders went is gone only if it is */
	if (!err && s->holders)
		err = gmt_holders_vms_read(bpf_map__fd(s->skel->maps.gmt_holders), prev, out);
	return err;
}

int gmt_vms_flush_guest_requests(struct gmt_session *s)
{
	return s->greq_flush_link ? run_iter(s->greq_flush_link) : 0;
}
