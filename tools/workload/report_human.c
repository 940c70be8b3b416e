/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The --bench line and the human summary
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "workload.h"

static struct json_object *j_ns_per_call(const struct run *r)
{
	double per = r->conv_issued ? (double)r->conv_ns / (double)r->conv_issued : 0.0;
	char buf[32];

	snprintf(buf, sizeof(buf), "%.1f", per);
	return json_object_new_double_s(per, buf);
}

int write_bench(const struct run *r, FILE *f)
{
	struct json_object *o = json_object_new_object();
	struct json_object *b = json_object_new_object();
	struct json_object *rets = json_object_new_object();
	__u64 skipped = 0;
	int i;

	for (i = OP_G1; i <= OP_G3; i++) {
		const struct ret_hist *h = &r->hist[i];
		unsigned int k;

		skipped += h->skipped;
		for (k = 0; k < h->n; k++) {
			struct json_object *cur;
			char key[24];
			__u64 n = h->count[k];

			snprintf(key, sizeof(key), "%ld", h->ret[k]);
			if (json_object_object_get_ex(rets, key, &cur))
				n += (__u64)json_object_get_uint64(cur);
			json_object_object_add(rets, key, json_object_new_uint64(n));
		}
	}
	json_object_object_add(b, "uapi", j_uapi_list(r->cfg->uapi));
	json_object_object_add(b, "vms", json_object_new_int64(r->nvms));
	json_object_object_add(b, "conversions", json_object_new_uint64(r->cfg->conversions));
	json_object_object_add(b, "calls", json_object_new_uint64(r->conv_issued));
	json_object_object_add(b, "skipped", json_object_new_uint64(skipped));
	json_object_object_add(b, "total_ns", json_object_new_uint64(r->conv_ns));
	json_object_object_add(b, "ns_per_call", j_ns_per_call(r));
	json_object_object_add(b, "returns", rets);
	json_object_object_add(b, "interrupted", json_object_new_boolean(r->interrupted));
	json_object_object_add(o, "tool", json_object_new_string("gmem-workload"));
	json_object_object_add(o, "bench", b);
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

static void print_hist_line(FILE *f, const char *name, const struct ret_hist *h)
{
	unsigned int i;

	fprintf(f, "  %-26s %8llu calls", name, (unsigned long long)h->calls);
	for (i = 0; i < h->n; i++) {
		if (h->ret[i] < 0)
			fprintf(f, "  %ld (%s) x%llu", h->ret[i], errname(h->ret[i]),
				(unsigned long long)h->count[i]);
		else
			fprintf(f, "  %ld x%llu", h->ret[i], (unsigned long long)h->count[i]);
	}
	if (h->skipped)
		fprintf(f, "  skipped (no guest_memfd) x%llu", (unsigned long long)h->skipped);
	fputc('\n', f);
}

static void print_guest(FILE *f, const struct run *r)
{
	const struct guest_state *g = &r->guest;

	fprintf(f, "  guest: %llu hypercall + %llu memory-fault request(s) in %llu KVM_RUN(s), "
		"%llu served with ret 0; %s%s%s\n", (unsigned long long)g->nkind[0],
		(unsigned long long)g->nkind[1], (unsigned long long)g->runs,
		(unsigned long long)g->nserved_ok,
		g->halted ? "halted" : "did not halt", g->error ? ": " : "",
		g->error ? g->error : "");
	if (g->nserve)
		fprintf(f, "    exit->reenter ns: min %llu p50 %llu p99 %llu max %llu mean %llu\n",
			(unsigned long long)g->serve_pct[0], (unsigned long long)g->serve_pct[1],
			(unsigned long long)g->serve_pct[3], (unsigned long long)g->serve_pct[4],
			(unsigned long long)g->serve_pct[5]);
}

int write_human(const struct run *r, FILE *f, __u64 elapsed)
{
	const struct vm *vm0 = &r->vms[0];
	const struct pin_state *p = &r->pin;
	int i;

	fprintf(f, "gmem-workload: pid %d, %u VM(s) of type %d, KVM caps: vm_types %ld "
		"guest_memfd %ld guest_memfd_flags %ld memory_attributes %ld\n",
		r->pid, r->nvms, vm0->vm_type, r->caps.vm_types, r->caps.guest_memfd,
		r->caps.guest_memfd_flags, r->caps.memory_attributes);
	if (vm0->gmem_fd >= 0)
		fprintf(f, "  VM 0: guest_memfd fd %d ino %llu flags 0x%llx, memslot ret %ld\n",
			vm0->gmem_fd, (unsigned long long)vm0->gmem_ino,
			(unsigned long long)vm0->gmem_flags, vm0->memslot_ret);
	else
		fprintf(f, "  VM 0: no guest_memfd (%ld %s), memslot ret %ld\n",
			vm0->create_gmem_ret, errname(vm0->create_gmem_ret), vm0->memslot_ret);
	for (i = 0; i < OP_MAX; i++) {
		if (!r->hist[i].calls && !r->hist[i].skipped)
			continue;
		print_hist_line(f, op_names[i], &r->hist[i]);
	}
	if (p->requested)
		fprintf(f, "  pins: %llu page(s) at offset %llu, register ret %ld, released %s%s%s\n",
			(unsigned long long)r->cfg->pin_pages,
			(unsigned long long)r->cfg->pin_offset, p->register_ret,
			p->released ? "yes" : "no", p->error ? ", error: " : "",
			p->error ? p->error : "");
	if (r->guest.requested)
		print_guest(f, r);
	if (r->cfg->gmem_create_storm)
		fprintf(f, "  gmem create storm: %llu call(s), %llu EINVAL, %llu other, %llu ns\n",
			(unsigned long long)(r->storm_einval + r->storm_other),
			(unsigned long long)r->storm_einval, (unsigned long long)r->storm_other,
			(unsigned long long)r->storm_ns);
	fprintf(f, "  conversions: %llu ioctl(s) in %llu ns (%.1f ns each)%s; elapsed %llu ns\n",
		(unsigned long long)r->conv_issued, (unsigned long long)r->conv_ns,
		r->conv_issued ? (double)r->conv_ns / (double)r->conv_issued : 0.0,
		r->interrupted ? ", interrupted" : "", (unsigned long long)elapsed);
	return fflush(f) || ferror(f) ? -EIO : 0;
}
