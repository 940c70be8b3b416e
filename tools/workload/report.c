/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The JSON document: streamed so that long call lists never sit in one tree
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "workload.h"

const char *const op_names[OP_MAX] = {
	[OP_G1]		= "set_memory_attributes",
	[OP_G2_SHARED]	= "gmem_convert_shared",
	[OP_G2_PRIVATE]	= "gmem_convert_private",
	[OP_G3]		= "set_memory_attributes2",
	[OP_CREATE_GMEM] = "create_guest_memfd",
	[OP_MEMSLOT]	= "set_user_memory_region2",
	[OP_FALLOCATE]	= "fallocate",
	[OP_CREATE_VCPU] = "create_vcpu",
	[OP_IOURING_REG] = "io_uring_register_buffers",
};

struct json_object *jnum_or_null(bool ok, __s64 v)
{
	return ok ? json_object_new_int64(v) : NULL;
}

static struct json_object *j_hist(const struct ret_hist *h)
{
	struct json_object *o = json_object_new_object();
	struct json_object *rets = json_object_new_object();
	unsigned int i;

	json_object_object_add(o, "calls", json_object_new_uint64(h->calls));
	if (h->skipped)
		json_object_object_add(o, "skipped", json_object_new_uint64(h->skipped));
	for (i = 0; i < h->n; i++) {
		char key[24];

		snprintf(key, sizeof(key), "%ld", h->ret[i]);
		json_object_object_add(rets, key, json_object_new_uint64(h->count[i]));
	}
	if (h->other)
		json_object_object_add(rets, "other", json_object_new_uint64(h->other));
	json_object_object_add(o, "returns", rets);
	return o;
}

static struct json_object *j_summary(const struct run *r)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < OP_MAX; i++) {
		/* optional ops appear only when they were asked for */
		if (i == OP_CREATE_VCPU && !r->cfg->vcpu && !r->cfg->guest)
			continue;
		if (i == OP_IOURING_REG && !r->cfg->pin_pages)
			continue;
		json_object_object_add(o, op_names[i], j_hist(&r->hist[i]));
	}
	return o;
}

struct json_object *j_uapi_list(unsigned int mask)
{
	struct json_object *a = json_object_new_array();

	if (mask & UAPI_G1)
		json_object_array_add(a, json_object_new_string("g1"));
	if (mask & UAPI_G2)
		json_object_array_add(a, json_object_new_string("g2"));
	if (mask & UAPI_G3)
		json_object_array_add(a, json_object_new_string("g3"));
	return a;
}

static struct json_object *j_args(const struct cfg *c)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "vms", json_object_new_int64(c->vms));
	json_object_object_add(o, "conversions", json_object_new_uint64(c->conversions));
	json_object_object_add(o, "uapi", j_uapi_list(c->uapi));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "dir", json_object_new_string(dir_mode_name(c->dir)));
	json_object_object_add(o, "interval_us", json_object_new_uint64(c->interval_us));
	json_object_object_add(o, "gmem_size", json_object_new_uint64(c->gmem_size));
	json_object_object_add(o, "gpa_base", json_object_new_uint64(c->gpa_base));
	json_object_object_add(o, "punch", json_object_new_uint64(c->punch));
	json_object_object_add(o, "allocate", json_object_new_uint64(c->allocate));
	json_object_object_add(o, "touch", json_object_new_boolean(c->touch));
	json_object_object_add(o, "touch_after", json_object_new_boolean(c->touch_after));
	json_object_object_add(o, "pin", json_object_new_uint64(c->pin_pages));
	json_object_object_add(o, "guest", json_object_new_uint64(c->guest));
	json_object_object_add(o, "guest_fault", json_object_new_boolean(c->guest_fault));
	return o;
}

static struct json_object *j_kvm(const struct run *r)
{
	const struct caps *c = &r->caps;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "api_version", json_object_new_int64(c->api_version));
	json_object_object_add(o, "vm_types", json_object_new_int64(c->vm_types));
	json_object_object_add(o, "guest_memfd", json_object_new_int64(c->guest_memfd));
	json_object_object_add(o, "guest_memfd_flags",
			       json_object_new_int64(c->guest_memfd_flags));
	json_object_object_add(o, "memory_attributes",
			       json_object_new_int64(c->memory_attributes));
	json_object_object_add(o, "guest_memfd_memory_attributes",
			       json_object_new_int64(c->gmem_memory_attributes));
	return o;
}

