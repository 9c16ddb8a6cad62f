/* fwd.c - port forwards: host listeners that lead into the container (see fwd.h).
 *
 * TCP. The host socket is an evconnlistener. An accepted client becomes a flow the stack opens
 * towards the container (tcp_connect(): our SYN goes out, SYN_SENT), keyed by what the
 * container will see: its own address and the forward's container port, and the client's
 * address and port. The accepted socket is handed to the relay at once (relay_adopt()), which
 * reads nothing from it into the stack before the connection is ESTABLISHED; from then on the
 * flow is relayed like any other. The container refusing (RST) resets the client; no answer
 * ends with the stack's SYN retransmissions giving up, and resets the client too.
 *
 * Addresses. The container sees the client's own address, except a client on the host's
 * loopback (127.0.0.0/8), which appears as the gateway address: the container's answers to
 * 127.0.0.1 would never come back to us, while the gateway is ours (and is the host's loopback
 * for the container's own connections too). A client whose 4-tuple is already in the table
 * (a loopback client reusing the port of a connection the container made to the gateway) is
 * reset rather than mixed into another conversation.
 *
 * UDP. A bound host socket; every datagram goes to udprelay_inbound() (udprelay_inbound6() for
 * a forward on an IPv6 address) with the client's address, which keeps one flow per client as
 * the container sees it (a client on ::1 as the gateway fd00::2, as for TCP).
 *
 * Each forward has an id (from 1, never reused while the daemon runs, as slirp4netns's) and,
 * for TCP, a LISTEN row in the flow table, so that `conns` shows listeners as `ss -l` does:
 * container side guest address and port, peer 0.0.0.0:0 (or [::]:0 for a forward on an IPv6
 * address, whose row holds the container's IPv6 address), upstream the listening address.
 * Must not: parse or build frames.
 */
#include "fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "fwdspec.h"
#include "link.h"
#include "log.h"
#include "relay.h"
#include "stack.h"
#include "tapird.h"
#include "tcp.h"
#include "udprelay.h"
#include "wire.h"

/* Datagrams read per wakeup of a UDP forward's socket, so one client cannot starve the loop */
#define FWD_UDP_BATCH 32

/* After accept() failed (out of descriptors), the listener rests this long */
#define FWD_ACCEPT_PAUSE_MS 200

/**
 * struct fwd - one forward
 * @id:		its id
 * @proto:	PROTO_TCP or PROTO_UDP
 * @haddr:	host address listened on (host byte order; 0 = every address)
 * @v6:		listens on IPv6 @haddr6: clients reach the container over IPv6
 * @haddr6:	IPv6 host address (network order)
 * @hport:	host port
 * @gaddr:	container address
 * @gport:	container port
 * @d:		the daemon
 * @l:		the link it leads into (checked against d->links before each use)
 * @lev:	TCP: the listener
 * @ev_pause:	TCP: re-enables @lev after an accept() failure
 * @ufd:	UDP: the bound socket (-1 for TCP)
 * @uev:	UDP: its read event
 * @row_idx:	TCP: slot of the LISTEN row
 * @row_id:	TCP: its flow id (0: no row)
 * @next:	next forward, in id order
 */
struct fwd {
	uint64_t id;
	uint8_t proto;
	uint32_t haddr;
	bool v6;
	uint8_t haddr6[16];
	uint16_t hport;
	uint32_t gaddr;
	uint16_t gport;
	struct tapird *d;
	struct link *l;
	struct evconnlistener *lev;
	struct event *ev_pause;
	int ufd;
	struct event *uev;
	uint32_t row_idx;
	uint64_t row_id;
	struct fwd *next;
};

/**
 * struct fwd_state - the daemon's forwards (one daemon per process)
 * @head:	forwards in id order
 * @count:	how many
 * @next_id:	id of the next forward
 */
static struct fwd_state {
	struct fwd *head;
	unsigned int count;
	uint64_t next_id;
} fwds = { .next_id = 1 };

