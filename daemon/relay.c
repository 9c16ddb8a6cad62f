/* relay.c - the upstream half of every TCP flow: one non-blocking host socket per flow, over
 * its life (relay_data.c moves the bytes through it; relay_internal.h says what the two share).
 *
 * Readiness. We never read a socket empty (we peek), so a level-triggered EV_READ would fire
 * on every loop iteration for as long as unacknowledged data sits in the queue: a busy loop.
 * The read event is therefore edge-triggered (EV_ET; epoll's EPOLLET): Linux signals each
 * new arrival (every sk_data_ready wakeup requeues an EPOLLET item), plus FIN and RST. On that
 * edge the stack pulls what its window to the container allows; whatever it could not send
 * yet it sends later by itself, when the container's ACKs open the window (the bytes it knows
 * of are filled when the link sends its batch). So between edges nothing wakes us: no busy
 * loop, no toggling of interest, no missed data. When the loop supports EV_CLOSED (epoll's
 * EPOLLRDHUP) the peer's FIN or RST is seen at once, even when the container's window is
 * shut; otherwise the EOF is found by TCP_INFO on a read edge that brought no new byte.
 * The write event is one-shot: armed only when send() came up short or the send buffer is
 * past the kernel's own "writable" mark (free >= queued / 2, see sk_stream_is_writeable()),
 * so that the stack hears when to reopen its window. It is EV_ET too only because libevent
 * refuses to mix edge- and level-triggered events on one descriptor; adding it re-polls the
 * socket (EPOLL_CTL_MOD), so it fires at once if the socket is writable already, as a
 * level-triggered one would. The same re-poll may report a read edge without new data: the
 * stack then peeks nothing new, which costs one recv().
 *
 * Callbacks into the stack. Upstream events reach the stack only from this file's libevent
 * callbacks, never from inside a stack callback: an error or EOF noticed during tcp_consume or
 * a fill is recorded in the flow and the read event is made active, so it is reported from the
 * loop a moment later (event_active). tcp_deliver is the exception: it answers a reset with
 * its errno, and the stack acts on that answer itself.
 *
 * Memory. Per-flow state lives in a table per link, indexed by the flow's slot (f->idx),
 * allocated once with calloc() when the link opens its first TCP flow: pages are only
 * touched (become resident) as slots are used. An idle flow holds one struct event (128
 * bytes): the same event waits for connect() to complete, then for reads. The write event that
 * waits for room upstream is allocated the first time a flow fills its socket and kept for
 * the flow's life (bulk uploads pay it once; the many idle flows never do). Nothing is
 * allocated per packet.
 *
 * Must not: parse or build frames.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <linux/tcp.h> /* not netinet/tcp.h: its TCP_* states clash with flow.h's */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "config.h"
#include "log.h"
#include "relay.h"
#include "reach.h"
#include "policy.h"
#include "relay_env.h"
#include "relay_internal.h"
#include "upstream.h"
#include "resolver.h"
#include "stack.h"
#include "tapird.h"
#include "tcp.h"
#include "wire.h"

/* Kernel socket states as TCP_INFO reports them (include/net/tcp_states.h) */
#define RELAY_KTCP_ESTABLISHED 1
#define RELAY_KTCP_SYN_SENT 2
#define RELAY_KTCP_TIME_WAIT 6
#define RELAY_KTCP_CLOSE 7
#define RELAY_KTCP_CLOSE_WAIT 8
#define RELAY_KTCP_LAST_ACK 9
#define RELAY_KTCP_CLOSING 11

/* A connect() that has not completed in this time fails with ETIMEDOUT (→ RST). The kernel
 * alone would retry SYNs for ~2 minutes; the container's own SYN retransmissions give up
 * sooner, and a half-open flow holds one of max_half_open slots meanwhile. */
#define RELAY_CONNECT_TIMEOUT_S 10




/* One pool per attached link, at most TAPIRD_MAX_LINKS of them. A pool is found by its link
 * at tcp_open only (the other callbacks have f->relay); a link that went away leaves a pool
 * with no live slots, which the next new link takes over. */
static struct relay_pool relay_pools[TAPIRD_MAX_LINKS];

