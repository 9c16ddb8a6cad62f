/* tapirctl.c - the command line for tapird: one request on the control socket, the reply shown
 * for people (tables, sizes, ages) or, with --json, as the raw "return" value for scripts.
 *
 * Exit codes: 0 success, 1 the daemon answered with an error ("tapirctl: CLASS: desc" on
 * stderr), 2 the daemon could not be reached (no socket, refused, no reply in time, a reply
 * that is not the protocol), 64 bad usage (sysexits' EX_USAGE).
 * Must not: know the daemon's internals; everything comes from the JSON.
 */
#include <config.h> /* autoconf's: PACKAGE_VERSION */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "stream.h"
#include "fwdspec.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_SOCKET "/run/tapird/control.sock"
#define SOCKET_ENV "TAPIR_CONTROL"
/* The runtime directories (attach contract, "Runtime directory"): every tapird's control
 * socket is one *.sock there. The environment variable names one directory instead (tests,
 * and a user who keeps sockets elsewhere). */
#define RUNTIME_DIR "/run/tapird"
#define RUNTIME_DIR_ENV "TAPIR_RUNTIME_DIR"
#define CONTROL_SOCK_NAME "control.sock"
/* Sockets read from the runtime directories: a host runs one tapird per container at most */
#define MAX_SOCKETS 1024
#define TIMEOUT_S 10               /* default: a stalled daemon must not hang scripts forever */
#define MAX_REPLY (1024u << 20)    /* 1 GiB: far beyond any table, short of eating the host */

#define EXIT_ERROR_REPLY 1
#define EXIT_UNREACHABLE 2
#define EXIT_USAGE 64

/* NULL until chosen: -s, $TAPIR_CONTROL, or pick_socket() from the runtime directories */
static const char *sock_path;
/* connect failures that mean "nobody listens here" (a stale socket) make ctl_connect()
 * return -1 instead of exiting, while a listing goes through every socket */
static bool soft_connect;
/* a merged listing went on past a daemon's error reply: exit 1 at the end */
static bool merged_failed;
/* request_soft() keeps a successful reply as text (raw_line) instead of parsing it: the
 * `conns` listing reads it in place (stream.h) */
static bool keep_raw;
static char *raw_line;
static size_t raw_len;
static bool opt_json;
static int timeout_s = TIMEOUT_S;

/* The options of commands that have no others: --json may also follow the command. */
static const struct option json_only_opts[] = {
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 },
};

/**
 * usage() - the help text on @out
 */
static void usage(FILE *out)
{
	fprintf(out,
		"Usage: tapirctl [-s|--socket PATH] [-j|--json] [-t|--timeout SECS] COMMAND [ARGS]\n"
		"Show what tapird is doing (its control socket speaks JSON).\n"
		"\n"
		"Commands:\n"
		"  status                      daemon and links: addresses, traffic, flows per state\n"
		"  stats [--link L]            every counter, drops by reason\n"
		"  conns [--state S] [--proto tcp|udp] [--link L] [--all]\n"
		"                              the connection table (--all: and recently closed)\n"
		"  conn ID                     one connection in detail: TCP internals, the upstream\n"
		"                              socket's TCP_INFO, its state history\n"
		"  watch [--link L] [--proto P] [--state S] [--id N] [--count N]\n"
		"                              one line per flow event (open, state, close) as they\n"
		"                              happen; --json for the raw events\n"
		"  top [-n N] [-d SECS] [--link L] [--rows K]\n"
		"                              live view: flows per state, rates, busiest flows\n"
		"                              (q quits; without a terminal: N plain snapshots)\n"
		"  capture start NAME [--link L] [--count N] [--bytes N]  (NAME: a file in tapird's\n"
		"      capture-dir, /var/lib/tapird/captures by default)\n"
		"  capture stop|status [--link L]\n"
		"                              pcap of the link's TAP traffic (root or admin group)\n"
		"  fwd add [--udp] [--link L] [HOSTADDR:]HOSTPORT:CONTAINERPORT\n"
		"                              forward a host port (or range 8000-8010:80-90) into\n"
		"                              the container (root or admin group)\n"
		"  fwd list [--link L]         the port forwards\n"
		"  fwd del ID                  remove a forward (its connections stay)\n"
		"  policy list [--link L]      what containers may not reach: the default and\n"
		"                              each link's deny rules and switches\n"
		"  policy add|remove [--link L] CIDR[:PORT[-PORT]] [tcp|udp|any]\n"
		"  policy set [--link L] deny-link-local|deny-host-addresses yes|no\n"
		"                              change it at run time, for link L or (without\n"
		"                              --link) for every link (root or admin group)\n"
		"  attach (--netns PATH|NAME | --pid PID) --name NAME [--ifname IF]\n"
		"         [--address CIDR] [--gateway ADDR] [--dns ADDR] [--mtu N]\n"
		"         [--no-configure] [--no-host-loopback] [--deny RULE]...\n"
		"         [--deny-link-local] [--deny-host-addresses]\n"
		"                              serve one more container (root or admin group)\n"
		"  detach NAME                 stop serving it: its flows, forwards and TAP go\n"
		"  raw JSON                    send one request line, print the reply line\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH   control socket (env " SOCKET_ENV "). Without it, status,\n"
		"                      stats and conns ask every *.sock of the runtime directory\n"
		"                      (" RUNTIME_DIR "/ for root; $XDG_RUNTIME_DIR/tapird/ and\n"
		"                      " RUNTIME_DIR "/ otherwise; env " RUNTIME_DIR_ENV ") and merge;\n"
		"                      other commands use its " CONTROL_SOCK_NAME " or its only socket\n"
		"  -j, --json          print the reply's \"return\" value as JSON\n"
		"  -t, --timeout SECS  give up on a daemon that does not answer (default 10)\n"
		"  -h, --help          this help\n"
		"  -V, --version       print the version\n"
		"\n"
		"Exit: 0 ok, 1 the daemon answered with an error, 2 the daemon could not be reached,\n"
		"64 bad usage.\n");
}

/**
 * die_usage() - complain about the command line and exit EX_USAGE
 */
