// SPDX-License-Identifier: GPL-2.0-only
/* Empty programs on the hooks `trace --holders` adds to every mmap/munmap:
 * the floor its mmap tracking is judged against (bench/gmt-bench-holders.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_mmap")
int empty_mmap_enter(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mmap")
int empty_mmap_exit(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_munmap")
int empty_munmap(void *ctx)
{
	return 0;
}
