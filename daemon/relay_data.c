/* relay_data.c - the bytes through a TCP flow's host socket (relay.c holds the socket's life;
 * relay_internal.h says what the two share).
 *
 * Buffers (the passt way). The kernel's socket buffers are the only buffers between the
 * container and the host peer; tapird keeps no copy of the byte stream anywhere:
 *
 *  - Upstream to container: data stays in the host socket's receive queue until the container
 *    acknowledges it. We tell the stack how much the queue holds (SIOCINQ, on each read edge:
 *    tcp_upstream_set_avail); it lays out segments for what the container's window allows, and when
 *    the link sends the batch, relay_tcp_fill() reads the bytes of consecutive segments with one
 *    recvmsg(MSG_PEEK) straight into their frames. With SO_PEEK_OFF (TCP since Linux 6.9) the
 *    kernel keeps a peek offset for us: every successful peek advances it, and every discarding
 *    read moves it back by the bytes discarded (clamped at 0; checked on 6.18 with a 100-byte
 *    stream: offset 25, discard 5 -> 20; discard 50 -> 0). So we only setsockopt(SO_PEEK_OFF) when
 *    the stack asks for another offset than the one the kernel holds (a retransmission, a window
 *    probe); the common case is one recvmsg() per batch of segments. Without SO_PEEK_OFF we peek
 *    from 0 with the first @off bytes landing in a discard buffer (what passt did before 6.9):
 *    correct, but O(window) per peek. When the container ACKs @n bytes, tcp_consume() drops them
 *    with recv(MSG_TRUNC), which on TCP discards without copying. A retransmission is a peek at a
 *    smaller offset: nothing to keep. The kernel's receive window to the upstream peer closes when
 *    the container stops acknowledging, so flow control is end to end.
 *
 *  - Container to upstream: tcp_deliver() send()s the in-order payload the stack hands us and
 *    returns what the kernel took; the stack acknowledges only that. A send() that fails for
 *    good (the peer reset the connection) returns the errno instead, and the stack resets the
 *    container's side of the flow at once. The window the stack offers to the container is
 *    bounded by the room we give it (tcp_upstream_set_room): what the send buffer would still
 *    accept, measured once per batch for the flows that were written to (relay_tcp_refresh),
 *    and when the socket turns writable.
 *
 * Must not: parse or build frames.
 */

#include <errno.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "log.h"
#include "relay.h"
#include "relay_env.h"
#include "relay_internal.h"
#include "stack.h"
#include "tcp.h"

#ifndef SO_PEEK_OFF
#define SO_PEEK_OFF 42
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
/* Indices into the SO_MEMINFO array (linux/sock_diag.h) */
#define RELAY_MEMINFO_SNDBUF 3
#define RELAY_MEMINFO_WMEM_QUEUED 5
#define RELAY_MEMINFO_VARS 9

/* Without SO_PEEK_OFF: the first @off bytes of a peek land in this buffer, repeated as often
 * as needed in one iovec array, so the largest offset is DISCARD_LEN * (DISCARD_IOV - 1). */
#define RELAY_DISCARD_LEN 65536
#define RELAY_DISCARD_IOV 1024

/* The room offered as window, in payload bytes: what the memory free in the send buffer holds
 * at the payload/memory ratio of what is queued, less 1/RELAY_ROOM_MARGIN_DIV for the ratio
 * to move; with nothing queued, 1/RELAY_ROOM_UNKNOWN_DIV of it is taken as overhead first. */
#define RELAY_ROOM_MARGIN_DIV 16
/* A send of at most RELAY_EST_SEND bytes is charged RELAY_SEND_COST more than its payload
 * against the room last measured, instead of having the kernel measure it again: the cost of
 * an sk_buff of its own (its head, ~1 KiB on 6.18, and the page fragment it starts), so the
 * estimate stays below what the kernel would say. Only while the estimate keeps at least half
 * of the measured room: request/response traffic then asks SO_MEMINFO and SIOCOUTQ once per
 * several requests, not twice per request; bulk sends are measured as before. */
