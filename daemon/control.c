/* control.c - the control socket: a Unix stream socket speaking newline-delimited JSON with
 * the QMP envelope that slirp4netns uses (DESIGN.md, "Control protocol").
 *
 * Two halves: ctl_handle_line() turns one request line into one reply line and knows nothing of
 * sockets (the unit tests drive it directly); the server half owns the listener, the clients,
 * their buffers and their limits on the daemon's libevent loop.
 *
 * Error classes (the "class" of an error reply). QMP's names, as slirp4netns uses them:
 *
 *   class            when
 *   ---------------  ---------------------------------------------------------------------
 *   GenericError     the request is unusable: not JSON, not an object, "execute" missing or
 *                    not a string, "arguments" not an object, an argument missing, unknown,
 *                    of the wrong type or with a bad value, a request over CTL_MAX_REQUEST
 *                    bytes, too many clients, a mutating command without the privilege,
 *                    `watch` from ctl_handle_line() (no connection to stream to), a
 *                    capture that cannot start (one runs already, the name is not a bare
 *                    name, the capture directory is not trusted, the file exists or cannot
 *                    be created) or stop (none runs), or the daemon failed to build the reply
 *   CommandNotFound  "execute" names no command, or one reserved but not implemented yet
 *   DeviceNotFound   an argument names an object that does not exist (a link, a flow id)
 *
 * A request may carry an "id" member of any type; the reply echoes it (as QMP does).
 *
 * Limits: a request line is at most CTL_MAX_REQUEST bytes; a longer one gets an error and the
 * rest of it, up to the next newline, is discarded (the connection stays usable). At most
 * CTL_MAX_CLIENTS connections, at most CTL_MAX_CLIENTS_PER_UID of one uid other than root, and
 * the last CTL_ROOT_RESERVE for root alone; one more gets an error line and is closed. A
 * connection that sends no complete request for CTL_IDLE_TIMEOUT_MS gets an error line and is
 * closed (a watcher, or one whose reply is still being written or read, is not idle). A reply is always
 * queued whole, but a client whose unread output already exceeds CTL_MAX_PENDING when it asks
 * for more is disconnected: it cannot make the daemon hold memory without bound.
 *
 * `conns` is written in slices: the flows that match are noted (link, slot, id) when the
 * request comes, and CTL_CONNS_SLICE of them are encoded per loop turn, the next slice only
 * once the client's unread output is below CTL_JOB_LOWAT. So 10,000 flows never hold the relay
 * up for longer than one slice, and a client that does not read costs at most a slice or two of
 * memory. A flow that closes (or whose slot is reused) before its slice is skipped; a flow is
 * shown as it is when its slice is written. Requests that follow on the same connection wait
 * until the reply is complete (replies stay in order).
 *
 * `watch`: {"return": {}} and then one line per event: {"event": "open"|"state"|"close",
 * "data": {...}, "timestamp": {"seconds", "microseconds"}}. A watcher must never slow the
 * relay, so events are never waited for: each watcher's unread output is bounded by
 * CTL_WATCH_MAX_PENDING (1 MiB). An event that does not fit is dropped and counted, and so are
 * the ones after it until the watcher has drained its output below CTL_WATCH_RESUME (256 KiB);
 * then {"event": "lost", "data": {"count": N}} is sent before any further event, so a watcher
 * always knows where its stream has a gap and how many events fell in it. Events that come while a
 * sliced `conns` reply is being written on the same connection are counted as lost too (they
 * cannot go inside the reply). The watcher is never disconnected for being slow. Events are
 * encoded only when a watcher's filter wants them (monitor.c).
 *
 * Privileges: read commands are allowed to whoever can open the socket (root and
 * cfg.control_group). Commands flagged mutating in the table (`capture`, which writes a file as
 * the daemon, the port forwards, `attach` and `detach`) need uid 0 or membership of
 * cfg.admin_group, checked against the peer's SO_PEERCRED credentials and, for the group, its
 * SO_PEERGROUPS (the groups the connecting process had), against the group's gid resolved at
 * start-up.
 */
#include <config.h> /* autoconf's: PACKAGE_VERSION (the daemon's own config.h is "config.h") */

#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>
#include <linux/tcp.h> /* struct tcp_info; not netinet/tcp.h, whose TCP_* clash with flow.h */

#include "capture.h"
#include "ctl_links.h"
#include "ctl_policy.h"
#include "flowjson.h"
#include "fwd.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "relay.h"
#include "safedir.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* A client that does not read its replies is cut loose once this much output waits for it.
 * 16 MiB holds a `conns` reply for well over 10,000 flows (about 450 bytes each). */
#define CTL_MAX_PENDING (16 * 1024 * 1024)

/* Pending connections the kernel queues for us before accept(). */
#define CTL_BACKLOG 16

/* After an accept() failure (EMFILE...), pause accepting this long rather than spin. */
#define CTL_ACCEPT_PAUSE_MS 1000

/* Longest error description; the longest we build lists every state name (~150 bytes). */
#define CTL_DESC_MAX 512

/* A `conns` reply is written in slices of this many flows, one slice per loop turn, so that
 * listing 10,000 flows never holds the relay up for more than a slice's worth of encoding. */
#define CTL_CONNS_SLICE 1000

/* The next slice waits until the client's unread output is below this (backpressure). */
#define CTL_JOB_LOWAT (256 * 1024)

/* A watcher's unread events are bounded by this; past it events are dropped and counted... */
#define CTL_WATCH_MAX_PENDING (1024 * 1024)
/* ...until its unread output has drained below this; then {"event": "lost"} goes first. */
#define CTL_WATCH_RESUME (256 * 1024)

struct ctl_client;
struct conns_job;

/* ---------------------------------------------------------------------------------------- */
/* Requests and replies, without sockets                                                   */
/* ---------------------------------------------------------------------------------------- */

/**
 * struct ctl_err - an error reply in the making
 * @cls:	error class (see the table at the top of this file); NULL while there is none
 * @desc:	human-readable description
 */
struct ctl_err {
	const char *cls;
	char desc[CTL_DESC_MAX];
};

/**
 * struct ctl_req - one request being answered
 * @d:		the daemon
 * @args:	the "arguments" object (borrowed; an empty object when the request had none)
 * @now_us:	monotonic time of the request, for ages
 * @err:	set by a handler that fails
 * @client:	the connection asking (NULL from ctl_handle_line(): no socket)
 * @job:	set by `conns`: the reply is written in slices by this job, not returned
 */
struct ctl_req {
	struct tapird *d;
	json_t *args;
	uint64_t now_us;
	struct ctl_err err;
	struct ctl_client *client;
	struct conns_job *job;
};

/**
 * fail() - record an error of class @cls for @r
 * Return: NULL, so that handlers can `return fail(...)`
 */
__attribute__((format(printf, 3, 4))) static json_t *fail(struct ctl_req *r, const char *cls,
							    const char *fmt, ...)
{
	va_list ap;

	r->err.cls = cls;
	va_start(ap, fmt);
	vsnprintf(r->err.desc, sizeof(r->err.desc), fmt, ap);
	va_end(ap);
	return NULL;
}

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
 * arg_string() - the optional string argument @key of @r
 * @out:	set to the string, or NULL when absent (or null)
 * Return: 0, or -1 with the error recorded when present but not a string
 */
