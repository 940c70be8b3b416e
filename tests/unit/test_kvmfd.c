// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of src/kvmfd.c against the running kernel: a real VM and
 * guest_memfd (needs /dev/kvm, normally root) next to ordinary fds, seen
 * from this process (readlink + fstatfs) and from a child (readlink only).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "kvmfd.h"

#define MAX_FDS	64

struct kvm_fds {
	int kvm, vm, vcpu, gmem;
	char why[160];		/* why gmem is -1 */
};

static __u64 ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static void close_all(struct kvm_fds *k)
{
	if (k->gmem >= 0)
		close(k->gmem);
	if (k->vcpu >= 0)
		close(k->vcpu);
	if (k->vm >= 0)
		close(k->vm);
	if (k->kvm >= 0)
		close(k->kvm);
	k->kvm = k->vm = k->vcpu = k->gmem = -1;
}

/* skips the test when this host cannot create a VM */
static void open_vm(struct kvm_fds *k)
{
	long types;

	k->vm = k->vcpu = k->gmem = -1;
	k->why[0] = 0;
	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0) {
		print_message("SKIP: cannot open /dev/kvm: %s%s\n", strerror(errno),
			      geteuid() ? " (not root)" : "");
		skip();
	}
	/* a protected VM where there is one: older kernels give guest_memfd only to it */
	types = ioctl(k->kvm, GMT_KVM_CHECK_EXTENSION, GMT_KVM_CAP_VM_TYPES);
	if (types > 0 && (types & (1 << GMT_KVM_X86_SW_PROTECTED_VM)))
		k->vm = ioctl(k->kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_SW_PROTECTED_VM);
	if (k->vm < 0)
		k->vm = ioctl(k->kvm, GMT_KVM_CREATE_VM, GMT_KVM_X86_DEFAULT_VM);
	if (k->vm < 0) {
		int err = errno;

		close_all(k);
		print_message("SKIP: KVM_CREATE_VM failed: %s\n", strerror(err));
		skip();
	}
}

/* a guest_memfd on the VM if the kernel has them; k->why says why not */
static void open_gmem(struct kvm_fds *k)
{
	struct gmt_kvm_create_guest_memfd cg;
	long cap, flags;

	cap = ioctl(k->vm, GMT_KVM_CHECK_EXTENSION, GMT_KVM_CAP_GUEST_MEMFD);
	if (cap <= 0) {
		snprintf(k->why, sizeof(k->why), "no KVM_CAP_GUEST_MEMFD on this kernel");
		return;
	}
	flags = ioctl(k->vm, GMT_KVM_CHECK_EXTENSION, GMT_KVM_CAP_GUEST_MEMFD_FLAGS);
	memset(&cg, 0, sizeof(cg));
	cg.size = 2 << 20;
	cg.flags = flags > 0 ? (__u64)flags : 0;
	k->gmem = ioctl(k->vm, GMT_KVM_CREATE_GUEST_MEMFD, &cg);
	if (k->gmem < 0 && cg.flags && errno != ENOTTY) {
		cg.flags = 0;	/* e.g. INIT_SHARED refused for this VM type */
		k->gmem = ioctl(k->vm, GMT_KVM_CREATE_GUEST_MEMFD, &cg);
	}
	if (k->gmem < 0)
		snprintf(k->why, sizeof(k->why), "KVM_CREATE_GUEST_MEMFD failed: %s",
			 strerror(errno));
}

static void test_ordinary_fds(void **state)
{
	int p[2], s[2], efd, file, null;
	char path[] = "/tmp/gmt-kvmfd-XXXXXX";

	file = mkstemp(path);
	assert_true(file >= 0);
	unlink(path);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	null = open("/dev/null", O_RDONLY);
	assert_true(null >= 0);

	assert_int_equal(gmt_classify_fd(getpid(), file), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), p[0]), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), p[1]), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), s[0]), GMT_FD_OTHER);
	/* eventfd is an anon_inode too: "anon_inode:[eventfd]" */
	assert_int_equal(gmt_classify_fd(getpid(), efd), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), null), GMT_FD_OTHER);
	/* none of them is listed */
	assert_int_equal(gmt_list_kvm_fds(getpid(), NULL, 0), 0);

	close(file);
	close(p[0]);
	close(p[1]);
	close(s[0]);
	close(s[1]);
	close(efd);
	close(null);
}

/* the name alone does not make a file a guest_memfd */
static void test_lookalike_names(void **state)
{
	char dir[] = "/tmp/gmt-kvmfd-XXXXXX", path[64];
	static const char *const names[] = { "[kvm-gmem]", "kvm-vm", "anon_inode:kvm-vm" };
	size_t i;
	int fd;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
		assert_true(fd >= 0);
		assert_int_equal(gmt_classify_fd(getpid(), fd), GMT_FD_OTHER);
		close(fd);
		unlink(path);
	}
	rmdir(dir);
}

static void test_missing_fd_or_process(void **state)
{
	struct gmt_kvm_fd out[4];
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	/* a closed fd, a negative one, a process that does not exist */
	assert_int_equal(gmt_classify_fd(getpid(), fd), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), -1), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(0, 0), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(-1, 0), GMT_FD_OTHER);
	assert_int_equal(gmt_list_kvm_fds(0, out, 4), -EINVAL);
	/* beyond pid_max: no /proc entry can exist */
	assert_int_equal(gmt_list_kvm_fds(1 << 30, out, 4), -ENOENT);
	assert_int_equal(gmt_classify_fd(1 << 30, 0), GMT_FD_OTHER);
}

