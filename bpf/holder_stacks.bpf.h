/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The stacks of a kernel-side holder (gup_pin, iommu_map): the kernel stack
 * of the pinning or mapping path and the task's user stack where it has one,
 * in the holders' stack map (defined in holders.bpf.c).
 */
#ifndef GMT_HOLDER_STACKS_BPF_H
#define GMT_HOLDER_STACKS_BPF_H

#define GMT_ENOENT_	2	/* no user stack: a kernel thread */

extern struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__uint(value_size, 127 * sizeof(__u64));
} gmt_hstacks SEC(".maps");

extern __u64 gmt_holder_next_id;

/* ctx: the program's own context (bpf_get_stackid needs it) */
static __always_inline void gmt_hold_kstacks(void *ctx, __s32 *kstack_id, __s32 *stack_id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	long id = bpf_get_stackid(ctx, &gmt_hstacks, 0);

	if (id < 0)
		gmt_site_fail(GMT_SITE_HOLD_STACK, id);
	*kstack_id = id;
	/* a kernel thread (vhost before 6.4, drivers' workers) has no user stack */
	id = task->mm ? bpf_get_stackid(ctx, &gmt_hstacks, BPF_F_USER_STACK) : -GMT_ENOENT_;
	if (id < 0 && id != -GMT_ENOENT_)
		gmt_site_fail(GMT_SITE_HOLD_STACK, id);
	*stack_id = id;
}

#endif /* GMT_HOLDER_STACKS_BPF_H */
