// SPDX-License-Identifier: GPL-2.0-only
/* gmemtrace policy check FILE: validate a policy and print it compiled,
 * as the BPF decision will read it (docs/policy.md). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "command.h"
#include "cli.h"
#include "policy.h"
#include "util.h"

static const char policy_doc[] =
"Check a policy file (docs/policy.md): parse it, compile it into the rules\n"
"the enforcement hook reads, and print them in order (first match wins).\n"
"Paths (exe, cgroup) are resolved now: BPF compares inodes.\n"
"\n"
"EXAMPLES:\n"
"  gmemtrace policy check /etc/gmemtrace/policy.yaml\n"
"  gmemtrace policy check -f json docs/policies/own-vmm-only.yaml | jq .rules\n"
"\v"
"Exit status: 0 valid (the rules printed), 2 usage error or an invalid\n"
"policy (FILE:LINE:COLUMN: reason on standard error).";

static const struct argp_option policy_options[] = {
	{ "format", 'f', "text|json", 0, "Output format (default text)", 0 },
	{ 0 },
};

struct policy_args {
	enum gmt_format fmt;
	const char *path;
	int nargs;
};

static error_t policy_parse(int key, char *arg, struct argp_state *state)
{
	struct policy_args *a = state->input;

	switch (key) {
	case 'f':
		return gmt_argp_format(state, arg, &a->fmt);
	case ARGP_KEY_ARG:
		if (a->nargs == 0 && strcmp(arg, "check")) {
			argp_error(state, "unknown subcommand '%s' (only: check FILE)", arg);
			return EINVAL;
		}
		if (a->nargs == 1)
			a->path = arg;
		if (a->nargs++ > 1) {
			argp_error(state, "one FILE only");
			return EINVAL;
		}
		break;
	case ARGP_KEY_END:
		if (!a->path)
			argp_error(state, "usage: check FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static void report_error(const struct policy_args *a, const struct gmt_policy_error *e)
{
	json_object *o;

	if (e->line)
		fprintf(stderr, "gmemtrace policy: %s:%u:%u: %s\n", a->path, e->line, e->col,
			e->msg);
	else
		fprintf(stderr, "gmemtrace policy: %s: %s\n", a->path, e->msg);
	if (a->fmt != GMT_FMT_JSON)
		return;
	o = json_object_new_object();
	json_object_object_add(o, "type", json_object_new_string("error"));
	json_object_object_add(o, "what", json_object_new_string("policy"));
	json_object_object_add(o, "file", json_object_new_string(a->path));
	json_object_object_add(o, "line", json_object_new_int((int)e->line));
	json_object_object_add(o, "column", json_object_new_int((int)e->col));
	json_object_object_add(o, "message", json_object_new_string(e->msg));
	json_object_object_add(o, "exit_code", json_object_new_int(GMT_EXIT_USAGE));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int cmd_policy(int argc, char **argv)
{
	struct argp argp = { policy_options, policy_parse, "check FILE", policy_doc,
			     NULL, NULL, NULL };
	static struct gmt_policy pol;	/* 20 KiB: not on the stack */
	struct policy_args a = { .fmt = GMT_FMT_TEXT };
	struct gmt_policy_error e;

	if (argp_parse(&argp, argc, argv, 0, NULL, &a))
		return GMT_EXIT_USAGE;
	if (gmt_policy_load(a.path, &pol, &e)) {
		report_error(&a, &e);
		return GMT_EXIT_USAGE;
	}
	if (a.fmt == GMT_FMT_JSON)
		gmt_policy_print_json(stdout, &pol);
	else
		gmt_policy_print_text(stdout, &pol);
	if (fflush(stdout) || ferror(stdout)) {
		gmt_err("cannot write the rules: %s", strerror(errno));
		return GMT_EXIT_RUNTIME;
	}
	return GMT_EXIT_OK;
}

GMT_COMMAND(policy_command) = {
	.name = "policy",
	.run = cmd_policy,
	.what = "check a policy file and print its compiled rules",
	.order = 6,
};
