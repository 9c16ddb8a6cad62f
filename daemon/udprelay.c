/* udprelay.c - the upstream half of every UDP flow: one connected host UDP socket per flow.
 *
 * connect() on a UDP socket only fixes its peer, so that (RFC 1122 4.1.3.5 aside) the kernel
 * delivers only that peer's datagrams to it, and reports the ICMP errors about our datagrams
 * to it: with IP_RECVERR they queue up on the socket's error queue with the ICMP type and
 * code (sock_extended_err), which the stack turns into the same error for the container,
 * quoting the container's own datagram. A connected UDP socket in the container then sees
 * ECONNREFUSED, as it would on a real network.
 *
 * Where a flow goes: the gateway address leads to 127.0.0.1 (the stack already refused it
 * when host loopback is off), the DNS address (port 53; the stack refuses the others) to the
 * upstream resolver (resolver.c, shared with TCP), any other address to itself.
 *
 * Batches both ways. Container to upstream: while the link feeds a batch of frames read from
 * the TAP to the stack (udprelay_batch_begin() .. udprelay_flush()), each datagram is copied
 * into a queue, and the queue goes out socket by socket when the batch ends or the queue is
 * full (a flow's datagrams keep their order; flows are independent): runs of consecutive
 * datagrams of one size (the last may be shorter) as ONE sendmsg() with UDP GSO (UDP_SEGMENT,
 * Linux 4.18), so that the kernel walks its stack once per run and cuts the payload back into
 * the datagrams at the last moment (on loopback not before the receiving socket,
 * udp_rcv_segment()); the others, and what the kernel refuses to send with GSO, with
 * sendmmsg() (udprelay_tx_relay()). A failure found then reaches the stack through
 * udp_send_failed(), counted and told to the container as the synchronous send's would have
 * been. Outside a batch (a forward's answers always) a datagram is sent at once. Upstream to
 * container: one recvmmsg() into a batch of buffers, which the stack copies into the frames
 * it builds, sent to the TAP as one batch. Per wakeup at most UDPRELAY_BATCH datagrams are
 * read, so one busy flow cannot starve the loop. Must not: parse or build frames.
 */
#define _GNU_SOURCE /* recvmmsg(), sendmmsg() */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "log.h"
#include "policy.h"
#include "reach.h"
#include "resolver.h"
#include "stack.h"
#include "tapird.h"
#include "udp.h"
#include "relay_env.h"
#include "upstream.h"
#include "udprelay.h"
#include "wire.h"

/* Datagrams read per wakeup of one socket, with one recvmmsg() (and error-queue entries
 * drained) */
#define UDPRELAY_BATCH 32

/* Socket buffers: room for a few 64 KiB datagrams each way (the kernel caps this at
 * net.core.rmem_max / wmem_max, whose defaults, 208 KiB, hold three) */
#define UDPRELAY_SOCKBUF (256 * 1024)

/**
 * struct udp_relay - the shell's half of one UDP flow (f->relay)
 * @env:	the link
 * @f:		the flow
 * @fd:		connected, non-blocking host UDP socket; for a port forward's flow, the
 *		forward's own socket (not ours to close)
 * @ev:		its read event (errors make it readable too); NULL for a forward's flow
 * @inbound:	a port forward's flow: replies go to @client through @fd
 * @family:	@fd's address family (AF_INET or AF_INET6)
 * @pmtu_do:	@fd refuses datagrams too big for the path (IP_PMTUDISC_DO), as f->udp_df
 *		asked for the last one sent
 * @gso_max:	the largest datagram size a run may have to go out with UDP GSO on @fd: 0 when
 *		the kernel has no UDP GSO, or refused it for @fd for good; below a size it
 *		refused for the path (udprelay_gso_refused())
 * @client:	the forward's host client (IPv4, or IPv6 for a forward on an IPv6 address)
 * @client_len:	its length
 */
struct udp_relay {
	struct relay_env *env;
	struct flow *f;
	int fd;
	struct event *ev;
	bool inbound;
	int family;
	bool pmtu_do;
	uint16_t gso_max;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} client;
	socklen_t client_len;
};


