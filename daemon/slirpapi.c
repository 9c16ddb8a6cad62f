/* slirpapi.c - slirp4netns's API socket (see slirpapi.h). */
#define _GNU_SOURCE /* accept4(), asprintf() */
#include "slirpapi.h"
#include "fwd.h"
#include "log.h"
#include "config.h"
#include "tapird.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/**
 * struct slirpapi_conn - one accepted connection waiting for its request
 * @api:	the server
 * @fd:		the connection
 * @ev:		readable (or timed out)
 * @next:	the server's list
 */
struct slirpapi_conn {
	struct slirpapi *api;
	int fd;
	struct event *ev;
	struct slirpapi_conn *next;
};

/**
 * struct slirpapi - the API socket
 * @d:		the daemon
 * @fd:		listening socket
 * @ev:		its accept event
 * @path:	its file, removed at the end
 * @dfd:	its directory (O_PATH), through which it is removed: after slirp4netns
 *		--enable-sandbox the path is outside our root
 * @conns:	connections waiting for their request
 * @nconns:	entries of @conns (at most SLIRPAPI_MAX_PENDING)
 * @refused:	connections closed unanswered because @nconns was at its limit
 * @link:	the link its forwards lead into
 */
struct slirpapi {
	struct tapird *d;
	int fd;
	struct event *ev;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int dfd;
	struct slirpapi_conn *conns;
	unsigned int nconns;
	uint64_t refused;
	char link[LINK_NAME_MAX];
};

/**
 * api_error() - slirp4netns's error answer: {"error":{"desc":"bad request: ..."}}
 * @desc:	the description (plain ASCII, no quotes or backslashes)
 * Return: the answer (malloc'd) or NULL
 */
static char *api_error(const char *desc)
{
	char *s = NULL;

	if (asprintf(&s, "{\"error\":{\"desc\":\"%s\"}}", desc) < 0)
		return NULL;
	return s;
}

/**
 * slirp_desc() - cut fwd.c's message down to slirp4netns's: "bad request: CMD: bad
 * arguments.KEY: why" becomes "bad request: CMD: bad arguments.KEY"; any other failure of
 * add_hostfwd is slirp4netns's "slirp_add_hostfwd failed" (the reason goes to the log)
 * @cmd:	"add_hostfwd" or "remove_hostfwd"
 * @desc:	fwd.c's message, cut in place
 * @out, @outlen: the result
 */
static void slirp_desc(const char *cmd, char *desc, char *out, size_t outlen)
{
	char *key = strstr(desc, "bad arguments."), *colon;

	if (key) {
		colon = strchr(key, ':');
		if (colon)
			*colon = '\0';
		snprintf(out, outlen, "bad request: %s: %s", cmd, key);
		return;
	}
	log_warn("api: %s: %s", cmd, desc);
	snprintf(out, outlen, "bad request: %s: slirp_%s failed", cmd, cmd);
}

/**
 * strip_links() - take tapir's "link" out of list_hostfwd's entries: slirp4netns's have six
 * keys, and this socket serves one link anyway
 * @ret:	{"entries": [...]}
 */
static void strip_links(json_t *ret)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(ret, "entries"), i, e)
		json_object_del(e, "link");
}

/**
 * api_call() - run one of fwd.c's handlers on @link and word its answer as slirp4netns does
 * @link:	the link this socket serves (NULL: fwd.c's default, the only one attached)
 * @cmd:	the command's name
 * @wrap:	put the result inside {"return": ...} (add and remove; not list)
 * Return: the answer (malloc'd) or NULL
 */
static char *api_call(struct tapird *d, const char *link, json_t *args, const char *cmd,
		      json_t *(*fn)(struct tapird *, json_t *, const char **, char *, size_t),
		      int wrap)
{
	char desc[512], sdesc[256];
	const char *cls = "GenericError";
	json_t *ret, *a;
	char *s;

	/* a copy: "link" is set to this socket's own, whatever the client sent */
	a = json_is_object(args) ? json_copy(args) : json_object();
	if (!a || (link && json_object_set_new(a, "link", json_string(link)))) {
		json_decref(a);
		return NULL;
	}
	ret = fn(d, a, &cls, desc, sizeof(desc));
	json_decref(a);
	if (!ret) {
		slirp_desc(cmd, desc, sdesc, sizeof(sdesc));
		return api_error(sdesc);
	}
	if (wrap)
		ret = json_pack("{s:o}", "return", ret);
	else
		strip_links(ret);
	/* compact, keys in insertion order: {"return":{"id":1}}, as parson writes it */
	s = ret ? json_dumps(ret, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(ret);
	return s;
}

char *slirpapi_answer(struct tapird *d, const char *link, const char *req, size_t len)
{
	json_t *root, *exec;
	const char *x;
	char *ans;

	root = json_loadb(req, len, JSON_DECODE_ANY, NULL);
	if (!root)
		return api_error("bad request: cannot parse JSON");
	if (!json_is_object(root)) {
		ans = api_error("bad request: json_object() failed");
		goto out;
	}
	exec = json_object_get(root, "execute");
	if (!json_is_string(exec)) {
		ans = api_error("bad request: no execute found");
		goto out;
	}
	x = json_string_value(exec);
	if (!strcmp(x, "add_hostfwd"))
		ans = api_call(d, link, json_object_get(root, "arguments"), x,
			       fwd_ctl_add, 1);
	else if (!strcmp(x, "list_hostfwd"))
		ans = api_call(d, link, json_object_get(root, "arguments"), x,
			       fwd_ctl_list, 0);
	else if (!strcmp(x, "remove_hostfwd"))
		ans = api_call(d, link, json_object_get(root, "arguments"), x,
			       fwd_ctl_remove, 1);
	else
		ans = api_error("bad request: unknown execute");
out:
	json_decref(root);
	return ans;
}

/**
 * conn_free() - close a connection and take it off the server's list
 */
static void conn_free(struct slirpapi_conn *c)
{
	struct slirpapi_conn **pp;

	for (pp = &c->api->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->api->nconns--;
			break;
		}
	}
	event_free(c->ev);
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd);
	free(c);
}

