/* ctl_cmds.c - the control commands' handlers: status, stats, conn, watch, capture, the port
 * forwards (fwd.c) and attach and detach (ctl_links.c). Each is given the request (struct
 * ctl_req) and returns the "return" value, or NULL with the error recorded (ctl_fail()); the
 * table in ctl_proto.c names them. Must not: write to the socket, or check privileges (a
 * mutating handler runs only once ctl_auth.c has allowed it).
 */
#include <config.h> /* autoconf's: PACKAGE_VERSION (the daemon's own config.h is "config.h") */

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/tcp.h> /* struct tcp_info; not netinet/tcp.h, whose TCP_* clash with flow.h */

#include "capture.h"
#include "control.h"
#include "ctl_internal.h"
#include "ctl_links.h"
#include "flowjson.h"
#include "fwd.h"
#include "link.h"
#include "monitor.h"
#include "privsep.h"
#include "relay.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/**
 * jstr() - a JSON string for @s, with bytes that are not valid UTF-8 shown as '?', so that a
 * name we did not choose (a namespace path) can never make the reply invalid
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j || !s)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/**
 * ip_str() - "a.b.c.d" for @addr (host byte order) into @buf of @len bytes
 * Return: @buf
 */
static const char *ip_str(char *buf, size_t len, uint32_t addr)
{
	snprintf(buf, len, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}

/**
 * mac_str() - "02:74:61:70:69:72" for @mac into @buf (at least 18 bytes)
 * Return: @buf
 */
static const char *mac_str(char *buf, size_t len, const uint8_t mac[6])
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

/* Every counter of counters.h, by name and offset: iterate this, never a hand-made list. */
#define X_ENTRY(n, h) { #n, offsetof(struct stack_counters, n) },
static const struct {
	const char *name;
	size_t off;
} ctl_counters[] = { STACK_COUNTERS(X_ENTRY) };
#undef X_ENTRY
#define CTL_NCOUNTERS (sizeof(ctl_counters) / sizeof(ctl_counters[0]))

#define DROP_PREFIX "drop_"

/**
 * counter_at() - the value of counter @i in @c
 */
static uint64_t counter_at(const struct stack_counters *c, size_t i)
{
	uint64_t v;

	memcpy(&v, (const char *)c + ctl_counters[i].off, sizeof(v));
	return v;
}

/**
 * counters_json() - {"rx_frames": N, ...}: every counter of @c, by name
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *counters_json(const struct stack_counters *c)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < CTL_NCOUNTERS; i++)
		if (json_object_set_new(o, ctl_counters[i].name,
					json_integer((json_int_t)counter_at(c, i))) < 0) {
			json_decref(o);
			return NULL;
		}
	return o;
}

/**
 * drops_json() - {"short_frame": N, ...}: the drop_* counters of @c, by reason
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *drops_json(const struct stack_counters *c)
{
	json_t *o = json_object();
	const size_t plen = strlen(DROP_PREFIX);

	for (size_t i = 0; o && i < CTL_NCOUNTERS; i++) {
		if (strncmp(ctl_counters[i].name, DROP_PREFIX, plen))
			continue;
		if (json_object_set_new(o, ctl_counters[i].name + plen,
					json_integer((json_int_t)counter_at(c, i))) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/**
 * struct flow_counts - live flows by protocol and state
 * @tcp:	TCP flows per state
 * @udp_active:	UDP flows in ACTIVE
 * @udp_replied: UDP flows in REPLIED
 * @ntcp:	TCP flows
 * @nudp:	UDP flows
 */
struct flow_counts {
	uint32_t tcp[TCP_NSTATES];
	uint32_t udp_active, udp_replied;
	uint32_t ntcp, nudp;
};

/**
 * count_flows() - add @l's live flows to @fc (one walk: it also gives the UDP states, which
 * stack_flows_in_state() does not)
 */
static void count_flows(struct link *l, struct flow_counts *fc)
{
	struct flow_table *t = stack_flows(l->stack);
	const struct flow *f;

	for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
		if (f->proto == PROTO_UDP) {
			fc->nudp++;
			fc->udp_active += f->state == UDP_ACTIVE;
			fc->udp_replied += f->state == UDP_REPLIED;
		} else {
			fc->ntcp++;
			if (f->state < TCP_NSTATES)
				fc->tcp[f->state]++;
		}
	}
}

