/* tapir-cni.c - a CNI plugin (spec 1.0.0) that gives a container its network through tapird:
 * ADD asks tapird to attach CNI_NETNS with a TAP named CNI_IFNAME, DEL detaches it, CHECK
 * compares prevResult with what tapird and the namespace show, VERSION lists the versions.
 *
 * Protocol (SPEC.md section 2): the runtime sets CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME (CNI_ARGS and CNI_PATH are accepted and unused: nothing is delegated) and writes
 * the plugin's network configuration on stdin. Success: the result on stdout, exit 0 (DEL and
 * CHECK print nothing). Failure: the error object {"cniVersion", "code", "msg", "details"}
 * on stdout, exit 1.
 *
 * DEL and a daemon that is not running: tapird's TAPs are not persistent, so when no tapird
 * listens on the socket no link of this attachment exists anywhere; section 2 asks DEL to
 * succeed when "the interface in question ... [is] missing", so DEL succeeds (and says so on
 * stderr). A daemon that is there but does not answer, or refuses access, is an error.
 *
 * Must not: know tapird's internals; it speaks the control protocol (ctl/client.h) and reads
 * the container's namespace (ctl/cni_netns.h). The CNI rules themselves are in ctl/cni.c.
 */
#include <config.h> /* autoconf's: PACKAGE_VERSION */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "cni.h"
#include "cni_netns.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

/* tapird answers attach, detach and status at once; a stalled one must not hang the
 * runtime, which waits for us */
#define CNI_TIMEOUT_S 10
/* the runtime writes the configuration and closes stdin at once; one that never closes it
 * must not hang us either */
#define CNI_STDIN_TIMEOUT_S 30
/* status lists every link with its counters: a few KiB each, 64 links at most */
#define CNI_MAX_REPLY (16u << 20)

/**
 * fail() - print @e as the CNI error result on stdout and exit 1 (SPEC.md section 5 "Error")
 */
__attribute__((noreturn)) static void fail(const struct cni_error *e)
{
	json_t *j = json_pack("{s:s, s:i, s:s, s:s}", "cniVersion",
			      e->version[0] ? e->version : CNI_VERSION, "code", e->code, "msg",
			      e->msg, "details", e->details);

	if (!j || json_dumpf(j, stdout, JSON_INDENT(4)))
		fprintf(stderr, "tapir-cni: %s: %s\n", e->msg, e->details);
	else
		putchar('\n');
	json_decref(j);
	fflush(stdout);
	exit(1);
}

/**
 * print_result() - @r (stolen) on stdout; exit 1 if it cannot be written
 */
static void print_result(json_t *r, struct cni_error *e)
{
	if (!r) {
		cni_err(e, CNI_ERR_INTERNAL, "out of memory", "building the result");
		fail(e);
	}
	if (json_dumpf(r, stdout, JSON_INDENT(4)) || putchar('\n') == EOF || fflush(stdout)) {
		fprintf(stderr, "tapir-cni: writing the result: %s\n", strerror(errno));
		exit(1);
	}
	json_decref(r);
}

/**
 * read_stdin() - all of stdin, at most CNI_MAX_STDIN bytes, within CNI_STDIN_TIMEOUT_S
 * @len:	set to its length
 * Return: the bytes (malloc'd, NUL-terminated); fails with code 5 on error
 */
