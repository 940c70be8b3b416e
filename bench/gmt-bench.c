// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmt-bench: what gmemtrace costs a conversion ioctl, and every other syscall.
 *
 * One process, one VM fd, one CPU. Each round measures every configuration
 * once (order rotated per round so drift and warm-up effects spread evenly):
 *
 *   bare   nothing attached
 *   empty  empty BPF programs on gmemtrace's four syscall tracepoints: the
 *          floor of the mechanism, what any tracer at this hook pays
 *   stat   `gmemtrace stat 3600 -o /dev/null` running (in-kernel aggregates)
 *   trace  `gmemtrace trace -o /dev/null` running (one record per conversion,
 *          consumed and formatted by its user space)
 *
 * A loop's figure is the median of CHUNKS timed pieces (robust to a preemption
 * on a shared machine); the table shows medians over rounds, the cost each
 * configuration adds over bare (paired within a round), and that cost relative
 * to what the empty programs add. A last pass with BPF run-time statistics
 * gives ns per program run, to show where the time goes.
 *
 * Exit: 0 done (targets missed too, unless --strict: then 1), 1 runtime
 * error, 2 usage, 3 cannot run here (not root, no /dev/kvm).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "empty.skel.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define EXIT_CANNOT	3

#define MAX_ROUNDS	64
#define CHUNKS		20	/* timed pieces of each loop */
#define MAX_PROGS	16
#define STAT_TARGET	1.5
#define TRACE_TARGET	2.0

enum cfg { CFG_BARE, CFG_EMPTY, CFG_STAT, CFG_TRACE, CFG_MAX };
static const char *const cfg_name[CFG_MAX] = { "bare", "empty", "stat", "trace" };

static struct {
	long iters;
	int rounds;
	int cpu;
	bool json;
	bool strict;
	bool same_cpu;
	bool prog_stats;
	bool verbose;
	bool records;		/* the per-record cost and storm phases */
	long rec_n;		/* conversions in the per-record phase */
	long rate;		/* ... issued at this many per second */
	long storm;		/* failing KVM_CREATE_GUEST_MEMFD calls */
	const char *gmemtrace;
} opt = {
	.records = true,
	.rec_n = 400000,
	.rate = 500000,
	.storm = 200000,
	.iters = 200000,
	.rounds = 9,
	.cpu = -1,
	.prog_stats = true,
};

/* what the conversion ioctl returned: index 0 is success, else errno */
static unsigned long ret_counts[4096];
static unsigned long long issued;	/* conversion ioctls so far */

static cpu_set_t tracer_cpus;
static int vm_fd = -1, vm_type = -1;

/* the tracer attached for the current measurement */
struct tracer {
	enum cfg cfg;
	struct empty_bpf *skel;
	pid_t pid;
	int errfd;		/* the child's stderr */
	char tail[2048];	/* last bytes of it, for error messages */
	size_t tail_len;
	__u64 cpu_at_attach;	/* its CPU time once attached, ns */
};

static pid_t current_child = -1;

struct prog_sample {
	__u32 id;
	char name[BPF_OBJ_NAME_LEN];
	__u64 cnt, ns;
};

struct progset {
	int n;
	struct prog_sample p[MAX_PROGS];
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: gmt-bench [OPTION...]\n"
"Overhead of gmemtrace on KVM_SET_MEMORY_ATTRIBUTES and on getppid(2),\n"
"against nothing attached and against empty BPF programs on the same hooks.\n"
"Must run as root (exit 3 otherwise).\n"
"\n"
"  --gmemtrace PATH  the gmemtrace binary (default: ../gmemtrace next to this one)\n"
"  --iters N         syscalls per timed loop (default 200000)\n"
"  --rounds N        rounds over all configurations (default 9, max %d)\n"
"  --quick           smoke run: 20000 iterations, 3 rounds\n"
"  --cpu N           CPU the loops run on (default: the last allowed one)\n"
"  --same-cpu        run gmemtrace on that CPU too (default: on the others),\n"
"                    so its user space work is charged to the loop (loops\n"
"                    are then timed as a whole, not as a median of chunks)\n"
"  --no-prog-stats   skip the pass that measures ns per BPF program run\n"
"  --json            also print one JSON line with every number\n"
"  --strict          exit 1 when stat or trace misses its target\n"
"  --records N       conversions in the per-record cost phase (default 400000)\n"
"  --rate N          ... issued at N per second (default 500000)\n"
"  --storm N         failing KVM_CREATE_GUEST_MEMFD calls in the storm phase\n"
"                    (default 200000)\n"
"  --no-records      skip the per-record cost and storm phases\n"
"  -v, --verbose     per-round numbers\n"
"  -h, --help\n", MAX_ROUNDS);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum { O_GMT = 0x100, O_ITERS, O_ROUNDS, O_QUICK, O_CPU, O_SAME, O_NOPS, O_JSON,
	       O_STRICT, O_NOREC, O_RECN, O_RATE, O_STORM };
	static const struct option lo[] = {
		{ "gmemtrace", required_argument, NULL, O_GMT },
		{ "iters", required_argument, NULL, O_ITERS },
		{ "rounds", required_argument, NULL, O_ROUNDS },
		{ "quick", no_argument, NULL, O_QUICK },
		{ "cpu", required_argument, NULL, O_CPU },
		{ "same-cpu", no_argument, NULL, O_SAME },
		{ "no-prog-stats", no_argument, NULL, O_NOPS },
		{ "json", no_argument, NULL, O_JSON },
		{ "strict", no_argument, NULL, O_STRICT },
		{ "no-records", no_argument, NULL, O_NOREC },
		{ "records", required_argument, NULL, O_RECN },
		{ "rate", required_argument, NULL, O_RATE },
		{ "storm", required_argument, NULL, O_STORM },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool quick = false, iters_set = false, rounds_set = false, rec_set = false;
	bool storm_set = false;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case O_GMT:
			opt.gmemtrace = optarg;
			break;
		case O_ITERS:
			if (parse_long(optarg, 1000, 100000000, &v))
				goto bad;
			opt.iters = v;
			iters_set = true;
			break;
		case O_ROUNDS:
			if (parse_long(optarg, 1, MAX_ROUNDS, &v))
				goto bad;
			opt.rounds = v;
			rounds_set = true;
			break;
		case O_QUICK:
			quick = true;
			break;
		case O_CPU:
			if (parse_long(optarg, 0, CPU_SETSIZE - 1, &v))
				goto bad;
			opt.cpu = v;
			break;
		case O_SAME:
			opt.same_cpu = true;
			break;
		case O_NOPS:
			opt.prog_stats = false;
			break;
		case O_JSON:
			opt.json = true;
			break;
		case O_STRICT:
			opt.strict = true;
			break;
		case O_NOREC:
			opt.records = false;
			break;
		case O_RECN:
			if (parse_long(optarg, 1000, 100000000, &v))
				goto bad;
			opt.rec_n = v;
			rec_set = true;
			break;
		case O_RATE:
			if (parse_long(optarg, 1000, 100000000, &v))
				goto bad;
			opt.rate = v;
			break;
		case O_STORM:
			if (parse_long(optarg, 1000, 100000000, &v))
				goto bad;
			opt.storm = v;
			storm_set = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "gmt-bench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (quick) {
		if (!iters_set)
			opt.iters = 20000;
		if (!rounds_set)
			opt.rounds = 3;
		if (!rec_set)
			opt.rec_n = 50000;
		if (!storm_set)
			opt.storm = 20000;
	}
	return 0;
