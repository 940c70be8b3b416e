/* SPDX-License-Identifier: GPL-2.0-only */
/* stat's policy part: the hooks running now and their per-rule counters
 * (src/policy/live.h), in text and JSON */
#ifndef GMT_STAT_POLICY_H
#define GMT_STAT_POLICY_H

#include <stdio.h>
#include <json-c/json.h>

struct gmt_pol_live;

void gmt_text_stat_policy(FILE *f, const struct gmt_pol_live *p, int n);
/* an array, one object per hook (empty: no policy running) */
json_object *gmt_json_stat_policy(const struct gmt_pol_live *p, int n);

#endif /* GMT_STAT_POLICY_H */
