/* tapirctl_conns.c - `tapirctl conns` (the connection table of every daemon, ss-like) and
 * `tapirctl conn ID` (one connection in detail, with its state history).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stream.h"
#include "tapirctl.h"

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
int cmd_conns(int argc, char **argv)
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
int cmd_conn(int argc, char **argv)
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
