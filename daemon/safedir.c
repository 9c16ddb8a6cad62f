/* safedir.c - directories the daemon writes in, checked component by component (safedir.h). */
#include "safedir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/**
 * unmapped_uid() - the uid an owner outside our user namespace shows as, if we are in a
 * user namespace other than the host's (a rootless tapird: podman runs it as root of the
 * user's namespace, where the host's root owns "/" but shows as this uid)
 * Return: the overflow uid, or (uid_t)-1 in the host's user namespace (every owner is mapped)
 */
static uid_t unmapped_uid(void)
{
	unsigned long inside, outside, count, overflow = 65534;
	FILE *f = fopen("/proc/self/uid_map", "re");
	int n;

	if (!f)
		return (uid_t)-1;
	n = fscanf(f, "%lu %lu %lu", &inside, &outside, &count);
	fclose(f);
	/* the initial user namespace maps every uid onto itself */
	if (n == 3 && inside == 0 && outside == 0 && count == 4294967295ul)
		return (uid_t)-1;
	f = fopen("/proc/sys/kernel/overflowuid", "re");
	if (f) {
		if (fscanf(f, "%lu", &overflow) != 1)
			overflow = 65534;
		fclose(f);
	}
	return (uid_t)overflow;
}

const char *safedir_trusted(int fd, bool ancestor)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return "cannot be examined (fstat failed)";
	if (!S_ISDIR(st.st_mode))
		return "is not a directory";
	/* In a user namespace our root is no host root: an owner we cannot see (the host's
	 * root, shown as the overflow uid) grants us nothing a symlink could abuse */
	if (st.st_uid != 0 && st.st_uid != geteuid() && st.st_uid != unmapped_uid())
		return "is not owned by root (or the daemon's user)";
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && (!ancestor || !(st.st_mode & S_ISVTX)))
		return "is writable by its group or by others";
	return NULL;
}

int safedir_open(const char *dir, const char *what, unsigned int mkmode, bool sticky_ok,
		 char *err, size_t errlen)
{
	char buf[PATH_MAX];
	const char *why;
	char *comp, *save = NULL;
	int fd, next;

	if (dir[0] != '/' || strlen(dir) >= sizeof(buf)) {
		snprintf(err, errlen, "%s '%.200s' is not an absolute path", what, dir);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", dir);
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (why = safedir_trusted(fd, true))) {
		snprintf(err, errlen, "%s %s: / %s", what, dir, fd < 0 ? strerror(errno) : why);
		goto fail;
	}
	/* One component at a time with O_NOFOLLOW: a symbolic link anywhere on the way, or a
	 * directory someone else may write to, could redirect a root write. */
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool last = save[strspn(save, "/")] == '\0';

		if (!strcmp(comp, ".") || !strcmp(comp, "..")) {
			snprintf(err, errlen, "%s %s: has a '%s' component", what, dir, comp);
			goto fail;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && last && mkmode &&
		    (mkdirat(fd, comp, mkmode) == 0 || errno == EEXIST))
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			snprintf(err, errlen, "%s %s: %s: %s", what, dir, comp,
				 errno == ENOTDIR || errno == ELOOP
					 ? "not a directory (a symbolic link is refused)"
					 : strerror(errno));
			goto fail;
		}
		close(fd);
		fd = next;
		if ((why = safedir_trusted(fd, !last || sticky_ok))) {
			snprintf(err, errlen, "%s %s: %s %s", what, dir, comp, why);
			goto fail;
		}
	}
	/* "/" itself as the directory: it was checked as an ancestor only */
	if ((why = safedir_trusted(fd, sticky_ok))) {
		snprintf(err, errlen, "%s %s %s", what, dir, why);
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}
