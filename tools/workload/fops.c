/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * guest_memfd file operations: fallocate (allocate, punch) and --touch
 */
#include <errno.h>
#include <sys/mman.h>

#include "workload.h"

void do_fallocates(struct run *r, int mode, __u64 n, struct fop_rec *out)
{
	const struct cfg *cfg = r->cfg;
	unsigned int v;
	__u64 i, k = 0;

	for (v = 0; v < r->nvms; v++) {
		struct vm *vm = &r->vms[v];

		for (i = 0; i < n; i++) {
			struct fop_rec *f = &out[k++];

			f->vm = (__u16)v;
			f->mode = (__u8)mode;
			f->offset = round_offset(i, cfg->size, cfg->gmem_size);
			f->len = cfg->size;
			if (vm->gmem_fd < 0) {
				f->skipped = 1;
				r->hist[OP_FALLOCATE].skipped++;
				continue;
			}
			f->ret = (__s32)sys_ret(fallocate(vm->gmem_fd, mode, (off_t)f->offset,
							  (off_t)f->len));
			hist_add(&r->hist[OP_FALLOCATE], f->ret);
		}
	}
}

static void touch_vm(struct run *r, struct vm *vm, struct touch_res *t)
{
	void *p;

	t->sigbus_off = -1;
	if (vm->gmem_fd < 0)
		return;
	t->done = true;
	p = mmap(NULL, r->cfg->gmem_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->gmem_fd, 0);
	if (p == MAP_FAILED) {
		t->mmap_ret = -errno;
		return;
	}
	touch_range(p, r->cfg->gmem_size, r->page_size, t);
	munmap(p, r->cfg->gmem_size);
}

void do_touch(struct run *r)
{
	unsigned int v;

	for (v = 0; v < r->nvms; v++)
		touch_vm(r, &r->vms[v], &r->vms[v].touch);
}

/* after the conversions: where a private page is, the touch stops (SIGBUS) */
void do_touch_after(struct run *r)
{
	unsigned int v;

	for (v = 0; v < r->nvms; v++)
		touch_vm(r, &r->vms[v], &r->vms[v].touch_after);
}