static int arg_string(struct ctl_req *r, const char *key, const char **out)
{
	json_t *v = json_object_get(r->args, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		fail(r, "GenericError", "argument '%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/**
 * arg_link() - the optional "link" argument, resolved
 * @out:	the link, or NULL when the argument is absent
 * Return: 0, or -1 with the error recorded (wrong type, no such link)
 */
static int arg_link(struct ctl_req *r, struct link **out)
{
	const char *name;

	*out = NULL;
	if (arg_string(r, "link", &name) < 0)
		return -1;
	if (!name)
		return 0;
	*out = link_find(r->d, name);
	if (!*out) {
		fail(r, "DeviceNotFound", "no link named '%s'", name);
		return -1;
	}
	return 0;
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
 * cmd_status() - the daemon and every link: addresses, counters, flows per state
 */
static json_t *server_json(const struct ctl_server *srv);

static json_t *cmd_status(struct ctl_req *r)
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
	if (ret && d->ctl && json_object_set_new(ret, "control", server_json(d->ctl)) < 0) {
		json_decref(ret);
		return NULL;
	}
	return ret;
}

/**
 * cmd_stats() - every counter per link (optionally one link), drops by reason, and sums
 */
static json_t *cmd_stats(struct ctl_req *r)
{
	struct flow_counts fsum = { 0 };
	struct stack_counters sum = { 0 };
	uint64_t tx_errors = 0;
	struct link *only;
	json_t *links;

	if (arg_link(r, &only) < 0)
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

/* The UDP pseudo-states accepted by the "state" filter, besides the TCP ones. */
static const unsigned int udp_states[] = { UDP_ACTIVE, UDP_REPLIED };

/**
 * state_names() - "CLOSED LISTEN ... ACTIVE REPLIED" into @buf, for error messages
 * Return: @buf
 */
static const char *state_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int s = 0; s < TCP_NSTATES && n < len; s++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", s ? " " : "", tcp_state_name(s));
	for (size_t i = 0; i < sizeof(udp_states) / sizeof(udp_states[0]) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", udp_state_name(udp_states[i]));
	return buf;
}

/**
 * struct conns_filter - what `conns` lists
 * @link:	only this link (NULL: all)
 * @proto:	only this protocol (0: both)
 * @state:	only flows whose state has this name (NULL: any)
 */
struct conns_filter {
	struct link *link;
	uint8_t proto;
	const char *state;
};

/**
 * conns_filter_parse() - read and check the arguments of `conns`
 * Return: 0, or -1 with the error recorded
 */
static int conns_filter_parse(struct ctl_req *r, struct conns_filter *flt)
{
	const char *state, *proto;
	char names[CTL_DESC_MAX / 2];
	int s;

	memset(flt, 0, sizeof(*flt));
	if (arg_link(r, &flt->link) < 0 || arg_string(r, "proto", &proto) < 0 ||
	    arg_string(r, "state", &state) < 0)
		return -1;
	if (proto) {
		if (!strcasecmp(proto, "tcp")) {
			flt->proto = PROTO_TCP;
		} else if (!strcasecmp(proto, "udp")) {
			flt->proto = PROTO_UDP;
		} else {
			fail(r, "GenericError", "unknown proto '%.64s' (valid: tcp udp)", proto);
			return -1;
		}
	}
	if (!state)
		return 0;
	s = tcp_state_parse(state);
	if (s >= 0) {
		flt->state = tcp_state_name((unsigned int)s);
		return 0;
	}
	for (size_t i = 0; i < sizeof(udp_states) / sizeof(udp_states[0]); i++)
		if (!strcasecmp(state, udp_state_name(udp_states[i]))) {
			flt->state = udp_state_name(udp_states[i]);
			return 0;
		}
	fail(r, "GenericError", "unknown state '%.64s' (valid: %s)", state,
	     state_names(names, sizeof(names)));
	return -1;
}

/**
 * struct conns_ref - a flow to list, found when the request came: where it was and its id, so
 * that a flow that closes (or whose slot is reused) before its slice is skipped, not misread
 * @l:		its link (checked against d->links before use: links can go away)
 * @idx:	its slot
 * @id:		its id
 */
struct conns_ref {
	struct link *l;
	uint32_t idx;
	uint64_t id;
};

/**
 * struct conns_job - a `conns` reply being written in slices
 * @d:		the daemon
 * @flt:	the filter (re-checked at each flow: a flow may change state meanwhile)
 * @refs:	the live flows that matched when the request came
 * @nrefs:	how many
 * @next:	next entry of @refs to write
 * @closed_next: next closed-flow ordinal to write (`all`), up to @closed_last
 * @closed_last: newest closed-flow ordinal when the request came (0: none)
 * @id_json:	the request's "id", encoded, to echo at the end (NULL: none)
 * @written:	flows written so far (for the comma)
 * @started:	the reply's head is written
 */
struct conns_job {
	struct tapird *d;
	struct conns_filter flt;
	struct conns_ref *refs;
	size_t nrefs, next;
	uint64_t closed_next, closed_last;
	char *id_json;
	size_t written;
	bool started;
};

/** conns_job_free() - release a job (NULL is a no-op) */
static void conns_job_free(struct conns_job *j)
{
	if (!j)
		return;
	free(j->refs);
	free(j->id_json);
	free(j);
}

/**
 * link_alive() - whether @l is still one of @d's links (a pointer kept across loop turns)
 */
static bool link_alive(const struct tapird *d, const struct link *l)
{
	for (unsigned int i = 0; i < d->nlinks; i++)
		if (d->links[i] == l)
			return l->stack != NULL;
	return false;
}

/**
 * conns_match() - whether live flow @f passes @flt
 */
static bool conns_match(const struct conns_filter *flt, const struct flow *f)
{
	if (flt->proto && f->proto != flt->proto)
		return false;
	return !flt->state || !strcmp(flow_state_name(f), flt->state);
}

/**
 * closed_json() - closed flow @c as flow JSON: its state CLOSED, its age its lifetime, plus
 * when it closed and the state it was in before
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *closed_json(const struct monitor *m, const struct monitor_closed *c,
			   uint64_t now_us, bool detail)
{
	json_t *o = flow_json(c->link, &c->f, c->has_view ? &c->v : NULL, c->closed_us, detail);
	const struct flow *f = &c->f;
	int64_t sec, usec;
	char iso[40];

	if (!o)
		return NULL;
	monitor_timestamp(m, c->closed_us, &sec, &usec);
	json_object_set_new(o, "state", json_string("CLOSED"));
	json_object_set_new(o, "last_state", json_string(f->proto == PROTO_UDP
								  ? udp_state_name(c->last_state)
								  : tcp_state_name(c->last_state)));
	json_object_set_new(o, "closed_ms_ago",
			    json_integer(now_us > c->closed_us
						 ? (json_int_t)((now_us - c->closed_us) / 1000)
						 : 0));
	json_object_set_new(o, "closed_at",
			    json_string(flow_iso_time(iso, sizeof(iso), sec * 1000000 + usec)));
	return o;
}

/**
 * job_put() - append @j (stolen) to the listing in @out, comma-separated
 * Return: 0, or -1 when out of memory
 */
static int job_put(struct conns_job *j, struct evbuffer *out, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (!s)
		return -1;
	if (j->written++)
		evbuffer_add(out, ",", 1);
	evbuffer_add(out, s, strlen(s));
	free(s);
	return 0;
}

/**
 * job_put_live() - append live flow @f of @l to the listing in @out, comma-separated, with the
 * hand-written encoder (flow_summary(): the same bytes as job_put(flow_to_json(...)), without
 * building and dumping a jansson object per flow, which dominated a listing of 10,000 flows)
 * Return: 0, or -1 when out of memory
 */
static int job_put_live(struct conns_job *j, struct evbuffer *out, const struct link *l,
			const struct flow *f, uint64_t now_us)
{
	char buf[2048], *s = buf;
	size_t n = flow_summary(buf, sizeof(buf), l, f, now_us);

	if (n >= sizeof(buf)) { /* a long link name full of escapes: never in practice */
		s = malloc(n + 1);
		if (!s)
			return -1;
		flow_summary(s, n + 1, l, f, now_us);
	}
	if (j->written++)
		evbuffer_add(out, ",", 1);
	evbuffer_add(out, s, n);
	if (s != buf)
		free(s);
	return 0;
}

/**
 * conns_job_slice() - write up to @max more flows of @j to @out; the last slice closes the
 * reply (without its newline)
 * Return: true when the reply is complete
 */
static bool conns_job_slice(struct conns_job *j, struct evbuffer *out, size_t max)
{
	uint64_t now_us = tapird_now_us();
	size_t done = 0;

	if (!j->started) {
		evbuffer_add_printf(out, "{\"return\":{\"flows\":[");
		j->started = true;
	}
	for (; j->next < j->nrefs && done < max; j->next++) {
		const struct conns_ref *ref = &j->refs[j->next];
		const struct flow *f;

		if (!link_alive(j->d, ref->l))
			continue;
		f = flow_at(stack_flows(ref->l->stack), ref->idx);
		if (!f || f->id != ref->id || !conns_match(&j->flt, f))
			continue; /* closed (or its slot reused) since the request came */
		job_put_live(j, out, ref->l, f, now_us);
		done++;
	}
	for (; j->d->mon && j->closed_next && j->closed_next <= j->closed_last && done < max;
	     j->closed_next++) {
		const struct monitor_closed *c = monitor_closed_by_seq(j->d->mon, j->closed_next);

		if (!c) /* pushed out of the ring since the request came */
			continue;
		if ((j->flt.link && strcmp(c->link, j->flt.link->name)) ||
		    (j->flt.proto && c->f.proto != j->flt.proto) ||
		    (j->flt.state && strcmp(j->flt.state, "CLOSED")))
			continue;
		job_put(j, out, closed_json(j->d->mon, c, now_us, false));
		done++;
	}
	if (j->next < j->nrefs || (j->closed_next && j->closed_next <= j->closed_last))
		return false;
	evbuffer_add_printf(out, "]}%s%s}", j->id_json ? ",\"id\":" : "",
			    j->id_json ? j->id_json : "");
	return true;
}

/**
 * cmd_conns() - every flow (of one link, protocol or state if asked; with "all" also the
 * recently closed ones) as flow JSON. The reply is built by a job, in slices (conns_job_slice)
 */
static json_t *cmd_conns(struct ctl_req *r)
{
	json_t *all = json_object_get(r->args, "all");
	struct conns_job *j;
	size_t cap = 0;

	if (all && !json_is_boolean(all))
		return fail(r, "GenericError", "argument 'all' must be a boolean");
	j = calloc(1, sizeof(*j));
	if (!j)
		return fail(r, "GenericError", "out of memory");
	j->d = r->d;
	if (conns_filter_parse(r, &j->flt) < 0) {
		free(j);
		return NULL;
	}
	for (unsigned int i = 0; i < r->d->nlinks; i++) {
		struct link *l = r->d->links[i];
		struct flow_table *t;
		const struct flow *f;

		if (!l || !l->stack || (j->flt.link && l != j->flt.link))
			continue;
		t = stack_flows(l->stack);
		for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
			if (!conns_match(&j->flt, f))
				continue;
			if (j->nrefs == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct conns_ref *n = realloc(j->refs, ncap * sizeof(*n));

				if (!n) {
					conns_job_free(j);
					return fail(r, "GenericError", "out of memory");
				}
				j->refs = n;
				cap = ncap;
			}
			j->refs[j->nrefs++] = (struct conns_ref){ l, f->idx, f->id };
		}
	}
	if (json_is_true(all) && r->d->mon) {
		uint64_t first, last;

		monitor_closed_seq_range(r->d->mon, &first, &last);
		j->closed_next = first;
		j->closed_last = last;
	}
	r->job = j;
	return json_object(); /* a placeholder: the job writes the reply */
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
 * cmd_conn() - one flow by id, with every TCP internal, the upstream socket's TCP_INFO and
 * the history with wall-clock times; a recently closed flow is found in the closed ring
 */
static json_t *cmd_conn(struct ctl_req *r)
{
	json_t *id = json_object_get(r->args, "id");
	json_int_t want;

	if (!id)
		return fail(r, "GenericError", "argument 'id' is required");
	if (!json_is_integer(id))
		return fail(r, "GenericError", "argument 'id' must be an integer");
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
			return closed_json(r->d->mon, c, r->now_us, true);
	}
	return fail(r, "DeviceNotFound", "no flow with id %lld", (long long)want);
}

static int client_watch(struct ctl_client *c, const struct monitor_filter *flt);

/**
 * cmd_watch() - turn the connection into an event stream: {"return": {}} first, then one
 * {"event": ...} line per open, state change and close of the flows the filters select
 * (link, proto, state: entering or leaving it, id). A second watch replaces the filters.
 */
static json_t *cmd_watch(struct ctl_req *r)
{
	struct monitor_filter mf = { 0 };
	struct conns_filter flt;
	json_t *id = json_object_get(r->args, "id");

	if (conns_filter_parse(r, &flt) < 0)
		return NULL;
	if (id && (!json_is_integer(id) || json_integer_value(id) < 1))
		return fail(r, "GenericError", "argument 'id' must be a positive integer");
	if (!r->client || !r->d->mon)
		return fail(r, "GenericError", "watch needs a control connection");
	if (flt.link)
		snprintf(mf.link, sizeof(mf.link), "%s", flt.link->name);
	mf.proto = flt.proto;
	mf.state = flt.state;
	mf.id = id ? (uint64_t)json_integer_value(id) : 0;
	if (client_watch(r->client, &mf) < 0)
		return fail(r, "GenericError", "out of memory");
	return json_object();
}

/**
 * arg_count() - the optional non-negative integer argument @key of @r (0 when absent)
 * Return: 0, or -1 with the error recorded
 */
static int arg_count(struct ctl_req *r, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(r->args, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		fail(r, "GenericError", "argument '%s' must be a non-negative integer", key);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
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
 * cmd_capture() - "action": "start" (with "file", optional "count" and "bytes"), "stop" or
 * "status", on "link" (optional when there is one link): pcap of the link's TAP traffic.
 * "file" is a bare name inside cfg.capture_dir (capture_start() says what it refuses).
 */
static json_t *cmd_capture(struct ctl_req *r)
{
	const char *action, *file;
	struct capture_info ci;
	uint64_t count, bytes;
	struct link *l;
	char err[CTL_DESC_MAX];

	if (arg_string(r, "action", &action) < 0 || arg_string(r, "file", &file) < 0 ||
	    arg_link(r, &l) < 0 || arg_count(r, "count", &count) < 0 ||
	    arg_count(r, "bytes", &bytes) < 0)
		return NULL;
	if (!action)
		return fail(r, "GenericError", "argument 'action' is required (start stop status)");
	if (!l) {
		if (r->d->nlinks != 1 || !r->d->links[0])
			return fail(r, "GenericError", "%u links: name one with 'link'",
				    r->d->nlinks);
		l = r->d->links[0];
	}
	if (!strcmp(action, "start")) {
		if (!file)
			return fail(r, "GenericError", "argument 'file' is required to start");
		if (capture_start(l, r->d->cfg.capture_dir, file, count, bytes, err,
				  sizeof(err)) < 0)
			return fail(r, "GenericError", "%s", err);
		capture_get(l, &ci);
		return capture_json(l, &ci, true);
	}
	if (file || count || bytes)
		return fail(r, "GenericError", "'file', 'count' and 'bytes' go with 'start' only");
	if (!strcmp(action, "stop")) {
		if (capture_stop(l, &ci) < 0)
			return fail(r, "GenericError", "no capture on link '%s'", l->name);
		return capture_json(l, &ci, false);
	}
	if (!strcmp(action, "status")) {
		if (!capture_get(l, &ci))
			return json_pack("{s:o, s:b}", "link", jstr(l->name), "running", 0);
		return capture_json(l, &ci, !ci.full && !ci.error);
	}
	return fail(r, "GenericError", "unknown action '%.32s' (valid: start stop status)",
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

	return ret ? ret : fail(r, cls, "%s", desc);
}

static json_t *cmd_add_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_add);
}

static json_t *cmd_list_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_list);
}

static json_t *cmd_remove_hostfwd(struct ctl_req *r)
{
	return cmd_hostfwd(r, fwd_ctl_remove);
}

/**
 * cmd_attach() - attach a container (ctl_links.c); the reply is the link as `status` shows it
 */
static json_t *cmd_attach(struct ctl_req *r)
{
	char desc[CTL_DESC_MAX];
	struct link *l = ctl_links_attach(r->d, r->args, desc, sizeof(desc));

	return l ? link_status_json(l) : fail(r, "GenericError", "%s", desc);
}

/**
 * cmd_detach() - detach a container (ctl_links.c): its forwards, flows and TAP go
 */
static json_t *cmd_detach(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];

	if (ctl_links_detach(r->d, r->args, &cls, desc, sizeof(desc)))
		return fail(r, cls, "%s", desc);
	return json_object();
}

/**
 * cmd_policy_list() - the reach policy: the daemon's default and each link's (ctl_policy.c)
 */
static json_t *cmd_policy_list(struct ctl_req *r)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];
	json_t *o = ctl_policy_list(r->d, r->args, &cls, desc, sizeof(desc));

	return o ? o : fail(r, cls, "%s", desc);
}