/* The send queue of a batch (udprelay_batch_begin()): at most UDPRELAY_TX_MAX datagrams and
 * UDPRELAY_TX_BYTES of payload (a datagram of up to 64 KiB fits past the mark), shared by every
 * link: the loop is single-threaded and a link's batch is flushed before its callback returns.
 * 64 datagrams of 1400 bytes are 90 KiB: a TAP wakeup's worth goes out in one flush. */
#define UDPRELAY_TX_MAX 64
#define UDPRELAY_TX_BYTES (256u * 1024)

/**
 * struct udprelay_txent - one queued datagram
 * @r:		its flow's relay; NULL once sent (or given up)
 * @off:	where its payload starts in udprelay_txbuf
 * @len:	its length
 * @df:		the container's datagram may not be fragmented (f->udp_df when it was queued)
 */
struct udprelay_txent {
	struct udp_relay *r;
	uint32_t off;
	uint32_t len;
	bool df;
};

static struct udprelay_txent udprelay_txq[UDPRELAY_TX_MAX];
static unsigned int udprelay_ntx;
static uint32_t udprelay_txused;
static uint8_t udprelay_txbuf[UDPRELAY_TX_BYTES + 65536];
/* the link whose batch is open, NULL when datagrams are sent at once */
static struct relay_env *udprelay_batch_env;

/* One UDP GSO send: at most the kernel's UDP_MAX_SEGMENTS datagrams (1 << 6 when UDP GSO came,
 * 128 in recent kernels: the older bound holds for every one), and at most 65507 bytes of payload
 * in all, the most one IPv4 datagram holds (65535 - 20 - 8: the kernel checks the whole as if it
 * were one datagram; IPv6's bound, 65527, is larger: one limit serves both) */
#define UDPRELAY_GSO_SEGS 64
#define UDPRELAY_GSO_BYTES 65507u

/* Receive buffers for every flow, one per datagram of a batch: the loop is single-threaded and
 * the stack copies out. 2 MiB of address space; only the pages datagrams reach are touched. */
static uint8_t udprelay_rxbuf[UDPRELAY_BATCH][65536];

/**
 * udprelay_icmp_from_ee() - the ICMPv4 type and code telling the container what an error
 * queue entry says
 * @ee:		the entry
 * @type:	result type
 * @code:	result code
 *
 * Return: true if the entry is an ICMP or ICMPv6 error the container should hear about
 * (destination unreachable or time exceeded; "fragmentation needed" and "packet too big"
 * teach the host's socket the path MTU: the container hears of it at its next datagram that
 * may not be fragmented, which then fails with EMSGSIZE, udprelay_send())
 */
static bool udprelay_icmp_from_ee(const struct sock_extended_err *ee, uint8_t *type,
				  uint8_t *code)
{
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP) {
		if (ee->ee_type == ICMP_DEST_UNREACH && ee->ee_code != ICMP_UNREACH_NEEDFRAG &&
		    ee->ee_code <= 15) {
			*type = ICMP_DEST_UNREACH;
			*code = ee->ee_code;
			return true;
		}
		if (ee->ee_type == ICMP_TIME_EXCEEDED && ee->ee_code <= 1) {
			*type = ICMP_TIME_EXCEEDED;
			*code = ee->ee_code;
			return true;
		}
		return false;
	}
	if (ee->ee_origin == SO_EE_ORIGIN_ICMP6) {
		/* RFC 4443 3.1, 3.3 against RFC 792: the nearest ICMPv4 meaning */
		if (ee->ee_type == 1) {
			*type = ICMP_DEST_UNREACH;
			switch (ee->ee_code) {
			case 0: *code = ICMP_UNREACH_NET; break;
			case 1: *code = ICMP_UNREACH_ADMIN; break;
			case 4: *code = ICMP_UNREACH_PORT; break;
			default: *code = ICMP_UNREACH_HOST; break;
			}
			return true;
		}
		if (ee->ee_type == 3 && ee->ee_code <= 1) {
			*type = ICMP_TIME_EXCEEDED;
			*code = ee->ee_code;
			return true;
		}
	}
	return false;
}

