/* tapirctl_rundir.c - the runtime directories, where every tapird's control socket is one
 * *.sock: finding them, picking the one a single-daemon command talks to, and asking all of
 * them for a read command (status, stats, conns, conn) so that their replies can be merged
 * into one view.
 * Must not: print for people (the commands do) beyond the messages that say which sockets
 * were looked for.
 */
#include <config.h> /* autoconf's: _GNU_SOURCE, for asprintf() */

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "tapirctl.h"

bool merged_failed;

/**
 * struct sockets - control sockets found in the runtime directories
 * @path:	their paths (malloc'd), sorted within each directory
 * @n:		how many
 * @dirs:	the directories looked in, for messages ("/run/tapird, /run/user/1000/tapird")
 */
struct sockets {
	char *path[MAX_SOCKETS];
	size_t n;
	char dirs[2 * PATH_MAX + 8];
};

/** cmp_str() - qsort comparator for an array of strings */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/**
 * scan_dir() - add every *.sock of @dir that is a socket to @ss (a missing or unreadable
 * directory adds nothing)
 */
static void scan_dir(struct sockets *ss, const char *dir)
{
	size_t first = ss->n, dl = strlen(ss->dirs);
	DIR *dp = opendir(dir);
	struct dirent *de;

	snprintf(ss->dirs + dl, sizeof(ss->dirs) - dl, "%s%s", dl ? ", " : "", dir);
	if (!dp)
		return;
	while ((de = readdir(dp)) && ss->n < MAX_SOCKETS) {
		size_t len = strlen(de->d_name);
		struct stat st;
		char *p;

		if (len < 6 || strcmp(de->d_name + len - 5, ".sock"))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0)
			unreachable("%s", strerror(ENOMEM));
		if (stat(p, &st) || !S_ISSOCK(st.st_mode)) {
			free(p);
			continue;
		}
		ss->path[ss->n++] = p;
	}
	closedir(dp);
	qsort(ss->path + first, ss->n - first, sizeof(ss->path[0]), cmp_str);
}

/**
 * find_sockets() - the control sockets of the runtime directories: $TAPIR_RUNTIME_DIR if
 * set; /run/tapird for root; else the user's own directory, then /run/tapird
 */
static void find_sockets(struct sockets *ss)
{
	const char *env = getenv(RUNTIME_DIR_ENV), *xdg = getenv("XDG_RUNTIME_DIR");
	char own[PATH_MAX];

	memset(ss, 0, sizeof(*ss));
	if (env && *env) {
		scan_dir(ss, env);
		return;
	}
	if (geteuid() == 0) {
		scan_dir(ss, RUNTIME_DIR);
		return;
	}
	if (xdg && *xdg)
		snprintf(own, sizeof(own), "%s/tapird", xdg);
	else
		snprintf(own, sizeof(own), "/run/user/%u/tapird", (unsigned int)getuid());
	scan_dir(ss, own);
	scan_dir(ss, RUNTIME_DIR);
}

/** free_sockets() - release what find_sockets() found */
static void free_sockets(struct sockets *ss)
{
	for (size_t i = 0; i < ss->n; i++)
		free(ss->path[i]);
	ss->n = 0;
}

/**
 * pick_socket() - the one socket a command that talks to one daemon uses when -s is not
 * given: the first directory's control.sock, else the only socket found; several and none
 * of them control.sock is an error that lists them (exit 2)
 * Return: the path (static storage)
 */
const char *pick_socket(void)
{
	static char chosen[PATH_MAX];
	struct sockets ss;
	size_t i;

	find_sockets(&ss);
	for (i = 0; i < ss.n; i++) {
		const char *base = strrchr(ss.path[i], '/');

		if (base && !strcmp(base + 1, CONTROL_SOCK_NAME))
			break;
	}
	if (i == ss.n && ss.n == 1)
		i = 0;
	if (i < ss.n) {
		snprintf(chosen, sizeof(chosen), "%s", ss.path[i]);
		free_sockets(&ss);
		return chosen;
	}
	if (!ss.n) /* the old default: its "No such file or directory" says what is missing */
		return DEFAULT_SOCKET;
	fprintf(stderr, "tapirctl: %zu tapird control sockets in %s and none is %s:\n", ss.n,
		ss.dirs, CONTROL_SOCK_NAME);
	for (i = 0; i < ss.n; i++)
		fprintf(stderr, "  %s\n", ss.path[i]);
	fprintf(stderr, "tapirctl: name one with -s PATH\n");
	free_sockets(&ss);
	exit(EXIT_UNREACHABLE);
}