/**
 * cmd_policy_change() - policy_add, policy_remove, policy_set (ctl_policy.c)
 */
static json_t *cmd_policy_change(struct ctl_req *r, const char *what)
{
	const char *cls = "GenericError";
	char desc[CTL_DESC_MAX];
	json_t *o = ctl_policy_change(r->d, what, r->args, &cls, desc, sizeof(desc));

	return o ? o : fail(r, cls, "%s", desc);
}

static json_t *cmd_policy_add(struct ctl_req *r)
{
	return cmd_policy_change(r, "add");
}

static json_t *cmd_policy_remove(struct ctl_req *r)
{
	return cmd_policy_change(r, "remove");
}

static json_t *cmd_policy_set(struct ctl_req *r)
{
	return cmd_policy_change(r, "set");
}

/**
 * struct ctl_cmd - one command of the protocol
 * @name:	what "execute" says
 * @mutating:	changes the daemon: needs uid 0 or cfg.admin_group
 * @args:	the argument names it accepts (NULL-terminated); others are an error
 * @fn:		the handler (NULL: reserved, not implemented yet); NULL return means error
 */
struct ctl_cmd {
	const char *name;
	bool mutating;
	const char *const args[16];
	json_t *(*fn)(struct ctl_req *r);
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", false, { NULL }, cmd_status },
	{ "stats", false, { "link", NULL }, cmd_stats },
	{ "conns", false, { "state", "proto", "link", "all", NULL }, cmd_conns },
	{ "conn", false, { "id", NULL }, cmd_conn },
	{ "watch", false, { "link", "proto", "state", "id", NULL }, cmd_watch },
	{ "capture", true, { "action", "file", "link", "count", "bytes", NULL }, cmd_capture },
	/* Port forwards (fwd.c), with slirp4netns's names and arguments */
	{ "add_hostfwd", true,
	  { "proto", "host_addr", "host_port", "guest_addr", "guest_port", "link", NULL },
	  cmd_add_hostfwd },
	{ "list_hostfwd", false, { "link", NULL }, cmd_list_hostfwd },
	{ "remove_hostfwd", true, { "id", NULL }, cmd_remove_hostfwd },
	/* One daemon, many containers (ctl_links.c) */
	{ "attach", true,
	  { "name", "netns", "pid", "ifname", "address", "gateway", "dns", "mtu", "configure",
	    "host_loopback", "deny", "deny_link_local", "deny_host_addresses", NULL },
	  cmd_attach },
	{ "detach", true, { "name", NULL }, cmd_detach },
	/* What containers may reach (ctl_policy.c) */
	{ "policy_list", false, { "link", NULL }, cmd_policy_list },
	{ "policy_add", true, { "link", "rule", NULL }, cmd_policy_add },
	{ "policy_remove", true, { "link", "rule", NULL }, cmd_policy_remove },
	{ "policy_set", true, { "link", "deny_link_local", "deny_host_addresses", NULL },
	  cmd_policy_set },
};

