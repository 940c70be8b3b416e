/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The option table, its documentation and parsing into struct cfg, with the
 * checks that need the whole command line
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

/* Checks and defaults of --guest, at the end of parsing */
static int guest_check(struct cfg *c, struct argp_state *state)
{
	if (!c->guest) {
		if (c->guest_fault) {
			argp_error(state, "--guest-fault needs --guest");
			return -EINVAL;
		}
		return 0;
	}
	if (c->bench) {
		argp_error(state, "--bench times the VMM's conversion loop; it does not go with --guest");
		return -EINVAL;
	}
	if (c->gpa_base % GUEST_PAGE || c->gmem_size % GUEST_PAGE) {
		argp_error(state, "--guest needs a page aligned --gpa-base and --gmem-size");
		return -EINVAL;
	}
	/* x86 guest physical addresses have at most 52 bits */
	if (c->gpa_base >= (1ULL << 52) || c->gmem_size > (1ULL << 52) - c->gpa_base) {
		argp_error(state, "--guest needs --gpa-base + --gmem-size below 2^52");
		return -EINVAL;
	}
	/* the guest drives: no VMM conversions, G1 serving, unless asked */
	if (!c->uapi_set)
		c->uapi = UAPI_G1;
	if (!c->conversions_set)
		c->conversions = 0;
	return 0;
}

enum {
	OPT_VMS = 0x100, OPT_VM_TYPE, OPT_GMEM_SIZE, OPT_GMEM_FLAGS, OPT_GPA_BASE,
	OPT_VCPU, OPT_CONVERSIONS, OPT_UAPI, OPT_SIZE, OPT_DIR, OPT_INTERVAL,
	OPT_PUNCH, OPT_ALLOCATE, OPT_TOUCH, OPT_TOUCH_AFTER, OPT_PIN, OPT_PIN_OFFSET, OPT_HOLD,
	OPT_HOLD_SIGNAL, OPT_UNPIN_SIGNAL, OPT_DMA_PER_PAGE, OPT_START_DELAY, OPT_WAIT_SIGNAL, OPT_JSON, OPT_JSON_OUT,
	OPT_NO_CALLS, OPT_MAX_CALLS, OPT_BENCH, OPT_GUEST, OPT_GUEST_FAULT,
	OPT_GUEST_TIMEOUT, OPT_GUEST_ABANDON,
	OPT_COMM, OPT_STORM, OPT_PIN_WITH, OPT_VFIO_DEVICE, OPT_RACE, OPT_IOAS_COPY, OPT_DMA_LOOP,
};

const char *argp_program_version = "gmem-workload " GMT_VERSION;

static const char args_doc[] = "";

static const char doc[] =
"gmem-workload -- drive KVM guest_memfd shared<->private conversions\n"
"\n"
"Creates VMs with a guest_memfd and a memslot, then issues conversions through\n"
"the three uAPI generations: G1 KVM_SET_MEMORY_ATTRIBUTES (VM fd), G2\n"
"KVM_GMEM_CONVERT_SHARED/PRIVATE and G3 KVM_SET_MEMORY_ATTRIBUTES2 (guest_memfd\n"
"fd). Every ioctl result is recorded; ENOTTY from a kernel that lacks an ioctl\n"
"is data, not an error. --guest N runs a tiny guest on a vCPU of VM 0 that asks\n"
"for N conversions with KVM_HC_MAP_GPA_RANGE hypercalls, served here. Order:\n"
"setup, --allocate, --touch, --pin, --start-delay-ms/--wait-signal,\n"
"--dma-loop, conversions, guest, --punch, --hold, release.\n"
"\n"
"SIZE accepts a K, M or G suffix; numbers may be given in hex (0x...).";

