/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The start of a refs record about one fd of one task (io_uring ring, VFIO
 * container): its header and the task's comm, shared by the --holders walks.
 */
#ifndef GMT_LIB_REFS_REC_BPF_H
#define GMT_LIB_REFS_REC_BPF_H

#include "kvm_files.bpf.h"

static __always_inline void gmt_refs_rec_start(struct gmt_refs_hdr *h, char *comm, __u16 type,
					       __u16 size, struct task_struct *task,
					       struct file *file, __u32 tgid, __s32 fd)
{
	h->type = type;
	h->size = size;
	h->tgid = tgid;
	h->fd = fd;
	h->ino = gmt_file_ino(file);
	bpf_core_read(comm, 16, &task->comm);
}

#endif /* GMT_LIB_REFS_REC_BPF_H */