static bool client_admin(const struct ctl_client *c);
static bool server_admin_gid(const struct ctl_server *srv, gid_t *gid);

/**
 * may_mutate() - whether the peer may run mutating commands: root, the daemon's own user (a
 * rootless tapird, e.g. podman's slirp4netns, belongs to the user who started it), or a
 * member of cfg.admin_group. A connection's membership was settled when it connected
 * (SO_PEERGROUPS, accept_cb); without one (ctl_handle_line) the primary @gid is compared with
 * the group's gid resolved at start-up. Never consults NSS: no getgrnam/getpwuid on the loop
 * per request.
 */
static bool may_mutate(const struct ctl_req *r, uid_t uid, gid_t gid)
{
	gid_t admin;

	if (uid == 0 || uid == geteuid())
		return true;
	if (r->client)
		return client_admin(r->client);
	return server_admin_gid(r->d->ctl, &admin) && gid == admin;
}

/**
 * args_check() - reject arguments @cmd does not know (QMP does too: a typo must not silently
 * widen a listing)
 * Return: 0, or -1 with the error recorded
 */
static int args_check(struct ctl_req *r, const struct ctl_cmd *cmd)
{
	const char *key;
	json_t *v;

	json_object_foreach(r->args, key, v) {
		bool known = false;

		for (size_t i = 0; cmd->args[i]; i++)
			known = known || !strcmp(key, cmd->args[i]);
		if (!known) {
			fail(r, "GenericError", "command '%s' has no argument '%.64s'", cmd->name,
			     key);
			return -1;
		}
	}
	return 0;
}

/**
 * dispatch() - run the request in @req (a parsed object) and return its result
 * Return: the "return" value (new reference), or NULL with r->err set
 */
