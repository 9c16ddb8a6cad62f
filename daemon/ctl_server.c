/* ctl_server.c - the control socket's server: the listener, the clients, their buffers,
 * their limits and idle timeout, and `watch`'s event streams, on the daemon's libevent loop.
 * Each complete line goes to ctl_answer() (ctl_proto.c); a `conns` reply is written slice by
 * slice (ctl_conns.c); who may connect is decided by ctl_auth.c. Must not: block the loop, or
 * let a slow client hold memory without bound.
 *
 * Limits: a request line is at most CTL_MAX_REQUEST bytes; a longer one gets an error and the
 * rest of it, up to the next newline, is discarded (the connection stays usable). At most
 * CTL_MAX_CLIENTS connections, at most CTL_MAX_CLIENTS_PER_UID of one uid other than root, and
 * the last CTL_ROOT_RESERVE for root alone; one more gets an error line and is closed. A
 * connection that sends no complete request for CTL_IDLE_TIMEOUT_MS gets an error line and is
 * closed (a watcher, or one whose reply is still being written or read, is not idle). A reply is
 * always queued whole, but a client whose unread output already exceeds CTL_MAX_PENDING when it
 * asks for more is disconnected: it cannot make the daemon hold memory without bound.
 *
 * `watch`: {"return": {}} and then one line per event: {"event": "open"|"state"|"close",
 * "data": {...}, "timestamp": {"seconds", "microseconds"}}. A watcher must never slow the
 * relay, so events are never waited for: each watcher's unread output is bounded by
 * CTL_WATCH_MAX_PENDING (1 MiB). An event that does not fit is dropped and counted, and so are
 * the ones after it until the watcher has drained its output below CTL_WATCH_RESUME (256 KiB);
 * then {"event": "lost", "data": {"count": N}} is sent before any further event, so a watcher
 * always knows where its stream has a gap and how many events fell in it. Events that come while a
 * sliced `conns` reply is being written on the same connection are counted as lost too (they
 * cannot go inside the reply). The watcher is never disconnected for being slow. Events are
 * encoded only when a watcher's filter wants them (monitor.c).
 */
#include <config.h> /* autoconf's: _GNU_SOURCE, for struct ucred (the daemon's own is "config.h") */

#include "control.h"


#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "capture.h"
#include "ctl_internal.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "safedir.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

/* A client that does not read its replies is cut loose once this much output waits for it.
 * 16 MiB holds a `conns` reply for well over 10,000 flows (about 450 bytes each). */
#define CTL_MAX_PENDING (16 * 1024 * 1024)

/* Pending connections the kernel queues for us before accept(). */
#define CTL_BACKLOG 16

/* After an accept() failure (EMFILE...), pause accepting this long rather than spin. */
#define CTL_ACCEPT_PAUSE_MS 1000

/* The next slice waits until the client's unread output is below this (backpressure). */
#define CTL_JOB_LOWAT (256 * 1024)

/* A watcher's unread events are bounded by this; past it events are dropped and counted... */
#define CTL_WATCH_MAX_PENDING (1024 * 1024)
/* ...until its unread output has drained below this; then {"event": "lost"} goes first. */
#define CTL_WATCH_RESUME (256 * 1024)

/**
 * ctl_server_json() - the control socket's own limits and what hitting them cost, for `status`:
 * {"clients", "max_clients", "max_clients_per_uid", "idle_timeout_ms", "refused_full",
 * "refused_uid", "idle_closed"}
 */
json_t *ctl_server_json(const struct ctl_server *srv)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "clients",
			 (json_int_t)srv->nclients, "max_clients", (json_int_t)CTL_MAX_CLIENTS,
			 "max_clients_per_uid", (json_int_t)CTL_MAX_CLIENTS_PER_UID,
			 "idle_timeout_ms", (json_int_t)srv->idle_ms,
			 "refused_full", (json_int_t)srv->refused_full,
			 "refused_uid", (json_int_t)srv->refused_uid,
			 "idle_closed", (json_int_t)srv->idle_closed);
}

/**
 * client_free() - close a connection and forget it
 */
