/* ctl_proto.c - the control protocol without sockets: the QMP envelope that slirp4netns uses
 * (DESIGN.md, "Control protocol"), the argument helpers, the command table and dispatch.
 * ctl_handle_line() turns one request line into one reply line and knows nothing of sockets
 * (the unit tests drive it directly); ctl_server.c calls ctl_answer() for each line a connection
 * sends. Must not: touch a socket, or decide who may mutate (ctl_auth.c does).
 *
 * Error classes (the "class" of an error reply). QMP's names, as slirp4netns uses them:
 *
 *   class            when
 *   ---------------  ---------------------------------------------------------------------
 *   GenericError     the request is unusable: not JSON, not an object, "execute" missing or
 *                    not a string, "arguments" not an object, an argument missing, unknown,
 *                    of the wrong type or with a bad value, a request over CTL_MAX_REQUEST
 *                    bytes, too many clients, a mutating command without the privilege,
 *                    `watch` from ctl_handle_line() (no connection to stream to), a
 *                    capture that cannot start (one runs already, the name is not a bare
 *                    name, the capture directory is not trusted, the file exists or cannot
 *                    be created) or stop (none runs), or the daemon failed to build the reply
 *   CommandNotFound  "execute" names no command, or one reserved but not implemented yet
 *   DeviceNotFound   an argument names an object that does not exist (a link, a flow id)
 *
 * A request may carry an "id" member of any type; the reply echoes it (as QMP does).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "control.h"
#include "ctl_internal.h"
#include "link.h"
#include "tapird.h"

/**
 * ctl_fail() - record an error of class @cls for @r
 * Return: NULL, so that handlers can `return ctl_fail(...)`
 */
__attribute__((format(printf, 3, 4))) json_t *ctl_fail(struct ctl_req *r, const char *cls,
						       const char *fmt, ...)
{
	va_list ap;

	r->err.cls = cls;
	va_start(ap, fmt);
	vsnprintf(r->err.desc, sizeof(r->err.desc), fmt, ap);
	va_end(ap);
	return NULL;
}

/**
 * ctl_arg_string() - the optional string argument @key of @r
 * @out:	set to the string, or NULL when absent (or null)
 * Return: 0, or -1 with the error recorded when present but not a string
 */
