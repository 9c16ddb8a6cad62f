/* link.c - one attached container: enter its namespace, create and configure the TAP, come
 * back, and wire the TAP and the stack's timer to the loop.
 *
 * The data path here is the TAP side only: read a batch of frames into one buffer and feed
 * them to the stack inside one stack batch (one dispatch, so one ACK, per flow per batch);
 * send the stack's batch of frames, filling the payload of TCP segments from upstream
 * first (relay_tcp_fill), and dropping (and counting) what the TAP's queue refuses, since
 * TCP retransmits and blocking the loop would stall every other flow.
 */
#include "capture.h"
#include "fwd.h"
#include "link.h"
#include "log.h"
#include "monitor.h"
#include "netlink.h"
#include "netns.h"
#include "pingrelay.h"
#include "relay.h"
#include "relay_env.h"
#include "stack.h"
#include "tap.h"
#include "tapird.h"
#include "udprelay.h"
#include "wire.h"

#include <errno.h>
#include <stddef.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Frames per wakeup: enough to amortise the wakeup, few enough that one busy link cannot
 * starve the others and the upstream sockets on the same loop. */
#define LINK_RX_BATCH 64

/* One frame: the largest MTU (65521) plus the Ethernet header is 65535; room to spare for a
 * virtio-net header once offloads are switched on. One buffer serves every link: the loop is
 * single-threaded and stack_input() is done with a frame when it returns. */
static uint8_t link_rxbuf[65536 + 256];

/* Frames in the transmit batch every link's stack builds into: the loop is single-threaded and
 * a batch is sent before the next one begins, so one serves every link. 64 frames of 64 KiB
 * are 4 MiB of address space; only the slots a batch reaches are ever touched. */
#define LINK_TX_BATCH 64

static struct stack_txq *link_txq;

/**
 * link_write() - write one frame to the TAP, never blocking
 * @l:		the link
 * @frame:	the frame
 * @len:	its length
 */
static void link_write(struct link *l, const uint8_t *frame, size_t len)
{
	ssize_t n;

	if (l->tap_fd < 0) {
		l->tx_errors++;
		return;
	}
	if (l->capture)
		capture_frame(l, frame, len);
	do
		n = write(l->tap_fd, frame, len);
	while (n < 0 && errno == EINTR);
	/* EAGAIN/ENOBUFS: queue full; EIO: link down. The frame is lost: TCP retransmits. */
	if (n != (ssize_t)len)
		l->tx_errors++;
}

/**
 * link_tx() - ops->tx: complete the batch's frames (TCP payload peeked from upstream, runs of
 * one flow's consecutive segments with one peek) and write them to the TAP
 * @ctx:	the link
 * @q:		the batch
 */
static void link_tx(void *ctx, struct stack_txq *q)
{
	struct link *l = ctx;
	unsigned int i = 0, n, k;

	while (i < q->n) {
		struct stack_frame *fr = &q->frame[i];

		n = 1;
		if (fr->fill_flow) {
			while (i + n < q->n && q->frame[i + n].fill_flow == fr->fill_flow &&
			       q->frame[i + n].fill_seq ==
				       q->frame[i + n - 1].fill_seq + q->frame[i + n - 1].fill_len)
				n++;
			n = relay_tcp_fill(fr, n);
		}
		for (k = i; k < i + n; k++)
			if (q->frame[k].len)
				link_write(l, q->frame[k].data, q->frame[k].len);
		i += n;
	}
	q->n = 0;
}

/**
 * link_lost() - the TAP failed for good (namespace gone, interface deleted): drop the link,
 * and stop the loop if it was the last one and the daemon exists for it alone
 */
static void link_lost(struct link *l, int err)
{
	struct tapird *d = l->d;

	log_err("%s in %s: read: %s; detaching", l->ifname, l->netns, strerror(err));
	link_detach(l);
	if (!d->nlinks && d->exit_with_last_link)
		event_base_loopbreak(d->base);
}

/**
 * link_tap_readable() - drain up to LINK_RX_BATCH frames from the TAP into the stack
 * @arg:	the link
 */