static const char doc_after[] =
"EXIT STATUS:\n"
"  0  done, whatever the ioctls returned\n"
"  1  runtime or setup error (e.g. KVM_CREATE_VM failed, output not writable)\n"
"  2  usage error (bad option or value)\n"
"  3  KVM not available (/dev/kvm missing or not openable)\n"
"\n"
"EXAMPLES:\n"
"  gmem-workload --json\n"
"      defaults: 1 VM, 2M guest_memfd, 16 rounds of G1+G2+G3, alternating\n"
"  gmem-workload --vms 3 --uapi g1 --dir private --conversions 100\n"
"  gmem-workload --pin 4 --hold 10 --uapi g3 --dir private --json\n"
"      pin 4 guest_memfd pages with io_uring, convert them, keep pins 10 s\n"
"  gmem-workload --pin 1 --pin-offset 0x5000 --pin-with vfio --hold-until-signal\n"
"      map page 5 for device DMA through VFIO type1 (the one device bound to\n"
"      vfio-pci) at IOVA 0x100000 + 0x5000, until SIGUSR1/SIGTERM\n"
"  gmem-workload --in-place --pin-pages 5 --pin-with iommufd --scenario block-retry\n"
"      the same page held by an iommufd IOAS area (device cdev attached); the\n"
"      conversion to private gets EAGAIN, the area is unmapped, the retry succeeds\n"
"  gmem-workload --pin 1 --pin-offset 0x5000 --pin-with iommufd --ioas-copy dst\n"
"      map page 5 into an IOAS, copy it into a second one at IOVA 0x1105000\n"
"      and attach the device there: only the copy pins the page\n"
"  gmem-workload --pin-with vfio --dma-loop 10000 --conversions 0 --json\n"
"      10000 VFIO map+unmap pairs of an anonymous page: dma.loop.ns_per_pair\n"
"  gmem-workload --wait-signal --json-out /tmp/wl.json &\n"
"      prints 'ready <pid>' on stderr; kill -USR1 <pid> starts the conversions\n"
"  gmem-workload --bench --uapi g1 --conversions 200000\n"
"      one JSON line with total_ns and ns_per_call\n"
"  gmem-workload --guest 8 --guest-fault --json\n"
"      a guest asks for 8 conversions by hypercall, then takes a memory fault\n";

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "VM setup:", 1 },
	{ "vms", OPT_VMS, "N", 0, "number of VMs (default 1)", 1 },
	{ "vm-type", OPT_VM_TYPE, "TYPE",  0,
	  "auto|default|sw-protected|NUMBER (default auto: sw-protected when "
	  "KVM_CAP_VM_TYPES has bit 1)", 1 },
	{ "gmem-size", OPT_GMEM_SIZE, "SIZE", 0, "guest_memfd size (default 2M)", 1 },
	{ "gmem-flags", OPT_GMEM_FLAGS, "N", 0,
	  "force the guest_memfd create flags (default: MMAP|INIT_SHARED as "
	  "supported, falling back to MMAP, then 0)", 1 },
	{ "gpa-base", OPT_GPA_BASE, "ADDR", 0, "memslot guest physical address "
	  "(default 0x100000000)", 1 },
	{ "vcpu", OPT_VCPU, NULL, 0, "also create vCPU 0 per VM", 1 },

	{ NULL, 0, NULL, 0, "Conversions:", 2 },
	{ "conversions", OPT_CONVERSIONS, "K", 0, "rounds per VM (default 16)", 2 },
	{ "uapi", OPT_UAPI, "LIST", 0, "g1,g2,g3 or all (default all)", 2 },
	{ "size", OPT_SIZE, "SIZE", 0, "bytes per conversion (default 4096; "
	  "unaligned sizes are allowed to provoke EINVAL)", 2 },
	{ "dir", OPT_DIR, "DIR", 0, "private|shared|alternate (default "
	  "alternate, starting with to-private)", 2 },
	{ "interval-us", OPT_INTERVAL, "U", 0, "sleep between conversions "
	  "(default 0)", 2 },

	{ NULL, 0, NULL, 0, "guest_memfd operations:", 3 },
	{ "punch", OPT_PUNCH, "N", 0, "N fallocate(PUNCH_HOLE|KEEP_SIZE) per VM "
	  "after the conversions", 3 },
	{ "allocate", OPT_ALLOCATE, "N", 0, "N fallocate(KEEP_SIZE) per VM "
	  "before the conversions", 3 },
	{ "touch", OPT_TOUCH, NULL, 0, "mmap each guest_memfd and write one byte "
	  "per page (SIGBUS is caught and recorded)", 3 },
	{ "touch-after", OPT_TOUCH_AFTER, NULL, 0, "the same after the conversions: "
	  "the first private page is the first SIGBUS", 3 },
	{ "pin", OPT_PIN, "PAGES", 0, "pin PAGES pages of VM 0's guest_memfd as "
	  "io_uring fixed buffers", 3 },
	{ "pin-offset", OPT_PIN_OFFSET, "OFF", 0, "guest_memfd offset of the "
	  "first pinned page (default 0)", 3 },
	{ "pin-with", OPT_PIN_WITH, "HOW", 0, "what holds --pin's and --pin-pages' "
	  "pages: io_uring (fixed buffers, the default), vfio (VFIO type1 "
	  "VFIO_IOMMU_MAP_DMA on a container) or iommufd (IOMMU_IOAS_MAP on an IOAS "
	  "the device's vfio cdev is attached to); DMA pins map at IOVA 0x100000 + "
	  "the guest_memfd offset and need a device bound to vfio-pci behind an IOMMU", 3 },
	{ "dma-per-page", OPT_DMA_PER_PAGE, NULL, 0, "with --pin and --pin-with vfio "
	  "or iommufd: one DMA mapping per page instead of one over the range (many "
	  "mappings in one container or IOAS; the release unmaps them at once)", 3 },
	{ "dma-loop", OPT_DMA_LOOP, "N", 0, "with --pin-with vfio or iommufd: "
	  "before the conversions, map and unmap one anonymous page for device "
	  "DMA N times at IOVA 0xc0000000, timed (dma.loop in the report): what a "
	  "tracer adds to a device mapping that is not of guest memory; --pin may "
	  "be left out", 3 },
	{ "vfio-device", OPT_VFIO_DEVICE, "BDF", 0, "the PCI device for --pin-with "
	  "vfio|iommufd (e.g. 0000:00:03.0; default: the one device bound to vfio-pci)", 3 },
	{ "ioas-copy", OPT_IOAS_COPY, "WHERE", 0, "with --pin-with iommufd: a second "
	  "IOAS, and each mapping copied into it (IOMMU_IOAS_COPY) at its IOVA + "
	  "0x1000000; the device is attached to WHERE: src (the first IOAS: the copy "
	  "pins nothing more) or dst (the second: only the copy pins). The release "
	  "unmaps the copy first", 3 },

	{ "race", OPT_RACE, "N", 0, "N to-private conversions of VM 0 (G1, else G3) "
	  "while another thread flips the argument's size between --size and "
	  "twice it (a policy hook's TOCTOU)", 3 },
	{ "gmem-create-storm", OPT_STORM, "N", 0, "N KVM_CREATE_GUEST_MEMFD calls "
	  "with invalid flags (each fails with EINVAL) on VM 0, before the "
	  "conversions: a storm of records for a tracer", 3 },

	{ NULL, 0, NULL, 0, "Guest-initiated conversions:", 4 },
	{ "guest", OPT_GUEST, "N", 0, "run a guest on a vCPU of VM 0 that asks for "
	  "N one-page conversions with KVM_HC_MAP_GPA_RANGE (direction from --dir); "
	  "each is served with the --uapi conversion (default g1) and KVM_RUN "
	  "again; --conversions defaults to 0", 4 },
	{ "guest-fault", OPT_GUEST_FAULT, NULL, 0, "then the guest asks for a page "
	  "of its own plain memory to be private and reads it: a "
	  "KVM_EXIT_MEMORY_FAULT, served by converting the page back to shared", 4 },
	{ "guest-timeout", OPT_GUEST_TIMEOUT, "SECONDS", 0, "stop the guest after "
	  "SECONDS (default 60 + 1 per 1000 requests, 0: never)", 4 },
	{ "guest-abandon", OPT_GUEST_ABANDON, NULL, 0, "leave the guest's first "
	  "request unanswered: no conversion, no KVM_RUN again, the VMM exits (a "
	  "tracer must report it as incomplete)", 4 },

	{ NULL, 0, NULL, 0, "Start and hold control:", 5 },
	{ "start-delay-ms", OPT_START_DELAY, "MS", 0, "sleep after setup, before "
	  "the conversions", 5 },
	{ "wait-signal", OPT_WAIT_SIGNAL, NULL, 0, "print 'ready <pid>' on stderr "
	  "and wait for SIGUSR1 before the conversions", 5 },
	{ "hold", OPT_HOLD, "SECONDS", 0, "keep everything (pins included) alive "
	  "SECONDS before exiting; prints 'holding <pid>' on stderr (SIGUSR1 or "
	  "SIGTERM end it early)", 5 },
	{ "hold-until-signal", OPT_HOLD_SIGNAL, NULL, 0, "hold until SIGUSR1 or "
	  "SIGTERM", 5 },
	{ "unpin-on-signal", OPT_UNPIN_SIGNAL, NULL, 0, "while holding, the first "
	  "SIGUSR1 releases the pins (prints 'unpinned <pid>' on stderr) and the "
	  "hold goes on until SIGTERM or its end", 5 },

	{ "comm", OPT_COMM, "NAME", 0, "set this process's name (comm) to the raw "
	  "bytes of NAME with prctl(PR_SET_NAME) first (the kernel keeps 15 "
	  "bytes): tests of how tracers print hostile names", 5 },

	{ NULL, 0, NULL, 0, "Output:", 6 },
	{ "json", OPT_JSON, NULL, 0, "print one JSON document on stdout", 6 },
	{ "json-out", OPT_JSON_OUT, "FILE", 0, "write the JSON document to FILE", 6 },
	{ "no-calls", OPT_NO_CALLS, NULL, 0, "do not list each call (\"calls\" "
	  "is null; the summary still counts them)", 6 },
	{ "max-calls", OPT_MAX_CALLS, "N", 0, "list at most N calls (default "
	  "100000; the rest are counted in calls_truncated)", 6 },
	{ "bench", OPT_BENCH, NULL, 0, "print only one JSON line with the "
	  "conversion loop's total_ns and ns_per_call (implies --no-calls)", 6 },
	{ NULL, 0, NULL, 0, NULL, 0 },
};

