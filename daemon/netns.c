/* netns.c - network namespaces: open one by path, enter one by fd. */
#define _GNU_SOURCE /* setns() */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

int netns_open(const char *path)
{
	struct stat st;
	int fd;

	/* The path may come from the control socket at run time: a FIFO would block open()
	 * and with it every link on the loop, a device could react to being opened. A namespace
	 * file (nsfs, or a bind mount of one) is a regular file: refuse anything else unopened,
	 * and open without blocking in case it is swapped between the two calls. */
	if (stat(path, &st))
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

int netns_enter(int fd)
{
	/* CLONE_NEWNET makes the kernel refuse any other kind of namespace with EINVAL */
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}
