/* fwd.h - port forwards: host ports that lead into the container, with the client's own
 * address as the source the container sees (a client on the host's loopback appears as the
 * gateway address).
 *
 * A TCP forward is a listening host socket on the loop: each accepted client makes the stack
 * open a connection into the container (tcp_connect(): SYN_SENT, or SYN_RCVD on a
 * simultaneous open), and the accepted socket becomes that flow's upstream (relay_adopt());
 * the forward itself is a LISTEN row in the flow table. A UDP forward is a bound host socket:
 * each client address and port is one flow (udprelay_inbound()). Forwards come from the
 * configuration at start and from the control socket at run time (slirp4netns's add_hostfwd,
 * list_hostfwd, remove_hostfwd, with its arguments). Must not: parse or build frames.
 */
#ifndef TAPIR_FWD_H
#define TAPIR_FWD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct tapird;
struct link;
struct fwd_spec;

/* Forwards per daemon: each holds a host socket (and a LISTEN row for TCP). */
#define FWD_MAX 1024
/* Pending connections a TCP forward's host socket queues (listen(2) backlog) */
#define FWD_BACKLOG 128

/**
 * fwd_start() - open the forwards of the configuration (d->cfg.forwards) into the command
 * line's link (d->cfg.link), or the one link attached
 * @err, @errlen: on failure, which forward and why ("tcp 0.0.0.0:8080: Address in use")
 * Return: 0, or -1 (forwards opened before the failing one are closed again)
 */
int fwd_start(struct tapird *d, char *err, size_t errlen);

/**
 * fwd_default_link() - the link a forward leads into when none is named: the one attached
 * Return: the link, or NULL with why in @err (none, or several attached)
 */
struct link *fwd_default_link(struct tapird *d, char *err, size_t errlen);

/**
 * fwd_add() - open the @sp->count forwards of @sp into link @l
 * @l:		the link (NULL: fwd_default_link())
 * @gaddr:	container address the forwards lead to (must be the link's own)
 * @first_id:	set to the id of the first (ids of a range are consecutive)
 * @err, @errlen: on failure, what went wrong
 * Return: 0, or -1 with nothing added
 */
int fwd_add(struct tapird *d, struct link *l, const struct fwd_spec *sp, uint32_t gaddr,
	    uint64_t *first_id, char *err, size_t errlen);

/** fwd_link_gone() - close every forward into @l (the link is being detached) */
void fwd_link_gone(struct link *l);

/**
 * fwd_remove() - close forward @id: its host socket and LISTEN row go; its TCP connections
 * stay until they end; its UDP flows end (their replies would have no socket to leave by)
 * Return: 0, or -1 if there is no such forward
 */
int fwd_remove(struct tapird *d, uint64_t id);

/** fwd_fini() - close every forward (at shutdown, before the links are detached) */
void fwd_fini(struct tapird *d);

/*
 * The control socket's handlers. Each takes the request's "arguments" object and returns the
 * "return" value (a new reference), or NULL with the error class in *@cls and the description
 * in @desc (slirp4netns's wording: "bad request: add_hostfwd: bad arguments.host_port: ...").
 */

/** fwd_ctl_add() - add_hostfwd: {"proto", "host_addr", "host_port", "guest_addr",
 * "guest_port"} → {"id": N} */
json_t *fwd_ctl_add(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len);

/** fwd_ctl_list() - list_hostfwd [{"link": NAME}: only the forwards into that link] →
 * {"entries": [{"id", "proto", "host_addr", "host_port", "guest_addr", "guest_port", "link"},
 * ...]} in id order */
json_t *fwd_ctl_list(struct tapird *d, json_t *args, const char **cls, char *desc, size_t len);

/** fwd_ctl_remove() - remove_hostfwd: {"id": N} → {} */
json_t *fwd_ctl_remove(struct tapird *d, json_t *args, const char **cls, char *desc,
		       size_t len);

#endif
