/* slirpapi.h - slirp4netns's API socket (--api-socket): add_hostfwd, list_hostfwd,
 * remove_hostfwd, answered exactly as slirp4netns 1.2 answers them.
 *
 * slirp4netns serves one request per connection: one read() of at most 4095 bytes, one
 * compact JSON answer with no newline, then shutdown and close. Its errors carry only a
 * "desc" ({"error":{"desc":"bad request: add_hostfwd: bad arguments.host_port"}}), and
 * list_hostfwd answers {"entries":[...]} with no "return" around it. The forwards themselves
 * are fwd.c's (fwd_ctl_add/list/remove); this module only speaks the wire format. tapir's
 * own control socket keeps its richer answers. Must not: open forwards itself.
 */
#ifndef TAPIR_SLIRPAPI_H
#define TAPIR_SLIRPAPI_H

#include <stddef.h>
#include <stdint.h>

struct tapird;
struct slirpapi;

/* slirp4netns api.c: its buffer is 4096 bytes and a read that fills it is refused */
#define SLIRPAPI_MAX_REQUEST 4096
/* Connections accepted but not answered yet; more are closed at once (and counted) */
#define SLIRPAPI_MAX_PENDING 16
/* A client that connects and sends nothing is closed after this long */
#define SLIRPAPI_TIMEOUT_S 10

/**
 * slirpapi_new() - listen on @path (a stale file there is replaced, as slirp4netns does)
 * @link:	the link whose forwards this socket adds, lists and removes
 * @err, @errlen: on failure, the path and the reason
 * Return: the server, or NULL
 */
struct slirpapi *slirpapi_new(struct tapird *d, const char *link, const char *path, char *err,
			      size_t errlen);

/** slirpapi_free() - close every connection and the socket, and remove its file */
void slirpapi_free(struct slirpapi *api);

/**
 * slirpapi_answer() - the answer to one request, as slirp4netns words it
 * @link:	the link the forwards lead into (NULL: the only one attached)
 * @req, @len:	the bytes read (not NUL-terminated)
 * Return: the answer (malloc'd, NUL-terminated, no newline), or NULL when out of memory
 */
char *slirpapi_answer(struct tapird *d, const char *link, const char *req, size_t len);

#endif