/**
 * flow_counts_json() - {"total", "tcp", "udp", "by_state"}. by_state always holds the eleven
 * TCP states and the UDP words, zeros included, so that scripts can index it blindly.
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *flow_counts_json(const struct flow_counts *fc)
{
	json_t *by = json_object();

	for (unsigned int s = 0; by && s < TCP_NSTATES; s++)
		json_object_set_new(by, tcp_state_name(s), json_integer(fc->tcp[s]));
	if (by) {
		json_object_set_new(by, udp_state_name(UDP_ACTIVE), json_integer(fc->udp_active));
		json_object_set_new(by, udp_state_name(UDP_REPLIED), json_integer(fc->udp_replied));
	}
	return json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)(fc->ntcp + fc->nudp),
			 "tcp", (json_int_t)fc->ntcp, "udp", (json_int_t)fc->nudp, "by_state", by);
}

/**
 * flows_json() - flow_counts_json() of link @l
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *flows_json(struct link *l)
{
	struct flow_counts fc = { 0 };

	count_flows(l, &fc);
	return flow_counts_json(&fc);
}

/**
 * link_status_json() - one entry of status's "links"
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *link_status_json(struct link *l)
{
	const struct stack_cfg *sc = stack_get_cfg(l->stack);
	char addr[24], gw[16], dns[16], mac[18], cmac[18];
	uint8_t cm[6];
	bool have_cmac = stack_container_mac(l->stack, cm);

	ip_str(addr, sizeof(addr), sc->addr);
	snprintf(addr + strlen(addr), sizeof(addr) - strlen(addr), "/%u", sc->prefix_len);
	return json_pack("{s:o, s:o, s:o, s:i, s:I, s:b, s:s, s:s, s:s, s:s, s:o, s:o, s:o,"
			 " s:I}",
			 "name", jstr(l->name), "netns", jstr(l->netns), "ifname", jstr(l->ifname),
			 "ifindex", l->ifindex, "mtu", (json_int_t)sc->mtu,
			 "configured", (int)l->configured, "address", addr,
			 "gateway", ip_str(gw, sizeof(gw), sc->gateway),
			 "dns", ip_str(dns, sizeof(dns), sc->dns),
			 "mac", mac_str(mac, sizeof(mac), sc->mac),
			 "container_mac",
			 have_cmac ? json_string(mac_str(cmac, sizeof(cmac), cm)) : json_null(),
			 "counters", counters_json(stack_counters(l->stack)),
			 "flows", flows_json(l), "tx_errors", (json_int_t)l->tx_errors);
}

/**
 * iso8601() - @t as "2024-05-01T12:34:56Z" (UTC) into @buf
 * Return: @buf
 */
static const char *iso8601(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
	return buf;
}

/**
 * ctl_cmd_status() - the daemon and every link: addresses, counters, flows per state
 */
json_t *ctl_cmd_status(struct ctl_req *r)
{
	struct tapird *d = r->d;
	json_t *links = json_array(), *ret;
	json_int_t total = 0;
	char started[32];

	for (unsigned int i = 0; links && i < d->nlinks; i++) {
		struct link *l = d->links[i];

		if (!l || !l->stack)
			continue;
		total += flow_count(stack_flows(l->stack));
		if (json_array_append_new(links, link_status_json(l)) < 0) {
			json_decref(links);
			links = NULL;
		}
	}
	ret = json_pack("{s:s, s:I, s:I, s:s, s:o, s:I}", "version", PACKAGE_VERSION,
			"pid", (json_int_t)getpid(),
			"uptime_ms", (json_int_t)(r->now_us > d->start_mono_us
							   ? (r->now_us - d->start_mono_us) / 1000
							   : 0),
			"started", iso8601(started, sizeof(started), d->start_wall),
			"links", links, "flows_total", total);
	if (ret && d->ctl && json_object_set_new(ret, "control", ctl_server_json(d->ctl)) < 0) {
		json_decref(ret);
		return NULL;
	}
	return ret;
}