void cfg_init(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->vms = 1;
	c->vm_type = -1;
	c->gmem_size = 2ULL << 20;
	c->gpa_base = 0x100000000ULL;
	c->conversions = 16;
	c->uapi = UAPI_ALL;
	c->size = 4096;
	c->dir = DIR_ALTERNATE;
	c->max_calls = GMW_DEF_MAX_CALLS;
	c->guest_timeout_s = GMW_GUEST_TIMEOUT_AUTO;
}

/* argp_error exits with argp_err_exit_status (2) unless ARGP_NO_EXIT */
error_t bad_value(struct argp_state *state, const char *opt, const char *arg)
{
	argp_error(state, "invalid value for --%s: '%s'", opt, arg);
	return EINVAL;
}

#define NO_SET		SIZE_MAX
#define CFG(field)	offsetof(struct cfg, field)

/* An option with a number: its __u64 field, range, and a bool it sets */
struct num_opt {
	int key;
	const char *name;
	size_t off;
	size_t set_off;		/* bool set when given, NO_SET: none */
	bool suffix;		/* K, M, G allowed */
	__u64 min, max;
};

static const struct num_opt num_opts[] = {
	{ OPT_GMEM_SIZE, "gmem-size", CFG(gmem_size), NO_SET, true, 1, UINT64_MAX },
	{ OPT_GMEM_FLAGS, "gmem-flags", CFG(gmem_flags), CFG(gmem_flags_set), false, 0,
	  UINT64_MAX },
	{ OPT_GPA_BASE, "gpa-base", CFG(gpa_base), NO_SET, true, 0, UINT64_MAX },
	{ OPT_CONVERSIONS, "conversions", CFG(conversions), CFG(conversions_set), false, 0,
	  UINT64_MAX },
	{ OPT_SIZE, "size", CFG(size), NO_SET, true, 1, UINT64_MAX },
	{ OPT_INTERVAL, "interval-us", CFG(interval_us), NO_SET, false, 0, 3600000000ULL },
	{ OPT_PUNCH, "punch", CFG(punch), NO_SET, false, 0, GMW_MAX_FOPS },
	{ OPT_ALLOCATE, "allocate", CFG(allocate), NO_SET, false, 0, GMW_MAX_FOPS },
	{ OPT_PIN, "pin", CFG(pin_pages), NO_SET, false, 1, GMW_MAX_PIN_PAGES },
	{ OPT_PIN_OFFSET, "pin-offset", CFG(pin_offset), NO_SET, true, 0, UINT64_MAX },
	{ OPT_HOLD, "hold", CFG(hold_s), NO_SET, false, 0, 86400ULL * 365 },
	{ OPT_START_DELAY, "start-delay-ms", CFG(start_delay_ms), NO_SET, false, 0,
	  86400000ULL },
	{ OPT_MAX_CALLS, "max-calls", CFG(max_calls), NO_SET, false, 0, UINT64_MAX },
	{ OPT_GUEST, "guest", CFG(guest), NO_SET, false, 1, GMW_MAX_GUEST },
	{ OPT_GUEST_TIMEOUT, "guest-timeout", CFG(guest_timeout_s), NO_SET, false, 0, 86400 },
	{ OPT_STORM, "gmem-create-storm", CFG(gmem_create_storm), NO_SET, false, 0,
	  100000000ULL },
	{ OPT_RACE, "race", CFG(race), NO_SET, false, 0, 100000000ULL },
	{ OPT_DMA_LOOP, "dma-loop", CFG(dma_loop), NO_SET, false, 1, 100000000ULL },
};

