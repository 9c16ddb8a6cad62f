/* client.h - the client side of tapird's control socket, shared by tapirctl and tapir-cni:
 * connect, send one request line, read one reply line within one deadline, check that it is
 * the protocol's envelope ({"return": ...} or {"error": ...}).
 *
 * Failures come back as a kind and a one-line message that names the socket; each program
 * decides what a failure means for it (tapirctl exits 2, tapir-cni answers a CNI error).
 * Must not: exit, print, or know any command's arguments or reply.
 */
#ifndef TAPIR_CTL_CLIENT_H
#define TAPIR_CTL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/**
 * enum client_fail - why the daemon could not be talked to
 * @CLIENT_NO_DAEMON:	nobody listens: the socket file is missing or refuses (ENOENT,
 *			ECONNREFUSED): no tapird runs there
 * @CLIENT_UNREACHABLE:	any other failure to connect, send or receive (EACCES, a path too
 *			long, out of memory...)
 * @CLIENT_TIMEOUT:	no whole reply within the deadline
 * @CLIENT_PROTOCOL:	a reply that is not the protocol (not JSON, no return or error,
 *			longer than the caller's bound, the connection closed without one)
 */
enum client_fail {
	CLIENT_NO_DAEMON = 1,
	CLIENT_UNREACHABLE,
	CLIENT_TIMEOUT,
	CLIENT_PROTOCOL,
};

/**
 * struct client_err - what went wrong, for the caller to report
 * @kind:	enum client_fail
 * @errnum:	errno of the failing call, 0 if none
 * @msg:	one line naming the socket: "cannot connect to PATH: No such file or directory"
 */
struct client_err {
	enum client_fail kind;
	int errnum;
	char msg[512];
};

/**
 * client_connect() - connect to the control socket at @path, with send and receive timeouts
 * @timeout_s:	seconds for each send and receive
 * @err:	set on failure
 * Return: the connected socket, or -1
 */
int client_connect(const char *path, int timeout_s, struct client_err *err);

/**
 * client_exchange() - send @req (one line, newline added if missing) and read one reply line
 * @path:	the control socket
 * @timeout_s:	one deadline for the whole exchange
 * @max_reply:	the longest reply accepted (a bound on what a broken daemon can make us hold)
 * @len:	set to the reply's length (without the newline)
 * @err:	set on failure
 * Return: the reply, malloc'd and NUL-terminated, or NULL
 */
char *client_exchange(const char *path, int timeout_s, size_t max_reply, const char *req,
		      size_t *len, struct client_err *err);

/**
 * client_parse_reply() - the reply line @line as JSON, checked to be the protocol's envelope
 * @path:	the socket it came from, for the message
 * @err:	set on failure (kind CLIENT_PROTOCOL)
 * Return: the reply object (a new reference), or NULL
 */
json_t *client_parse_reply(const char *path, const char *line, size_t len, struct client_err *err);

/**
 * client_call() - one command: {"execute": @cmd, "arguments": @args} and its reply envelope
 * @args:	the arguments, stolen (NULL: none)
 * Return: the whole reply (a new reference: "return" or "error" in it), or NULL with @err set
 */
json_t *client_call(const char *path, int timeout_s, size_t max_reply, const char *cmd,
		    json_t *args, struct client_err *err);

/** client_now_ms() - CLOCK_MONOTONIC in milliseconds (deadlines; tapirctl top's intervals) */
uint64_t client_now_ms(void);
/** client_ms_left() - milliseconds until @deadline (0 once passed), for poll() */
int client_ms_left(uint64_t deadline);

#endif