/**
 * ctl_cmd_stats() - every counter per link (optionally one link), drops by reason, and sums
 */
json_t *ctl_cmd_stats(struct ctl_req *r)
{
	struct flow_counts fsum = { 0 };
	struct stack_counters sum = { 0 };
	uint64_t tx_errors = 0;
	struct link *only;
	json_t *links;

	if (ctl_arg_link(r, &only) < 0)
		return NULL;
	links = json_array();
	for (unsigned int i = 0; links && i < r->d->nlinks; i++) {
		struct link *l = r->d->links[i];
		const struct stack_counters *c;

		if (!l || !l->stack || (only && l != only))
			continue;
		c = stack_counters(l->stack);
		for (size_t k = 0; k < CTL_NCOUNTERS; k++) {
			uint64_t v;

			memcpy(&v, (char *)&sum + ctl_counters[k].off, sizeof(v));
			v += counter_at(c, k);
			memcpy((char *)&sum + ctl_counters[k].off, &v, sizeof(v));
		}
		tx_errors += l->tx_errors;
		count_flows(l, &fsum);
		if (json_array_append_new(links,
					  json_pack("{s:o, s:o, s:o, s:I, s:o}", "name", jstr(l->name),
						    "counters", counters_json(c), "drops",
						    drops_json(c), "tx_errors",
						    (json_int_t)l->tx_errors, "flows",
						    flows_json(l))) < 0) {
			json_decref(links);
			links = NULL;
		}
	}
	return json_pack("{s:o, s:{s:o, s:o, s:I, s:o}}", "links", links, "total", "counters",
			 counters_json(&sum), "drops", drops_json(&sum), "tx_errors",
			 (json_int_t)tx_errors, "flows", flow_counts_json(&fsum));
}

/**
 * kstate_name() - the name of a kernel TCP state as TCP_INFO reports it
 * (include/net/tcp_states.h)
 */
static const char *kstate_name(unsigned int st)
{
	static const char *const names[] = { "?", "ESTABLISHED", "SYN_SENT", "SYN_RECV",
					     "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
					     "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

/**
 * upstream_json() - the upstream socket's own view (TCP_INFO): the kernel's state, RTT,
 * unacknowledged and retransmitted segments, windows, bytes
 * Return: a new reference (null when the flow has no upstream socket now)
 */
static json_t *upstream_json(const struct flow *f)
{
	struct tcp_info ti;

	if (relay_tcp_info(f, &ti) < 0)
		return json_null();
	return json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:I, s:I}",
			 "state", kstate_name(ti.tcpi_state), "rtt_us", (json_int_t)ti.tcpi_rtt,
			 "rttvar_us", (json_int_t)ti.tcpi_rttvar,
			 "rto_us", (json_int_t)ti.tcpi_rto, "unacked", (json_int_t)ti.tcpi_unacked,
			 "sacked", (json_int_t)ti.tcpi_sacked, "lost", (json_int_t)ti.tcpi_lost,
			 "retrans", (json_int_t)ti.tcpi_retrans,
			 "total_retrans", (json_int_t)ti.tcpi_total_retrans,
			 "snd_mss", (json_int_t)ti.tcpi_snd_mss,
			 "snd_cwnd", (json_int_t)ti.tcpi_snd_cwnd,
			 "snd_wscale", (json_int_t)ti.tcpi_snd_wscale,
			 "rcv_wscale", (json_int_t)ti.tcpi_rcv_wscale,
			 "bytes_acked", (json_int_t)ti.tcpi_bytes_acked,
			 "bytes_received", (json_int_t)ti.tcpi_bytes_received);
}

