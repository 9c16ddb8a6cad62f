/* tapirctl_capture.c - `tapirctl capture start|stop|status`: a pcap of a link's TAP traffic,
 * written by the daemon into its capture directory.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tapirctl.h"

/**
 * cmd_capture() - `tapirctl capture start FILE [--link L] [--count N] [--bytes N]`,
 * `capture stop [--link L]`, `capture status [--link L]`
 */
int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r;
	const char *action;
	char *end;
	long long v;
	int o;

	while ((o = getopt_long(argc, argv, "l:n:b:j", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
		case 'b':
			v = strtoll(optarg, &end, 10);
			if (*end || end == optarg || v < 1)
				die_usage("capture: --%s wants a positive number",
					  o == 'n' ? "count" : "bytes");
			json_object_set_new(args, o == 'n' ? "count" : "bytes", json_integer(v));
			break;
		default:
			if (!common_opt(o, args))
				die_usage("capture: bad option");
		}
	}
	if (optind >= argc)
		die_usage("capture needs start FILE, stop or status");
	action = argv[optind++];
	json_object_set_new(args, "action", json_string(action));
	if (!strcmp(action, "start")) {
		if (optind + 1 != argc)
			die_usage("capture start takes one FILE");
		/* A bare name: the daemon writes it in its capture directory (capture-dir) and
		 * refuses a path; it says where in its reply. */
		json_object_set_new(args, "file", json_string(argv[optind]));
	} else if (optind != argc) {
		die_usage("capture %s takes no FILE", action);
	}
	r = request("capture", args, &reply);
	if (opt_json) {
		print_json(r);
	} else if (!json_is_true(json_object_get(r, "running")) && !json_object_get(r, "file")) {
		printf("link %s: no capture\n", jstr(r, "link", "?"));
	} else {
		char b[16];

		printf("link %s: %s %s, %lld frames, %s%s%s%s\n", jstr(r, "link", "?"),
		       json_is_true(json_object_get(r, "running")) ? "capturing to"
		       : !strcmp(action, "stop")		    ? "captured to"
								    : "capture done:",
		       jstr(r, "file", "?"), jint(r, "frames"),
		       human_bytes(b, sizeof(b), jint(r, "bytes")),
		       json_is_true(json_object_get(r, "full")) ? " (bound reached)" : "",
		       json_is_string(json_object_get(r, "error")) ? ", error: " : "",
		       jstr(r, "error", ""));
	}
	json_decref(reply);
	return 0;
}
