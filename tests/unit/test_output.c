// SPDX-License-Identifier: GPL-2.0-only
/*
 * Golden-file tests of the output layer: fixed records rendered in text and
 * JSON and compared byte for byte with tests/unit/golden/. The golden
 * directory is found as tests/unit/golden from the current directory (the
 * repo root, as tests/run.sh runs us), else next to this binary's build
 * directory (<exe dir>/../../tests/unit/golden).
 *
 *   GMT_UPDATE_GOLDEN=1 build/tests/test_output
 *
 * rewrites the golden files from the current output instead of comparing;
 * review `git diff tests/unit/golden` before committing the result.
 * On a mismatch the actual output is left in /tmp/gmt-golden-<name> for diff.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "gmemtrace.h"
#include "hist.h"
#include "kvm_uapi.h"
#include "model.h"
#include "gmt_policy.h"
#include "live.h"
#include "output.h"
#include "stats.h"
#include "util.h"

/* monotonic ts 1000 s is 2025-06-01T12:00:00Z */
#define T0_NS		1000000000000ULL
#define REAL_OFF	(1748779200000000000ULL - T0_NS)

#define VM_A		0xffff888100a00000ULL
#define VM_B		0xffff888100b00000ULL
#define GMEM_INO	24948

static char golden_dir[4096];
static bool update_golden;

/* ---- golden files ---- */

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

static void find_golden_dir(void)
{
	char exe[4096];
	ssize_t n;

	if (is_dir("tests/unit/golden") || (update_golden && is_dir("tests/unit"))) {
		snprintf(golden_dir, sizeof(golden_dir), "tests/unit/golden");
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(golden_dir, sizeof(golden_dir), "%s/../../tests/unit/golden",
			 dirname(exe));
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n + 1);
	assert_non_null(buf);
	if (fread(buf, 1, n, f) != (size_t)n)
		n = 0;
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void spill(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s: %s", path, strerror(errno));
	fputs(data, f);
	fclose(f);
}

/* first differing line, for a readable failure */
static void report_diff(const char *name, const char *want, const char *got)
{
	const char *w = want, *g = got, *wl = want, *gl = got;
	char actual[256];
	int line = 1;

	while (*w && *w == *g) {
		if (*w == '\n') {
			line++;
			wl = w + 1;
			gl = g + 1;
		}
		w++;
		g++;
	}
	snprintf(actual, sizeof(actual), "/tmp/gmt-golden-%s", name);
	spill(actual, got);
	fail_msg("%s differs from the golden file at line %d\n"
		 "  want: %.*s\n  got:  %.*s\n"
		 "diff -u %s/%s %s  (GMT_UPDATE_GOLDEN=1 to accept)", name, line,
		 (int)strcspn(wl, "\n"), wl, (int)strcspn(gl, "\n"), gl, golden_dir, name,
		 actual);
}

static void check_golden(const char *name, const char *got)
{
	char path[4200];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", golden_dir, name);
	if (update_golden) {
		mkdir(golden_dir, 0755);
		spill(path, got);
		print_message("updated %s\n", path);
		return;
	}
	want = slurp(path, NULL);
	if (!want)
		fail_msg("no golden file %s (%s); GMT_UPDATE_GOLDEN=1 creates it", path,
			 strerror(errno));
	if (strcmp(want, got))
		report_diff(name, want, got);
	free(want);
}

/* ---- rendering ---- */

typedef void (*render_fn)(struct gmt_out *o);

/* render through gmt_out_open(path) as the commands do; returns the file */
static char *render_real_off(enum gmt_format fmt, render_fn fn, bool fixed_clock)
{
	char path[] = "/tmp/gmt-output-XXXXXX";
	struct gmt_out o;
	char *s;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gmt_out_open(&o, fmt, path), 0);
	if (fixed_clock)
		o.real_off = REAL_OFF;
	fn(&o);
	gmt_out_close(&o);
	s = slurp(path, NULL);
	assert_non_null(s);
	unlink(path);
	return s;
}

static char *render(enum gmt_format fmt, render_fn fn)
{
	return render_real_off(fmt, fn, true);
}

/* what fn writes to stderr (text lost/attach/error go there) */
static char *capture_stderr(enum gmt_format fmt, render_fn fn, char **file)
{
	char path[] = "/tmp/gmt-stderr-XXXXXX";
	int fd = mkstemp(path), saved;
	char *s;

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	*file = render(fmt, fn);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	s = slurp(path, NULL);
	unlink(path);
	return s;
}

static void hdr(struct gmt_event *e, __u16 type, __u64 dt_us, __u64 vm, __s32 vm_pid,
		__s32 vm_fd, __s32 fd, __s32 ret, __u64 lat)
{
	memset(e, 0, sizeof(*e));
	e->hdr.type = type;
	e->hdr.size = GMT_EVENT_SIZE;
	e->hdr.cpu = 3;
	e->hdr.ts_ns = T0_NS + dt_us * 1000 + 123;
	e->hdr.pid = 4242;
	e->hdr.tid = 4250;
	e->hdr.cgroup_id = 8812;
	strcpy(e->hdr.comm, "qemu-system-x86");	/* 15: the kernel's longest */
	e->hdr.vm_key = vm;
	e->hdr.vm_pid = vm_pid;
	e->hdr.vm_fd = vm_fd;
	e->hdr.fd = fd;
	e->hdr.ret = ret;
	e->hdr.latency_ns = lat;
}

static void convert(struct gmt_event *e, __u8 gen, __u32 cmd, __u64 start, __u64 size,
		    __u64 attrs)
{
	e->convert.cmd = cmd;
	e->convert.gen = gen;
	e->convert.dir = (attrs & GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE) ? GMT_DIR_TO_PRIVATE :
								       GMT_DIR_TO_SHARED;
	e->convert.source = GMT_SRC_SYSCALL_TP;
	e->convert.start = start;
	e->convert.size = size;
	e->convert.attributes = attrs;
	e->convert.gmem_ino = gen == GMT_GEN_G1 ? 0 : GMEM_INO;
}

