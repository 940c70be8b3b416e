// SPDX-License-Identifier: GPL-2.0-only
/* stat's policy part (stat_policy.h): one block per policy hook running */
#include <stdio.h>

#include "gmemtrace.h"
#include "json.h"
#include "live.h"
#include "policy.h"
#include "stat_policy.h"

static const char *mode_name(const struct gmt_pol_live *h)
{
	return h->mode == GMT_POL_ENFORCE ? "enforce" : "monitor";
}

void gmt_text_stat_policy(FILE *f, const struct gmt_pol_live *p, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		const struct gmt_pol_live *h = &p[i];

		if (i >= GMT_POL_LIVE_MAX) {
			fprintf(f, "  policy: %d more hooks attached, not read\n", n - i);
			break;
		}
		fprintf(f, "  policy %s link %u prog %u%s", h->prog, h->link_id, h->prog_id,
			h->pinned ? " pinned" : "");
		if (!h->readable) {
			fprintf(f, ": rules unreadable (maps not laid out as this gmemtrace's)\n");
			continue;
		}
		fprintf(f, " %s, %u rules\n", mode_name(h), h->nr_rules);
		/* monitor mode counts what enforce would have denied */
		fprintf(f, "    %-8s %-6s %12s %12s\n", "RULE", "ACTION", "HITS",
			h->mode == GMT_POL_ENFORCE ? "DENIES" : "WOULD_DENY");
		for (j = 0; j <= (int)h->nr_rules; j++) {
			const struct gmt_pol_rule_count *c = &h->rules[j];
			char id[16];

			snprintf(id, sizeof(id), "%u", c->id);
			fprintf(f, "    %-8s %-6s %12llu %12llu\n", j < (int)h->nr_rules ? id : "default",
				gmt_policy_action_name(c->action), (unsigned long long)c->hits,
				(unsigned long long)c->denies);
		}
	}
}

json_object *gmt_json_stat_policy(const struct gmt_pol_live *p, int n)
{
	json_object *arr = json_object_new_array();
	int i, j;

	for (i = 0; i < n && i < GMT_POL_LIVE_MAX; i++) {
		const struct gmt_pol_live *h = &p[i];
		json_object *o = json_object_new_object(), *rules = NULL;

		json_object_object_add(o, "prog", json_object_new_string(h->prog));
		json_object_object_add(o, "link_id", J_U64(h->link_id));
		json_object_object_add(o, "prog_id", J_U64(h->prog_id));
		json_object_object_add(o, "pinned", json_object_new_boolean(h->pinned));
		if (h->readable) {
			json_object_object_add(o, "mode", json_object_new_string(mode_name(h)));
			rules = json_object_new_array();
			for (j = 0; j <= (int)h->nr_rules; j++) {
				const struct gmt_pol_rule_count *c = &h->rules[j];
				json_object *r = json_object_new_object();

				/* id 0 with default true: no rule matched */
				json_object_object_add(r, "id", J_U64(c->id));
				json_object_object_add(r, "default",
						       json_object_new_boolean(j == (int)h->nr_rules));
				json_object_object_add(r, "action", json_object_new_string(
					gmt_policy_action_name(c->action)));
				json_object_object_add(r, "hits", J_U64(c->hits));
				json_object_object_add(r, "denies", J_U64(c->denies));
				json_object_array_add(rules, r);
			}
		}
		if (!h->readable)
			json_object_object_add(o, "mode", NULL);
		json_object_object_add(o, "rules", rules);	/* null: unreadable */
		json_object_array_add(arr, o);
	}
	return arr;
}
