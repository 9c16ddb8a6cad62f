/* tapirctl_request.c - talking to one tapird: which socket (-s, $TAPIR_CONTROL, else the one
 * pick_socket() finds), one request line out and one reply line in with timeouts, the reply's
 * envelope checked and an error reply reported; and `tapirctl raw`, which is just that.
 * Must not: format anything for people but the error line (tapirctl_format.c does).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client.h"
#include "stream.h"
#include "tapirctl.h"

const char *sock_path;
bool soft_connect;
bool keep_raw;
char *raw_line;
size_t raw_len;

/**
 * ctl_connect() - connect to the control socket, with send and receive timeouts
 * Return: the socket; exits 2 on failure, except that with soft_connect set a socket nobody
 * listens on (ECONNREFUSED, or gone: ENOENT) gives -1
 */
int ctl_connect(void)
{
	struct client_err err;
	int fd;

	if (!sock_path)
		sock_path = pick_socket();
	fd = client_connect(sock_path, timeout_s, &err);
	if (fd < 0 && soft_connect && err.kind == CLIENT_NO_DAEMON)
		return -1;
	if (fd < 0)
		unreachable("%s", err.msg);
	return fd;
}

/**
 * exchange() - send @req (one line, newline added if missing) and read one reply line
 * @len:	set to the reply's length (without the newline)
 * Return: the reply, malloc'd and NUL-terminated; exits 2 on any failure (NULL when
 * soft_connect skips a socket nobody listens on)
 */
char *exchange(const char *req, size_t *len)
{
	struct client_err err;
	char *line;

	if (!sock_path)
		sock_path = pick_socket();
	line = client_exchange(sock_path, timeout_s, MAX_REPLY, req, len, &err);
	if (!line && soft_connect && err.kind == CLIENT_NO_DAEMON)
		return NULL;
	if (!line)
		unreachable("%s", err.msg);
	return line;
}

/**
 * parse_reply() - the reply line as JSON; exits 2 if it is not the protocol's envelope
 */
json_t *parse_reply(const char *line, size_t len)
{
	struct client_err err;
	json_t *j = client_parse_reply(sock_path, line, len, &err);

	if (!j)
		unreachable("%s", err.msg);
	return j;
}

/**
 * report_error() - if @reply is an error, print "tapirctl: CLASS: desc" and say so
 * Return: true if it was an error
 */
bool report_error(json_t *reply)
{
	json_t *e = json_object_get(reply, "error");
	const char *cls, *desc;

	if (!e)
		return false;
	cls = json_string_value(json_object_get(e, "class"));
	desc = json_string_value(json_object_get(e, "desc"));
	fprintf(stderr, "tapirctl: %s: %s\n", cls ? cls : "Error", desc ? desc : "(no description)");
	return true;
}

/**
 * request_soft() - run @cmd with @args (stolen, may be NULL) on sock_path, keeping an error
 * reply for the caller
 * @reply:	set to the whole reply (the caller frees it), or NULL when soft_connect skipped
 *		a socket nobody listens on
 * Return: the borrowed "return" value, or NULL (an error reply, or skipped); exits 2 if the
 * daemon cannot be talked to
 */
json_t *request_soft(const char *cmd, json_t *args, json_t **reply)
{
	json_t *req = json_pack("{s:s}", "execute", cmd);
	size_t len;
	char *line, *out;

	*reply = NULL;
	if (!req)
		unreachable("%s", strerror(ENOMEM));
	if (args)
		json_object_set_new(req, "arguments", args);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		unreachable("%s", strerror(ENOMEM));
	out = exchange(line, &len);
	free(line);
	if (!out)
		return NULL;
	if (keep_raw && js_reply_return((struct jspan){ out, len }, &(struct jspan){ 0 })) {
		*reply = json_pack("{s:{}}", "return"); /* the text is in raw_line */
		if (!*reply)
			unreachable("%s", strerror(ENOMEM));
		raw_line = out;
		raw_len = len;
		return json_object_get(*reply, "return");
	}
	*reply = parse_reply(out, len);
	free(out);
	return json_object_get(*reply, "return");
}

/**
 * request() - run @cmd with @args (stolen, may be NULL) and return its "return" value
 * @reply:	set to the whole reply, which owns the return value; the caller frees it
 * Return: the borrowed "return" value; exits 1 on an error reply, 2 if unreachable
 */
json_t *request(const char *cmd, json_t *args, json_t **reply)
{
	json_t *r = request_soft(cmd, args, reply);

	if (!*reply) /* only with soft_connect, which single requests never set */
		unreachable("cannot connect to %s", sock_path);
	if (report_error(*reply)) {
		json_decref(*reply);
		exit(EXIT_ERROR_REPLY);
	}
	return r;
}

/**
 * cmd_raw() - `tapirctl raw JSON`: send the line as it is, print the reply line as it is;
 * exit 1 if it is an error reply (without printing it twice)
 */
int cmd_raw(int argc, char **argv)
{
	json_t *reply;
	size_t len;
	char *out;
	int rc;

	if (argc != 2)
		die_usage("raw takes one JSON request");
	if (strchr(argv[1], '\n') && strchr(argv[1], '\n')[1])
		die_usage("raw: one request line only");
	out = exchange(argv[1], &len);
	reply = parse_reply(out, len);
	if (opt_json) {
		json_t *r = json_object_get(reply, "return");

		print_json(r ? r : reply);
	} else {
		printf("%s\n", out);
	}
	rc = json_object_get(reply, "error") ? EXIT_ERROR_REPLY : 0;
	json_decref(reply);
	free(out);
	return rc;
}