static void link_tap_readable(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	unsigned int i;
	ssize_t n;

	stack_batch_begin(l->stack);
	for (i = 0; i < LINK_RX_BATCH; i++) {
		n = read(fd, link_rxbuf, sizeof(link_rxbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			stack_batch_end(l->stack, tapird_now_us());
			link_lost(l, errno);
			return;
		}
		if (!n)
			break;
		if (l->capture)
			capture_frame(l, link_rxbuf, (size_t)n);
		stack_input(l->stack, link_rxbuf, (size_t)n, tapird_now_us());
	}
	/* the windows the batch's ACKs carry: the room of the flows written to, measured once */
	relay_tcp_refresh(&l->env);
	stack_batch_end(l->stack, tapird_now_us());
	link_touch(l);
}

/**
 * link_timer_fired() - the stack's deadline passed: run its timers
 * @arg:	the link
 */
static void link_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;

	stack_tick(l->stack, tapird_now_us());
	link_touch(l);
}

/**
 * link_rearm_timer() - schedule the stack's timer for its next deadline
 * @l:		the link
 */
static void link_rearm_timer(struct link *l)
{
	uint64_t deadline = stack_next_deadline(l->stack), now, delta;
	struct timeval tv;

	if (deadline == UINT64_MAX) {
		evtimer_del(l->ev_timer);
		return;
	}
	now = tapird_now_us();
	delta = deadline > now ? deadline - now : 0;
	tv.tv_sec = (time_t)(delta / 1000000u);
	tv.tv_usec = (suseconds_t)(delta % 1000000u);
	evtimer_add(l->ev_timer, &tv);
}

/* --- the loop turn: a link's timer re-armed once, after the turn's callbacks ------------- */

/**
 * link_turn_cb() - the callbacks of this loop turn that fed the link's stack are done: re-arm
 * its timer once. libevent runs an event made active during its pass over the active queue
 * in that same pass, after the callbacks queued before it, so a link fed by many sockets and
 * its TAP in one turn computes its next deadline once.
 * @arg:	the link
 */
static void link_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	link_rearm_timer(arg);
}

void link_touch(struct link *l)
{
	if (l->ev_turn)
		event_active(l->ev_turn, EV_TIMEOUT, 0); /* a no-op while it is active already */
	else
		link_rearm_timer(l);
}

/**
 * link_env_touched() - relay_env.touched: a relay fed the link's stack
 * @env:	the link's environment (struct link's @env)
 */
static void link_env_touched(struct relay_env *env)
{
	link_touch((struct link *)((char *)env - offsetof(struct link, env)));
}

/* --- the stack's requests, dispatched by protocol to the relay that serves it ---------- */

/** link_tcp_open() - stack_ops.tcp_open, to the TCP relay */
static int link_tcp_open(void *ctx, struct flow *f)
{
	return relay_tcp_open(&((struct link *)ctx)->env, f);
}

/** link_tcp_deliver() - stack_ops.tcp_deliver, to the TCP relay */
static size_t link_tcp_deliver(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	(void)ctx;
	return relay_tcp_deliver(f, data, len);
}

/** link_tcp_consume() - stack_ops.tcp_consume, to the TCP relay */
static void link_tcp_consume(void *ctx, struct flow *f, uint32_t n)
{
	(void)ctx;
	relay_tcp_consume(f, n);
}

/** link_tcp_fin() - stack_ops.tcp_fin, to the TCP relay */
static void link_tcp_fin(void *ctx, struct flow *f)
{
	(void)ctx;
	relay_tcp_fin(f);
}

/** link_tcp_reset() - stack_ops.tcp_reset, to the TCP relay */
static void link_tcp_reset(void *ctx, struct flow *f)
{
	(void)ctx;
	relay_tcp_reset(f);
}

/** link_udp_send() - stack_ops.udp_send, to the UDP relay */
static int link_udp_send(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	return udprelay_send(&((struct link *)ctx)->env, f, data, len);
}

