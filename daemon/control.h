/* control.h - the control socket: newline-delimited JSON, QMP-style envelope (DESIGN.md).
 *
 * Request {"execute": CMD, "arguments": {...}} → {"return": ...} or
 * {"error": {"class": ..., "desc": ...}}. Several requests per connection; requests over
 * CTL_MAX_REQUEST bytes, malformed JSON, unknown commands and bad arguments get an error and
 * the daemon keeps serving. Must not: block the loop, or let a slow client hold memory
 * without bound.
 */
#ifndef TAPIR_CONTROL_H
#define TAPIR_CONTROL_H

#include <stddef.h>
#include <sys/types.h>

#define CTL_MAX_REQUEST (64 * 1024) /* bytes in one request line */
#define CTL_MAX_CLIENTS 64          /* concurrent control connections */
/* One user's terminals and scripts, not the whole table (issue 14, finding 6). */
#define CTL_MAX_CLIENTS_PER_UID 16 /* concurrent connections of one uid other than root */
#define CTL_ROOT_RESERVE 8         /* of CTL_MAX_CLIENTS, only root may take the last ones */
/* A connection that sends no complete request this long is closed (watchers excepted). */
#define CTL_IDLE_TIMEOUT_MS 30000

struct tapird;
struct ctl_server;

/**
 * ctl_server_new() - listen on @path (parent directory created 0755 if missing, socket mode
 * 0660, group d->cfg.control_group if set), on d->base. Refuses a directory that is not
 * root's (or the daemon's uid's) or that others may write to, anywhere on the path (safedir.h);
 * resolves cfg.admin_group's gid here, once.
 * Return: the server, or NULL with "PATH: reason" in @err
 */
struct ctl_server *ctl_server_new(struct tapird *d, const char *path, char *err, size_t errlen);

/** ctl_server_set_idle_timeout() - replace CTL_IDLE_TIMEOUT_MS for connections made from now
 * on (tests; the default suits the daemon) */
void ctl_server_set_idle_timeout(struct ctl_server *srv, unsigned int ms);

/** ctl_server_free() - close every client and the listener, unlink the socket */
void ctl_server_free(struct ctl_server *c);

/**
 * ctl_handle_line() - answer one request line as the server would, without a socket
 * @uid, @gid:	the peer's credentials (SO_PEERCRED), for commands that mutate: uid 0, or
 *		@gid equal to the admin group's resolved by the running server (d->ctl)
 * Return: the reply as one malloc'd JSON line without the newline (never NULL)
 */
char *ctl_handle_line(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid);

#endif