/* a VMM's life: VM, guest_memfd, memslot, conversions of all generations */
static void policy(struct gmt_event *e, __u8 gen, __u32 cmd, __u64 start, __u32 rule_id,
		   __u32 index, __u8 action, __u8 mode)
{
	struct gmt_policy_rec *p = &e->policy;

	p->gen = gen;
	p->cmd = cmd;
	p->start = start;
	p->size = 4096;
	p->attributes = GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE;
	p->dir = GMT_DIR_TO_PRIVATE;
	p->gmem_ino = gen == GMT_GEN_G1 ? 0 : GMEM_INO;
	p->rule_id = rule_id;
	p->rule_index = index;
	p->action = action;
	p->mode = mode;
	p->err = action == GMT_PA_DENY ? 1 : 0;
}

/* enforce's records: a veto, a monitored would-be veto, a default audit */
static void render_policy(struct gmt_out *o)
{
	struct gmt_event e;

	hdr(&e, GMT_EV_POLICY, 0, VM_A, 4242, 11, -1, -1, 0);
	policy(&e, GMT_GEN_G1, GMT_KVM_SET_MEMORY_ATTRIBUTES, 0xfe000000ULL, 10, 0, GMT_PA_DENY,
	       GMT_POL_ENFORCE);
	gmt_out_event(o, &e);
	hdr(&e, GMT_EV_POLICY, 1, VM_A, 4242, 11, -1, 0, 0);
	policy(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0x3000, 11, 1, GMT_PA_DENY,
	       GMT_POL_MONITOR);
	gmt_out_event(o, &e);
	hdr(&e, GMT_EV_POLICY, 2, VM_A, 4242, 11, -1, 0, 0);
	policy(&e, GMT_GEN_G2, GMT_KVM_GMEM_CONVERT_PRIVATE, 0x5000, 0, GMT_POLICY_MAX_RULES,
	       GMT_PA_AUDIT, GMT_POL_ENFORCE);
	gmt_out_event(o, &e);
}

/* trace --holders: each kind starts, each ends its own way */
static void render_holders(struct gmt_out *o)
{
	static const struct {
		__u16 type;
		__u8 kind, end;
		__s32 fd;
		__u32 index;
		__u64 iova, off, held_ns;
	} h[] = {
		{ GMT_EV_HOLDER_START, GMT_HOLD_IOURING_BUF, GMT_HOLD_END_NONE, 14, 2, 0, 0x2000, 0 },
		{ GMT_EV_HOLDER_START, GMT_HOLD_VFIO_DMA, GMT_HOLD_END_NONE, 15, 0, 0x105000, 0x5000, 0 },
		{ GMT_EV_HOLDER_START, GMT_HOLD_IOMMUFD, GMT_HOLD_END_NONE, 16, 1, 0x106000, 0x6000, 0 },
		{ GMT_EV_HOLDER_END, GMT_HOLD_VFIO_DMA, GMT_HOLD_END_UNMAP, 15, 0, 0x105000, 0x5000,
		  3000000 },
		{ GMT_EV_HOLDER_END, GMT_HOLD_IOMMUFD, GMT_HOLD_END_CLOSE, 16, 1, 0x106000, 0x6000,
		  4000000 },
		{ GMT_EV_HOLDER_END, GMT_HOLD_IOURING_BUF, GMT_HOLD_END_EXIT, 14, 2, 0, 0x2000,
		  5000000 },
	};
	struct gmt_event e;
	unsigned int i;

	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		hdr(&e, h[i].type, i, VM_A, 4242, 11, h[i].fd, 0, h[i].held_ns);
		e.holder.kind = h[i].kind;
		e.holder.end = h[i].end;
		e.holder.ring_fd = h[i].fd;
		e.holder.index = h[i].index;
		e.holder.stack_id = -14;	/* no stack: the fields' rendering only */
		e.holder.gmem_ino = GMEM_INO;
		e.holder.gmem_offset = h[i].off;
		e.holder.len = 4096;
		e.holder.uaddr = 0x7f3a00000000ULL + h[i].off;
		e.holder.start_ns = T0_NS;
		e.holder.iova = h[i].iova;
		e.holder.id = 7 + h[i].kind;
		gmt_out_event(o, &e);
	}
}

