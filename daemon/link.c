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
#include "privsep.h"
#include "reach.h"
#include "relay.h"
#include "relay_env.h"
#include "stack.h"
#include "tap.h"
#include "tapird.h"
#include "udprelay.h"
#include "upstream.h"
#include "wire.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* A link's budget per loop turn: frames, and bytes, read from its TAP per wakeup. Enough to
 * amortise the wakeup; few enough that a link whose container floods cannot starve the
 * others and the upstream sockets on the same loop: what is left stays in the TAP's queue
 * and is read on the next turn (the read event is level-triggered), after every other ready
 * event had its turn. 16 datagrams of a UDP flood (with 64, a flood to a closed port from 64
 * sockets, each datagram answered by an ICMP error the relay handles outside this budget, left
 * another link 5-15% of its round trips in test_links.sh; with 16, 16-22%), or 8 super-frames
 * of 64 KiB (without the byte budget 64 of those, 4 MiB, held the loop for milliseconds). */
#define LINK_RX_BATCH 16
#define LINK_TURN_BYTES (512u * 1024)
/* A frame that made the stack open a flow ends the turn: the relay pays a socket, a connect()
 * and the poller's registration for it (and, with the table full, an eviction's close), some
 * ten times a datagram's cost. A container that sprays datagrams from more sockets than its
 * UDP flow table holds evicts and reopens a flow per datagram: at one frame each, 16 of those
 * held the loop long enough to cut another link's round trips to 5% of its own
 * (test_links.sh), at 8 each to 18%; ending the turn, 32%. A SYN flood is read one SYN per
 * turn, every other link served in between. */
/* Bytes after which a stack batch ends (its ACKs and window updates go out) even if the TAP has
 * more: a batch's ACKs leave only when it ends, and the container's sender must not wait on
 * them with a full socket buffer. 256 KiB is 4 segments at MTU 65520 (the container's stack
 * sends 64 KiB segments; RFC 9293 3.8.6.3 asks an ACK every second one: 4 measured better on
 * a loaded 2-core host) and a whole 64-frame wakeup at MTU 1500. */
#define LINK_BATCH_BYTES (256u * 1024)

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
 * link_write() - write one frame of the batch to the TAP (with its virtio-net header when the
 * offloads are on), never blocking
 * @l:		the link
 * @fr:		the frame, complete
 */
static void link_write(struct link *l, const struct stack_frame *fr)
{
	const uint8_t *buf = fr->data;
	size_t len = fr->len;
	ssize_t n;

	if (l->tap_fd < 0) {
		l->tx_errors++;
		return;
	}
	if (l->capture)
		capture_frame(l, fr->data, fr->len);
	if (l->offload) {
		/* the header sits in the headroom the stack leaves before every frame */
		buf -= STACK_VNET_HDR_LEN;
		len += STACK_VNET_HDR_LEN;
	}
	do
		n = write(l->tap_fd, buf, len);
	while (n < 0 && errno == EINTR);
	/* EAGAIN/ENOBUFS: queue full; EIO: link down. The frame is lost: TCP retransmits. */
	if (n != (ssize_t)len)
		l->tx_errors++;
}

/**
 * link_tx() - ops->tx: complete the batch's frames (TCP payload peeked from upstream, runs of
 * one flow's consecutive segments with one peek; checksums sealed, virtio-net headers
 * written) and write them to the TAP
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
		for (k = i; k < i + n; k++) {
			struct stack_frame *f = &q->frame[k];

			if (!f->len)
				continue;
			/* the checksum of a filled segment: in full, or with offloads partial
			 * (and the segment maybe a super-frame) for the container's kernel */
			if (l->offload)
				stack_frame_vnet(f);
			else
				stack_frame_seal(f);
			link_write(l, f);
			l->d->moved += f->len;
		}
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
 * link_tap_readable() - read the link's budget for this loop turn from the TAP (LINK_RX_BATCH
 * frames, LINK_TURN_BYTES bytes) into the stack, in stack batches of up to LINK_BATCH_BYTES
 * @arg:	the link
 */