static json_t *dispatch(struct ctl_req *r, json_t *req, uid_t uid, gid_t gid)
{
	json_t *exec = json_object_get(req, "execute");
	json_t *args = json_object_get(req, "arguments");
	const struct ctl_cmd *cmd = NULL;
	const char *name;
	json_t *ret;

	if (!exec)
		return fail(r, "GenericError", "missing member 'execute'");
	if (!json_is_string(exec))
		return fail(r, "GenericError", "member 'execute' must be a string");
	name = json_string_value(exec);
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (!strcmp(name, ctl_cmds[i].name))
			cmd = &ctl_cmds[i];
	if (!cmd)
		return fail(r, "CommandNotFound", "the command '%.64s' has not been found", name);
	if (args && !json_is_null(args) && !json_is_object(args))
		return fail(r, "GenericError", "member 'arguments' must be an object");
	if (cmd->mutating && !may_mutate(r, uid, gid))
		return fail(r, "GenericError",
			    "permission denied: '%s' needs root%s%s", cmd->name,
			    r->d->cfg.admin_group[0] ? " or group " : "", r->d->cfg.admin_group);
	if (!cmd->fn)
		return fail(r, "CommandNotFound", "the command '%s' is not implemented yet",
			    cmd->name);
	r->args = json_is_object(args) ? json_incref(args) : json_object();
	if (!r->args)
		return fail(r, "GenericError", "out of memory");
	ret = args_check(r, cmd) < 0 ? NULL : cmd->fn(r);
	json_decref(r->args);
	r->args = NULL;
	if (!ret && !r->err.cls)
		fail(r, "GenericError", "out of memory building the reply");
	return ret;
}

/**
 * dump_line() - @reply (stolen) as one compact JSON line without the newline
 * Return: malloc'd, never NULL (a fixed error line if the reply cannot be built)
 */
static char *dump_line(json_t *reply)
{
	static const char oom[] =
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"out of memory\"}}";
	char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	if (!s)
		s = strdup(oom);
	if (!s)
		abort(); /* the contract says never NULL; nothing sensible is left to do */
	return s;
}

/**
 * job_run_all() - write job @j's whole reply into one string (no socket to slice for)
 * Return: malloc'd line, never NULL
 */
static char *job_run_all(struct conns_job *j)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	if (!b)
		return dump_line(NULL);
	while (!conns_job_slice(j, b, CTL_CONNS_SLICE))
		;
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	if (!s) {
		evbuffer_free(b);
		return dump_line(NULL);
	}
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

/**
 * answer() - one request line: the reply line, or (for `conns` from a connection) a job
 * @c:		the connection (NULL: none, and a job is run to completion here)
 * @jobp:	set to the job when there is one and @c is set (the return value is then NULL)
 * Return: the reply as one malloc'd JSON line without the newline, or NULL with *@jobp set
 */
static char *answer(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid,
		    struct ctl_client *c, struct conns_job **jobp)
{
	struct ctl_req r = { .d = d, .now_us = tapird_now_us(), .client = c };
	json_t *req = NULL, *ret = NULL, *reply, *id = NULL;
	json_error_t jerr;

	if (len > CTL_MAX_REQUEST) {
		fail(&r, "GenericError", "request too large (%zu bytes, limit %d)", len,
		     CTL_MAX_REQUEST);
		goto out;
	}
	/* JSON_DECODE_ANY so that a bare value is told "not an object", not "parse error";
	 * jansson bounds nesting depth itself. */
	req = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		fail(&r, "GenericError", "invalid JSON at column %d: %s", jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(req)) {
		fail(&r, "GenericError", "the request must be a JSON object");
		goto out;
	}
	id = json_object_get(req, "id");
	ret = dispatch(&r, req, uid, gid);
	if (ret && r.job) {
		struct conns_job *j = r.job;
		char *out;

		json_decref(ret);
		if (id)
			j->id_json = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(req);
		if (c && jobp) {
			*jobp = j;
			return NULL;
		}
		out = job_run_all(j);

		conns_job_free(j);
		return out;
	}
out:
	if (ret)
		reply = json_pack("{s:o}", "return", ret);
	else
		reply = json_pack("{s:{s:s, s:s}}", "error", "class", r.err.cls, "desc",
				  r.err.desc);
	if (reply && id)
		json_object_set(reply, "id", id);
	json_decref(req);
	return dump_line(reply);
}

char *ctl_handle_line(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid)
{
	return answer(d, line, len, uid, gid, NULL, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* The server                                                                               */
/* ---------------------------------------------------------------------------------------- */

/**
 * struct ctl_client - one control connection
 * @srv:	the server
 * @bev:	its buffered socket
 * @uid, @gid:	peer credentials (SO_PEERCRED), fixed at connect time
 * @discarding:	skipping the rest of an oversized request, up to the next newline
 * @closing:	the peer shut down its side: close once our output is flushed
 * @job:	a `conns` reply being written in slices; requests wait until it is done
 * @ev_job:	runs the next slice on a later loop turn
 * @watch:	the monitor registration of a watcher (NULL: not watching)
 * @lost:	events dropped since the watcher fell behind
 * @dropping:	dropping events until the output drains below CTL_WATCH_RESUME
 * @admin:	the peer was in cfg.admin_group when it connected (SO_PEERGROUPS)
 * @ev_idle:	closes the connection CTL_IDLE_TIMEOUT_MS after its last complete request
 * @entry:	in srv->clients
 */
struct ctl_client {
	struct ctl_server *srv;
	struct bufferevent *bev;
	uid_t uid;
	gid_t gid;
	bool admin;
	struct event *ev_idle;
	bool discarding;
	bool closing;
	struct conns_job *job;
	struct event *ev_job;
	struct monitor_watch *watch;
	uint64_t lost;
	bool dropping;
	TAILQ_ENTRY(ctl_client) entry;
};

/**
 * struct ctl_server - the listener and its clients
 * @d:		the daemon
 * @lev:	the listener (owns the socket)
 * @ev_pause:	re-enables accepting after an accept() failure
 * @path:	the socket's path (unlinked on free)
 * @clients:	open connections
 * @nclients:	how many
 * @own_mon:	the monitor in d->mon was made by this server (freed with it)
 * @metrics:	the Prometheus endpoint (NULL: off)
 * @admin_gid:	cfg.admin_group's gid, resolved once at start-up
 * @admin_set:	cfg.admin_group is set (else only root mutates)
 * @idle_ms:	CTL_IDLE_TIMEOUT_MS unless a test shortened it
 * @refused_full: connections refused: all CTL_MAX_CLIENTS slots taken, or all but root's
 * @refused_uid: connections refused: their uid had CTL_MAX_CLIENTS_PER_UID already
 * @idle_closed: connections closed for sending no complete request in @idle_ms
 */
struct ctl_server {
	struct tapird *d;
	struct evconnlistener *lev;
	struct event *ev_pause;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	TAILQ_HEAD(, ctl_client) clients;
	unsigned int nclients;
	bool own_mon;
	struct metrics *metrics;
	gid_t admin_gid;
	bool admin_set;
	unsigned int idle_ms;
	uint64_t refused_full;
	uint64_t refused_uid;
	uint64_t idle_closed;
};

/**
 * server_json() - the control socket's own limits and what hitting them cost, for `status`:
 * {"clients", "max_clients", "max_clients_per_uid", "idle_timeout_ms", "refused_full",
 * "refused_uid", "idle_closed"}
 */
static json_t *server_json(const struct ctl_server *srv)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "clients",
			 (json_int_t)srv->nclients, "max_clients", (json_int_t)CTL_MAX_CLIENTS,
			 "max_clients_per_uid", (json_int_t)CTL_MAX_CLIENTS_PER_UID,
			 "idle_timeout_ms", (json_int_t)srv->idle_ms,
			 "refused_full", (json_int_t)srv->refused_full,
			 "refused_uid", (json_int_t)srv->refused_uid,
			 "idle_closed", (json_int_t)srv->idle_closed);
}