static void render_events(struct gmt_out *o)
{
	struct gmt_event e;

	hdr(&e, GMT_EV_VM_CREATE, 0, VM_A, 4242, 11, 10, 11, 15300);
	e.vm_create.vm_type = GMT_KVM_X86_SW_PROTECTED_VM;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_GMEM_CREATE, 10, VM_A, 4242, 11, 11, 12, 8200);
	e.gmem_create.size = 2 << 20;
	e.gmem_create.flags = GMT_GUEST_MEMFD_FLAG_MMAP | GMT_GUEST_MEMFD_FLAG_INIT_SHARED;
	e.gmem_create.gmem_ino = GMEM_INO;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_GMEM_CREATE, 11, VM_A, 4242, 11, 11, -22, 900);
	e.gmem_create.size = 12345;
	e.gmem_create.flags = 0x100;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_MEMSLOT, 20, VM_A, 4242, 11, 11, 0, 41000);
	e.memslot.slot = 1;
	e.memslot.flags = GMT_KVM_MEM_GUEST_MEMFD;
	e.memslot.gpa = 0x100000000ULL;
	e.memslot.size = 2 << 20;
	e.memslot.uaddr = 0x7f3a40000000ULL;
	e.memslot.gmem_offset = 0x200000;
	e.memslot.gmem_ino = GMEM_INO;
	e.memslot.gmem_fd = 12;
	gmt_out_event(o, &e);

	/* G1 inside the slot: shown with its guest_memfd offset */
	hdr(&e, GMT_EV_CONVERT, 30, VM_A, 4242, 11, 11, 0, 2500);
	convert(&e, GMT_GEN_G1, GMT_KVM_SET_MEMORY_ATTRIBUTES, 0x100003000ULL, 4096,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	gmt_out_event(o, &e);

	/* G1 outside any slot: GPA only */
	hdr(&e, GMT_EV_CONVERT, 31, VM_A, 4242, 11, 11, 0, 1999);
	convert(&e, GMT_GEN_G1, GMT_KVM_SET_MEMORY_ATTRIBUTES, 0x80000000ULL, 8192, 0);
	gmt_out_event(o, &e);

	/* G2 blocked by a reference: EAGAIN with the kernel's error_offset */
	hdr(&e, GMT_EV_CONVERT, 40, VM_A, 4242, 11, 12, -11, 1500000);
	convert(&e, GMT_GEN_G2, GMT_KVM_GMEM_CONVERT_SHARED, 0x4000, 0x4000, 0);
	e.convert.has_error_offset = 1;
	e.convert.error_offset = 0x5000;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_CONVERT, 41, VM_A, 4242, 11, 12, 0, 3100);
	convert(&e, GMT_GEN_G2, GMT_KVM_GMEM_CONVERT_PRIVATE, 0x4000, 0x4000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	gmt_out_event(o, &e);

	/* G3, VM fd not known (found through guest_memfd), with in-kernel time */
	hdr(&e, GMT_EV_CONVERT, 50, VM_A, 4242, -1, 12, 0, 2200000000ULL);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0x1ff000, 0x1000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	e.convert.kernel_latency_ns = 1200;
	gmt_out_event(o, &e);

	/* G3 blocked, unknown VM, an errno without a name */
	hdr(&e, GMT_EV_CONVERT, 51, 0, -1, -1, 12, -11, 700);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0, 0x200000, 0);
	e.convert.flags = 0x1;
	e.convert.has_error_offset = 1;
	e.convert.error_offset = 0x1000;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_CONVERT, 52, 0, -1, -1, 12, -200, 650);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0, 0x1000, 0);
	gmt_out_event(o, &e);

	/* G3 to-private blocked by an io_uring pin, seen at the check itself by
	 * fexit on filemap_get_folios: 1026 = page cache 1 + batch 1 + pin 1024 */
	hdr(&e, GMT_EV_CONVERT, 53, VM_A, 4242, 11, 12, -11, 9000);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0x3000, 0x1000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	e.convert.source = GMT_SRC_FENTRY;
	e.convert.has_error_offset = 1;
	e.convert.error_offset = 0x3000;
	e.convert.kernel_latency_ns = 8000;
	e.convert.phase_ns[GMT_PH_KERNEL_ENTER] = 400;
	e.convert.phase_ns[GMT_PH_UNMAP] = 900;
	e.convert.phase_ns[GMT_PH_REFCOUNT] = 2100;
	e.convert.phase_ns[GMT_PH_LRU_DRAIN] = 2500;
	e.convert.phase_ns[GMT_PH_KERNEL_EXIT] = 8400;
	e.convert.folio = (struct gmt_folio_snap){ .index = 3, .refcount = 1026, .expected = 1,
		.mapcount = 0, .pincount = 1, .nr_pages = 1, .lru = 1, .exact = 1, .valid = 1 };
	gmt_out_event(o, &e);

	/* the same kind of block read after the fact on a tracepoint-only kernel:
	 * 3 = page cache 1 + a FOLL_GET 1 + the lru_add batch 1 (off the LRU) */
	hdr(&e, GMT_EV_CONVERT, 54, VM_A, 4242, 11, 12, -11, 7000);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0x7000, 0x1000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	e.convert.has_error_offset = 1;
	e.convert.error_offset = 0x7000;
	e.convert.folio = (struct gmt_folio_snap){ .index = 7, .refcount = 3, .expected = 1,
		.mapcount = 0, .pincount = 0, .nr_pages = 1, .lru = 0, .exact = 0, .valid = 1 };
	gmt_out_event(o, &e);

	/* FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, then a plain allocation */
	hdr(&e, GMT_EV_FALLOCATE, 60, VM_A, 4242, 11, 12, 0, 52000);
	e.fallocate.mode = 3;
	e.fallocate.offset = 0x1000;
	e.fallocate.len = 0x2000;
	e.fallocate.gmem_ino = GMEM_INO;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_FALLOCATE, 61, VM_A, 4242, 11, 12, -28, 999);
	e.fallocate.mode = 0;
	e.fallocate.offset = 0;
	e.fallocate.len = 0x200000;
	e.fallocate.gmem_ino = GMEM_INO;
	gmt_out_event(o, &e);

	/* a plain memslot, then slot 1 deleted: the GPA no longer translates */
	hdr(&e, GMT_EV_MEMSLOT, 70, VM_A, 4242, 11, 11, 0, 3000);
	e.memslot.slot = 0;
	e.memslot.gpa = 0;
	e.memslot.size = 0xa0000;
	e.memslot.uaddr = 0x7f3a00000000ULL;
	e.memslot.gmem_fd = -1;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_MEMSLOT, 71, VM_A, 4242, 11, 11, 0, 3000);
	e.memslot.slot = 1;
	e.memslot.gpa = 0x100000000ULL;
	e.memslot.gmem_fd = -1;
	gmt_out_event(o, &e);

	hdr(&e, GMT_EV_CONVERT, 80, VM_A, 4242, 11, 11, 0, 2400);
	convert(&e, GMT_GEN_G1, GMT_KVM_SET_MEMORY_ATTRIBUTES, 0x100003000ULL, 4096, 0);
	gmt_out_event(o, &e);
}

/* ---- stat snapshots ---- */

struct snap_store {
	struct gmt_stat_row rows[3];
	struct gmt_stat_err errs[3];
};

static struct snap_store *snap_mem;