/**
 * udprelay_drain_errors() - read the socket's error queue, passing ICMP errors to the stack
 * @r:		the flow's relay
 */
static void udprelay_drain_errors(struct udp_relay *r)
{
	union {
		char buf[512];
		struct cmsghdr align;
	} ctl;
	uint8_t data[64];

	for (int i = 0; i < UDPRELAY_BATCH; i++) {
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf) };
		struct cmsghdr *c;

		if (recvmsg(r->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			struct sock_extended_err ee;
			uint8_t type, code;

			if (!((c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR) ||
			      (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR)))
				continue;
			if (c->cmsg_len < CMSG_LEN(sizeof(ee)))
				continue;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (udprelay_icmp_from_ee(&ee, &type, &code))
				udp_upstream_error(r->env->stack, r->f, type, code, tapird_now_us());
		}
	}
}

/**
 * udprelay_readable() - the socket has datagrams or errors: pass them to the stack
 * @fd:		the socket
 * @what:	EV_READ
 * @arg:	the flow's relay
 */
static void udprelay_readable(evutil_socket_t fd, short what, void *arg)
{
	static struct mmsghdr mm[UDPRELAY_BATCH];
	static struct iovec iov[UDPRELAY_BATCH];
	struct udp_relay *r = arg;
	struct relay_env *env = r->env;
	struct flow *f = r->f;
	int n = -1;

	(void)what;
	/* Errors first: reading the queue also clears the socket's pending error, which would
	 * otherwise fail the recvmmsg() below once with it */
	udprelay_drain_errors(r);
	for (int i = 0; i < UDPRELAY_BATCH; i++) {
		iov[i] = (struct iovec){ udprelay_rxbuf[i], sizeof(udprelay_rxbuf[i]) };
		mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
	}
	/* ECONNREFUSED and friends: an error that raced the drain above fails one call (and is
	 * on the error queue too, for the next wakeup): try once more */
	for (int tries = 0; tries < 2 && n < 0; tries++) {
		do
			n = recvmmsg(fd, mm, UDPRELAY_BATCH, MSG_DONTWAIT, NULL);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno == EAGAIN)
			break;
	}
	/* one stack batch: the replies go to the TAP together */
	stack_batch_begin(env->stack);
	for (int i = 0; i < n; i++) {
		if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
			continue; /* larger than any IPv4 datagram: cannot be relayed */
		udp_upstream_datagram(env->stack, f, udprelay_rxbuf[i], mm[i].msg_len,
				      tapird_now_us());
	}
	stack_batch_end(env->stack, tapird_now_us());
	relay_env_touched(env);
}

/**
 * udprelay_target() - where the flow really goes
 * @env:	the link
 * @f:		the flow
 * @ss:		result
 * @len:	its length
 *
 * Return: 0, or a negative errno the stack turns into an ICMP error
 */
static int udprelay_target(const struct relay_env *env, const struct flow *f, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	const struct link_cfg *cfg = env->cfg;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	if (f->v6)
		return upstream_dest6(env, f, ss, len);
	memset(ss, 0, sizeof(*ss));
	/* slirp4netns drops these (no ICMP equivalent for ETIMEDOUT: the stack stays silent) */
	if (cfg->slirp_answers && ((f->paddr == cfg->dns && cfg->no_dns) ||
				   (f->paddr == cfg->gateway && cfg->no_host_loopback)))
		return -ETIMEDOUT;
	if (f->paddr == cfg->dns && f->pport == RESOLVER_DNS_PORT)
		return cfg->no_dns || resolver_get(env->dcfg, ss, len) ? -ECONNREFUSED : 0;
	if (reach_check(env, POLICY_UDP, f->paddr, f->pport))
		return -STACK_E_POLICY; /* ICMP administratively prohibited (RFC 1812 5.2.7.1) */
	if (f->paddr == cfg->gateway && !cfg->no_host_loopback &&
	    reach_check(env, POLICY_UDP, INADDR_LOOPBACK, f->pport))
		return -STACK_E_POLICY;
	sin->sin_family = AF_INET;
	sin->sin_port = htons(f->pport);
	*len = sizeof(*sin);
	if (f->paddr == cfg->gateway) {
		if (cfg->no_host_loopback)
			return -ECONNREFUSED;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		sin->sin_addr.s_addr = htonl(f->paddr);
	}
	return 0;
}

