/* cni_netns.c - one interface as the container's namespace shows it (see cni_netns.h) */
#define _GNU_SOURCE /* setns() */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cni_netns.h"

/**
 * prefix_len() - the prefix length of IPv4 netmask @m
 */
static int prefix_len(const struct sockaddr *m)
{
	uint32_t v = m ? ntohl(((const struct sockaddr_in *)(const void *)m)->sin_addr.s_addr) : 0;
	int n = 0;

	while (v & 0x80000000u) {
		n++;
		v <<= 1;
	}
	return n;
}

/**
 * collect() - the entries of @list that belong to @ifname, into @out
 * Return: whether there was any (getifaddrs() lists an AF_PACKET entry, with the index and
 * the MAC, for every interface)
 */
static bool collect(const struct ifaddrs *list, const char *ifname, struct cni_iface *out)
{
	bool found = false;

	memset(out, 0, sizeof(*out));
	for (const struct ifaddrs *i = list; i; i = i->ifa_next) {
		if (!i->ifa_name || strcmp(i->ifa_name, ifname))
			continue;
		found = true;
		out->up = i->ifa_flags & IFF_UP;
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const void *)i->ifa_addr;

			out->ifindex = ll->sll_ifindex;
			if (ll->sll_halen == 6)
				snprintf(out->mac, sizeof(out->mac),
					 "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
					 ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3],
					 ll->sll_addr[4], ll->sll_addr[5]);
		} else if (i->ifa_addr->sa_family == AF_INET && out->naddrs < CNI_MAX_IPS) {
			char a[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)i->ifa_addr)
						   ->sin_addr,
				  a, sizeof(a));
			snprintf(out->addrs[out->naddrs++], sizeof(out->addrs[0]), "%s/%d", a,
				 prefix_len(i->ifa_netmask));
		}
	}
	return found;
}

int cni_netns_iface(const char *netns, const char *ifname, struct cni_iface *out, bool *found,
		    char *err, size_t errlen)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), target, rc = -1;
	struct ifaddrs *list = NULL;

	*found = false;
	if (self < 0) {
		snprintf(err, errlen, "/proc/self/ns/net: %s", strerror(errno));
		return -1;
	}
	target = open(netns, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		snprintf(err, errlen, "%s: %s", netns, strerror(errno));
		close(self);
		return -1;
	}
	if (setns(target, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "%s: entering the namespace: %s", netns, strerror(errno));
		goto out;
	}
	/* getifaddrs() asks the netlink of the namespace the thread is in: the container's */
	if (getifaddrs(&list) < 0)
		snprintf(err, errlen, "%s: listing interfaces: %s", netns, strerror(errno));
	else
		rc = 0;
	if (setns(self, CLONE_NEWNET) < 0) {
		/* nothing after this may run in the container's namespace */
		snprintf(err, errlen, "returning from %s: %s", netns, strerror(errno));
		rc = -1;
	}
	if (!rc)
		*found = collect(list, ifname, out);
	if (list)
		freeifaddrs(list);
out:
	close(target);
	close(self);
	return rc;
}

bool cni_netns_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return !strcmp(a, b);
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