/* --race: null without it */
static struct json_object *j_race(const struct run *r)
{
	const struct race_res *x = &r->race;
	struct json_object *o;

	if (!x->done)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "uapi", json_object_new_string(x->gen == 1 ? "g1" : "g3"));
	json_object_object_add(o, "error", x->error ? json_object_new_string(x->error) : NULL);
	json_object_object_add(o, "calls", json_object_new_uint64(x->calls));
	json_object_object_add(o, "ok", json_object_new_uint64(x->ok));
	json_object_object_add(o, "eperm", json_object_new_uint64(x->eperm));
	json_object_object_add(o, "other", json_object_new_uint64(x->other));
	json_object_object_add(o, "flips", json_object_new_uint64(x->flips));
	return o;
}

static struct json_object *j_touch(const struct touch_res *t)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "mmap_ret", json_object_new_int64(t->mmap_ret));
	json_object_object_add(o, "pages", json_object_new_uint64(t->pages));
	json_object_object_add(o, "sigbus_offset",
			       jnum_or_null(t->sigbus_off >= 0, t->sigbus_off));
	return o;
}

static struct json_object *j_vm(const struct run *r, unsigned int idx)
{
	const struct vm *vm = &r->vms[idx];
	struct json_object *o = json_object_new_object();
	struct json_object *tries = json_object_new_array();
	bool g = vm->gmem_fd >= 0;
	unsigned int i;

	json_object_object_add(o, "index", json_object_new_int64(idx));
	json_object_object_add(o, "vm_fd", json_object_new_int64(vm->vm_fd));
	json_object_object_add(o, "vm_type", json_object_new_int64(vm->vm_type));
	json_object_object_add(o, "gmem_fd", jnum_or_null(g, vm->gmem_fd));
	json_object_object_add(o, "gmem_ino", jnum_or_null(g, (__s64)vm->gmem_ino));
	json_object_object_add(o, "gmem_size", json_object_new_uint64(r->cfg->gmem_size));
	json_object_object_add(o, "gmem_flags", jnum_or_null(g, (__s64)vm->gmem_flags));
	json_object_object_add(o, "create_gmem_ret", json_object_new_int64(vm->create_gmem_ret));
	for (i = 0; i < vm->ntries; i++) {
		struct json_object *t = json_object_new_object();

		json_object_object_add(t, "flags", json_object_new_uint64(vm->tries[i].flags));
		json_object_object_add(t, "ret", json_object_new_int64(vm->tries[i].ret));
		json_object_array_add(tries, t);
	}
	json_object_object_add(o, "create_gmem_tries", tries);
	json_object_object_add(o, "gpa_base", json_object_new_uint64(r->cfg->gpa_base));
	json_object_object_add(o, "slot", json_object_new_int64(0));
	json_object_object_add(o, "memslot_flags", json_object_new_int64(vm->memslot_flags));
	json_object_object_add(o, "userspace_addr",
			       json_object_new_uint64((__u64)(uintptr_t)vm->backing));
	json_object_object_add(o, "memslot_ret", json_object_new_int64(vm->memslot_ret));
	if (r->cfg->vcpu) {
		json_object_object_add(o, "vcpu_fd", jnum_or_null(vm->vcpu_fd >= 0, vm->vcpu_fd));
		json_object_object_add(o, "create_vcpu_ret", json_object_new_int64(vm->vcpu_ret));
	}
	if (r->cfg->touch)
		json_object_object_add(o, "touch", vm->touch.done ? j_touch(&vm->touch) : NULL);
	if (r->cfg->touch_after)
		json_object_object_add(o, "touch_after",
				       vm->touch_after.done ? j_touch(&vm->touch_after) : NULL);
	return o;
}

static const __u32 op_cmd[] = {
	[OP_G1]		= GMT_KVM_SET_MEMORY_ATTRIBUTES,
	[OP_G2_SHARED]	= GMT_KVM_GMEM_CONVERT_SHARED,
	[OP_G2_PRIVATE]	= GMT_KVM_GMEM_CONVERT_PRIVATE,
	[OP_G3]		= GMT_KVM_SET_MEMORY_ATTRIBUTES2,
};