/* Options without an argument: the bool they set */
static const struct {
	int key;
	size_t off;
} flag_opts[] = {
	{ OPT_VCPU, CFG(vcpu) },
	{ OPT_TOUCH, CFG(touch) },
	{ OPT_TOUCH_AFTER, CFG(touch_after) },
	{ OPT_UNPIN_SIGNAL, CFG(unpin_on_signal) },
	{ OPT_HOLD_SIGNAL, CFG(hold_until_signal) },
	{ OPT_DMA_PER_PAGE, CFG(dma_per_page) },
	{ OPT_WAIT_SIGNAL, CFG(wait_signal) },
	{ OPT_JSON, CFG(json) },
	{ OPT_NO_CALLS, CFG(no_calls) },
	{ OPT_GUEST_FAULT, CFG(guest_fault) },
	{ OPT_GUEST_ABANDON, CFG(guest_abandon) },
};

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* 0 done, EINVAL bad value, ARGP_ERR_UNKNOWN: no table has the key */
static error_t parse_table_opt(int key, const char *arg, struct argp_state *state,
			       struct cfg *c)
{
	unsigned int i;
	__u64 v;

	for (i = 0; i < ARRAY_LEN(flag_opts); i++) {
		if (flag_opts[i].key == key) {
			*(bool *)((char *)c + flag_opts[i].off) = true;
			return 0;
		}
	}
	for (i = 0; i < ARRAY_LEN(num_opts); i++) {
		const struct num_opt *n = &num_opts[i];

		if (n->key != key)
			continue;
		if (parse_u64(arg, n->suffix, &v) || v < n->min || v > n->max)
			return bad_value(state, n->name, arg);
		*(__u64 *)((char *)c + n->off) = v;
		if (n->set_off != NO_SET)
			*(bool *)((char *)c + n->set_off) = true;
		return 0;
	}
	return ARGP_ERR_UNKNOWN;
}