static char *read_stdin(size_t *len, struct cni_error *e)
{
	struct timespec t0, t;
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	char *buf = malloc(CNI_MAX_STDIN + 1);
	size_t have = 0;

	if (!buf) {
		cni_err(e, CNI_ERR_IO, "cannot read the network configuration", "%s",
			strerror(ENOMEM));
		fail(e);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		long left_ms;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left_ms = (t0.tv_sec + CNI_STDIN_TIMEOUT_S - t.tv_sec) * 1000 +
			  (t0.tv_nsec - t.tv_nsec) / 1000000;
		if (left_ms <= 0 || poll(&pfd, 1, (int)left_ms) == 0) {
			cni_err(e, CNI_ERR_IO, "cannot read the network configuration",
				"stdin: not closed within %d s", CNI_STDIN_TIMEOUT_S);
			goto fail;
		}
		/* one byte past the bound tells "exactly the bound" from "more" */
		r = read(0, buf + have, CNI_MAX_STDIN + 1 - have);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r < 0) {
			cni_err(e, CNI_ERR_IO, "cannot read the network configuration",
				"stdin: %s", strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		have += (size_t)r;
		if (have > CNI_MAX_STDIN) {
			cni_err(e, CNI_ERR_IO, "network configuration too large",
				"stdin: more than %u bytes (CNI_MAX_STDIN)", CNI_MAX_STDIN);
			goto fail;
		}
	}
	buf[have] = '\0';
	*len = have;
	return buf;
fail:
	free(buf);
	fail(e);
}

/**
 * daemon_unreachable() - the CNI error for a call that got no reply: code 11 (try again
 * later) for a daemon that is not running or not answering yet (it may be starting), 1001 for
 * anything else (permission, not the protocol)
 */
__attribute__((noreturn)) static void daemon_unreachable(const struct client_err *ce,
							 struct cni_error *e)
{
	if (ce->kind == CLIENT_NO_DAEMON)
		cni_err(e, CNI_ERR_TRY_AGAIN, "tapird is not running",
			"%s (start tapird, or name its control socket in the configuration's "
			"\"socket\")",
			ce->msg);
	else if (ce->kind == CLIENT_TIMEOUT)
		cni_err(e, CNI_ERR_TRY_AGAIN, "tapird did not answer", "%s", ce->msg);
	else
		cni_err(e, CNI_ERR_TAPIRD_UNREACHABLE, "cannot talk to tapird", "%s", ce->msg);
	fail(e);
}

/**
 * daemon_refused() - the CNI error (1000) for tapird's error reply @reply to @what
 */
__attribute__((noreturn)) static void daemon_refused(json_t *reply, const char *what,
						     const char *link, struct cni_error *e)
{
	json_t *err = json_object_get(reply, "error");
	const char *cls = json_string_value(json_object_get(err, "class"));
	const char *desc = json_string_value(json_object_get(err, "desc"));
	char msg[64];

	snprintf(msg, sizeof(msg), "tapird refused %s", what);
	cni_err(e, CNI_ERR_TAPIRD_REFUSED, msg, "link %s: %s: %s", link, cls ? cls : "Error",
		desc ? desc : "(no description)");
	json_decref(reply);
	fail(e);
}

/**
 * detach_quietly() - undo an attach whose result cannot be given (best effort: the runtime
 * calls DEL after a failed ADD as well)
 */
static void detach_quietly(const struct cni_conf *conf, const char *name)
{
	struct client_err ce;
	json_t *r = client_call(conf->socket, CNI_TIMEOUT_S, CNI_MAX_REPLY, "detach",
				json_pack("{s:s}", "name", name), &ce);

	json_decref(r);
}

/**
 * add_forwards() - runtimeConfig.portMappings as forwards into link @name; on any failure the
 * link is detached (which closes the forwards made so far) and the plugin fails
 */
static void add_forwards(const struct cni_conf *conf, const char *name, struct cni_error *e)
{
	struct client_err ce;
	json_t *args, *reply;
	size_t i;

	json_array_foreach(conf->forwards, i, args) {
		json_t *a = json_deep_copy(args);

		if (!a || json_object_set_new(a, "link", json_string(name))) {
			json_decref(a);
			detach_quietly(conf, name);
			cni_err(e, CNI_ERR_INTERNAL, "out of memory", "building add_hostfwd");
			fail(e);
		}
		reply = client_call(conf->socket, CNI_TIMEOUT_S, CNI_MAX_REPLY, "add_hostfwd", a,
				    &ce);
		if (!reply || json_object_get(reply, "error"))
			detach_quietly(conf, name);
		if (!reply)
			daemon_unreachable(&ce, e);
		if (json_object_get(reply, "error"))
			daemon_refused(reply, "a port mapping", name, e);
		json_decref(reply);
	}
}

/**
 * cmd_add() - attach the container; print the Success result
 */
static void cmd_add(const struct cni_conf *conf, const struct cni_env *env, struct cni_error *e)
{
	char name[LINK_NAME_MAX], nserr[PATH_MAX + 64];
	json_t *args = json_deep_copy(conf->attach), *reply;
	struct client_err ce;
	struct cni_iface ifc;
	struct cni_link l;
	bool found;

	cni_link_name(name, env->containerid, env->ifname);
	if (!args || json_object_set_new(args, "name", json_string(name)) ||
	    json_object_set_new(args, "netns", json_string(env->netns)) ||
	    json_object_set_new(args, "ifname", json_string(env->ifname))) {
		json_decref(args);
		cni_err(e, CNI_ERR_INTERNAL, "out of memory", "building the attach request");
		fail(e);
	}
	reply = client_call(conf->socket, CNI_TIMEOUT_S, CNI_MAX_REPLY, "attach", args, &ce);
	if (!reply)
		daemon_unreachable(&ce, e);
	if (json_object_get(reply, "error"))
		daemon_refused(reply, "to attach", name, e);
	if (cni_link_from_json(&l, json_object_get(reply, "return"), e)) {
		json_decref(reply);
		detach_quietly(conf, name);
		fail(e);
	}
	json_decref(reply);
	/* the MAC is the container's side of the TAP: the kernel chose it, tapird did not */
	if (cni_netns_iface(env->netns, l.ifname, &ifc, &found, nserr, sizeof(nserr)) ||
	    !found) {
		if (!found)
			snprintf(nserr, sizeof(nserr), "%s: no interface %s after the attach",
				 env->netns, l.ifname);
		detach_quietly(conf, name);
		cni_err(e, CNI_ERR_NETNS, "cannot read the container's interface", "%s", nserr);
		fail(e);
	}
	add_forwards(conf, name, e);
	print_result(cni_result(conf, env, &l, ifc.mac), e);
}

/**
 * cmd_del() - detach the container; missing is success (SPEC.md section 2 "DEL")
 */
static void cmd_del(const struct cni_conf *conf, const struct cni_env *env, struct cni_error *e)
{
	char name[LINK_NAME_MAX];
	struct client_err ce;
	json_t *reply;

	cni_link_name(name, env->containerid, env->ifname);
	reply = client_call(conf->socket, CNI_TIMEOUT_S, CNI_MAX_REPLY, "detach",
			    json_pack("{s:s}", "name", name), &ce);
	if (!reply && ce.kind == CLIENT_NO_DAEMON) {
		/* no tapird: its TAPs went with it (see the top of this file) */
		fprintf(stderr, "tapir-cni: DEL %s: %s: no tapird runs, so the link is gone\n",
			name, ce.msg);
		return;
	}
	if (!reply)
		daemon_unreachable(&ce, e);
	if (json_object_get(reply, "error")) {
		const char *cls = json_string_value(
			json_object_get(json_object_get(reply, "error"), "class"));

		if (!cls || strcmp(cls, "DeviceNotFound"))
			daemon_refused(reply, "to detach", name, e);
	}
	json_decref(reply);
}

/**
 * find_link() - the entry named @name in status's "links"
 * Return: 0 with @l filled, 1 if there is none, -1 with @e set if it is malformed
 */
static int find_link(const json_t *status, const char *name, struct cni_link *l,
		     struct cni_error *e)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(status, "links"), i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));

		if (n && !strcmp(n, name))
			return cni_link_from_json(l, v, e);
	}
	return 1;
}