/**
 * udprelay_gso_kernel() - whether this kernel takes UDP GSO (UDP_SEGMENT), asked once with
 * @fd's getsockopt(): a kernel older than 4.18 would not refuse the control message but ignore
 * it (a level it does not know), and send a run as one datagram of them all
 * @fd:		a UDP socket
 */
static bool udprelay_gso_kernel(int fd)
{
	static int have = -1;
	socklen_t sl = sizeof(int);
	int v;

	if (have < 0) {
		have = !getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &sl);
		if (!have)
			log_info("udp: no UDP GSO in this kernel (UDP_SEGMENT: %s): the container's "
				 "datagrams go upstream one by one", strerror(errno));
	}
	return have;
}

/**
 * udprelay_open() - the flow's first datagram: open and connect its socket
 * @env:	the link
 * @f:		the flow
 * @err:	a negative errno when it fails
 *
 * Return: the relay, or NULL with a negative errno in @err
 */
static struct udp_relay *udprelay_open(struct relay_env *env, struct flow *f, int *err)
{
	struct sockaddr_storage ss;
	struct udp_relay *r;
	int one = 1, buf = UDPRELAY_SOCKBUF;
	socklen_t len;
	int fd, rc;

	rc = udprelay_target(env, f, &ss, &len);
	if (rc) {
		*err = rc;
		return NULL;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	if (ss.ss_family == AF_INET)
		rc = setsockopt(fd, SOL_IP, IP_RECVERR, &one, sizeof(one));
	else
		rc = setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &one, sizeof(one));
	if (rc)
		log_debug("udp: IP_RECVERR: %s", strerror(errno));
	/* Best effort: the kernel caps them, and the defaults still hold a 64 KiB datagram */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	rc = relay_env_bind_outbound(env, fd, &ss);
	if (rc < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0) {
		*err = rc < 0 ? rc : -errno;
		if (*err == -STACK_E_POLICY || *err == -STACK_E_PER_DEST)
			*err = -EPERM; /* the socket's, not our policy's (stack.h) */
		close(fd);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		*err = -ENOMEM;
		close(fd);
		return NULL;
	}
	r->env = env;
	r->f = f;
	r->fd = fd;
	r->family = ss.ss_family;
	r->gso_max = udprelay_gso_kernel(fd) ? UINT16_MAX : 0;
	r->ev = event_new(env->base, fd, EV_READ | EV_PERSIST, udprelay_readable, r);
	if (!r->ev || event_add(r->ev, NULL)) {
		if (r->ev)
			event_free(r->ev);
		free(r);
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	upstream_note(f, &ss);
	return r;
}

/**
 * udprelay_set_pmtu() - make @r's socket refuse (@on: IP_PMTUDISC_DO) or fragment (WANT, the
 * default) the datagrams too big for the path, as the container's datagram asks (f->udp_df)
 * @r:		the relay
 * @on:		the datagram may not be fragmented
 *
 * A flow's datagrams are all of one kind as a rule (the container's kernel sets DF on all
 * those it does not fragment itself), so the option changes at the flow's first datagram
 * and seldom after.
 */
static void udprelay_set_pmtu(struct udp_relay *r, bool on)
{
	int v4 = on ? IP_PMTUDISC_DO : IP_PMTUDISC_WANT;
	int v6 = on ? IPV6_PMTUDISC_DO : IPV6_PMTUDISC_WANT;
	int rc;

	if (r->pmtu_do == on)
		return;
	if (r->family == AF_INET6)
		rc = setsockopt(r->fd, SOL_IPV6, IPV6_MTU_DISCOVER, &v6, sizeof(v6));
	else
		rc = setsockopt(r->fd, SOL_IP, IP_MTU_DISCOVER, &v4, sizeof(v4));
	if (rc)
		log_debug("udp: path MTU discovery: %s", strerror(errno));
	else
		r->pmtu_do = on;
}

/**
 * udprelay_path_mtu() - the path MTU the kernel knows for @r's connected socket
 * @r:		the relay
 *
 * Return: the MTU, 0 if unknown
 */
static uint32_t udprelay_path_mtu(const struct udp_relay *r)
{
	socklen_t sl = sizeof(int);
	int mtu = 0;

	if (r->family == AF_INET6)
		return getsockopt(r->fd, SOL_IPV6, IPV6_MTU, &mtu, &sl) || mtu < 0 ? 0 : (uint32_t)mtu;
	return getsockopt(r->fd, SOL_IP, IP_MTU, &mtu, &sl) || mtu < 0 ? 0 : (uint32_t)mtu;
}

/**
 * udprelay_send_err() - the error a failed send of @err means to the stack: the socket's own
 * EACCES (broadcast without SO_BROADCAST) or EUSERS are not our policy's, whose values
 * STACK_E_POLICY and STACK_E_PER_DEST carry (stack.h): they become EPERM
 * Return: positive errno
 */
static int udprelay_send_err(int err)
{
	return err == STACK_E_POLICY || err == STACK_E_PER_DEST ? EPERM : err;
}

/** udprelay_err_pending() - whether @err is a pending ICMP error that one send clears */
static bool udprelay_err_pending(int err)
{
	return err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH;
}

/**
 * udprelay_gso_run() - how many of the datagrams @iov[0..@n) (one flow's, one kind: DF or not)
 * go out as one UDP GSO send: @iov[0] and those of its size that follow, and one shorter to end
 * the run (the kernel cuts the payload every gso_size bytes: only the last piece may be
 * shorter, and never empty), within the bounds of one send
 * @r:		the flow's relay
 * @iov:	the datagrams' payloads
 * @n:		their count
 *
 * Return: the count, 2 or more; 0 when GSO would carry just one, or not this size (gso_max)
 */
static unsigned int udprelay_gso_run(const struct udp_relay *r, const struct iovec *iov,
				     unsigned int n)
{
	size_t size = iov[0].iov_len, total = size, len;
	unsigned int k;

	if (!size || size > r->gso_max)
		return 0;
	for (k = 1; k < n && k < UDPRELAY_GSO_SEGS; k++) {
		len = iov[k].iov_len;
		if (!len || len > size || total + len > UDPRELAY_GSO_BYTES)
			break;
		total += len;
		if (len < size) {
			k++;
			break;
		}
	}
	return k >= 2 ? k : 0;
}

/**
 * udprelay_gso_send() - send the run @iov[0..@n) (udprelay_gso_run()) on @r's socket with one
 * sendmsg() that asks UDP GSO to cut it every @iov[0].iov_len bytes
 * @r:		the flow's relay
 * @iov:	the datagrams' payloads
 * @n:		their count
 *
 * Return: 0 when the kernel took them all; else the errno, and none was sent (a UDP send is
 * all or nothing)
 */
static int udprelay_gso_send(const struct udp_relay *r, struct iovec *iov, unsigned int n)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n, .msg_control = ctl.buf,
			      .msg_controllen = sizeof(ctl.buf) };
	uint16_t size = (uint16_t)iov[0].iov_len;
	struct cmsghdr *c;
	ssize_t rc;

	memset(&ctl, 0, sizeof(ctl));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(c), &size, sizeof(size));
	do
		rc = sendmsg(r->fd, &msg, MSG_DONTWAIT);
	while (rc < 0 && errno == EINTR);
	return rc < 0 ? errno : 0;
}