/* Whether the loop reports EV_CLOSED (0 unknown, 1 yes, -1 no) */
static int relay_closed_ok;
/* Last time (CLOCK_MONOTONIC seconds) we logged running out of file descriptors */
static time_t relay_emfile_logged;
/* One spare socket per family ([0] AF_INET, [1] AF_INET6), options set, made between loop
 * turns (relay_tcp_spare()) once that family has been used: a SYN from the container then
 * waits for connect() alone, not for socket() and its setsockopt()s too. -1: none. */
static int relay_spare[2] = { -1, -1 };
static bool relay_spare_wanted[2];


static void relay_read_cb(evutil_socket_t fd, short what, void *arg);
static void relay_write_cb(evutil_socket_t fd, short what, void *arg);

/**
 * relay_pool_get() - the pool of @env's link, created (or taken over from a gone link) if needed
 * Return: the pool, or NULL when out of memory or out of entries
 */
static struct relay_pool *relay_pool_get(const struct relay_env *env)
{
	uint32_t cap = flow_capacity(stack_flows(env->stack));
	struct relay_pool *p, *spare = NULL;
	unsigned int i;

	for (i = 0; i < TAPIRD_MAX_LINKS; i++) {
		p = &relay_pools[i];
		if (p->env == env && p->slot && p->cap == cap)
			return p;
		if (!spare && (!p->slot || !p->live))
			spare = p;
	}
	if (!spare)
		return NULL;

	if (spare->slot && spare->cap != cap) {
		free(spare->slot);
		spare->slot = NULL;
	}
	if (!spare->slot) {
		/* No loop over the slots here: writing each one would fault in the whole table
		 * (~23 MiB at 65536 flows, 80 ms on the first connection). A slot is claimed by
		 * its NULL ->f and gets its fd then; nothing reads a slot's fd before. */
		spare->slot = calloc(cap, sizeof(*spare->slot));
		if (!spare->slot)
			return NULL;
	}
	spare->cap = cap;
	spare->live = 0;
	spare->nstale = 0;
	spare->env = env;
	return spare;
}

/**
 * relay_pool_find() - the pool of @env's link, if it has one (relay_tcp_refresh())
 * Return: the pool, or NULL
 */
struct relay_pool *relay_pool_find(const struct relay_env *env)
{
	struct relay_pool *p = NULL;

	for (unsigned int i = 0; i < TAPIRD_MAX_LINKS; i++)
		if (relay_pools[i].env == env && relay_pools[i].slot)
			p = &relay_pools[i];
	return p;
}

/**
 * relay_defer() - have the loop report @rf's pending EOF or error soon, from relay_read_cb:
 * used where we notice them inside a stack callback
 */
static void relay_defer(struct relay_flow *rf)
{
	event_active(&rf->ev_rd, 0, 0);
}

/** relay_mark_reset() - an error on the socket: report tcp_upstream_reset() from the loop */
void relay_mark_reset(struct relay_flow *rf, int err)
{
	if (!(rf->flags & RF_RESET_PENDING))
		log_debug("flow %llu: upstream %s", (unsigned long long)rf->f->id, strerror(err));
	rf->flags |= RF_RESET_PENDING;
	relay_defer(rf);
}