bad:
	fprintf(stderr, "gmt-bench: invalid value '%s' for --%s\n", optarg, lo[c - O_GMT].name);
	return -1;
}

/* ---- the measured loops ---- */

static void run_ioctls(long n)
{
	static struct gmt_kvm_memory_attributes attr = { .address = 0, .size = 4096 };
	static unsigned long seq;
	long i;

	issued += n;
	for (i = 0; i < n; i++) {
		/* alternate so a conversion-capable kernel does real work each time */
		attr.attributes = (seq++ & 1) ? GMT_KVM_MEMORY_ATTRIBUTE_PRIVATE : 0;
		if (ioctl(vm_fd, GMT_KVM_SET_MEMORY_ATTRIBUTES, &attr) == 0)
			ret_counts[0]++;
		else
			ret_counts[(unsigned int)errno < 4096 ? errno : 4095]++;
	}
}

static void run_getppid(long n)
{
	long i;

	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static long nivcsw(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nivcsw;
}

static double median(const double *v, int n);

/*
 * ns per call over n calls, as the median of CHUNKS equal chunks: on a shared
 * machine a preemption or an interrupt burst then spoils one chunk, not the
 * result. With --same-cpu the mean over all chunks instead: there gmemtrace's
 * own bursts of work on this CPU are part of what is measured.
 * *preempted counts involuntary context switches, to show contention.
 */
static double timed(long n, bool ioctls, long *preempted)
{
	double chunk[CHUNKS];
	long per = n / CHUNKS, cs = nivcsw();
	__u64 start = now_ns();
	int k;

	for (k = 0; k < CHUNKS; k++) {
		__u64 t0 = now_ns();

		if (ioctls)
			run_ioctls(per);
		else
			run_getppid(per);
		chunk[k] = (double)(now_ns() - t0) / per;
	}
	if (preempted)
		*preempted += nivcsw() - cs;
	if (opt.same_cpu)
		return (double)(now_ns() - start) / (per * CHUNKS);
	return median(chunk, CHUNKS);
}

static void warm_up(void)
{
	long n = opt.iters / 10 > 1000 ? opt.iters / 10 : 1000;

	run_ioctls(n);
	run_getppid(n);
}

/* ---- setup ---- */

static int setup_cpus(void)
{
	cpu_set_t allowed, mine;
	int i, last = -1;

	if (sched_getaffinity(0, sizeof(allowed), &allowed)) {
		perror("gmt-bench: sched_getaffinity");
		return -1;
	}
	for (i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &allowed))
			last = i;
	if (opt.cpu < 0)
		opt.cpu = last;	/* CPU 0 usually takes more interrupts */
	if (!CPU_ISSET(opt.cpu, &allowed)) {
		fprintf(stderr, "gmt-bench: CPU %d is not available to this process\n", opt.cpu);
		return -1;
	}
	tracer_cpus = allowed;
	if (!opt.same_cpu && CPU_COUNT(&allowed) > 1)
		CPU_CLR(opt.cpu, &tracer_cpus);
	else
		opt.same_cpu = true;	/* one CPU: nothing else to put them on */
	CPU_ZERO(&mine);
	CPU_SET(opt.cpu, &mine);
	if (sched_setaffinity(0, sizeof(mine), &mine)) {
		perror("gmt-bench: sched_setaffinity");
		return -1;
	}
	return 0;
}

static int open_vm(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (kvm < 0) {
		fprintf(stderr, "gmt-bench: cannot open /dev/kvm: %s (KVM is needed: the "
			"benchmark issues conversion ioctls on a real VM fd)\n", strerror(errno));
		return -1;
	}
	/* a VM type with private memory where the kernel has one, else the default */
	vm_type = GMT_KVM_X86_SW_PROTECTED_VM;
	vm_fd = ioctl(kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_SW_PROTECTED_VM);
	if (vm_fd < 0) {
		vm_type = GMT_KVM_X86_DEFAULT_VM;
		vm_fd = ioctl(kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_DEFAULT_VM);
	}
	if (vm_fd < 0) {
		fprintf(stderr, "gmt-bench: KVM_CREATE_VM failed: %s\n", strerror(errno));
		close(kvm);
		return -1;
	}
	fcntl(vm_fd, F_SETFD, FD_CLOEXEC);
	close(kvm);
	return 0;
}

/* libbpf finds tracepoint ids in tracefs, which is not mounted at boot everywhere */
static int ensure_tracefs(void)
{
	struct stat st;

	if (!stat("/sys/kernel/tracing/events", &st) ||
	    !stat("/sys/kernel/debug/tracing/events", &st))
		return 0;
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return 0;
	fprintf(stderr, "gmt-bench: tracefs is not mounted and mounting it failed (%s): "
		"mount -t tracefs tracefs /sys/kernel/tracing\n", strerror(errno));
	return -1;
}

static int find_gmemtrace(char *buf, size_t len)
{
	char self[PATH_MAX - 32];
	ssize_t n;
	char *slash;

	if (opt.gmemtrace) {
		snprintf(buf, len, "%s", opt.gmemtrace);
	} else {
		/* installed as $(OUTPUT)/bench/gmt-bench next to $(OUTPUT)/gmemtrace */
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return -1;
		self[n] = 0;
		slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(buf, len, "%s/../gmemtrace", self);
	}
	if (access(buf, X_OK)) {
		fprintf(stderr, "gmt-bench: %s: %s; build it first with `make` at the top of "
			"the tree (or give --gmemtrace PATH)\n", buf, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- BPF program identities and run-time statistics ---- */

static int prog_info(__u32 id, struct bpf_prog_info *info, __u32 *map_ids, __u32 nr_maps)
{
	__u32 len = sizeof(*info);
	int fd, err;

	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	if (map_ids) {
		info->nr_map_ids = nr_maps;
		info->map_ids = (__u64)(unsigned long)map_ids;
	}
	err = bpf_obj_get_info_by_fd(fd, info, &len);
	err = err ? -errno : 0;
	close(fd);
	return err;
}

/* Programs attached by a process: the prog_id of each BPF link fd it holds. */
static int child_links(pid_t pid, struct progset *ps)
{
	char path[320], line[256];
	struct dirent *de;
	DIR *d;

	ps->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)) && ps->n < MAX_PROGS) {
		bool link = false;
		__u32 id = 0;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%s", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "link_id:", 8))
				link = true;
			else if (!strncmp(line, "prog_id:", 8))
				id = strtoul(line + 8, NULL, 10);
		}
		fclose(f);
		if (link && id)
			ps->p[ps->n++].id = id;
	}
	closedir(d);
	return 0;
}