/* --pin and --pin-offset against --gmem-size, at the end of parsing */
static int pin_check(const struct cfg *c, struct argp_state *state)
{
	long ps = sysconf(_SC_PAGESIZE);
	__u64 page = ps > 0 ? (__u64)ps : 4096;

	if (c->vfio_device && c->pin_with == PIN_IOURING) {
		argp_error(state, "--vfio-device needs --pin-with vfio or iommufd");
		return EINVAL;
	}
	if (c->ioas_copy && c->pin_with != PIN_IOMMUFD) {
		argp_error(state, "--ioas-copy needs --pin-with iommufd");
		return EINVAL;
	}
	if (c->dma_per_page && (c->pin_with == PIN_IOURING || !c->pin_pages)) {
		argp_error(state, "--dma-per-page needs --pin and --pin-with vfio or iommufd");
		return EINVAL;
	}
	if (c->dma_loop && c->pin_with == PIN_IOURING) {
		argp_error(state, "--dma-loop needs --pin-with vfio or iommufd");
		return EINVAL;
	}
	if (c->pin_with != PIN_IOURING && !c->pin_pages && !c->scn.npins && !c->dma_loop) {
		argp_error(state, "--pin-with needs --pin, --pin-pages or --dma-loop");
		return EINVAL;
	}
	if (!c->pin_pages) {
		if (c->pin_offset) {
			argp_error(state, "--pin-offset needs --pin");
			return EINVAL;
		}
		return 0;
	}
	if (c->pin_offset % page) {
		argp_error(state, "--pin-offset must be page aligned");
		return EINVAL;
	}
	if (c->pin_offset >= c->gmem_size || c->pin_pages > (c->gmem_size - c->pin_offset) / page) {
		argp_error(state, "--pin %llu pages at offset %llu do not fit in --gmem-size %llu",
			   (unsigned long long)c->pin_pages, (unsigned long long)c->pin_offset,
			   (unsigned long long)c->gmem_size);
		return EINVAL;
	}
	return 0;
}

