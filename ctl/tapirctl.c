/* tapirctl.c - the command line for tapird: global options, the help text, and the dispatch of
 * COMMAND to its cmd_*() (one file per command family: tapirctl_status.c, tapirctl_conns.c,
 * tapirctl_watch.c, tapirctl_top.c, tapirctl_capture.c, tapirctl_fwd.c, tapirctl_policy.c,
 * tapirctl_links.c; raw in tapirctl_request.c), and the option parsing the commands share.
 * Each command sends one request on the control socket and shows the reply for people
 * (tables, sizes, ages) or, with --json, as the raw "return" value for scripts.
 *
 * Exit codes: 0 success, 1 the daemon answered with an error ("tapirctl: CLASS: desc" on
 * stderr), 2 the daemon could not be reached (no socket, refused, no reply in time, a reply
 * that is not the protocol), 64 bad usage (sysexits' EX_USAGE).
 * Must not: know the daemon's internals; everything comes from the JSON.
 */
#include <config.h> /* autoconf's: PACKAGE_VERSION */

#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tapirctl.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

bool opt_json;
int timeout_s = TIMEOUT_S;

const struct option json_only_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/**
 * usage() - the help text on @out
 */
static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tapirctl [-s|--socket PATH] [-j|--json] [-t|--timeout SECS] COMMAND [ARGS]\n"
		"Show what tapird is doing (its control socket speaks JSON).\n"
		"\n"
		"Commands:\n"
		"  status                      daemon and links: addresses, traffic, flows per state\n"
		"  stats [--link L]            every counter, drops by reason\n"
		"  conns [--state S] [--proto tcp|udp] [--link L] [--all]\n"
		"                              the connection table (--all: and recently closed)\n"
		"  conn ID                     one connection in detail: TCP internals, the upstream\n"
		"                              socket's TCP_INFO, its state history\n"
		"  watch [--link L] [--proto P] [--state S] [--id N] [--count N]\n"
		"                              one line per flow event (open, state, close) as they\n"
		"                              happen; --json for the raw events\n"
		"  top [-n N] [-d SECS] [--link L] [--rows K]\n"
		"                              live view: flows per state, rates, busiest flows\n"
		"                              (q quits; without a terminal: N plain snapshots)\n"
		"  capture start NAME [--link L] [--count N] [--bytes N]  (NAME: a file in tapird's\n"
		"      capture-dir, /var/lib/tapird/captures by default)\n"
		"  capture stop|status [--link L]\n"
		"                              pcap of the link's TAP traffic (root or admin group)\n"
		"  fwd add [--udp] [--link L] [HOSTADDR:]HOSTPORT:CONTAINERPORT\n"
		"                              forward a host port (or range 8000-8010:80-90) into\n"
		"                              the container (root or admin group)\n"
		"  fwd list [--link L]         the port forwards\n"
		"  fwd del ID                  remove a forward (its connections stay)\n"
		"  policy list [--link L]      what containers may not reach: the default and\n"
		"                              each link's deny rules and switches\n"
		"  policy add|remove [--link L] CIDR[:PORT[-PORT]] [tcp|udp|any]\n"
		"  policy set [--link L] deny-link-local|deny-host-addresses yes|no\n"
		"                              change it at run time, for link L or (without\n"
		"                              --link) for every link (root or admin group)\n"
		"  attach (--netns PATH|NAME | --pid PID) --name NAME [--ifname IF]\n"
		"         [--address CIDR] [--gateway ADDR] [--dns ADDR] [--mtu N]\n"
		"         [--no-configure] [--no-host-loopback] [--deny RULE]...\n"
		"         [--deny-link-local] [--deny-host-addresses]\n"
		"                              serve one more container (root or admin group)\n"
		"  detach NAME                 stop serving it: its flows, forwards and TAP go\n"
		"  raw JSON                    send one request line, print the reply line\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   control socket (env " SOCKET_ENV "). Without it, status,\n"
		"                      stats and conns ask every *.sock of the runtime directory\n"
		"                      (" RUNTIME_DIR "/ for root; $XDG_RUNTIME_DIR/tapird/ and\n"
		"                      " RUNTIME_DIR "/ otherwise; env " RUNTIME_DIR_ENV ") and merge;\n"
		"                      other commands use its " CONTROL_SOCK_NAME " or its only socket\n"
		"  -j, --json          print the reply's \"return\" value as JSON\n"
		"  -t, --timeout SECS  give up on a daemon that does not answer (default 10)\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n"
		"\n"
		"Exit: 0 ok, 1 the daemon answered with an error, 2 the daemon could not be reached,\n"
		"64 bad usage.\n");
}