/**
 * udprelay_gso_refused() - the kernel refused a UDP GSO send of datagrams of @size bytes on
 * @r's socket with @err: remember what that says about the socket, so that a refusal that
 * will come again costs no failed syscall at every batch
 * @r:		the flow's relay
 * @size:	the run's datagram size (its gso_size)
 * @err:	the errno
 */
static void udprelay_gso_refused(struct udp_relay *r, size_t size, int err)
{
	switch (err) {
	case EINVAL:
	case EMSGSIZE:
		/* a segment and its headers past the path MTU: the kernel never fragments a GSO
		 * segment, a lone datagram it does (or refuses it with IP_PMTUDISC_DO). Smaller
		 * sizes may still pass. */
		r->gso_max = (uint16_t)(size - 1);
		break;
	case EIO:
	case EOPNOTSUPP:
	case ENOPROTOOPT:
		/* no GSO on this route (a device that cannot offload the checksum, IPsec):
		 * not on this socket, ever */
		r->gso_max = 0;
		log_debug("udp: UDP GSO refused on an upstream socket: %s", strerror(err));
		break;
	default:
		/* EAGAIN, ENOBUFS, an ICMP error pending...: this send's trouble, not GSO's */
		break;
	}
}

/**
 * udprelay_tx_relay() - send every queued datagram of @r, in order, on its socket: runs of
 * one size with UDP GSO (udprelay_gso_run()), the others with sendmmsg(); mark them sent
 * @r:		the relay
 * @report:	tell the stack of the datagrams not sent (udp_send_failed); false when the flow
 *		is closing
 */