static void add_lat(struct gmt_stats *s, __u64 ns, __u64 n)
{
	s->hist[gmt_hist_slot_of(ns)] += n;
	s->lat_sum_ns += ns * n;
	if (ns > s->lat_max_ns)
		s->lat_max_ns = ns;
}

static void fill_snapshot(struct gmt_stat_snapshot *snap)
{
	struct gmt_stat_row *r;

	memset(snap_mem, 0, sizeof(*snap_mem));
	memset(snap, 0, sizeof(*snap));
	snap->real_ns = 1748779200000000000ULL + 250000000ULL;
	snap->interval_s = 2.0;
	snap->rows = snap_mem->rows;
	snap->nr_rows = 3;
	snap->errs = snap_mem->errs;
	snap->nr_errs = 3;
	snap->counters[GMT_CNT_RB_DROPS] = 5;
	snap->counters[GMT_CNT_WRONG_FD] = 2;

	/* 4242-11 G1 to_private: 100 conversions, 2 failed */
	r = &snap->rows[0];
	r->key = (struct gmt_stats_key){ .vm_key = VM_A, .dir = GMT_DIR_TO_PRIVATE, .gen = GMT_GEN_G1 };
	r->delta.count = 100;
	r->delta.ok = 98;
	r->delta.bytes = 98 * 4096;
	r->delta.failed = 2;
	add_lat(&r->delta, 2000, 60);
	add_lat(&r->delta, 5000, 30);
	add_lat(&r->delta, 40000, 9);
	add_lat(&r->delta, 900000, 1);
	r->total = r->delta;
	r->total.count = 250;
	r->total.ok = 240;
	r->total.bytes = 240 * 4096;
	r->total.failed = 10;
	r->total.lat_max_ns = 900000;
	r->total.vm_pid = r->delta.vm_pid = 4242;
	r->total.vm_fd = r->delta.vm_fd = 11;

	/* 4242-11 G2 to_shared: blocked conversions */
	r = &snap->rows[1];
	r->key = (struct gmt_stats_key){ .vm_key = VM_A, .dir = GMT_DIR_TO_SHARED, .gen = GMT_GEN_G2 };
	r->delta.count = 10;
	r->delta.ok = 6;
	r->delta.bytes = 6 * 0x4000;
	r->delta.failed = 4;
	r->delta.blocked = 3;
	add_lat(&r->delta, 1500000, 10);
	r->total = r->delta;
	r->total.vm_pid = 4242;
	r->total.vm_fd = 11;
	snap->errs[0] = (struct gmt_stat_err){
		.key = { .vm_key = VM_A, .dir = GMT_DIR_TO_SHARED, .gen = GMT_GEN_G2, .err = 11 },
		.total = 5, .delta = 3 };
	snap->errs[1] = (struct gmt_stat_err){
		.key = { .vm_key = VM_A, .dir = GMT_DIR_TO_SHARED, .gen = GMT_GEN_G2, .err = 200 },
		.total = 1, .delta = 1 };
	/* an error of an earlier interval: in the totals, not in this one */
	snap->errs[2] = (struct gmt_stat_err){
		.key = { .vm_key = VM_A, .dir = GMT_DIR_TO_SHARED, .gen = GMT_GEN_G2, .err = 22 },
		.total = 2, .delta = 0 };

	/* 77-? G3 to_private: idle this interval */
	r = &snap->rows[2];
	r->key = (struct gmt_stats_key){ .vm_key = VM_B, .dir = GMT_DIR_TO_PRIVATE, .gen = GMT_GEN_G3 };
	r->total.vm_pid = 77;
	r->total.vm_fd = -1;
	r->total.count = 7;
	r->total.ok = 7;
	r->total.bytes = 7 * 4096;
	r->total.lat_max_ns = 12000;
}

/* a pinned hook enforcing two rules, and one in monitor mode whose maps
 * another build laid out (its rules unreadable) */
static const struct gmt_pol_live stat_pols[] = {
	{ .link_id = 12, .prog_id = 34, .prog = "gmt_pol_lsm", .pinned = true,
	  .readable = true, .mode = GMT_POL_ENFORCE, .nr_rules = 2,
	  .rules = { { .id = 7, .action = GMT_PA_DENY, .hits = 5, .denies = 5 },
		     { .id = 9, .action = GMT_PA_AUDIT, .hits = 2 },
		     { .id = 0, .action = GMT_PA_ALLOW, .hits = 11 } } },
	{ .link_id = 13, .prog_id = 35, .prog = "gmt_pol_fmod" },
};

static void render_stat(struct gmt_out *o)
{
	struct gmt_stat_snapshot snap = { 0 };

	/* the first interval, nothing converted yet */
	snap.real_ns = 1748779200000000000ULL;
	snap.interval_s = 1.0;
	gmt_out_stat(o, &snap, false);
	fill_snapshot(&snap);
	gmt_out_stat(o, &snap, false);
	snap.pols = stat_pols;
	snap.nr_pols = 2;
	gmt_out_stat(o, &snap, true);
}

/* ---- summary and lost ---- */

static void render_summary(struct gmt_out *o)
{
	struct gmt_trace_summary sum = { 0 };

	gmt_out_lost(o, 3, 3);
	gmt_out_lost(o, 5, 8);
	sum.events[GMT_EV_CONVERT] = 1234;
	sum.events[GMT_EV_GMEM_CREATE] = 2;
	sum.events[GMT_EV_MEMSLOT] = 4;
	sum.events[GMT_EV_FALLOCATE] = 17;
	sum.events[GMT_EV_VM_CREATE] = 1;
	sum.lost = 8;
	sum.counters[GMT_CNT_RB_DROPS] = 8;
	sum.counters[GMT_CNT_INFLIGHT_MISS] = 2;
	sum.counters[GMT_CNT_WRONG_FD] = 1;
	sum.duration_s = 12.5;
	sum.cmd_ran = true;
	sum.cmd_status = 0;
	gmt_out_summary(o, &sum);

	/* nothing seen, no command */
	memset(&sum, 0, sizeof(sum));
	sum.duration_s = 0.25;
	sum.cmd_status = -1;
	gmt_out_summary(o, &sum);
}

