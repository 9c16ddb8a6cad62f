/* slirp4netns.h - slirp4netns 1.2's command line, for tapird started as `slirp4netns` (podman's
 * network_cmd_path, rootlesskit's --slirp4netns-binary) or with --slirp4netns-compat.
 *
 * `[OPTION]... PID|PATH TAPNAME` with slirp4netns's meanings and defaults (MTU 1500, CIDR
 * 10.0.2.0/24, the TAP created but not configured without -c), parsed into tapird's own
 * struct config (one link) plus the few options only this mode has (struct s4n_opts). Errors
 * are worded and shaped as slirp4netns words them. Must not: open, create or start anything;
 * parsing only (it reads the file system and the interface list only where slirp4netns's own
 * parsing does: access() of the paths, the address of an --outbound-addr interface name).
 */
#ifndef TAPIR_SLIRP4NETNS_H
#define TAPIR_SLIRP4NETNS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct config;

/* The argument that selects this mode when tapird is not started as `slirp4netns` */
#define S4N_COMPAT_FLAG "--slirp4netns-compat"
/* The version of slirp4netns whose command line and API we speak (its --version first line) */
#define S4N_VERSION "1.2.0"
/* The libslirp configuration version slirp4netns 1.2 reports: every option above is supported */
#define S4N_CONFIG_VERSION 4
/* slirp4netns's defaults (main.c DEFAULT_MTU, DEFAULT_CIDR) */
#define S4N_DEFAULT_MTU 1500
#define S4N_DEFAULT_CIDR "10.0.2.0/24"

/**
 * struct s4n_opts - the options of this mode that have no place in struct config
 * @exit_fd:		-e: exit when its other end is closed (hang-up, error) or it is not an
 *			open fd at all (-1: none); data written to it is read and ignored
 * @ready_fd:		-r: write "1" to it once serving, then close it (-1: none)
 * @api_socket:		-a: slirp4netns's API socket ("" = none)
 * @enable_ipv6:	-6: IPv6 for the container (off without it, as in slirp4netns)
 * @enable_sandbox:	--enable-sandbox: an empty root (sandbox_pivot_empty()), no capability
 *			but CAP_NET_BIND_SERVICE, no_new_privs, once the TAP is made
 * @enable_seccomp:	--enable-seccomp: the data path's seccomp filter once started
 * @outbound_addr6:	--outbound-addr6 as given ("" = none): an IPv6 address or an interface
 *			name, whose address becomes the link's outbound_addr6
 * @netns_type_path:	--netns-type=path: the operand is a path, not a PID
 * @extra_operands:	operands after TAPNAME were given (slirp4netns warns, ignores them)
 */
struct s4n_opts {
	int exit_fd;
	int ready_fd;
	char api_socket[PATH_MAX];
	bool enable_ipv6;
	bool enable_sandbox;
	bool enable_seccomp;
	char outbound_addr6[64];
	bool netns_type_path;
	bool extra_operands;
};

/**
 * enum s4n_result - what s4n_parse_args() found
 * @S4N_RUN:		start serving
 * @S4N_HELP:		-h: print s4n_usage() to stdout, exit 0
 * @S4N_VERSION_OUT:	-v: print s4n_version() to stdout, exit 0
 * @S4N_ERR_USAGE:	bad command line: the message (if any) on stderr, then the usage on
 *			stdout, exit 1 (slirp4netns's parse_args() "goto error")
 * @S4N_ERR:		bad value found after parsing: the message on stderr, exit 1, no usage
 *			(slirp4netns's slirp4netns_config_from_options())
 */
enum s4n_result { S4N_RUN, S4N_HELP, S4N_VERSION_OUT, S4N_ERR_USAGE, S4N_ERR };

/**
 * s4n_is_invoked() - is this command line slirp4netns's? argv[0]'s basename is "slirp4netns",
 * or argv[1] is S4N_COMPAT_FLAG
 * @argc, @argv: main()'s
 * Return: 0: no; 1: by name; 2: by the flag (argv[1] is to be skipped)
 */
int s4n_is_invoked(int argc, char **argv);

/**
 * s4n_parse_args() - parse slirp4netns's command line into @c (defaults applied first: one
 * link, c->link, with slirp4netns's MTU and CIDR) and @o
 * @argc, @argv: the command line, argv[0] the program name (getopt's messages use it)
 * @err, @errlen: the message for S4N_ERR_USAGE ("" when getopt printed it already) and S4N_ERR
 * Return: an enum s4n_result. Informational notes (options accepted but not honoured yet) are
 * left to the caller: s4n_log_unsupported().
 */
enum s4n_result s4n_parse_args(struct config *c, struct s4n_opts *o, int argc, char **argv,
			       char *err, size_t errlen);

/**
 * s4n_log_unsupported() - one info line for each option given that tapir accepts but does not
 * honour yet (--enable-sandbox, --enable-seccomp)
 */
void s4n_log_unsupported(const struct s4n_opts *o);

/** s4n_usage() - write slirp4netns-style --help text for @argv0 to @f */
void s4n_usage(FILE *f, const char *argv0);

/**
 * s4n_version() - write the --version lines to @f: slirp4netns's machine-parsable shape
 * ("slirp4netns version X", "commit: ..."), naming tapird and its @tapir_version
 */
void s4n_version(FILE *f, const char *tapir_version);

/**
 * s4n_host_uid() - the uid the host sees for @euid: through the lines of @uid_map
 * (/proc/self/uid_map); a rootless podman runs its network process as uid 0 of a user
 * namespace that maps it to the user
 * @uid_map:	the map's text (NULL or unreadable: @euid)
 * Return: the outside uid, or @euid when no line maps it
 */
uid_t s4n_host_uid(const char *uid_map, uid_t euid);

/**
 * s4n_control_path() - where this process's tapir control socket goes (attach-contract.md,
 * runtime directory): /run/tapird/ for root (@uid as the host sees it: s4n_host_uid()),
 * else $XDG_RUNTIME_DIR/tapird/ (an absolute @xdg), else /run/user/UID/tapird/; the file is
 * slirp4netns-PID.sock
 * @buf, @len:	the result
 * Return: 0, or -1 if it does not fit
 */
int s4n_control_path(char *buf, size_t len, uid_t uid, const char *xdg, pid_t pid);

#endif