/** client_admin() - whether @c's peer was in the admin group when it connected */
static bool client_admin(const struct ctl_client *c)
{
	return c->admin;
}

/**
 * server_admin_gid() - cfg.admin_group's gid as resolved at start-up
 * Return: whether there is one (@srv may be NULL: no server, no admin group)
 */
static bool server_admin_gid(const struct ctl_server *srv, gid_t *gid)
{
	if (!srv || !srv->admin_set)
		return false;
	*gid = srv->admin_gid;
	return true;
}

/**
 * client_free() - close a connection and forget it
 */
static void client_free(struct ctl_client *c)
{
	TAILQ_REMOVE(&c->srv->clients, c, entry);
	c->srv->nclients--;
	if (c->watch && c->srv->d->mon)
		monitor_watch_del(c->srv->d->mon, c->watch);
	conns_job_free(c->job);
	if (c->ev_job)
		event_free(c->ev_job);
	if (c->ev_idle)
		event_free(c->ev_idle);
	bufferevent_free(c->bev);
	free(c);
}

/**
 * watch_flush_lost() - queue {"event": "lost", "data": {"count": N}} if events were dropped,
 * and accept events again
 */
static void watch_flush_lost(struct ctl_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line;

	c->dropping = false;
	if (!c->lost)
		return;
	line = monitor_event_line(c->srv->d->mon, "lost",
				  json_pack("{s:I}", "count", (json_int_t)c->lost),
				  tapird_now_us());
	if (!line)
		return; /* try again with the next event */
	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\n", 1);
	free(line);
	c->lost = 0;
}

/**
 * client_event_sink() - monitor_sink of a watcher: queue one event line, or drop and count it
 * when the watcher is CTL_WATCH_MAX_PENDING behind (or a sliced reply is being written: an
 * event must not land inside it). Never blocks and never frees the client.
 */
static void client_event_sink(void *arg, const char *line, size_t len)
{
	struct ctl_client *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pending = evbuffer_get_length(out);

	if (c->closing)
		return;
	if (c->job || (c->dropping && pending > CTL_WATCH_RESUME) ||
	    pending + len + 1 > CTL_WATCH_MAX_PENDING) {
		c->dropping = true;
		c->lost++;
		return;
	}
	watch_flush_lost(c);
	evbuffer_add(out, line, len);
	evbuffer_add(out, "\n", 1);
}

static int client_watch(struct ctl_client *c, const struct monitor_filter *flt)
{
	struct monitor *m = c->srv->d->mon;
	struct monitor_watch *w = monitor_watch_add(m, flt, client_event_sink, c);

	if (!w)
		return -1;
	monitor_watch_del(m, c->watch);
	c->watch = w;
	return 0;
}

/**
 * free_reply() - evbuffer cleanup for a reply queued by reference
 */
static void free_reply(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

/**
 * client_send() - queue @line (malloc'd, taken) and a newline for @c
 * Return: 0, or -1 if @c was disconnected (it is freed) for not reading its output
 */
static int client_send(struct ctl_client *c, char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pending = evbuffer_get_length(out);

	if (pending > CTL_MAX_PENDING) {
		log_warn("control: client uid %u has %zu bytes of unread replies, disconnecting",
			 (unsigned int)c->uid, pending);
		free(line);
		client_free(c);
		return -1;
	}
	/* By reference: a `conns` reply can be megabytes; do not copy it again. */
	if (evbuffer_add_reference(out, line, strlen(line), free_reply, NULL) < 0) {
		free(line);
		client_free(c);
		return -1;
	}
	evbuffer_add(out, "\n", 1);
	return 0;
}

/**
 * client_error() - queue an error reply of class GenericError with @desc
 * Return: as client_send()
 */
static int client_error(struct ctl_client *c, const char *desc)
{
	json_t *e = json_pack("{s:{s:s, s:s}}", "error", "class", "GenericError", "desc", desc);

	return client_send(c, dump_line(e));
}

/**
 * is_blank() - whether the @len bytes at @s are only whitespace (an empty line is skipped,
 * not answered, so that a human at socat can press Enter)
 */
static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void client_read_cb(struct bufferevent *bev, void *arg);
static void client_flush_close(struct ctl_client *c);

/**
 * idle_arm() - (re)start @c's idle timeout: CTL_IDLE_TIMEOUT_MS from now
 */
static void idle_arm(struct ctl_client *c)
{
	struct timeval tv = { c->srv->idle_ms / 1000, (c->srv->idle_ms % 1000) * 1000 };

	evtimer_add(c->ev_idle, &tv);
}

/**
 * idle_cb() - @c sent no complete request for srv->idle_ms: close it (a slot held by a client
 * that never speaks is a slot root cannot have). A watcher, a client whose reply is still
 * being written, and one that still has output to read are not idle: check again later.
 */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	char desc[96];

	if (c->closing) {
		client_free(c); /* it shut down its side and never read its last reply */
		return;
	}
	if (c->watch || c->job || evbuffer_get_length(bufferevent_get_output(c->bev))) {
		idle_arm(c);
		return;
	}
	c->srv->idle_closed++;
	log_info("control: client uid %u sent no complete request in %u ms, closing",
		 (unsigned int)c->uid, c->srv->idle_ms);
	snprintf(desc, sizeof(desc), "idle: no complete request in %u ms; closing",
		 c->srv->idle_ms);
	if (client_error(c, desc) < 0)
		return;
	idle_arm(c); /* one more period to read the line, then it is freed above */
	client_flush_close(c);
}

/**
 * job_step() - write the next slice of @c's `conns` reply; schedule the one after on a later
 * loop turn (at once if the client keeps up, else when its output drains to CTL_JOB_LOWAT)
 * Return: 0, or -1 if @c was disconnected (freed) for not reading its output
 */
static int job_step(struct ctl_client *c)
{
	static const struct timeval zero = { 0, 0 };
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (!c->job->started && evbuffer_get_length(out) > CTL_MAX_PENDING) {
		log_warn("control: client uid %u has %zu bytes of unread replies, disconnecting",
			 (unsigned int)c->uid, evbuffer_get_length(out));
		client_free(c);
		return -1;
	}
	if (!conns_job_slice(c->job, out, CTL_CONNS_SLICE)) {
		if (evbuffer_get_length(out) < CTL_JOB_LOWAT)
			evtimer_add(c->ev_job, &zero);
		return 0;
	}
	evbuffer_add(out, "\n", 1);
	conns_job_free(c->job);
	c->job = NULL;
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ);
	return 0;
}

/**
 * job_cb() - the next slice of a `conns` reply; once it is complete, the requests that
 * waited behind it are answered
 */
static void job_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (!c->job || job_step(c) < 0 || c->job)
		return;
	if (!c->closing)
		client_read_cb(c->bev, c);
}

/**
 * client_request() - answer one request line (a `conns` reply starts a job)
 * Return: as client_send()
 */
