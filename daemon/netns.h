/* netns.h - namespaces: open a namespace file by path, enter a network namespace by fd, and
 * (in a child process only) join a user namespace and a network namespace for good.
 *
 * setns() moves only the calling thread; tapird is single-threaded, so entering a namespace
 * moves the daemon until it enters its own again. A user namespace cannot be left once
 * joined: netns_join() is for a short-lived child (link_tap_create()). Must not: create or
 * configure interfaces.
 */
#ifndef TAPIR_NETNS_H
#define TAPIR_NETNS_H

#include <stdbool.h>
#include <stddef.h>

/** NETNS_SELF - the daemon's own network namespace, to return to after configuring a link */
#define NETNS_SELF "/proc/self/ns/net"
/** USERNS_SELF - the process's own user namespace */
#define USERNS_SELF "/proc/self/ns/user"

/**
 * netns_open() - open the namespace file at @path (/run/netns/NAME, /proc/PID/ns/net,
 * /proc/PID/ns/user...) without blocking; anything but a regular file (a FIFO, a device) is
 * refused unopened
 * Return: a close-on-exec fd, or -errno (-EINVAL: not a namespace file)
 */
int netns_open(const char *path);

/**
 * netns_same() - whether namespace fds @a and @b are the same namespace (the same nsfs file)
 * Return: true if so
 */
bool netns_same(int a, int b);

/**
 * netns_enter() - make @fd's network namespace the current one
 * Return: 0, or -errno (-EINVAL: @fd is not a network namespace; -EPERM: no CAP_SYS_ADMIN)
 */
int netns_enter(int fd);

/**
 * netns_join() - join user namespace @userns_fd (unless -1, or the one we are in: a process
 * cannot re-enter its own), then network namespace @netns_fd; one way, for a child
 * @why, @whylen: on failure, the reason ("not a user namespace", "Operation not permitted")
 * Return: 0, -1 (the user namespace failed) or -2 (the network namespace failed)
 */
int netns_join(int userns_fd, int netns_fd, char *why, size_t whylen);

#endif