static void udprelay_tx_relay(struct udp_relay *r, bool report)
{
	struct mmsghdr m[UDPRELAY_TX_MAX];
	struct iovec iov[UDPRELAY_TX_MAX];
	bool df[UDPRELAY_TX_MAX];
	unsigned int n = 0, k = 0, i, end, lim, g;
	bool retried = false, gso = true;
	int rc, err;

	for (i = 0; i < udprelay_ntx; i++) {
		struct udprelay_txent *e = &udprelay_txq[i];

		if (e->r != r)
			continue;
		e->r = NULL;
		iov[n].iov_base = udprelay_txbuf + e->off;
		iov[n].iov_len = e->len;
		df[n] = e->df;
		memset(&m[n], 0, sizeof(m[n]));
		m[n].msg_hdr.msg_iov = &iov[n];
		m[n].msg_hdr.msg_iovlen = 1;
		n++;
	}
	while (k < n) {
		/* a run of datagrams of one kind (DF or not): the socket's path MTU discovery set
		 * for it, as udprelay_send() does for one */
		for (end = k + 1; end < n && df[end] == df[k]; end++)
			;
		udprelay_set_pmtu(r, df[k]);
		g = gso ? udprelay_gso_run(r, iov + k, end - k) : 0;
		lim = end;
		if (gso && !g) {
			/* the datagrams up to the next run go with one sendmmsg() */
			for (lim = k + 1; lim < end && !udprelay_gso_run(r, iov + lim, end - lim);
			     lim++)
				;
		} else if (g) {
			err = udprelay_gso_send(r, iov + k, g);
			if (!err) {
				stack_note_udp_gso(r->env->stack, true);
				k += g;
				retried = false;
				continue;
			}
			/* an error pending from an earlier ICMP fails one send and is cleared by
			 * it: once more */
			if (udprelay_err_pending(err) && !retried) {
				retried = true;
				continue;
			}
			/* anything else: the rest of this batch one datagram at a time, as
			 * without GSO, so that each failure is found and reported as ever (a
			 * datagram too big for the path alone, EMSGSIZE) */
			stack_note_udp_gso(r->env->stack, false);
			udprelay_gso_refused(r, iov[k].iov_len, err);
			gso = false;
		}
		rc = sendmmsg(r->fd, m + k, lim - k, MSG_DONTWAIT);
		if (rc > 0) {
			/* a short count: the next one failed, and its error was lost; sending it
			 * again finds the error (or sends it, when a pending one was cleared) */
			k += (unsigned int)rc;
			retried = false;
			continue;
		}
		err = rc < 0 ? errno : EIO;
		if (err == EINTR || (udprelay_err_pending(err) && !retried)) {
			/* a pending error from an earlier ICMP (reported through the error queue)
			 * fails one send, and is cleared by it: once more */
			retried = err != EINTR;
			continue;
		}
		retried = false;
		/* a full send buffer refuses the rest of the run as well: no syscall for each */
		for (i = k; i < (err == EAGAIN || err == ENOBUFS ? end : k + 1); i++) {
			if (!report || !r->f)
				continue;
			if (err == EMSGSIZE && r->pmtu_do && df[i])
				/* too big for the path and not to be fragmented: the container
				 * hears the path MTU (counted in drop_udp_too_big) */
				udp_upstream_too_big(r->env->stack, r->f, iov[i].iov_base,
						     iov[i].iov_len, udprelay_path_mtu(r),
						     tapird_now_us());
			else
				udp_send_failed(r->env->stack, r->f, udprelay_send_err(err),
						tapird_now_us());
		}
		k = i;
	}
}

