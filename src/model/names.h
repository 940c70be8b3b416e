/* SPDX-License-Identifier: GPL-2.0-only */
/* The names of the model's enumerations, as every format shows them. */
#ifndef GMT_NAMES_H
#define GMT_NAMES_H

const char *gmt_errno_name(int err);	/* positive errno -> "ENOTTY", NULL if unknown */
const char *gmt_gen_name(unsigned int gen);	/* "G1" */
const char *gmt_gen_uapi(unsigned int gen, unsigned int cmd);	/* "KVM_SET_MEMORY_ATTRIBUTES" */
const char *gmt_dir_name(unsigned int dir);	/* "to_private" */
const char *gmt_event_name(unsigned int type);	/* "convert" */
const char *gmt_source_name(unsigned int src);	/* "syscall_tp", "fentry", "kprobe" */
const char *gmt_phase_name(unsigned int ph);	/* "invalidate_start" */
const char *gmt_counter_name(unsigned int c);	/* "ringbuf_drops" */
const char *gmt_vm_end_name(unsigned int how);	/* "released" */
const char *gmt_greq_end_name(unsigned int end);	/* "reentry" */
const char *gmt_greq_kind_name(unsigned int kind);	/* "map_gpa_range" */
const char *gmt_holder_kind_name(unsigned int kind);	/* "io_uring_buffer", "vfio_dma" */
const char *gmt_holder_end_name(unsigned int kind, unsigned int end);	/* "unmap" */

#endif /* GMT_NAMES_H */