/* ---- JSON checks ---- */

/* every line one object with a "type"; returns the number of lines */
static int check_ndjson(const char *text, const char *want_type)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, "\n");
		char *line = strndup(p, len);
		json_object *obj, *type;

		assert_non_null(line);
		obj = json_tokener_parse(line);
		if (!obj || !json_object_is_type(obj, json_type_object))
			fail_msg("line %d is not a JSON object: %s", n + 1, line);
		if (!json_object_object_get_ex(obj, "type", &type) ||
		    !json_object_is_type(type, json_type_string))
			fail_msg("line %d has no \"type\": %s", n + 1, line);
		if (want_type && strcmp(json_object_get_string(type), want_type))
			fail_msg("line %d: type %s, want %s", n + 1,
				 json_object_get_string(type), want_type);
		json_object_put(obj);
		free(line);
		n++;
		p += len;
		if (*p != '\n')
			fail_msg("line %d does not end with a newline", n);
		p++;
	}
	return n;
}

static json_object *line_obj(const char *text, int idx)
{
	const char *p = text;

	while (idx-- > 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	{
		char *line = strndup(p, strcspn(p, "\n"));
		json_object *obj = json_tokener_parse(line);

		free(line);
		assert_non_null(obj);
		return obj;
	}
}

static __u64 get_u64(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		fail_msg("no \"%s\"", key);
	return json_object_get_uint64(v);
}

static const char *get_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		fail_msg("no string \"%s\"", key);
	return json_object_get_string(v);
}

static bool is_null(json_object *obj, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(obj, key, &v) && !v;
}

/* ---- tests ---- */

/* the records fn writes, as text in NAME.txt and as JSON in NAME.jsonl */
static void check_golden_formats(render_fn fn, const char *name)
{
	char file[64], *s = render(GMT_FMT_TEXT, fn);

	snprintf(file, sizeof(file), "%s.txt", name);
	check_golden(file, s);
	free(s);
	s = render(GMT_FMT_JSON, fn);
	snprintf(file, sizeof(file), "%s.jsonl", name);
	check_golden(file, s);
	free(s);
}

static void test_policy_records(void **state)
{
	check_golden_formats(render_policy, "policy");
}

static void test_holder_records(void **state)
{
	check_golden_formats(render_holders, "holders");
}

static void holder_start(struct gmt_out *o, __u64 dt_us, __u64 id, __s32 ring, __u32 index,
			 __u64 off, __u64 len)
{
	struct gmt_event e;

	hdr(&e, GMT_EV_HOLDER_START, dt_us, VM_A, 4242, 11, ring, 0, 0);
	e.holder.kind = GMT_HOLD_IOURING_BUF;
	e.holder.ring_fd = ring;
	e.holder.index = index;
	e.holder.stack_id = -14;	/* no stack map here: no frames */
	e.holder.gmem_ino = GMEM_INO;
	e.holder.gmem_offset = off;
	e.holder.len = len;
	e.holder.uaddr = 0x7f3a40000000ULL + off;
	e.holder.start_ns = e.hdr.ts_ns;
	e.holder.id = id;
	gmt_out_event(o, &e);
}

/* a G3 conversion refused at off, the check's exact folio snapshot */
static void blocked_at(struct gmt_out *o, __u64 dt_us, __u64 off, __u32 refcount)
{
	struct gmt_event e;

	hdr(&e, GMT_EV_CONVERT, dt_us, VM_A, 4242, 11, 12, -11, 900000);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0, 0x10000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	e.convert.has_error_offset = 1;
	e.convert.error_offset = off;
	e.convert.folio = (struct gmt_folio_snap){ .index = off >> 12, .refcount = refcount,
						   .expected = 1, .nr_pages = 1, .lru = 1,
						   .exact = 1, .valid = 1 };
	gmt_out_event(o, &e);
}

/* trace --holders: blocked conversions name their folio's holders */
static void render_blocked_holders(struct gmt_out *o)
{
	struct gmt_event e;

	o->model->holders_on = true;
	holder_start(o, 0, 1, 7, 0, 0x5000, 0x1000);
	holder_start(o, 1, 2, 8, 0, 0x6000, 0x2000);
	holder_start(o, 2, 3, 9, 3, 0x7000, 0x1000);
	/* one pin, its holder traced: all attributed */
	blocked_at(o, 10, 0x5000, 1026);
	/* two pins, both traced (two rings over the page) */
	blocked_at(o, 11, 0x7000, 2050);
	/* three pins and a GET: one traced, the rest held from before tracing */
	blocked_at(o, 12, 0x6000, 3075);
	/* the holder ends: the folio's pin is no longer attributed */
	hdr(&e, GMT_EV_HOLDER_END, 20, VM_A, 4242, 11, 7, 0, 0);
	e.holder.kind = GMT_HOLD_IOURING_BUF;
	e.holder.end = GMT_HOLD_END_UNREGISTER;
	e.holder.id = 1;
	gmt_out_event(o, &e);
	/* records were lost meanwhile: the record says its holders may be off */
	o->model->records_lost = 2;
	blocked_at(o, 21, 0x5000, 1026);
}

/* a symbolized stack on every holder, every phase seen: the record still
 * fits its line (frames that would not are left out, and said so) */
