/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which of a process's fds are KVM VMs and guest_memfds, seen from user
 * space through /proc/<pid>/fd (the BPF side classifies struct files).
 */
#ifndef GMT_KVMFD_H
#define GMT_KVMFD_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline
#endif
#include "gmemtrace.h"
#include "kvm_uapi.h"
#include "gmt_decode.h"

/* statfs magic of guest_memfd's own pseudo-fs (7.x; 6.x uses anon_inodefs) */
#define GMT_GUEST_MEMFD_MAGIC	0x474d454d	/* "GMEM" */

struct gmt_kvm_fd {
	int fd;
	enum gmt_fd_kind kind;	/* GMT_FD_VM or GMT_FD_GMEM */
	__u64 ino;		/* st_ino of the open file; every VM fd shares
				 * the anon_inode one, a guest_memfd has its own */
};

/* GMT_FD_OTHER also when the fd or the process does not exist */
enum gmt_fd_kind gmt_classify_fd(int pid, int fd);

/*
 * Scan /proc/<pid>/fd for VM and guest_memfd fds, in fd order. Returns how
 * many there are (entries past max are counted, not stored), or -errno if
 * the directory cannot be read.
 */
int gmt_list_kvm_fds(int pid, struct gmt_kvm_fd *out, int max);

#endif /* GMT_KVMFD_H */
