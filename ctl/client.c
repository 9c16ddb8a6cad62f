/* client.c - one request, one reply on tapird's control socket (see client.h) */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

/* The first read buffer; it doubles up to the caller's max_reply. */
#define CLIENT_BUF_START 65536

/**
 * fail() - fill @err with @kind, @errnum and the formatted message
 * Return: -1, for the callers' returns
 */
__attribute__((format(printf, 4, 5))) static int fail(struct client_err *err,
						       enum client_fail kind, int errnum,
						       const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	err->errnum = errnum;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int client_connect(const char *path, int timeout_s, struct client_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const struct timeval tv = { .tv_sec = timeout_s };
	int fd, e;

	if (strlen(path) >= sizeof(sun.sun_path))
		return fail(err, CLIENT_UNREACHABLE, ENAMETOOLONG, "cannot connect to %s: %s",
			    path, strerror(ENAMETOOLONG));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, CLIENT_UNREACHABLE, errno, "socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0) {
		e = errno;
		close(fd);
		return fail(err, CLIENT_UNREACHABLE, e, "setsockopt: %s", strerror(e));
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		/* No file, or a file nobody listens on (a daemon that died without removing
		 * it): no tapird serves this path. */
		return fail(err, e == ENOENT || e == ECONNREFUSED ? CLIENT_NO_DAEMON
								  : CLIENT_UNREACHABLE,
			    e, "cannot connect to %s: %s", path, strerror(e));
	}
	return fd;
}

uint64_t client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int client_ms_left(uint64_t deadline)
{
	uint64_t now = client_now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/**
 * send_line() - send @req and, unless it ends with one, a newline
 * Return: 0, or -1 with @err set
 */
static int send_line(int fd, const char *path, const char *req, struct client_err *err)
{
	size_t rlen = strlen(req);

	for (size_t off = 0; off < rlen + 1;) {
		const char *p = off < rlen ? req + off : "\n";
		size_t n = off < rlen ? rlen - off : 1;
		ssize_t w;

		if (off == rlen && rlen && req[rlen - 1] == '\n')
			break;
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return fail(err, CLIENT_TIMEOUT, errno, "%s: sending: timed out", path);
		if (w < 0)
			return fail(err, CLIENT_UNREACHABLE, errno, "%s: sending: %s", path,
				    strerror(errno));
		off += (size_t)w;
	}
	return 0;
}

/**
 * recv_line() - read up to the first newline, all within @deadline
 * Return: the line (malloc'd, NUL instead of the newline), or NULL with @err set
 */
static char *recv_line(int fd, const char *path, int timeout_s, uint64_t deadline,
		       size_t max_reply, size_t *len, struct client_err *err)
{
	size_t have = 0, scanned = 0, cap = CLIENT_BUF_START;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *buf = malloc(cap);

	if (!buf) {
		fail(err, CLIENT_UNREACHABLE, ENOMEM, "%s", strerror(ENOMEM));
		return NULL;
	}
	for (;;) {
		/* only the bytes not searched yet: a multi-megabyte reply is read once, not once
		 * per recv() */
		char *nl = have > scanned ? memchr(buf + scanned, '\n', have - scanned) : NULL;
		ssize_t r;

		scanned = have;
		if (nl) {
			*nl = '\0';
			*len = (size_t)(nl - buf);
			return buf;
		}
		if (have + 1 >= cap) {
			char *nb;

			if (cap >= max_reply) {
				fail(err, CLIENT_PROTOCOL, 0, "%s: reply longer than %zu bytes",
				     path, max_reply);
				goto out;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				fail(err, CLIENT_UNREACHABLE, ENOMEM, "%s", strerror(ENOMEM));
				goto out;
			}
			buf = nb;
			cap *= 2;
		}
		/* One deadline for the whole reply: a daemon that trickles bytes cannot stretch
		 * it the way a per-recv() timeout could. */
		if (poll(&pfd, 1, client_ms_left(deadline)) == 0)
			goto timeout;
		r = recv(fd, buf + have, cap - have - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			goto timeout;
		if (r < 0) {
			fail(err, CLIENT_UNREACHABLE, errno, "%s: receiving: %s", path,
			     strerror(errno));
			goto out;
		}
		if (r == 0) {
			if (!have) {
				fail(err, CLIENT_PROTOCOL, 0,
				     "%s: the daemon closed the connection without a reply", path);
				goto out;
			}
			buf[have] = '\0'; /* a last line without its newline: take it */
			*len = have;
			return buf;
		}
		have += (size_t)r;
	}
timeout:
	fail(err, CLIENT_TIMEOUT, ETIMEDOUT, "%s: no reply within %d s", path, timeout_s);
out:
	free(buf);
	return NULL;
}

char *client_exchange(const char *path, int timeout_s, size_t max_reply, const char *req,
		      size_t *len, struct client_err *err)
{
	uint64_t deadline = client_now_ms() + (uint64_t)timeout_s * 1000;
	int fd = client_connect(path, timeout_s, err);
	char *line = NULL;

	if (fd < 0)
		return NULL;
	if (!send_line(fd, path, req, err))
		line = recv_line(fd, path, timeout_s, deadline, max_reply, len, err);
	close(fd);
	return line;
}

json_t *client_parse_reply(const char *path, const char *line, size_t len, struct client_err *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(line, len, 0, &jerr);

	if (!j || !json_is_object(j) ||
	    (!json_object_get(j, "return") && !json_object_get(j, "error"))) {
		fail(err, CLIENT_PROTOCOL, 0, "%s: not a tapird reply: %s", path,
		     j ? "no return or error" : jerr.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

json_t *client_call(const char *path, int timeout_s, size_t max_reply, const char *cmd,
		    json_t *args, struct client_err *err)
{
	json_t *req = json_pack("{s:s}", "execute", cmd), *reply;
	size_t len;
	char *line, *out;

	if (!req) {
		json_decref(args);
		fail(err, CLIENT_UNREACHABLE, ENOMEM, "%s", strerror(ENOMEM));
		return NULL;
	}
	if (args)
		json_object_set_new(req, "arguments", args);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line) {
		fail(err, CLIENT_UNREACHABLE, ENOMEM, "%s", strerror(ENOMEM));
		return NULL;
	}
	out = client_exchange(path, timeout_s, max_reply, line, &len, err);
	free(line);
	if (!out)
		return NULL;
	reply = client_parse_reply(path, out, len, err);
	free(out);
	return reply;
}
