// SPDX-License-Identifier: GPL-2.0-only
/* Empty programs on the hooks trace --kernel-pins adds to every GUP
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

/* gup-fast's grab (kernel_pins_fast) and the unpin APIs (kernel_unpins_api) */
SEC("fexit/try_grab_folio_fast")
int BPF_PROG(empty_pin_fast)
{
	return 0;
}

SEC("fentry/unpin_user_folio")
int BPF_PROG(empty_unpin_ufolio)
{
	return 0;
}

SEC("fexit/unpin_user_folio")
int BPF_PROG(empty_unpin_ufolio_ret)
{
	return 0;
}

SEC("fentry/unpin_folio")
int BPF_PROG(empty_unpin_folio)
{
	return 0;
}

SEC("fexit/unpin_folio")
int BPF_PROG(empty_unpin_folio_ret)
{
	return 0;
}

SEC("fentry/unpin_user_page")
int BPF_PROG(empty_unpin_upage)
{
	return 0;
}

SEC("fexit/unpin_user_page")
int BPF_PROG(empty_unpin_upage_ret)
{
	return 0;
}