static int client_request(struct ctl_client *c, const char *line, size_t len)
{
	struct conns_job *job = NULL;
	char *reply;

	if (is_blank(line, len))
		return 0; /* not a request: does not hold off the idle timeout */
	idle_arm(c);
	reply = answer(c->srv->d, line, len, c->uid, c->gid, c, &job);
	if (!job)
		return client_send(c, reply);
	if (!c->ev_job)
		c->ev_job = evtimer_new(c->srv->d->base, job_cb, c);
	if (!c->ev_job) {
		conns_job_free(job);
		return client_error(c, "out of memory");
	}
	c->job = job;
	/* Requests after this one wait for its reply: stop reading until it is written. */
	bufferevent_disable(c->bev, EV_READ);
	return job_step(c);
}

/**
 * client_flush_close() - the peer is done sending: close now if nothing is left to write,
 * else once the output drains (client_write_cb)
 */
static void client_flush_close(struct ctl_client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (!c->job && !evbuffer_get_length(bufferevent_get_output(c->bev)))
		client_free(c);
}

/**
 * client_read_cb() - answer every complete line; bound what an unfinished one may hold
 */
static void client_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing && !c->job) {
		size_t n;
		char *line;
		int rc;

		if (c->discarding) {
			struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);

			if (p.pos < 0) {
				evbuffer_drain(in, evbuffer_get_length(in));
				return;
			}
			evbuffer_drain(in, (size_t)p.pos + 1);
			c->discarding = false;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) <= CTL_MAX_REQUEST)
				return; /* wait for the rest of the line */
			evbuffer_drain(in, evbuffer_get_length(in));
			c->discarding = true;
			if (client_error(c, "request too large (limit 65536 bytes without a "
					    "newline); discarded up to the next newline") < 0)
				return;
			continue;
		}
		rc = client_request(c, line, n);
		free(line);
		if (rc < 0)
			return;
	}
}

/**
 * client_write_cb() - the output drained to CTL_JOB_LOWAT: go on with a sliced reply, tell a
 * watcher what it lost, finish a close the peer asked for
 */
static void client_write_cb(struct bufferevent *bev, void *arg)
{
	static const struct timeval zero = { 0, 0 };
	struct ctl_client *c = arg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->job) {
		if (!evtimer_pending(c->ev_job, NULL))
			evtimer_add(c->ev_job, &zero);
		return;
	}
	if (c->dropping && pending <= CTL_WATCH_RESUME && c->srv->d->mon)
		watch_flush_lost(c);
	if (c->closing && !pending)
		client_free(c);
}

/**
 * client_event_cb() - EOF: a one-shot client shut down its side, so answer a last request
 * without a newline if there is one, then close after flushing; errors: close at once
 */
static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t n = evbuffer_get_length(in);

		if (n && !c->discarding) {
			/* Under CTL_MAX_REQUEST: the read callback drained anything longer. */
			unsigned char *p = evbuffer_pullup(in, -1);

			if (p && client_request(c, (const char *)p, n) < 0)
				return;
		}
		evbuffer_drain(in, n);
		client_flush_close(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_free(c);
}

/**
 * refuse() - tell a connection over a client limit why (@desc), without blocking, and close it
 */
static void refuse(int fd, const char *desc)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"%s\"}}\n", desc);

	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

/**
 * over_limit() - whether a new connection of @uid must be refused, and why (in @desc): all
 * CTL_MAX_CLIENTS slots are taken; or @uid is not root and only root's CTL_ROOT_RESERVE are
 * left; or @uid has CTL_MAX_CLIENTS_PER_UID connections already. So one user cannot take
 * the table, and root always gets in.
 */
static bool over_limit(struct ctl_server *srv, uid_t uid, char *desc, size_t desclen)
{
	unsigned int mine = 0;
	struct ctl_client *c;

	if (srv->nclients >= CTL_MAX_CLIENTS) {
		snprintf(desc, desclen, "too many control clients (limit %d)", CTL_MAX_CLIENTS);
		srv->refused_full++;
		return true;
	}
	if (uid == 0)
		return false;
	if (srv->nclients >= CTL_MAX_CLIENTS - CTL_ROOT_RESERVE) {
		snprintf(desc, desclen, "too many control clients (limit %d; the last %d are root's)",
			 CTL_MAX_CLIENTS, CTL_ROOT_RESERVE);
		srv->refused_full++;
		return true;
	}
	TAILQ_FOREACH(c, &srv->clients, entry)
		mine += c->uid == uid;
	if (mine >= CTL_MAX_CLIENTS_PER_UID) {
		snprintf(desc, desclen, "too many control clients for uid %u (limit %d per user)",
			 (unsigned int)uid, CTL_MAX_CLIENTS_PER_UID);
		srv->refused_uid++;
		return true;
	}
	return false;
}

/**
 * peer_admin() - whether the peer on @fd, with primary group @gid, is in the admin group:
 * its supplementary groups come from SO_PEERGROUPS (Linux 4.13), the kernel's record of the
 * connecting process, so no NSS lookup can block the loop (and membership is what the
 * process really had, as for file permissions)
 */
static bool peer_admin(struct ctl_server *srv, int fd, gid_t gid)
{
	gid_t stackbuf[64], *groups = stackbuf;
	socklen_t len = sizeof(stackbuf);
	bool found = false;

	if (!srv->admin_set)
		return false;
	if (gid == srv->admin_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) {
		/* ERANGE: more than 64 groups; len says how many bytes (at most NGROUPS_MAX) */
		if (errno != ERANGE || len > NGROUPS_MAX * sizeof(gid_t) || !(groups = malloc(len)))
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; i < len / sizeof(gid_t) && !found; i++)
		found = groups[i] == srv->admin_gid;
	if (groups != stackbuf)
		free(groups);
	return found;
}

/**
 * accept_cb() - a new connection: record its credentials and admin-group membership, or
 * refuse it over a limit (over_limit()); start its idle timeout
 */
static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *srv = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_client *c;
	char desc[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if (over_limit(srv, cred.uid, desc, sizeof(desc))) {
		log_warn("control: refusing pid %d uid %u: %s", (int)cred.pid,
			 (unsigned int)cred.uid, desc);
		refuse(fd, desc);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->admin = cred.uid != 0 && peer_admin(srv, fd, cred.gid);
	c->ev_idle = evtimer_new(srv->d->base, idle_cb, c);
	c->bev = bufferevent_socket_new(srv->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev || !c->ev_idle) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->ev_idle)
			event_free(c->ev_idle);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->clients, c, entry);
	srv->nclients++;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	/* the write callback fires whenever the output drains to this: sliced replies and
	 * watchers that fell behind go on from there */
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_JOB_LOWAT, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	idle_arm(c);
	log_debug("control: client pid %d uid %u connected%s", (int)cred.pid,
		  (unsigned int)cred.uid, c->admin ? " (admin group)" : "");
}

/**
 * resume_cb() - accept again after a pause
 */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *srv = arg;

	evconnlistener_enable(srv->lev);
}

/**
 * accept_error_cb() - accept() failed (out of descriptors...): pause instead of spinning
 */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct ctl_server *srv = arg;
	const struct timeval tv = { CTL_ACCEPT_PAUSE_MS / 1000, (CTL_ACCEPT_PAUSE_MS % 1000) * 1000 };

	log_warn("control: accept on %s: %s; pausing", srv->path, strerror(errno));
	evconnlistener_disable(lev);
	evtimer_add(srv->ev_pause, &tv);
}

