/* netns.c - network namespaces: open one by path, enter one by fd. */
#define _GNU_SOURCE /* setns() */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>

int netns_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_enter(int fd)
{
	/* CLONE_NEWNET makes the kernel refuse any other kind of namespace with EINVAL */
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}