/**
 * cmd_check() - compare prevResult with tapird's link and the container's interface
 */
static void cmd_check(const struct cni_conf *conf, const struct cni_env *env,
		      struct cni_error *e)
{
	char name[LINK_NAME_MAX], nserr[PATH_MAX + 64];
	struct cni_iface ifc;
	struct client_err ce;
	struct cni_link l;
	bool found, attached;
	json_t *reply;
	int rc;

	cni_link_name(name, env->containerid, env->ifname);
	reply = client_call(conf->socket, CNI_TIMEOUT_S, CNI_MAX_REPLY, "status", NULL, &ce);
	if (!reply && ce.kind == CLIENT_NO_DAEMON) {
		/* section 2 "CHECK": an error if "a daemon required for connectivity" is
		 * missing; its TAPs are gone with it, so this is no transient state */
		cni_err(e, CNI_ERR_CHECK, "tapird is not running",
			"%s: the link %s and its TAP are gone", ce.msg, name);
		fail(e);
	}
	if (!reply)
		daemon_unreachable(&ce, e);
	if (json_object_get(reply, "error"))
		daemon_refused(reply, "status", name, e);
	rc = find_link(json_object_get(reply, "return"), name, &l, e);
	json_decref(reply);
	if (rc < 0)
		fail(e);
	attached = rc == 0;
	if (cni_netns_iface(env->netns, env->ifname, &ifc, &found, nserr, sizeof(nserr))) {
		cni_err(e, CNI_ERR_NETNS, "cannot read the container's namespace", "%s", nserr);
		fail(e);
	}
	if (cni_check(conf, env, attached ? &l : NULL,
		      attached && cni_netns_same(l.netns, env->netns), found ? &ifc : NULL, e))
		fail(e);
}

/** env_get() - getenv() with the signature cni_parse_env() takes */
static const char *env_get(const char *name)
{
	return getenv(name);
}

int main(int argc, char **argv)
{
	struct cni_error e = { 0 };
	struct cni_conf conf;
	struct cni_env env;
	size_t len;
	char *in;

	if (argc > 1 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("tapir-cni %s (CNI spec %s)\n", PACKAGE_VERSION, CNI_VERSION);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr,
			"tapir-cni: a CNI plugin for tapird; container runtimes run it with "
			"CNI_COMMAND and the other CNI_* variables set, and the network "
			"configuration on stdin (see README.md, \"CNI\").\n");
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 64 : 0;
	}
	if (cni_parse_env(&env, env_get, &e))
		fail(&e);
	in = read_stdin(&len, &e);
	if (env.command == CNI_CMD_VERSION) {
		json_t *v = cni_version_json(in, len, &e);

		free(in);
		if (!v)
			fail(&e);
		print_result(v, &e);
		return 0;
	}
	if (cni_parse_conf(&conf, &env, in, len, &e)) {
		free(in);
		fail(&e);
	}
	free(in);
	switch (env.command) {
	case CNI_CMD_ADD:
		cmd_add(&conf, &env, &e);
		break;
	case CNI_CMD_DEL:
		cmd_del(&conf, &env, &e);
		break;
	case CNI_CMD_CHECK:
		cmd_check(&conf, &env, &e);
		break;
	case CNI_CMD_VERSION:
		break;
	}
	cni_conf_free(&conf);
	return 0;
}