__attribute__((noreturn, format(printf, 1, 2))) static void die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("tapirctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'tapirctl --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/**
 * unreachable() - say why the daemon could not be talked to and exit 2
 */
__attribute__((noreturn, format(printf, 1, 2))) static void unreachable(const char *fmt, ...)
{
	va_list ap;

	fputs("tapirctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_UNREACHABLE);
}

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
static const char *pick_socket(void)
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

/**
 * ctl_connect() - connect to the control socket, with send and receive timeouts
 * Return: the socket; exits 2 on failure, except that with soft_connect set a socket nobody
 * listens on (ECONNREFUSED, or gone: ENOENT) gives -1
 */
static int ctl_connect(void)
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

/** now_ms() - CLOCK_MONOTONIC in milliseconds */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** ms_left() - milliseconds until @deadline (0 once passed), for poll() */
static int ms_left(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

/**
 * exchange() - send @req (one line, newline added if missing) and read one reply line
 * @len:	set to the reply's length (without the newline)
 * Return: the reply, malloc'd and NUL-terminated; exits 2 on any failure (NULL when
 * soft_connect skips a socket nobody listens on)
 */
static char *exchange(const char *req, size_t *len)
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
static json_t *parse_reply(const char *line, size_t len)
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
static bool report_error(json_t *reply)
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
static json_t *request_soft(const char *cmd, json_t *args, json_t **reply)
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
static json_t *request(const char *cmd, json_t *args, json_t **reply)
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
 * struct merged - the replies of every daemon to one read command (status, stats, conns)
 * @reply:	each daemon's whole reply (owned)
 * @ret:	its "return" value (borrowed from @reply)
 * @sock:	the socket it came from
 * @raw:	with keep_raw, each reply's text (owned; @reply is then a placeholder)
 * @raw_len:	its length
 * @n:		how many answered
 */
struct merged {
	json_t *reply[MAX_SOCKETS];
	json_t *ret[MAX_SOCKETS];
	char sock[MAX_SOCKETS][PATH_MAX];
	char *raw[MAX_SOCKETS];
	size_t raw_len[MAX_SOCKETS];
	size_t n;
};

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
static struct merged *request_all(const char *cmd, json_t *args)
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
static void merged_free(struct merged *m)
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
static void json_add(json_t *dst, const json_t *src)
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
static json_t *merged_array(const struct merged *m, const char *key)
{
	json_t *all = json_array();

	if (!all)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 0; i < m->n; i++)
		json_array_extend(all, json_object_get(m->ret[i], key));
	return all;
}

/**
 * print_json() - @v pretty-printed on stdout (any JSON value), streamed through stdio rather
 * than built as one string first (a 10,000-flow listing is ~10 MB: the string's growth by
 * realloc cost more than the formatting)
 */
static void print_json(const json_t *v)
{
	if (!json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY))
		putchar('\n');
}

/**
 * json_shown() - with --json, print @r (the "return" value) and free @reply
 * Return: true if it did, and the command is done; false to print for people
 */
static bool json_shown(const json_t *r, json_t *reply)
{
	if (!opt_json)
		return false;
	print_json(r);
	json_decref(reply);
	return true;
}

/**
 * common_opt() - one of the options several commands share: --state, --proto, --link, --all
 * (filters, set in @args) and --json; each command's option string says which it takes
 * @o:		what getopt_long() returned
 * @args:	the request's arguments (may be NULL if the command takes only --json)
 * Return: true if @o was one of them
 */
static bool common_opt(int o, json_t *args)
{
	switch (o) {
	case 's':
		json_object_set_new(args, "state", json_string(optarg));
		break;
	case 'p':
		json_object_set_new(args, "proto", json_string(optarg));
		break;
	case 'l':
		json_object_set_new(args, "link", json_string(optarg));
		break;
	case 'a':
		json_object_set_new(args, "all", json_true());
		break;
	case 'j':
		opt_json = true;
		break;
	default:
		return false;
	}
	return true;
}

/**
 * parse_opts() - the options of a command that takes only common_opt() ones; exits EX_USAGE
 * with "@cmd: bad option" on any other
 */
static void parse_opts(int argc, char **argv, const char *optstring, const struct option *opts,
		       json_t *args, const char *cmd)
{
	int o;

	while ((o = getopt_long(argc, argv, optstring, opts, NULL)) != -1)
		if (!common_opt(o, args))
			die_usage("%s: bad option", cmd);
}

/**
 * no_more_args() - exit EX_USAGE with "@cmd: unexpected argument '...'" if operands are left
 */
static void no_more_args(int argc, char **argv, const char *cmd)
{
	if (optind < argc)
		die_usage("%s: unexpected argument '%s'", cmd, argv[optind]);
}

/* --- small formatters --------------------------------------------------------------------- */

/** jint() - integer member @key of @o, 0 if absent */
static long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/** jstr() - string member @key of @o, @dflt if absent or not a string */
static const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/**
 * human_bytes() - "512", "1.5K", "3.2M" (powers of 1024, like ss and ls -h)
 * Return: @buf
 */
static const char *human_bytes(char *buf, size_t len, long long v)
{
	static const char units[] = "KMGTPE";
	double x = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%lld", v);
		return buf;
	}
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	snprintf(buf, len, x < 10 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return buf;
}

/**
 * human_ms() - "850ms", "12.3s", "3m05s", "2h03m", "4d02h"
 * Return: @buf
 */
static const char *human_ms(char *buf, size_t len, long long ms)
{
	long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%lldms", ms);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
	return buf;
}

/* --- status ------------------------------------------------------------------------------- */

/**
 * print_link_status() - one link of `status`
 */
static void print_link_status(const json_t *l)
{
	const json_t *c = json_object_get(l, "counters"), *fl = json_object_get(l, "flows");
	const json_t *by = json_object_get(fl, "by_state"), *v;
	char b1[16], b2[16];
	long long drops = 0;
	const char *key;
	bool first = true;

	json_object_foreach((json_t *)c, key, v)
		if (!strncmp(key, "drop_", 5))
			drops += json_integer_value(v);
	printf("link %s\n", jstr(l, "name", "?"));
	printf("  netns          %s\n", jstr(l, "netns", "?"));
	printf("  interface      %s (index %lld)%s\n", jstr(l, "ifname", "?"), jint(l, "ifindex"),
	       json_is_true(json_object_get(l, "configured")) ? "" : ", not configured");
	printf("  address        %s, gateway %s, dns %s\n", jstr(l, "address", "?"),
	       jstr(l, "gateway", "?"), jstr(l, "dns", "?"));
	printf("  mtu            %lld\n", jint(l, "mtu"));
	printf("  mac            %s (ours), %s (container)\n", jstr(l, "mac", "?"),
	       jstr(l, "container_mac", "not seen yet"));
	printf("  in             %lld frames, %s bytes\n", jint(c, "rx_frames"),
	       human_bytes(b1, sizeof(b1), jint(c, "rx_bytes")));
	printf("  out            %lld frames, %s bytes\n", jint(c, "tx_frames"),
	       human_bytes(b2, sizeof(b2), jint(c, "tx_bytes")));
	printf("  drops          %lld (tapirctl stats for reasons)\n", drops);
	printf("  flows          %lld", jint(fl, "total"));
	json_object_foreach((json_t *)by, key, v) {
		if (!json_integer_value(v))
			continue;
		printf("%s%s %lld", first ? ": " : ", ", key, (long long)json_integer_value(v));
		first = false;
	}
	putchar('\n');
}

/**
 * status_merged() - the status of several daemons as one object of today's shape: the first
 * daemon's fields, every daemon's links, the flows summed, and "daemons" (socket, version,
 * pid, uptime_ms, started of each) when there is more than one
 * Return: a new reference
 */
static json_t *status_merged(const struct merged *m)
{
	json_t *o = json_deep_copy(m->ret[0]), *daemons = json_array();
	json_int_t total = 0;

	if (!o || !daemons)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 0; i < m->n; i++) {
		total += jint(m->ret[i], "flows_total");
		json_array_append_new(daemons,
				      json_pack("{s:s, s:O?, s:O?, s:O?, s:O?}", "socket",
						m->sock[i], "version",
						json_object_get(m->ret[i], "version"), "pid",
						json_object_get(m->ret[i], "pid"), "uptime_ms",
						json_object_get(m->ret[i], "uptime_ms"), "started",
						json_object_get(m->ret[i], "started")));
	}
	json_object_set_new(o, "links", merged_array(m, "links"));
	json_object_set_new(o, "flows_total", json_integer(total));
	if (m->n > 1)
		json_object_set_new(o, "daemons", daemons);
	else
		json_decref(daemons);
	return o;
}

/**
 * cmd_status() - `tapirctl status`: each daemon (every one of the runtime directory without
 * -s), then its links
 */