/** link_icmp_echo() - stack_ops.icmp_echo, to the ping relay */
static int link_icmp_echo(void *ctx, uint32_t daddr, uint16_t id, uint16_t seq,
			  const uint8_t *data, size_t len)
{
	return pingrelay_echo(&((struct link *)ctx)->env, daddr, id, seq, data, len);
}

/** link_flow_closed() - stack_ops.flow_closed: the relay of the flow's protocol lets go */
static void link_flow_closed(void *ctx, struct flow *f)
{
	(void)ctx;
	if (f->proto == PROTO_TCP)
		relay_tcp_closed(f);
	else if (f->proto == PROTO_UDP)
		udprelay_closed(f);
}

/**
 * link_flow_event() - stack_ops.flow_event: the TCP relay hears of state changes (a forward's
 * connection becoming synchronised), then the monitor (watchers, history)
 */
static void link_flow_event(void *ctx, struct flow *f, enum stack_flow_event ev, int from)
{
	if (ev == STACK_EV_STATE && f->proto == PROTO_TCP)
		relay_tcp_state(f);
	monitor_flow_event(ctx, f, ev, from);
}

/* The one set of callbacks every link's stack gets; ctx is the link */
static const struct stack_ops link_ops = {
	.tx = link_tx,
	.flow_event = link_flow_event,
	.tcp_open = link_tcp_open,
	.tcp_deliver = link_tcp_deliver,
	.tcp_consume = link_tcp_consume,
	.tcp_fin = link_tcp_fin,
	.tcp_reset = link_tcp_reset,
	.flow_closed = link_flow_closed,
	.udp_send = link_udp_send,
	.icmp_echo = link_icmp_echo,
};

/**
 * link_ipv6() - whether the link speaks IPv6: asked for, and an MTU IPv6 can use
 * @cfg:	the link's configuration
 *
 * Return: true if so (RFC 8200 5: a link below 1280 bytes carries no IPv6)
 */
static bool link_ipv6(const struct link_cfg *cfg)
{
	return !cfg->no_ipv6 && cfg->mtu >= IP6_MIN_MTU;
}

/**
 * link_ll6() - the stack's link-local address (from its MAC, as the stack computes it)
 * @ll:		filled with the address
 */
static void link_ll6(uint8_t ll[16])
{
	struct stack_cfg sc;

	stack_cfg_defaults(&sc);
	memset(ll, 0, 16);
	ll[0] = 0xfe;
	ll[1] = 0x80;
	ll[8] = sc.mac[0] ^ 0x02;
	ll[9] = sc.mac[1];
	ll[10] = sc.mac[2];
	ll[11] = 0xff;
	ll[12] = 0xfe;
	ll[13] = sc.mac[3];
	ll[14] = sc.mac[4];
	ll[15] = sc.mac[5];
}

/**
 * link_open_tap() - in the target namespace: create the TAP and configure it
 * @self:	fd of the daemon's own namespace, entered again before returning
 * @target:	fd of the container's namespace
 * Return: 0 with l->tap_fd and l->ifindex set, or -1 with @err filled
 */
