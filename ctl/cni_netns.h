/* cni_netns.h - what the kernel shows inside a container's network namespace: one
 * interface's index, state, MAC and IPv4 addresses (getifaddrs() run in the namespace), and
 * whether two paths name the same namespace.
 *
 * Needs CAP_SYS_ADMIN (setns), as every CNI plugin that enters the container has.
 * Must not: change anything in the namespace; it returns to the caller's namespace before
 * it returns.
 */
#ifndef TAPIR_CTL_CNI_NETNS_H
#define TAPIR_CTL_CNI_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include "cni.h"

/**
 * cni_netns_iface() - read interface @ifname inside the namespace at @netns
 * @out:	filled when found
 * @found:	set to whether the namespace has an interface of that name
 * @err, @errlen: "NETNS: No such file or directory" on failure
 * Return: 0, or -1 if the namespace cannot be entered or read
 */
int cni_netns_iface(const char *netns, const char *ifname, struct cni_iface *out, bool *found,
		    char *err, size_t errlen);

/**
 * cni_netns_same() - @a and @b are the same namespace (the same nsfs inode), or, if either
 * cannot be looked at, the same path
 */
bool cni_netns_same(const char *a, const char *b);

#endif
