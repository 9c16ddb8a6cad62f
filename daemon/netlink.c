/* netlink.c - configure an interface of the current network namespace with libnl-route;
 * read its MTU and follow changes to it. */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>

#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

/**
 * nl_ip4() - an IPv4 nl_addr of @addr/@prefix_len
 * Return: the address (caller puts it), or NULL
 */
static struct nl_addr *nl_ip4(uint32_t addr, unsigned int prefix_len)
{
	uint32_t be = htonl(addr);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (a)
		nl_addr_set_prefixlen(a, (int)prefix_len);
	return a;
}

/* Metric of our static IPv6 default route: after the router advertisement's 1024 */
#define NETLINK_ROUTE6_METRIC 2048

/**
 * default_route_add() - a default route via @gw on @ifindex, in the main table
 * @family:	AF_INET or AF_INET6
 * @dst:	the family's any address with prefix length 0, taken over (NULL: out of memory)
 * @gw:		the gateway, taken over (NULL: out of memory)
 * @metric:	its priority, 0 for the kernel's default
 * Return: 0 or a negative libnl error
 */
static int default_route_add(struct nl_sock *sk, int ifindex, int family, struct nl_addr *dst,
			     struct nl_addr *gw, uint32_t metric)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	int err = -NLE_NOMEM;

	if (!r || !dst || !gw || !nh)
		goto out;
	rtnl_route_set_family(r, (uint8_t)family);
	rtnl_route_set_table(r, RT_TABLE_MAIN);
	rtnl_route_set_scope(r, RT_SCOPE_UNIVERSE);
	rtnl_route_set_type(r, RTN_UNICAST);
	rtnl_route_set_protocol(r, RTPROT_BOOT);
	if (metric)
		rtnl_route_set_priority(r, metric);
	err = rtnl_route_set_dst(r, dst);
	if (err)
		goto out;
	rtnl_route_nh_set_ifindex(nh, ifindex);
	rtnl_route_nh_set_gateway(nh, gw);
	rtnl_route_add_nexthop(r, nh);
	nh = NULL;	/* the route owns it now */
	err = rtnl_route_add(sk, r, NLM_F_EXCL);
out:
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(gw);
	nl_addr_put(dst);
	rtnl_route_put(r);
	return err;
}

/**
 * route6_add() - the IPv6 default route via @cfg->gateway6 on @cfg->ifindex. A router
 * advertisement installs the same route (proto ra, metric 1024) when the container accepts
 * them; this one makes IPv6 work at once and where it does not (forwarding on, accept_ra
 * off). Its metric is another (NETLINK_ROUTE6_METRIC): Linux gives up on the whole router
 * advertisement, prefix and all, when it cannot add its own default route beside an equal
 * one (ndisc_router_discovery(): "failed to add default route").
 * Return: 0 or a negative libnl error
 */
static int route6_add(struct nl_sock *sk, const struct netlink_ifcfg *cfg)
{
	static const uint8_t any[16];
	struct nl_addr *dst = nl_addr_build(AF_INET6, any, 16);

	if (dst)
		nl_addr_set_prefixlen(dst, 0);
	return default_route_add(sk, cfg->ifindex, AF_INET6, dst,
				 nl_addr_build(AF_INET6, cfg->gateway6, 16), NETLINK_ROUTE6_METRIC);
}

/**
 * link_up() - set the MTU (0: keep), the MAC (NULL: keep) and IFF_UP in one RTM_NEWLINK
 * @ifindex:	the interface
 * Return: 0 or a negative libnl error
 */
static int link_up(struct nl_sock *sk, int ifindex, uint32_t mtu, const uint8_t *mac)
{
	struct rtnl_link *orig = NULL, *change;
	struct nl_addr *ll = NULL;
	int err;

	err = rtnl_link_get_kernel(sk, ifindex, NULL, &orig);
	if (err < 0)
		return err;
	change = rtnl_link_alloc();
	if (mac)
		ll = nl_addr_build(AF_LLC, mac, 6);
	if (!change || (mac && !ll)) {
		err = -NLE_NOMEM;
		goto out;
	}
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	if (ll)
		rtnl_link_set_addr(change, ll);
	rtnl_link_set_flags(change, IFF_UP);
	err = rtnl_link_change(sk, orig, change, 0);
out:
	nl_addr_put(ll);
	rtnl_link_put(change);
	rtnl_link_put(orig);
	return err;
}