static int link_open_tap(struct link *l, int self, int target, char *err, size_t errlen)
{
	const struct link_cfg *cfg = &l->cfg;
	char why[256];
	int rc, n;

	rc = netns_enter(target);
	if (rc) {
		snprintf(err, errlen, "%s: %s", l->netns,
			 rc == -EINVAL ? "not a network namespace" : strerror(-rc));
		return -1;
	}
	rc = tap_open(l->ifname, 0);
	if (rc < 0) {
		snprintf(err, errlen, "%s in %s: %s", l->ifname, l->netns, strerror(-rc));
		goto back;
	}
	l->tap_fd = rc;
	rc = 0;
	l->ifindex = (int)if_nametoindex(l->ifname);
	if (!l->ifindex) {
		snprintf(err, errlen, "%s in %s: %s", l->ifname, l->netns, strerror(errno));
		rc = -1;
		goto back;
	}
	if (!cfg->no_configure) {
		struct netlink_ifcfg nc = {
			.ifindex = l->ifindex,
			.mtu = cfg->mtu,
			.addr = cfg->addr,
			.prefix_len = cfg->prefix_len,
			.gateway = cfg->gateway,
			.ipv6 = link_ipv6(cfg),
			.prefix6_len = cfg->prefix6_len,
		};

		if (nc.ipv6) {
			struct stack_cfg sc;

			stack_cfg_prefix6(&sc, cfg->prefix6, cfg->prefix6_len);
			memcpy(nc.addr6, sc.addr6, 16);
			link_ll6(nc.gateway6);
		}
		rc = netlink_configure(&nc, why, sizeof(why));
		if (rc)
			snprintf(err, errlen, "%s in %s: %s", l->ifname, l->netns, why);
		else
			l->configured = true;
	}
back:
	/* Every socket the relay opens later must be in the daemon's namespace. */
	n = netns_enter(self);
	if (n) {
		/* going on would relay the container's flows from inside its own namespace */
		log_err("%s: cannot return to the daemon's namespace: %s", NETNS_SELF,
			strerror(-n));
		abort();
	}
	return rc < 0 ? -1 : 0;
}

/**
 * link_stack_new() - the link's stack, configured from the daemon's configuration
 * Return: 0, or -1 with @err filled
 */
static int link_stack_new(struct link *l, char *err, size_t errlen)
{
	const struct config *dc = &l->d->cfg;
	const struct link_cfg *cfg = &l->cfg;
	struct stack_cfg sc;

	stack_cfg_defaults(&sc);
	sc.addr = cfg->addr;
	sc.prefix_len = cfg->prefix_len;
	sc.gateway = cfg->gateway;
	sc.dns = cfg->dns;
	sc.mtu = cfg->mtu;
	sc.time_wait_ms = dc->time_wait_s * 1000u;
	sc.max_flows = dc->max_flows;
	sc.max_half_open = dc->max_half_open;
	sc.next_flow_id = &l->d->next_flow_id;
	sc.udp_timeout_ms = dc->udp_timeout_s * 1000u;
	sc.udp_timeout_stream_ms = dc->udp_timeout_stream_s * 1000u;
	sc.max_udp_flows = dc->max_udp_flows;
	sc.no_host_loopback = cfg->no_host_loopback;
	sc.ipv6 = link_ipv6(cfg);
	stack_cfg_prefix6(&sc, cfg->prefix6, cfg->prefix6_len);
	/* RFC 6528: the ISN key must be secret and unpredictable */
	if (getrandom(sc.secret, sizeof(sc.secret), 0) != (ssize_t)sizeof(sc.secret)) {
		snprintf(err, errlen, "%s: getrandom: %s", l->name, strerror(errno));
		return -1;
	}
	if (!link_txq)
		link_txq = stack_txq_new(LINK_TX_BATCH);
	l->stack = link_txq ? stack_new(&sc, &link_ops, l) : NULL;
	if (!l->stack) {
		snprintf(err, errlen, "%s: cannot create the stack (out of memory?)", l->name);
		return -1;
	}
	stack_set_txq(l->stack, link_txq);
	l->env = (struct relay_env){
		.stack = l->stack,
		.base = l->d->base,
		.cfg = &l->cfg,
		.dcfg = &l->d->cfg,
		.name = l->name,
		.touched = link_env_touched,
	};
	return 0;
}

struct link *link_find(struct tapird *d, const char *name)
{
	for (unsigned int i = 0; i < d->nlinks; i++)
		if (d->links[i] && !strcmp(d->links[i]->name, name))
			return d->links[i];
	return NULL;
}

struct link *link_attach(struct tapird *d, const struct link_cfg *lc, char *err, size_t errlen)
{
	int self = -1, target = -1, n;
	struct link *l;

