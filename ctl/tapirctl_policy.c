/* tapirctl_policy.c - `tapirctl policy list|add|remove|set`: what containers may not reach,
 * the daemon-wide default and each link's, read and changed at run time.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "tapirctl.h"

/**
 * print_policy() - one policy block of policy_list's reply: the two switches, then the rules
 * @title:	"default" or "link NAME"
 * @p:		{"deny_link_local": B, "deny_host_addresses": B, "deny": [RULE...]}
 */
static void print_policy(const char *title, const json_t *p)
{
	const json_t *rules = json_object_get(p, "deny");

	printf("%s: deny-link-local %s, deny-host-addresses %s\n", title,
	       json_is_true(json_object_get(p, "deny_link_local")) ? "yes" : "no",
	       json_is_true(json_object_get(p, "deny_host_addresses")) ? "yes" : "no");
	if (!json_array_size(rules))
		printf("  (no deny rules)\n");
	for (size_t i = 0; i < json_array_size(rules); i++)
		printf("  deny %s\n", json_string_value(json_array_get(rules, i)) ?: "?");
}

/**
 * policy_list() - `tapirctl policy list [--link L]`: the daemon's default, then each link's
 */
static int policy_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *links;
	char title[160];

	parse_opts(argc, argv, "l:j", opts, args, "policy list");
	if (optind < argc)
		die_usage("policy list takes no arguments");
	r = request("policy_list", args, &reply);
	if (json_shown(r, reply))
		return 0;
	print_policy("default (every link)", json_object_get(r, "default"));
	links = json_object_get(r, "links");
	for (size_t i = 0; i < json_array_size(links); i++) {
		const json_t *l = json_array_get(links, i);

		snprintf(title, sizeof(title), "link %s", jstr(l, "name", "?"));
		print_policy(title, l);
	}
	json_decref(reply);
	return 0;
}

/**
 * policy_change() - `tapirctl policy add|remove [--link L] RULE` and `tapirctl policy set
 * [--link L] deny-link-local|deny-host-addresses yes|no`; without --link the daemon-wide
 * default changes (every link)
 * @what:	"add", "remove" or "set"
 */
static int policy_change(const char *what, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r;
	char cmd[32];

	parse_opts(argc, argv, "l:j", opts, args, "policy");
	if (!strcmp(what, "set")) {
		bool yes;

		if (optind + 2 != argc)
			die_usage("policy set takes deny-link-local|deny-host-addresses yes|no");
		if (!strcmp(argv[optind + 1], "yes") || !strcmp(argv[optind + 1], "on"))
			yes = true;
		else if (!strcmp(argv[optind + 1], "no") || !strcmp(argv[optind + 1], "off"))
			yes = false;
		else
			die_usage("policy set: '%s' is not yes or no", argv[optind + 1]);
		if (!strcmp(argv[optind], "deny-link-local"))
			json_object_set_new(args, "deny_link_local", json_boolean(yes));
		else if (!strcmp(argv[optind], "deny-host-addresses"))
			json_object_set_new(args, "deny_host_addresses", json_boolean(yes));
		else
			die_usage("policy set: '%s' is not deny-link-local or deny-host-addresses",
				  argv[optind]);
	} else {
		if (optind + 1 != argc)
			die_usage("policy %s takes one rule: CIDR[:PORT[-PORT]] [tcp|udp|any]",
				  what);
		json_object_set_new(args, "rule", json_string(argv[optind]));
	}
	snprintf(cmd, sizeof(cmd), "policy_%s", what);
	r = request(cmd, args, &reply);
	if (json_shown(r, reply))
		return 0;
	if (json_string_value(json_object_get(r, "rule")))
		printf("%s: %s deny %s\n", jstr(r, "link", "default"),
		       !strcmp(what, "add") ? "added" : "removed", jstr(r, "rule", "?"));
	else
		printf("%s: policy set\n", jstr(r, "link", "default"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_policy() - `tapirctl policy list|add|remove|set ...`: what containers may reach
 */
int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		die_usage("policy needs list, add, remove or set");
	optind = 0;
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return policy_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "add"))
		return policy_change("add", argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove") || !strcmp(argv[1], "del") || !strcmp(argv[1], "rm"))
		return policy_change("remove", argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return policy_change("set", argc - 1, argv + 1);
	die_usage("policy: unknown subcommand '%s' (list, add, remove, set)", argv[1]);
}
