// SPDX-License-Identifier: GPL-2.0-only
/*
 * Empty programs on exactly the hooks gmemtrace's uAPI backend uses: what
 * is left once the tracer does nothing, i.e. the floor of the mechanism
 * (syscall tracepoint slow path + BPF dispatch) that gmemtrace is judged
 * against.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_ioctl")
int empty_ioc_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int empty_ioc_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fallocate")
int empty_fal_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fallocate")
int empty_fal_exit(void *ctx)
{
	return 0;
}