static void link_tap_readable(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	const struct stack_counters *cnt = stack_counters(l->stack);
	size_t bytes = 0, turn = 0;
	uint64_t opened = cnt->flows_opened;
	unsigned int i;
	ssize_t n;

	stack_batch_begin(l->stack);
	udprelay_batch_begin(&l->env);
	for (i = 0; i < LINK_RX_BATCH; i++) {
		n = read(fd, link_rxbuf, sizeof(link_rxbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			n = errno;
			udprelay_flush(&l->env);
			stack_batch_end(l->stack, tapird_now_us());
			link_lost(l, (int)n);
			return;
		}
		if (!n)
			break;
		if (!l->offload) {
			if (l->capture)
				capture_frame(l, link_rxbuf, (size_t)n);
			stack_input(l->stack, link_rxbuf, (size_t)n, tapird_now_us());
		} else {
			if (l->capture && n > STACK_VNET_HDR_LEN)
				capture_frame(l, link_rxbuf + STACK_VNET_HDR_LEN,
					      (size_t)n - STACK_VNET_HDR_LEN);
			stack_input_vnet(l->stack, link_rxbuf, (size_t)n, tapird_now_us());
		}
		bytes += (size_t)n;
		l->d->moved += (size_t)n;
		turn += (size_t)n;
		if (cnt->flows_opened != opened)
			break;
		if (turn >= LINK_TURN_BYTES)
			break;
		if (bytes >= LINK_BATCH_BYTES) {
			udprelay_flush(&l->env);
			relay_tcp_refresh(&l->env);
			stack_batch_end(l->stack, tapird_now_us());
			stack_batch_begin(l->stack);
			udprelay_batch_begin(&l->env);
			bytes = 0;
		}
	}
	/* the batch's datagrams go upstream, socket by socket (runs of one size as one UDP GSO
	 * send); the windows the batch's ACKs carry: the room of the flows written to, measured
	 * once */
	udprelay_flush(&l->env);
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
	/* the turn's frames are out (a SYN-ACK among them): the next connection's socket, off
	 * the critical path of this one */
	relay_tcp_spare();
}

void link_touch(struct link *l)
{
	l->d->activity++;
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

/**
 * link_env_bind_outbound() - relay_env.bind_outbound: link_bind_outbound() for the link
 * @env:	the link's environment
 * @fd:		the upstream socket
 * @dst:	where it connects
 * Return: 0, or -errno from bind()
 */
static int link_env_bind_outbound(const struct relay_env *env, int fd,
				  const struct sockaddr_storage *dst)
{
	return link_bind_outbound(&((const struct link *)((const char *)env -
							   offsetof(struct link, env)))->cfg, fd, dst);
}

/* --- the stack's requests, dispatched by protocol to the relay that serves it ---------- */

/** link_tcp_open() - stack_ops.tcp_open, to the TCP relay */
static int link_tcp_open(void *ctx, struct flow *f)
{
	return relay_tcp_open(&((struct link *)ctx)->env, f);
}

/** link_tcp_deliver() - stack_ops.tcp_deliver, to the TCP relay */
static ssize_t link_tcp_deliver(void *ctx, struct flow *f, const uint8_t *data, size_t len)
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

/** link_icmp6_echo() - stack_ops.icmp6_echo, to the ping relay's ICMPv6 sockets */
static int link_icmp6_echo(void *ctx, const uint8_t saddr[16], const uint8_t daddr[16],
			   uint16_t id, uint16_t seq, const uint8_t *data, size_t len)
{
	return pingrelay_echo6(&((struct link *)ctx)->env, saddr, daddr, id, seq, data, len);
}

/** link_flow_closed() - stack_ops.flow_closed: the relay of the flow's protocol lets go */
static void link_flow_closed(void *ctx, struct flow *f)
{
	struct link *l = ctx;

	if (f->proto == PROTO_TCP) {
		reach_dest_release(l->reach, f); /* also a flow refused before it had a socket */
		relay_tcp_closed(f);
	}
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
	.icmp6_echo = link_icmp6_echo,
};

/**
 * link_netlink_readable() - the container's kernel announced link changes: apply the TAP's
 * new MTU to the stack (RFC 9293 3.7.1: the MSS announced is MTU - 40)
 * @arg:	the link
 */
static void link_netlink_readable(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;
	uint32_t mtu = 0, now;
	int rc;

	(void)fd;
	(void)what;
	rc = netlink_watch_read(l->nl_watch, l->ifindex, &mtu);
	if (rc < 0) {
		/* messages were lost: ask again, the answer comes on this socket */
		log_warn("%s in %s: netlink: %s; asking for the MTU again", l->ifname, l->netns,
			 strerror(-rc));
		rc = netlink_watch_resync(l->nl_watch, l->ifindex);
		if (rc)
			log_err("%s in %s: netlink: %s", l->ifname, l->netns, strerror(-rc));
		return;
	}
	if (!rc || mtu == l->tap_mtu)
		return;
	now = stack_set_mtu(l->stack, mtu);
	log_info("%s: %s MTU %u: new connections announce MSS %u%s", l->name, l->ifname, mtu,
		 now - 40, now != mtu ? " (MTU out of range: bounded)" : "");
	l->tap_mtu = mtu;
}

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

/* The TAP child's answer: the TAP's fd, and the netlink watch's when @watch, ride along as
 * SCM_RIGHTS when @ok */
struct tap_reply {
	int ok;
	int ifindex;
	uint32_t mtu;
	int watch;
	char err[256];
};

/**
 * tap_child() - in a fresh child: join the namespaces (@userns_fd, -1 for none, then
 * @netns_fd), create the TAP, configure it unless told not to, and send its fd and index to
 * @sock
 * @netns:	the network namespace's path, for messages
 * Return: the child's exit status (0: sent)
 */
static int tap_child(const struct link_cfg *lc, const char *netns, int userns_fd, int netns_fd,
		     int sock)
{
	struct tap_reply rep = { 0 };
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char why[200];
	int fd = -1, rc, fds[2] = { -1, -1 };

	rc = netns_join(userns_fd, netns_fd, why, sizeof(why));
	if (rc) {
		/* the reply has room for a path's head and the reason */
		snprintf(rep.err, sizeof(rep.err), "%.160s: %.80s", rc == -1 ? lc->userns : netns,
			 why);
		goto send;
	}
	/* with offloads, every frame has a virtio-net header and the kernel may hand over and
	 * take back 64 KiB super-frames with partial checksums (tap.h) */
	fd = tap_open(lc->ifname, (lc->tap_reuse ? TAP_REUSE : 0) |
					  (lc->no_offload ? 0 : TAP_VNET_HDR));
	if (fd < 0) {
		snprintf(rep.err, sizeof(rep.err), "%s in %s: %s", lc->ifname, netns,
			 strerror(-fd));
		goto send;
	}
	if (!lc->no_offload) {
		rc = tap_set_offload(fd, TAP_OFFLOADS);
		if (rc < 0) {
			snprintf(rep.err, sizeof(rep.err),
				 "%s in %s: offloads: %s (--no-offload does without)", lc->ifname,
				 netns, strerror(-rc));
			goto send;
		}
	}
	rep.ifindex = (int)if_nametoindex(lc->ifname);
	if (!rep.ifindex) {
		snprintf(rep.err, sizeof(rep.err), "%s in %s: %s", lc->ifname, netns,
			 strerror(errno));
		goto send;
	}
	if (!lc->no_configure) {
		struct netlink_ifcfg nc = {
			.ifindex = rep.ifindex,
			.mtu = lc->mtu,
			.addr = lc->addr,
			.prefix_len = lc->prefix_len,
			.gateway = lc->gateway,
			.mac = lc->has_mac ? lc->mac : NULL,
			.loopback_up = true,
			.ipv6 = link_ipv6(lc),
			.prefix6_len = lc->prefix6_len,
		};

		if (nc.ipv6) {
			struct stack_cfg sc;

			stack_cfg_prefix6(&sc, lc->prefix6, lc->prefix6_len);
			memcpy(nc.addr6, sc.addr6, 16);
			link_ll6(nc.gateway6);
		}

		if (netlink_configure(&nc, why, sizeof(why))) {
			snprintf(rep.err, sizeof(rep.err), "%s in %s: %s", lc->ifname, netns, why);
			goto send;
		}
	}
	/* RFC 9293 3.7.1: the MSS tapird announces comes from the TAP's real MTU (the
	 * container's own with --no-configure), and from its later changes, which only a
	 * netlink socket of this namespace hears of */
	rc = netlink_mtu(rep.ifindex, &rep.mtu);
	if (rc) {
		snprintf(rep.err, sizeof(rep.err), "%s in %s: read MTU: %s", lc->ifname, netns,
			 strerror(-rc));
		goto send;
	}
	fds[1] = netlink_watch_socket();
	rep.watch = fds[1] >= 0; /* without it the MTU read now stays in force (logged) */
	fds[0] = fd;
	rep.ok = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (rep.watch ? 2 : 1));
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int) * (rep.watch ? 2 : 1));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), fds, sizeof(int) * (rep.watch ? 2 : 1));
send:
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(rep))
		return 2;
	return rep.ok ? 0 : 1;
}