/** udprelay_tx_flush() - send every queued datagram, socket by socket (udprelay_tx_relay()) */
static void udprelay_tx_flush(void)
{
	for (unsigned int i = 0; i < udprelay_ntx; i++)
		if (udprelay_txq[i].r)
			udprelay_tx_relay(udprelay_txq[i].r, true);
	udprelay_ntx = 0;
	udprelay_txused = 0;
}

void udprelay_batch_begin(struct relay_env *env)
{
	if (udprelay_batch_env && udprelay_batch_env != env)
		udprelay_tx_flush();
	udprelay_batch_env = env;
}

void udprelay_flush(struct relay_env *env)
{
	(void)env;
	udprelay_tx_flush();
	udprelay_batch_env = NULL;
}

int udprelay_send(struct relay_env *env, struct flow *f, const uint8_t *data, size_t len)
{
	struct udp_relay *r = f->relay;
	ssize_t n;
	int err = 0;

	if (r && r->inbound) {
		/* a container's answer to a port forward's client, from the forward's socket */
		n = sendto(r->fd, data, len, MSG_DONTWAIT, &r->client.sa, r->client_len);
		return n < 0 ? -errno : 0;
	}
	if (!r) {
		r = udprelay_open(env, f, &err);
		if (!r)
			return err;
		f->relay = r;
	}
	if (udprelay_batch_env == env && len <= 65536) {
		struct udprelay_txent *e;

		if (udprelay_ntx == UDPRELAY_TX_MAX || udprelay_txused > UDPRELAY_TX_BYTES)
			udprelay_tx_flush();
		e = &udprelay_txq[udprelay_ntx++];
		e->r = r;
		e->off = udprelay_txused;
		e->len = (uint32_t)len;
		e->df = f->udp_df;
		memcpy(udprelay_txbuf + udprelay_txused, data, len);
		/* the next payload 8-byte aligned */
		udprelay_txused += ((uint32_t)len + 7u) & ~7u;
		return 0;
	}
	udprelay_set_pmtu(r, f->udp_df);
	for (int tries = 0; tries < 2; tries++) {
		n = send(r->fd, data, len, MSG_DONTWAIT);
		if (n >= 0)
			return 0;
		/* larger than the path allows, and not to be fragmented: the stack tells the
		 * container the path MTU (Packet Too Big, fragmentation needed) */
		if (errno == EMSGSIZE && r->pmtu_do && f->udp_df) {
			udp_upstream_too_big(env->stack, f, data, len, udprelay_path_mtu(r),
					     tapird_now_us());
			return -EMSGSIZE;
		}
		/* A pending error from an earlier ICMP (reported through the error queue) fails
		 * one send(), and is cleared by it: try once more */
		if (!udprelay_err_pending(errno) && errno != EINTR)
			break;
	}
	/* a socket's own EACCES (broadcast without SO_BROADCAST) is not our policy's: the
	 * stack counts STACK_E_POLICY as drop_policy_denied (stack.h) */
	return -udprelay_send_err(errno);
}

void udprelay_closed(struct flow *f)
{
	struct udp_relay *r = f->relay;

	if (f->proto != PROTO_UDP || !r)
		return;
	/* what the flow queued in this batch still goes out, before its socket closes */
	if (!r->inbound)
		udprelay_tx_relay(r, false);
	if (!r->inbound) {
		event_free(r->ev);
		close(r->fd);
	}
	free(r);
	f->relay = NULL;
}

/**
 * udprelay_same_client() - whether @r's client is @client (same family and address)
 */