static void client_free(struct ctl_client *c)
{
	TAILQ_REMOVE(&c->srv->clients, c, entry);
	c->srv->nclients--;
	if (c->watch && c->srv->d->mon)
		monitor_watch_del(c->srv->d->mon, c->watch);
	ctl_conns_job_free(c->job);
	if (c->ev_job)
		event_free(c->ev_job);
	if (c->ev_idle)
		event_free(c->ev_idle);
	bufferevent_free(c->bev);
	free(c);
}

/**
 * watch_flush_lost() - queue {"event": "lost", "data": {"count": N}} if events were dropped,
 * and accept events again
 */
static void watch_flush_lost(struct ctl_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *line;

	c->dropping = false;
	if (!c->lost)
		return;
	line = monitor_event_line(c->srv->d->mon, "lost",
				  json_pack("{s:I}", "count", (json_int_t)c->lost),
				  tapird_now_us());
	if (!line)
		return; /* try again with the next event */
	evbuffer_add(out, line, strlen(line));
	evbuffer_add(out, "\n", 1);
	free(line);
	c->lost = 0;
}

/**
 * client_event_sink() - monitor_sink of a watcher: queue one event line, or drop and count it
 * when the watcher is CTL_WATCH_MAX_PENDING behind (or a sliced reply is being written: an
 * event must not land inside it). Never blocks and never frees the client.
 */
static void client_event_sink(void *arg, const char *line, size_t len)
{
	struct ctl_client *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pending = evbuffer_get_length(out);

	if (c->closing)
		return;
	if (c->job || (c->dropping && pending > CTL_WATCH_RESUME) ||
	    pending + len + 1 > CTL_WATCH_MAX_PENDING) {
		c->dropping = true;
		c->lost++;
		return;
	}
	watch_flush_lost(c);
	evbuffer_add(out, line, len);
	evbuffer_add(out, "\n", 1);
}

/**
 * ctl_client_watch() - make @c a watcher with filter @flt, or replace its filter (`watch`)
 * Return: 0, or -1 when out of memory (the old filter, if any, stays)
 */
int ctl_client_watch(struct ctl_client *c, const struct monitor_filter *flt)
{
	struct monitor *m = c->srv->d->mon;
	struct monitor_watch *w = monitor_watch_add(m, flt, client_event_sink, c);

	if (!w)
		return -1;
	monitor_watch_del(m, c->watch);
	c->watch = w;
	return 0;
}

/**
 * free_reply() - evbuffer cleanup for a reply queued by reference
 */
static void free_reply(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

/**
 * client_send() - queue @line (malloc'd, taken) and a newline for @c
 * Return: 0, or -1 if @c was disconnected (it is freed) for not reading its output
 */
static int client_send(struct ctl_client *c, char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t pending = evbuffer_get_length(out);

	if (pending > CTL_MAX_PENDING) {
		log_warn("control: client uid %u has %zu bytes of unread replies, disconnecting",
			 (unsigned int)c->uid, pending);
		free(line);
		client_free(c);
		return -1;
	}
	/* By reference: a `conns` reply can be megabytes; do not copy it again. */
	if (evbuffer_add_reference(out, line, strlen(line), free_reply, NULL) < 0) {
		free(line);
		client_free(c);
		return -1;
	}
	evbuffer_add(out, "\n", 1);
	return 0;
}

/**
 * client_error() - queue an error reply of class GenericError with @desc
 * Return: as client_send()
 */
static int client_error(struct ctl_client *c, const char *desc)
{
	json_t *e = json_pack("{s:{s:s, s:s}}", "error", "class", "GenericError", "desc", desc);

	return client_send(c, ctl_dump_line(e));
}

/**
 * is_blank() - whether the @len bytes at @s are only whitespace (an empty line is skipped,
 * not answered, so that a human at socat can press Enter)
 */
static bool is_blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

static void client_read_cb(struct bufferevent *bev, void *arg);
static void client_flush_close(struct ctl_client *c);

/**
 * idle_arm() - (re)start @c's idle timeout: CTL_IDLE_TIMEOUT_MS from now
 */
static void idle_arm(struct ctl_client *c)
{
	struct timeval tv = { c->srv->idle_ms / 1000, (c->srv->idle_ms % 1000) * 1000 };

	evtimer_add(c->ev_idle, &tv);
}

/**
 * idle_cb() - @c sent no complete request for srv->idle_ms: close it (a slot held by a client
 * that never speaks is a slot root cannot have). A watcher, a client whose reply is still
 * being written, and one that still has output to read are not idle: check again later.
 */
static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;
	char desc[96];

	if (c->closing) {
		client_free(c); /* it shut down its side and never read its last reply */
		return;
	}
	if (c->watch || c->job || evbuffer_get_length(bufferevent_get_output(c->bev))) {
		idle_arm(c);
		return;
	}
	c->srv->idle_closed++;
	log_info("control: client uid %u sent no complete request in %u ms, closing",
		 (unsigned int)c->uid, c->srv->idle_ms);
	snprintf(desc, sizeof(desc), "idle: no complete request in %u ms; closing",
		 c->srv->idle_ms);
	if (client_error(c, desc) < 0)
		return;
	idle_arm(c); /* one more period to read the line, then it is freed above */
	client_flush_close(c);
}

