/* tapirctl_watch.c - `tapirctl watch`: the daemon's stream of flow events (open, state,
 * close), one line each as they happen, read from a connection that stays open.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "tapirctl.h"

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
int cmd_watch(int argc, char **argv)
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