#define RELAY_EST_SEND 4096u
#define RELAY_SEND_COST 4096u
#define RELAY_ROOM_UNKNOWN_DIV 4
/* Frames one recvmsg(MSG_PEEK) fills at most (a transmit batch is no longer) */
#define RELAY_FILL_MAX 64

/* SO_PEEK_OFF support: 0 unknown, 1 yes, -1 no (fallback, logged once) */
static int relay_peek_off_ok;
static uint8_t relay_discard[RELAY_DISCARD_LEN];

/**
 * relay_peek_init() - start TCP socket @fd's peek offset at 0, and learn (once) whether the
 * kernel keeps one for us (SO_PEEK_OFF on TCP, Linux 6.9)
 */
void relay_peek_init(int fd)
{
	int zero = 0;

	if (relay_peek_off_ok >= 0) {
		if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)) == 0) {
			relay_peek_off_ok = 1;
		} else {
			relay_peek_off_ok = -1;
			log_warn("relay: SO_PEEK_OFF on TCP sockets not supported (%s, kernel < 6.9?):"
				 " peeking from the start of the queue instead, slower on wide"
				 " windows", strerror(errno));
		}
	}
}

/**
 * relay_room() - bytes the send buffer of @rf would still take
 *
 * The kernel accepts a send() while the bytes queued, counted with their buffer overhead
 * (sk_wmem_queued), are below the send buffer (sk_sndbuf, already doubled by the kernel to
 * cover that overhead); the last buffer may overshoot, so the free space in those units is
 * a safe lower bound on the payload that fits (measured on 6.18 loopback: 37733 free, 44032
 * taken). One getsockopt(SO_MEMINFO) gives both numbers: one syscall where SO_SNDBUF plus
 * SIOCOUTQ would be two, and SIOCOUTQ counts payload, not what the limit is applied to.
 * Asked once per batch for the flows written to in it, and when the socket turns writable:
 * the stack takes what it delivers off the figure in between.
 */
static uint32_t relay_room(struct relay_flow *rf)
{
	uint32_t mem[RELAY_MEMINFO_VARS] = { 0 };
	socklen_t sl = sizeof(mem);
	int64_t sndbuf, queued, room;
	int outq = 0;

	if (!rf || rf->fd < 0 || (rf->flags & RF_WR_SHUT))
		return 0;
	if (getsockopt(rf->fd, SOL_SOCKET, SO_MEMINFO, mem, &sl) < 0 ||
	    sl <= RELAY_MEMINFO_WMEM_QUEUED * sizeof(uint32_t))
		return 0;

	sndbuf = mem[RELAY_MEMINFO_SNDBUF];
	queued = mem[RELAY_MEMINFO_WMEM_QUEUED];
	room = sndbuf - queued;

	/* Not writable by the kernel's own measure (sk_stream_is_writeable(): free space at
	 * least half of what is queued): have the stack told when it is, so that it reopens the
	 * window it is now shrinking. Past that mark the event would fire at once, so don't. */
	if (room < queued / 2)
		relay_want_write(rf);

	if (room <= 0)
		return 0;
	/* The stack offers this as window and never takes an offer back (RFC 9293 3.8.6.2.2),
	 * so it must be payload that fits, not memory: each byte costs its share of the buffer
	 * overhead too (sk_buff heads). Scale by what is queued now, payload (SIOCOUTQ) over
	 * memory (measured on 6.18 loopback: 2% over at MTU 1500 while the peer is stalled,
	 * which made a 4 MiB window promise ~80 KiB it could not take), less a sixteenth for
	 * the ratio to move; with nothing queued, assume a quarter of overhead (small segments
	 * each in a buffer of its own). */
	if (queued > 0 && ioctl(rf->fd, SIOCOUTQ, &outq) == 0 && outq > 0 && outq < queued)
		room = room * outq / queued;
	else
		room -= room / RELAY_ROOM_UNKNOWN_DIV;
	room -= room / RELAY_ROOM_MARGIN_DIV;
	return room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
}

