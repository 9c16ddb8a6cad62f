/* pingrelay.c - ICMP echo from the container to other hosts, through unprivileged ping
 * sockets.
 *
 * A ping socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), Linux 3.0+; what ping(8) itself
 * uses without privileges) sends echo requests whose identifier the kernel sets to the
 * socket's own "port", and delivers to it only the echo replies carrying that identifier. So
 * one socket stands for one (destination, container's identifier) pair: the kernel does the
 * matching by identifier, and we map the socket's identifier back to the container's. The
 * sequence number and data travel unchanged (RFC 792: a reply echoes both); a reply is passed
 * on only if it comes from the pinged address and carries a sequence number among the last
 * PINGRELAY_SEQ_WINDOW we sent, so that late strays of an earlier ping do not show.
 *
 * Bounds: at most PINGRELAY_PER_LINK sockets per link and PINGRELAY_SLOTS in all (each is a
 * descriptor); a new pair beyond either evicts the least recently used socket. A socket idle
 * for PINGRELAY_IDLE_S is closed by a sweep timer that runs only while sockets are open.
 *
 * Permission: the kernel allows ping sockets to the groups in net.ipv4.ping_group_range of
 * the daemon's namespace (root gets no exemption; the default range, "1 0", allows no one).
 * Where socket() fails with EACCES or EPERM we say so once in the log, send nothing, and the
 * stack counts the request in drop_icmp_echo_failed. Must not: parse or build frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "icmp.h"
#include "log.h"
#include "pingrelay.h"
#include "relay_env.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

#define PINGRELAY_SLOTS 256       /* sockets in all: descriptors we are willing to spend */
#define PINGRELAY_PER_LINK 64     /* sockets per link: one container cannot take them all */
#define PINGRELAY_IDLE_S 10       /* ping(8) sends every second; 10 s of silence: done */
#define PINGRELAY_SEQ_WINDOW 1024 /* replies accepted for this many of the latest requests */
#define PINGRELAY_BATCH 32        /* replies read per wakeup of one socket */

/**
 * struct ping_sock - one ping socket
 * @l:		its link; NULL when the slot is free
 * @daddr:	the destination (host byte order)
 * @cid:	the container's echo identifier
 * @last_seq:	sequence number of the latest request sent
 * @last_us:	when it was used last (monotonic)
 * @fd:		the socket
 * @ev:		its read event
 */
struct ping_sock {
	struct relay_env *env;
	uint32_t daddr;
	uint16_t cid;
	uint16_t last_seq;
	uint64_t last_us;
	int fd;
	struct event *ev;
};

static struct ping_sock pingrelay_tab[PINGRELAY_SLOTS];
static unsigned int pingrelay_open; /* slots in use */
static struct event *pingrelay_sweep; /* idle sweep, while any socket is open */
static bool pingrelay_denied_logged;
static uint8_t pingrelay_rxbuf[65536];

/**
 * pingrelay_close() - close a socket and free its slot
 * @p:		the slot, in use
 */
static void pingrelay_close(struct ping_sock *p)
{
	event_free(p->ev);
	close(p->fd);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (--pingrelay_open == 0 && pingrelay_sweep) {
		event_free(pingrelay_sweep);
		pingrelay_sweep = NULL;
	}
}

/**
 * pingrelay_sweep_cb() - close the sockets idle for PINGRELAY_IDLE_S
 * @fd:		unused
 * @what:	unused
 * @arg:	unused
 */
static void pingrelay_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	uint64_t now = tapird_now_us();

	(void)fd;
	(void)what;
	(void)arg;
	for (unsigned int i = 0; i < PINGRELAY_SLOTS && pingrelay_open; i++) {
		struct ping_sock *p = &pingrelay_tab[i];

		if (p->env && now - p->last_us >= PINGRELAY_IDLE_S * 1000000ull)
			pingrelay_close(p);
	}
}

/**
 * pingrelay_readable() - replies on a ping socket: pass them to the container
 * @fd:		the socket
 * @what:	EV_READ
 * @arg:	the slot
 */
static void pingrelay_readable(evutil_socket_t fd, short what, void *arg)
{
	struct ping_sock *p = arg;
	struct relay_env *env = p->env;

	(void)what;
	for (int i = 0; i < PINGRELAY_BATCH; i++) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		uint16_t seq;
		ssize_t n;

		n = recvfrom(fd, pingrelay_rxbuf, sizeof(pingrelay_rxbuf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN)
				break;
			/* an ICMP error about a request (host unreachable...) fails one recv()
			 * and is then cleared: the container's ping times out, as it would */
			continue;
		}
		/* the kernel hands us the ICMP message without the IP header, and only echo
		 * replies with our socket's identifier */
		if ((size_t)n < ICMP_HDR_LEN || pingrelay_rxbuf[0] != ICMP_ECHO_REPLY ||
		    flen < sizeof(from) || from.sin_family != AF_INET ||
		    ntohl(from.sin_addr.s_addr) != p->daddr)
			continue;
		seq = rd16(pingrelay_rxbuf + 6);
		if ((uint16_t)(p->last_seq - seq) >= PINGRELAY_SEQ_WINDOW)
			continue;
		icmp_echo_reply(env->stack, p->daddr, p->cid, seq, pingrelay_rxbuf + ICMP_HDR_LEN,
				(size_t)n - ICMP_HDR_LEN, tapird_now_us());
	}
	relay_env_touched(env);
}