static bool udprelay_same_client(const struct udp_relay *r, const struct sockaddr *client)
{
	if (r->client.sa.sa_family != client->sa_family)
		return false;
	if (client->sa_family == AF_INET)
		return r->client.in.sin_addr.s_addr ==
		       ((const struct sockaddr_in *)client)->sin_addr.s_addr;
	return !memcmp(&r->client.in6.sin6_addr,
		       &((const struct sockaddr_in6 *)client)->sin6_addr, 16);
}

/*
 * udprelay_inbound_do() - udprelay_inbound() and udprelay_inbound6(): @client is a
 * sockaddr_in or, with @c6 and @p6 (then @caddr and @paddr are unused), a sockaddr_in6
 */
static int udprelay_inbound_do(struct relay_env *env, int fd, const struct sockaddr *client,
			       uint32_t paddr, uint32_t caddr, uint16_t cport,
			       const uint8_t *c6, const uint8_t *p6, const uint8_t *data,
			       size_t len, uint64_t now_us)
{
	uint16_t pport = c6 ? ntohs(((const struct sockaddr_in6 *)client)->sin6_port)
			    : ntohs(((const struct sockaddr_in *)client)->sin_port);
	struct udp_relay *r;
	struct flow *f;

	f = c6 ? flow_lookup6(stack_flows(env->stack), PROTO_UDP, c6, cport, p6, pport)
	       : flow_lookup(stack_flows(env->stack), PROTO_UDP, caddr, cport, paddr, pport);
	if (f) {
		r = f->relay;
		/* the 4-tuple belongs to another conversation (the container's own flow, or a
		 * client of another forward mapped to the same address): not ours to join */
		if (f->origin != FLOW_ORIGIN_HOST || !r || !r->inbound || r->fd != fd ||
		    !udprelay_same_client(r, client))
			return -EADDRINUSE;
	} else {
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
		f = c6 ? udp_open_inbound6(env->stack, c6, cport, p6, pport, now_us)
		       : udp_open_inbound(env->stack, caddr, cport, paddr, pport, now_us);
		if (!f) {
			free(r);
			return -ENOBUFS;
		}
		r->env = env;
		r->f = f;
		r->fd = fd;
		r->inbound = true;
		f->relay = r;
		if (c6) {
			r->client.in6 = *(const struct sockaddr_in6 *)client;
			r->client_len = sizeof(r->client.in6);
			memcpy(f->uaddr6, &r->client.in6.sin6_addr, 16);
			f->uv6 = true;
		} else {
			r->client.in = *(const struct sockaddr_in *)client;
			r->client_len = sizeof(r->client.in);
			f->uaddr = ntohl(r->client.in.sin_addr.s_addr);
		}
		f->uport = pport;
	}
	udp_upstream_datagram(env->stack, f, data, len, now_us);
	return 0;
}

int udprelay_inbound(struct relay_env *env, int fd, const struct sockaddr_in *client, uint32_t paddr,
		     uint32_t caddr, uint16_t cport, const uint8_t *data, size_t len,
		     uint64_t now_us)
{
	return udprelay_inbound_do(env, fd, (const struct sockaddr *)client, paddr, caddr, cport,
				   NULL, NULL, data, len, now_us);
}

int udprelay_inbound6(struct relay_env *env, int fd, const struct sockaddr_in6 *client,
		      const uint8_t paddr[16], const uint8_t caddr[16], uint16_t cport,
		      const uint8_t *data, size_t len, uint64_t now_us)
{
	return udprelay_inbound_do(env, fd, (const struct sockaddr *)client, 0, 0, cport, caddr,
				   paddr, data, len, now_us);
}

void udprelay_inbound_close(struct relay_env *env, int fd, uint64_t now_us)
{
	struct flow_table *t = stack_flows(env->stack);
	struct flow *f;

	for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
		const struct udp_relay *r = f->relay;

		if (f->proto == PROTO_UDP && f->origin == FLOW_ORIGIN_HOST && r && r->inbound &&
		    r->fd == fd)
			udp_abort(env->stack, f, FLOW_END_SHUTDOWN, now_us);
	}
}