/**
 * write_all() - write @len bytes of @s to @fd, waiting at most SO_SNDTIMEO per write
 * Return: 0, or -1
 */
static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * conn_readable() - the request arrived (or the client timed out): one read, one answer
 * @arg:	the connection
 */
static void conn_readable(evutil_socket_t fd, short what, void *arg)
{
	struct slirpapi_conn *c = arg;
	char buf[SLIRPAPI_MAX_REQUEST];
	char *ans = NULL;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		conn_free(c);
		return;
	}
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_debug("api: read: %s", strerror(errno));
	} else if ((size_t)n == sizeof(buf)) {
		log_warn("api: request too large (>= %d bytes)", SLIRPAPI_MAX_REQUEST);
		ans = api_error("bad request: too large message");
	} else {
		log_debug("api: request: %.*s", (int)n, buf);
		ans = slirpapi_answer(c->api->d, c->api->link, buf, (size_t)n);
	}
	if (ans && write_all(fd, ans, strlen(ans)))
		log_debug("api: write: %s", strerror(errno));
	free(ans);
	conn_free(c);
}

/**
 * api_accept() - a client connected: wait for its request
 * @arg:	the server
 */
static void api_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct slirpapi *api = arg;
	struct timeval tmo = { .tv_sec = SLIRPAPI_TIMEOUT_S };
	struct timeval snd = { .tv_sec = 1 };
	struct slirpapi_conn *c;
	int fd;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	if (api->nconns >= SLIRPAPI_MAX_PENDING) {
		if (!api->refused++)
			log_warn("api: %d connections wait already; closing new ones",
				 SLIRPAPI_MAX_PENDING);
		close(fd);
		return;
	}
	/* the answer is written at once; a client that does not read it costs a second */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof(snd));
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->api = api;
	c->fd = fd;
	c->ev = event_new(api->d->base, fd, EV_READ, conn_readable, c);
	if (!c->ev || event_add(c->ev, &tmo)) {
		if (c->ev)
			event_free(c->ev);
		close(fd);
		free(c);
		return;
	}
	c->next = api->conns;
	api->conns = c;
	api->nconns++;
}

/** api_base() - the last component of @path */
static const char *api_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/**
 * api_dir_open() - the directory of @path (O_PATH), to remove the socket by later
 * Return: the descriptor, or -1
 */
static int api_dir_open(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	return open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

struct slirpapi *slirpapi_new(struct tapird *d, const char *link, const char *path, char *err,
			      size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct slirpapi *api;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "%s: the API socket path is too long (>= %zu)", path,
			 sizeof(sun.sun_path));
		return NULL;
	}
	api = calloc(1, sizeof(*api));
	if (!api) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return NULL;
	}
	api->d = d;
	api->fd = -1;
	api->dfd = -1;
	snprintf(api->link, sizeof(api->link), "%s", link);
	memcpy(sun.sun_path, path, strlen(path));
	snprintf(api->path, sizeof(api->path), "%s", path);
	/* slirp4netns api_bindlisten(): whatever is there goes (avoid EADDRINUSE) */
	unlink(path);
	api->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api->fd < 0 || bind(api->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    listen(api->fd, SLIRPAPI_MAX_PENDING) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	api->ev = event_new(d->base, api->fd, EV_READ | EV_PERSIST, api_accept, api);
	if (!api->ev || event_add(api->ev, NULL)) {
		snprintf(err, errlen, "%s: cannot watch the socket", path);
		goto fail;
	}
	api->dfd = api_dir_open(path);
	log_info("api: listening on %s", path);
	return api;
fail:
	if (api->fd >= 0) {
		close(api->fd);
		unlink(path);
	}
	free(api);
	return NULL;
}

void slirpapi_free(struct slirpapi *api)
{
	if (!api)
		return;
	while (api->conns)
		conn_free(api->conns);
	if (api->refused)
		log_warn("api: %llu connections were closed unanswered (%d waiting at a time)",
			 (unsigned long long)api->refused, SLIRPAPI_MAX_PENDING);
	event_free(api->ev);
	close(api->fd);
	if (api->dfd < 0 || unlinkat(api->dfd, api_base(api->path), 0) < 0)
		unlink(api->path);
	if (api->dfd >= 0)
		close(api->dfd);
	free(api);
}