static void progset_sample(struct progset *ps)
{
	struct bpf_prog_info info;
	int i;

	for (i = 0; i < ps->n; i++) {
		if (prog_info(ps->p[i].id, &info, NULL, 0)) {
			ps->p[i].cnt = ps->p[i].ns = 0;
			continue;
		}
		snprintf(ps->p[i].name, sizeof(ps->p[i].name), "%s", info.name);
		ps->p[i].cnt = info.run_cnt;
		ps->p[i].ns = info.run_time_ns;
	}
}

static void tracer_progs(const struct tracer *t, struct progset *ps)
{
	struct bpf_program *prog;
	struct bpf_prog_info info;
	__u32 len;

	ps->n = 0;
	if (t->cfg == CFG_EMPTY) {
		bpf_object__for_each_program(prog, t->skel->obj) {
			len = sizeof(info);
			memset(&info, 0, sizeof(info));
			if (ps->n < MAX_PROGS &&
			    !bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
				ps->p[ps->n++].id = info.id;
		}
	} else if (t->pid > 0) {
		child_links(t->pid, ps);
	}
	progset_sample(ps);
}

/* gmemtrace's ring buffer drop counter (GMT_CNT_RB_DROPS in gmt_counters) */
static long long child_drops(const struct progset *ps)
{
	__u32 map_ids[32];
	struct bpf_prog_info info;
	struct bpf_map_info mi;
	int i, j, ncpu = libbpf_num_possible_cpus();

	for (i = 0; i < ps->n; i++) {
		if (prog_info(ps->p[i].id, &info, map_ids, 32))
			continue;
		for (j = 0; j < (int)info.nr_map_ids && j < 32; j++) {
			__u32 len = sizeof(mi), key = GMT_CNT_RB_DROPS;
			long long sum = 0;
			__u64 *vals;
			int fd, k;

			fd = bpf_map_get_fd_by_id(map_ids[j]);
			if (fd < 0)
				continue;
			memset(&mi, 0, sizeof(mi));
			if (bpf_obj_get_info_by_fd(fd, &mi, &len) || strcmp(mi.name, "gmt_counters") ||
			    ncpu <= 0) {
				close(fd);
				continue;
			}
			vals = calloc(ncpu, sizeof(*vals));
			if (vals && !bpf_map_lookup_elem(fd, &key, vals))
				for (k = 0; k < ncpu; k++)
					sum += vals[k];
			else
				sum = -1;
			free(vals);
			close(fd);
			return sum;
		}
	}
	return -1;
}

/* CPU time of all threads of a process, ns (schedstat: sum_exec_runtime) */
static __u64 proc_cpu_ns(pid_t pid)
{
	char path[320];
	struct dirent *de;
	__u64 sum = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* Tracing programs that are not ours make "bare" not bare: say so. */
static int foreign_links(char *names, size_t len)
{
	__u32 id = 0;
	size_t used = 0;
	int n = 0;

	names[0] = 0;
	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info li;
		struct bpf_prog_info pi;
		__u32 l = sizeof(li);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue;
		memset(&li, 0, sizeof(li));
		if (!bpf_obj_get_info_by_fd(fd, &li, &l) && li.type != BPF_LINK_TYPE_ITER &&
		    !prog_info(li.prog_id, &pi, NULL, 0) &&
		    (pi.type == BPF_PROG_TYPE_TRACEPOINT || pi.type == BPF_PROG_TYPE_RAW_TRACEPOINT ||
		     pi.type == BPF_PROG_TYPE_TRACING || pi.type == BPF_PROG_TYPE_KPROBE ||
		     pi.type == BPF_PROG_TYPE_PERF_EVENT)) {
			n++;
			if (used < len)
				used += snprintf(names + used, len - used, "%s%s", used ? " " : "",
						 pi.name[0] ? pi.name : "?");
		}
		close(fd);
	}
	return n;
}

static void check_quiet(const char *when)
{
	char names[256];
	int n = foreign_links(names, sizeof(names));

	if (n)
		fprintf(stderr, "gmt-bench: warning: %s, %d tracing BPF link(s) of other tools were "
			"attached (%s): if they hook syscalls, every configuration pays for them, "
			"bare included\n", when, n, names);
}

static long read_sysctl(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* busy CPU time of the whole machine, ns, steal included (/proc/stat) */
static double machine_busy_ns(void)
{
	unsigned long long v[8] = { 0 };
	double tick = 1e9 / sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (f) {
		n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
			   &v[3], &v[4], &v[5], &v[6], &v[7]);
		fclose(f);
	}
	if (n < 8)
		return -1;
	/* user nice system [idle iowait] irq softirq steal */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * tick;
}

/* our CPU time: this process and the gmemtrace children already reaped */
static double own_cpu_ns(void)
{
	struct rusage self, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	return (self.ru_utime.tv_sec + self.ru_stime.tv_sec + kids.ru_utime.tv_sec +
		kids.ru_stime.tv_sec) * 1e9 +
	       (self.ru_utime.tv_usec + self.ru_stime.tv_usec + kids.ru_utime.tv_usec +
		kids.ru_stime.tv_usec) * 1e3;
}

/* ---- attaching and detaching each configuration ---- */

static void drain_stderr(struct tracer *t)
{
	char buf[512];	/* smaller than tail: one read never overflows it */
	size_t keep = sizeof(t->tail) - 1;
	ssize_t n;

	if (t->errfd < 0)
		return;
	while ((n = read(t->errfd, buf, sizeof(buf))) > 0) {
		if (t->tail_len + n > keep) {
			size_t drop = t->tail_len + n - keep;

			memmove(t->tail, t->tail + drop, t->tail_len - drop);
			t->tail_len -= drop;
		}
		memcpy(t->tail + t->tail_len, buf, n);
		t->tail_len += n;
		t->tail[t->tail_len] = 0;
	}
}

static int spawn(struct tracer *t, const char *gmt)
{
	static char interval[] = "3600", devnull[] = "/dev/null";
	char *stat_argv[] = { (char *)gmt, "stat", interval, "-o", devnull, NULL };
	char *trace_argv[] = { (char *)gmt, "trace", "-o", devnull, NULL };
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		perror("gmt-bench: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("gmt-bench: fork");
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		/* never outlive the benchmark: its links would stay attached */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setaffinity(0, sizeof(tracer_cpus), &tracer_cpus);
		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		execv(gmt, t->cfg == CFG_STAT ? stat_argv : trace_argv);
		fprintf(stderr, "exec %s: %s\n", gmt, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	t->pid = pid;
	t->errfd = pfd[0];
	current_child = pid;
	return 0;
}

static int wait_attached(struct tracer *t)
{
	__u64 deadline = now_ns() + 30000000000ULL;
	struct progset ps;
	int status, i;

	while (now_ns() < deadline) {
		bool enter = false, exit_ = false;

		drain_stderr(t);
		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->pid = -1;
			current_child = -1;
			drain_stderr(t);
			fprintf(stderr, "gmt-bench: gmemtrace %s exited before attaching (%s %d):\n%s",
				cfg_name[t->cfg], WIFEXITED(status) ? "status" : "signal",
				WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), t->tail);
			return WIFEXITED(status) && WEXITSTATUS(status) == EXIT_CANNOT ?
			       -EXIT_CANNOT : -EXIT_RUNTIME;
		}
		if (!child_links(t->pid, &ps)) {
			progset_sample(&ps);
			for (i = 0; i < ps.n; i++) {
				enter |= !strcmp(ps.p[i].name, "gmt_ioctl_enter");
				exit_ |= !strcmp(ps.p[i].name, "gmt_ioctl_exit");
			}
		}
		if (enter && exit_) {
			/* let it finish setting up (trace opens its ring buffer after attaching) */
			usleep(100000);
			t->cpu_at_attach = proc_cpu_ns(t->pid);
			return 0;
		}
		usleep(5000);
	}
	fprintf(stderr, "gmt-bench: gmemtrace %s did not attach its ioctl programs in 30 s:\n%s",
		cfg_name[t->cfg], t->tail);
	return -EXIT_RUNTIME;
}

static int tracer_start(struct tracer *t, enum cfg c, const char *gmt)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->cfg = c;
	t->pid = -1;
	t->errfd = -1;
	switch (c) {
	case CFG_BARE:
		return 0;
	case CFG_EMPTY:
		t->skel = empty_bpf__open_and_load();
		if (!t->skel) {
			fprintf(stderr, "gmt-bench: cannot load the empty programs: %s\n",
				strerror(errno));
			return -EXIT_RUNTIME;
		}
		err = empty_bpf__attach(t->skel);
		if (err) {
			fprintf(stderr, "gmt-bench: cannot attach the empty programs: %s "
				"(is tracefs mounted? mount -t tracefs t /sys/kernel/tracing)\n",
				strerror(-err));
			empty_bpf__destroy(t->skel);
			t->skel = NULL;
			return -EXIT_CANNOT;
		}
		return 0;
	default:
		if (spawn(t, gmt))
			return -EXIT_RUNTIME;
		return wait_attached(t);
	}
}