int link_tap_create(const struct link_cfg *lc, const char *netns, int netns_fd,
		    struct link_tap *t, char *err, size_t errlen)
{
	struct tap_reply rep = { 0 };
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int sv[2], status = 0, fds[2] = { -1, -1 }, nfds = 0, userns_fd = -1;
	ssize_t n;
	pid_t pid;

	if (lc->userns[0]) {
		/* opened here, with netns_open()'s care (never a FIFO), not in the child */
		userns_fd = netns_open(lc->userns);
		if (userns_fd < 0) {
			snprintf(err, errlen, "%s: %s", lc->userns,
				 userns_fd == -EINVAL ? "not a user namespace"
						      : strerror(-userns_fd));
			return -1;
		}
	}
	/* SEQPACKET: the reply arrives whole, or the child's death shows as EOF */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "%s in %s: socketpair: %s", lc->ifname, netns,
			 strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "%s in %s: fork: %s", lc->ifname, netns, strerror(errno));
		close(sv[0]);
		close(sv[1]);
		goto fail;
	}
	if (!pid) {
		close(sv[0]);
		/* _exit: the child owns nothing of the daemon's to flush or free */
		_exit(tap_child(lc, netns, userns_fd, netns_fd, sv[1]));
	}
	if (userns_fd >= 0)
		close(userns_fd);
	userns_fd = -1;
	close(sv[1]);
	do
		n = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	close(sv[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
		if (cm->cmsg_len == CMSG_LEN(sizeof(int)))
			nfds = 1;
		else if (cm->cmsg_len == CMSG_LEN(2 * sizeof(int)))
			nfds = 2;
		memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)nfds);
	}
	if (n != (ssize_t)sizeof(rep) || !rep.ok || nfds < 1 || (rep.watch && nfds != 2)) {
		rep.err[sizeof(rep.err) - 1] = '\0';
		if (n == (ssize_t)sizeof(rep) && rep.err[0])
			snprintf(err, errlen, "%s", rep.err);
		else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
			/* the privileged helper's seccomp filter, which the child inherits */
			snprintf(err, errlen, "%s in %s: the TAP child was killed by SIGSYS, a system "
					      "call outside the seccomp filter (the kernel's audit "
					      "record names it)", lc->ifname, netns);
		else
			snprintf(err, errlen, "%s in %s: the TAP child died (status %d)",
				 lc->ifname, netns, status);
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		return -1;
	}
	t->fd = fds[0];
	t->ifindex = rep.ifindex;
	t->mtu = rep.mtu;
	t->watch_fd = nfds == 2 ? fds[1] : -1;
	return 0;