	if (!lc->name[0]) {
		snprintf(err, errlen, "the link has no name");
		return NULL;
	}
	if (link_find(d, lc->name)) {
		snprintf(err, errlen, "%s: a link of that name is attached already", lc->name);
		return NULL;
	}
	if (d->nlinks >= TAPIRD_MAX_LINKS) {
		snprintf(err, errlen, "%s: too many links (%d)", lc->name, TAPIRD_MAX_LINKS);
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->d = d;
	l->tap_fd = -1;
	l->cfg = *lc;
	snprintf(l->name, sizeof(l->name), "%s", lc->name);
	snprintf(l->ifname, sizeof(l->ifname), "%s", lc->ifname);
	if (lc->pid)
		n = snprintf(l->netns, sizeof(l->netns), "/proc/%d/ns/net", lc->pid);
	else
		n = snprintf(l->netns, sizeof(l->netns), "%s", lc->netns);
	if (n < 0 || (size_t)n >= sizeof(l->netns) || !l->netns[0]) {
		snprintf(err, errlen, "no namespace given");
		goto fail;
	}

	self = netns_open(NETNS_SELF);
	if (self < 0) {
		snprintf(err, errlen, "%s: %s", NETNS_SELF, strerror(-self));
		goto fail;
	}
	target = netns_open(l->netns);
	if (target < 0) {
		snprintf(err, errlen, "%s: %s", l->netns, strerror(-target));
		goto fail;
	}
	if (link_open_tap(l, self, target, err, errlen))
		goto fail;
	if (link_stack_new(l, err, errlen))
		goto fail;

	l->ev_tap = event_new(d->base, l->tap_fd, EV_READ | EV_PERSIST, link_tap_readable, l);
	l->ev_timer = evtimer_new(d->base, link_timer_fired, l);
	l->ev_turn = event_new(d->base, -1, 0, link_turn_cb, l);
	if (!l->ev_tap || !l->ev_timer || !l->ev_turn || event_add(l->ev_tap, NULL)) {
		snprintf(err, errlen, "%s: cannot add events to the loop", l->name);
		goto fail;
	}
	close(target);
	close(self);
	d->links[d->nlinks++] = l;
	/* RFC 4861 6.2.4: advertise at once, so that the container's SLAAC and RDNSS do not
	 * wait for its router solicitation; the stack arms the next ones */
	stack_ipv6_start(l->stack, tapird_now_us());
	link_rearm_timer(l);
	log_info("%s: %s in %s%s", l->name, l->ifname, l->netns,
		 l->configured ? "" : " (not configured)");
	return l;
fail:
	if (target >= 0)
		close(target);
	if (self >= 0)
		close(self);
	if (l->ev_tap)
		event_free(l->ev_tap);
	if (l->ev_timer)
		event_free(l->ev_timer);
	if (l->ev_turn)
		event_free(l->ev_turn);
	stack_free(l->stack);
	if (l->tap_fd >= 0)
		close(l->tap_fd);
	free(l);
	return NULL;
}

void link_detach(struct link *l)
{
	struct tapird *d = l->d;
	unsigned int i;

	for (i = 0; i < d->nlinks; i++) {
		if (d->links[i] == l) {
			d->links[i] = d->links[--d->nlinks];
			d->links[d->nlinks] = NULL;
			break;
		}
	}
	fwd_link_gone(l);
	capture_stop(l, NULL);
	pingrelay_env_gone(&l->env);
	/* flows first: the relay's flow_closed callbacks release their sockets and events */
	stack_free(l->stack);
	l->stack = NULL;
	if (l->ev_tap)
		event_free(l->ev_tap);
	if (l->ev_timer)
		event_free(l->ev_timer);
	if (l->ev_turn)
		event_free(l->ev_turn);
	/* A non-persistent TAP disappears with its last fd. */
	if (l->tap_fd >= 0)
		close(l->tap_fd);
	log_info("%s: detached (%llu frames refused by the TAP)", l->name,
		 (unsigned long long)l->tx_errors);
	free(l);
	if (!d->nlinks) {
		/* nothing left to serve: the shared batch goes too (a later attach makes it) */
		stack_txq_free(link_txq);
		link_txq = NULL;
	}
}