/**
 * addr_add() - add address @local to @ifindex (an IPv4 one adds its connected route too)
 * @family:	AF_INET or AF_INET6
 * @local:	the address with its prefix length; the reference is taken over (NULL: out of
 *		memory)
 * @flags:	IFA_F_* flags (IFA_F_NODAD for the IPv6 address: the stack never answers a
 *		probe for it, and DAD would hold it tentative for a second)
 * Return: 0 or a negative libnl error
 */
static int addr_add(struct nl_sock *sk, int ifindex, int family, struct nl_addr *local,
		    unsigned int flags)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	int err = -NLE_NOMEM;

	if (a && local) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_family(a, family);
		if (flags)
			rtnl_addr_set_flags(a, flags);
		err = rtnl_addr_set_local(a, local);
		if (!err)
			err = rtnl_addr_add(sk, a, 0);
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err;
}

/**
 * route_add() - the default route via @cfg->gateway on @cfg->ifindex, in the main table
 * Return: 0 or a negative libnl error
 */
static int route_add(struct nl_sock *sk, const struct netlink_ifcfg *cfg)
{
	return default_route_add(sk, cfg->ifindex, AF_INET, nl_ip4(0, 0), nl_ip4(cfg->gateway, 32),
				 0);
}

int netlink_configure(const struct netlink_ifcfg *cfg, char *why, size_t whylen)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN], a6[INET6_ADDRSTRLEN];
	uint32_t be_a = htonl(cfg->addr), be_g = htonl(cfg->gateway);
	struct nl_addr *local6;
	struct nl_sock *sk;
	int err;

	inet_ntop(AF_INET, &be_a, a, sizeof(a));
	inet_ntop(AF_INET, &be_g, g, sizeof(g));

	sk = nl_socket_alloc();
	if (!sk) {
		snprintf(why, whylen, "netlink: out of memory");
		return -1;
	}
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err < 0) {
		snprintf(why, whylen, "netlink: %s", nl_geterror(err));
		goto out;
	}
	err = link_up(sk, cfg->ifindex, cfg->mtu, cfg->mac);
	if (err < 0) {
		snprintf(why, whylen, "set MTU %u%s and up: %s", cfg->mtu,
			 cfg->mac ? ", MAC" : "", nl_geterror(err));
		goto out;
	}
	err = addr_add(sk, cfg->ifindex, AF_INET, nl_ip4(cfg->addr, cfg->prefix_len), 0);
	if (err < 0) {
		snprintf(why, whylen, "add address %s/%u: %s", a, cfg->prefix_len,
			 nl_geterror(err));
		goto out;
	}
	err = route_add(sk, cfg);
	if (err < 0) {
		snprintf(why, whylen, "add default route via %s: %s", g, nl_geterror(err));
		goto out;
	}
	if (cfg->loopback_up) {
		int lo = (int)if_nametoindex("lo");

		err = lo ? link_up(sk, lo, 0, NULL) : -NLE_OBJ_NOTFOUND;
		if (err < 0) {
			snprintf(why, whylen, "lo up: %s", nl_geterror(err));
			goto out;
		}
	}
	if (!cfg->ipv6)
		goto out;
	inet_ntop(AF_INET6, cfg->addr6, a6, sizeof(a6));
	local6 = nl_addr_build(AF_INET6, cfg->addr6, 16);
	if (local6)
		nl_addr_set_prefixlen(local6, cfg->prefix6_len);
	err = addr_add(sk, cfg->ifindex, AF_INET6, local6, IFA_F_NODAD);
	if (err == -NLE_NOACCESS) {
		/* the kernel's answer when IPv6 is disabled in the container (disable_ipv6 = 1):
		 * it has chosen IPv4 alone, which is no reason to refuse it its network */
		err = 0;
		goto out;
	}
	if (err < 0) {
		snprintf(why, whylen, "add address %s/%u: %s", a6, cfg->prefix6_len,
			 nl_geterror(err));
		goto out;
	}
	err = route6_add(sk, cfg);
	if (err < 0) {
		inet_ntop(AF_INET6, cfg->gateway6, a6, sizeof(a6));
		snprintf(why, whylen, "add IPv6 default route via %s: %s", a6, nl_geterror(err));
	}
out:
	nl_socket_free(sk);
	return err < 0 ? -1 : 0;
}