static void test_vm_fd(void **state)
{
	struct kvm_fds k;
	struct gmt_kvm_fd out[MAX_FDS];
	int n;

	open_vm(&k);
	k.vcpu = ioctl(k.vm, GMT_KVM_CREATE_VCPU, 0);

	assert_int_equal(gmt_classify_fd(getpid(), k.vm), GMT_FD_VM);
	/* /dev/kvm and vCPUs issue no conversions */
	assert_int_equal(gmt_classify_fd(getpid(), k.kvm), GMT_FD_OTHER);
	if (k.vcpu >= 0)
		assert_int_equal(gmt_classify_fd(getpid(), k.vcpu), GMT_FD_OTHER);

	n = gmt_list_kvm_fds(getpid(), out, MAX_FDS);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].fd, k.vm);
	assert_int_equal(out[0].kind, GMT_FD_VM);
	assert_int_equal(out[0].ino, ino_of(k.vm));
	close_all(&k);
	assert_int_equal(gmt_list_kvm_fds(getpid(), out, MAX_FDS), 0);
}

static void test_gmem_fd(void **state)
{
	struct gmt_kvm_fd out[MAX_FDS];
	struct kvm_fds k;
	int n, file, efd, p[2];

	open_vm(&k);
	open_gmem(&k);
	if (k.gmem < 0) {
		close_all(&k);
		print_message("SKIP: %s\n", k.why);
		skip();
	}
	/* ordinary fds around them must stay out of the list */
	file = open("/proc/self/status", O_RDONLY);
	efd = eventfd(0, 0);
	assert_int_equal(pipe(p), 0);
	assert_true(file >= 0 && efd >= 0);

	assert_int_equal(gmt_classify_fd(getpid(), k.gmem), GMT_FD_GMEM);
	assert_int_equal(gmt_classify_fd(getpid(), k.vm), GMT_FD_VM);
	assert_int_equal(gmt_classify_fd(getpid(), file), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), efd), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(getpid(), p[0]), GMT_FD_OTHER);

	n = gmt_list_kvm_fds(getpid(), out, MAX_FDS);
	assert_int_equal(n, 2);
	/* in fd order; the VM was opened first */
	assert_int_equal(out[0].fd, k.vm);
	assert_int_equal(out[0].kind, GMT_FD_VM);
	assert_int_equal(out[0].ino, ino_of(k.vm));
	assert_int_equal(out[1].fd, k.gmem);
	assert_int_equal(out[1].kind, GMT_FD_GMEM);
	assert_int_equal(out[1].ino, ino_of(k.gmem));
	/* each guest_memfd has its own inode: what BPF events call gmem_ino */
	assert_int_not_equal(out[1].ino, out[0].ino);

	/* too small an array: all counted, the first ones stored */
	memset(out, 0xff, sizeof(out));
	assert_int_equal(gmt_list_kvm_fds(getpid(), out, 1), 2);
	assert_int_equal(out[0].fd, k.vm);
	assert_int_equal(out[1].fd, -1);
	assert_int_equal(gmt_list_kvm_fds(getpid(), NULL, 0), 2);

	close(file);
	close(efd);
	close(p[0]);
	close(p[1]);
	close_all(&k);
}

/* another process's fds: readlink only, as `refs` will see a VMM */
static void test_other_process(void **state)
{
	struct gmt_kvm_fd out[MAX_FDS];
	struct kvm_fds k;
	int go[2], st, n, want;
	char c;
	pid_t pid;

	open_vm(&k);
	open_gmem(&k);
	if (k.gmem < 0)
		print_message("note: VM only, %s\n", k.why);
	assert_int_equal(pipe(go), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* hold the inherited fds until the parent is done */
		close(go[1]);
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(go[0]);

	assert_int_equal(gmt_classify_fd(pid, k.vm), GMT_FD_VM);
	assert_int_equal(gmt_classify_fd(pid, k.kvm), GMT_FD_OTHER);
	assert_int_equal(gmt_classify_fd(pid, go[1]), GMT_FD_OTHER);
	want = 1;
	if (k.gmem >= 0) {
		assert_int_equal(gmt_classify_fd(pid, k.gmem), GMT_FD_GMEM);
		want = 2;
	}
	n = gmt_list_kvm_fds(pid, out, MAX_FDS);
	assert_int_equal(n, want);
	assert_int_equal(out[0].fd, k.vm);
	assert_int_equal(out[0].ino, ino_of(k.vm));
	if (k.gmem >= 0) {
		assert_int_equal(out[1].fd, k.gmem);
		assert_int_equal(out[1].kind, GMT_FD_GMEM);
		assert_int_equal(out[1].ino, ino_of(k.gmem));
	}

	close(go[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close_all(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ordinary_fds),
		cmocka_unit_test(test_lookalike_names),
		cmocka_unit_test(test_missing_fd_or_process),
		cmocka_unit_test(test_vm_fd),
		cmocka_unit_test(test_gmem_fd),
		cmocka_unit_test(test_other_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
