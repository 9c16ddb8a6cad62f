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

struct tapird;
struct ctl_server;

/**
 * ctl_server_new() - listen on @path (parent directory created 0755 if missing, socket mode
 * 0660, group d->cfg.control_group if set), on d->base
 * Return: the server, or NULL with "PATH: reason" in @err
 */
struct ctl_server *ctl_server_new(struct tapird *d, const char *path, char *err, size_t errlen);

/** ctl_server_free() - close every client and the listener, unlink the socket */
void ctl_server_free(struct ctl_server *c);

/**
 * ctl_handle_line() - answer one request line as the server would, without a socket
 * @uid, @gid:	the peer's credentials (SO_PEERCRED), for commands that mutate
 * Return: the reply as one malloc'd JSON line without the newline (never NULL)
 */
char *ctl_handle_line(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid);

#endif