/* One receive buffer for every UDP forward: the loop is single-threaded, the stack copies */
static uint8_t fwd_rxbuf[65536];

/**
 * fwd_link() - the link forward @fw leads into, if it is still attached
 * Return: the link, or NULL
 */
static struct link *fwd_link(const struct fwd *fw)
{
	for (unsigned int i = 0; i < fw->d->nlinks; i++)
		if (fw->d->links[i] == fw->l)
			return fw->l->stack ? fw->l : NULL;
	return NULL;
}

/**
 * ip_str() - dotted form of @addr (host byte order) in @buf
 * Return: @buf
 */
static const char *ip_str(char *buf, size_t len, uint32_t addr)
{
	struct in_addr ia = { .s_addr = htonl(addr) };

	if (!inet_ntop(AF_INET, &ia, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/**
 * fwd_peer_addr() - the address the container sees for host client @client (host byte order)
 * Return: the gateway address for a loopback client, else @client itself
 */
static uint32_t fwd_peer_addr(const struct link *l, uint32_t client)
{
	/* RFC 1122 3.2.1.3 (g): 127.0.0.0/8 is the host's own loopback */
	if ((client >> 24) == 127)
		return l->cfg.gateway;
	return client;
}

/**
 * fwd_haddr_str() - @fw's host address as text ("0.0.0.0", "::1")
 * @buf:	at least INET6_ADDRSTRLEN bytes
 * @len:	its size
 * @fw:		the forward
 * Return: @buf
 */
static const char *fwd_haddr_str(char *buf, size_t len, const struct fwd *fw)
{
	if (!fw->v6)
		return ip_str(buf, len, fw->haddr);
	if (!inet_ntop(AF_INET6, fw->haddr6, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/**
 * fwd_reset_close() - close @fd with a RST (SO_LINGER with a zero timeout, RFC 9293 3.10.5)
 */
static void fwd_reset_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/**
 * fwd_half_open_full() - whether @l's half-open connections are at the bound: SYN_SENT ones
 * are ours (forwards), SYN_RCVD the container's; one bound for both (max-half-open)
 */
static bool fwd_half_open_full(struct link *l)
{
	return stack_flows_in_state(l->stack, TCP_SYN_SENT) +
		       stack_flows_in_state(l->stack, TCP_SYN_RCVD) >=
	       stack_get_cfg(l->stack)->max_half_open;
}

/**
 * fwd_adopt() - hand a forward's host client to the relay, with the connection just opened
 * into the container for it
 * @fw:		the forward
 * @l:		its link
 * @f:		the connection (SYN sent), or NULL when the flow table was full: the client is
 *		reset
 * @fd:		the client's socket
 * @now:	time, for an abort when the relay cannot take the socket
 */
static void fwd_adopt(const struct fwd *fw, struct link *l, struct flow *f, int fd, uint64_t now)
{
	int rc;

	if (!f) {
		log_debug("forward %llu: flow table full; reset", (unsigned long long)fw->id);
		fwd_reset_close(fd);
	} else if ((rc = relay_adopt(&l->env, f, fd)) < 0) {
		log_warn("forward %llu: %s", (unsigned long long)fw->id, strerror(-rc));
		tcp_abort(l->stack, f, FLOW_END_SHUTDOWN, now);
		fwd_reset_close(fd);
	}
	link_touch(l);
}

/**
 * fwd_accept6() - fwd_accept_cb() for a client of an IPv6 forward: the container sees the
 * client's own address, or the gateway (fd00::2) for one on ::1, whose replies would never
 * come back to us otherwise
 * @fw:		the forward
 * @l:		its link
 * @fd:		the client's socket
 * @sin6:	the client's address
 */
static void fwd_accept6(struct fwd *fw, struct link *l, evutil_socket_t fd,
			const struct sockaddr_in6 *sin6)
{
	const struct stack_cfg *sc = stack_get_cfg(l->stack);
	uint16_t cport = ntohs(sin6->sin6_port);
	uint64_t now = tapird_now_us();
	const uint8_t *paddr;
	struct flow *f;

	paddr = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ? sc->gateway6
						       : (const uint8_t *)&sin6->sin6_addr;
	if (!sc->ipv6 || flow_lookup6(stack_flows(l->stack), PROTO_TCP, sc->addr6, fw->gport,
				      paddr, cport) || fwd_half_open_full(l)) {
		log_debug("forward %llu: IPv6 off, 4-tuple in use or too many half-open; reset",
			  (unsigned long long)fw->id);
		fwd_reset_close(fd);
		return;
	}
	f = tcp_connect6(l->stack, sc->addr6, fw->gport, paddr, cport, now);
	if (f) {
		memcpy(f->uaddr6, &sin6->sin6_addr, 16);
		f->uv6 = true;
		f->uport = cport;
	}
	fwd_adopt(fw, l, f, fd, now);
}

/**
 * fwd_accept_cb() - a host client connected to a TCP forward: open the connection into the
 * container and give the client's socket to the relay
 */
static void fwd_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			  int salen, void *arg)
{
	struct fwd *fw = arg;
	struct link *l = fwd_link(fw);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	uint64_t now = tapird_now_us();
	uint32_t client, paddr;
	uint16_t cport;
	struct flow *f;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	(void)lev;
	if (l && fw->v6 && sa->sa_family == AF_INET6 &&
	    salen >= (int)sizeof(struct sockaddr_in6)) {
		fwd_accept6(fw, l, fd, (const struct sockaddr_in6 *)sa);
		return;
	}
	if (!l || sa->sa_family != AF_INET || salen < (int)sizeof(*sin)) {
		fwd_reset_close(fd);
		return;
	}
	client = ntohl(sin->sin_addr.s_addr);
	cport = ntohs(sin->sin_port);
	paddr = fwd_peer_addr(l, client);

	if (flow_lookup(stack_flows(l->stack), PROTO_TCP, fw->gaddr, fw->gport, paddr, cport)) {
		log_debug("forward %llu: client %s:%u: %s:%u is in use in the container's table;"
			  " reset", (unsigned long long)fw->id, ip_str(a, sizeof(a), client), cport,
			  ip_str(b, sizeof(b), paddr), cport);
		fwd_reset_close(fd);
		return;
	}
	if (fwd_half_open_full(l)) {
		log_debug("forward %llu: too many connections waiting for the container; reset",
			  (unsigned long long)fw->id);
		fwd_reset_close(fd);
		return;
	}
	f = tcp_connect(l->stack, fw->gaddr, fw->gport, paddr, cport, now);
	if (f) {
		f->uaddr = client;
		f->uport = cport;
	}
	fwd_adopt(fw, l, f, fd, now);
}

/**
 * fwd_resume_cb() - accept again after a pause
 */
static void fwd_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fwd *fw = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(fw->lev);
}

/**
 * fwd_accept_error_cb() - accept() failed (out of descriptors...): pause instead of spinning
 */
static void fwd_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct fwd *fw = arg;
	const struct timeval tv = { 0, FWD_ACCEPT_PAUSE_MS * 1000 };
	char a[INET6_ADDRSTRLEN];

	log_warn("forward %llu: accept on %s%s%s:%u: %s; pausing", (unsigned long long)fw->id,
		 fw->v6 ? "[" : "", fwd_haddr_str(a, sizeof(a), fw), fw->v6 ? "]" : "",
		 fw->hport, strerror(errno));
	evconnlistener_disable(lev);
	evtimer_add(fw->ev_pause, &tv);
}

/**
 * fwd_udp_readable() - datagrams at a UDP forward's socket: each to its client's flow
 */
static void fwd_udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct fwd *fw = arg;
	struct link *l = fwd_link(fw);
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} from;
	socklen_t fl;
	ssize_t n;

	(void)what;
	for (int i = 0; i < FWD_UDP_BATCH; i++) {
		fl = sizeof(from);
		n = recvfrom(fd, fwd_rxbuf, sizeof(fwd_rxbuf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break; /* EAGAIN, or an error about an earlier reply: nothing to read */
		}
		if (!l || (size_t)n > sizeof(fwd_rxbuf))
			continue;
		if (fw->v6) {
			const struct stack_cfg *sc = stack_get_cfg(l->stack);

			if (fl < sizeof(from.in6) || from.in6.sin6_family != AF_INET6 ||
			    !from.in6.sin6_port || !sc->ipv6)
				continue;
			/* as for TCP (fwd_accept6()): a client on ::1 appears as the gateway */
			udprelay_inbound6(&l->env, fd, &from.in6,
					  IN6_IS_ADDR_LOOPBACK(&from.in6.sin6_addr)
						  ? sc->gateway6
						  : (const uint8_t *)&from.in6.sin6_addr,
					  sc->addr6, fw->gport, fwd_rxbuf, (size_t)n,
					  tapird_now_us());
			continue;
		}
		if (fl < sizeof(from.in) || from.in.sin_family != AF_INET || !from.in.sin_port)
			continue;
		udprelay_inbound(&l->env, fd, &from.in,
				 fwd_peer_addr(l, ntohl(from.in.sin_addr.s_addr)), fw->gaddr,
				 fw->gport, fwd_rxbuf, (size_t)n, tapird_now_us());
	}
	if (l)
		link_touch(l);
}

/**
 * fwd_socket() - a host socket bound to @fw's host address and port (listening, for TCP)
 * @err, @errlen: on failure "tcp 0.0.0.0:8080: strerror"
 * Return: the descriptor, or -1
 */
static int fwd_socket(uint8_t proto, const struct fwd *fw, char *err, size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(fw->hport),
				  .sin_addr.s_addr = htonl(fw->haddr) };
	struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6, .sin6_port = htons(fw->hport) };
	int type = proto == PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM;
	char a[INET6_ADDRSTRLEN];
	int one = 1, fd, e;

	memcpy(&sa6.sin6_addr, fw->haddr6, 16);
	fd = socket(fw->v6 ? AF_INET6 : AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* [::] means IPv6 clients only: IPv4 ones belong to the 0.0.0.0 forwards, which may
	 * use the same port */
	if (fw->v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	/* TCP: a restarted daemon may bind again while old connections sit in TIME_WAIT. Not for
	 * UDP, where SO_REUSEADDR would let two forwards share a port and split its datagrams */
	if (proto == PROTO_TCP && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	if (fw->v6 ? bind(fd, (struct sockaddr *)&sa6, sizeof(sa6))
		   : bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto fail;
	if (proto == PROTO_TCP && listen(fd, FWD_BACKLOG))
		goto fail;
	return fd;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "cannot listen on %s %s%s%s:%u: %s",
		 proto == PROTO_TCP ? "tcp" : "udp", fw->v6 ? "[" : "",
		 fwd_haddr_str(a, sizeof(a), fw), fw->v6 ? "]" : "", fw->hport, strerror(e));
	return -1;
}

/**
 * fwd_close() - close @fw's socket and remove its LISTEN row (or end its UDP flows); @fw
 * itself is left for the caller to unlink and free
 */
static void fwd_close(struct fwd *fw)
{
	struct link *l = fwd_link(fw);
	uint64_t now = tapird_now_us();

	if (fw->lev)
		evconnlistener_free(fw->lev); /* closes the socket */
	fw->lev = NULL;
	if (fw->ev_pause)
		event_free(fw->ev_pause);
	fw->ev_pause = NULL;
	if (fw->uev)
		event_free(fw->uev);
	fw->uev = NULL;
	if (fw->ufd >= 0) {
		if (l)
			udprelay_inbound_close(&l->env, fw->ufd, now);
		close(fw->ufd);
	}
	fw->ufd = -1;
	if (l && fw->row_id) {
		struct flow *f = flow_at(stack_flows(l->stack), fw->row_idx);

		if (f && f->id == fw->row_id)
			tcp_listen_row_release(l->stack, f, now);
	}
	fw->row_id = 0;
	if (l)
		link_touch(l);
}

/**
 * fwd_open() - one forward: bind its socket, watch it, make its LISTEN row
 * @err, @errlen: on failure, what went wrong
 * Return: the forward (not yet in the list), or NULL
 */
static struct fwd *fwd_open(struct tapird *d, struct link *l, uint8_t proto, uint32_t haddr,
			    uint16_t hport, uint32_t gaddr, uint16_t gport,
			    const uint8_t *haddr6, char *err, size_t errlen)
{
	struct fwd *fw = calloc(1, sizeof(*fw));
	int fd;

	if (!fw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*fw = (struct fwd){ .proto = proto, .haddr = haddr, .hport = hport, .gaddr = gaddr,
			    .gport = gport, .d = d, .l = l, .ufd = -1, .v6 = haddr6 != NULL };
	if (haddr6)
		memcpy(fw->haddr6, haddr6, 16);
	if (fw->v6 && !stack_get_cfg(l->stack)->ipv6) {
		snprintf(err, errlen, "the link has no IPv6");
		free(fw);
		return NULL;
	}
	fd = fwd_socket(proto, fw, err, errlen);
	if (fd < 0) {
		free(fw);
		return NULL;
	}
	if (proto == PROTO_UDP) {
		fw->ufd = fd;
		fw->uev = event_new(d->base, fd, EV_READ | EV_PERSIST, fwd_udp_readable, fw);
		if (!fw->uev || event_add(fw->uev, NULL))
			goto nomem;
		return fw;
	}
	fw->ev_pause = evtimer_new(d->base, fwd_resume_cb, fw);
	fw->lev = evconnlistener_new(d->base, fwd_accept_cb, fw,
				     LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!fw->lev) {
		close(fd);
		goto nomem;
	}
	if (!fw->ev_pause)
		goto nomem;
	evconnlistener_set_error_cb(fw->lev, fwd_accept_error_cb);
	/* the LISTEN row: the container's address in the forward's family */
	{
		struct flow *row = fw->v6 ? tcp_listen_row6(l->stack,
							    stack_get_cfg(l->stack)->addr6,
							    gport, tapird_now_us())
					  : tcp_listen_row(l->stack, gaddr, gport, tapird_now_us());

		if (!row) {
			snprintf(err, errlen, "flow table full: no room for the LISTEN row");
			fwd_close(fw);
			free(fw);
			return NULL;
		}
		if (fw->v6) {
			memcpy(row->uaddr6, fw->haddr6, 16);
			row->uv6 = true;
		} else {
			row->uaddr = haddr;
		}
		row->uport = hport;
		fw->row_idx = row->idx;
		fw->row_id = row->id;
	}
	return fw;
nomem:
	snprintf(err, errlen, "cannot watch the socket (out of memory)");
	fwd_close(fw);
	free(fw);
	return NULL;
}

/**
 * fwd_insert() - append @fw to the list with the next id
 */
static void fwd_insert(struct fwd *fw)
{
	struct fwd **pp = &fwds.head;

	while (*pp)
		pp = &(*pp)->next;
	fw->id = fwds.next_id++;
	fw->next = NULL;
	*pp = fw;
	fwds.count++;
}

struct link *fwd_default_link(struct tapird *d, char *err, size_t errlen)
{
	if (d->nlinks == 1 && d->links[0] && d->links[0]->stack)
		return d->links[0];
	if (!d->nlinks)
		snprintf(err, errlen, "no link to forward into");
	else
		snprintf(err, errlen, "%u links are attached: name the one to forward into",
			 d->nlinks);
	return NULL;
}

int fwd_add(struct tapird *d, struct link *l, const struct fwd_spec *sp, uint32_t gaddr,
	    uint64_t *first_id, char *err, size_t errlen)
{
	struct fwd *opened[FWD_MAX];
	unsigned int i;

	if (!l && !(l = fwd_default_link(d, err, errlen)))
		return -1;
	if (sp->proto != PROTO_TCP && sp->proto != PROTO_UDP) {
		snprintf(err, errlen, "protocol %u is neither tcp nor udp", sp->proto);
		return -1;
	}
	if (!sp->count || !sp->hport || !sp->gport || sp->hport + sp->count - 1 > 65535 ||
	    sp->gport + sp->count - 1 > 65535) {
		snprintf(err, errlen, "bad port range");
		return -1;
	}
	if (fwds.count + sp->count > FWD_MAX) {
		snprintf(err, errlen, "%u forwards would be more than %d", fwds.count + sp->count,
			 FWD_MAX);
		return -1;
	}
	if (gaddr != stack_get_cfg(l->stack)->addr) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

		snprintf(err, errlen, "%s is not the container's address (%s)",
			 ip_str(a, sizeof(a), gaddr),
			 ip_str(b, sizeof(b), stack_get_cfg(l->stack)->addr));
		return -1;
	}
	for (i = 0; i < sp->count; i++) {
		opened[i] = fwd_open(d, l, sp->proto, sp->haddr, (uint16_t)(sp->hport + i), gaddr,
				     (uint16_t)(sp->gport + i), sp->v6 ? sp->haddr6 : NULL, err,
				     errlen);
		if (!opened[i]) {
			while (i--) {
				fwd_close(opened[i]);
				free(opened[i]);
			}
			return -1;
		}
	}
	for (i = 0; i < sp->count; i++) {
		char a[INET6_ADDRSTRLEN], b[INET_ADDRSTRLEN];
		struct fwd *fw = opened[i];

		fwd_insert(fw);
		if (!i && first_id)
			*first_id = fw->id;
		log_info("forward %llu: %s %s:%u -> %s:%u", (unsigned long long)fw->id,
			 fw->proto == PROTO_TCP ? "tcp" : "udp", fwd_haddr_str(a, sizeof(a), fw),
			 fw->hport, fw->v6 ? "the container over IPv6" : ip_str(b, sizeof(b), fw->gaddr),
			 fw->gport);
	}
	return 0;
}

int fwd_start(struct tapird *d, char *err, size_t errlen)
{
	struct link *l = NULL;

	if (!d->cfg.nforwards)
		return 0;
	/* the forwards of the command line and [forward] lead into the command line's [link] */
	if (link_cfg_has_ns(&d->cfg.link))
		l = link_find(d, d->cfg.link.name);
	if (!l && !(l = fwd_default_link(d, err, errlen)))
		return -1;
	for (unsigned int i = 0; i < d->cfg.nforwards; i++) {
		if (fwd_add(d, l, &d->cfg.forwards[i], l->cfg.addr, NULL, err, errlen)) {
			fwd_fini(d);
			return -1;
		}
	}
	return 0;
}

int fwd_remove(struct tapird *d, uint64_t id)
{
	struct fwd **pp = &fwds.head, *fw;

	(void)d;
	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	fw = *pp;
	if (!fw)
		return -1;
	*pp = fw->next;
	fwds.count--;
	fwd_close(fw);
	log_info("forward %llu: removed", (unsigned long long)id);
	free(fw);
	return 0;
}

void fwd_link_gone(struct link *l)
{
	struct fwd **pp = &fwds.head;

	while (*pp) {
		struct fwd *fw = *pp;

		if (fw->l != l) {
			pp = &fw->next;
			continue;
		}
		*pp = fw->next;
		fwds.count--;
		fwd_close(fw);
		log_info("forward %llu: removed with link %s", (unsigned long long)fw->id, l->name);
		free(fw);
	}
}

void fwd_fini(struct tapird *d)
{
	(void)d;
	while (fwds.head) {
		struct fwd *fw = fwds.head;

		fwds.head = fw->next;
		fwd_close(fw);
		free(fw);
	}
	fwds.count = 0;
}

/* --- the control socket --------------------------------------------------------------------- */

/**
 * ctl_err() - fill the error of a control handler
 * Return: NULL
 */
__attribute__((format(printf, 5, 6))) static json_t *ctl_err(const char **cls, const char *c,
							      char *desc, size_t len,
							      const char *fmt, ...)
{
	va_list ap;

	*cls = c;
	va_start(ap, fmt);
	vsnprintf(desc, len, fmt, ap);
	va_end(ap);
	return NULL;
}

/**
 * arg_port() - integer argument @key of @args, 1..65535
 * Return: the port, 0 if absent, -1 if not an integer in range
 */
static long arg_port(json_t *args, const char *key)
{
	json_t *v = json_object_get(args, key);
	json_int_t n;

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	return n >= 1 && n <= 65535 ? (long)n : -1;
}

/**
 * arg_addr() - optional dotted IPv4 argument @key of @args ("" or absent: @dflt)
 * Return: 0, -1 if not a string, -2 if not an address
 */
static int arg_addr(json_t *args, const char *key, uint32_t dflt, uint32_t *out)
{
	json_t *v = json_object_get(args, key);
	struct in_addr ia;
	const char *s;

	*out = dflt;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (!*s)
		return 0;
	if (inet_pton(AF_INET, s, &ia) != 1)
		return -2;
	*out = ntohl(ia.s_addr);
	return 0;
}

/**
 * arg_addr6() - IPv6 argument @key of @args
 * @args:	the arguments
 * @key:	its name
 * @out:	the address (network order)
 * Return: 0, or -1 if absent or not an IPv6 address
 */
static int arg_addr6(json_t *args, const char *key, uint8_t out[16])
{
	json_t *v = json_object_get(args, key);

	if (!json_is_string(v) || inet_pton(AF_INET6, json_string_value(v), out) != 1)
		return -1;
	return 0;
}

json_t *fwd_ctl_add(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len)
{
	static const char pre[] = "bad request: add_hostfwd:";
	json_t *proto = json_object_get(args, "proto");
	struct fwd_spec sp = { .count = 1 };
	json_t *lname = json_object_get(args, "link");
	struct link *l;
	uint32_t gaddr, caddr;
	uint64_t id = 0;
	char why[256];
	long hp, gp;
	int rc;


	if (!proto)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.proto: missing (\"tcp\" or \"udp\")", pre);
	if (!json_is_string(proto) || (strcmp(json_string_value(proto), "tcp") &&
				       strcmp(json_string_value(proto), "udp")))
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.proto: must be \"tcp\" or \"udp\"", pre);
	sp.proto = strcmp(json_string_value(proto), "tcp") ? PROTO_UDP : PROTO_TCP;

	/* slirp4netns: host_addr absent or "" means 0.0.0.0, guest_addr absent or "" the
	 * container's address */
	rc = arg_addr(args, "host_addr", 0, &sp.haddr);
	if (rc == -2 && arg_addr6(args, "host_addr", sp.haddr6) == 0) {
		sp.v6 = true; /* tapir's own: an IPv6 host address forwards over IPv6 */
		rc = 0;
	}
	if (rc)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.host_addr: %s", pre,
			       rc == -1 ? "must be a string" : "not an IPv4 or IPv6 address");
	hp = arg_port(args, "host_port");
	if (hp <= 0)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.host_port: %s", pre,
			       hp ? "must be an integer from 1 to 65535" : "missing");
	gp = arg_port(args, "guest_port");
	if (gp <= 0)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.guest_port: %s", pre,
			       gp ? "must be an integer from 1 to 65535" : "missing");
	/* tapir's own: "link" names the container (optional while exactly one is attached) */
	if (json_is_null(lname))
		lname = NULL;
	if (lname && !json_is_string(lname))
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.link: must be a string", pre);
	if (lname) {
		l = link_find(d, json_string_value(lname));
		if (!l)
			return ctl_err(cls, "DeviceNotFound", desc, len, "%s no link named '%s'",
				       pre, json_string_value(lname));
	} else if (!(l = fwd_default_link(d, why, sizeof(why)))) {
		return ctl_err(cls, "GenericError", desc, len, "%s %s", pre, why);
	}
	/* the stack's address: a DHCP lease may have changed it from the configured one */
	caddr = stack_get_cfg(l->stack)->addr;
	rc = arg_addr(args, "guest_addr", caddr, &gaddr);
	if (rc == -2 && sp.v6) {
		uint8_t g6[16];

		/* an IPv6 guest address must be the container's own */
		if (arg_addr6(args, "guest_addr", g6) ||
		    memcmp(g6, stack_get_cfg(l->stack)->addr6, 16))
			return ctl_err(cls, "GenericError", desc, len,
				       "%s bad arguments.guest_addr: not the container's IPv6"
				       " address", pre);
		gaddr = caddr;
		rc = 0;
	}
	if (rc)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.guest_addr: %s", pre,
			       rc == -1 ? "must be a string" : "not an IPv4 address");
	if (gaddr != caddr) {
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.guest_addr: %s is not the container's address"
			       " (%s)", pre, ip_str(a, sizeof(a), gaddr),
			       ip_str(b, sizeof(b), caddr));
	}
	sp.hport = (uint16_t)hp;
	sp.gport = (uint16_t)gp;
	if (fwd_add(d, l, &sp, gaddr, &id, why, sizeof(why)))
		return ctl_err(cls, "GenericError", desc, len, "%s %s", pre, why);
	return json_pack("{s:I}", "id", (json_int_t)id);
}

