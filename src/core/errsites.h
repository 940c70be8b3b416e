/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helper failures the BPF programs counted per call site (map gmt_err_sites,
 * enum gmt_site in include/gmemtrace.h), summed over CPUs.
 */
#ifndef GMT_ERRSITES_H
#define GMT_ERRSITES_H

#include "gmemtrace.h"

/* out[site] = failures at that site over all CPUs, and the error of one of
 * them; 0 on success, -errno if the map cannot be read */
int gmt_errsites_read(int map_fd, struct gmt_site_err out[GMT_SITE_MAX]);

/* a stable short name for a site ("fd_slot", "rb_event", ...) */
const char *gmt_errsite_name(unsigned int site);

#endif /* GMT_ERRSITES_H */
