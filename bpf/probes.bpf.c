// SPDX-License-Identifier: GPL-2.0-only
/*
 * Capability probes for `gmemtrace features`: each program is loaded and
 * attached alone, so the answer is what this kernel really allows, not what
 * its BTF or kallsyms suggest (a kernel can list fentry targets in BTF and
 * still refuse trampolines).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_ioctl")
int probe_tp(void *ctx) { return 0; }

SEC("raw_tp/sys_enter")
int probe_raw_tp(void *ctx) { return 0; }

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id) { return 0; }

SEC("fentry/vfs_read")
int BPF_PROG(probe_fentry) { return 0; }

SEC("fexit/vfs_read")
int BPF_PROG(probe_fexit) { return 0; }

SEC("fmod_ret/security_file_ioctl")
int BPF_PROG(probe_fmod_ret) { return 0; }

SEC("kprobe/vfs_read")
int BPF_KPROBE(probe_kprobe) { return 0; }

SEC("kretprobe/vfs_read")
int BPF_KRETPROBE(probe_kretprobe) { return 0; }

SEC("lsm/file_ioctl")
int BPF_PROG(probe_lsm, struct file *file, unsigned int cmd, unsigned long arg, int ret)
{
	return ret;	/* never changes a verdict */
}

SEC("iter/task_file")
int probe_iter(struct bpf_iter__task_file *ctx) { return 0; }

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} probe_task_storage SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getppid")
int probe_task_stor(void *ctx)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u64 *v = bpf_task_storage_get(&probe_task_storage, t, 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (v)
		*v += 1;
	return 0;
}