/* Messages one netlink_watch_read() takes at most: a burst of link changes is rare, and the
 * loop must get back to the data path; what is left stays readable for the next wakeup. */
#define NETLINK_WATCH_BATCH 64

/**
 * nl_errno() - a negative errno for libnl error @err
 * Return: the errno
 */
static int nl_errno(int err)
{
	switch (-err) {
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOACCESS:
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
	case NLE_OBJ_NOTFOUND:
		return -ENODEV;
	case NLE_MSG_OVERFLOW:
	case NLE_DUMP_INTR:
		return -ENOBUFS;
	default:
		return -EIO;
	}
}

int netlink_mtu(int ifindex, uint32_t *mtu)
{
	struct rtnl_link *l = NULL;
	struct nl_sock *sk = nl_socket_alloc();
	int err;

	if (!sk)
		return -ENOMEM;
	err = nl_connect(sk, NETLINK_ROUTE);
	if (err >= 0)
		err = rtnl_link_get_kernel(sk, ifindex, NULL, &l);
	if (err >= 0) {
		*mtu = rtnl_link_get_mtu(l);
		rtnl_link_put(l);
	}
	nl_socket_free(sk);
	return err < 0 ? nl_errno(err) : 0;
}

/**
 * struct watch_ctx - what netlink_watch_read() looks for and found
 * @ifindex:	the interface of interest
 * @mtu:	its MTU as last announced
 * @seen:	an announcement carried it
 */
struct watch_ctx {
	int ifindex;
	uint32_t mtu;
	bool seen;
};

/**
 * watch_msg() - NL_CB_VALID: one message on a watch; an RTM_NEWLINK of the interface of
 * interest that carries IFLA_MTU records it
 * @msg:	the message, libnl has checked its header length
 * @arg:	struct watch_ctx
 * Return: NL_OK, or NL_SKIP for what is ignored
 */
static int watch_msg(struct nl_msg *msg, void *arg)
{
	struct watch_ctx *w = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct sockaddr_nl *src = nlmsg_get_src(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	const struct ifinfomsg *ifi;

	/* Only the kernel speaks for the interface: any process of the container can send to
	 * our port id, and what it says would be hostile input. */
	if (!src || src->nl_pid != 0)
		return NL_SKIP;
	if (h->nlmsg_type != RTM_NEWLINK || nlmsg_parse(h, sizeof(*ifi), tb, IFLA_MAX, NULL) < 0)
		return NL_SKIP;
	ifi = nlmsg_data(h);
	if (ifi->ifi_index != w->ifindex || !tb[IFLA_MTU] ||
	    nla_len(tb[IFLA_MTU]) < (int)sizeof(uint32_t))
		return NL_SKIP;
	w->mtu = nla_get_u32(tb[IFLA_MTU]);
	w->seen = true;
	return NL_OK;
}

int netlink_watch_socket(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* nl_pid 0: the kernel picks our port id */
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct nl_sock *netlink_watch_adopt(int fd)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (!sk) {
		close(fd);
		return NULL;
	}
	/* notifications carry the kernel's sequence numbers, not ours */
	nl_socket_disable_seq_check(sk);
	if (nl_socket_set_fd(sk, NETLINK_ROUTE, fd) < 0) {
		nl_socket_free(sk);
		close(fd);
		return NULL;
	}
	return sk;
}

int netlink_watch_fd(struct nl_sock *sk)
{
	return nl_socket_get_fd(sk);
}

int netlink_watch_read(struct nl_sock *sk, int ifindex, uint32_t *mtu)
{
	struct watch_ctx w = { .ifindex = ifindex };
	int err = 0;

	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, watch_msg, &w);
	for (unsigned int i = 0; i < NETLINK_WATCH_BATCH; i++) {
		err = nl_recvmsgs_default(sk);
		if (err < 0)
			break;
	}
	if (w.seen)
		*mtu = w.mtu;
	if (err < 0 && err != -NLE_AGAIN && !w.seen)
		return nl_errno(err);
	return w.seen ? 1 : 0;
}

int netlink_watch_resync(struct nl_sock *sk, int ifindex)
{
	struct nl_msg *msg = NULL;
	int err;

	err = rtnl_link_build_get_request(ifindex, NULL, &msg);
	if (err < 0)
		return nl_errno(err);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	return err < 0 ? nl_errno(err) : 0;
}

void netlink_watch_close(struct nl_sock *sk)
{
	if (sk)
		nl_socket_free(sk);
}