/** relay_set_room() - give the stack @rf's room (tcp_upstream_set_room), measured now */
void relay_set_room(struct relay_flow *rf)
{
	rf->flags &= ~(RF_ROOM_STALE | RF_ROOM_MEASURE);
	rf->room_meas = relay_room(rf);
	rf->room_est = rf->room_meas;
	tcp_upstream_set_room(rf->env->stack, rf->f, rf->room_meas);
}

/**
 * relay_room_used() - @n bytes went into @rf's send buffer: the room shrank by more than the
 * payload (the kernel counts its buffers). Before the batch's ACKs carry a window the stack
 * gets the room again: estimated for a small send while that leaves half the measured room
 * (RELAY_EST_SEND), else measured.
 */
static void relay_room_used(struct relay_flow *rf, size_t n)
{
	struct relay_pool *p = rf->pool;
	uint64_t cost = (uint64_t)n + RELAY_SEND_COST;

	if (n <= RELAY_EST_SEND && rf->room_est >= cost &&
	    rf->room_est - cost >= rf->room_meas / 2)
		rf->room_est -= (uint32_t)cost;
	else
		rf->flags |= RF_ROOM_MEASURE;
	if (rf->flags & RF_ROOM_STALE)
		return;
	if (p && p->nstale < RELAY_STALE_MAX) {
		rf->flags |= RF_ROOM_STALE;
		p->stale[p->nstale++] = rf->f->idx;
	} else {
		relay_set_room(rf);
	}
}

/**
 * relay_set_avail() - give the stack what @rf's receive queue holds (tcp_upstream_set_avail):
 * SIOCINQ counts the bytes not yet discarded, peeked or not, without the FIN
 * Return: that count, or -1 when it could not be asked
 */
int relay_set_avail(struct relay_flow *rf)
{
	int inq = 0;

	if (rf->fd < 0 || ioctl(rf->fd, SIOCINQ, &inq) < 0 || inq < 0)
		return -1;
	tcp_upstream_set_avail(rf->env->stack, rf->f, (uint32_t)inq);
	return inq;
}

void relay_tcp_refresh(const struct relay_env *env)
{
	struct relay_pool *p = relay_pool_find(env);

	if (!p)
		return;
	for (unsigned int i = 0; i < p->nstale; i++) {
		struct relay_flow *rf = &p->slot[p->stale[i]];

		if (!rf->f || rf->fd < 0 || !(rf->flags & RF_ROOM_STALE))
			continue;
		if (rf->flags & RF_ROOM_MEASURE) {
			relay_set_room(rf);
		} else {
			rf->flags &= ~RF_ROOM_STALE;
			tcp_upstream_set_room(rf->env->stack, rf->f, rf->room_est);
		}
	}
	p->nstale = 0;
}

ssize_t relay_tcp_deliver(struct flow *f, const uint8_t *data, size_t len)
{
	struct relay_flow *rf = f->relay;
	ssize_t n;

	/* Closed, or shut for writing (the container's FIN went upstream): nothing more ever
	 * goes through this socket */
	if (!rf || rf->fd < 0 || (rf->flags & RF_WR_SHUT))
		return -EPIPE;
	/* A forward's client before the container's connection is established: not yet */
	if (!(rf->flags & RF_CONNECTED) || !len)
		return 0;

	do
		n = send(rf->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);

	if (n < 0) {
		int err = errno;

		if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
			relay_want_write(rf);
			return 0;
		}
		/* Reset by the peer (ECONNRESET, then EPIPE) or failed: the socket will take
		 * nothing more. The stack resets the container and releases the flow now; the
		 * error is not reported again from the loop (send() has consumed SO_ERROR). */
		log_debug("flow %llu: upstream %s", (unsigned long long)f->id, strerror(err));
		return -err;
	}
	if ((size_t)n < len)
		relay_want_write(rf);
	relay_room_used(rf, (size_t)n);
	return n;
}

/**
 * relay_peek_fallback() - peek without SO_PEEK_OFF: from the start of the queue, with the
 * first @off bytes going to the discard buffer
 * @rf:		the flow
 * @off:	bytes to skip
 * @dst:	where the bytes after them go
 * @ndst:	entries in @dst (at most RELAY_FILL_MAX)
 * Return: bytes placed in @dst, or -1 with errno
 */
