// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "kvmfd.h"

/* kvm_dev_ioctl_create_vm: anon_inode_getfd("kvm-vm", ...) */
static const char vm_link[] = "anon_inode:kvm-vm";
/*
 * guest_memfd's file name: "anon_inode:[kvm-gmem]" while it lives on
 * anon_inodefs (6.x); on its own pseudo-fs (7.x) d_path gives simple_dname's
 * "/[kvm-gmem] (deleted)". Anchored, so a file named [kvm-gmem] in some
 * directory is not taken for one.
 */
static const char gmem_name[] = "[kvm-gmem]";

static bool is_gmem_link(const char *target)
{
	if (!strncmp(target, "anon_inode:", 11))
		target += 11;
	else if (*target == '/')
		target++;
	return !strncmp(target, gmem_name, sizeof(gmem_name) - 1);
}

static enum gmt_fd_kind classify(int pid, int fd, const char *fdpath)
{
	char target[256];
	struct statfs sfs;
	ssize_t n;

	n = readlink(fdpath, target, sizeof(target) - 1);
	if (n < 0)
		return GMT_FD_OTHER;
	target[n] = 0;
	if (!strcmp(target, vm_link))
		return GMT_FD_VM;
	if (is_gmem_link(target))
		return GMT_FD_GMEM;
	/* the magic needs the fd itself: only ours can be fstatfs'ed */
	if (pid == getpid() && !fstatfs(fd, &sfs) &&
	    (unsigned long)sfs.f_type == GMT_GUEST_MEMFD_MAGIC)
		return GMT_FD_GMEM;
	return GMT_FD_OTHER;
}

enum gmt_fd_kind gmt_classify_fd(int pid, int fd)
{
	char path[64];

	if (pid <= 0 || fd < 0)
		return GMT_FD_OTHER;
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", pid, fd);
	return classify(pid, fd, path);
}

static int fd_cmp(const void *a, const void *b)
{
	const struct gmt_kvm_fd *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

int gmt_list_kvm_fds(int pid, struct gmt_kvm_fd *out, int max)
{
	char dir[32], path[48];
	struct dirent *de;
	int n = 0, err = 0;
	DIR *d;

	if (pid <= 0)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "/proc/%d/fd", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	for (;;) {
		enum gmt_fd_kind kind;
		struct stat st;
		char *end;
		long fd;

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = errno;
			break;
		}
		fd = strtol(de->d_name, &end, 10);
		if (*end || end == de->d_name || fd < 0 || fd > INT_MAX)
			continue;	/* "." and ".." */
		/* our own listing fd is no KVM fd: skip the readlink */
		if (pid == getpid() && fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "%s/%d", dir, (int)fd);
		kind = classify(pid, (int)fd, path);
		if (kind == GMT_FD_OTHER)
			continue;
		/* stat follows the magic link to the open file's inode */
		if (stat(path, &st))
			continue;	/* closed meanwhile */
		if (n < max) {
			out[n].fd = (int)fd;
			out[n].kind = kind;
			out[n].ino = st.st_ino;
		}
		n++;
	}
	closedir(d);
	if (err)
		return -err;
	/* procfs lists in fd order already; sorted here so callers may rely on it */
	if (n > 0 && max > 0)
		qsort(out, n < max ? n : max, sizeof(*out), fd_cmp);
	return n;
}