int ctl_arg_string(struct ctl_req *r, const char *key, const char **out)
{
	json_t *v = json_object_get(r->args, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		ctl_fail(r, "GenericError", "argument '%s' must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

/**
 * ctl_arg_link() - the optional "link" argument, resolved
 * @out:	the link, or NULL when the argument is absent
 * Return: 0, or -1 with the error recorded (wrong type, no such link)
 */
int ctl_arg_link(struct ctl_req *r, struct link **out)
{
	const char *name;

	*out = NULL;
	if (ctl_arg_string(r, "link", &name) < 0)
		return -1;
	if (!name)
		return 0;
	*out = link_find(r->d, name);
	if (!*out) {
		ctl_fail(r, "DeviceNotFound", "no link named '%s'", name);
		return -1;
	}
	return 0;
}

/**
 * ctl_arg_count() - the optional non-negative integer argument @key of @r (0 when absent)
 * Return: 0, or -1 with the error recorded
 */
int ctl_arg_count(struct ctl_req *r, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(r->args, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		ctl_fail(r, "GenericError", "argument '%s' must be a non-negative integer", key);
		return -1;
	}
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

/**
 * struct ctl_cmd - one command of the protocol
 * @name:	what "execute" says
 * @mutating:	changes the daemon: needs uid 0 or cfg.admin_group
 * @args:	the argument names it accepts (NULL-terminated); others are an error
 * @fn:		the handler (NULL: reserved, not implemented yet); NULL return means error
 */
struct ctl_cmd {
	const char *name;
	bool mutating;
	const char *const args[16];
	json_t *(*fn)(struct ctl_req *r);
};

static const struct ctl_cmd ctl_cmds[] = {
	{ "status", false, { NULL }, ctl_cmd_status },
	{ "stats", false, { "link", NULL }, ctl_cmd_stats },
	{ "conns", false, { "state", "proto", "link", "all", NULL }, ctl_cmd_conns },
	{ "conn", false, { "id", NULL }, ctl_cmd_conn },
	{ "watch", false, { "link", "proto", "state", "id", NULL }, ctl_cmd_watch },
	{ "capture", true, { "action", "file", "link", "count", "bytes", NULL }, ctl_cmd_capture },
	/* Port forwards (fwd.c), with slirp4netns's names and arguments */
	{ "add_hostfwd", true,
	  { "proto", "host_addr", "host_port", "guest_addr", "guest_port", "link", NULL },
	  ctl_cmd_add_hostfwd },
	{ "list_hostfwd", false, { "link", NULL }, ctl_cmd_list_hostfwd },
	{ "remove_hostfwd", true, { "id", NULL }, ctl_cmd_remove_hostfwd },
	/* One daemon, many containers (ctl_links.c) */
	{ "attach", true,
	  { "name", "netns", "pid", "ifname", "address", "gateway", "dns", "mtu", "configure",
	    "dhcp", "host_loopback", "deny", "deny_link_local", "deny_host_addresses", NULL },
	  ctl_cmd_attach },
	{ "detach", true, { "name", NULL }, ctl_cmd_detach },
	/* What containers may reach (ctl_policy.c) */
	{ "policy_list", false, { "link", NULL }, ctl_cmd_policy_list },
	{ "policy_add", true, { "link", "rule", NULL }, ctl_cmd_policy_add },
	{ "policy_remove", true, { "link", "rule", NULL }, ctl_cmd_policy_remove },
	{ "policy_set", true, { "link", "deny_link_local", "deny_host_addresses", NULL },
	  ctl_cmd_policy_set },
};

/**
 * args_check() - reject arguments @cmd does not know (QMP does too: a typo must not silently
 * widen a listing)
 * Return: 0, or -1 with the error recorded
 */
static int args_check(struct ctl_req *r, const struct ctl_cmd *cmd)
{
	const char *key;
	json_t *v;

	json_object_foreach(r->args, key, v) {
		bool known = false;

		for (size_t i = 0; cmd->args[i]; i++)
			known = known || !strcmp(key, cmd->args[i]);
		if (!known) {
			ctl_fail(r, "GenericError", "command '%s' has no argument '%.64s'",
				 cmd->name, key);
			return -1;
		}
	}
	return 0;
}

/**
 * dispatch() - run the request in @req (a parsed object) and return its result
 * Return: the "return" value (new reference), or NULL with r->err set
 */
static json_t *dispatch(struct ctl_req *r, json_t *req, uid_t uid, gid_t gid)
{
	json_t *exec = json_object_get(req, "execute");
	json_t *args = json_object_get(req, "arguments");
	const struct ctl_cmd *cmd = NULL;
	const char *name;
	json_t *ret;

	if (!exec)
		return ctl_fail(r, "GenericError", "missing member 'execute'");
	if (!json_is_string(exec))
		return ctl_fail(r, "GenericError", "member 'execute' must be a string");
	name = json_string_value(exec);
	for (size_t i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (!strcmp(name, ctl_cmds[i].name))
			cmd = &ctl_cmds[i];
	if (!cmd)
		return ctl_fail(r, "CommandNotFound", "the command '%.64s' has not been found",
				name);
	if (args && !json_is_null(args) && !json_is_object(args))
		return ctl_fail(r, "GenericError", "member 'arguments' must be an object");
	if (cmd->mutating && !ctl_may_mutate(r, uid, gid))
		return ctl_fail(r, "GenericError", "permission denied: '%s' needs root%s%s",
				cmd->name, r->d->cfg.admin_group[0] ? " or group " : "",
				r->d->cfg.admin_group);
	if (!cmd->fn)
		return ctl_fail(r, "CommandNotFound", "the command '%s' is not implemented yet",
				cmd->name);
	r->args = json_is_object(args) ? json_incref(args) : json_object();
	if (!r->args)
		return ctl_fail(r, "GenericError", "out of memory");
	ret = args_check(r, cmd) < 0 ? NULL : cmd->fn(r);
	json_decref(r->args);
	r->args = NULL;
	if (!ret && !r->err.cls)
		ctl_fail(r, "GenericError", "out of memory building the reply");
	return ret;
}

/**
 * ctl_dump_line() - @reply (stolen) as one compact JSON line without the newline
 * Return: malloc'd, never NULL (a fixed error line if the reply cannot be built)
 */
char *ctl_dump_line(json_t *reply)
{
	static const char oom[] =
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"out of memory\"}}";
	char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	if (!s)
		s = strdup(oom);
	if (!s)
		abort(); /* the contract says never NULL; nothing sensible is left to do */
	return s;
}

/**
 * job_run_all() - write job @j's whole reply into one string (no socket to slice for)
 * Return: malloc'd line, never NULL
 */
static char *job_run_all(struct conns_job *j)
{
	struct evbuffer *b = evbuffer_new();
	size_t n;
	char *s;

	if (!b)
		return ctl_dump_line(NULL);
	while (!ctl_conns_job_slice(j, b, CTL_CONNS_SLICE))
		;
	n = evbuffer_get_length(b);
	s = malloc(n + 1);
	if (!s) {
		evbuffer_free(b);
		return ctl_dump_line(NULL);
	}
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	evbuffer_free(b);
	return s;
}

/**
 * ctl_answer() - one request line: the reply line, or (for `conns` from a connection) a job
 * @c:		the connection (NULL: none, and a job is run to completion here)
 * @jobp:	set to the job when there is one and @c is set (the return value is then NULL)
 * Return: the reply as one malloc'd JSON line without the newline, or NULL with *@jobp set
 */
char *ctl_answer(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid,
		 struct ctl_client *c, struct conns_job **jobp)
{
	struct ctl_req r = { .d = d, .now_us = tapird_now_us(), .client = c };
	json_t *req = NULL, *ret = NULL, *reply, *id = NULL;
	json_error_t jerr;

	if (len > CTL_MAX_REQUEST) {
		ctl_fail(&r, "GenericError", "request too large (%zu bytes, limit %d)", len,
			 CTL_MAX_REQUEST);
		goto out;
	}
	/* JSON_DECODE_ANY so that a bare value is told "not an object", not "parse error";
	 * jansson bounds nesting depth itself. */
	req = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		ctl_fail(&r, "GenericError", "invalid JSON at column %d: %s", jerr.column,
			 jerr.text);
		goto out;
	}
	if (!json_is_object(req)) {
		ctl_fail(&r, "GenericError", "the request must be a JSON object");
		goto out;
	}
	id = json_object_get(req, "id");
	ret = dispatch(&r, req, uid, gid);
	if (ret && r.job) {
		struct conns_job *j = r.job;
		char *out;

		json_decref(ret);
		if (id)
			j->id_json = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(req);
		if (c && jobp) {
			*jobp = j;
			return NULL;
		}
		out = job_run_all(j);

		ctl_conns_job_free(j);
		return out;
	}
out:
	if (ret)
		reply = json_pack("{s:o}", "return", ret);
	else
		reply = json_pack("{s:{s:s, s:s}}", "error", "class", r.err.cls, "desc",
				  r.err.desc);
	if (reply && id)
		json_object_set(reply, "id", id);
	json_decref(req);
	return ctl_dump_line(reply);
}

char *ctl_handle_line(struct tapird *d, const char *line, size_t len, uid_t uid, gid_t gid)
{
	return ctl_answer(d, line, len, uid, gid, NULL, NULL);
}