static ssize_t relay_peek_fallback(struct relay_flow *rf, uint32_t off, const struct iovec *dst,
				   unsigned int ndst)
{
	static struct iovec iov[RELAY_DISCARD_IOV + RELAY_FILL_MAX];
	struct msghdr mh = { .msg_iov = iov };
	size_t skip = off, i = 0;
	ssize_t n;

	while (skip) {
		size_t chunk = skip < RELAY_DISCARD_LEN ? skip : RELAY_DISCARD_LEN;

		if (i == RELAY_DISCARD_IOV - 1) {
			errno = EAGAIN; /* beyond what one peek can skip */
			return -1;
		}
		iov[i].iov_base = relay_discard;
		iov[i].iov_len = chunk;
		skip -= chunk;
		i++;
	}
	memcpy(iov + i, dst, ndst * sizeof(*dst));
	mh.msg_iovlen = i + ndst;

	n = recvmsg(rf->fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return -1;
	return n > (ssize_t)off ? n - off : 0;
}

/**
 * relay_peek() - copy upstream bytes from @off after what the container acknowledged into
 * @dst, without consuming them
 * Return: bytes copied, or -1 with errno
 */
static ssize_t relay_peek(struct relay_flow *rf, uint32_t off, const struct iovec *dst,
			  unsigned int ndst)
{
	struct msghdr mh = { .msg_iov = (struct iovec *)dst, .msg_iovlen = ndst };
	ssize_t n;

	if (relay_peek_off_ok <= 0)
		return relay_peek_fallback(rf, off, dst, ndst);
	if (rf->peek_off != off) {
		int o = (int)off;

		if (o < 0 || setsockopt(rf->fd, SOL_SOCKET, SO_PEEK_OFF, &o, sizeof(o)) < 0)
			return -1;
		rf->peek_off = off;
	}
	do
		n = recvmsg(rf->fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		rf->peek_off += (uint32_t)n;
	return n;
}

unsigned int relay_tcp_fill(struct stack_frame *fr, unsigned int n)
{
	struct flow *f = fr[0].fill_flow;
	struct relay_flow *rf = f->relay;
	struct iovec iov[RELAY_FILL_MAX];
	unsigned int i, done = 0;
	size_t got;
	uint32_t off;
	ssize_t r;

	if (n > RELAY_FILL_MAX)
		n = RELAY_FILL_MAX;
	if (!rf || rf->f != f || rf->fd < 0 || !(rf->flags & RF_CONNECTED) ||
	    !tcp_fill_offset(f, fr[0].fill_seq, &off))
		goto drop;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = fr[i].data + fr[i].fill_at;
		iov[i].iov_len = fr[i].fill_len;
	}
	r = relay_peek(rf, off, iov, n);
	got = r > 0 ? (size_t)r : 0;
	for (i = 0; i < n && got >= fr[i].fill_len; i++)
		got -= fr[i].fill_len;
	done = i;
	if (done < n) {
		/* The stack only asks for bytes SIOCINQ counted, which stay until we discard
		 * them: a short peek means the socket failed under us. */
		relay_mark_reset(rf, r < 0 && errno != EAGAIN ? errno : EIO);
	}
drop:
	for (i = done; i < n; i++)
		fr[i].len = 0;
	return n;
}

void relay_tcp_consume(struct flow *f, uint32_t n)
{
	struct relay_flow *rf = f->relay;

	if (!rf || rf->fd < 0)
		return;

	while (n) {
		ssize_t r = recv(rf->fd, NULL, n, MSG_TRUNC | MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* the stack acknowledged bytes it never peeked: its bug, not fatal */
			log_debug("flow %llu: consume %u: %s", (unsigned long long)f->id, n,
				  r ? strerror(errno) : "end of stream");
			break;
		}
		/* the kernel moves SO_PEEK_OFF back by what was discarded, clamped at 0 */
		rf->peek_off = rf->peek_off > (uint32_t)r ? rf->peek_off - (uint32_t)r : 0;
		n -= r;
	}
	relay_maybe_close_early(rf, -1);
}
