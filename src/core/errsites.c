// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "errsites.h"

const char *gmt_errsite_name(unsigned int site)
{
	static const char *const n[GMT_SITE_MAX] = {
		[GMT_SITE_NONE] = "none",
		[GMT_SITE_FD_SLOT] = "fd_slot",
		[GMT_SITE_CONVERT_ARG] = "convert_arg",
		[GMT_SITE_GMEM_CREATE_ARG] = "gmem_create_arg",
		[GMT_SITE_MEMSLOT_ARG] = "memslot_arg",
		[GMT_SITE_ERROR_OFFSET] = "error_offset",
		[GMT_SITE_RB_EVENT] = "rb_event",
		[GMT_SITE_RB_GUEST_REQ] = "rb_guest_req",
		[GMT_SITE_RB_VM_GONE] = "rb_vm_gone",
		[GMT_SITE_VMS_UPDATE] = "vms_update",
		[GMT_SITE_PIDS_UPDATE] = "pids_update",
		[GMT_SITE_ERRORS_UPDATE] = "errors_update",
		[GMT_SITE_KVM_RUN_READ] = "kvm_run_read",
		[GMT_SITE_G3_ERR_INDEX] = "g3_err_index",
		[GMT_SITE_XA_NODE] = "xa_node",
		[GMT_SITE_XA_SLOT] = "xa_slot",
		[GMT_SITE_FOLIO_BATCH] = "folio_batch",
		[GMT_SITE_HOLD_IOV] = "holder_iovec",
		[GMT_SITE_RB_HOLDER] = "rb_holder",
		[GMT_SITE_HOLD_STACK] = "holder_stack",
	};

	return site < GMT_SITE_MAX && n[site] ? n[site] : "?";
}

int gmt_errsites_read(int map_fd, struct gmt_site_err out[GMT_SITE_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), cpu;
	struct gmt_site_err *vals;
	__u32 site;

	memset(out, 0, GMT_SITE_MAX * sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (site = 0; site < GMT_SITE_MAX; site++) {
		if (bpf_map_lookup_elem(map_fd, &site, vals)) {
			int err = -errno;

			free(vals);
			return err;
		}
		for (cpu = 0; cpu < ncpu; cpu++) {
			out[site].count += vals[cpu].count;
			if (vals[cpu].count)
				out[site].last_err = vals[cpu].last_err;
		}
	}
	free(vals);
	return 0;
}