static int cmd_status(int argc, char **argv)
{
	struct merged *m;
	json_t *links, *ctl;
	char up[32];
	size_t i, k;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "status");
	if (optind < argc)
		die_usage("status takes no arguments");
	m = request_all("status", NULL);
	if (opt_json) {
		json_t *o = status_merged(m);

		print_json(o);
		json_decref(o);
		merged_free(m);
		return merged_failed ? EXIT_ERROR_REPLY : 0;
	}
	for (k = 0; k < m->n; k++) {
		const json_t *r = m->ret[k];

		if (k)
			putchar('\n');
		printf("tapird %s, pid %lld, up %s (since %s), %lld flows", jstr(r, "version", "?"),
		       jint(r, "pid"), human_ms(up, sizeof(up), jint(r, "uptime_ms")),
		       jstr(r, "started", "?"), jint(r, "flows_total"));
		printf(m->n > 1 ? ", control %s\n" : "\n", m->sock[k]);
		ctl = json_object_get(r, "control");
		if (json_is_object(ctl))
			printf("control socket: %lld clients (limit %lld, %lld per user), refused "
			       "%lld (full) %lld (per user), %lld closed idle\n",
			       jint(ctl, "clients"), jint(ctl, "max_clients"),
			       jint(ctl, "max_clients_per_uid"), jint(ctl, "refused_full"),
			       jint(ctl, "refused_uid"), jint(ctl, "idle_closed"));
		links = json_object_get(r, "links");
		if (!json_array_size(links))
			printf("no links\n");
		for (i = 0; i < json_array_size(links); i++)
			print_link_status(json_array_get(links, i));
	}
	merged_free(m);
	return merged_failed ? EXIT_ERROR_REPLY : 0;
}

/* --- stats -------------------------------------------------------------------------------- */

/**
 * print_counters() - the counters of one link (or the total): everything but the drops,
 * then the drops by reason with their sum, in two aligned columns
 */
static void print_counters(const char *title, const json_t *blk)
{
	const json_t *c = json_object_get(blk, "counters"), *d = json_object_get(blk, "drops");
	const char *key;
	json_t *v;
	long long sum = 0;

	printf("%s\n", title);
	json_object_foreach((json_t *)c, key, v)
		if (strncmp(key, "drop_", 5))
			printf("  %-30s %20lld\n", key, (long long)json_integer_value(v));
	printf("  %-30s %20lld\n", "tx_errors", jint(blk, "tx_errors"));
	printf("  drops by reason:\n");
	json_object_foreach((json_t *)d, key, v) {
		printf("    %-28s %20lld\n", key, (long long)json_integer_value(v));
		sum += json_integer_value(v);
	}
	printf("    %-28s %20lld\n", "total", sum);
}

/**
 * cmd_stats() - `tapirctl stats [--link L]`: every link of every daemon (without -s), then
 * the total over all of them
 */
static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *links, *total;
	struct merged *m;
	char title[160];

	parse_opts(argc, argv, "l:j", opts, args, "stats");
	no_more_args(argc, argv, "stats");
	m = request_all("stats", args);
	/* one object of today's shape: every daemon's links, their totals added up */
	links = merged_array(m, "links");
	total = json_deep_copy(json_object_get(m->ret[0], "total"));
	if (!total)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 1; i < m->n; i++)
		json_add(total, json_object_get(m->ret[i], "total"));
	if (opt_json) {
		json_t *o = json_pack("{s:o, s:o}", "links", links, "total", total);

		print_json(o);
		json_decref(o);
		merged_free(m);
		return merged_failed ? EXIT_ERROR_REPLY : 0;
	}
	for (size_t i = 0; i < json_array_size(links); i++) {
		const json_t *l = json_array_get(links, i);

		snprintf(title, sizeof(title), "link %s", jstr(l, "name", "?"));
		print_counters(title, l);
	}
	if (json_array_size(links) != 1)
		print_counters("total", total);
	json_decref(links);
	json_decref(total);
	merged_free(m);
	return merged_failed ? EXIT_ERROR_REPLY : 0;
}

/* --- conns -------------------------------------------------------------------------------- */

enum { COL_ID, COL_LINK, COL_PROTO, COL_STATE, COL_CONT, COL_PEER, COL_UP, COL_IN, COL_OUT,
       COL_AGE, NCOLS };

static const char *const col_names[NCOLS] = { "ID", "LINK", "PROTO", "STATE", "CONTAINER",
					       "PEER", "UPSTREAM", "BYTES-IN", "BYTES-OUT",
					       "AGE" };

/* Numbers read better right-aligned. */
static const bool col_right[NCOLS] = { [COL_ID] = true, [COL_IN] = true, [COL_OUT] = true,
				       [COL_AGE] = true };

/* The members of a flow the table shows, in the order conn_cells() reads them. */
enum { CF_ID, CF_LINK, CF_PROTO, CF_STATE, CF_CLOSED_AT, CF_END, CF_CONT, CF_PEER, CF_UP,
       CF_BYTES, CF_AGE, NCF };
static const char *const conn_keys[NCF] = { "id", "link", "proto", "state", "closed_at", "end",
					    "container", "peer", "upstream", "bytes", "age_ms" };

/** cell_str() - the string @v into @cell (64 bytes), or @dflt if it is not a string */
static void cell_str(char *cell, struct jspan v, const char *dflt)
{
	if (!js_string(v, cell, 64, NULL))
		snprintf(cell, 64, "%s", dflt);
}

/**
 * conn_cells() - the table cells of flow @f (its JSON text, read in place) into @cell (each
 * 64 bytes)
 */
static void conn_cells(struct jspan f, char cell[NCOLS][64])
{
	static const char *const bkeys[] = { "from_container", "to_container" };
	struct jspan v[NCF] = { 0 }, b[2] = { 0 };
	char end[32];

	js_members(f, conn_keys, NCF, v); /* one walk over the flow's members */
	js_members(v[CF_BYTES], bkeys, 2, b);
	snprintf(cell[COL_ID], 64, "%lld", js_int(v[CF_ID]));
	cell_str(cell[COL_LINK], v[CF_LINK], "?");
	cell_str(cell[COL_PROTO], v[CF_PROTO], "?");
	if (v[CF_CLOSED_AT].p) /* a closed flow: say how it ended */
		snprintf(cell[COL_STATE], 64, "CLOSED/%s", js_string(v[CF_END], end, sizeof(end), "?"));
	else
		cell_str(cell[COL_STATE], v[CF_STATE], "?");
	cell_str(cell[COL_CONT], v[CF_CONT], "?");
	cell_str(cell[COL_PEER], v[CF_PEER], "?");
	cell_str(cell[COL_UP], v[CF_UP], "-");
	human_bytes(cell[COL_IN], 64, js_int(b[0]));
	human_bytes(cell[COL_OUT], 64, js_int(b[1]));
	human_ms(cell[COL_AGE], 64, js_int(v[CF_AGE]));
}

/**
 * print_row() - one line of the table, columns padded to @w
 */
static void print_row(char cell[NCOLS][64], const int w[NCOLS])
{
	for (int c = 0; c < NCOLS; c++) {
		const char *sep = c + 1 < NCOLS ? "  " : "";

		if (c + 1 == NCOLS && !col_right[c])
			printf("%s", cell[c]); /* no trailing blanks */
		else
			printf(col_right[c] ? "%*s%s" : "%-*s%s", w[c], cell[c], sep);
	}
	putchar('\n');
}

/**
 * conns_flows() - the "flows" arrays of every reply of @m (their text, read in place)
 * @flows:	one span per reply (an empty span where a reply has none)
 */
static void conns_flows(const struct merged *m, struct jspan flows[MAX_SOCKETS])
{
	for (size_t i = 0; i < m->n; i++) {
		struct jspan ret;

		/* request_soft() checked the whole text (js_reply_return): the arrays are opened
		 * in place, not skipped over once more to find their ends */
		flows[i] = (struct jspan){ 0 };
		if (m->raw[i] && js_open((struct jspan){ m->raw[i], m->raw_len[i] }, "return", &ret))
			js_open(ret, "flows", &flows[i]);
	}
}

/**
 * cmd_conns() - `tapirctl conns [--state S] [--proto P] [--link L]`: an ss-like table of
 * every daemon's flows (one daemon with -s). The replies are read in place rather than
 * parsed into a tree: over 50,000 flows the tree alone took more than a second.
 */
