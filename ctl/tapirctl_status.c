/* tapirctl_status.c - `tapirctl status` and `tapirctl stats`: the daemons and their links,
 * and every counter, merged over every daemon of the runtime directory (one with -s).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tapirctl.h"

/**
 * print_link_status() - one link of `status`
 */
static void print_link_status(const json_t *l)
{
	const json_t *c = json_object_get(l, "counters"), *fl = json_object_get(l, "flows");
	const json_t *by = json_object_get(fl, "by_state"), *v;
	char b1[16], b2[16];
	long long drops = 0;
	const char *key;
	bool first = true;

	json_object_foreach((json_t *)c, key, v)
		if (!strncmp(key, "drop_", 5))
			drops += json_integer_value(v);
	printf("link %s\n", jstr(l, "name", "?"));
	printf("  netns          %s\n", jstr(l, "netns", "?"));
	printf("  interface      %s (index %lld)%s\n", jstr(l, "ifname", "?"), jint(l, "ifindex"),
	       json_is_true(json_object_get(l, "configured")) ? "" : ", not configured");
	printf("  address        %s, gateway %s, dns %s\n", jstr(l, "address", "?"),
	       jstr(l, "gateway", "?"), jstr(l, "dns", "?"));
	printf("  mtu            %lld\n", jint(l, "mtu"));
	printf("  mac            %s (ours), %s (container)\n", jstr(l, "mac", "?"),
	       jstr(l, "container_mac", "not seen yet"));
	printf("  in             %lld frames, %s bytes\n", jint(c, "rx_frames"),
	       human_bytes(b1, sizeof(b1), jint(c, "rx_bytes")));
	printf("  out            %lld frames, %s bytes\n", jint(c, "tx_frames"),
	       human_bytes(b2, sizeof(b2), jint(c, "tx_bytes")));
	printf("  drops          %lld (tapirctl stats for reasons)\n", drops);
	printf("  flows          %lld", jint(fl, "total"));
	json_object_foreach((json_t *)by, key, v) {
		if (!json_integer_value(v))
			continue;
		printf("%s%s %lld", first ? ": " : ", ", key, (long long)json_integer_value(v));
		first = false;
	}
	putchar('\n');
}

/**
 * status_merged() - the status of several daemons as one object of today's shape: the first
 * daemon's fields, every daemon's links, the flows summed, and "daemons" (socket, version,
 * pid, uptime_ms, started of each) when there is more than one
 * Return: a new reference
 */
static json_t *status_merged(const struct merged *m)
{
	json_t *o = json_deep_copy(m->ret[0]), *daemons = json_array();
	json_int_t total = 0;

	if (!o || !daemons)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 0; i < m->n; i++) {
		total += jint(m->ret[i], "flows_total");
		json_array_append_new(daemons,
				      json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "socket",
						m->sock[i], "version",
						json_object_get(m->ret[i], "version"), "pid",
						json_object_get(m->ret[i], "pid"), "uptime_ms",
						json_object_get(m->ret[i], "uptime_ms"), "started",
						json_object_get(m->ret[i], "started")));
	}
	json_object_set_new(o, "links", merged_array(m, "links"));
	json_object_set_new(o, "flows_total", json_integer(total));
	if (m->n > 1)
		json_object_set_new(o, "daemons", daemons);
	else
		json_decref(daemons);
	return o;
}

/**
 * cmd_status() - `tapirctl status`: each daemon (every one of the runtime directory without
 * -s), then its links
 */
int cmd_status(int argc, char **argv)
{
	struct merged *m;
	json_t *links, *ctl;
	char up[32];
	size_t i, k;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "status");
	if (optind < argc)
		die_usage("status takes no arguments");
	m = request_all("status", NULL);
	if (opt_json) {
		json_t *o = status_merged(m);

		print_json(o);
		json_decref(o);
		merged_free(m);
		return merged_failed ? EXIT_ERROR_REPLY : 0;
	}
	for (k = 0; k < m->n; k++) {
		const json_t *r = m->ret[k];

		if (k)
			putchar('\n');
		printf("tapird %s, pid %lld, up %s (since %s), %lld flows", jstr(r, "version", "?"),
		       jint(r, "pid"), human_ms(up, sizeof(up), jint(r, "uptime_ms")),
		       jstr(r, "started", "?"), jint(r, "flows_total"));
		printf(m->n > 1 ? ", control %s\n" : "\n", m->sock[k]);
		ctl = json_object_get(r, "control");
		if (json_is_object(ctl))
			printf("control socket: %lld clients (limit %lld, %lld per user), refused "
			       "%lld (full) %lld (per user), %lld closed idle\n",
			       jint(ctl, "clients"), jint(ctl, "max_clients"),
			       jint(ctl, "max_clients_per_uid"), jint(ctl, "refused_full"),
			       jint(ctl, "refused_uid"), jint(ctl, "idle_closed"));
		links = json_object_get(r, "links");
		if (!json_array_size(links))
			printf("no links\n");
		for (i = 0; i < json_array_size(links); i++)
			print_link_status(json_array_get(links, i));
	}
	merged_free(m);
	return merged_failed ? EXIT_ERROR_REPLY : 0;
}

/* --- stats -------------------------------------------------------------------------------- */

/**
 * print_counters() - the counters of one link (or the total): everything but the drops,
 * then the drops by reason with their sum, in two aligned columns
 */
static void print_counters(const char *title, const json_t *blk)
{
	const json_t *c = json_object_get(blk, "counters"), *d = json_object_get(blk, "drops");
	const char *key;
	json_t *v;
	long long sum = 0;

	printf("%s\n", title);
	json_object_foreach((json_t *)c, key, v)
		if (strncmp(key, "drop_", 5))
			printf("  %-30s %20lld\n", key, (long long)json_integer_value(v));
	printf("  %-30s %20lld\n", "tx_errors", jint(blk, "tx_errors"));
	printf("  drops by reason:\n");
	json_object_foreach((json_t *)d, key, v) {
		printf("    %-28s %20lld\n", key, (long long)json_integer_value(v));
		sum += json_integer_value(v);
	}
	printf("    %-28s %20lld\n", "total", sum);
}

/**
 * cmd_stats() - `tapirctl stats [--link L]`: every link of every daemon (without -s), then
 * the total over all of them
 */
int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *links, *total;
	struct merged *m;
	char title[160];

	parse_opts(argc, argv, "l:j", opts, args, "stats");
	no_more_args(argc, argv, "stats");
	m = request_all("stats", args);
	/* one object of today's shape: every daemon's links, their totals added up */
	links = merged_array(m, "links");
	total = json_deep_copy(json_object_get(m->ret[0], "total"));
	if (!total)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 1; i < m->n; i++)
		json_add(total, json_object_get(m->ret[i], "total"));
	if (opt_json) {
		json_t *o = json_pack("{s:o, s:o}", "links", links, "total", total);

		print_json(o);
		json_decref(o);
		merged_free(m);
		return merged_failed ? EXIT_ERROR_REPLY : 0;
	}
	for (size_t i = 0; i < json_array_size(links); i++) {
		const json_t *l = json_array_get(links, i);

		snprintf(title, sizeof(title), "link %s", jstr(l, "name", "?"));
		print_counters(title, l);
	}
	if (json_array_size(links) != 1)
		print_counters("total", total);
	json_decref(links);
	json_decref(total);
	merged_free(m);
	return merged_failed ? EXIT_ERROR_REPLY : 0;
}
