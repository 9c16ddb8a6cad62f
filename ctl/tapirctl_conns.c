/* tapirctl_conns.c - `tapirctl conns` (the connection table of every daemon, ss-like) and
 * `tapirctl conn ID` (one connection in detail, with its state history).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tapirctl.h"

enum { COL_ID, COL_LINK, COL_PROTO, COL_STATE, COL_CONT, COL_PEER, COL_UP, COL_IN, COL_OUT,
       COL_AGE, NCOLS };

static const char *const col_names[NCOLS] = { "ID", "LINK", "PROTO", "STATE", "CONTAINER",
					       "PEER", "UPSTREAM", "BYTES-IN", "BYTES-OUT",
					       "AGE" };

/* Numbers read better right-aligned. */
static const bool col_right[NCOLS] = { [COL_ID] = true, [COL_IN] = true, [COL_OUT] = true,
				       [COL_AGE] = true };

/**
 * conn_cells() - the table cells of flow @f into @cell (each 64 bytes)
 */
static void conn_cells(const json_t *f, char cell[NCOLS][64])
{
	const json_t *b = json_object_get(f, "bytes");

	snprintf(cell[COL_ID], 64, "%lld", jint(f, "id"));
	snprintf(cell[COL_LINK], 64, "%s", jstr(f, "link", "?"));
	snprintf(cell[COL_PROTO], 64, "%s", jstr(f, "proto", "?"));
	if (json_object_get(f, "closed_at")) /* a closed flow: say how it ended */
		snprintf(cell[COL_STATE], 64, "CLOSED/%s", jstr(f, "end", "?"));
	else
		snprintf(cell[COL_STATE], 64, "%s", jstr(f, "state", "?"));
	snprintf(cell[COL_CONT], 64, "%s", jstr(f, "container", "?"));
	snprintf(cell[COL_PEER], 64, "%s", jstr(f, "peer", "?"));
	snprintf(cell[COL_UP], 64, "%s", jstr(f, "upstream", "-"));
	human_bytes(cell[COL_IN], 64, jint(b, "from_container"));
	human_bytes(cell[COL_OUT], 64, jint(b, "to_container"));
	human_ms(cell[COL_AGE], 64, jint(f, "age_ms"));
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
 * cmd_conns() - `tapirctl conns [--state S] [--proto P] [--link L]`: an ss-like table of
 * every daemon's flows (one daemon with -s)
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
	json_t *args = json_object(), *flows;
	char cell[NCOLS][64];
	struct merged *m;
	int w[NCOLS], rc;
	size_t i, n;

	parse_opts(argc, argv, "s:p:l:aj", opts, args, "conns");
	no_more_args(argc, argv, "conns");
	m = request_all("conns", args);
	rc = merged_failed ? EXIT_ERROR_REPLY : 0;
	if (opt_json && m->n == 1) { /* today's bytes, as the daemon sent them */
		print_json(m->ret[0]);
		merged_free(m);
		return rc;
	}
	/* every daemon's rows in one listing; each row names its link */
	flows = merged_array(m, "flows");
	merged_free(m);
	if (opt_json) {
		json_t *o = json_pack("{s:o}", "flows", flows);

		print_json(o);
		json_decref(o);
		return rc;
	}
	n = json_array_size(flows);
	if (!n) {
		printf("no flows\n");
		json_decref(flows);
		return rc;
	}
	/* Two passes: widths first, like ss, so that columns line up whatever the data. */
	for (int c = 0; c < NCOLS; c++)
		w[c] = (int)strlen(col_names[c]);
	for (i = 0; i < n; i++) {
		conn_cells(json_array_get(flows, i), cell);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cell[c]) > w[c])
				w[c] = (int)strlen(cell[c]);
	}
	for (int c = 0; c < NCOLS; c++)
		snprintf(cell[c], 64, "%s", col_names[c]);
	print_row(cell, w);
	for (i = 0; i < n; i++) {
		conn_cells(json_array_get(flows, i), cell);
		print_row(cell, w);
	}
	json_decref(flows);
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