static int cmd_conns(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "proto", required_argument, NULL, 'p' },
		{ "link", required_argument, NULL, 'l' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct jspan flows[MAX_SOCKETS], f;
	json_t *args = json_object();
	char cell[NCOLS][64], *kept = NULL;
	size_t kept_len = 0, kept_cap = 0;
	struct merged *m;
	int w[NCOLS], rc;
	size_t i, pos, n = 0;

	parse_opts(argc, argv, "s:p:l:aj", opts, args, "conns");
	no_more_args(argc, argv, "conns");
	keep_raw = true;
	m = request_all("conns", args);
	keep_raw = false;
	rc = merged_failed ? EXIT_ERROR_REPLY : 0;
	conns_flows(m, flows);
	if (opt_json && m->n == 1) { /* today's bytes, as the daemon sent them */
		struct jspan ret;

		if (m->raw[0] && js_member((struct jspan){ m->raw[0], m->raw_len[0] }, "return", &ret))
			js_pretty(stdout, ret, 0);
		putchar('\n');
		merged_free(m);
		return rc;
	}
	if (opt_json) { /* every daemon's rows in one listing; each row names its link */
		js_pretty_merged(stdout, "flows", flows, m->n);
		putchar('\n');
		merged_free(m);
		return rc;
	}
	/* Widths first, like ss, so that columns line up whatever the data: the cells of every
	 * row are kept from that pass (NUL-separated, ~110 bytes a row) and printed after it. */
	for (int c = 0; c < NCOLS; c++)
		w[c] = (int)strlen(col_names[c]);
	for (i = 0; i < m->n; i++) {
		for (pos = 0; js_next(flows[i], &pos, &f); n++) {
			conn_cells(f, cell);
			for (int c = 0; c < NCOLS; c++) {
				size_t l = strlen(cell[c]);

				if ((int)l > w[c])
					w[c] = (int)l;
				if (kept_len + l + 1 > kept_cap) {
					kept_cap = kept_cap ? 2 * kept_cap : 1 << 20;
					kept = realloc(kept, kept_cap);
					if (!kept)
						unreachable("%s", strerror(ENOMEM));
				}
				memcpy(kept + kept_len, cell[c], l + 1);
				kept_len += l + 1;
			}
		}
	}
	merged_free(m);
	if (!n) {
		printf("no flows\n");
		return rc;
	}
	for (int c = 0; c < NCOLS; c++)
		snprintf(cell[c], 64, "%s", col_names[c]);
	print_row(cell, w);
	for (size_t at = 0; at < kept_len;) {
		for (int c = 0; c < NCOLS; c++) {
			snprintf(cell[c], 64, "%s", kept + at);
			at += strlen(kept + at) + 1;
		}
		print_row(cell, w);
	}
	free(kept);
	return rc;
}

/* --- conn --------------------------------------------------------------------------------- */

/**
 * print_scalar() - "  key   value" for a scalar JSON value (objects are printed by callers)
 */
static void print_scalar(const char *indent, const char *key, const json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	if (json_is_string(v))
		printf("%s%-16s %s\n", indent, key, json_string_value(v));
	else
		printf("%s%-16s %s\n", indent, key, s ? s : "?");
	free(s);
}

/**
 * cmd_conn() - `tapirctl conn ID`: every field, then the history as a timeline
 */
static int cmd_conn(int argc, char **argv)
{
	json_t *reply, *f, *v, *hist;
	struct merged *m;
	const char *key;
	char *end;
	long long id;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "conn");
	if (optind + 1 != argc)
		die_usage("conn takes one flow ID");
	errno = 0;
	id = strtoll(argv[optind], &end, 10);
	if (errno || *end || end == argv[optind])
		die_usage("conn: '%s' is not a flow ID", argv[optind]);
	/* without -s, every daemon is asked: the one that knows the id answers */
	m = request_all("conn", json_pack("{s:I}", "id", (json_int_t)id));
	reply = json_incref(m->reply[0]);
	f = m->ret[0];
	merged_free(m);
	if (json_shown(f, reply))
		return 0;
	json_object_foreach(f, key, v) {
		const char *k2;
		json_t *v2;

		if (!strcmp(key, "history"))
			continue;
		if (!json_is_object(v)) {
			print_scalar("", key, v);
			continue;
		}
		printf("%s\n", key);
		json_object_foreach(v, k2, v2)
			print_scalar("  ", k2, v2);
	}
	hist = json_object_get(f, "history");
	printf("history\n");
	for (size_t i = 0; i < json_array_size(hist); i++) {
		const json_t *h = json_array_get(hist, i);
		char at[32];

		snprintf(at, sizeof(at), "+%s", human_ms(at + 1, sizeof(at) - 1, jint(h, "at_ms")));
		printf("  %10s  %-12s %s\n", at, jstr(h, "state", "?"), jstr(h, "at", ""));
	}
	if (jint(f, "history_lost"))
		printf("  (%lld later transitions not recorded)\n", jint(f, "history_lost"));
	json_decref(reply);
	return 0;
}

/* --- watch -------------------------------------------------------------------------------- */

/**
 * struct line_reader - newline-delimited lines from a socket, for streams (watch)
 * @fd:		the socket
 * @buf:	bytes read and not yet returned
 * @have:	how many
 * @cap:	size of @buf
 */
struct line_reader {
	int fd;
	char *buf;
	size_t have, cap;
};

/**
 * read_line() - the next line (NUL-terminated, without its newline), waiting as long as it
 * takes (@timeout_ms < 0) or at most @timeout_ms
 * Return: the line (valid until the next call), or NULL at EOF or timeout
 */
static char *read_line(struct line_reader *lr, int timeout_ms)
{
	static size_t consumed;
	struct pollfd pfd = { .fd = lr->fd, .events = POLLIN };

	if (consumed) {
		memmove(lr->buf, lr->buf + consumed, lr->have - consumed);
		lr->have -= consumed;
		consumed = 0;
	}
	for (;;) {
		char *nl = lr->have ? memchr(lr->buf, '\n', lr->have) : NULL;
		ssize_t r;

		if (nl) {
			*nl = '\0';
			consumed = (size_t)(nl - lr->buf) + 1;
			return lr->buf;
		}
		if (lr->have + 1 >= lr->cap) {
			char *nb;

			if (lr->cap >= MAX_REPLY)
				unreachable("%s: line longer than %u bytes", sock_path, MAX_REPLY);
			nb = realloc(lr->buf, lr->cap * 2);
			if (!nb)
				unreachable("%s", strerror(ENOMEM));
			lr->buf = nb;
			lr->cap *= 2;
		}
		if (poll(&pfd, 1, timeout_ms) == 0)
			return NULL;
		r = recv(lr->fd, lr->buf + lr->have, lr->cap - lr->have - 1, 0);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			return NULL;
		lr->have += (size_t)r;
	}
}

/**
 * clock_str() - "12:34:56.789012" (local time) of a QMP event timestamp
 * Return: @buf
 */
static const char *clock_str(char *buf, size_t len, const json_t *ts)
{
	time_t t = (time_t)jint(ts, "seconds");
	struct tm tm;
	char hms[16];

	if (!localtime_r(&t, &tm) || !strftime(hms, sizeof(hms), "%H:%M:%S", &tm))
		snprintf(hms, sizeof(hms), "?");
	snprintf(buf, len, "%s.%06lld", hms, jint(ts, "microseconds"));
	return buf;
}

/**
 * print_event() - one event as one readable line
 */
