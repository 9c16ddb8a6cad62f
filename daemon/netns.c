/* netns.c - namespaces: open a namespace file by path, enter a network namespace by fd, join
 * a user and a network namespace in a child. */
#define _GNU_SOURCE /* setns() */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
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

bool netns_same(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

int netns_join(int userns_fd, int netns_fd, char *why, size_t whylen)
{
	struct stat self, target;

	if (userns_fd >= 0) {
		if (fstat(userns_fd, &target) < 0) {
			snprintf(why, whylen, "%s", strerror(errno));
			return -1;
		}
		/* setns() into the user namespace we are in fails with EINVAL: skip it (a PID
		 * whose process shares ours, as slirp4netns's nsenter() allows) */
		if ((stat(USERNS_SELF, &self) < 0 || self.st_dev != target.st_dev ||
		     self.st_ino != target.st_ino) &&
		    setns(userns_fd, CLONE_NEWUSER) < 0) {
			snprintf(why, whylen, "%s",
				 errno == EINVAL ? "not a user namespace" : strerror(errno));
			return -1;
		}
	}
	/* CLONE_NEWNET makes the kernel refuse any other kind of namespace with EINVAL */
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		snprintf(why, whylen, "%s",
			 errno == EINVAL ? "not a network namespace" : strerror(errno));
		return -2;
	}
	return 0;
}
