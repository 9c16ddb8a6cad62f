/* netns.h - namespaces: open a network namespace by path, enter one by fd, and (in a child
 * process only) join a user namespace and a network namespace for good.
 *
 * setns() moves only the calling thread; tapird is single-threaded, so entering a namespace
 * moves the daemon until it enters its own again. A user namespace cannot be left once
 * joined: netns_join() is for a short-lived child (link_tap_create()). Must not: create or
 * configure interfaces.
 */
#ifndef TAPIR_NETNS_H
#define TAPIR_NETNS_H

#include <stddef.h>

/** NETNS_SELF - the daemon's own network namespace, to return to after configuring a link */
#define NETNS_SELF "/proc/self/ns/net"
/** USERNS_SELF - the process's own user namespace */
#define USERNS_SELF "/proc/self/ns/user"

/**
 * netns_open() - open the namespace file at @path (/run/netns/NAME, /proc/PID/ns/net...)
 * Return: a close-on-exec fd, or -errno
 */
int netns_open(const char *path);

/**
 * netns_enter() - make @fd's network namespace the current one
 * Return: 0, or -errno (-EINVAL: @fd is not a network namespace; -EPERM: no CAP_SYS_ADMIN)
 */
int netns_enter(int fd);

/**
 * netns_join() - join user namespace @userns (unless NULL, "" or the one we are in: a
 * process cannot re-enter its own), then network namespace @netns; one way, for a child
 * @err, @errlen: on failure, the path and the reason ("/proc/42/ns/user: setns: Operation
 * not permitted")
 * Return: 0, or -1
 */
int netns_join(const char *userns, const char *netns, char *err, size_t errlen);

#endif