static void render_blocked_full(struct gmt_out *o)
{
	static struct gmt_held_stack st = { .refs = 1000 };
	struct gmt_event e;
	int i, p;

	o->model->holders_on = true;
	st.st.nr = 8;
	for (i = 0; i < 8; i++) {
		st.st.f[i].ip = 0x401000 + i * 0x111;
		snprintf(st.st.f[i].sym, sizeof(st.st.f[i].sym),
			 "a_rather_long_function_name_%d+0x%x[gmem-workload]", i, 0x10 * i);
	}
	for (i = 0; i < 6; i++)
		holder_start(o, i, 10 + i, 7 + i, i, 0x5000, 0x1000);
	for (i = 0; i < o->model->holders.nr; i++)
		o->model->holders.h[i].stack = &st;
	hdr(&e, GMT_EV_CONVERT, 20, VM_A, 4242, 11, 12, -11, 900000);
	convert(&e, GMT_GEN_G3, GMT_KVM_SET_MEMORY_ATTRIBUTES2, 0, 0x10000,
		GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE);
	e.convert.source = GMT_SRC_FENTRY;
	e.convert.kernel_latency_ns = 880000;
	for (p = 0; p < GMT_PH_MAX; p++)
		e.convert.phase_ns[p] = 1000 * (p + 1);
	e.convert.has_error_offset = 1;
	e.convert.error_offset = 0x5000;
	e.convert.folio = (struct gmt_folio_snap){ .index = 5, .refcount = 6 * 1024 + 2,
						   .expected = 1, .nr_pages = 1, .lru = 1,
						   .exact = 1, .valid = 1 };
	gmt_out_event(o, &e);
}

/* without --holders: the record says that --holders names them */
static void render_blocked_untraced(struct gmt_out *o)
{
	blocked_at(o, 10, 0x5000, 1026);
}

static void test_blocked_holders(void **state)
{
	char *t = render(GMT_FMT_TEXT, render_blocked_holders);
	char *j = render(GMT_FMT_JSON, render_blocked_holders);
	char *u = render(GMT_FMT_TEXT, render_blocked_untraced);
	char *uj = render(GMT_FMT_JSON, render_blocked_untraced);

	check_golden("blocked.txt", t);
	free(t);
	t = render(GMT_FMT_JSON, render_blocked_full);
	/* every line parses: nothing cut in half */
	assert_int_equal(check_ndjson(t, "event"), 7);
	check_golden("blocked_full.jsonl", t);
	free(t);
	t = render(GMT_FMT_TEXT, render_blocked_full);
	check_golden("blocked_full.txt", t);
	assert_int_equal(check_ndjson(j, "event"), 8);
	check_golden("blocked.jsonl", j);
	assert_non_null(strstr(u, " holders=? (--holders names them)"));
	assert_non_null(strstr(uj, "\"holders\":{\"traced\":false,"));
	free(t);
	free(j);
	free(u);
	free(uj);
}

static void test_events_text(void **state)
{
	char *s = render(GMT_FMT_TEXT, render_events);

	check_golden("events.txt", s);
	free(s);
}

static void test_events_text_iso(void **state)
{
	char path[] = "/tmp/gmt-output-XXXXXX";
	struct gmt_out o;
	struct gmt_event e;
	char *s;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(gmt_out_open(&o, GMT_FMT_TEXT, path), 0);
	o.real_off = REAL_OFF;
	o.iso_time = true;
	hdr(&e, GMT_EV_VM_CREATE, 0, VM_A, 4242, 11, 10, 11, 15300);
	gmt_out_event(&o, &e);
	gmt_out_close(&o);
	s = slurp(path, NULL);
	unlink(path);
	/* --iso-time: RFC 3339 UTC with ns, whatever TZ says */
	assert_true(!strncmp(s, "2025-06-01T12:00:00.000000123Z qemu-system-x86 4242/4250 ",
			     strlen("2025-06-01T12:00:00.000000123Z qemu-system-x86 4242/4250 ")));
	free(s);
}

static void test_events_json(void **state)
{
	char *s = render(GMT_FMT_JSON, render_events);

	assert_int_equal(check_ndjson(s, "event"), 18);
	check_golden("events.jsonl", s);
	free(s);
}

/* the facts the golden file encodes, spelled out for the important fields */
static void test_events_json_fields(void **state)
{
	char *s = render(GMT_FMT_JSON, render_events);
	json_object *o;

	/* line 4: G1 inside the memslot, translated */
	o = line_obj(s, 4);
	assert_string_equal(get_str(o, "event"), "convert");
	assert_string_equal(get_str(o, "gen"), "G1");
	assert_string_equal(get_str(o, "uapi"), "KVM_SET_MEMORY_ATTRIBUTES");
	assert_string_equal(get_str(o, "dir"), "to_private");
	assert_int_equal(get_u64(o, "gpa"), 0x100003000ULL);
	assert_int_equal(get_u64(o, "gmem_ino"), GMEM_INO);
	assert_int_equal(get_u64(o, "gmem_offset"), 0x200000 + 0x3000);
	assert_string_equal(get_str(o, "time"), "2025-06-01T12:00:00.000030123Z");
	assert_true(is_null(o, "errno"));
	json_object_put(o);

	/* line 5: G1 outside: no gmem fields at all */
	o = line_obj(s, 5);
	assert_false(json_object_object_get_ex(o, "gmem_ino", NULL));
	json_object_put(o);

	/* line 6: G2 EAGAIN */
	o = line_obj(s, 6);
	assert_string_equal(get_str(o, "gen"), "G2");
	assert_string_equal(get_str(o, "errno"), "EAGAIN");
	assert_true(json_object_get_boolean(json_object_object_get(o, "blocked")));
	assert_int_equal(get_u64(o, "error_offset"), 0x5000);
	assert_int_equal(get_u64(o, "gmem_offset"), 0x4000);
	json_object_put(o);

	/* line 8: G3 with kernel latency and VM "4242-?" */
	o = line_obj(s, 8);
	assert_string_equal(get_str(o, "uapi"), "KVM_SET_MEMORY_ATTRIBUTES2");
	assert_string_equal(get_str(o, "vm"), "4242-?");
	assert_int_equal(get_u64(o, "kernel_latency_ns"), 1200);
	assert_true(is_null(o, "error_offset"));
	json_object_put(o);

	/* line 11: G3 blocked, exact snapshot at the check: one pin, phases */
	o = line_obj(s, 11);
	assert_string_equal(get_str(o, "source"), "fentry");
	{
		json_object *f = json_object_object_get(o, "blocking_folio");
		json_object *ph = json_object_object_get(o, "phases_ns");

		assert_non_null(f);
		assert_int_equal(get_u64(f, "refcount"), 1026);
		assert_int_equal(get_u64(f, "pins"), 1);
		assert_int_equal(get_u64(f, "other"), 0);
		assert_int_equal(get_u64(f, "lru_batch"), 0);
		assert_true(json_object_get_boolean(json_object_object_get(f, "exact")));
		assert_int_equal(get_u64(ph, "refcount_check"), 2100);
		assert_int_equal(get_u64(ph, "lru_drain"), 2500);
	}
	json_object_put(o);

	/* line 12: read after the fact: a FOLL_GET and the lru_add batch */
	o = line_obj(s, 12);
	{
		json_object *f = json_object_object_get(o, "blocking_folio");

		assert_int_equal(get_u64(f, "pins"), 0);
		assert_int_equal(get_u64(f, "other"), 1);
		assert_int_equal(get_u64(f, "lru_batch"), 1);
		assert_false(json_object_get_boolean(json_object_object_get(f, "exact")));
	}
	json_object_put(o);

	/* line 17: same GPA as line 4 after slot 1 was deleted */
	o = line_obj(s, 17);
	assert_false(json_object_object_get_ex(o, "gmem_ino", NULL));
	json_object_put(o);
	free(s);
}

