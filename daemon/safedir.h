/* safedir.h - open a directory the daemon (root) writes in, only if nobody else could have
 * redirected the write: every component of its path is reached with O_NOFOLLOW and is owned
 * by root (or the daemon's uid) and writable by nobody else. Used for the capture directory
 * and the control socket's directory (issue 14, findings 1 and 6).
 *
 * An ancestor may be world-writable if it is sticky (/tmp): there nobody else can rename or
 * remove our entry. The directory itself must not be group- or world-writable at all, unless
 * the caller allows a sticky one (@sticky_ok: the control socket's, where the entry is one
 * socket that only its owner can remove or replace, so /tmp/x.sock serves tests and benches;
 * never the capture directory, where the daemon creates files by name).
 * Must not: follow a symbolic link, or create anything but the last component.
 */
#ifndef TAPIR_SAFEDIR_H
#define TAPIR_SAFEDIR_H

#include <stdbool.h>
#include <stddef.h>

/**
 * safedir_open() - open the directory @dir after checking every component of its path
 * @dir:	absolute path; "." and ".." components are refused
 * @what:	what the directory is, for messages ("capture directory")
 * @mkmode:	create the last component with this mode if it is missing (0: do not)
 * @sticky_ok:	the directory itself may be a sticky, world-writable one owned by root
 * @err, @errlen: on failure, "WHAT DIR: COMPONENT reason"
 * Return: a descriptor (O_DIRECTORY, O_CLOEXEC), or -1 with @err set
 */
int safedir_open(const char *dir, const char *what, unsigned int mkmode, bool sticky_ok,
		 char *err, size_t errlen);

/**
 * safedir_trusted() - whether the directory open at @fd is owned by root or the daemon's uid
 * and writable by nobody else (@ancestor: a sticky world-writable one is acceptable)
 * Return: NULL if trusted, else what is wrong (static text)
 */
const char *safedir_trusted(int fd, bool ancestor);

#endif