static struct json_object *j_call(const struct run *r, const struct call_rec *c)
{
	const struct vm *vm = &r->vms[c->vm];
	struct json_object *o = json_object_new_object();
	bool priv = c->flags & CALL_PRIV;
	bool guest = c->flags & CALL_GUEST;
	int gen = c->op == OP_G1 ? 1 : c->op == OP_G3 ? 3 : 2;
	char cmd[16];

	snprintf(cmd, sizeof(cmd), "0x%08x", op_cmd[c->op]);
	json_object_object_add(o, "op", json_object_new_string(op_names[c->op]));
	json_object_object_add(o, "gen", json_object_new_int(gen));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "vm", json_object_new_int(c->vm));
	json_object_object_add(o, "fd", gen == 1 ? json_object_new_int(vm->vm_fd) :
				     jnum_or_null(vm->gmem_fd >= 0, vm->gmem_fd));
	json_object_object_add(o, "tid", json_object_new_int(r->tid));
	/* a call serving the guest belongs to request "guest_request", no round */
	json_object_object_add(o, "round", guest ? NULL : json_object_new_uint64(c->round));
	json_object_object_add(o, "guest_request", guest ? json_object_new_uint64(c->round) :
			       NULL);
	json_object_object_add(o, "dir", json_object_new_string(priv ? "to_private" :
								  "to_shared"));
	json_object_object_add(o, "start", c->flags & CALL_OUTSIDE ? NULL :
			       json_object_new_uint64(c->start));
	json_object_object_add(o, "size", json_object_new_uint64(c->size));
	json_object_object_add(o, "attributes", gen == 2 ? NULL :
			       json_object_new_uint64(priv ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0));
	if (c->flags & CALL_SKIPPED) {
		json_object_object_add(o, "ret", NULL);
		json_object_object_add(o, "skipped", json_object_new_string(
			c->flags & CALL_OUTSIDE ? "outside guest_memfd" : "no guest_memfd"));
	} else {
		json_object_object_add(o, "ret", json_object_new_int64(c->ret));
	}
	json_object_object_add(o, "error_offset", c->flags & CALL_HAS_EO ?
			       json_object_new_uint64(c->error_offset) : NULL);
	return o;
}

static struct json_object *j_fops(const struct run *r, const struct fop_rec *f, __u64 n)
{
	struct json_object *a = json_object_new_array();
	__u64 i;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();
		const struct vm *vm = &r->vms[f[i].vm];

		json_object_object_add(o, "vm", json_object_new_int(f[i].vm));
		json_object_object_add(o, "fd", jnum_or_null(vm->gmem_fd >= 0, vm->gmem_fd));
		json_object_object_add(o, "mode", json_object_new_int(f[i].mode));
		json_object_object_add(o, "offset", json_object_new_uint64(f[i].offset));
		json_object_object_add(o, "len", json_object_new_uint64(f[i].len));
		if (f[i].skipped) {
			json_object_object_add(o, "ret", NULL);
			json_object_object_add(o, "skipped",
					       json_object_new_string("no guest_memfd"));
		} else {
			json_object_object_add(o, "ret", json_object_new_int64(f[i].ret));
		}
		json_object_array_add(a, o);
	}
	return a;
}

static struct json_object *j_pins(const struct run *r)
{
	const struct pin_state *p = &r->pin;
	struct json_object *o, *offs;
	bool dma = r->cfg->pin_with != PIN_IOURING;
	bool reg = dma ? p->dma_mapped || p->dma_unmapped : p->ring_ok || p->released;
	long reg_ret = dma ? p->dma_map_ret : p->register_ret;
	__u64 i;