static void print_event(const json_t *ev)
{
	const char *name = jstr(ev, "event", "?");
	const json_t *d = json_object_get(ev, "data");
	char when[32], b1[16], b2[16], age[16];

	printf("%s %-5s ", clock_str(when, sizeof(when), json_object_get(ev, "timestamp")), name);
	if (!strcmp(name, "lost")) {
		printf("%lld events dropped: this watcher fell behind\n", jint(d, "count"));
		return;
	}
	printf("#%lld %s %s %s > %s  ", jint(d, "id"), jstr(d, "link", "?"), jstr(d, "proto", "?"),
	       jstr(d, "container", "?"), jstr(d, "peer", "?"));
	if (!strcmp(name, "state"))
		printf("%s -> %s (+%s)\n", jstr(d, "from", "-"), jstr(d, "state", "?"),
		       human_ms(age, sizeof(age), jint(d, "at_ms")));
	else if (!strcmp(name, "close"))
		printf("end %s after %s, in %s, out %s\n", jstr(d, "end", "?"),
		       human_ms(age, sizeof(age), jint(d, "age_ms")),
		       human_bytes(b1, sizeof(b1), jint(json_object_get(d, "bytes"),
							 "from_container")),
		       human_bytes(b2, sizeof(b2), jint(json_object_get(d, "bytes"),
							 "to_container")));
	else
		printf("%s\n", jstr(d, "state", "?"));
}

/**
 * cmd_watch() - `tapirctl watch [--link L] [--proto P] [--state S] [--id N] [-n COUNT]`:
 * one line per flow event until interrupted (or COUNT events); --json prints the events
 */