/*
 * Detach; for gmemtrace, *drops gets its ring buffer drop count (-1: unknown)
 * and *cpu the CPU time it used while attached (its user space share).
 */
static int tracer_stop(struct tracer *t, long long *drops, __u64 *cpu)
{
	struct progset ps;
	__u64 deadline;
	int status = 0;
	pid_t r;

	if (drops)
		*drops = -1;
	if (t->skel) {
		empty_bpf__destroy(t->skel);
		t->skel = NULL;
	}
	if (t->pid <= 0)
		return 0;
	if (drops && !child_links(t->pid, &ps))
		*drops = child_drops(&ps);
	if (cpu)
		*cpu = proc_cpu_ns(t->pid) - t->cpu_at_attach;
	kill(t->pid, SIGINT);
	deadline = now_ns() + 10000000000ULL;
	while ((r = waitpid(t->pid, &status, WNOHANG)) == 0 && now_ns() < deadline) {
		drain_stderr(t);
		usleep(5000);
	}
	if (r == 0) {
		fprintf(stderr, "gmt-bench: gmemtrace %s ignored SIGINT for 10 s: killed\n",
			cfg_name[t->cfg]);
		kill(t->pid, SIGKILL);
		waitpid(t->pid, &status, 0);
	}
	drain_stderr(t);
	close(t->errfd);
	t->errfd = -1;
	t->pid = -1;
	current_child = -1;
	if (r == 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "gmt-bench: warning: gmemtrace %s ended badly (%s %d):\n%s",
			cfg_name[t->cfg], WIFEXITED(status) ? "status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), t->tail);
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	/* the child dies with us (PDEATHSIG); the empty links close with our fds */
	if (current_child > 0)
		kill(current_child, SIGKILL);
	_exit(128 + sig);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, int n)
{
	double s[MAX_ROUNDS];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_double);
	return n & 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static double vmin(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		m = v[n] < m ? v[n] : m;
	return m;
}

static double vmax(const double *v, int n)
{
	double m = v[0];

	while (--n > 0)
		m = v[n] > m ? v[n] : m;
	return m;
}

struct result {
	double ioctl[CFG_MAX][MAX_ROUNDS], ppid[CFG_MAX][MAX_ROUNDS];
	double med_ioctl[CFG_MAX], med_ppid[CFG_MAX];
	double add_ioctl[CFG_MAX], add_ppid[CFG_MAX];	/* paired per round, median */
	double ratio[CFG_MAX];		/* add_ioctl / add_ioctl[empty] */
	double xbare[CFG_MAX];
	long long drops[CFG_MAX];	/* summed over rounds; -1 unknown */
	long preempted[CFG_MAX];	/* involuntary context switches in timed loops */
	unsigned long long conv[CFG_MAX];	/* conversions issued while attached */
	__u64 tracer_cpu[CFG_MAX];	/* gmemtrace's CPU time while attached, ns */
};

static void summarize(struct result *r, int n)
{
	double d[MAX_ROUNDS];
	int c, i;

	for (c = 0; c < CFG_MAX; c++) {
		r->med_ioctl[c] = median(r->ioctl[c], n);
		r->med_ppid[c] = median(r->ppid[c], n);
		/* differences within a round cancel slow drift better than medians do */
		for (i = 0; i < n; i++)
			d[i] = r->ioctl[c][i] - r->ioctl[CFG_BARE][i];
		r->add_ioctl[c] = median(d, n);
		for (i = 0; i < n; i++)
			d[i] = r->ppid[c][i] - r->ppid[CFG_BARE][i];
		r->add_ppid[c] = median(d, n);
		r->xbare[c] = r->med_ioctl[c] / r->med_ioctl[CFG_BARE];
	}
	for (c = 0; c < CFG_MAX; c++)
		r->ratio[c] = r->add_ioctl[CFG_EMPTY] > 0 ?
			      r->add_ioctl[c] / r->add_ioctl[CFG_EMPTY] : NAN;
}

static const char *errno_label(int e, char *buf, size_t len)
{
	const char *n = e ? strerrorname_np(e) : "0";

	if (n)
		return n;
	snprintf(buf, len, "errno %d", e);
	return buf;
}

static void print_returns(FILE *f, bool json)
{
	unsigned long total = 0;
	bool first = true;
	char buf[32];
	int e;

	for (e = 0; e < 4096; e++)
		total += ret_counts[e];
	for (e = 0; e < 4096; e++) {
		if (!ret_counts[e])
			continue;
		if (json)
			fprintf(f, "%s\"%s\":%lu", first ? "" : ",", errno_label(e, buf, sizeof(buf)),
				ret_counts[e]);
		else
			fprintf(f, "%s%s %lu (%.1f%%)", first ? "" : ", ",
				errno_label(e, buf, sizeof(buf)), ret_counts[e],
				100.0 * ret_counts[e] / total);
		first = false;
	}
}

static void print_table(const struct result *r, int n)
{
	int c;

	printf("\n%-6s %10s %8s %9s %8s %7s %11s %7s\n", "config", "ns/ioctl", "spread",
	       "added", "x-empty", "x-bare", "ns/getppid", "added");
	for (c = 0; c < CFG_MAX; c++) {
		double lo = vmin(r->ioctl[c], n), hi = vmax(r->ioctl[c], n);

		printf("%-6s %10.1f %7.1f%% ", cfg_name[c], r->med_ioctl[c],
		       100.0 * (hi - lo) / 2 / r->med_ioctl[c]);
		if (c == CFG_BARE)
			printf("%9s %8s %6.2fx %11.1f %7s\n", "-", "-", 1.0, r->med_ppid[c], "-");
		else
			printf("%9.1f %7.2fx %6.2fx %11.1f %7.1f\n", r->add_ioctl[c], r->ratio[c],
			       r->xbare[c], r->med_ppid[c], r->add_ppid[c]);
	}
	printf("(medians of %d rounds; spread = half the min-max range; added = median of "
	       "the per-round difference to bare)\n\n", n);
}

static bool verdict(const char *what, double ratio, double target)
{
	bool ok = ratio <= target;

	printf("%s adds %.2fx what the empty programs add (target <= %.1f): %s\n", what, ratio,
	       target, ok ? "met" : "MISSED");
	return ok;
}

/* ---- per-program cost with BPF run-time statistics ---- */

struct prog_cost {
	bool done;
	double ns_ioctl;	/* loop with stats on (they add their own clock reads) */
	struct progset before, after;
};

static int measure_prog_stats(struct prog_cost *pc, const char *gmt)
{
	struct tracer t;
	int c, stats_fd, err;

	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "gmt-bench: BPF run-time statistics unavailable (%s): no "
			"per-program costs\n", strerror(errno));
		return -1;
	}
	for (c = CFG_EMPTY; c < CFG_MAX; c++) {
		err = tracer_start(&t, c, gmt);
		if (err) {
			tracer_stop(&t, NULL, NULL);
			continue;
		}
		warm_up();
		tracer_progs(&t, &pc[c].before);
		pc[c].ns_ioctl = timed(opt.iters, true, NULL);
		pc[c].after = pc[c].before;
		progset_sample(&pc[c].after);
		tracer_stop(&t, NULL, NULL);
		pc[c].done = true;
	}
	close(stats_fd);	/* statistics stay on only while this fd is open */
	return 0;
}

