// SPDX-License-Identifier: GPL-2.0-only
/* Empty programs on the hooks trace --holders' kernel_pins adds to every GUP
 * pin and unpin: the floor its filter is judged against
 * (bench/gmt-bench-pins.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("fexit/try_grab_folio")
int BPF_PROG(empty_pin)
{
	return 0;
}

SEC("fentry/gup_put_folio")
int BPF_PROG(empty_unpin)
{
	return 0;
}