/** relay_close_fd() - stop watching and close the socket (idempotent) */
static void relay_close_fd(struct relay_flow *rf, bool abort)
{
	if (rf->fd < 0)
		return;
	event_del(&rf->ev_rd);
	if (rf->ev_wr) {
		event_free(rf->ev_wr);
		rf->ev_wr = NULL;
	}
	if (abort) {
		/* RFC 9293 3.10.5 ABORT: SO_LINGER with a zero timeout makes close() send RST */
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(rf->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(rf->fd);
	rf->fd = -1;
	rf->flags &= ~(RF_WANT_WRITE | RF_RESET_PENDING | RF_FAIL_PENDING);
}

/**
 * relay_maybe_close_early() - once both directions are finished (our FIN sent upstream, the
 * peer's FIN seen) and every byte was acknowledged by the container, the socket has nothing
 * left to do: close it now rather than when the flow leaves the table, which can be 2MSL
 * later when the stack sits in TIME_WAIT. Saves a descriptor per closing flow.
 * @inq:	what SIOCINQ said in this callback with nothing consumed since, or -1: ask
 */
void relay_maybe_close_early(struct relay_flow *rf, int inq)
{
	if (rf->fd < 0 || (rf->flags & (RF_WR_SHUT | RF_EOF_REPORTED)) !=
			      (RF_WR_SHUT | RF_EOF_REPORTED))
		return;
	if (inq < 0 && ioctl(rf->fd, SIOCINQ, &inq) < 0)
		return;
	if (!inq)
		relay_close_fd(rf, false);
}

/** relay_want_write() - arm the one-shot write event (no-op if already armed) */
void relay_want_write(struct relay_flow *rf)
{
	/* while connecting, ev_rd waits for connect() (with its timeout): nothing to ask yet */
	if (rf->fd < 0 || !(rf->flags & RF_CONNECTED) || (rf->flags & RF_WANT_WRITE))
		return;
	if (!rf->ev_wr) {
		rf->ev_wr = event_new(rf->env->base, rf->fd, EV_WRITE | EV_ET, relay_write_cb, rf);
		if (!rf->ev_wr) { /* nobody would tell the stack of room again: end the flow */
			relay_mark_reset(rf, ENOMEM);
			return;
		}
	}
	rf->flags |= RF_WANT_WRITE;
	event_add(rf->ev_wr, NULL);
}

/**
 * relay_map_dest() - where a container's connection to @addr:@port really goes
 * @env:	the link (its addresses and host-loopback choice; the daemon's resolver)
 * @ss:		filled with the upstream address (AF_INET, or AF_INET6 for an IPv6 resolver)
 * @sslen:	its length
 * Return: 0, or a negative errno to refuse the connection
 */
static int relay_map_dest(const struct relay_env *env, uint32_t addr, uint16_t port,
			  struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct sockaddr_in *sa = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	*sslen = sizeof(*sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);

	if (addr == env->cfg->gateway) {
		/* DESIGN.md: the gateway is the host's loopback, unless no_host_loopback */
		if (env->cfg->no_host_loopback)
			return env->cfg->slirp_answers ? -ENETUNREACH : -ECONNREFUSED;
		sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return 0;
	}
	/* The host's loopback is reachable only through the gateway mapping above (DESIGN.md,
	 * security model): a hostile container can put 127.0.0.1 in a SYN it crafts. And
	 * 0.0.0.0/8 (connect() to it reaches the host's loopback too), multicast and the
	 * reserved block above it are no unicast destinations (RFC 1122 3.2.1.3, RFC 5771). */
	if ((addr >> 24) == 127 || (addr >> 24) == 0 || addr >= 0xe0000000u)
		return -ECONNREFUSED;
	if (addr == env->cfg->dns && env->cfg->no_dns && env->cfg->slirp_answers)
		return -ETIMEDOUT; /* the stack sends nothing back */
	if (addr == env->cfg->dns) {
		/* RFC 1035 4.2.2, RFC 7766 5: DNS over TCP (truncated answers, zone transfers)
		 * goes to the same resolver as UDP; any other port is refused (RST) so that
		 * clients fail fast instead of hanging */
		if (env->cfg->no_dns || port != RESOLVER_DNS_PORT ||
		    resolver_get(env->dcfg, ss, sslen))
			return -ECONNREFUSED;
		return 0;
	}
	sa->sin_addr.s_addr = htonl(addr);
	return 0;
}

/**
 * relay_admit() - the reach policy and the per-destination cap for a new connection of @f,
 * whose upstream relay_map_dest() chose as @ss (reach.h)
 * @env:	the link
 * @f:		the flow (f->paddr:f->pport is what the container asked for)
 * @ss:		the upstream address
 * Return: 0, or -STACK_E_POLICY / -STACK_E_PER_DEST (the stack counts and answers RST)
 */
static int relay_admit(const struct relay_env *env, const struct flow *f,
		       const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
	uint32_t ua = 0;
	uint16_t up;
	int rc;

	/* Rules match the address the container used and, when the gateway mapping changed it,
	 * the real upstream too: "deny = 127.0.0.1/32:22" closes the host's sshd behind the
	 * gateway address as well. */
	rc = reach_check(env, POLICY_TCP, f->paddr, f->pport);
	if (!rc && ss->ss_family == AF_INET) {
		ua = ntohl(sin->sin_addr.s_addr);
		up = ntohs(sin->sin_port);
		if (ua != f->paddr)
			rc = reach_check(env, POLICY_TCP, ua, up);
	} else {
		up = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	if (rc)
		return rc;
	return reach_dest_acquire(env, f, ua, up);
}

/**
 * relay_sock_opts() - set up TCP socket @fd for relaying (TCP_NODELAY, SO_PEEK_OFF)
 */
static void relay_sock_opts(int fd)
{
	int one = 1;

	/* The container's kernel already ran Nagle (and its own TSO sizing) over this stream:
	 * what reaches us are whole segments, sent when its algorithm decided to. Nagle again
	 * upstream would only hold back the last short segment of each burst until the peer
	 * ACKs the previous one (up to a delayed-ACK timeout on request/response traffic).
	 * We differ from the pasta installed here (Debian 12's), which per strace sets only
	 * SO_RCVBUF/SO_SNDBUF, TCP_MAXSEG and TCP_WINDOW_CLAMP on its upstream sockets and
	 * leaves Nagle on; the cost of NODELAY is more, smaller upstream segments only when the
	 * container itself sends small ones, which it does only when its own Nagle allowed. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	relay_peek_init(fd);
}

/**
 * relay_socket_new() - a new non-blocking TCP socket set up for relaying
 * @family:	AF_INET, or AF_INET6
 * Return: the descriptor, or a negative errno
 */
static int relay_socket_new(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	if (fd < 0)
		return -errno;
	relay_sock_opts(fd);
	return fd;
}

/**
 * relay_socket() - a socket for a new connection: the family's spare, or a new one
 * @family:	AF_INET, or AF_INET6 (an IPv6 upstream resolver)
 * Return: the descriptor, or a negative errno
 */
static int relay_socket(int family)
{
	int i = family == AF_INET6, fd = relay_spare[i];

	relay_spare_wanted[i] = true;
	if (fd < 0)
		return relay_socket_new(family);
	relay_spare[i] = -1;
	return fd;
}

void relay_tcp_spare(void)
{
	for (int i = 0; i < 2; i++) {
		int fd;

		if (relay_spare[i] >= 0 || !relay_spare_wanted[i])
			continue;
		/* one try per connection that took the last one: out of descriptors, the next
		 * SYN's relay_socket() tries again and says so */
		relay_spare_wanted[i] = false;
		fd = relay_socket_new(i ? AF_INET6 : AF_INET);
		relay_spare[i] = fd < 0 ? -1 : fd;
	}
}

/**
 * relay_assign_read() - make @rf->ev_rd the socket's read event (edge-triggered, persistent,
 * with EV_CLOSED where the backend has it), assigned but not added; it must not be pending
 */
static void relay_assign_read(struct relay_flow *rf)
{
	struct event_base *base = rf->env->base;
	short rd_events = EV_READ | EV_PERSIST | EV_ET;

	if (!relay_closed_ok)
		relay_closed_ok = (event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE) ? 1 : -1;
	if (relay_closed_ok > 0)
		rd_events |= EV_CLOSED;
	event_assign(&rf->ev_rd, base, rf->fd, rd_events, relay_read_cb, rf);
}

/**
 * relay_slot_fill() - make @rf the relay state of @f around socket @fd: fields reset, and
 * @rf->ev_rd assigned but not added: as the connect() completion event with RF_CONNECTING,
 * else as the read event. Used by tcp_open (our connect) and relay_adopt (an accepted socket).
 */
static void relay_slot_fill(struct relay_flow *rf, struct relay_env *env, struct relay_pool *p,
			    struct flow *f, int fd, unsigned int flags)
{
	rf->env = env;
	rf->pool = p;
	rf->f = f;
	rf->fd = fd;
	rf->flags = flags;
	rf->fail_err = 0;
	rf->peek_off = 0;
	rf->room_meas = 0;
	rf->room_est = 0;
	rf->gen++;
	rf->ev_wr = NULL;
	if (flags & RF_CONNECTING)
		event_assign(&rf->ev_rd, env->base, fd, EV_WRITE | EV_ET, relay_write_cb, rf);
	else
		relay_assign_read(rf);
}

/**
 * relay_connect_settled() - whether the non-blocking connect() on @fd is over (established,
 * or refused): its TCP state, the first byte of TCP_INFO, is past SYN_SENT
 */
static bool relay_connect_settled(struct relay_flow *rf)
{
	uint8_t state = 0;
	socklen_t sl = sizeof(state);

	if (getsockopt(rf->fd, IPPROTO_TCP, TCP_INFO, &state, &sl) < 0 || sl != sizeof(state) ||
	    state == RELAY_KTCP_SYN_SENT)
		return false;
	if (state == RELAY_KTCP_ESTABLISHED)
		rf->flags |= RF_EST_AT_ONCE; /* nothing for SO_ERROR to tell */
	return true;
}

int relay_tcp_open(struct relay_env *env, struct flow *f)
{
	struct relay_pool *p;
	struct relay_flow *rf;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct timeval tmo = { .tv_sec = RELAY_CONNECT_TIMEOUT_S };
	int fd, rc;

	rc = f->v6 ? upstream_dest6(env, f, &sa, &salen)
		   : relay_map_dest(env, f->paddr, f->pport, &sa, &salen);
	if (rc < 0)
		return rc;
	rc = relay_admit(env, f, &sa); /* released when the flow closes (link.c) */
	if (rc < 0)
		return rc;

	p = relay_pool_get(env);
	if (!p || f->idx >= p->cap)
		return -ENOMEM;
	rf = &p->slot[f->idx];
	if (rf->f) {
		/* the stack never opens a slot twice: flow_closed comes first */
		log_err("relay: flow slot %u still in use", f->idx);
		return -EBUSY;
	}

	fd = relay_socket(sa.ss_family);
	if (fd < 0) {
		if (fd == -EMFILE || fd == -ENFILE) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec != relay_emfile_logged) {
				relay_emfile_logged = now.tv_sec;
				log_warn("relay: out of file descriptors (%s): refusing new"
					 " connections", strerror(-fd));
			}
			return -EMFILE;
		}
		return fd;
	}
	reach_sockbuf(env, fd, p->live + 1);

	rc = relay_env_bind_outbound(env, fd, &sa);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	relay_slot_fill(rf, env, p, f, fd, RF_CONNECTING);

	upstream_note(f, &sa);
	f->relay = rf;
	p->live++;

	if (connect(fd, (struct sockaddr *)&sa, salen) < 0 && errno != EINPROGRESS) {
		/* Refused or unreachable right away: still report it from the loop, through
		 * tcp_upstream_failed(), which knows RST from ICMP */
		rf->fail_err = errno;
		rf->flags |= RF_FAIL_PENDING;
		event_active(&rf->ev_rd, EV_WRITE, 0);
		return 0;
	}
	/* Settled already (to a host on this machine the handshake, or the refusal, happens
	 * inside connect()): report it in this loop turn, the SYN-ACK going out with the
	 * batch, instead of a round through the poller for the writable edge */
	if (relay_connect_settled(rf)) {
		event_active(&rf->ev_rd, EV_WRITE, 0);
		return 0;
	}
	/* In progress: the socket turns writable when it is done */
	event_add(&rf->ev_rd, &tmo);
	return 0;
}




void relay_tcp_fin(struct flow *f)
{
	struct relay_flow *rf = f->relay;

	if (!rf || rf->fd < 0 || (rf->flags & RF_WR_SHUT))
		return;
	rf->flags |= RF_WR_SHUT;
	shutdown(rf->fd, SHUT_WR); /* ENOTCONN after a reset: the read event reports that */
	relay_maybe_close_early(rf, -1);
}

void relay_tcp_reset(struct flow *f)
{
	struct relay_flow *rf = f->relay;

	if (rf)
		relay_close_fd(rf, true);
}

void relay_tcp_closed(struct flow *f)
{
	struct relay_flow *rf = f->relay;
	struct relay_pool *p;

	if (!rf || f->proto != PROTO_TCP || rf->f != f)
		return;
	/* Orderly end: a plain close(). Bytes the container never acknowledged make the kernel
	 * send RST instead (RFC 2525 2.17), which is right: they were not delivered. A forward's
	 * client whose connection never got through is reset: the container never accepted it. */
	relay_close_fd(rf, (rf->flags & (RF_ADOPTED | RF_CONNECTED)) == RF_ADOPTED);
	rf->f = NULL;
	rf->env = NULL;
	rf->flags = 0;
	rf->gen++;
	f->relay = NULL;
	p = rf->pool;
	if (p && p->live)
		p->live--;
}

/**
 * relay_write_cb() - the socket is writable (or the connect timed out, or a connect failure
 * is to be reported)
 */
static void relay_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_flow *rf = arg;
	struct relay_env *env = rf->env;
	struct flow *f = rf->f;
	int err = 0;
	socklen_t sl = sizeof(err);

	if (!f || !env)
		return;

	if (rf->flags & RF_CONNECTING) {
		/* ev_rd is this event while connecting: an activation without EV_WRITE or
		 * EV_TIMEOUT (relay_defer()) says nothing of connect() */
		if (!(what & (EV_WRITE | EV_TIMEOUT)) && !(rf->flags & RF_FAIL_PENDING)) {
			struct timeval tmo = { .tv_sec = RELAY_CONNECT_TIMEOUT_S };

			event_add(&rf->ev_rd, &tmo);
			return;
		}
		if (rf->flags & RF_FAIL_PENDING)
			err = rf->fail_err;
		else if (what & EV_TIMEOUT)
			err = ETIMEDOUT;
		else if (!(rf->flags & RF_EST_AT_ONCE) &&
			 getsockopt(rf->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;

		rf->flags &= ~(RF_CONNECTING | RF_FAIL_PENDING | RF_EST_AT_ONCE);
		if (err) {
			log_debug("flow %llu: connect to upstream port %u: %s",
				  (unsigned long long)f->id, f->uport, strerror(err));
			relay_close_fd(rf, false);
			tcp_upstream_failed(env->stack, f, err, tapird_now_us());
		} else {
			rf->flags |= RF_CONNECTED;
			/* the one-shot connect event is not pending any more: it becomes the
			 * read event */
			relay_assign_read(rf);
			event_add(&rf->ev_rd, NULL);
			relay_set_room(rf);
			tcp_upstream_connected(env->stack, f, tapird_now_us());
		}
		relay_env_touched(env);
		return;
	}

	rf->flags &= ~RF_WANT_WRITE;
	if (rf->fd < 0)
		return;
	relay_set_room(rf);
	tcp_upstream_writable(env->stack, f, tapird_now_us());
	relay_env_touched(env);
}

/**
 * relay_adopted_early() - an event on a forward's client socket before the container accepted
 * the connection: data and FIN wait in the socket for ESTABLISHED (nothing enters the stack
 * before), a reset ends the attempt at once (RST to the container, flow released)
 * @rf:		the relay entry (RF_ADOPTED, not RF_CONNECTED)
 * @what:	the libevent event bits
 */
static void relay_adopted_early(struct relay_flow *rf, short what)
{
	struct relay_env *env = rf->env;
	int err = 0;
	socklen_t sl = sizeof(err);

	if (!(rf->flags & RF_ADOPTED) || rf->fd < 0)
		return;
	/* A reset comes as EPOLLHUP|EPOLLERR, which libevent reports as EV_READ without
	 * EV_CLOSED: whatever woke us, SO_ERROR tells a reset from data or a FIN */
	if (getsockopt(rf->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err) {
		log_debug("flow %llu: forward client %s before the container answered",
			  (unsigned long long)rf->f->id, strerror(err));
		relay_close_fd(rf, false);
		tcp_abort(env->stack, rf->f, FLOW_END_RST_UPSTREAM, tapird_now_us());
		relay_env_touched(env);
		return;
	}
	if (what & EV_CLOSED)
		rf->flags |= RF_EOF_SEEN; /* reported once the connection is established */
}

/**
 * relay_peer_closed() - whether the peer has closed its half (for loops without EV_CLOSED:
 * a read edge then may be the FIN)
 */
static bool relay_peer_closed(struct relay_flow *rf)
{
	struct tcp_info ti;
	socklen_t sl = sizeof(ti);

	return getsockopt(rf->fd, IPPROTO_TCP, TCP_INFO, &ti, &sl) == 0 &&
	       (ti.tcpi_state == RELAY_KTCP_CLOSE_WAIT || ti.tcpi_state == RELAY_KTCP_LAST_ACK ||
		ti.tcpi_state == RELAY_KTCP_CLOSING || ti.tcpi_state == RELAY_KTCP_TIME_WAIT ||
		ti.tcpi_state == RELAY_KTCP_CLOSE);
}

/**
 * relay_read_cb() - new data, FIN or RST upstream (an edge), or a deferred EOF/error
 */
static void relay_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct relay_flow *rf = arg;
	struct relay_env *env = rf->env;
	struct flow *f = rf->f;
	uint32_t gen = rf->gen;
	bool err_asked = false;
	int inq = -1; /* SIOCINQ's answer in this call: nothing is consumed before it returns */

	if (!f || !env)
		return;

	if (!(rf->flags & RF_CONNECTED)) {
		relay_adopted_early(rf, what);
		return;
	}

	if ((what & EV_CLOSED) && rf->fd >= 0 && !(rf->flags & RF_RESET_PENDING)) {
		int err = 0;
		socklen_t sl = sizeof(err);

		/* EPOLLRDHUP: the peer's FIN, or a reset (then SO_ERROR says which) */
		if (getsockopt(rf->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err)
			rf->flags |= RF_RESET_PENDING;
		else
			rf->flags |= RF_EOF_SEEN;
		err_asked = true;
	}

	if ((what & EV_READ) && !(rf->flags & RF_RESET_PENDING) && rf->fd >= 0) {
		int err = 0;
		socklen_t sl = sizeof(err);

		/* A reset comes as EPOLLHUP|EPOLLERR: EV_READ alone. Nothing peeks on an edge
		 * any more (where the error used to show), so ask. A reset aborts (RFC 9293
		 * 3.10.7.4): bytes still queued are lost, as the peer meant by resetting. Asked
		 * once per call: the EV_CLOSED branch above may just have. */
		if (!err_asked && getsockopt(rf->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err) {
			relay_mark_reset(rf, err);
			goto reset;
		}
		if (relay_closed_ok < 0 && relay_peer_closed(rf))
			rf->flags |= RF_EOF_SEEN;
		inq = relay_set_avail(rf);
		tcp_upstream_readable(env->stack, f, tapird_now_us());
		if (rf->gen != gen)
			goto out;
	}

reset:
	if (rf->flags & RF_RESET_PENDING) {
		rf->flags &= ~RF_RESET_PENDING;
		relay_close_fd(rf, false);
		tcp_upstream_reset(env->stack, f, tapird_now_us());
		goto out;
	}

	if ((rf->flags & (RF_EOF_SEEN | RF_EOF_REPORTED)) == RF_EOF_SEEN) {
		rf->flags |= RF_EOF_REPORTED;
		/* all the data before the FIN (counted above if this edge brought the FIN: no
		 * byte follows a FIN): the FIN goes after it */
		if (inq < 0)
			inq = relay_set_avail(rf);
		tcp_upstream_eof(env->stack, f, tapird_now_us());
		if (rf->gen == gen)
			relay_maybe_close_early(rf, inq);
	}
out:
	relay_env_touched(env);
}

int relay_tcp_info(const struct flow *f, struct tcp_info *ti)
{
	const struct relay_flow *rf = f->proto == PROTO_TCP ? f->relay : NULL;
	socklen_t len = sizeof(*ti);

	if (!rf || rf->fd < 0)
		return -ENOTCONN;
	memset(ti, 0, sizeof(*ti));
	if (getsockopt(rf->fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0)
		return -errno;
	return 0;
}

void relay_tcp_state(struct flow *f)
{
	/* f->tcp: only TCP flows carry a struct relay_flow in f->relay (UDP ones are udprelay's) */
	struct relay_flow *rf = f->tcp ? f->relay : NULL;

	if (rf && rf->f == f && f->state >= TCP_ESTABLISHED &&
	    (rf->flags & (RF_ADOPTED | RF_CONNECTED)) == RF_ADOPTED && rf->fd >= 0) {
		rf->flags |= RF_CONNECTED;
		/* a read edge from the loop: what the client queued before ESTABLISHED */
		event_active(&rf->ev_rd, EV_READ, 0);
	}
}

int relay_adopt(struct relay_env *env, struct flow *f, int fd)
{
	struct relay_pool *p;
	struct relay_flow *rf;
	int fl;

	p = relay_pool_get(env);
	if (!p || f->idx >= p->cap)
		return -ENOMEM;
	rf = &p->slot[f->idx];
	if (rf->f)
		return -EBUSY;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	relay_sock_opts(fd);
	relay_slot_fill(rf, env, p, f, fd, RF_ADOPTED);
	/* Watched from the start, so that a client's reset is seen before the container answers */
	if (event_add(&rf->ev_rd, NULL) < 0) {
		rf->f = NULL;
		rf->env = NULL;
		rf->fd = -1;
		rf->flags = 0;
		return -ENOMEM;
	}
	f->relay = rf;
	p->live++;
	relay_set_room(rf);
	if (f->state >= TCP_ESTABLISHED) {
		rf->flags |= RF_CONNECTED;
		event_active(&rf->ev_rd, EV_READ, 0);
	}
	return 0;
}