/**
 * ctl_cmd_conn() - one flow by id, with every TCP internal, the upstream socket's TCP_INFO and
 * the history with wall-clock times; a recently closed flow is found in the closed ring
 */
json_t *ctl_cmd_conn(struct ctl_req *r)
{
	json_t *id = json_object_get(r->args, "id");
	json_int_t want;

	if (!id)
		return ctl_fail(r, "GenericError", "argument 'id' is required");
	if (!json_is_integer(id))
		return ctl_fail(r, "GenericError", "argument 'id' must be an integer");
	want = json_integer_value(id);
	for (unsigned int i = 0; want > 0 && i < r->d->nlinks; i++) {
		struct link *l = r->d->links[i];
		struct flow_table *t;
		const struct flow *f;

		if (!l || !l->stack)
			continue;
		t = stack_flows(l->stack);
		for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
			json_t *o;

			if (f->id != (uint64_t)want)
				continue;
			o = flow_to_json(l, f, r->now_us, true);
			if (o && f->proto == PROTO_TCP)
				json_object_set_new(o, "upstream_tcp", upstream_json(f));
			return o;
		}
	}
	/* newest first: an id is unique, but the search should end soon for recent flows */
	for (uint32_t n = r->d->mon && want > 0 ? monitor_closed_count(r->d->mon) : 0; n > 0; n--) {
		const struct monitor_closed *c = monitor_closed_at(r->d->mon, n - 1);

		if (c->f.id == (uint64_t)want)
			return ctl_closed_json(r->d->mon, c, r->now_us, true);
	}
	return ctl_fail(r, "DeviceNotFound", "no flow with id %lld", (long long)want);
}

/**
 * ctl_cmd_watch() - turn the connection into an event stream: {"return": {}} first, then one
 * {"event": ...} line per open, state change and close of the flows the filters select
 * (link, proto, state: entering or leaving it, id). A second watch replaces the filters.
 */
json_t *ctl_cmd_watch(struct ctl_req *r)
{
	struct monitor_filter mf = { 0 };
	struct conns_filter flt;
	json_t *id = json_object_get(r->args, "id");

	if (ctl_conns_filter_parse(r, &flt) < 0)
		return NULL;
	if (id && (!json_is_integer(id) || json_integer_value(id) < 1))
		return ctl_fail(r, "GenericError", "argument 'id' must be a positive integer");
	if (!r->client || !r->d->mon)
		return ctl_fail(r, "GenericError", "watch needs a control connection");
	if (flt.link)
		snprintf(mf.link, sizeof(mf.link), "%s", flt.link->name);
	mf.proto = flt.proto;
	mf.state = flt.state;
	mf.id = id ? (uint64_t)json_integer_value(id) : 0;
	if (ctl_client_watch(r->client, &mf) < 0)
		return ctl_fail(r, "GenericError", "out of memory");
	return json_object();
}

/**
 * capture_json() - what a capture did, for the replies
 */
static json_t *capture_json(const struct link *l, const struct capture_info *ci, bool running)
{
	return json_pack("{s:o, s:o, s:b, s:I, s:I, s:I, s:I, s:b, s:o}", "link", jstr(l->name),
			 "file", jstr(ci->path), "running", (int)running,
			 "frames", (json_int_t)ci->frames, "bytes", (json_int_t)ci->bytes,
			 "max_frames", (json_int_t)ci->max_frames,
			 "max_bytes", (json_int_t)ci->max_bytes, "full", (int)ci->full,
			 "error", ci->error ? json_string(strerror(ci->error)) : json_null());
}

/**
 * ctl_cmd_capture() - "action": "start" (with "file", optional "count" and "bytes"), "stop" or
 * "status", on "link" (optional when there is one link): pcap of the link's TAP traffic.
 * "file" is a bare name inside cfg.capture_dir (capture_start() says what it refuses).
 */