/** merged_take_raw() - move the text request_soft() kept (if any) into @m's entry @i */
static void merged_take_raw(struct merged *m, size_t i)
{
	m->raw[i] = raw_line;
	m->raw_len[i] = raw_len;
	raw_line = NULL;
	raw_len = 0;
}

/**
 * request_all() - run @cmd with @args (stolen, may be NULL) on sock_path if one was given,
 * else on every socket of the runtime directories (those nobody listens on are skipped
 * silently). A daemon's DeviceNotFound is skipped when another answered: with --link, only
 * the daemon serving that link knows it. Other errors are reported and make the exit 1.
 * Return: the replies (malloc'd); exits 1 if none answered with a result, 2 if none could be
 * talked to
 */
struct merged *request_all(const char *cmd, json_t *args)
{
	struct merged *m = calloc(1, sizeof(*m));
	json_t *not_found = NULL;
	bool failed = false;
	struct sockets ss;

	if (!m)
		unreachable("%s", strerror(ENOMEM));
	if (sock_path) {
		m->ret[0] = request(cmd, args, &m->reply[0]);
		merged_take_raw(m, 0);
		snprintf(m->sock[0], sizeof(m->sock[0]), "%s", sock_path);
		m->n = 1;
		return m;
	}
	find_sockets(&ss);
	soft_connect = true;
	for (size_t i = 0; i < ss.n; i++) {
		json_t *reply, *r, *e;

		sock_path = ss.path[i];
		r = request_soft(cmd, args ? json_incref(args) : NULL, &reply);
		if (!reply)
			continue;
		e = json_object_get(reply, "error");
		if (e && !strcmp(json_string_value(json_object_get(e, "class")) ?: "",
				 "DeviceNotFound")) {
			json_decref(not_found);
			not_found = reply;
			continue;
		}
		if (e) {
			report_error(reply);
			json_decref(reply);
			failed = true;
			continue;
		}
		m->reply[m->n] = reply;
		m->ret[m->n] = r;
		merged_take_raw(m, m->n);
		snprintf(m->sock[m->n], sizeof(m->sock[0]), "%s", ss.path[i]);
		m->n++;
	}
	soft_connect = false;
	sock_path = NULL;
	json_decref(args);
	if (!m->n && not_found && !failed) {
		report_error(not_found);
		exit(EXIT_ERROR_REPLY);
	}
	json_decref(not_found);
	if (!m->n && failed)
		exit(EXIT_ERROR_REPLY);
	if (!m->n)
		unreachable("no tapird answers on a control socket in %s%s", ss.dirs,
			    ss.n ? "" : " (none there)");
	free_sockets(&ss);
	if (failed)
		merged_failed = true;
	return m;
}

/** merged_free() - release request_all()'s replies */
void merged_free(struct merged *m)
{
	for (size_t i = 0; i < m->n; i++) {
		json_decref(m->reply[i]);
		free(m->raw[i]);
	}
	free(m);
}

/**
 * json_add() - add the integers of @src into @dst, member by member, into nested objects
 * too (the "total" of stats merged over daemons); members @dst lacks are copied
 */
void json_add(json_t *dst, const json_t *src)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)src, key, v) {
		json_t *d = json_object_get(dst, key);

		if (!d)
			json_object_set(dst, key, v);
		else if (json_is_integer(d) && json_is_integer(v))
			json_integer_set(d, json_integer_value(d) + json_integer_value(v));
		else if (json_is_object(d) && json_is_object(v))
			json_add(d, v);
	}
}

/**
 * merged_array() - the arrays @key of every reply, one after the other, in a new array
 * Return: a new reference
 */
json_t *merged_array(const struct merged *m, const char *key)
{
	json_t *all = json_array();

	if (!all)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 0; i < m->n; i++)
		json_array_extend(all, json_object_get(m->ret[i], key));
	return all;
}