	if (!p->requested)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "with", json_object_new_string(pin_with_name(r->cfg->pin_with)));
	json_object_object_add(o, "iova", jnum_or_null(dma && reg, (long long)p->iova));
	json_object_object_add(o, "dma_map_ret", jnum_or_null(dma && p->iova,
							      p->dma_map_ret));
	json_object_object_add(o, "dma_unmap_ret", jnum_or_null(p->dma_unmapped,
								p->dma_unmap_ret));
	json_object_object_add(o, "vm", json_object_new_int(0));
	json_object_object_add(o, "fd", jnum_or_null(r->vms[0].gmem_fd >= 0, r->vms[0].gmem_fd));
	json_object_object_add(o, "pages", json_object_new_uint64(r->cfg->pin_pages));
	offs = json_object_new_array();
	if (reg && reg_ret == 0)
		for (i = 0; i < r->cfg->pin_pages; i++)
			json_object_array_add(offs, json_object_new_uint64(r->cfg->pin_offset +
									   i * r->page_size));
	json_object_object_add(o, "offsets", offs);
	json_object_object_add(o, "mmap_ret", jnum_or_null(p->mmap_tried, p->mmap_ret));
	json_object_object_add(o, "touched", json_object_new_uint64(p->touch.pages));
	json_object_object_add(o, "sigbus_offset",
			       jnum_or_null(p->touch.sigbus_off >= 0, p->touch.sigbus_off));
	json_object_object_add(o, "ring_ret", jnum_or_null(p->ring_tried, p->ring_ret));
	json_object_object_add(o, "ring_fd", jnum_or_null(p->ring_ok || p->released, p->ring_fd));
	json_object_object_add(o, "register_ret", jnum_or_null(reg, p->register_ret));
	json_object_object_add(o, "foll_pins_delta",
			       jnum_or_null(p->pin_delta != LLONG_MIN, p->pin_delta));
	json_object_object_add(o, "unregister_ret",
			       jnum_or_null(p->unregistered, p->unregister_ret));
	json_object_object_add(o, "released", json_object_new_boolean(p->released));
	json_object_object_add(o, "error", p->error ? json_object_new_string(p->error) : NULL);
	return o;
}

/* --dma-loop: pairs done and their mean time; null without it */
static struct json_object *j_dma_loop(const struct run *r)
{
	const struct dma_ctx *d = &r->dma;
	struct json_object *o;

	if (!r->cfg->dma_loop)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "asked", json_object_new_uint64(r->cfg->dma_loop));
	json_object_object_add(o, "pairs", json_object_new_uint64(d->loop_pairs));
	json_object_object_add(o, "iova", json_object_new_uint64(GMW_DMA_LOOP_IOVA));
	json_object_object_add(o, "ns_per_pair", d->loop_pairs ?
			       json_object_new_double((double)d->loop_ns / d->loop_pairs) : NULL);
	json_object_object_add(o, "ret", json_object_new_int64(d->loop_ret));
	return o;
}

/* the device and fds of --pin-with vfio|iommufd: what a tracer names */
static struct json_object *j_dma(const struct run *r)
{
	const struct dma_ctx *d = &r->dma;
	bool vfio = d->kind == PIN_VFIO;
	struct json_object *o;

	if (r->cfg->pin_with == PIN_IOURING)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "with", json_object_new_string(pin_with_name(r->cfg->pin_with)));
	json_object_object_add(o, "device", d->device[0] ? json_object_new_string(d->device) : NULL);
	json_object_object_add(o, "iommu_group", d->group[0] ? json_object_new_string(d->group) :
			       NULL);
	json_object_object_add(o, "container_fd", jnum_or_null(vfio && d->container_fd >= 0,
							       d->container_fd));
	json_object_object_add(o, "group_fd", jnum_or_null(vfio && d->group_fd >= 0, d->group_fd));
	json_object_object_add(o, "iommufd", jnum_or_null(!vfio && d->iommufd >= 0, d->iommufd));
	json_object_object_add(o, "device_fd", jnum_or_null(!vfio && d->device_fd >= 0,
							    d->device_fd));
	json_object_object_add(o, "ioas_id", jnum_or_null(!vfio && d->iommufd >= 0 &&
							  !d->error[0], d->ioas_id));
	json_object_object_add(o, "iova_base", json_object_new_uint64(GMW_DMA_IOVA_BASE));
	/* --ioas-copy: the second IOAS, where each mapping's copy sits */
	json_object_object_add(o, "copy_ioas_id", jnum_or_null(d->copy && d->copy_ioas_id,
							       d->copy_ioas_id));
	json_object_object_add(o, "copy_iova_base", jnum_or_null(d->copy, GMW_DMA_IOVA_BASE +
								  GMW_IOAS_COPY_SHIFT));
	json_object_object_add(o, "copy_attached", d->copy ?
			       json_object_new_string(d->copy == COPY_DST ? "dst" : "src") : NULL);
	json_object_object_add(o, "copies", json_object_new_uint64(d->ncopies));
	json_object_object_add(o, "maps", json_object_new_uint64(d->nmaps));
	json_object_object_add(o, "unmaps", json_object_new_uint64(d->nunmaps));
	json_object_object_add(o, "loop", j_dma_loop(r));
	json_object_object_add(o, "error", d->error[0] ? json_object_new_string(d->error) : NULL);
	return o;
}

