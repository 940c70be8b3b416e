// SPDX-License-Identifier: GPL-2.0-only
/* Empty programs on the ioctl hooks `trace --holders` adds for VFIO and
 * iommufd (gmt_hdma_enter/exit): the floor their cost on an unrelated ioctl
 * is judged against (bench/gmt-bench-holders.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_ioctl")
int empty_ioctl_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_ioctl")
int empty_ioctl_exit(void *ctx)
{
	return 0;
}