/* ns/run of the empty enter program: what statistics themselves add to a run */
static double stats_floor(const struct prog_cost *pc)
{
	const struct progset *a = &pc[CFG_EMPTY].after, *b = &pc[CFG_EMPTY].before;
	int i;

	if (!pc[CFG_EMPTY].done)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!strcmp(a->p[i].name, "empty_ioc_enter") && a->p[i].cnt > b->p[i].cnt)
			return (double)(a->p[i].ns - b->p[i].ns) / (a->p[i].cnt - b->p[i].cnt);
	return 0;
}

static void print_prog_stats(const struct prog_cost *pc, const struct result *r)
{
	double floor_ns = stats_floor(pc);
	int c, i;

	printf("\nper-program cost (BPF run-time statistics, one more loop of %ld ioctls each;\n"
	       "net = ns/run minus the empty program's %.1f ns/run, the statistics' own cost):\n",
	       opt.iters, floor_ns);
	printf("%-6s %-16s %10s %8s %8s %10s\n", "config", "program", "runs/ioctl", "ns/run",
	       "net", "ns/ioctl");
	for (c = CFG_EMPTY; c < CFG_MAX; c++) {
		double net = 0;

		if (!pc[c].done)
			continue;
		for (i = 0; i < pc[c].after.n; i++) {
			const struct prog_sample *a = &pc[c].after.p[i], *b = &pc[c].before.p[i];
			__u64 cnt = a->cnt - b->cnt, ns = a->ns - b->ns;
			double per_run = cnt ? (double)ns / cnt : 0;

			if (!cnt)
				continue;
			net += (per_run - floor_ns) * cnt / opt.iters;
			printf("%-6s %-16s %10.3f %8.1f %8.1f %10.1f\n", cfg_name[c], a->name,
			       (double)cnt / opt.iters, per_run, per_run - floor_ns,
			       (double)ns / opt.iters);
		}
		printf("%-6s %-16s net %.1f ns/ioctl in programs, of the %.1f added\n", cfg_name[c],
		       "(all)", net, r->add_ioctl[c]);
	}
	printf("(with statistics on, ns/ioctl was: empty %.1f, stat %.1f, trace %.1f)\n",
	       pc[CFG_EMPTY].ns_ioctl, pc[CFG_STAT].ns_ioctl, pc[CFG_TRACE].ns_ioctl);
}

/* ---- per-record cost: gmemtrace's own CPU for each record it writes ---- */

enum { FMT_TEXT, FMT_JSON, FMT_MAX };
static const char *const fmt_name[FMT_MAX] = { "text", "json" };

struct rec_result {
	bool done;
	long long records;	/* event records in the output file */
	long long lost;		/* ring buffer drops (gmt_counters), -1 unknown */
	double rate;		/* conversions/s achieved */
	double cpu_ns;		/* gmemtrace's user+sys after attaching (rusage) */
	double bytes;		/* output file size */
};

struct storm_result {
	bool done;
	double untraced_ns;		/* the workload's storm loop, per call */
	double stat_ns;			/* ... under `gmemtrace stat` (no records) */
	double traced_ns[FMT_MAX];
	struct rec_result rec[FMT_MAX];
};

static char out_dir[PATH_MAX];

/* gmemtrace ARGS... with stdout to /dev/null, attached like the rounds' tracers */
static int spawn_argv(struct tracer *t, char *const argv[])
{
	int pfd[2];
	pid_t pid;

	memset(t, 0, sizeof(*t));
	t->cfg = CFG_TRACE;
	t->errfd = -1;
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sched_setaffinity(0, sizeof(tracer_cpus), &tracer_cpus);
		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	t->pid = pid;
	t->errfd = pfd[0];
	current_child = pid;
	return wait_attached(t);
}

/*
 * SIGINT (gmemtrace drains the ring buffer, writes its summary and exits),
 * then its own user+sys time from wait4's rusage: it has no children here.
 * The CPU it used before attaching (BPF loading, probing) is not the
 * records' and is taken out (schedstat at attach time, the same clock).
 */