/* Options with a value that is not a plain number, and argp's own keys */
static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	struct cfg *c = state->input;
	error_t err = parse_table_opt(key, arg, state, c);
	__u64 v;

	if (err != ARGP_ERR_UNKNOWN)
		return err;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &c->scn;
		break;
	case OPT_VMS:
		if (parse_u64(arg, false, &v) || !v || v > GMW_MAX_VMS)
			return bad_value(state, "vms", arg);
		c->vms = (unsigned int)v;
		break;
	case OPT_VM_TYPE:
		if (parse_vm_type(arg, &c->vm_type))
			return bad_value(state, "vm-type", arg);
		break;
	case OPT_UAPI:
		if (parse_uapi(arg, &c->uapi))
			return bad_value(state, "uapi", arg);
		c->uapi_set = true;
		break;
	case OPT_DIR:
		if (parse_dir(arg, &c->dir))
			return bad_value(state, "dir", arg);
		break;
	case OPT_JSON_OUT:
	case OPT_COMM:
		if (!*arg)
			return bad_value(state, key == OPT_COMM ? "comm" : "json-out", arg);
		*(key == OPT_COMM ? &c->comm : &c->json_out) = arg;
		break;
	case OPT_PIN_WITH:
		if (parse_pin_with(arg, &c->pin_with))
			return bad_value(state, "pin-with", arg);
		break;
	case OPT_IOAS_COPY:
		if (parse_ioas_copy(arg, &c->ioas_copy))
			return bad_value(state, "ioas-copy", arg);
		break;
	case OPT_VFIO_DEVICE:
		if (!*arg)
			return bad_value(state, "vfio-device", arg);
		c->vfio_device = arg;
		break;
	case OPT_BENCH:
		c->bench = true;
		c->no_calls = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "unexpected argument '%s'", arg);
		return EINVAL;
	case ARGP_KEY_END:
		if (pin_check(c, state) || guest_check(c, state) || scn_check(c, state))
			return EINVAL;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child argp_children[] = {
	{ &scn_argp, 0, NULL, 7 },
	{ NULL, 0, NULL, 0 },
};

static const struct argp argp = {
	.options = options,
	.parser = parse_opt,
	.children = argp_children,
	.args_doc = args_doc,
	.doc = NULL,	/* set in parse_args: doc "\v" doc_after */
};

/* Returns 0 or an errno; flags are argp_parse flags (tests pass ARGP_SILENT) */
int parse_args(int argc, char **argv, struct cfg *c, unsigned int flags)
{
	static char full_doc[sizeof(doc) + sizeof(doc_after) + 1];
	struct argp a = argp;

	snprintf(full_doc, sizeof(full_doc), "%s\v%s", doc, doc_after);
	a.doc = full_doc;
	argp_err_exit_status = EXIT_USAGE;
	cfg_init(c);
	return argp_parse(&a, argc, argv, flags, NULL, c);
}