/**
 * mkdir_parents() - create the directories leading to @path (mkdir -p of its dirname, 0755)
 * Return: 0, or -1 with errno set and the failing directory in @dir
 */
static int mkdir_parents(const char *path, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/**
 * clear_stale() - remove a socket file left by a dead daemon; refuse to touch a live one or
 * anything that is not a socket
 * Return: 0, or -1 with a message in @err
 */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	/* EAGAIN: the listener's backlog is full, which also means someone is there. */
	if (rc == 0 || errno == EAGAIN) {
		close(fd);
		snprintf(err, errlen, "%s: another daemon is already listening there", path);
		return -1;
	}
	close(fd);
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot tell whether it is in use: %s", path,
			 strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: removing the stale socket: %s", path, strerror(errno));
		return -1;
	}
	log_info("control: removed stale socket %s", path);
	return 0;
}

/**
 * listen_socket() - bind @path (the entry @name in the checked directory @dfd) with mode 0660
 * and group @gid (-1: leave it), then listen.
 *
 * Mode and group are never set through the path. The mode: bind() gives the file the socket
 * inode's own mode (fchmod before bind) less the umask (0117 around it), so it is 0660 from
 * its first instant. The group: the file takes the binder's filesystem gid, so setfsgid()
 * around bind() gives it at once where that is permitted (CAP_SETGID); else (the units grant
 * CAP_CHOWN, not CAP_SETGID) fchownat() relative to @dfd, the directory checked by
 * check_dir(), without following a link. Nobody can connect before listen().
 * Return: the listening descriptor, or -1 with a message in @err (nothing left behind)
 */
static int listen_socket(const char *path, int dfd, const char *name, gid_t gid, char *err,
			 size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc, oldfsgid = -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0660) < 0) {
		snprintf(err, errlen, "%s: setting mode 0660: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	old = umask(0117);
	if (gid != (gid_t)-1)
		oldfsgid = setfsgid(gid);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (gid != (gid_t)-1)
		setfsgid((gid_t)oldfsgid);
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 07777) != 0660) {
		snprintf(err, errlen, "%s: not created as a socket of mode 0660", path);
		goto fail;
	}
	/* setfsgid() does not say whether it worked: look at what bind() made */
	if (gid != (gid_t)-1 && st.st_gid != gid &&
	    fchownat(dfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "%s: giving it group %u: %s", path, (unsigned int)gid,
			 strerror(errno));
		goto fail;
	}
	if (listen(fd, CTL_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	unlinkat(dfd, name, 0);
	close(fd);
	return -1;
}

/**
 * resolve_group() - the gid of group @name (a name, or a number as config.c allows); called
 * at start-up only: getgrnam may consult NSS and block
 * Return: 0, or -1 if there is no such group
 */
static int resolve_group(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	char *end;
	unsigned long v;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (!*name || *end || errno || v >= (gid_t)-1)
		return -1;
	*gid = (gid_t)v;
	return 0;
}

/**
 * check_dir() - open the socket's directory, refusing one someone else could swap or write to
 * (issue 14, finding 6): every component of @path's directory must be owned by root (or the
 * daemon's uid) and not group- or world-writable (a sticky ancestor, as /tmp, is fine)
 * @name:	set to the socket's name within it (points into @path)
 * Return: the directory's descriptor, or -1 with a message in @err
 */
static int check_dir(const char *path, const char **name, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], why[384];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*name = path + (slash - dir) + 1;
	if (slash == dir)
		slash[1] = '\0'; /* a socket in / */
	else
		*slash = '\0';
	fd = safedir_open(dir, "control directory", 0, true, why, sizeof(why));
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return fd;
}

struct ctl_server *ctl_server_new(struct tapird *d, const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_server *srv;
	gid_t gid = (gid_t)-1, admin_gid = (gid_t)-1;
	const char *name;
	int fd, dfd;

	if (path[0] != '/' || strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: control socket path not absolute or longer than %zu bytes",
			 path, sizeof(dir) - 1);
		return NULL;
	}
	if (d->cfg.control_group[0] && resolve_group(d->cfg.control_group, &gid) < 0) {
		snprintf(err, errlen, "%s: control group '%s' does not exist", path,
			 d->cfg.control_group);
		return NULL;
	}
	/* once, here: never an NSS lookup on the loop per request (may_mutate()) */
	if (d->cfg.admin_group[0] && resolve_group(d->cfg.admin_group, &admin_gid) < 0) {
		snprintf(err, errlen, "%s: admin group '%s' does not exist", path,
			 d->cfg.admin_group);
		return NULL;
	}
	/* A client that hangs up before reading its reply must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (mkdir_parents(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "%s: creating %s: %s", path, dir, strerror(errno));
		return NULL;
	}
	dfd = check_dir(path, &name, err, errlen);
	if (dfd < 0)
		return NULL;
	if (clear_stale(path, err, errlen) < 0) {
		close(dfd);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		close(dfd);
		return NULL;
	}
	srv->d = d;
	srv->admin_gid = admin_gid;
	srv->admin_set = d->cfg.admin_group[0] != '\0';
	srv->idle_ms = CTL_IDLE_TIMEOUT_MS;
	TAILQ_INIT(&srv->clients);
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	fd = listen_socket(path, dfd, name, gid, err, errlen);
	close(dfd);
	if (fd < 0) {
		free(srv);
		return NULL;
	}
	srv->ev_pause = evtimer_new(d->base, resume_cb, srv);
	srv->lev = evconnlistener_new(d->base, accept_cb, srv,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!srv->ev_pause || !srv->lev) {
		snprintf(err, errlen, "%s: cannot watch the socket", path);
		if (srv->ev_pause)
			event_free(srv->ev_pause);
		if (!srv->lev)
			close(fd);
		else
			evconnlistener_free(srv->lev);
		unlink(path);
		free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->lev, accept_error_cb);
	/* The monitor serves this socket's watch, conns --all and conn; the metrics endpoint is
	 * its other face. Both start with the control server and end with it. */
	if (!d->mon) {
		d->mon = monitor_new(d, d->cfg.closed_history);
		srv->own_mon = d->mon != NULL;
	}
	if (!d->mon) {
		snprintf(err, errlen, "%s: cannot start the monitor (out of memory)", path);
		ctl_server_free(srv);
		return NULL;
	}
	if (d->cfg.metrics[0]) {
		srv->metrics = metrics_new(d, d->cfg.metrics, err, errlen);
		if (!srv->metrics) {
			ctl_server_free(srv);
			return NULL;
		}
	}
	log_info("control: listening on %s", path);
	return srv;
}

void ctl_server_set_idle_timeout(struct ctl_server *srv, unsigned int ms)
{
	srv->idle_ms = ms;
}

void ctl_server_free(struct ctl_server *srv)
{
	if (!srv)
		return;
	while (!TAILQ_EMPTY(&srv->clients))
		client_free(TAILQ_FIRST(&srv->clients));
	metrics_free(srv->metrics);
	/* a capture's file is complete only once closed */
	for (unsigned int i = 0; i < srv->d->nlinks; i++)
		if (srv->d->links[i])
			capture_stop(srv->d->links[i], NULL);
	if (srv->own_mon) {
		monitor_free(srv->d->mon);
		srv->d->mon = NULL;
	}
	evconnlistener_free(srv->lev);
	event_free(srv->ev_pause);
	unlink(srv->path);
	free(srv);
}
