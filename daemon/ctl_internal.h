/* ctl_internal.h - what the control socket's files share; nothing outside daemon/ctl_*.c
 * includes it (control.h is the module's public face, ctl_links.h attach and detach's).
 *
 * The control socket, by concern:
 *   ctl_proto.c	the envelope, argument helpers, command table, dispatch, ctl_handle_line()
 *   ctl_cmds.c		the command handlers (status, stats, conn, watch, capture, port forwards,
 *			attach and detach)
 *   ctl_conns.c	`conns`, written in slices by a job
 *   ctl_auth.c		who may connect and who may mutate
 *   ctl_server.c	the listener, the clients, their buffers, limits and idle timeout
 *   ctl_links.c	attach and detach's work (ctl_links.h)
 *   ctl_policy.c	policy_list, policy_add, policy_remove, policy_set: what containers
 *			may reach (policy.h)
 *
 * Two halves: ctl_handle_line() turns one request line into one reply line and knows nothing of
 * sockets (the unit tests drive it directly); the server half owns the listener, the clients,
 * their buffers and their limits on the daemon's libevent loop.
 */
#ifndef TAPIR_CTL_INTERNAL_H
#define TAPIR_CTL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <sys/un.h>

#include <jansson.h>

struct bufferevent;
struct event;
struct evbuffer;
struct evconnlistener;
struct link;
struct metrics;
struct monitor;
struct monitor_closed;
struct monitor_filter;
struct monitor_watch;
struct tapird;

/* Longest error description; the longest we build lists every state name (~150 bytes). */
#define CTL_DESC_MAX 512

/* A `conns` reply is written in slices of this many flows, one slice per loop turn, so that
 * listing 10,000 flows never holds the relay up for more than a slice's worth of encoding. */
#define CTL_CONNS_SLICE 1000

struct ctl_client;
struct conns_job;

/**
 * struct ctl_err - an error reply in the making
 * @cls:	error class (see the table at the top of ctl_proto.c); NULL while there is none
 * @desc:	human-readable description
 */
struct ctl_err {
	const char *cls;
	char desc[CTL_DESC_MAX];
};

/**
 * struct ctl_req - one request being answered
 * @d:		the daemon
 * @args:	the "arguments" object (borrowed; an empty object when the request had none)
 * @now_us:	monotonic time of the request, for ages
 * @err:	set by a handler that fails
 * @client:	the connection asking (NULL from ctl_handle_line(): no socket)
 * @job:	set by `conns`: the reply is written in slices by this job, not returned
 */
struct ctl_req {
	struct tapird *d;
	json_t *args;
	uint64_t now_us;
	struct ctl_err err;
	struct ctl_client *client;
	struct conns_job *job;
};

/**
 * struct conns_filter - what `conns` lists
 * @link:	only this link (NULL: all)
 * @proto:	only this protocol (0: both)
 * @state:	only flows whose state has this name (NULL: any)
 */
struct conns_filter {
	struct link *link;
	uint8_t proto;
	const char *state;
};

/**
 * struct conns_ref - a flow to list, found when the request came: where it was and its id, so
 * that a flow that closes (or whose slot is reused) before its slice is skipped, not misread
 * @l:		its link (checked against d->links before use: links can go away)
 * @idx:	its slot
 * @id:		its id
 */
struct conns_ref {
	struct link *l;
	uint32_t idx;
	uint64_t id;
};

/**
 * struct conns_job - a `conns` reply being written in slices
 * @d:		the daemon
 * @flt:	the filter (re-checked at each flow: a flow may change state meanwhile)
 * @refs:	the live flows that matched when the request came
 * @nrefs:	how many
 * @next:	next entry of @refs to write
 * @closed_next: next closed-flow ordinal to write (`all`), up to @closed_last
 * @closed_last: newest closed-flow ordinal when the request came (0: none)
 * @id_json:	the request's "id", encoded, to echo at the end (NULL: none)
 * @written:	flows written so far (for the comma)
 * @started:	the reply's head is written
 */
struct conns_job {
	struct tapird *d;
	struct conns_filter flt;
	struct conns_ref *refs;
	size_t nrefs, next;
	uint64_t closed_next, closed_last;
	char *id_json;
	size_t written;
	bool started;
};

/**
 * struct ctl_client - one control connection
 * @srv:	the server
 * @bev:	its buffered socket
 * @uid, @gid:	peer credentials (SO_PEERCRED), fixed at connect time
 * @discarding:	skipping the rest of an oversized request, up to the next newline
 * @closing:	the peer shut down its side: close once our output is flushed
 * @job:	a `conns` reply being written in slices; requests wait until it is done
 * @ev_job:	runs the next slice on a later loop turn
 * @watch:	the monitor registration of a watcher (NULL: not watching)
 * @lost:	events dropped since the watcher fell behind
 * @dropping:	dropping events until the output drains below CTL_WATCH_RESUME
 * @admin:	the peer was in cfg.admin_group when it connected (SO_PEERGROUPS)
 * @ev_idle:	closes the connection CTL_IDLE_TIMEOUT_MS after its last complete request
 * @entry:	in srv->clients
 */