/**
 * job_step() - write the next slice of @c's `conns` reply; schedule the one after on a later
 * loop turn (at once if the client keeps up, else when its output drains to CTL_JOB_LOWAT)
 * Return: 0, or -1 if @c was disconnected (freed) for not reading its output
 */
static int job_step(struct ctl_client *c)
{
	static const struct timeval zero = { 0, 0 };
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (!c->job->started && evbuffer_get_length(out) > CTL_MAX_PENDING) {
		log_warn("control: client uid %u has %zu bytes of unread replies, disconnecting",
			 (unsigned int)c->uid, evbuffer_get_length(out));
		client_free(c);
		return -1;
	}
	if (!ctl_conns_job_slice(c->job, out, CTL_CONNS_SLICE)) {
		if (evbuffer_get_length(out) < CTL_JOB_LOWAT)
			evtimer_add(c->ev_job, &zero);
		return 0;
	}
	evbuffer_add(out, "\n", 1);
	ctl_conns_job_free(c->job);
	c->job = NULL;
	if (!c->closing)
		bufferevent_enable(c->bev, EV_READ);
	return 0;
}

/**
 * job_cb() - the next slice of a `conns` reply; once it is complete, the requests that
 * waited behind it are answered
 */
static void job_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (!c->job || job_step(c) < 0 || c->job)
		return;
	if (!c->closing)
		client_read_cb(c->bev, c);
}

/**
 * client_request() - answer one request line (a `conns` reply starts a job)
 * Return: as client_send()
 */
static int client_request(struct ctl_client *c, const char *line, size_t len)
{
	struct conns_job *job = NULL;
	char *reply;

	if (is_blank(line, len))
		return 0; /* not a request: does not hold off the idle timeout */
	idle_arm(c);
	reply = ctl_answer(c->srv->d, line, len, c->uid, c->gid, c, &job);
	if (!job)
		return client_send(c, reply);
	if (!c->ev_job)
		c->ev_job = evtimer_new(c->srv->d->base, job_cb, c);
	if (!c->ev_job) {
		ctl_conns_job_free(job);
		return client_error(c, "out of memory");
	}
	c->job = job;
	/* Requests after this one wait for its reply: stop reading until it is written. */
	bufferevent_disable(c->bev, EV_READ);
	return job_step(c);
}

/**
 * client_flush_close() - the peer is done sending: close now if nothing is left to write,
 * else once the output drains (client_write_cb)
 */
static void client_flush_close(struct ctl_client *c)
{
	c->closing = true;
	bufferevent_disable(c->bev, EV_READ);
	if (!c->job && !evbuffer_get_length(bufferevent_get_output(c->bev)))
		client_free(c);
}

/**
 * client_read_cb() - answer every complete line; bound what an unfinished one may hold
 */
static void client_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing && !c->job) {
		size_t n;
		char *line;
		int rc;

		if (c->discarding) {
			struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);

			if (p.pos < 0) {
				evbuffer_drain(in, evbuffer_get_length(in));
				return;
			}
			evbuffer_drain(in, (size_t)p.pos + 1);
			c->discarding = false;
		}
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (!line) {
			if (evbuffer_get_length(in) <= CTL_MAX_REQUEST)
				return; /* wait for the rest of the line */
			evbuffer_drain(in, evbuffer_get_length(in));
			c->discarding = true;
			if (client_error(c, "request too large (limit 65536 bytes without a "
					    "newline); discarded up to the next newline") < 0)
				return;
			continue;
		}
		rc = client_request(c, line, n);
		free(line);
		if (rc < 0)
			return;
	}
}