/* "key":value, taking the reference; streamed so calls never sit in one tree */
static void emit(FILE *f, bool *first, const char *key, struct json_object *val)
{
	fprintf(f, "%s\"%s\":%s", *first ? "{" : ",\n", key,
		val ? json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN) : "null");
	*first = false;
	json_object_put(val);
}

static int write_json(const struct run *r, FILE *f, __u64 elapsed)
{
	bool first = true;
	struct json_object *vms = json_object_new_array();
	unsigned int v;
	__u64 i;

	emit(f, &first, "tool", json_object_new_string("gmem-workload"));
	emit(f, &first, "version", json_object_new_string(GMT_VERSION));
	emit(f, &first, "pid", json_object_new_int(r->pid));
	emit(f, &first, "args", j_args(r->cfg));
	emit(f, &first, "kvm", j_kvm(r));
	for (v = 0; v < r->nvms; v++)
		json_object_array_add(vms, j_vm(r, v));
	emit(f, &first, "vms", vms);
	if (r->cfg->no_calls) {
		emit(f, &first, "calls", NULL);
	} else {
		fputs(",\n\"calls\":[", f);
		for (i = 0; i < r->ncalls; i++) {
			struct json_object *c = j_call(r, &r->calls[i]);

			fprintf(f, "%s\n%s", i ? "," : "",
				json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
			json_object_put(c);
		}
		fputs("]", f);
	}
	emit(f, &first, "calls_truncated", json_object_new_uint64(r->calls_truncated));
	emit(f, &first, "punches", j_fops(r, r->punches, r->npunches));
	emit(f, &first, "allocates", j_fops(r, r->allocs, r->nallocs));
	emit(f, &first, "pins", j_pins(r));
	emit(f, &first, "scenario", j_scenario(r));
	emit(f, &first, "dma", j_dma(r));
	write_guest(f, r);
	emit(f, &first, "summary", j_summary(r));
	emit(f, &first, "interrupted", json_object_new_boolean(r->interrupted));
	emit(f, &first, "hold_end", r->hold_end ? json_object_new_string(r->hold_end) : NULL);
	if (r->cfg->gmem_create_storm) {
		struct json_object *st = json_object_new_object();

		json_object_object_add(st, "calls", json_object_new_uint64(r->storm_einval +
									   r->storm_other));
		json_object_object_add(st, "einval", json_object_new_uint64(r->storm_einval));
		json_object_object_add(st, "other", json_object_new_uint64(r->storm_other));
		json_object_object_add(st, "ns", json_object_new_uint64(r->storm_ns));
		emit(f, &first, "gmem_create_storm", st);
	} else {
		emit(f, &first, "gmem_create_storm", NULL);
	}
	emit(f, &first, "race", j_race(r));
	emit(f, &first, "conversion_ns", json_object_new_uint64(r->conv_ns));
	emit(f, &first, "elapsed_ns", json_object_new_uint64(elapsed));
	fputs("}\n", f);
	return fflush(f) || ferror(f) ? -EIO : 0;
}

int write_outputs(const struct run *r)
{
	const struct cfg *cfg = r->cfg;
	__u64 elapsed = now_ns() - r->t_start;
	int err = 0;

	if (cfg->json_out) {
		FILE *f = strcmp(cfg->json_out, "-") ? fopen(cfg->json_out, "we") : stdout;

		if (!f) {
			fprintf(stderr, "gmem-workload: cannot open %s: %s\n", cfg->json_out,
				strerror(errno));
			return -EIO;
		}
		err = write_json(r, f, elapsed);
		if (f != stdout && fclose(f))
			err = -EIO;
		if (err)
			fprintf(stderr, "gmem-workload: writing %s failed\n", cfg->json_out);
	}
	if (cfg->bench)
		err = write_bench(r, stdout) ?: err;
	else if (cfg->json)
		err = write_json(r, stdout, elapsed) ?: err;
	else if (!cfg->json_out || strcmp(cfg->json_out, "-"))
		err = write_human(r, stdout, elapsed) ?: err;
	return err;
}