json_t *fwd_ctl_list(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len)
{
	static const char pre[] = "bad request: list_hostfwd:";
	json_t *lname = json_object_get(args, "link");
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	const struct link *only = NULL;
	json_t *entries;

	/* tapir's own: "link" lists only the forwards into that container */
	if (lname && !json_is_null(lname)) {
		if (!json_is_string(lname))
			return ctl_err(cls, "GenericError", desc, len,
				       "%s bad arguments.link: must be a string", pre);
		only = link_find(d, json_string_value(lname));
		if (!only)
			return ctl_err(cls, "DeviceNotFound", desc, len, "%s no link named '%s'",
				       pre, json_string_value(lname));
	}
	entries = json_array();
	if (!entries)
		return ctl_err(cls, "GenericError", desc, len, "out of memory");
	for (const struct fwd *fw = fwds.head; fw; fw = fw->next) {
		const struct link *l = fwd_link(fw);
		json_t *e;

		if (only && l != only)
			continue;
		e = json_pack("{s:I, s:s, s:s, s:i, s:s, s:i, s:s?}", "id", (json_int_t)fw->id,
			      "proto", fw->proto == PROTO_TCP ? "tcp" : "udp", "host_addr",
			      fwd_haddr_str(a, sizeof(a), fw), "host_port", fw->hport,
			      "guest_addr", fw->v6 && l ? inet_ntop(AF_INET6,
								      stack_get_cfg(l->stack)->addr6,
								      b, sizeof(b))
						   : ip_str(b, sizeof(b), fw->gaddr),
			      "guest_port",
			      fw->gport, "link", l ? l->name : NULL);
		if (json_array_append_new(entries, e) < 0) {
			json_decref(entries);
			return ctl_err(cls, "GenericError", desc, len, "out of memory");
		}
	}
	return json_pack("{s:o}", "entries", entries);
}

json_t *fwd_ctl_remove(struct tapird *d, json_t *args, const char **cls, char *desc,
		       size_t len)
{
	static const char pre[] = "bad request: remove_hostfwd:";
	json_t *id = json_object_get(args, "id");

	if (!id)
		return ctl_err(cls, "GenericError", desc, len, "%s bad arguments.id: missing", pre);
	if (!json_is_integer(id) || json_integer_value(id) < 1)
		return ctl_err(cls, "GenericError", desc, len,
			       "%s bad arguments.id: must be a positive integer", pre);
	if (fwd_remove(d, (uint64_t)json_integer_value(id)))
		return ctl_err(cls, "DeviceNotFound", desc, len,
			       "%s bad arguments.id: no forward with id %lld", pre,
			       (long long)json_integer_value(id));
	return json_object();
}
