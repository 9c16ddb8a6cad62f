/* tapirctl_links.c - `tapirctl attach` and `tapirctl detach`: serve one more container, or
 * stop serving one.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "tapirctl.h"

/**
 * num_arg() - @v as an integer for option @opt; exits EX_USAGE if it is not one (the daemon
 * checks the range, with the configuration file's message)
 */
static json_int_t num_arg(const char *opt, const char *v)
{
	long long n;
	char *end;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || end == v)
		die_usage("attach: %s: '%s' is not a number", opt, v);
	return (json_int_t)n;
}

/**
 * cmd_attach() - `tapirctl attach (--netns PATH|NAME | --pid PID) --name NAME [...]`: the
 * daemon serves one more container; prints the link as status does
 */
int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "address", required_argument, NULL, 'a' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "dns", required_argument, NULL, 'd' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "no-configure", no_argument, NULL, 'C' },
		{ "no-host-loopback", no_argument, NULL, 'L' },
		{ "deny", required_argument, NULL, 'D' },
		{ "deny-link-local", no_argument, NULL, 'K' },
		{ "deny-host-addresses", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *deny = NULL;
	int o;

	while ((o = getopt_long(argc, argv, "n:p:N:i:a:g:d:m:CLD:KHj", opts, NULL)) != -1) {
		switch (o) {
		case 'D':
			if (!deny) {
				deny = json_array();
				json_object_set_new(args, "deny", deny);
			}
			json_array_append_new(deny, json_string(optarg));
			break;
		case 'K':
			json_object_set_new(args, "deny_link_local", json_true());
			break;
		case 'H':
			json_object_set_new(args, "deny_host_addresses", json_true());
			break;
		case 'n':
			json_object_set_new(args, "netns", json_string(optarg));
			break;
		case 'p':
			json_object_set_new(args, "pid", json_integer(num_arg("--pid", optarg)));
			break;
		case 'N':
			json_object_set_new(args, "name", json_string(optarg));
			break;
		case 'i':
			json_object_set_new(args, "ifname", json_string(optarg));
			break;
		case 'a':
			json_object_set_new(args, "address", json_string(optarg));
			break;
		case 'g':
			json_object_set_new(args, "gateway", json_string(optarg));
			break;
		case 'd':
			json_object_set_new(args, "dns", json_string(optarg));
			break;
		case 'm':
			json_object_set_new(args, "mtu", json_integer(num_arg("--mtu", optarg)));
			break;
		case 'C':
			json_object_set_new(args, "configure", json_false());
			break;
		case 'L':
			json_object_set_new(args, "host_loopback", json_false());
			break;
		case 'j':
			opt_json = true;
			break;
		default:
			die_usage("attach: bad option");
		}
	}
	no_more_args(argc, argv, "attach");
	if (!json_object_get(args, "netns") && !json_object_get(args, "pid"))
		die_usage("attach needs --netns PATH|NAME or --pid PID");
	if (json_object_get(args, "netns") && json_object_get(args, "pid"))
		die_usage("attach: give --netns or --pid, not both");
	if (!json_object_get(args, "name"))
		die_usage("attach needs --name NAME");
	r = request("attach", args, &reply);
	if (json_shown(r, reply))
		return 0;
	printf("attached %s: %s (index %lld) in %s, %s, gateway %s, dns %s, mtu %lld\n",
	       jstr(r, "name", "?"), jstr(r, "ifname", "?"), jint(r, "ifindex"),
	       jstr(r, "netns", "?"), jstr(r, "address", "?"), jstr(r, "gateway", "?"),
	       jstr(r, "dns", "?"), jint(r, "mtu"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_detach() - `tapirctl detach NAME`: its flows, forwards and TAP go
 */
int cmd_detach(int argc, char **argv)
{
	json_t *reply;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "detach");
	if (optind + 1 != argc)
		die_usage("detach takes one link NAME");
	request("detach", json_pack("{s:s}", "name", argv[optind]), &reply);
	if (opt_json)
		print_json(json_object_get(reply, "return"));
	else
		printf("detached %s\n", argv[optind]);
	json_decref(reply);
	return 0;
}