/**
 * client_write_cb() - the output drained to CTL_JOB_LOWAT: go on with a sliced reply, tell a
 * watcher what it lost, finish a close the peer asked for
 */
static void client_write_cb(struct bufferevent *bev, void *arg)
{
	static const struct timeval zero = { 0, 0 };
	struct ctl_client *c = arg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

	if (c->job) {
		if (!evtimer_pending(c->ev_job, NULL))
			evtimer_add(c->ev_job, &zero);
		return;
	}
	if (c->dropping && pending <= CTL_WATCH_RESUME && c->srv->d->mon)
		watch_flush_lost(c);
	if (c->closing && !pending)
		client_free(c);
}

/**
 * client_event_cb() - EOF: a one-shot client shut down its side, so answer a last request
 * without a newline if there is one, then close after flushing; errors: close at once
 */
static void client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ctl_client *c = arg;

	if (what & BEV_EVENT_EOF) {
		struct evbuffer *in = bufferevent_get_input(bev);
		size_t n = evbuffer_get_length(in);

		if (n && !c->discarding) {
			/* Under CTL_MAX_REQUEST: the read callback drained anything longer. */
			unsigned char *p = evbuffer_pullup(in, -1);

			if (p && client_request(c, (const char *)p, n) < 0)
				return;
		}
		evbuffer_drain(in, n);
		client_flush_close(c);
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		client_free(c);
}

/**
 * refuse() - tell a connection over a client limit why (@desc), without blocking, and close it
 */
static void refuse(int fd, const char *desc)
{
	char msg[160];
	int n = snprintf(msg, sizeof(msg),
			 "{\"error\": {\"class\": \"GenericError\", \"desc\": \"%s\"}}\n", desc);

	if (send(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		log_debug("control: refusing a client: %s", strerror(errno));
	close(fd);
}

/**
 * accept_cb() - a new connection: record its credentials and admin-group membership, or
 * refuse it over a limit (ctl_over_limit()); start its idle timeout
 */
static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_server *srv = arg;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct ctl_client *c;
	char desc[128];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("control: SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	if (ctl_over_limit(srv, cred.uid, desc, sizeof(desc))) {
		log_warn("control: refusing pid %d uid %u: %s", (int)cred.pid,
			 (unsigned int)cred.uid, desc);
		refuse(fd, desc);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->srv = srv;
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->admin = cred.uid != 0 && ctl_peer_admin(srv, fd, cred.gid);
	c->ev_idle = evtimer_new(srv->d->base, idle_cb, c);
	c->bev = bufferevent_socket_new(srv->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev || !c->ev_idle) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->ev_idle)
			event_free(c->ev_idle);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->clients, c, entry);
	srv->nclients++;
	bufferevent_setcb(c->bev, client_read_cb, client_write_cb, client_event_cb, c);
	/* the write callback fires whenever the output drains to this: sliced replies and
	 * watchers that fell behind go on from there */
	bufferevent_setwatermark(c->bev, EV_WRITE, CTL_JOB_LOWAT, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	idle_arm(c);
	log_debug("control: client pid %d uid %u connected%s", (int)cred.pid,
		  (unsigned int)cred.uid, c->admin ? " (admin group)" : "");
}

/**
 * resume_cb() - accept again after a pause
 */
static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *srv = arg;

	evconnlistener_enable(srv->lev);
}

/**
 * accept_error_cb() - accept() failed (out of descriptors...): pause instead of spinning
 */
static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct ctl_server *srv = arg;
	const struct timeval tv = { CTL_ACCEPT_PAUSE_MS / 1000, (CTL_ACCEPT_PAUSE_MS % 1000) * 1000 };

	log_warn("control: accept on %s: %s; pausing", srv->path, strerror(errno));
	evconnlistener_disable(lev);
	evtimer_add(srv->ev_pause, &tv);
}

