/* tapirctl.h - what the files of tapirctl share: the socket and output settings chosen on the
 * command line, the request layer (tapirctl_request.c), the runtime-directory merge
 * (tapirctl_rundir.c), the formatters (tapirctl_format.c), the shared option parsing
 * (tapirctl.c), and each command family's cmd_*() entry point for main()'s table.
 * Must not: be included outside ctl/tapirctl*.c (tapir-cni has its own client, client.h).
 */
#ifndef TAPIR_CTL_TAPIRCTL_H
#define TAPIR_CTL_TAPIRCTL_H

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

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

/* --- settings (tapirctl.c: command line; tapirctl_request.c: the socket in use) --------- */

/* NULL until chosen: -s, $TAPIR_CONTROL, or pick_socket() from the runtime directories */
extern const char *sock_path;
/* connect failures that mean "nobody listens here" (a stale socket) make ctl_connect()
 * return -1 instead of exiting, while a listing goes through every socket */
extern bool soft_connect;
/* a merged listing went on past a daemon's error reply: exit 1 at the end */
extern bool merged_failed;
extern bool opt_json; /* -j, --json: print the "return" value as JSON */
extern int timeout_s; /* -t: seconds to wait for a daemon (TIMEOUT_S by default) */

/* The options of commands that have no others: --json may also follow the command. */
extern const struct option json_only_opts[];

/* --- errors and the command line (tapirctl.c) ------------------------------------------- */

__attribute__((noreturn, format(printf, 1, 2))) void die_usage(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void unreachable(const char *fmt, ...);
bool common_opt(int o, json_t *args);
void parse_opts(int argc, char **argv, const char *optstring, const struct option *opts,
		json_t *args, const char *cmd);
void no_more_args(int argc, char **argv, const char *cmd);

/* --- one daemon (tapirctl_request.c) ----------------------------------------------------- */

int ctl_connect(void);
char *exchange(const char *req, size_t *len);
json_t *parse_reply(const char *line, size_t len);
bool report_error(json_t *reply);
json_t *request_soft(const char *cmd, json_t *args, json_t **reply);
json_t *request(const char *cmd, json_t *args, json_t **reply);
/* request_soft() keeps a successful reply as text (raw_line, raw_len: the caller takes it)
 * instead of parsing it: the `conns` listing reads it in place (stream.h) */
extern bool keep_raw;
extern char *raw_line;
extern size_t raw_len;

/* --- every daemon of the runtime directories (tapirctl_rundir.c) ------------------------- */

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

const char *pick_socket(void);
struct merged *request_all(const char *cmd, json_t *args);
void merged_free(struct merged *m);
void json_add(json_t *dst, const json_t *src);
json_t *merged_array(const struct merged *m, const char *key);

/* --- output (tapirctl_format.c) ---------------------------------------------------------- */

void print_json(const json_t *v);
bool json_shown(const json_t *r, json_t *reply);
long long jint(const json_t *o, const char *key);
const char *jstr(const json_t *o, const char *key, const char *dflt);
const char *human_bytes(char *buf, size_t len, long long v);
const char *human_ms(char *buf, size_t len, long long ms);

/* --- the commands, one family a file ----------------------------------------------------- */

int cmd_status(int argc, char **argv);  /* tapirctl_status.c */
int cmd_stats(int argc, char **argv);   /* tapirctl_status.c */
int cmd_conns(int argc, char **argv);   /* tapirctl_conns.c */
int cmd_conn(int argc, char **argv);    /* tapirctl_conns.c */
int cmd_watch(int argc, char **argv);   /* tapirctl_watch.c */
int cmd_top(int argc, char **argv);     /* tapirctl_top.c */
int cmd_capture(int argc, char **argv); /* tapirctl_capture.c */
int cmd_fwd(int argc, char **argv);     /* tapirctl_fwd.c */
int cmd_policy(int argc, char **argv);  /* tapirctl_policy.c */
int cmd_attach(int argc, char **argv);  /* tapirctl_links.c */
int cmd_detach(int argc, char **argv);  /* tapirctl_links.c */
int cmd_raw(int argc, char **argv);     /* tapirctl_request.c */

#endif /* TAPIR_CTL_TAPIRCTL_H */