static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "proto", required_argument, NULL, 'p' },
		{ "link", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *req, *reply;
	struct line_reader lr = { .cap = 65536 };
	long long count = -1, seen = 0;
	char *line, *end;
	int o;

	while ((o = getopt_long(argc, argv, "s:p:l:i:n:j", opts, NULL)) != -1) {
		switch (o) {
		case 'i':
			errno = 0;
			json_object_set_new(args, "id", json_integer(strtoll(optarg, &end, 10)));
			if (errno || *end || end == optarg)
				die_usage("watch: '%s' is not a flow ID", optarg);
			break;
		case 'n':
			count = strtoll(optarg, &end, 10);
			if (*end || end == optarg || count < 1)
				die_usage("watch: --count wants a positive number");
			break;
		default:
			if (!common_opt(o, args))
				die_usage("watch: bad option");
		}
	}
	no_more_args(argc, argv, "watch");
	req = json_pack("{s:s, s:o}", "execute", "watch", "arguments", args);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	lr.fd = ctl_connect();
	lr.buf = malloc(lr.cap);
	if (!line || !lr.buf)
		unreachable("%s", strerror(ENOMEM));
	if (send(lr.fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	    send(lr.fd, "\n", 1, MSG_NOSIGNAL) < 0)
		unreachable("%s: sending: %s", sock_path, strerror(errno));
	free(line);
	line = read_line(&lr, timeout_s * 1000);
	if (!line)
		unreachable("%s: no reply within %d s", sock_path, timeout_s);
	reply = parse_reply(line, strlen(line));
	if (report_error(reply))
		return EXIT_ERROR_REPLY;
	json_decref(reply);
	setvbuf(stdout, NULL, _IOLBF, 0); /* one event, one line, at once (pipes too) */
	while (count < 0 || seen < count) {
		json_t *ev;

		line = read_line(&lr, -1);
		if (!line) {
			fprintf(stderr, "tapirctl: %s: the daemon closed the connection\n",
				sock_path);
			return EXIT_UNREACHABLE;
		}
		if (opt_json) {
			puts(line);
		} else {
			ev = json_loads(line, 0, NULL);
			if (!ev || !json_object_get(ev, "event")) {
				json_decref(ev);
				continue; /* a reply to nothing we asked, or garbage: skip */
			}
			print_event(ev);
			json_decref(ev);
		}
		if (strstr(line, "\"event\"") && !strstr(line, "\"event\":\"lost\""))
			seen++;
	}
	close(lr.fd);
	free(lr.buf);
	return 0;
}

/* --- capture ------------------------------------------------------------------------------ */

/**
 * cmd_capture() - `tapirctl capture start FILE [--link L] [--count N] [--bytes N]`,
 * `capture stop [--link L]`, `capture status [--link L]`
 */
static int cmd_capture(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ "bytes", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r;
	const char *action;
	char *end;
	long long v;
	int o;

	while ((o = getopt_long(argc, argv, "l:n:b:j", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
		case 'b':
			v = strtoll(optarg, &end, 10);
			if (*end || end == optarg || v < 1)
				die_usage("capture: --%s wants a positive number",
					  o == 'n' ? "count" : "bytes");
			json_object_set_new(args, o == 'n' ? "count" : "bytes", json_integer(v));
			break;
		default:
			if (!common_opt(o, args))
				die_usage("capture: bad option");
		}
	}
	if (optind >= argc)
		die_usage("capture needs start FILE, stop or status");
	action = argv[optind++];
	json_object_set_new(args, "action", json_string(action));
	if (!strcmp(action, "start")) {
		if (optind + 1 != argc)
			die_usage("capture start takes one FILE");
		/* A bare name: the daemon writes it in its capture directory (capture-dir) and
		 * refuses a path; it says where in its reply. */
		json_object_set_new(args, "file", json_string(argv[optind]));
	} else if (optind != argc) {
		die_usage("capture %s takes no FILE", action);
	}
	r = request("capture", args, &reply);
	if (opt_json) {
		print_json(r);
	} else if (!json_is_true(json_object_get(r, "running")) && !json_object_get(r, "file")) {
		printf("link %s: no capture\n", jstr(r, "link", "?"));
	} else {
		char b[16];

		printf("link %s: %s %s, %lld frames, %s%s%s%s\n", jstr(r, "link", "?"),
		       json_is_true(json_object_get(r, "running")) ? "capturing to"
		       : !strcmp(action, "stop")		    ? "captured to"
								    : "capture done:",
		       jstr(r, "file", "?"), jint(r, "frames"),
		       human_bytes(b, sizeof(b), jint(r, "bytes")),
		       json_is_true(json_object_get(r, "full")) ? " (bound reached)" : "",
		       json_is_string(json_object_get(r, "error")) ? ", error: " : "",
		       jstr(r, "error", ""));
	}
	json_decref(reply);
	return 0;
}

/* --- top ---------------------------------------------------------------------------------- */

/**
 * struct top_flow - one flow's byte counts at a poll, and its rates since the one before
 * @id:		flow id
 * @in, @out:	bytes from and to the container
 * @rin, @rout:	bytes per second since the previous poll
 * @f:		its JSON (borrowed from the poll's reply)
 */
struct top_flow {
	long long id, in, out;
	double rin, rout;
	const json_t *f;
};

/**
 * struct top_poll - what one poll of `stats` and `conns` saw
 * @t_ms:	when (monotonic)
 * @c:		the total counters (borrowed from @stats)
 * @by_state:	live flows per state (borrowed from @stats)
 * @nflows:	live flows
 * @flows:	every live flow, sorted by id
 * @n:		entries in @flows
 * @stats, @conns: the replies, owned
 */
struct top_poll {
	uint64_t t_ms;
	const json_t *c, *by_state;
	long long nflows;
	struct top_flow *flows;
	size_t n;
	json_t *stats, *conns;
};

static struct termios top_saved;
static bool top_raw;

/** top_restore() - give the terminal back as it was (atexit and signals) */
static void top_restore(void)
{
	if (!top_raw)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
	fputs("\033[?25h\n", stdout); /* cursor visible again */
	fflush(stdout);
	top_raw = false;
}

/** top_signal() - SIGINT, SIGTERM, SIGHUP: restore the terminal, then die of the signal */
static void top_signal(int sig)
{
	top_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/** cmp_id() - qsort order of struct top_flow by id */
static int cmp_id(const void *a, const void *b)
{
	const struct top_flow *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/** cmp_rate() - busiest first: rate both ways, then bytes both ways */
static int cmp_rate(const void *a, const void *b)
{
	const struct top_flow *x = a, *y = b;
	double rx = x->rin + x->rout, ry = y->rin + y->rout;
	long long bx = x->in + x->out, by = y->in + y->out;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return (bx < by) - (bx > by);
}

/**
 * top_poll() - ask for stats and the live flows (of @link if set)
 */
static void top_poll(struct top_poll *p, const char *link)
{
	json_t *sa = link ? json_pack("{s:s}", "link", link) : NULL;
	json_t *ca = link ? json_pack("{s:s}", "link", link) : NULL;
	const json_t *s, *flows, *tot;

	memset(p, 0, sizeof(*p));
	s = request("stats", sa, &p->stats);
	flows = json_object_get(request("conns", ca, &p->conns), "flows");
	p->t_ms = now_ms();
	tot = json_object_get(s, "total");
	p->c = json_object_get(tot, "counters");
	p->by_state = json_object_get(json_object_get(tot, "flows"), "by_state");
	p->nflows = jint(json_object_get(tot, "flows"), "total");
	p->n = json_array_size(flows);
	p->flows = calloc(p->n ? p->n : 1, sizeof(*p->flows));
	if (!p->flows)
		unreachable("%s", strerror(ENOMEM));
	for (size_t i = 0; i < p->n; i++) {
		const json_t *f = json_array_get(flows, i), *b = json_object_get(f, "bytes");

		p->flows[i] = (struct top_flow){ .id = jint(f, "id"),
						 .in = jint(b, "from_container"),
						 .out = jint(b, "to_container"), .f = f };
	}
	qsort(p->flows, p->n, sizeof(*p->flows), cmp_id);
}

/** top_poll_free() - release a poll */
static void top_poll_free(struct top_poll *p)
{
	free(p->flows);
	json_decref(p->stats);
	json_decref(p->conns);
	memset(p, 0, sizeof(*p));
}

/** rate() - per-second rate of counter @key between polls @a and @b */
static double rate(const struct top_poll *a, const struct top_poll *b, const char *key)
{
	double dt = (double)(b->t_ms - a->t_ms) / 1000;
	long long d = jint(b->c, key) - jint(a->c, key);

	return dt > 0 && d > 0 ? (double)d / dt : 0;
}

/**
 * top_print() - one screen (or snapshot): states and rates, then the @rows busiest flows
 */
static void top_print(const struct top_poll *a, struct top_poll *b, int rows, bool tty)
{
	double dt = (double)(b->t_ms - a->t_ms) / 1000;
	char r1[16], r2[16], r3[16], r4[16], clock[16];
	const char *key;
	time_t now = time(NULL);
	struct tm tm;
	json_t *v;
	bool first = true;

	for (size_t i = 0; i < b->n; i++) {
		const struct top_flow probe = { .id = b->flows[i].id };
		const struct top_flow *old = bsearch(&probe, a->flows, a->n, sizeof(probe), cmp_id);
		long long din = b->flows[i].in - (old ? old->in : 0);
		long long dout = b->flows[i].out - (old ? old->out : 0);

		b->flows[i].rin = dt > 0 && din > 0 ? (double)din / dt : 0;
		b->flows[i].rout = dt > 0 && dout > 0 ? (double)dout / dt : 0;
	}
	localtime_r(&now, &tm);
	strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (tty)
		fputs("\033[H\033[J", stdout);
	printf("tapir top - %s, %.1f s sample%s\n", clock, dt, tty ? " (q quits)" : "");
	printf("flows %lld", b->nflows);
	json_object_foreach((json_t *)b->by_state, key, v) {
		if (!json_integer_value(v))
			continue;
		printf("%s%s %lld", first ? ": " : ", ", key, (long long)json_integer_value(v));
		first = false;
	}
	printf("\nopened %.1f/s, closed %.1f/s   frames in %s/s out %s/s   bytes in %s/s out "
	       "%s/s\n",
	       rate(a, b, "flows_opened"),
	       rate(a, b, "flows_closed_fin") + rate(a, b, "flows_closed_rst_container") +
		       rate(a, b, "flows_closed_rst_upstream") + rate(a, b, "flows_closed_refused") +
		       rate(a, b, "flows_closed_unreachable") + rate(a, b, "flows_closed_timeout") +
		       rate(a, b, "flows_closed_evicted"),
	       human_bytes(r1, sizeof(r1), (long long)rate(a, b, "rx_frames")),
	       human_bytes(r2, sizeof(r2), (long long)rate(a, b, "tx_frames")),
	       human_bytes(r3, sizeof(r3), (long long)rate(a, b, "rx_bytes")),
	       human_bytes(r4, sizeof(r4), (long long)rate(a, b, "tx_bytes")));
	printf("retransmits %.1f/s, challenge ACKs %.1f/s, ICMP errors %.1f/s\n\n",
	       rate(a, b, "tcp_retransmits"), rate(a, b, "tcp_challenge_acks"),
	       rate(a, b, "icmp_errors_sent"));
	qsort(b->flows, b->n, sizeof(*b->flows), cmp_rate);
	printf("%8s  %-10s %-5s %-11s %-21s %-21s %8s %8s %8s %8s %8s\n", "ID", "LINK", "PROTO",
	       "STATE", "CONTAINER", "PEER", "IN/s", "OUT/s", "IN", "OUT", "AGE");
	for (int i = 0; i < rows && (size_t)i < b->n; i++) {
		const struct top_flow *t = &b->flows[i];
		char c1[16], c2[16], c3[16], c4[16], c5[16];

		printf("%8lld  %-10.10s %-5s %-11s %-21s %-21s %8s %8s %8s %8s %8s\n", t->id,
		       jstr(t->f, "link", "?"), jstr(t->f, "proto", "?"), jstr(t->f, "state", "?"),
		       jstr(t->f, "container", "?"), jstr(t->f, "peer", "?"),
		       human_bytes(c1, sizeof(c1), (long long)t->rin),
		       human_bytes(c2, sizeof(c2), (long long)t->rout),
		       human_bytes(c3, sizeof(c3), t->in), human_bytes(c4, sizeof(c4), t->out),
		       human_ms(c5, sizeof(c5), jint(t->f, "age_ms")));
	}
	qsort(b->flows, b->n, sizeof(*b->flows), cmp_id); /* for the next diff */
	fflush(stdout);
}

/**
 * cmd_top() - `tapirctl top [-n N] [-d SECS] [--link L] [--rows K]`: on a terminal, a view
 * refreshed every second until q; otherwise plain snapshots (one, or N with -n)
 */
static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "link", required_argument, NULL, 'l' },
		{ "rows", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	bool tty = isatty(STDOUT_FILENO), keys = tty && isatty(STDIN_FILENO);
	long long iters = -1, delay_ms = 1000, rows = -1;
	const char *link = NULL;
	struct top_poll prev, cur;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "n:d:l:r:", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			iters = strtoll(optarg, &end, 10);
			if (*end || end == optarg || iters < 1)
				die_usage("top: -n wants a positive number");
			break;
		case 'd': {
			double d = strtod(optarg, &end);

			if (*end || end == optarg || d < 0.1 || d > 3600)
				die_usage("top: -d wants 0.1 to 3600 seconds");
			delay_ms = (long long)(d * 1000);
			break;
		}
		case 'l':
			link = optarg;
			break;
		case 'r':
			rows = strtoll(optarg, &end, 10);
			if (*end || end == optarg || rows < 0)
				die_usage("top: --rows wants a number");
			break;
		default:
			die_usage("top: bad option");
		}
	}
	no_more_args(argc, argv, "top");
	if (iters < 0 && !tty)
		iters = 1; /* no terminal: one snapshot unless asked for more */
	if (rows < 0) {
		struct winsize ws;

		rows = tty && !ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row > 8
			       ? ws.ws_row - 7
			       : 10;
	}
	if (keys && !tcgetattr(STDIN_FILENO, &top_saved)) {
		struct termios raw = top_saved;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		atexit(top_restore);
		signal(SIGINT, top_signal);
		signal(SIGTERM, top_signal);
		signal(SIGHUP, top_signal);
		if (!tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)) {
			top_raw = true;
			fputs("\033[?25l", stdout); /* hide the cursor while we redraw */
		}
	}
	top_poll(&prev, link);
	for (long long i = 0; iters < 0 || i < iters; i++) {
		uint64_t deadline = now_ms() + (uint64_t)delay_ms;
		bool quit = false;

		/* wait out the interval, watching the keyboard for q */
		for (int left; !quit && (left = ms_left(deadline)) > 0;) {
			struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
			char ch;

			if (!top_raw) {
				poll(NULL, 0, left);
				continue;
			}
			if (poll(&pfd, 1, left) > 0 && read(STDIN_FILENO, &ch, 1) == 1)
				quit = ch == 'q' || ch == 'Q' || ch == 3 /* ^C */;
		}
		if (quit)
			break;
		top_poll(&cur, link);
		if (!tty && i)
			putchar('\n');
		top_print(&prev, &cur, (int)rows, tty);
		top_poll_free(&prev);
		prev = cur;
	}
	top_poll_free(&prev);
	top_restore();
	return 0;
}

