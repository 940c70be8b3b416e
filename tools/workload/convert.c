/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Conversions through the three uAPI generations (G1 VM ioctl, G2 gmem
 * convert ioctls, G3 gmem set-attributes ioctl) and their call records
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload.h"

static void record_call(struct run *r, const struct call_rec *c)
{
	if (r->cfg->no_calls)
		return;
	if (r->ncalls >= r->cfg->max_calls) {
		r->calls_truncated++;
		return;
	}
	if (r->ncalls == r->calls_cap) {
		__u64 ncap = r->calls_cap ? r->calls_cap * 2 : 1024;
		struct call_rec *n;

		if (ncap > r->cfg->max_calls)
			ncap = r->cfg->max_calls;
		n = realloc(r->calls, ncap * sizeof(*n));
		if (!n) {
			r->calls_truncated++;
			return;
		}
		r->calls = n;
		r->calls_cap = ncap;
	}
	r->calls[r->ncalls++] = *c;
}

/* The G2 or G3 ioctl on a guest_memfd; its error_offset into *eo */
static long gmem_convert(int fd, int gen, bool priv, __u64 off, __u64 size, __u64 *eo)
{
	struct gmt_kvm_memory_attributes2 g3;
	struct gmt_kvm_gmem_convert g2;
	long ret;

	if (gen == 2) {
		memset(&g2, 0, sizeof(g2));
		g2.offset = off;
		g2.size = size;
		ret = sys_ret(ioctl(fd, priv ? GMT_KVM_GMEM_CONVERT_PRIVATE :
				   GMT_KVM_GMEM_CONVERT_SHARED, &g2));
		*eo = g2.error_offset;
		return ret;
	}
	memset(&g3, 0, sizeof(g3));
	g3.offset = off;
	g3.size = size;
	g3.attributes = priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
	ret = sys_ret(ioctl(fd, GMT_KVM_SET_MEMORY_ATTRIBUTES2, &g3));
	*eo = g3.error_offset;
	return ret;
}

/* A G2/G3 call that could not be issued: no guest_memfd, or GPA outside it */
static bool convert_skipped(struct run *r, struct call_rec *c, bool outside)
{
	if (outside) {
		c->flags |= CALL_OUTSIDE;
		c->start = 0;
	}
	c->flags |= CALL_SKIPPED;
	r->hist[c->op].skipped++;
	record_call(r, c);
	return false;
}

/*
 * One conversion of VM v through uAPI gen (1..3) of [gpa, gpa + size),
 * recorded with c's round and flags. G2 and G3 address the guest_memfd by
 * offset: a GPA outside it is skipped. False when skipped.
 */
bool convert_range(struct run *r, unsigned int v, int gen, bool priv, __u64 gpa,
		   __u64 size, struct call_rec *c, long *retp)
{
	const struct cfg *cfg = r->cfg;
	struct vm *vm = &r->vms[v];
	__u64 off = gpa - cfg->gpa_base;
	bool inside = gpa >= cfg->gpa_base && off < cfg->gmem_size;
	long ret;

	c->size = size;
	c->vm = (__u16)v;
	if (priv)
		c->flags |= CALL_PRIV;
	if (gen == 1) {
		struct gmt_kvm_memory_attributes a = {
			.address = gpa,
			.size = size,
			.attributes = priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
		};

		c->op = OP_G1;
		c->start = gpa;
		ret = sys_ret(ioctl(vm->vm_fd, GMT_KVM_SET_MEMORY_ATTRIBUTES, &a));
	} else {
		c->op = gen == 3 ? OP_G3 : priv ? OP_G2_PRIVATE : OP_G2_SHARED;
		c->start = off;
		if (!inside || vm->gmem_fd < 0)
			return convert_skipped(r, c, !inside);
		ret = gmem_convert(vm->gmem_fd, gen, priv, off, size, &c->error_offset);
	}
	c->ret = (__s32)ret;
	/* error_offset means something only with EAGAIN (G2/G3) */
	if (ret == -EAGAIN && gen != 1)
		c->flags |= CALL_HAS_EO;
	hist_add(&r->hist[c->op], ret);
	record_call(r, c);
	*retp = ret;
	return true;
}

/* One conversion of VM v through uAPI generation gen (1..3) */
static void issue(struct run *r, unsigned int v, int gen, __u64 round)
{
	const struct cfg *cfg = r->cfg;
	__u64 off = round_offset(round, cfg->size, cfg->gmem_size);
	struct call_rec c = { .round = round };
	long ret;

	if (convert_range(r, v, gen, round_to_private(cfg->dir, round), cfg->gpa_base + off,
			  cfg->size, &c, &ret))
		r->conv_issued++;
}

void run_conversions(struct run *r)
{
	const struct cfg *cfg = r->cfg;
	bool first = true;
	__u64 t0, round;

	t0 = now_ns();
	for (round = 0; round < cfg->conversions; round++) {
		unsigned int v;

		for (v = 0; v < r->nvms; v++) {
			int gen;

			for (gen = 1; gen <= 3; gen++) {
				if (!(cfg->uapi & (1u << (gen - 1))))
					continue;
				if (got_term)
					goto out;
				if (cfg->interval_us && !first)
					sleep_us(cfg->interval_us);
				first = false;
				issue(r, v, gen, round);
			}
		}
	}
out:
	r->conv_ns = now_ns() - t0;
	if (got_term)
		r->interrupted = true;
}