fail:
	if (userns_fd >= 0)
		close(userns_fd);
	return -1;
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
	sc.dhcp = !cfg->no_dhcp;
	sc.dhcp_addr = cfg->dhcp_addr;
	sc.mtu = cfg->mtu;
	sc.time_wait_ms = dc->time_wait_s * 1000u;
	sc.max_flows = dc->max_flows;
	sc.max_half_open = dc->max_half_open;
	sc.next_flow_id = &l->d->next_flow_id;
	sc.udp_timeout_ms = dc->udp_timeout_s * 1000u;
	sc.idle_timeout_ms = dc->idle_timeout_s * 1000u;
	sc.udp_timeout_stream_ms = dc->udp_timeout_stream_s * 1000u;
	sc.max_udp_flows = dc->max_udp_flows;
	sc.no_host_loopback = cfg->no_host_loopback;
	/* with the TAP's offloads, TCP segments of up to 64 KiB that the container's kernel cuts */
	sc.tso = l->offload;
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
	l->reach = reach_new();
	if (!l->reach) {
		snprintf(err, errlen, "%s: out of memory", l->name);
		return -1;
	}
	l->env = (struct relay_env){
		.stack = l->stack,
		.base = l->d->base,
		.cfg = &l->cfg,
		.dcfg = &l->d->cfg,
		.name = l->name,
		.reach = l->reach,
		.touched = link_env_touched,
		.bind_outbound = link_env_bind_outbound,
	};
	return 0;
}