static double stop_rusage(struct tracer *t, long long *drops)
{
	struct progset ps;
	struct rusage ru;
	int status;
	double ns;

	*drops = !child_links(t->pid, &ps) ? child_drops(&ps) : -1;
	kill(t->pid, SIGINT);
	if (wait4(t->pid, &status, 0, &ru) != t->pid)
		return -1;
	drain_stderr(t);
	close(t->errfd);
	current_child = -1;
	t->pid = -1;
	ns = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e9 +
	     (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e3 - (double)t->cpu_at_attach;
	return ns;
}

/* event records in an output file, and its size */
static long long count_records(const char *path, int fmt, double *bytes)
{
	char line[4096];
	long long n = 0;
	bool bol = true;
	FILE *f = fopen(path, "r");
	struct stat st;

	if (!f)
		return -1;
	if (!fstat(fileno(f), &st))
		*bytes = st.st_size;
	while (fgets(line, sizeof(line), f)) {
		/* text: every line but the '#' summary; JSON: "type":"event" */
		if (bol && (fmt == FMT_TEXT ? line[0] != '#' :
			    !strncmp(line, "{\"type\":\"event\"", 15)))
			n++;
		bol = strchr(line, '\n') != NULL;
	}
	fclose(f);
	return n;
}

/* n conversion ioctls at opt.rate per second (busy-waiting: sleeps are too coarse) */
static double paced_ioctls(long n)
{
	double per = 1e9 / opt.rate;
	__u64 t0 = now_ns();
	long done = 0;

	while (done < n) {
		long batch = n - done < 50 ? n - done : 50;

		run_ioctls(batch);
		done += batch;
		while (now_ns() - t0 < done * per)
			;
	}
	return n / ((now_ns() - t0) / 1e9);
}

static int measure_records(struct rec_result *rr, const char *gmt)
{
	char pid[16], path[PATH_MAX + 32];
	int f;

	snprintf(pid, sizeof(pid), "%d", getpid());
	for (f = 0; f < FMT_MAX; f++) {
		char *argv[] = { (char *)gmt, "trace", "-p", pid, "-f", (char *)fmt_name[f],
				 "-o", path, NULL };
		struct tracer t;

		snprintf(path, sizeof(path), "%s/records.%s", out_dir, fmt_name[f]);
		if (spawn_argv(&t, argv)) {
			fprintf(stderr, "gmt-bench: gmemtrace trace -f %s did not start:\n%s",
				fmt_name[f], t.tail);
			return -1;
		}
		rr[f].rate = paced_ioctls(opt.rec_n);
		rr[f].cpu_ns = stop_rusage(&t, &rr[f].lost);
		rr[f].records = count_records(path, f, &rr[f].bytes);
		rr[f].done = rr[f].records > 0 && rr[f].cpu_ns >= 0;
		unlink(path);
	}
	return 0;
}

/* gmem-workload next to gmemtrace */
static void workload_path(const char *gmt, char *buf, size_t len)
{
	const char *slash = strrchr(gmt, '/');

	snprintf(buf, len, "%.*sgmem-workload", slash ? (int)(slash - gmt + 1) : 0, gmt);
}

/* the storm loop's ns from gmem-workload's JSON ("gmem_create_storm":{...,"ns":N}) */
static double storm_ns(const char *json)
{
	char buf[1 << 16];
	const char *p;
	FILE *f = fopen(json, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strstr(buf, "\"gmem_create_storm\":{");
	p = p ? strstr(p, "\"ns\":") : NULL;
	return p ? strtod(p + 5, NULL) : -1;
}

/* gmem-workload --gmem-create-storm; waits for 'ready' when told to */
static pid_t start_workload(const char *wl, const char *json, bool wait_ready)
{
	char n[24];
	char *argv[] = { (char *)wl, "--vm-type", "default", "--conversions", "0", "--no-calls",
			 "--gmem-create-storm", n, "--json-out", (char *)json,
			 wait_ready ? "--wait-signal" : NULL, NULL };
	int pfd[2];
	pid_t pid;

	snprintf(n, sizeof(n), "%ld", opt.storm);
	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 0);
		dup2(null, 1);
		dup2(pfd[1], 2);
		execv(wl, argv);
		_exit(127);
	}
	close(pfd[1]);
	if (pid > 0 && wait_ready) {
		char buf[256];
		size_t have = 0;
		ssize_t r;

		/* "ready <pid>": its VM exists, the storm has not begun */
		while (have < sizeof(buf) - 1 && (r = read(pfd[0], buf + have,
							   sizeof(buf) - 1 - have)) > 0) {
			have += r;
			buf[have] = 0;
			if (strstr(buf, "ready "))
				break;
		}
		if (!strstr(buf, "ready ")) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pid = -1;
		}
	}
	close(pfd[0]);
	return pid;
}

