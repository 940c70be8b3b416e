// SPDX-License-Identifier: GPL-2.0-only
/* Holders' user stacks, symbolized with libdwfl (stacks.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <elfutils/libdwfl.h>

#include "stacks.h"

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* "func+0x1c[module]"; false when no symbol covers the address */
static bool symbolize(Dwfl *d, __u64 ip, bool is_return, char *out, size_t len)
{
	/* a return address may be one past its call's function */
	Dwarf_Addr a = is_return && ip ? ip - 1 : ip;
	Dwfl_Module *mod = d ? dwfl_addrmodule(d, a) : NULL;
	const char *sym, *modname, *base;
	GElf_Off off = 0;
	GElf_Sym s;

	out[0] = 0;
	if (!mod)
		return false;
	modname = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	base = modname ? strrchr(modname, '/') : NULL;
	base = base ? base + 1 : modname ? modname : "?";
	sym = dwfl_module_addrinfo(mod, a, &off, &s, NULL, NULL, NULL);
	if (!sym)
		return false;
	snprintf(out, len, "%s+0x%llx[%s]", sym, (unsigned long long)(off + (a != ip)), base);
	return true;
}

int gmt_stack_resolve(struct gmt_stack *st, int map_fd, __u32 pid, __s32 id, __u64 leaf_ret)
{
	__u64 ips[GMT_STACK_DEPTH] = { 0 };
	char leaf[GMT_FRAME_LEN];
	Dwfl *d;
	int i, n;

	st->nr = 0;
	if (id < 0)
		return id;
	if (bpf_map_lookup_elem(map_fd, &id, ips))
		return -errno;
	d = dwfl_begin(&proc_callbacks);
	if (d && (dwfl_linux_proc_report(d, pid) || dwfl_report_end(d, NULL, NULL))) {
		dwfl_end(d);	/* gone already: addresses only */
		d = NULL;
	}
	for (i = 0, n = 0; i < GMT_STACK_DEPTH && ips[i] && n < GMT_STACK_DEPTH; i++) {
		st->f[n].ip = ips[i];
		symbolize(d, ips[i], i > 0, st->f[n].sym, sizeof(st->f[n].sym));
		n++;
		/* a frameless leaf (a syscall wrapper) leaves its caller's return
		 * address at the stack pointer, where a frame-pointer walk never looks */
		if (i == 0 && leaf_ret && ips[1] != leaf_ret &&
		    symbolize(d, leaf_ret, true, leaf, sizeof(leaf))) {
			st->f[n].ip = leaf_ret;
			memcpy(st->f[n].sym, leaf, sizeof(leaf));
			n++;
		}
	}
	st->nr = n;
	if (d)
		dwfl_end(d);
	return 0;
}
