/* netns.h - network namespaces: open one by path, enter one by fd.
 *
 * setns() moves only the calling thread; tapird is single-threaded, so entering a namespace
 * moves the daemon until it enters its own again. Must not: create or configure interfaces.
 */
#ifndef TAPIR_NETNS_H
#define TAPIR_NETNS_H

/** NETNS_SELF - the daemon's own network namespace, to return to after configuring a link */
#define NETNS_SELF "/proc/self/ns/net"

/**
 * netns_open() - open the namespace file at @path (/run/netns/NAME, /proc/PID/ns/net...)
 * without blocking; anything but a regular file (a FIFO, a device) is refused unopened
 * Return: a close-on-exec fd, or -errno (-EINVAL: not a namespace file)
 */
int netns_open(const char *path);

/**
 * netns_enter() - make @fd's network namespace the current one
 * Return: 0, or -errno (-EINVAL: @fd is not a network namespace; -EPERM: no CAP_SYS_ADMIN)
 */
int netns_enter(int fd);

#endif