struct ctl_client {
	struct ctl_server *srv;
	struct bufferevent *bev;
	uid_t uid;
	gid_t gid;
	bool admin;
	struct event *ev_idle;
	bool discarding;
	bool closing;
	struct conns_job *job;
	struct event *ev_job;
	struct monitor_watch *watch;
	uint64_t lost;
	bool dropping;
	TAILQ_ENTRY(ctl_client) entry;
};

/**
 * struct ctl_server - the listener and its clients
 * @d:		the daemon
 * @lev:	the listener (owns the socket)
 * @ev_pause:	re-enables accepting after an accept() failure
 * @path:	the socket's path (unlinked on free)
 * @dfd:	its directory, kept open: the socket is removed through it (unlinkat), so
 *		that it goes even after slirp4netns --enable-sandbox left the root it is in
 * @clients:	open connections
 * @nclients:	how many
 * @own_mon:	the monitor in d->mon was made by this server (freed with it)
 * @metrics:	the Prometheus endpoint (NULL: off)
 * @admin_gid:	cfg.admin_group's gid, resolved once at start-up
 * @admin_set:	cfg.admin_group is set (else only root mutates)
 * @idle_ms:	CTL_IDLE_TIMEOUT_MS unless a test shortened it
 * @refused_full: connections refused: all CTL_MAX_CLIENTS slots taken, or all but root's
 * @refused_uid: connections refused: their uid had CTL_MAX_CLIENTS_PER_UID already
 * @idle_closed: connections closed for sending no complete request in @idle_ms
 */
struct ctl_server {
	struct tapird *d;
	struct evconnlistener *lev;
	struct event *ev_pause;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int dfd;
	TAILQ_HEAD(, ctl_client) clients;
	unsigned int nclients;
	bool own_mon;
	struct metrics *metrics;
	gid_t admin_gid;
	bool admin_set;
	unsigned int idle_ms;
	uint64_t refused_full;
	uint64_t refused_uid;
	uint64_t idle_closed;
};

/* ctl_proto.c */
__attribute__((format(printf, 3, 4))) json_t *ctl_fail(struct ctl_req *r, const char *cls,
						       const char *fmt, ...);
int ctl_arg_string(struct ctl_req *r, const char *key, const char **out);
int ctl_arg_link(struct ctl_req *r, struct link **out);
int ctl_arg_count(struct ctl_req *r, const char *key, uint64_t *out);
char *ctl_dump_line(json_t *reply);
char *ctl_answer(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid,
		 struct ctl_client *c, struct conns_job **jobp);

/* ctl_cmds.c: the handlers named in ctl_cmds[] */
json_t *ctl_cmd_status(struct ctl_req *r);
json_t *ctl_cmd_stats(struct ctl_req *r);
json_t *ctl_cmd_conn(struct ctl_req *r);
json_t *ctl_cmd_watch(struct ctl_req *r);
json_t *ctl_cmd_capture(struct ctl_req *r);
json_t *ctl_cmd_add_hostfwd(struct ctl_req *r);
json_t *ctl_cmd_list_hostfwd(struct ctl_req *r);
json_t *ctl_cmd_remove_hostfwd(struct ctl_req *r);
json_t *ctl_cmd_attach(struct ctl_req *r);
json_t *ctl_cmd_detach(struct ctl_req *r);

/* ctl_policy.c: the reach policy's handlers */
json_t *ctl_cmd_policy_list(struct ctl_req *r);
json_t *ctl_cmd_policy_add(struct ctl_req *r);
json_t *ctl_cmd_policy_remove(struct ctl_req *r);
json_t *ctl_cmd_policy_set(struct ctl_req *r);

/* ctl_conns.c */
json_t *ctl_cmd_conns(struct ctl_req *r);
int ctl_conns_filter_parse(struct ctl_req *r, struct conns_filter *flt);
void ctl_conns_job_free(struct conns_job *j);
bool ctl_conns_job_slice(struct conns_job *j, struct evbuffer *out, size_t max);
json_t *ctl_closed_json(const struct monitor *m, const struct monitor_closed *c, uint64_t now_us,
			bool detail);

/* ctl_auth.c */
bool ctl_may_mutate(const struct ctl_req *r, uid_t uid, gid_t gid);
bool ctl_over_limit(struct ctl_server *srv, uid_t uid, char *desc, size_t desclen);
bool ctl_peer_admin(struct ctl_server *srv, int fd, gid_t gid);

/* ctl_server.c */
json_t *ctl_server_json(const struct ctl_server *srv);
int ctl_client_watch(struct ctl_client *c, const struct monitor_filter *flt);

#endif