/* --- raw ---------------------------------------------------------------------------------- */

/* --- fwd ---------------------------------------------------------------------------------- */

/**
 * fwd_add() - `tapirctl fwd add [--udp] [--link L] SPEC`: one add_hostfwd per port of the
 * range, into link L (which the daemon requires once it serves several); prints
 * the ids (or, with --json, the "return" values as an array)
 */
static int fwd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udp", no_argument, NULL, 'u' },
		{ "tcp", no_argument, NULL, 't' },
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *link = NULL;
	bool udp = false;
	struct fwd_spec sp;
	char why[160], addr[INET_ADDRSTRLEN];
	struct in_addr ia;
	json_t *all = json_array();
	int o;

	while ((o = getopt_long(argc, argv, "l:j", opts, NULL)) != -1) {
		if (o == 'l')
			link = optarg;
		else if (o == 'u')
			udp = true;
		else if (o == 't')
			udp = false;
		else if (o == 'j')
			opt_json = true;
		else
			die_usage("fwd add: bad option");
	}
	if (optind + 1 != argc)
		die_usage("fwd add takes one [HOSTADDR:]HOSTPORT:CONTAINERPORT");
	if (fwd_spec_parse(argv[optind], udp ? 17 : 6, &sp, why, sizeof(why)))
		die_usage("fwd add: '%s': %s", argv[optind], why);
	ia.s_addr = htonl(sp.haddr);
	inet_ntop(AF_INET, &ia, addr, sizeof(addr));
	for (unsigned int i = 0; i < sp.count; i++) {
		json_t *reply, *r;

		json_t *args = json_pack("{s:s, s:s, s:i, s:i}", "proto", udp ? "udp" : "tcp",
					 "host_addr", addr, "host_port", sp.hport + (int)i,
					 "guest_port", sp.gport + (int)i);

		if (link)
			json_object_set_new(args, "link", json_string(link));
		r = request("add_hostfwd", args, &reply);
		if (opt_json)
			json_array_append(all, r);
		else
			printf("forward %lld: %s %s:%u -> %s%scontainer port %u\n", jint(r, "id"),
			       udp ? "udp" : "tcp", addr, sp.hport + i, link ? link : "",
			       link ? " " : "", sp.gport + i);
		json_decref(reply);
	}
	if (opt_json)
		print_json(all);
	json_decref(all);
	return 0;
}

/**
 * fwd_list() - `tapirctl fwd list [--link L]`: one line per forward, with its link
 */
static int fwd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *entries;
	char host[64], guest[64];

	parse_opts(argc, argv, "l:j", opts, args, "fwd list");
	if (optind < argc)
		die_usage("fwd list takes no arguments");
	r = request("list_hostfwd", args, &reply);
	if (json_shown(r, reply))
		return 0;
	entries = json_object_get(r, "entries");
	printf("%4s  %-5s  %-21s  %-21s  %s\n", "ID", "PROTO", "HOST", "CONTAINER", "LINK");
	for (size_t i = 0; i < json_array_size(entries); i++) {
		const json_t *e = json_array_get(entries, i);

		snprintf(host, sizeof(host), "%s:%lld", jstr(e, "host_addr", "?"),
			 jint(e, "host_port"));
		snprintf(guest, sizeof(guest), "%s:%lld", jstr(e, "guest_addr", "?"),
			 jint(e, "guest_port"));
		printf("%4lld  %-5s  %-21s  %-21s  %s\n", jint(e, "id"), jstr(e, "proto", "?"),
		       host, guest, jstr(e, "link", "-"));
	}
	json_decref(reply);
	return 0;
}

/**
 * fwd_del() - `tapirctl fwd del ID`
 */
static int fwd_del(int argc, char **argv)
{
	json_t *reply;
	char *end;
	long long id;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "fwd del");
	if (optind + 1 != argc)
		die_usage("fwd del takes one forward ID");
	id = strtoll(argv[optind], &end, 10);
	if (*end || end == argv[optind] || id < 1)
		die_usage("fwd del: '%s' is not a forward ID", argv[optind]);
	request("remove_hostfwd", json_pack("{s:I}", "id", (json_int_t)id), &reply);
	if (opt_json)
		print_json(json_object_get(reply, "return"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_fwd() - `tapirctl fwd add|list|del ...`: port forwards (slirp4netns's add_hostfwd,
 * list_hostfwd, remove_hostfwd)
 */
static int cmd_fwd(int argc, char **argv)
{
	if (argc < 2)
		die_usage("fwd needs add, list or del");
	optind = 0;
	if (!strcmp(argv[1], "add"))
		return fwd_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return fwd_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "del") || !strcmp(argv[1], "rm") || !strcmp(argv[1], "remove"))
		return fwd_del(argc - 1, argv + 1);
	die_usage("fwd: unknown subcommand '%s' (add, list, del)", argv[1]);
}

/* --- policy ------------------------------------------------------------------------------ */

/**
 * print_policy() - one policy block of policy_list's reply: the two switches, then the rules
 * @title:	"default" or "link NAME"
 * @p:		{"deny_link_local": B, "deny_host_addresses": B, "deny": [RULE...]}
 */
static void print_policy(const char *title, const json_t *p)
{
	const json_t *rules = json_object_get(p, "deny");

	printf("%s: deny-link-local %s, deny-host-addresses %s\n", title,
	       json_is_true(json_object_get(p, "deny_link_local")) ? "yes" : "no",
	       json_is_true(json_object_get(p, "deny_host_addresses")) ? "yes" : "no");
	if (!json_array_size(rules))
		printf("  (no deny rules)\n");
	for (size_t i = 0; i < json_array_size(rules); i++)
		printf("  deny %s\n", json_string_value(json_array_get(rules, i)) ?: "?");
}

/**
 * policy_list() - `tapirctl policy list [--link L]`: the daemon's default, then each link's
 */
static int policy_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *links;
	char title[160];

	parse_opts(argc, argv, "l:j", opts, args, "policy list");
	if (optind < argc)
		die_usage("policy list takes no arguments");
	r = request("policy_list", args, &reply);
	if (json_shown(r, reply))
		return 0;
	print_policy("default (every link)", json_object_get(r, "default"));
	links = json_object_get(r, "links");
	for (size_t i = 0; i < json_array_size(links); i++) {
		const json_t *l = json_array_get(links, i);

		snprintf(title, sizeof(title), "link %s", jstr(l, "name", "?"));
		print_policy(title, l);
	}
	json_decref(reply);
	return 0;
}

/**
 * policy_change() - `tapirctl policy add|remove [--link L] RULE` and `tapirctl policy set
 * [--link L] deny-link-local|deny-host-addresses yes|no`; without --link the daemon-wide
 * default changes (every link)
 * @what:	"add", "remove" or "set"
 */