int link_bind_outbound(const struct link_cfg *cfg, int fd, const struct sockaddr_storage *dst)
{
	struct sockaddr_in src = { .sin_family = AF_INET };

	if (dst->ss_family == AF_INET6)
		return cfg->has_outbound6 ? upstream_bind6(fd, cfg->outbound_addr6) : 0;
	if (!cfg->outbound_addr || dst->ss_family != AF_INET)
		return 0;
	src.sin_addr.s_addr = htonl(cfg->outbound_addr);
	return bind(fd, (const struct sockaddr *)&src, sizeof(src)) < 0 ? -errno : 0;
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
	struct link_tap tap;
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
	/* an outbound address that is not the host's would fail every IPv6 connection: say so
	 * now, before anything is made in the namespace */
	if (lc->has_outbound6 && !lc->no_ipv6) {
		char a[INET6_ADDRSTRLEN];
		int rc = upstream_check_source6(lc->outbound_addr6);

		if (rc) {
			inet_ntop(AF_INET6, lc->outbound_addr6, a, sizeof(a));
			snprintf(err, errlen,
				 "%s: outbound-addr6 %s cannot be a source address: %s%s", lc->name,
				 a, strerror(-rc),
				 rc == -EADDRNOTAVAIL ? " (it is not an address of this host)"
						      : "");
			return NULL;
		}
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

	if (d->priv) {
		/* privilege separation: the helper opens the namespace (never ours) and makes
		 * the TAP; we may not open /proc/PID/ns/net of another user's process */
		if (privsep_attach(d->priv, lc, l->netns, &tap, err, errlen))
			goto fail;
		goto adopt;
	}
	self = netns_open(NETNS_SELF);
	if (self < 0) {
		snprintf(err, errlen, "%s: %s", NETNS_SELF, strerror(-self));
		goto fail;
	}
	target = netns_open(l->netns);
	if (target < 0) {
		snprintf(err, errlen, "%s: %s", l->netns,
			 target == -EINVAL ? "not a network namespace" : strerror(-target));
		goto fail;
	}
	if (netns_same(self, target)) {
		/* a TAP with a default route via the gateway in tapird's own namespace would
		 * take over the host's routing and relay the relay's own sockets */
		snprintf(err, errlen, "%s: this is tapird's own network namespace", l->netns);
		goto fail;
	}
	if (link_tap_create(lc, l->netns, target, &tap, err, errlen))
		goto fail;
adopt:
	l->tap_fd = tap.fd;
	l->ifindex = tap.ifindex;
	l->tap_mtu = tap.mtu;
	l->configured = !lc->no_configure;
	l->offload = !lc->no_offload;
	if (tap.watch_fd >= 0)
		l->nl_watch = netlink_watch_adopt(tap.watch_fd);
	if (!l->nl_watch)
		log_warn("%s in %s: cannot follow the MTU of %s (netlink)", l->name, l->netns,
			 l->ifname);
	if (link_stack_new(l, err, errlen))
		goto fail;
	if (stack_set_mtu(l->stack, l->tap_mtu) != l->tap_mtu)
		log_warn("%s: %s MTU %u is out of range: frames of up to %u bytes", l->name,
			 l->ifname, l->tap_mtu, stack_get_cfg(l->stack)->mtu);

	l->ev_tap = event_new(d->base, l->tap_fd, EV_READ | EV_PERSIST, link_tap_readable, l);
	l->ev_timer = evtimer_new(d->base, link_timer_fired, l);
	l->ev_turn = event_new(d->base, -1, 0, link_turn_cb, l);
	if (l->nl_watch) {
		l->ev_nl = event_new(d->base, netlink_watch_fd(l->nl_watch), EV_READ | EV_PERSIST,
				     link_netlink_readable, l);
		if (!l->ev_nl || event_add(l->ev_nl, NULL)) {
			snprintf(err, errlen, "%s: cannot add events to the loop", l->name);
			goto fail;
		}
	}
	if (!l->ev_tap || !l->ev_timer || !l->ev_turn || event_add(l->ev_tap, NULL)) {
		snprintf(err, errlen, "%s: cannot add events to the loop", l->name);
		goto fail;
	}
	if (target >= 0)
		close(target);
	if (self >= 0)
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
	if (l->ev_nl)
		event_free(l->ev_nl);
	netlink_watch_close(l->nl_watch);
	if (l->ev_turn)
		event_free(l->ev_turn);
	stack_free(l->stack);
	reach_free(l->reach);
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
	reach_free(l->reach);
	l->reach = NULL;
	if (l->ev_tap)
		event_free(l->ev_tap);
	if (l->ev_timer)
		event_free(l->ev_timer);
	if (l->ev_nl)
		event_free(l->ev_nl);
	netlink_watch_close(l->nl_watch);
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
