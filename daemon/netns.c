/* netns.c - namespaces: open a network namespace by path, enter one by fd, join a user and
 * a network namespace in a child. */
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
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int netns_enter(int fd)
{
	/* CLONE_NEWNET makes the kernel refuse any other kind of namespace with EINVAL */
	return setns(fd, CLONE_NEWNET) ? -errno : 0;
}

/**
 * setns_path() - setns() into the namespace of kind @nstype at @path
 * Return: 0, or -1 with "PATH: what: reason" in @err
 */
static int setns_path(const char *path, int nstype, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = setns(fd, nstype);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path,
			 errno == EINVAL ? (nstype == CLONE_NEWUSER ? "not a user namespace"
								   : "not a network namespace")
					 : strerror(errno));
	close(fd);
	return rc < 0 ? -1 : 0;
}

int netns_join(const char *userns, const char *netns, char *err, size_t errlen)
{
	struct stat self, target;

	if (userns && userns[0]) {
		if (stat(userns, &target) < 0) {
			snprintf(err, errlen, "%s: %s", userns, strerror(errno));
			return -1;
		}
		/* setns() into the user namespace we are in fails with EINVAL: skip it (the
		 * case of a PID whose process shares ours, as slirp4netns's nsenter() allows) */
		if (stat(USERNS_SELF, &self) < 0 || self.st_dev != target.st_dev ||
		    self.st_ino != target.st_ino) {
			if (setns_path(userns, CLONE_NEWUSER, err, errlen))
				return -1;
		}
	}
	return setns_path(netns, CLONE_NEWNET, err, errlen);
}