json_t *ctl_cmd_capture(struct ctl_req *r)
{
	const char *action, *file;
	struct capture_info ci;
	uint64_t count, bytes;
	struct link *l;
	char err[CTL_DESC_MAX];

	if (ctl_arg_string(r, "action", &action) < 0 || ctl_arg_string(r, "file", &file) < 0 ||
	    ctl_arg_link(r, &l) < 0 || ctl_arg_count(r, "count", &count) < 0 ||
	    ctl_arg_count(r, "bytes", &bytes) < 0)
		return NULL;
	if (!action)
		return ctl_fail(r, "GenericError",
				"argument 'action' is required (start stop status)");
	if (!l) {
		if (r->d->nlinks != 1 || !r->d->links[0])
			return ctl_fail(r, "GenericError", "%u links: name one with 'link'",
					r->d->nlinks);
		l = r->d->links[0];
	}
	if (!strcmp(action, "start")) {
		if (!file)
			return ctl_fail(r, "GenericError", "argument 'file' is required to start");
		int fd = -1;

		/* the privileged helper creates the file when we have dropped our privileges
		 * (the capture directory is its own); a running capture is refused first, so
		 * that no empty file is left behind */
		if (r->d->priv && !capture_get(l, &ci)) {
			fd = privsep_capture_open(r->d->priv, file, err, sizeof(err));
			if (fd < 0)
				return ctl_fail(r, "GenericError", "%s", err);
		}
		if (capture_start(l, r->d->cfg.capture_dir, file, fd, count, bytes, err,
				  sizeof(err)) < 0)
			return ctl_fail(r, "GenericError", "%s", err);
		capture_get(l, &ci);
		return capture_json(l, &ci, true);
	}
	if (file || count || bytes)
		return ctl_fail(r, "GenericError",
				"'file', 'count' and 'bytes' go with 'start' only");
	if (!strcmp(action, "stop")) {
		if (capture_stop(l, &ci) < 0)
			return ctl_fail(r, "GenericError", "no capture on link '%s'", l->name);
		return capture_json(l, &ci, false);
	}
	if (!strcmp(action, "status")) {
		if (!capture_get(l, &ci))
			return json_pack("{s:o, s:b}", "link", jstr(l->name), "running", 0);
		return capture_json(l, &ci, !ci.full && !ci.error);
	}
	return ctl_fail(r, "GenericError", "unknown action '%.32s' (valid: start stop status)",
			action);
}

/**
 * cmd_hostfwd() - run a port forward handler of fwd.c (slirp4netns's commands)
 * Return: its result, or NULL with the error recorded
 */
static json_t *cmd_hostfwd(struct ctl_req *r,
			   json_t *(*fn)(struct tapird *, json_t *, const char **, char *, size_t))
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];
	json_t *ret = fn(r->d, r->args, &cls, desc, sizeof(desc));

	return ret ? ret : ctl_fail(r, cls, "%s", desc);
}

/** ctl_cmd_add_hostfwd() - add a port forward (fwd_ctl_add()); Return: as cmd_hostfwd() */
json_t *ctl_cmd_add_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_add);
}

/** ctl_cmd_list_hostfwd() - list the port forwards (fwd_ctl_list()); Return: as cmd_hostfwd() */
json_t *ctl_cmd_list_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_list);
}

/** ctl_cmd_remove_hostfwd() - remove a port forward (fwd_ctl_remove()); Return: as cmd_hostfwd() */
json_t *ctl_cmd_remove_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_remove);
}

/**
 * ctl_cmd_attach() - attach a container (ctl_links.c); the reply is the link as `status` shows it
 */
json_t *ctl_cmd_attach(struct ctl_req *r)
{
	char desc[CTL_DESC_MAX];
	struct link *l = ctl_links_attach(r->d, r->args, desc, sizeof(desc));

	return l ? link_status_json(l) : ctl_fail(r, "GenericError", "%s", desc);
}

/**
 * ctl_cmd_detach() - detach a container (ctl_links.c): its forwards, flows and TAP go
 */
json_t *ctl_cmd_detach(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	if (ctl_links_detach(r->d, r->args, &cls, desc, sizeof(desc)))
		return ctl_fail(r, cls, "%s", desc);
	return json_object();
}
