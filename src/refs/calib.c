// SPDX-License-Identifier: GPL-2.0-only
/*
 * gmemtrace refs: the vmemmap calibration (src/core/vmemmap.c) through refs'
 * own iterator, which reads the calibration memfd's folios; for refs' pfns
 * and, alone over gmemtrace's own fds, for the tracer (gmt_refs_calibrate).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "internal.h"
#include "refs.h"
#include "refs.skel.h"
#include "util.h"

bool refs_pfn_of(const struct refs_ctx *c, __u64 folio, __u64 *pfn)
{
	return gmt_vmemmap_pfn_of(&c->vmm, folio, pfn);
}

void refs_calib_prepare(struct refs_ctx *c)
{
	gmt_vmemmap_prepare(&c->vmm);
	if (c->vmm.fd < 0)
		gmt_info("pfn calibration unavailable (%s): pfns will be null", c->vmm.why);
}

void refs_calib_record(struct refs_ctx *c, const struct gmt_refs_calib *r)
{
	gmt_vmemmap_record(&c->vmm, r);
	if (!c->vmm.known)
		gmt_info("pfn calibration: %s", c->vmm.why);
}

static void on_self(struct refs_ctx *c, const struct gmt_refs_hdr *h)
{
	if (h->type == GMT_REFS_REC_CALIB && h->size >= sizeof(struct gmt_refs_calib))
		gmt_vmemmap_record(&c->vmm, (const struct gmt_refs_calib *)h);
}

int gmt_refs_calibrate(struct gmt_vmemmap *v)
{
	struct gmt_refs_opts o = { 0 };
	struct refs_ctx c;
	struct bpf_link *link;
	int i;

	memset(&c, 0, sizeof(c));
	c.o = &o;
	gmt_vmemmap_prepare(&c.vmm);
	if (c.vmm.fd < 0)
		goto out;
	c.buf = malloc(READ_BUF);
	if (!c.buf || refs_load(&c)) {
		snprintf(c.vmm.why, sizeof(c.vmm.why), "refs' iterator did not load");
		goto out;
	}
	/* only our own fds: the memfd's folios (no other process is read) */
	link = refs_link_for(&c, REFS_IT_WALK, getpid());
	if (!link || refs_run_iter(&c, link, on_self))
		snprintf(c.vmm.why, sizeof(c.vmm.why), "refs' iterator did not run");
	else if (!c.vmm.known && !c.vmm.why[0])
		snprintf(c.vmm.why, sizeof(c.vmm.why), "the calibration memfd was not seen");
out:
	gmt_vmemmap_done(&c.vmm);
	for (i = 0; i < c.nr_links; i++)
		bpf_link__destroy(c.links[i].link);
	for (i = 0; i < REFS_IT_NR; i++)
		bpf_link__destroy(c.global[i]);
	refs_bpf__destroy(c.skel);
	free(c.links);
	free(c.buf);
	*v = c.vmm;
	return v->known ? 0 : -1;
}