/**
 * mkdir_parents() - create the directories leading to @path (mkdir -p of its dirname, 0755)
 * Return: 0, or -1 with errno set and the failing directory in @dir
 */
static int mkdir_parents(const char *path, char *dir, size_t dirlen)
{
	snprintf(dir, dirlen, "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/**
 * clear_stale() - remove a socket file left by a dead daemon; refuse to touch a live one or
 * anything that is not a socket
 * Return: 0, or -1 with a message in @err
 */
static int clear_stale(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	/* EAGAIN: the listener's backlog is full, which also means someone is there. */
	if (rc == 0 || errno == EAGAIN) {
		close(fd);
		snprintf(err, errlen, "%s: another daemon is already listening there", path);
		return -1;
	}
	close(fd);
	if (errno != ECONNREFUSED) {
		snprintf(err, errlen, "%s: cannot tell whether it is in use: %s", path,
			 strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: removing the stale socket: %s", path, strerror(errno));
		return -1;
	}
	log_info("control: removed stale socket %s", path);
	return 0;
}

/**
 * listen_socket() - bind @path (the entry @name in the checked directory @dfd) with mode 0660
 * and group @gid (-1: leave it), then listen.
 *
 * Mode and group are never set through the path. The mode: bind() gives the file the socket
 * inode's own mode (fchmod before bind) less the umask (0117 around it), so it is 0660 from
 * its first instant. The group: the file takes the binder's filesystem gid, so setfsgid()
 * around bind() gives it at once where that is permitted (CAP_SETGID); else (the units grant
 * CAP_CHOWN, not CAP_SETGID) fchownat() relative to @dfd, the directory checked by
 * check_dir(), without following a link. Nobody can connect before listen().
 * Return: the listening descriptor, or -1 with a message in @err (nothing left behind)
 */
static int listen_socket(const char *path, int dfd, const char *name, gid_t gid, char *err,
			 size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc, oldfsgid = -1;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0660) < 0) {
		snprintf(err, errlen, "%s: setting mode 0660: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	old = umask(0117);
	if (gid != (gid_t)-1)
		oldfsgid = setfsgid(gid);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	if (gid != (gid_t)-1)
		setfsgid((gid_t)oldfsgid);
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISSOCK(st.st_mode) ||
	    (st.st_mode & 07777) != 0660) {
		snprintf(err, errlen, "%s: not created as a socket of mode 0660", path);
		goto fail;
	}
	/* setfsgid() does not say whether it worked: look at what bind() made */
	if (gid != (gid_t)-1 && st.st_gid != gid &&
	    fchownat(dfd, name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "%s: giving it group %u: %s", path, (unsigned int)gid,
			 strerror(errno));
		goto fail;
	}
	if (listen(fd, CTL_BACKLOG) < 0) {
		snprintf(err, errlen, "%s: listen: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	unlinkat(dfd, name, 0);
	close(fd);
	return -1;
}

/**
 * resolve_group() - the gid of group @name (a name, or a number as config.c allows); called
 * at start-up only: getgrnam may consult NSS and block
 * Return: 0, or -1 if there is no such group
 */
static int resolve_group(const char *name, gid_t *gid)
{
	struct group *gr = getgrnam(name);
	char *end;
	unsigned long v;

	if (gr) {
		*gid = gr->gr_gid;
		return 0;
	}
	errno = 0;
	v = strtoul(name, &end, 10);
	if (!*name || *end || errno || v >= (gid_t)-1)
		return -1;
	*gid = (gid_t)v;
	return 0;
}

/**
 * check_dir() - open the socket's directory, refusing one someone else could swap or write to
 * (issue 14, finding 6): every component of @path's directory must be owned by root (or the
 * daemon's uid) and not group- or world-writable (a sticky ancestor, as /tmp, is fine)
 * @name:	set to the socket's name within it (points into @path)
 * Return: the directory's descriptor, or -1 with a message in @err
 */
static int check_dir(const char *path, const char **name, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], why[384];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	*name = path + (slash - dir) + 1;
	if (slash == dir)
		slash[1] = '\0'; /* a socket in / */
	else
		*slash = '\0';
	fd = safedir_open(dir, "control directory", 0, true, why, sizeof(why));
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", path, why);
	return fd;
}

struct ctl_server *ctl_server_new(struct tapird *d, const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_server *srv;
	gid_t gid = (gid_t)-1, admin_gid = (gid_t)-1;
	const char *name;
	int fd, dfd;

	if (path[0] != '/' || strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: control socket path not absolute or longer than %zu bytes",
			 path, sizeof(dir) - 1);
		return NULL;
	}
	if (d->cfg.control_group[0] && resolve_group(d->cfg.control_group, &gid) < 0) {
		snprintf(err, errlen, "%s: control group '%s' does not exist", path,
			 d->cfg.control_group);
		return NULL;
	}
	/* once, here: never an NSS lookup on the loop per request (ctl_may_mutate()) */
	if (d->cfg.admin_group[0] && resolve_group(d->cfg.admin_group, &admin_gid) < 0) {
		snprintf(err, errlen, "%s: admin group '%s' does not exist", path,
			 d->cfg.admin_group);
		return NULL;
	}
	/* A client that hangs up before reading its reply must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (mkdir_parents(path, dir, sizeof(dir)) < 0) {
		snprintf(err, errlen, "%s: creating %s: %s", path, dir, strerror(errno));
		return NULL;
	}
	dfd = check_dir(path, &name, err, errlen);
	if (dfd < 0)
		return NULL;
	if (clear_stale(path, err, errlen) < 0) {
		close(dfd);
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		close(dfd);
		return NULL;
	}
	srv->d = d;
	srv->admin_gid = admin_gid;
	srv->admin_set = d->cfg.admin_group[0] != '\0';
	srv->idle_ms = CTL_IDLE_TIMEOUT_MS;
	TAILQ_INIT(&srv->clients);
	snprintf(srv->path, sizeof(srv->path), "%s", path);
	fd = listen_socket(path, dfd, name, gid, err, errlen);
	if (fd < 0) {
		close(dfd);
		free(srv);
		return NULL;
	}
	srv->dfd = dfd;
	srv->ev_pause = evtimer_new(d->base, resume_cb, srv);
	srv->lev = evconnlistener_new(d->base, accept_cb, srv,
				      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (!srv->ev_pause || !srv->lev) {
		snprintf(err, errlen, "%s: cannot watch the socket", path);
		if (srv->ev_pause)
			event_free(srv->ev_pause);
		if (!srv->lev)
			close(fd);
		else
			evconnlistener_free(srv->lev);
		unlink(path);
		close(srv->dfd);
		free(srv);
		return NULL;
	}
	evconnlistener_set_error_cb(srv->lev, accept_error_cb);
	/* The monitor serves this socket's watch, conns --all and conn; the metrics endpoint is
	 * its other face. Both start with the control server and end with it. */
	if (!d->mon) {
		d->mon = monitor_new(d, d->cfg.closed_history);
		srv->own_mon = d->mon != NULL;
	}
	if (!d->mon) {
		snprintf(err, errlen, "%s: cannot start the monitor (out of memory)", path);
		ctl_server_free(srv);
		return NULL;
	}
	if (d->cfg.metrics[0]) {
		srv->metrics = metrics_new(d, d->cfg.metrics, err, errlen);
		if (!srv->metrics) {
			ctl_server_free(srv);
			return NULL;
		}
	}
	log_info("control: listening on %s", path);
	return srv;
}

void ctl_server_set_idle_timeout(struct ctl_server *srv, unsigned int ms)
{
	srv->idle_ms = ms;
}

void ctl_server_free(struct ctl_server *srv)
{
	if (!srv)
		return;
	while (!TAILQ_EMPTY(&srv->clients))
		client_free(TAILQ_FIRST(&srv->clients));
	metrics_free(srv->metrics);
	/* a capture's file is complete only once closed */
	for (unsigned int i = 0; i < srv->d->nlinks; i++)
		if (srv->d->links[i])
			capture_stop(srv->d->links[i], NULL);
	if (srv->own_mon) {
		monitor_free(srv->d->mon);
		srv->d->mon = NULL;
	}
	evconnlistener_free(srv->lev);
	event_free(srv->ev_pause);
	/* by the directory opened at start: the path may be outside our root by now */
	unlinkat(srv->dfd, strrchr(srv->path, '/') + 1, 0);
	close(srv->dfd);
	free(srv);
}
