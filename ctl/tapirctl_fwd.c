/* tapirctl_fwd.c - `tapirctl fwd add|list|del`: port forwards from the host into a container
 * (slirp4netns's add_hostfwd, list_hostfwd, remove_hostfwd).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <jansson.h>

#include "fwdspec.h"
#include "tapirctl.h"

/**
 * fwd_add() - `tapirctl fwd add [--udp] [--link L] SPEC`: one add_hostfwd per port of the
 * range, into link L (which the daemon requires once it serves several); prints
 * the ids (or, with --json, the "return" values as an array)
 */
static int fwd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udp", no_argument, NULL, 'u' },
		{ "tcp", no_argument, NULL, 't' },
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *link = NULL;
	bool udp = false;
	struct fwd_spec sp;
	char why[160], addr[INET_ADDRSTRLEN];
	struct in_addr ia;
	json_t *all = json_array();
	int o;

	while ((o = getopt_long(argc, argv, "l:j", opts, NULL)) != -1) {
		if (o == 'l')
			link = optarg;
		else if (o == 'u')
			udp = true;
		else if (o == 't')
			udp = false;
		else if (o == 'j')
			opt_json = true;
		else
			die_usage("fwd add: bad option");
	}
	if (optind + 1 != argc)
		die_usage("fwd add takes one [HOSTADDR:]HOSTPORT:CONTAINERPORT");
	if (fwd_spec_parse(argv[optind], udp ? 17 : 6, &sp, why, sizeof(why)))
		die_usage("fwd add: '%s': %s", argv[optind], why);
	ia.s_addr = htonl(sp.haddr);
	inet_ntop(AF_INET, &ia, addr, sizeof(addr));
	for (unsigned int i = 0; i < sp.count; i++) {
		json_t *reply, *r;

		json_t *args = json_pack("{s:s, s:s, s:i, s:i}", "proto", udp ? "udp" : "tcp",
					 "host_addr", addr, "host_port", sp.hport + (int)i,
					 "guest_port", sp.gport + (int)i);

		if (link)
			json_object_set_new(args, "link", json_string(link));
		r = request("add_hostfwd", args, &reply);
		if (opt_json)
			json_array_append(all, r);
		else
			printf("forward %lld: %s %s:%u -> %s%scontainer port %u\n", jint(r, "id"),
			       udp ? "udp" : "tcp", addr, sp.hport + i, link ? link : "",
			       link ? " " : "", sp.gport + i);
		json_decref(reply);
	}
	if (opt_json)
		print_json(all);
	json_decref(all);
	return 0;
}

/**
 * fwd_list() - `tapirctl fwd list [--link L]`: one line per forward, with its link
 */
static int fwd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *entries;
	char host[64], guest[64];

	parse_opts(argc, argv, "l:j", opts, args, "fwd list");
	if (optind < argc)
		die_usage("fwd list takes no arguments");
	r = request("list_hostfwd", args, &reply);
	if (json_shown(r, reply))
		return 0;
	entries = json_object_get(r, "entries");
	printf("%4s  %-5s  %-21s  %-21s  %s\n", "ID", "PROTO", "HOST", "CONTAINER", "LINK");
	for (size_t i = 0; i < json_array_size(entries); i++) {
		const json_t *e = json_array_get(entries, i);

		snprintf(host, sizeof(host), "%s:%lld", jstr(e, "host_addr", "?"),
			 jint(e, "host_port"));
		snprintf(guest, sizeof(guest), "%s:%lld", jstr(e, "guest_addr", "?"),
			 jint(e, "guest_port"));
		printf("%4lld  %-5s  %-21s  %-21s  %s\n", jint(e, "id"), jstr(e, "proto", "?"),
		       host, guest, jstr(e, "link", "-"));
	}
	json_decref(reply);
	return 0;
}

/**
 * fwd_del() - `tapirctl fwd del ID`
 */
static int fwd_del(int argc, char **argv)
{
	json_t *reply;
	char *end;
	long long id;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "fwd del");
	if (optind + 1 != argc)
		die_usage("fwd del takes one forward ID");
	id = strtoll(argv[optind], &end, 10);
	if (*end || end == argv[optind] || id < 1)
		die_usage("fwd del: '%s' is not a forward ID", argv[optind]);
	request("remove_hostfwd", json_pack("{s:I}", "id", (json_int_t)id), &reply);
	if (opt_json)
		print_json(json_object_get(reply, "return"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_fwd() - `tapirctl fwd add|list|del ...`: port forwards (slirp4netns's add_hostfwd,
 * list_hostfwd, remove_hostfwd)
 */
int cmd_fwd(int argc, char **argv)
{
	if (argc < 2)
		die_usage("fwd needs add, list or del");
	optind = 0;
	if (!strcmp(argv[1], "add"))
		return fwd_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return fwd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del") || !strcmp(argv[1], "rm") || !strcmp(argv[1], "remove"))
		return fwd_del(argc - 1, argv + 1);
	die_usage("fwd: unknown subcommand '%s' (add, list, del)", argv[1]);
}