static int measure_storm(struct storm_result *sr, const char *gmt)
{
	char wl[PATH_MAX], json[PATH_MAX + 32], path[PATH_MAX + 32], pid_s[16];
	int f, st;
	pid_t w;

	workload_path(gmt, wl, sizeof(wl));
	if (access(wl, X_OK)) {
		fprintf(stderr, "gmt-bench: %s: %s: no storm phase\n", wl, strerror(errno));
		return -1;
	}
	snprintf(json, sizeof(json), "%s/workload.json", out_dir);
	/* untraced, on the loops' CPU like everything the workload does here */
	w = start_workload(wl, json, false);
	if (w <= 0 || waitpid(w, &st, 0) != w || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	sr->untraced_ns = storm_ns(json) / opt.storm;
	/* stat: the same BPF programs, nothing streamed: what the hooks cost */
	w = start_workload(wl, json, true);
	if (w > 0) {
		char *argv[] = { (char *)gmt, "stat", "3600", "-p", pid_s, "-o", "/dev/null",
				 NULL };
		struct tracer t;
		long long d;

		snprintf(pid_s, sizeof(pid_s), "%d", w);
		if (!spawn_argv(&t, argv)) {
			kill(w, SIGUSR1);
			waitpid(w, &st, 0);
			stop_rusage(&t, &d);
			sr->stat_ns = storm_ns(json) / opt.storm;
		} else {
			kill(w, SIGKILL);
			waitpid(w, NULL, 0);
		}
	}
	for (f = 0; f < FMT_MAX; f++) {
		char *argv[] = { (char *)gmt, "trace", "-p", pid_s, "-f", (char *)fmt_name[f],
				 "-o", path, NULL };
		struct rec_result *rr = &sr->rec[f];
		struct tracer t;
		__u64 t0;

		w = start_workload(wl, json, true);
		if (w <= 0)
			return -1;
		snprintf(pid_s, sizeof(pid_s), "%d", w);
		snprintf(path, sizeof(path), "%s/storm.%s", out_dir, fmt_name[f]);
		if (spawn_argv(&t, argv)) {
			kill(w, SIGKILL);
			waitpid(w, NULL, 0);
			return -1;
		}
		t0 = now_ns();
		kill(w, SIGUSR1);
		waitpid(w, &st, 0);
		rr->rate = opt.storm / ((now_ns() - t0) / 1e9);
		rr->cpu_ns = stop_rusage(&t, &rr->lost);
		rr->records = count_records(path, f, &rr->bytes);
		rr->done = rr->records > 0 && rr->cpu_ns >= 0;
		sr->traced_ns[f] = storm_ns(json) / opt.storm;
		unlink(path);
	}
	unlink(json);
	sr->done = true;
	return 0;
}

#define REC_TARGET_NS	250.0

static void print_records(const struct rec_result *rr, const struct storm_result *sr)
{
	int f;

	printf("\nper-record cost: gmemtrace trace -p <this> -f FMT -o FILE, %ld conversions paced "
	       "at %ld/s;\ncpu = gmemtrace's user+sys (rusage) after attaching / records written "
	       "(target <= %.0f ns, 0 lost):\n", opt.rec_n, opt.rate, REC_TARGET_NS);
	printf("%-6s %9s %11s %6s %9s %12s  %s\n", "format", "records", "conv/s", "lost",
	       "B/record", "cpu ns/rec", "verdict");
	for (f = 0; f < FMT_MAX; f++) {
		const struct rec_result *r = &rr[f];

		if (!r->done) {
			printf("%-6s (failed)\n", fmt_name[f]);
			continue;
		}
		printf("%-6s %9lld %11.0f %6lld %9.0f %12.1f  %s\n", fmt_name[f], r->records,
		       r->rate, r->lost, r->bytes / r->records, r->cpu_ns / r->records,
		       r->cpu_ns / r->records <= REC_TARGET_NS && r->lost == 0 ? "met" : "MISSED");
	}
	if (!sr->done)
		return;
	printf("storm: gmem-workload --gmem-create-storm %ld (every call EINVAL, one record "
	       "each), traced with -p:\n", opt.storm);
	printf("  untraced %.0f ns/call; stat %.0f ns/call (%.2fx)", sr->untraced_ns, sr->stat_ns,
	       sr->stat_ns / sr->untraced_ns);
	for (f = 0; f < FMT_MAX; f++)
		printf("; %s %.0f ns/call (%.2fx), gmemtrace %.1f ns/record, %lld records, %lld lost",
		       fmt_name[f], sr->traced_ns[f], sr->traced_ns[f] / sr->untraced_ns,
		       sr->rec[f].done ? sr->rec[f].cpu_ns / sr->rec[f].records : -1.0,
		       sr->rec[f].records, sr->rec[f].lost);
	printf("\n");
}

static void json_records(const struct rec_result *rr, const struct storm_result *sr)
{
	int f;

	printf(",\"records\":{\"conversions\":%ld,\"rate_target\":%ld,\"target_ns\":%.0f", opt.rec_n,
	       opt.rate, REC_TARGET_NS);
	for (f = 0; f < FMT_MAX; f++) {
		const struct rec_result *r = &rr[f];

		if (!r->done)
			continue;
		printf(",\"%s\":{\"records\":%lld,\"rate\":%.0f,\"lost\":%lld,\"bytes_per_record\":%.1f,"
		       "\"cpu_ns\":%.0f,\"cpu_ns_per_record\":%.1f,\"met\":%s}", fmt_name[f],
		       r->records, r->rate, r->lost, r->bytes / r->records, r->cpu_ns,
		       r->cpu_ns / r->records,
		       r->cpu_ns / r->records <= REC_TARGET_NS && r->lost == 0 ? "true" : "false");
	}
	printf("}");
	if (!sr->done)
		return;
	printf(",\"storm\":{\"calls\":%ld,\"untraced_ns_per_call\":%.1f,"
	       "\"stat_ns_per_call\":%.1f,\"stat_x_untraced\":%.3f", opt.storm,
	       sr->untraced_ns, sr->stat_ns, sr->stat_ns / sr->untraced_ns);
	for (f = 0; f < FMT_MAX; f++)
		printf(",\"%s\":{\"ns_per_call\":%.1f,\"x_untraced\":%.3f,\"records\":%lld,"
		       "\"lost\":%lld,\"cpu_ns_per_record\":%.1f}", fmt_name[f], sr->traced_ns[f],
		       sr->traced_ns[f] / sr->untraced_ns, sr->rec[f].records, sr->rec[f].lost,
		       sr->rec[f].done ? sr->rec[f].cpu_ns / sr->rec[f].records : -1.0);
	printf("}");
}

/* ---- JSON ---- */

static void json_nums(const char *key, const double *v, int n)
{
	int i;

	printf("\"%s\":[", key);
	for (i = 0; i < n; i++)
		printf("%s%.1f", i ? "," : "", v[i]);
	printf("]");
}

static void print_json(const struct result *r, int n, const struct prog_cost *pc,
		       const struct rec_result *rr, const struct storm_result *sr)
{
	int c, i;

	printf("{\"bench\":\"gmt-bench\",\"iters\":%ld,\"rounds\":%d,\"cpu\":%d,"
	       "\"tracers_same_cpu\":%s,\"vm_type\":%d,\"ioctl_returns\":{",
	       opt.iters, n, opt.cpu, opt.same_cpu ? "true" : "false", vm_type);
	print_returns(stdout, true);
	printf("},\"configs\":{");
	for (c = 0; c < CFG_MAX; c++) {
		printf("%s\"%s\":{\"ns_ioctl\":%.1f,\"ns_ioctl_min\":%.1f,\"ns_ioctl_max\":%.1f,"
		       "\"added_ns\":%.1f,\"ratio_vs_empty\":%.3f,\"x_bare\":%.3f,"
		       "\"ns_getppid\":%.1f,\"getppid_added_ns\":%.1f,",
		       c ? "," : "", cfg_name[c], r->med_ioctl[c], vmin(r->ioctl[c], n),
		       vmax(r->ioctl[c], n), r->add_ioctl[c], c ? r->ratio[c] : 0,
		       r->xbare[c], r->med_ppid[c], r->add_ppid[c]);
		json_nums("rounds_ns_ioctl", r->ioctl[c], n);
		printf(",");
		json_nums("rounds_ns_getppid", r->ppid[c], n);
		printf(",\"conversions\":%llu,\"involuntary_cs\":%ld", r->conv[c], r->preempted[c]);
		if (c >= CFG_STAT)
			printf(",\"ringbuf_drops\":%lld,\"tracer_cpu_ns_per_conversion\":%.1f",
			       r->drops[c], (double)r->tracer_cpu[c] / r->conv[c]);
		if (pc && pc[c].done) {
			printf(",\"prog_stats_ns_ioctl\":%.1f,\"programs\":{", pc[c].ns_ioctl);
			for (i = 0; i < pc[c].after.n; i++) {
				const struct prog_sample *a = &pc[c].after.p[i];
				const struct prog_sample *b = &pc[c].before.p[i];

				printf("%s\"%s\":{\"runs\":%llu,\"ns\":%llu}", i ? "," : "",
				       a->name, (unsigned long long)(a->cnt - b->cnt),
				       (unsigned long long)(a->ns - b->ns));
			}
			printf("}");
		}
		printf("}");
	}
	printf("}");
	if (rr)
		json_records(rr, sr);
	printf(",\"targets\":{\"stat\":%.1f,\"trace\":%.1f},\"stat_ratio\":%.3f,"
	       "\"trace_ratio\":%.3f,\"stat_met\":%s,\"trace_met\":%s}\n",
	       STAT_TARGET, TRACE_TARGET, r->ratio[CFG_STAT], r->ratio[CFG_TRACE],
	       r->ratio[CFG_STAT] <= STAT_TARGET ? "true" : "false",
	       r->ratio[CFG_TRACE] <= TRACE_TARGET ? "true" : "false");
}

int main(int argc, char **argv)
{
	static struct result res;
	static struct prog_cost pc[CFG_MAX];
	static struct rec_result rec[FMT_MAX];
	static struct storm_result storm;
	bool have_rec = false;
	char gmt[PATH_MAX];
	struct tracer t;
	bool have_pc = false, ok;
	double busy0, own0, busy, others;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	__u64 t_start = now_ns(), t_rounds;
	int rnd, k, err;

	if (parse_args(argc, argv))
		return EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		fprintf(stderr, "gmt-bench: must run as root (it loads BPF programs and runs "
			"gmemtrace): sudo make bench\n");
		return EXIT_CANNOT;
	}
	if (find_gmemtrace(gmt, sizeof(gmt)))
		return EXIT_RUNTIME;
	if (open_vm() || ensure_tracefs())
		return EXIT_CANNOT;
	if (setup_cpus())
		return EXIT_RUNTIME;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(NULL);	/* failures are reported by us, with the reason */

	printf("gmt-bench: %ld KVM_SET_MEMORY_ATTRIBUTES ioctls (4 KiB at GPA 0, VM type %d) "
	       "and %ld getppid per loop, %d rounds, loops on CPU %d, gmemtrace on %s\n",
	       opt.iters, vm_type, opt.iters, opt.rounds, opt.cpu,
	       opt.same_cpu ? "the same CPU" : "the other CPUs");

	check_quiet("before the run");
	busy0 = machine_busy_ns();
	own0 = own_cpu_ns();
	t_rounds = now_ns();
	if (read_sysctl("/proc/sys/kernel/bpf_stats_enabled") > 0)
		fprintf(stderr, "gmt-bench: warning: kernel.bpf_stats_enabled is 1: every program "
			"run pays for two clock reads; set it to 0 for the main figures\n");
	for (k = 0; k < CFG_MAX; k++)
		res.drops[k] = 0;
	for (rnd = 0; rnd < opt.rounds; rnd++) {
		if (!opt.verbose && isatty(STDERR_FILENO))
			fprintf(stderr, "gmt-bench: round %d/%d\r", rnd + 1, opt.rounds);
		for (k = 0; k < CFG_MAX; k++) {
			enum cfg c = (k + rnd) % CFG_MAX;
			unsigned long long before;
			long long drops;
			__u64 cpu = 0;

			err = tracer_start(&t, c, gmt);
			if (err) {
				tracer_stop(&t, NULL, NULL);
				return -err;
			}
			before = issued;
			warm_up();
			res.ioctl[c][rnd] = timed(opt.iters, true, &res.preempted[c]);
			res.ppid[c][rnd] = timed(opt.iters, false, &res.preempted[c]);
			tracer_stop(&t, &drops, &cpu);
			res.conv[c] += issued - before;
			res.tracer_cpu[c] += cpu;
			if (res.drops[c] >= 0)
				res.drops[c] = drops < 0 ? -1 : res.drops[c] + drops;
			if (opt.verbose)
				fprintf(stderr, "round %d %-5s %8.1f ns/ioctl %7.1f ns/getppid\n",
					rnd + 1, cfg_name[c], res.ioctl[c][rnd], res.ppid[c][rnd]);
		}
	}
	if (!opt.verbose && isatty(STDERR_FILENO))
		fprintf(stderr, "%40s\r", "");
	summarize(&res, opt.rounds);
	check_quiet("after the run");

	printf("ioctl returned: ");
	print_returns(stdout, false);
	printf("\n");
	print_table(&res, opt.rounds);
	ok = verdict("stat", res.ratio[CFG_STAT], STAT_TARGET);
	ok &= verdict("trace", res.ratio[CFG_TRACE], TRACE_TARGET);
	printf("absolute: empty = %.2fx bare, stat = %.2fx bare, trace = %.2fx bare "
	       "(bare %.0f ns/ioctl)\n", res.xbare[CFG_EMPTY], res.xbare[CFG_STAT],
	       res.xbare[CFG_TRACE], res.med_ioctl[CFG_BARE]);
	printf("unrelated syscall: getppid costs +%.0f ns with the empty programs, +%.0f with "
	       "stat, +%.0f with trace (bare %.0f ns)\n", res.add_ppid[CFG_EMPTY],
	       res.add_ppid[CFG_STAT], res.add_ppid[CFG_TRACE], res.med_ppid[CFG_BARE]);
	if (res.drops[CFG_TRACE] < 0)
		printf("trace ring buffer drops: unknown (gmt_counters map not found)\n");
	else if (!res.drops[CFG_TRACE])
		printf("trace ring buffer drops: none of %llu conversions\n", res.conv[CFG_TRACE]);
	else
		printf("trace ring buffer drops: %lld of %llu conversions (%.1f%%): its user space "
		       "did not keep up at ~%.0fk conversions/s; a dropped record costs the ioctl "
		       "less than a delivered one\n", res.drops[CFG_TRACE], res.conv[CFG_TRACE],
		       100.0 * res.drops[CFG_TRACE] / res.conv[CFG_TRACE],
		       1e6 / res.med_ioctl[CFG_TRACE]);
	printf("gmemtrace's own CPU time while attached: stat %.1f ns, trace %.1f ns per "
	       "conversion%s\n", (double)res.tracer_cpu[CFG_STAT] / res.conv[CFG_STAT],
	       (double)res.tracer_cpu[CFG_TRACE] / res.conv[CFG_TRACE],
	       opt.same_cpu ? " (on the loop's CPU: included above)" :
	       " (on the other CPUs: not in the ns/ioctl above)");
	printf("involuntary context switches in the timed loops: bare %ld, empty %ld, stat %ld, "
	       "trace %ld\n", res.preempted[CFG_BARE], res.preempted[CFG_EMPTY],
	       res.preempted[CFG_STAT], res.preempted[CFG_TRACE]);
	busy = machine_busy_ns();
	if (busy0 >= 0 && busy >= 0) {
		/* what other processes (and the hypervisor, as steal) took meanwhile */
		others = (busy - busy0 - (own_cpu_ns() - own0)) /
			 ((now_ns() - t_rounds) * (double)ncpus);
		printf("other activity on the machine during the rounds: %.0f%% of its CPU time%s\n",
		       others > 0 ? 100 * others : 0, others > 0.10 ?
		       " (busy: expect noise, compare the spread column)" : "");
	}

	if (opt.prog_stats && !measure_prog_stats(pc, gmt)) {
		have_pc = true;
		print_prog_stats(pc, &res);
	}
	if (opt.records) {
		snprintf(out_dir, sizeof(out_dir), "%s/gmt-bench-XXXXXX",
			 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (!mkdtemp(out_dir)) {
			perror("gmt-bench: mkdtemp");
		} else {
			if (!measure_records(rec, gmt)) {
				have_rec = true;
				if (measure_storm(&storm, gmt))
					fprintf(stderr, "gmt-bench: the storm phase failed\n");
				print_records(rec, &storm);
			}
			rmdir(out_dir);
		}
	}
	printf("total time %.1f s\n", (now_ns() - t_start) / 1e9);
	if (opt.json)
		print_json(&res, opt.rounds, have_pc ? pc : NULL, have_rec ? rec : NULL, &storm);
	return opt.strict && !ok ? 1 : 0;
}
