/* tapirctl_top.c - `tapirctl top`: polls stats and conns, and shows flows per state, rates
 * and the busiest flows; on a terminal a refreshed view (raw keyboard for q, the terminal
 * restored on exit and on signals), otherwise plain snapshots. The conns reply is read in
 * place (stream.h), as `tapirctl conns` reads it: over 50,000 flows a jansson tree of it cost
 * more than a second a poll; the small stats reply is parsed with jansson.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "client.h"
#include "stream.h"
#include "tapirctl.h"

/**
 * struct top_flow - one flow's byte counts at a poll, and its rates since the one before
 * @id:		flow id
 * @in, @out:	bytes from and to the container
 * @rin, @rout:	bytes per second since the previous poll
 * @f:		its JSON text (in the poll's conns reply)
 */
struct top_flow {
	long long id, in, out;
	double rin, rout;
	struct jspan f;
};

/**
 * struct top_poll - what one poll of `stats` and `conns` saw
 * @t_ms:	when (monotonic)
 * @c:		the total counters (borrowed from @stats)
 * @by_state:	live flows per state (borrowed from @stats)
 * @nflows:	live flows
 * @flows:	every live flow, sorted by id
 * @n:		entries in @flows
 * @stats:	the stats reply, owned
 * @conns:	the conns reply's text, owned (NULL if it had no flows to read in place)
 */
struct top_poll {
	uint64_t t_ms;
	const json_t *c, *by_state;
	long long nflows;
	struct top_flow *flows;
	size_t n;
	json_t *stats;
	char *conns;
};

/* The members of a flow a row shows, in the order js_members() is given them; strings are
 * cut to TOP_STR_MAX - 1 bytes (a link name is at most 127, an address far less) */
enum { TF_LINK, TF_PROTO, TF_STATE, TF_CONT, TF_PEER, TF_AGE, TF_N };
static const char *const top_flow_keys[TF_N] = { "link", "proto", "state", "container", "peer",
						 "age_ms" };
#define TOP_STR_MAX 128

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
 * top_conns() - ask for the live flows (@args stolen) and read their ids and byte counts from
 * the reply's text in place into @p->flows (unsorted); @p keeps the text
 */
static void top_conns(struct top_poll *p, json_t *args)
{
	static const char *const keys[] = { "id", "bytes" };
	static const char *const bkeys[] = { "from_container", "to_container" };
	struct jspan ret, flows = { 0 }, f;
	json_t *reply;
	size_t cap = 64, pos = 0;

	keep_raw = true;
	request("conns", args, &reply);
	keep_raw = false;
	json_decref(reply); /* a placeholder when the text was kept */
	p->conns = raw_line;
	raw_line = NULL;
	/* request_soft() checked the whole text (js_reply_return): the array is opened in place,
	 * not skipped over once more to find its end */
	if (p->conns && js_open((struct jspan){ p->conns, raw_len }, "return", &ret))
		js_open(ret, "flows", &flows);
	raw_len = 0;
	p->flows = malloc(cap * sizeof(*p->flows)); /* never NULL: bsearch() and qsort() get it */
	if (!p->flows)
		unreachable("%s", strerror(ENOMEM));
	while (js_next(flows, &pos, &f)) {
		struct jspan v[2] = { { 0 } }, b[2] = { { 0 } };

		if (p->n == cap) {
			cap *= 2;
			p->flows = realloc(p->flows, cap * sizeof(*p->flows));
			if (!p->flows)
				unreachable("%s", strerror(ENOMEM));
		}
		js_members(f, keys, 2, v);
		js_members(v[1], bkeys, 2, b);
		p->flows[p->n++] = (struct top_flow){ .id = js_int(v[0]), .in = js_int(b[0]),
						      .out = js_int(b[1]), .f = f };
	}
}

/**
 * top_poll() - ask for stats and the live flows (of @link if set)
 */
static void top_poll(struct top_poll *p, const char *link)
{
	json_t *sa = link ? json_pack("{s:s}", "link", link) : NULL;
	json_t *ca = link ? json_pack("{s:s}", "link", link) : NULL;
	const json_t *s, *tot;

	memset(p, 0, sizeof(*p));
	s = request("stats", sa, &p->stats);
	top_conns(p, ca);
	p->t_ms = client_now_ms();
	tot = json_object_get(s, "total");
	p->c = json_object_get(tot, "counters");
	p->by_state = json_object_get(json_object_get(tot, "flows"), "by_state");
	p->nflows = jint(json_object_get(tot, "flows"), "total");
	qsort(p->flows, p->n, sizeof(*p->flows), cmp_id);
}

/** top_poll_free() - release a poll */
static void top_poll_free(struct top_poll *p)
{
	free(p->flows);
	json_decref(p->stats);
	free(p->conns);
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
		struct jspan m[TF_N] = { { 0 } };
		char c1[16], c2[16], c3[16], c4[16], c5[16], str[TF_AGE][TOP_STR_MAX];

		js_members(t->f, top_flow_keys, TF_N, m); /* one walk over the flow's members */
		printf("%8lld  %-10.10s %-5s %-11s %-21s %-21s %8s %8s %8s %8s %8s\n", t->id,
		       js_string(m[TF_LINK], str[TF_LINK], TOP_STR_MAX, "?"),
		       js_string(m[TF_PROTO], str[TF_PROTO], TOP_STR_MAX, "?"),
		       js_string(m[TF_STATE], str[TF_STATE], TOP_STR_MAX, "?"),
		       js_string(m[TF_CONT], str[TF_CONT], TOP_STR_MAX, "?"),
		       js_string(m[TF_PEER], str[TF_PEER], TOP_STR_MAX, "?"),
		       human_bytes(c1, sizeof(c1), (long long)t->rin),
		       human_bytes(c2, sizeof(c2), (long long)t->rout),
		       human_bytes(c3, sizeof(c3), t->in), human_bytes(c4, sizeof(c4), t->out),
		       human_ms(c5, sizeof(c5), js_int(m[TF_AGE])));
	}
	qsort(b->flows, b->n, sizeof(*b->flows), cmp_id); /* for the next diff */
	fflush(stdout);
}

/**
 * cmd_top() - `tapirctl top [-n N] [-d SECS] [--link L] [--rows K]`: on a terminal, a view
 * refreshed every second until q; otherwise plain snapshots (one, or N with -n)
 */
int cmd_top(int argc, char **argv)
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
		uint64_t deadline = client_now_ms() + (uint64_t)delay_ms;
		bool quit = false;

		/* wait out the interval, watching the keyboard for q */
		for (int left; !quit && (left = client_ms_left(deadline)) > 0;) {
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
