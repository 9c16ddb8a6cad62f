/* link.c - one attached container: enter its namespace, create and configure the TAP, come
 * back, and wire the TAP and the stack's timer to the loop.
 *
 * The data path here is the TAP side only: read a batch of frames into one buffer and feed
 * them to the stack; write what the stack emits, dropping (and counting) what the TAP's queue
 * refuses, since TCP retransmits and blocking the loop would stall every other flow.
 */
#include "capture.h"
#include "fwd.h"
#include "link.h"
#include "log.h"
#include "monitor.h"
#include "netlink.h"
#include "netns.h"
#include "pingrelay.h"
#include "reach.h"
#include "relay.h"
#include "stack.h"
#include "tap.h"
#include "tapird.h"
#include "udprelay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Frames per wakeup: enough to amortise the wakeup, few enough that one busy link cannot
 * starve the others and the upstream sockets on the same loop. */
#define LINK_RX_BATCH 64

/* One frame: the largest MTU (65521) plus the Ethernet header is 65535; room to spare for a
 * virtio-net header once offloads are switched on. One buffer serves every link: the loop is
 * single-threaded and stack_input() is done with a frame when it returns. */
static uint8_t link_rxbuf[65536 + 256];

/**
 * link_tx() - ops->tx: write one frame to the TAP, never blocking
 * @ctx:	the link
 */
static void link_tx(void *ctx, const uint8_t *frame, size_t len)
{
	struct link *l = ctx;
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

	for (i = 0; i < LINK_RX_BATCH; i++) {
		n = read(fd, link_rxbuf, sizeof(link_rxbuf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			link_lost(l, errno);
			return;
		}
		if (!n)
			break;
		if (l->capture)
			capture_frame(l, link_rxbuf, (size_t)n);
		stack_input(l->stack, link_rxbuf, (size_t)n, tapird_now_us());
	}
	link_rearm_timer(l);
}

/**
 * link_timer_fired() - the stack's deadline passed: run its timers
 * @arg:	the link
 */
static void link_timer_fired(evutil_socket_t fd, short what, void *arg)
{
	struct link *l = arg;

	stack_tick(l->stack, tapird_now_us());
	link_rearm_timer(l);
}

void link_rearm_timer(struct link *l)
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

/* The TAP child's answer: the TAP's fd rides along as SCM_RIGHTS when @ok */
struct tap_reply {
	int ok;
	int ifindex;
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
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	char why[200];
	int fd = -1, rc;

	rc = netns_join(userns_fd, netns_fd, why, sizeof(why));
	if (rc) {
		/* the reply has room for a path's head and the reason */
		snprintf(rep.err, sizeof(rep.err), "%.160s: %.80s", rc == -1 ? lc->userns : netns,
			 why);
		goto send;
	}
	fd = tap_open(lc->ifname, lc->tap_reuse ? TAP_REUSE : 0);
	if (fd < 0) {
		snprintf(rep.err, sizeof(rep.err), "%s in %s: %s", lc->ifname, netns,
			 strerror(-fd));
		goto send;
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
		};

		if (netlink_configure(&nc, why, sizeof(why))) {
			snprintf(rep.err, sizeof(rep.err), "%s in %s: %s", lc->ifname, netns, why);
			goto send;
		}
	}
	rep.ok = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	CMSG_FIRSTHDR(&msg)->cmsg_level = SOL_SOCKET;
	CMSG_FIRSTHDR(&msg)->cmsg_type = SCM_RIGHTS;
	CMSG_FIRSTHDR(&msg)->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(CMSG_FIRSTHDR(&msg)), &fd, sizeof(int));
send:
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(rep))
		return 2;
	return rep.ok ? 0 : 1;
}

int link_tap_create(const struct link_cfg *lc, const char *netns, int netns_fd, int *ifindex,
		    char *err, size_t errlen)
{
	struct tap_reply rep = { 0 };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &rep, .iov_len = sizeof(rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int sv[2], status, fd = -1, userns_fd = -1;
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
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(rep) || !rep.ok || fd < 0) {
		rep.err[sizeof(rep.err) - 1] = '\0';
		if (n == (ssize_t)sizeof(rep) && rep.err[0])
			snprintf(err, errlen, "%s", rep.err);
		else
			snprintf(err, errlen, "%s in %s: the TAP child died (status %d)",
				 lc->ifname, netns, status);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*ifindex = rep.ifindex;
	return fd;
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
	struct stack_ops ops = { .tx = link_tx, .flow_event = monitor_flow_event };
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
	/* RFC 6528: the ISN key must be secret and unpredictable */
	if (getrandom(sc.secret, sizeof(sc.secret), 0) != (ssize_t)sizeof(sc.secret)) {
		snprintf(err, errlen, "%s: getrandom: %s", l->name, strerror(errno));
		return -1;
	}
	relay_fill_ops(&ops);
	udprelay_fill_ops(&ops); /* after relay_fill_ops: it chains flow_closed */
	pingrelay_fill_ops(&ops);
	l->stack = stack_new(&sc, &ops, l);
	if (!l->stack) {
		snprintf(err, errlen, "%s: cannot create the stack (out of memory?)", l->name);
		return -1;
	}
	return 0;
}

/**
 * same_file() - whether fds @a and @b are the same file (the same namespace, for nsfs files)
 * Return: true if so
 */
static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int link_bind_outbound(const struct link *l, int fd, const struct sockaddr_storage *dst)
{
	struct sockaddr_in src = { .sin_family = AF_INET };

	if (!l->cfg.outbound_addr || dst->ss_family != AF_INET)
		return 0;
	src.sin_addr.s_addr = htonl(l->cfg.outbound_addr);
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
		snprintf(err, errlen, "%s: %s", l->netns,
			 target == -EINVAL ? "not a network namespace" : strerror(-target));
		goto fail;
	}
	if (same_file(self, target)) {
		/* a TAP with a default route via the gateway in tapird's own namespace would
		 * take over the host's routing and relay the relay's own sockets */
		snprintf(err, errlen, "%s: this is tapird's own network namespace", l->netns);
		goto fail;
	}
	l->tap_fd = link_tap_create(lc, l->netns, target, &l->ifindex, err, errlen);
	if (l->tap_fd < 0)
		goto fail;
	l->configured = !lc->no_configure;
	if (link_stack_new(l, err, errlen))
		goto fail;

	l->ev_tap = event_new(d->base, l->tap_fd, EV_READ | EV_PERSIST, link_tap_readable, l);
	l->ev_timer = evtimer_new(d->base, link_timer_fired, l);
	if (!l->ev_tap || !l->ev_timer || event_add(l->ev_tap, NULL)) {
		snprintf(err, errlen, "%s: cannot add events to the loop", l->name);
		goto fail;
	}
	close(target);
	close(self);
	d->links[d->nlinks++] = l;
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
	pingrelay_link_gone(l);
	/* flows first: the relay's flow_closed callbacks release their sockets and events */
	stack_free(l->stack);
	l->stack = NULL;
	reach_link_gone(l);
	if (l->ev_tap)
		event_free(l->ev_tap);
	if (l->ev_timer)
		event_free(l->ev_timer);
	/* A non-persistent TAP disappears with its last fd. */
	if (l->tap_fd >= 0)
		close(l->tap_fd);
	log_info("%s: detached (%llu frames refused by the TAP)", l->name,
		 (unsigned long long)l->tx_errors);
	free(l);
}
