// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "backends.h"

const struct gmt_prog_spec gmt_prog_specs[] = {
	{ "gmt_ioctl_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_ioctl",
	  GMT_PS_REQUIRED, "conversion, gmem create, memslot and VM create ioctls: start, arguments" },
	{ "gmt_ioctl_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_ioctl",
	  GMT_PS_REQUIRED, "syscall latency, return value, error_offset on EAGAIN, per-VM stats" },
	{ "gmt_falc_enter", GMT_BE_UAPI, "tracepoint syscalls:sys_enter_fallocate",
	  GMT_PS_CONTEXT, "fallocate (punch hole / allocate) on a guest_memfd: start" },
	{ "gmt_falc_exit", GMT_BE_UAPI, "tracepoint syscalls:sys_exit_fallocate",
	  GMT_PS_CONTEXT, "fallocate on a guest_memfd: latency and result" },
	{ "gmt_fork", GMT_BE_TP_BTF, "tp_btf sched_process_fork",
	  GMT_PS_FOLLOW, "with -p or -- CMD: children of traced processes are traced too" },
};

const int gmt_nr_prog_specs = sizeof(gmt_prog_specs) / sizeof(gmt_prog_specs[0]);

const char *gmt_backend_name(enum gmt_backend be)
{
	static const char *const n[GMT_BE_MAX] = {
		[GMT_BE_UAPI] = "uapi", [GMT_BE_TP_BTF] = "tp_btf",
		[GMT_BE_FENTRY] = "fentry", [GMT_BE_KPROBE] = "kprobe",
		[GMT_BE_LSM] = "lsm",
	};

	return be < GMT_BE_MAX ? n[be] : "?";
}

const struct gmt_prog_spec *gmt_prog_spec_find(const char *prog)
{
	int i;

	for (i = 0; i < gmt_nr_prog_specs; i++)
		if (!strcmp(gmt_prog_specs[i].prog, prog))
			return &gmt_prog_specs[i];
	return NULL;
}