/* a process picks its own comm: escaped in both formats (escape.h) */
static void render_hostile(struct gmt_out *o)
{
	struct gmt_event e;

	hdr(&e, GMT_EV_GMEM_CREATE, 0, VM_A, 4242, 11, 11, -22, 900);
	memcpy(e.hdr.comm, "\xff\x1b[31m\n# x\"\\\x7f", 14);	/* with its NUL */
	e.gmem_create.size = 4096;
	gmt_out_event(o, &e);
}

static void render_hostile_error(struct gmt_out *o)
{
	gmt_out_error(o, "cgroup", "no such cgroup /sys/fs/cgroup/\x1b]0;owned\a\n# 0 events");
}

static void test_hostile_comm(void **state)
{
	char *t = render(GMT_FMT_TEXT, render_hostile);
	char *j = render(GMT_FMT_JSON, render_hostile), *file;
	char *err = capture_stderr(GMT_FMT_TEXT, render_hostile_error, &file);
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	size_t i;

	assert_string_equal(t, "12:00:00.000000 \\xff\\x1b[31m\\x0a#\\x20x\"\\\\\\x7f 4242/4250 "
			    "gmem_create vm=4242-11 size=4096 flags=0x0 ret=EINVAL lat=900ns\n");
	assert_string_equal(err, "gmemtrace: cgroup: no such cgroup /sys/fs/cgroup/\\x1b]0;owned"
			    "\\x07\\x0a# 0 events\n");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, j, (int)strcspn(j, "\n"));
	assert_non_null(o);
	assert_string_equal(get_str(o, "comm"), "\\xff\\x1b[31m\\x0a# x\"\\\\\\x7f");
	for (i = 0; j[i]; i++)
		assert_true((unsigned char)j[i] >= 0x20 || (j[i] == '\n' && !j[i + 1]));
	json_object_put(o);
	json_tokener_free(tok);
	free(t);
	free(j);
	free(err);
	free(file);
}

static void test_stat_text(void **state)
{
	char *s = render(GMT_FMT_TEXT, render_stat);

	check_golden("stat.txt", s);
	free(s);
}

static void test_stat_json(void **state)
{
	char *s = render(GMT_FMT_JSON, render_stat);
	json_object *o, *rows, *row, *errs;

	assert_int_equal(check_ndjson(s, "stat"), 3);
	check_golden("stat.jsonl", s);

	o = line_obj(s, 1);
	assert_true(json_object_object_get_ex(o, "rows", &rows));
	assert_int_equal(json_object_array_length(rows), 3);
	row = json_object_array_get_idx(rows, 0);
	/* percentiles never above the exact maximum */
	assert_true(get_u64(row, "p99_ns") <= get_u64(row, "max_ns"));
	assert_true(get_u64(row, "p50_ns") <= get_u64(row, "p90_ns"));
	row = json_object_array_get_idx(rows, 1);
	assert_true(json_object_object_get_ex(row, "errors", &errs));
	assert_int_equal(get_u64(errs, "EAGAIN"), 3);
	assert_int_equal(get_u64(errs, "200"), 1);
	assert_true(json_object_object_get_ex(row, "errors_total", &errs));
	assert_int_equal(get_u64(errs, "EINVAL"), 2);
	json_object_put(o);
	free(s);
}

/* a summary's and a loss's time is "now": check it, then mask it */
static void mask_times(char *s)
{
	struct timespec now;
	char *p = s;

	clock_gettime(CLOCK_REALTIME, &now);
	while ((p = strstr(p, "\"time\":\""))) {
		struct tm tm = { 0 };
		char *v = p + 8, *end = strchr(v, '"');
		time_t t;

		assert_non_null(end);
		assert_non_null(strptime(v, "%Y-%m-%dT%H:%M:%S", &tm));
		t = timegm(&tm);
		if (t < now.tv_sec - 60 || t > now.tv_sec + 60)
			fail_msg("record time %.*s is not now", (int)(end - v), v);
		memset(v, '*', end - v);
		p = end;
	}
}

static void test_summary_text(void **state)
{
	char *file, *err;

	err = capture_stderr(GMT_FMT_TEXT, render_summary, &file);
	/* summary lines are records; lost warnings go to stderr */
	check_golden("summary.txt", file);
	check_golden("lost.txt", err);
	free(file);
	free(err);
}