static int policy_change(const char *what, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "link", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r;
	char cmd[32];

	parse_opts(argc, argv, "l:j", opts, args, "policy");
	if (!strcmp(what, "set")) {
		bool yes;

		if (optind + 2 != argc)
			die_usage("policy set takes deny-link-local|deny-host-addresses yes|no");
		if (!strcmp(argv[optind + 1], "yes") || !strcmp(argv[optind + 1], "on"))
			yes = true;
		else if (!strcmp(argv[optind + 1], "no") || !strcmp(argv[optind + 1], "off"))
			yes = false;
		else
			die_usage("policy set: '%s' is not yes or no", argv[optind + 1]);
		if (!strcmp(argv[optind], "deny-link-local"))
			json_object_set_new(args, "deny_link_local", json_boolean(yes));
		else if (!strcmp(argv[optind], "deny-host-addresses"))
			json_object_set_new(args, "deny_host_addresses", json_boolean(yes));
		else
			die_usage("policy set: '%s' is not deny-link-local or deny-host-addresses",
				  argv[optind]);
	} else {
		if (optind + 1 != argc)
			die_usage("policy %s takes one rule: CIDR[:PORT[-PORT]] [tcp|udp|any]",
				  what);
		json_object_set_new(args, "rule", json_string(argv[optind]));
	}
	snprintf(cmd, sizeof(cmd), "policy_%s", what);
	r = request(cmd, args, &reply);
	if (json_shown(r, reply))
		return 0;
	if (json_string_value(json_object_get(r, "rule")))
		printf("%s: %s deny %s\n", jstr(r, "link", "default"),
		       !strcmp(what, "add") ? "added" : "removed", jstr(r, "rule", "?"));
	else
		printf("%s: policy set\n", jstr(r, "link", "default"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_policy() - `tapirctl policy list|add|remove|set ...`: what containers may reach
 */
static int cmd_policy(int argc, char **argv)
{
	if (argc < 2)
		die_usage("policy needs list, add, remove or set");
	optind = 0;
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return policy_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "add"))
		return policy_change("add", argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove") || !strcmp(argv[1], "del") || !strcmp(argv[1], "rm"))
		return policy_change("remove", argc - 1, argv + 1);
	if (!strcmp(argv[1], "set"))
		return policy_change("set", argc - 1, argv + 1);
	die_usage("policy: unknown subcommand '%s' (list, add, remove, set)", argv[1]);
}

/* --- attach / detach ---------------------------------------------------------------------- */

/**
 * num_arg() - @v as an integer for option @opt; exits EX_USAGE if it is not one (the daemon
 * checks the range, with the configuration file's message)
 */
static json_int_t num_arg(const char *opt, const char *v)
{
	long long n;
	char *end;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || end == v)
		die_usage("attach: %s: '%s' is not a number", opt, v);
	return (json_int_t)n;
}

/**
 * cmd_attach() - `tapirctl attach (--netns PATH|NAME | --pid PID) --name NAME [...]`: the
 * daemon serves one more container; prints the link as status does
 */
static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "address", required_argument, NULL, 'a' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "dns", required_argument, NULL, 'd' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "no-configure", no_argument, NULL, 'C' },
		{ "no-host-loopback", no_argument, NULL, 'L' },
		{ "deny", required_argument, NULL, 'D' },
		{ "deny-link-local", no_argument, NULL, 'K' },
		{ "deny-host-addresses", no_argument, NULL, 'H' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *args = json_object(), *reply, *r, *deny = NULL;
	int o;

	while ((o = getopt_long(argc, argv, "n:p:N:i:a:g:d:m:CLD:KHj", opts, NULL)) != -1) {
		switch (o) {
		case 'D':
			if (!deny) {
				deny = json_array();
				json_object_set_new(args, "deny", deny);
			}
			json_array_append_new(deny, json_string(optarg));
			break;
		case 'K':
			json_object_set_new(args, "deny_link_local", json_true());
			break;
		case 'H':
			json_object_set_new(args, "deny_host_addresses", json_true());
			break;
		case 'n':
			json_object_set_new(args, "netns", json_string(optarg));
			break;
		case 'p':
			json_object_set_new(args, "pid", json_integer(num_arg("--pid", optarg)));
			break;
		case 'N':
			json_object_set_new(args, "name", json_string(optarg));
			break;
		case 'i':
			json_object_set_new(args, "ifname", json_string(optarg));
			break;
		case 'a':
			json_object_set_new(args, "address", json_string(optarg));
			break;
		case 'g':
			json_object_set_new(args, "gateway", json_string(optarg));
			break;
		case 'd':
			json_object_set_new(args, "dns", json_string(optarg));
			break;
		case 'm':
			json_object_set_new(args, "mtu", json_integer(num_arg("--mtu", optarg)));
			break;
		case 'C':
			json_object_set_new(args, "configure", json_false());
			break;
		case 'L':
			json_object_set_new(args, "host_loopback", json_false());
			break;
		case 'j':
			opt_json = true;
			break;
		default:
			die_usage("attach: bad option");
		}
	}
	no_more_args(argc, argv, "attach");
	if (!json_object_get(args, "netns") && !json_object_get(args, "pid"))
		die_usage("attach needs --netns PATH|NAME or --pid PID");
	if (json_object_get(args, "netns") && json_object_get(args, "pid"))
		die_usage("attach: give --netns or --pid, not both");
	if (!json_object_get(args, "name"))
		die_usage("attach needs --name NAME");
	r = request("attach", args, &reply);
	if (json_shown(r, reply))
		return 0;
	printf("attached %s: %s (index %lld) in %s, %s, gateway %s, dns %s, mtu %lld\n",
	       jstr(r, "name", "?"), jstr(r, "ifname", "?"), jint(r, "ifindex"),
	       jstr(r, "netns", "?"), jstr(r, "address", "?"), jstr(r, "gateway", "?"),
	       jstr(r, "dns", "?"), jint(r, "mtu"));
	json_decref(reply);
	return 0;
}

/**
 * cmd_detach() - `tapirctl detach NAME`: its flows, forwards and TAP go
 */
static int cmd_detach(int argc, char **argv)
{
	json_t *reply;

	parse_opts(argc, argv, "j", json_only_opts, NULL, "detach");
	if (optind + 1 != argc)
		die_usage("detach takes one link NAME");
	request("detach", json_pack("{s:s}", "name", argv[optind]), &reply);
	if (opt_json)
		print_json(json_object_get(reply, "return"));
	else
		printf("detached %s\n", argv[optind]);
	json_decref(reply);
	return 0;
}

/**
 * cmd_raw() - `tapirctl raw JSON`: send the line as it is, print the reply line as it is;
 * exit 1 if it is an error reply (without printing it twice)
 */
static int cmd_raw(int argc, char **argv)
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "status", cmd_status }, { "stats", cmd_stats }, { "conns", cmd_conns },
		{ "conn", cmd_conn },     { "watch", cmd_watch }, { "top", cmd_top },
		{ "capture", cmd_capture }, { "raw", cmd_raw },
		{ "fwd", cmd_fwd },         { "attach", cmd_attach },
		{ "policy", cmd_policy },
		{ "policy", cmd_policy },
		{ "detach", cmd_detach },
	};
	const char *env = getenv(SOCKET_ENV);
	int o;

	if (env && *env)
		sock_path = env;
	/* '+': stop at the command; its own options are parsed by the command. */
	while ((o = getopt_long(argc, argv, "+s:jt:hV", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			sock_path = optarg;
			break;
		case 'j':
			opt_json = true;
			break;
		case 't': {
			char *end;
			long t = strtol(optarg, &end, 10);

			if (*end || end == optarg || t < 1 || t > 86400)
				die_usage("--timeout: '%s' is not 1 to 86400 seconds", optarg);
			timeout_s = (int)t;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tapirctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name))
			continue;
		argc -= optind;
		argv += optind;
		optind = 0; /* glibc: 0 also resets getopt's internal state for the next parse */
		return cmds[i].fn(argc, argv);
	}
	die_usage("unknown command '%s'", argv[optind]);
}