/**
 * vdie() - "tapirctl: " and the message on stderr, then @tail, and exit @code
 */
__attribute__((noreturn)) static void vdie(int code, const char *tail, const char *fmt,
					   va_list ap)
{
	fputs("tapirctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
	exit(code);
}

/**
 * die_usage() - complain about the command line and exit EX_USAGE
 */
__attribute__((noreturn, format(printf, 1, 2))) void die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(EXIT_USAGE, "\nTry 'tapirctl --help'.\n", fmt, ap);
}

/**
 * unreachable() - say why the daemon could not be talked to and exit 2
 */
__attribute__((noreturn, format(printf, 1, 2))) void unreachable(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdie(EXIT_UNREACHABLE, "\n", fmt, ap);
}

/**
 * common_opt() - one of the options several commands share: --state, --proto, --link, --all
 * (filters, set in @args) and --json; each command's option string says which it takes
 * @o:		what getopt_long() returned
 * @args:	the request's arguments (may be NULL if the command takes only --json)
 * Return: true if @o was one of them
 */
bool common_opt(int o, json_t *args)
{
	switch (o) {
	case 's':
		json_object_set_new(args, "state", json_string(optarg));
		break;
	case 'p':
		json_object_set_new(args, "proto", json_string(optarg));
		break;
	case 'l':
		json_object_set_new(args, "link", json_string(optarg));
		break;
	case 'a':
		json_object_set_new(args, "all", json_true());
		break;
	case 'j':
		opt_json = true;
		break;
	default:
		return false;
	}
	return true;
}

/**
 * parse_opts() - the options of a command that takes only common_opt() ones; exits EX_USAGE
 * with "@cmd: bad option" on any other
 */
void parse_opts(int argc, char **argv, const char *optstring, const struct option *opts,
		       json_t *args, const char *cmd)
{
	int o;

	while ((o = getopt_long(argc, argv, optstring, opts, NULL)) != -1)
		if (!common_opt(o, args))
			die_usage("%s: bad option", cmd);
}

/**
 * no_more_args() - exit EX_USAGE with "@cmd: unexpected argument '...'" if operands are left
 */
void no_more_args(int argc, char **argv, const char *cmd)
{
	if (optind < argc)
		die_usage("%s: unexpected argument '%s'", cmd, argv[optind]);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "status", cmd_status }, { "stats", cmd_stats }, { "conns", cmd_conns },
		{ "conn", cmd_conn },     { "watch", cmd_watch }, { "top", cmd_top },
		{ "capture", cmd_capture }, { "raw", cmd_raw },
		{ "fwd", cmd_fwd },         { "attach", cmd_attach },
		{ "policy", cmd_policy },
		{ "detach", cmd_detach },
	};
	const char *env = getenv(SOCKET_ENV);
	int o;

	if (env && *env)
		sock_path = env;
	/* '+': stop at the command; its own options are parsed by the command. */
	while ((o = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock_path = optarg;
			break;
		case 'j':
			opt_json = true;
			break;
		case 't': {
			char *end;
			long t = strtol(optarg, &end, 10);

			if (*end || end == optarg || t < 1 || t > 86400)
				die_usage("--timeout: '%s' is not 1 to 86400 seconds", optarg);
			timeout_s = (int)t;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tapirctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* glibc: 0 also resets getopt's internal state for the next parse */
		return cmds[i].fn(argc, argv);
	}
	die_usage("unknown command '%s'", argv[optind]);
}