static void test_summary_json(void **state)
{
	char *s = render_real_off(GMT_FMT_JSON, render_summary, false), *err;
	json_object *o, *c;

	assert_int_equal(check_ndjson(s, NULL), 4);
	o = line_obj(s, 0);
	assert_string_equal(get_str(o, "type"), "lost_events");
	assert_int_equal(get_u64(o, "lost"), 3);
	json_object_put(o);
	o = line_obj(s, 2);
	assert_string_equal(get_str(o, "type"), "summary");
	assert_true(json_object_object_get_ex(o, "counters", &c));
	assert_int_equal(get_u64(c, "cmd_on_other_fd"), 1);
	assert_int_equal(get_u64(o, "command_status"), 0);
	json_object_put(o);
	o = line_obj(s, 3);
	assert_true(is_null(o, "command_status"));
	json_object_put(o);
	mask_times(s);
	check_golden("summary.jsonl", s);
	free(s);

	/* JSON keeps stderr clean */
	err = capture_stderr(GMT_FMT_JSON, render_summary, &s);
	assert_string_equal(err, "");
	free(err);
	free(s);
}

static void expect_fmt(void (*fmt)(char *, size_t, __u64), __u64 v, const char *want)
{
	char buf[32];

	fmt(buf, sizeof(buf), v);
	if (strcmp(buf, want))
		fail_msg("%llu shown as \"%s\", want \"%s\"", (unsigned long long)v, buf, want);
}

static void fmt_bytes_u64(char *buf, size_t len, __u64 v)
{
	gmt_fmt_bytes(buf, len, (double)v);
}

/* latencies and rates as the text columns show them, at unit boundaries */
/* enforce --unpin: a pinned set removed with a hook of a running enforce
 * still attached, one with an entry that could not be removed, none */
static void render_unpin(struct gmt_out *o)
{
	static const char *const removed[] = { "link", "prog", "link_gmt_ioctl_enter",
					       "gmt_vms" };
	static const struct gmt_unpin_hook_view hooks[] = { { "gmt_pol_lsm", 12, 34 } };
	static const struct gmt_unpin_failure_view failed[] = { { "gmt_pol_counts", EBUSY } };
	struct gmt_unpin_view all = {
		.ts_ns = T0_NS, .dir = "/sys/fs/bpf/gmemtrace", .removed = removed,
		.nr_removed_named = 4, .nr_removed = 4, .dir_removed = true,
		.attached = hooks, .nr_attached = 1,
	};
	struct gmt_unpin_view part = {
		.ts_ns = T0_NS + 1000, .dir = "/sys/fs/bpf/gmemtrace", .removed = removed,
		.nr_removed_named = 2, .nr_removed = 70, .failed = failed,
		.nr_failed_named = 1, .nr_failed = 1,
	};
	struct gmt_unpin_view none = { .ts_ns = T0_NS + 2000, .dir = "/sys/fs/bpf/gmemtrace" };

	gmt_out_unpin(o, &all);
	gmt_out_unpin(o, &part);
	gmt_out_unpin(o, &none);
}

static void test_unpin_records(void **state)
{
	char *file, *err, *s;

	err = capture_stderr(GMT_FMT_TEXT, render_unpin, &file);
	check_golden("unpin.txt", file);
	check_golden("unpin_err.txt", err);	/* what could not be removed */
	free(file);
	free(err);
	s = render(GMT_FMT_JSON, render_unpin);
	check_golden("unpin.jsonl", s);
	free(s);
}

static void test_units_at_boundaries(void **state)
{
	expect_fmt(gmt_fmt_ns, 0, "0ns");
	expect_fmt(gmt_fmt_ns, 999, "999ns");
	expect_fmt(gmt_fmt_ns, 1000, "1.00us");
	expect_fmt(gmt_fmt_ns, 1500000, "1.50ms");
	expect_fmt(gmt_fmt_ns, 2200000000ULL, "2.20s");
	expect_fmt(fmt_bytes_u64, 0, "0B");
	expect_fmt(fmt_bytes_u64, 1023, "1023B");
	expect_fmt(fmt_bytes_u64, 1024, "1.0KiB");
	expect_fmt(fmt_bytes_u64, 1536, "1.5KiB");
	expect_fmt(fmt_bytes_u64, 1ULL << 40, "1.0TiB");
	expect_fmt(fmt_bytes_u64, 1ULL << 50, "1024.0TiB");	/* no unit above */
	/* a value that rounds up to the next unit is shown in it */
	expect_fmt(gmt_fmt_ns, 999999, "1.00ms");
	expect_fmt(gmt_fmt_ns, 999999999, "1.00s");
	expect_fmt(fmt_bytes_u64, (1ULL << 20) - 1, "1.0MiB");
}

static int group_setup(void **state)
{
	/* text timestamps are local time: pin it */
	setenv("TZ", "UTC", 1);
	tzset();
	update_golden = getenv("GMT_UPDATE_GOLDEN") && !strcmp(getenv("GMT_UPDATE_GOLDEN"), "1");
	find_golden_dir();
	snap_mem = calloc(1, sizeof(*snap_mem));
	return snap_mem ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(snap_mem);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_text),
		cmocka_unit_test(test_blocked_holders),
		cmocka_unit_test(test_events_text_iso),
		cmocka_unit_test(test_events_json),
		cmocka_unit_test(test_policy_records),
		cmocka_unit_test(test_holder_records),
		cmocka_unit_test(test_events_json_fields),
		cmocka_unit_test(test_hostile_comm),
		cmocka_unit_test(test_stat_text),
		cmocka_unit_test(test_stat_json),
		cmocka_unit_test(test_summary_text),
		cmocka_unit_test(test_summary_json),
		cmocka_unit_test(test_units_at_boundaries),
		cmocka_unit_test(test_unpin_records),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