/**
 * pingrelay_slot() - the socket for (@env, @daddr, @cid), opened if needed
 * @env:	the link
 * @daddr:	destination
 * @cid:	the container's echo identifier
 * @now:	monotonic microseconds
 * @err:	a negative errno when NULL is returned
 *
 * Return: the slot, or NULL
 */
static struct ping_sock *pingrelay_slot(struct relay_env *env, uint32_t daddr, uint16_t cid,
					uint64_t now, int *err)
{
	struct ping_sock *p, *free_slot = NULL, *lru_link = NULL, *lru_all = NULL;
	unsigned int mine = 0;
	int fd;

	for (unsigned int i = 0; i < PINGRELAY_SLOTS; i++) {
		p = &pingrelay_tab[i];
		if (!p->env) {
			if (!free_slot)
				free_slot = p;
			continue;
		}
		if (p->env == env && p->daddr == daddr && p->cid == cid)
			return p;
		if (!lru_all || p->last_us < lru_all->last_us)
			lru_all = p;
		if (p->env == env) {
			mine++;
			if (!lru_link || p->last_us < lru_link->last_us)
				lru_link = p;
		}
	}

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) {
		*err = -errno;
		if ((errno == EACCES || errno == EPERM) && !pingrelay_denied_logged) {
			pingrelay_denied_logged = true;
			log_warn("ping sockets not permitted (net.ipv4.ping_group_range does not hold"
				 " our group): echo requests to other hosts go unanswered");
		}
		return NULL;
	}
	if (mine >= PINGRELAY_PER_LINK)
		free_slot = lru_link;
	else if (!free_slot)
		free_slot = lru_all;
	if (free_slot->env)
		pingrelay_close(free_slot);
	p = free_slot;

	p->ev = event_new(env->base, fd, EV_READ | EV_PERSIST, pingrelay_readable, p);
	if (!pingrelay_sweep) {
		struct timeval tv = { .tv_sec = PINGRELAY_IDLE_S / 2 };

		pingrelay_sweep = event_new(env->base, -1, EV_PERSIST, pingrelay_sweep_cb, NULL);
		if (pingrelay_sweep && event_add(pingrelay_sweep, &tv)) {
			event_free(pingrelay_sweep);
			pingrelay_sweep = NULL;
		}
	}
	if (!p->ev || !pingrelay_sweep || event_add(p->ev, NULL)) {
		if (p->ev)
			event_free(p->ev);
		p->ev = NULL;
		close(fd);
		if (!pingrelay_open && pingrelay_sweep) {
			event_free(pingrelay_sweep);
			pingrelay_sweep = NULL;
		}
		*err = -ENOMEM;
		return NULL;
	}
	p->env = env;
	p->daddr = daddr;
	p->cid = cid;
	p->fd = fd;
	p->last_us = now;
	pingrelay_open++;
	return p;
}

int pingrelay_echo(struct relay_env *env, uint32_t daddr, uint16_t id, uint16_t seq,
		   const uint8_t *data, size_t len)
{
	uint64_t now = tapird_now_us();
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(daddr) };
	uint8_t hdr[ICMP_HDR_LEN] = { ICMP_ECHO_REQUEST, 0 };
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { (void *)data, len } };
	struct msghdr msg = { .msg_name = &sin, .msg_namelen = sizeof(sin), .msg_iov = iov,
			      .msg_iovlen = 2 };
	struct ping_sock *p;
	int err = 0;

	p = pingrelay_slot(env, daddr, id, now, &err);
	if (!p)
		return err;
	/* the kernel fills in the checksum and replaces the identifier */
	wr16(hdr + 4, id);
	wr16(hdr + 6, seq);
	if (sendmsg(p->fd, &msg, MSG_DONTWAIT) < 0)
		return -errno;
	p->last_seq = seq;
	p->last_us = now;
	return 0;
}

void pingrelay_env_gone(const struct relay_env *env)
{
	for (unsigned int i = 0; i < PINGRELAY_SLOTS && pingrelay_open; i++)
		if (pingrelay_tab[i].env == env)
			pingrelay_close(&pingrelay_tab[i]);
}
