// SPDX-License-Identifier: GPL-2.0-only
/* Kernel symbols from /proc/kallsyms, for kernel stacks (ksyms.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "ksyms.h"
#include "stacks.h"

struct gmt_ksym {
	__u64 addr;
	char *name;	/* "func\0module\0" (module "" for the kernel image) */
};

struct gmt_ksyms {
	struct gmt_ksym *s;
	size_t nr;
	char *names;
	size_t names_len, names_cap;
};

static int ksym_cmp(const void *a, const void *b)
{
	const struct gmt_ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* names are kept in one buffer; offsets become pointers once it stops moving */
static long add_name(struct gmt_ksyms *k, const char *name, const char *mod)
{
	size_t need = strlen(name) + 1 + strlen(mod) + 1;
	long off = k->names_len;

	if (k->names_len + need > k->names_cap) {
		size_t cap = k->names_cap ? k->names_cap * 2 : 1 << 20;
		char *n;

		while (cap < k->names_len + need)
			cap *= 2;
		n = realloc(k->names, cap);
		if (!n)
			return -1;
		k->names = n;
		k->names_cap = cap;
	}
	memcpy(k->names + off, name, strlen(name) + 1);
	memcpy(k->names + off + strlen(name) + 1, mod, strlen(mod) + 1);
	k->names_len += need;
	return off;
}

struct gmt_ksyms *gmt_ksyms_load(void)
{
	struct gmt_ksyms *k = calloc(1, sizeof(*k));
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512], name[256], mod[128];
	size_t cap = 0, i;

	if (!k || !f)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type;
		long off;

		mod[0] = 0;
		if (sscanf(line, "%llx %c %255s [%127[^]]]", &addr, &type, name, mod) < 3)
			continue;
		if (!addr || (type != 't' && type != 'T' && type != 'w' && type != 'W'))
			continue;	/* only code; all-zero: kptr_restrict hides them */
		if (k->nr == cap) {
			struct gmt_ksym *n;

			cap = cap ? cap * 2 : 65536;
			n = realloc(k->s, cap * sizeof(*n));
			if (!n)
				goto fail;
			k->s = n;
		}
		off = add_name(k, name, mod);
		if (off < 0)
			goto fail;
		k->s[k->nr].addr = addr;
		k->s[k->nr].name = (char *)off;
		k->nr++;
	}
	fclose(f);
	if (!k->nr) {
		gmt_ksyms_free(k);
		return NULL;
	}
	for (i = 0; i < k->nr; i++)
		k->s[i].name = k->names + (size_t)k->s[i].name;
	qsort(k->s, k->nr, sizeof(*k->s), ksym_cmp);
	return k;
fail:
	if (f)
		fclose(f);
	gmt_ksyms_free(k);
	return NULL;
}

void gmt_ksyms_free(struct gmt_ksyms *k)
{
	if (!k)
		return;
	free(k->s);
	free(k->names);
	free(k);
}

bool gmt_ksym(const struct gmt_ksyms *k, __u64 ip, char *out, size_t len)
{
	size_t lo = 0, hi;
	const char *mod;

	out[0] = 0;
	if (!k || !k->nr || ip < k->s[0].addr)
		return false;
	hi = k->nr;
	while (hi - lo > 1) {	/* the last symbol at or below ip */
		size_t mid = lo + (hi - lo) / 2;

		if (k->s[mid].addr <= ip)
			lo = mid;
		else
			hi = mid;
	}
	mod = k->s[lo].name + strlen(k->s[lo].name) + 1;
	snprintf(out, len, mod[0] ? "%s+0x%llx[%s]" : "%s+0x%llx", k->s[lo].name,
		 (unsigned long long)(ip - k->s[lo].addr), mod);
	return true;
}

/* a frame of BPF's own (the program, its trampoline): not the pinner's stack */
static bool is_bpf_frame(const char *sym)
{
	size_t n = strlen(sym);

	return n > 5 && !strcmp(sym + n - 5, "[bpf]");
}

int gmt_kstack_resolve(struct gmt_stack *st, int map_fd, __s32 id, const struct gmt_ksyms *k)
{
	__u64 ips[GMT_STACK_DEPTH] = { 0 };
	int i, n = 0;

	st->nr = 0;
	if (id < 0)
		return id;
	if (bpf_map_lookup_elem(map_fd, &id, ips))
		return -errno;
	for (i = 0; i < GMT_STACK_DEPTH && ips[i]; i++) {
		st->f[n].ip = ips[i];
		gmt_ksym(k, ips[i], st->f[n].sym, sizeof(st->f[n].sym));
		if (!n && is_bpf_frame(st->f[n].sym))
			continue;	/* leading ones only */
		n++;
	}
	st->nr = n;
	return 0;
}
