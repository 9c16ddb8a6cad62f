/* config.c - tapird's configuration, the entry points: the INI file (libinih), the command
 * line (getopt), the usage text, and the checks of the whole configuration. The keys
 * themselves are in config_link.c and config_daemon.c, their value parsers in config_value.c
 * (config_internal.h).
 *
 * Both sources go through the same setters, so a value means the same thing and is checked the
 * same way wherever it comes from; only the message prefix differs ("--mtu: ..." on the
 * command line, "FILE:LINE: mtu: ..." in the file). Parsing only: nothing here touches the
 * network or the file system beyond reading the file.
 */
#include "config_internal.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/**
 * struct config_src - what one source (file or command line) has set so far
 * @netns:	it named a namespace path
 * @pid:	it named a process
 */
struct config_src {
	bool netns;
	bool pid;
};

/**
 * struct ini_ctx - state of one file parse
 * @f:		the file
 * @line:	number of the line last read (inih counts the same way)
 * @c:		the configuration being built (copied out only if the whole file is good)
 * @src:	what the file set in [link], to refuse both netns and pid
 * @lsrc:	the same for each [link NAME] section (indexed like c.links)
 * @err_line:	line of the first error found by us (0 = none)
 * @msg:	its message, without the "FILE:LINE: " prefix
 */
struct ini_ctx {
	FILE *f;
	unsigned int line;
	struct config c;
	struct config_src src;
	struct config_src lsrc[CONFIG_MAX_LINKS];
	unsigned int err_line;
	char msg[256];
};

/**
 * ini_fail() - record the first error of the file (at the line just read)
 * Return: 0, what inih expects from a handler that refuses
 */
static int ini_fail(struct ini_ctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err_line)
		return 0;
	x->err_line = x->line;
	va_start(ap, fmt);
	vsnprintf(x->msg, sizeof(x->msg), fmt, ap);
	va_end(ap);
	return 0;
}

/**
 * ini_read_line() - inih's line reader: fgets() that counts lines and refuses long ones
 *
 * inih would silently split a line longer than its buffer into two; and it goes on after an
 * error, so this reader also stops the parse at the first error the handler recorded.
 * Return: @str, or NULL at the end (or to stop)
 */
static char *ini_read_line(char *str, int num, void *stream)
{
	struct ini_ctx *x = stream;
	size_t len;
	int ch;

	if (x->err_line || !fgets(str, num, x->f))
		return NULL;
	x->line++;
	len = strlen(str);
	if (len && str[len - 1] != '\n' && (ch = getc(x->f)) != EOF) {
		ungetc(ch, x->f);
		ini_fail(x, "line longer than %d characters", num - 2);
		return NULL;
	}
	return str;
}

/**
 * ini_link() - the link a [link] or [link NAME] section sets, created at its first key
 * @src:	set to what that section has set so far
 * Return: the link, or NULL with the error recorded
 */
static struct link_cfg *ini_link(struct ini_ctx *x, const char *section,
				 struct config_src **src)
{
	const char *name = section + 4;
	char why[200];
	unsigned int i;

	if (!*name) {
		*src = &x->src;
		return &x->c.link;
	}
	while (*name == ' ' || *name == '\t')
		name++;
	for (i = 0; i < x->c.nlinks; i++) {
		if (!strcmp(x->c.links[i].name, name)) {
			*src = &x->lsrc[i];
			return &x->c.links[i];
		}
	}
	if (x->c.nlinks >= CONFIG_MAX_LINKS) {
		ini_fail(x, "[%s]: more than %d [link NAME] sections", section, CONFIG_MAX_LINKS);
		return NULL;
	}
	link_cfg_defaults(&x->c.links[x->c.nlinks]);
	if (set_name(&x->c.links[x->c.nlinks], name, why, sizeof(why))) {
		ini_fail(x, "[%s]: %s", section, why);
		return NULL;
	}
	*src = &x->lsrc[x->c.nlinks];
	return &x->c.links[x->c.nlinks++];
}

/**
 * config_ini_link_key() - one "key = value" of a [link] or [link NAME] section
 * Return: 1 if applied, 0 (with the message recorded) if refused
 */
static int config_ini_link_key(struct ini_ctx *x, const char *section, const char *name,
			       const char *value)
{
	struct config_src *src;
	struct link_cfg *lc = ini_link(x, section, &src);
	char why[200];

	if (!lc)
		return 0;
	if (section[4] && !strcmp(name, "name"))
		return ini_fail(x, "name: [%s] names its link already", section);
	switch (link_cfg_set(lc, name, value, why, sizeof(why))) {
	case 0:
		break;
	case -2:
		return ini_fail(x, "%s: unknown key in [%s]", name, section);
	default:
		return ini_fail(x, "%s: %s", name, why);
	}
	if (!strcmp(name, "netns"))
		src->netns = true;
	if (!strcmp(name, "pid"))
		src->pid = true;
	if (src->netns && src->pid)
		return ini_fail(x, "%s: give either netns or pid, not both", name);
	return 1;
}

/**
 * config_ini_key() - one "key = value" of section @section
 * Return: 1 if applied, 0 (with the message recorded) if refused
 */
static int config_ini_key(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	bool section_known = false;
	char why[200];
	unsigned int i;

	if (!*section)
		return ini_fail(x, "%s: key outside of any [section]", name);
	if (!strcmp(section, "link") || !strncmp(section, "link ", 5))
		return config_ini_link_key(x, section, name, value);
	for (i = 0; i < config_nkeys; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(section, k->section))
			continue;
		section_known = true;
		if (strcmp(name, k->key))
			continue;
		if (k->set(&x->c, value, why, sizeof(why)))
			return ini_fail(x, "%s: %s", name, why);
		return 1;
	}
	if (!section_known)
		return ini_fail(x, "[%s]: unknown section", section);
	return ini_fail(x, "%s: unknown key in [%s]", name, section);
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return config_load_fd(c, fd, path, err, errlen);
}

int config_load_fd(struct config *c, int fd, const char *path, char *err, size_t errlen)
{
	struct ini_ctx x;
	int ret;

	memset(&x, 0, sizeof(x));
	x.c = *c;
	x.f = fdopen(fd, "re");
	if (!x.f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	ret = ini_parse_stream(ini_read_line, &x, config_ini_key, &x);
	if (!ret && ferror(x.f)) {
		snprintf(err, errlen, "%s: read error", path);
		ret = -1;
	}
	fclose(x.f);
	if (ret > 0 && (!x.err_line || (unsigned int)ret < x.err_line)) {
		snprintf(err, errlen, "%s:%d: not \"key = value\", \"[section]\" or a comment",
			 path, ret);
		return -1;
	}
	if (x.err_line) {
		snprintf(err, errlen, "%s:%u: %s", path, x.err_line, x.msg);
		return -1;
	}
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, ret == -2 ? "out of memory" : "read error");
		return -1;
	}
	*c = x.c;
	if (!realpath(path, c->config_path))
		snprintf(c->config_path, sizeof(c->config_path), "%s", path);
	return 0;
}

/* Long options that have no short form */
enum {
	OPT_NETNS = 256,
	OPT_PID,
	OPT_IFNAME,
	OPT_ADDRESS,
	OPT_GATEWAY,
	OPT_DNS,
	OPT_MTU,
	OPT_NO_CONFIGURE,
	OPT_NO_OFFLOAD,
	OPT_CONTROL,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_NO_HOST_LOOPBACK,
	OPT_TIME_WAIT,
	OPT_MAX_FLOWS,
	OPT_MAX_HALF_OPEN,
	OPT_DNS_UPSTREAM,
	OPT_UDP_TIMEOUT,
	OPT_UDP_TIMEOUT_STREAM,
	OPT_MAX_UDP_FLOWS,
	OPT_CLOSED_HISTORY,
	OPT_METRICS,
	OPT_NAME,
	OPT_IPV6_PREFIX,
	OPT_NO_IPV6,
	OPT_OUTBOUND_ADDR6,
	OPT_CAPTURE_DIR,
	OPT_DENY,
	OPT_DENY_LINK_LOCAL,
	OPT_DENY_HOST_ADDRS,
	OPT_IDLE_TIMEOUT,
	OPT_MAX_PER_DEST,
	OPT_MAX_SOCK_MEM,
	OPT_USER,
	OPT_SECCOMP,
	OPT_BUSY_POLL,
};

static const struct option config_longopts[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "config", required_argument, NULL, 'c' },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "ifname", required_argument, NULL, OPT_IFNAME },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "dns", required_argument, NULL, OPT_DNS },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "tcp-forward", required_argument, NULL, 't' },
	{ "udp-forward", required_argument, NULL, 'u' },
	{ "no-configure", no_argument, NULL, OPT_NO_CONFIGURE },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
	{ "time-wait", required_argument, NULL, OPT_TIME_WAIT },
	{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
	{ "max-half-open", required_argument, NULL, OPT_MAX_HALF_OPEN },
	{ "dns-upstream", required_argument, NULL, OPT_DNS_UPSTREAM },
	{ "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },
	{ "udp-timeout-stream", required_argument, NULL, OPT_UDP_TIMEOUT_STREAM },
	{ "max-udp-flows", required_argument, NULL, OPT_MAX_UDP_FLOWS },
	{ "closed-history", required_argument, NULL, OPT_CLOSED_HISTORY },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "ipv6-prefix", required_argument, NULL, OPT_IPV6_PREFIX },
	{ "no-ipv6", no_argument, NULL, OPT_NO_IPV6 },
	{ "outbound-addr6", required_argument, NULL, OPT_OUTBOUND_ADDR6 },
	{ "capture-dir", required_argument, NULL, OPT_CAPTURE_DIR },
	{ "deny", required_argument, NULL, OPT_DENY },
	{ "deny-link-local", no_argument, NULL, OPT_DENY_LINK_LOCAL },
	{ "deny-host-addresses", no_argument, NULL, OPT_DENY_HOST_ADDRS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-per-destination", required_argument, NULL, OPT_MAX_PER_DEST },
	{ "max-socket-memory", required_argument, NULL, OPT_MAX_SOCK_MEM },
	{ "user", required_argument, NULL, OPT_USER },
	{ "seccomp", required_argument, NULL, OPT_SECCOMP },
	{ "busy-poll", required_argument, NULL, OPT_BUSY_POLL },
	{ NULL, 0, NULL, 0 },
};

/* leading ':' so that a missing value is reported as ':' and we write the message */
static const char config_shortopts[] = ":fc:ht:u:";

/**
 * opt_setter() - the setter behind a long option that takes a value
 * Return: the setter, or NULL for options handled in place
 */
static config_setter opt_setter(int opt)
{
	switch (opt) {
	case 't':		return set_tcp_forward;
	case 'u':		return set_udp_forward;
	case OPT_CONTROL:	return set_control;
	case OPT_LOG_LEVEL:	return set_log_level;
	case OPT_TIME_WAIT:	return set_time_wait;
	case OPT_MAX_FLOWS:	return set_max_flows;
	case OPT_MAX_HALF_OPEN:	return set_max_half_open;
	case OPT_DNS_UPSTREAM:	return set_dns_upstream;
	case OPT_UDP_TIMEOUT:	return set_udp_timeout;
	case OPT_UDP_TIMEOUT_STREAM: return set_udp_timeout_stream;
	case OPT_MAX_UDP_FLOWS:	return set_max_udp_flows;
	case OPT_CLOSED_HISTORY: return set_closed_history;
	case OPT_METRICS:	return set_metrics;
	case OPT_CAPTURE_DIR:	return set_capture_dir;
	case OPT_DENY:		return set_deny;
	case OPT_IDLE_TIMEOUT:	return set_idle_timeout;
	case OPT_MAX_PER_DEST:	return set_max_per_dest;
	case OPT_MAX_SOCK_MEM:	return set_max_sock_mem;
	case OPT_USER:		return set_user;
	case OPT_SECCOMP:	return set_seccomp;
	case OPT_BUSY_POLL:	return set_busy_poll;
	default:		return NULL;
	}
}

/**
 * opt_link_setter() - the setter behind a long option that sets the command line's link
 * Return: the setter, or NULL for other options
 */
static link_setter opt_link_setter(int opt)
{
	switch (opt) {
	case OPT_NETNS:		return set_netns;
	case OPT_PID:		return set_pid;
	case OPT_IFNAME:	return set_ifname;
	case OPT_ADDRESS:	return set_address;
	case OPT_GATEWAY:	return set_gateway;
	case OPT_DNS:		return set_dns;
	case OPT_MTU:		return set_mtu;
	case OPT_NAME:		return set_name;
	case OPT_IPV6_PREFIX:	return set_ipv6_prefix;
	case OPT_OUTBOUND_ADDR6: return set_outbound_addr6;
	default:		return NULL;
	}
}

/**
 * opt_name() - how the user spelled option @opt, for messages
 * Return: "--name" (static storage)
 */
static const char *opt_name(int opt)
{
	static char buf[32];
	const struct option *o;

	for (o = config_longopts; o->name; o++) {
		if (o->val == opt) {
			snprintf(buf, sizeof(buf), "--%s", o->name);
			return buf;
		}
	}
	return "?";
}

/**
 * config_check() - the rules that span options, once every source is applied: each link's
 * own (link_cfg_check()), unique names, and the daemon's limits
 * Return: 0, or -1 with a message in @err
 */
static int config_check(struct config *c, char *err, size_t errlen)
{
	struct link_cfg *all[CONFIG_MAX_LINKS + 1];
	unsigned int n = 0, i, j;

	if (link_cfg_has_ns(&c->link))
		all[n++] = &c->link;
	for (i = 0; i < c->nlinks; i++)
		all[n++] = &c->links[i];
	for (i = 0; i < n; i++) {
		/* [tcp] host-loopback is the default of every link that does not say */
		if (!all[i]->host_loopback_set)
			all[i]->no_host_loopback = c->no_host_loopback;
		if (link_cfg_check(all[i], err, errlen))
			return -1;
		for (j = 0; j < i; j++) {
			if (!strcmp(all[i]->name, all[j]->name)) {
				snprintf(err, errlen, "two links are named \"%s\"", all[i]->name);
				return -1;
			}
		}
	}
	if (c->max_half_open > c->max_flows) {
		snprintf(err, errlen, "max-half-open %u is more than max-flows %u",
			 c->max_half_open, c->max_flows);
		return -1;
	}
	return 0;
}

/**
 * bad_option() - the message for getopt's '?' and ':' answers
 * @argv:	the command line
 * @opt:	what getopt_long returned
 */
static void bad_option(char **argv, int opt, char *err, size_t errlen)
{
	const char *tok = argv[optind - 1];

	if (optopt && optopt < 256 && !(tok[0] == '-' && tok[1] == '-')) {
		snprintf(err, errlen, "-%c: %s", optopt,
			 opt == ':' ? "needs a value" : "unknown option");
		return;
	}
	if (opt == ':')
		snprintf(err, errlen, "%s: needs a value", tok);
	else if (optopt && strchr(tok, '='))
		snprintf(err, errlen, "%s: %s takes no value", tok, opt_name(optopt));
	else
		snprintf(err, errlen, "%s: unknown option", tok);
}

int config_parse_args(struct config *c, int argc, char **argv, enum config_action *action,
		      char *err, size_t errlen)
{
	struct config_src src = { 0 };
	const char *file = NULL;
	struct config n = *c;
	char why[200];
	int opt;

	*action = CONFIG_RUN;
	opterr = 0;

	/* First pass: only -c, --help and --version, so the file goes under every flag. */
	optind = 0;
	while ((opt = getopt_long(argc, argv, config_shortopts, config_longopts, NULL)) != -1) {
		if (opt == 'c')
			file = optarg;
		else if (opt == 'h')
			*action = CONFIG_HELP;
		else if (opt == OPT_VERSION && *action == CONFIG_RUN)
			*action = CONFIG_VERSION;
	}
	if (*action != CONFIG_RUN)
		return 0;
	if (file && config_load_file(&n, file, err, errlen))
		return -1;

	optind = 0;
	while ((opt = getopt_long(argc, argv, config_shortopts, config_longopts, NULL)) != -1) {
		config_setter set = opt_setter(opt);
		link_setter lset = opt_link_setter(opt);

		if (lset) {
			if (lset(&n.link, optarg, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", opt_name(opt), why);
				return -1;
			}
			if (opt == OPT_NETNS)
				src.netns = true;
			if (opt == OPT_PID)
				src.pid = true;
			if (src.netns && src.pid) {
				snprintf(err, errlen, "%s: give either --netns or --pid, not both",
					 opt_name(opt));
				return -1;
			}
			continue;
		}
		if (set) {
			if (set(&n, optarg, why, sizeof(why))) {
				snprintf(err, errlen, "%s: %s", opt_name(opt), why);
				return -1;
			}
			if (opt == OPT_LOG_LEVEL)
				n.log_level_from_args = true;
			continue;
		}
		switch (opt) {
		case 'f':
			n.foreground = true;
			break;
		case 'c':
			break;
		case OPT_NO_CONFIGURE:
			n.link.no_configure = true;
			break;
		case OPT_NO_OFFLOAD:
			n.link.no_offload = true;
			break;
		case OPT_NO_HOST_LOOPBACK:
			n.link.no_host_loopback = true;
			n.link.host_loopback_set = true;
			break;
		case OPT_NO_IPV6:
			n.link.no_ipv6 = true;
			break;
		case OPT_DENY_LINK_LOCAL:
			n.policy.deny_link_local = true;
			break;
		case OPT_DENY_HOST_ADDRS:
			n.policy.deny_host_addrs = true;
			break;
		default:
			bad_option(argv, opt, err, errlen);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "\"%s\": unexpected argument (see --help)", argv[optind]);
		return -1;
	}
	/* A namespace on the command line says which container this daemon is for: the shared
	 * file's [link NAME] sections belong to another daemon (tapird@NAME.service beside
	 * tapird.service reads the same file) */
	if (src.netns || src.pid)
		n.nlinks = 0;
	if (config_check(&n, err, errlen))
		return -1;
	*c = n;
	return 0;
}

const char *config_usage(void)
{
	return "Usage: tapird [-f] [-c FILE] [--netns PATH|NAME | --pid PID] [options]\n"
	       "Give network namespaces their network through TAPs served by tapird's own stack.\n"
	       "With no namespace (here or in the file's [link] sections) tapird starts with no\n"
	       "link and waits for `tapirctl attach`.\n"
	       "\n"
	       "  -f, --foreground        stay in the foreground (systemd runs it so)\n"
	       "  -c, --config FILE       read FILE (INI, see tapird.conf) before the flags\n"
	       "      --netns PATH|NAME   the namespace: a path, or NAME for /run/netns/NAME\n"
	       "      --pid PID           or: the namespace of process PID (/proc/PID/ns/net)\n"
	       "      --name NAME         the link's name (the namespace's basename, or pid:N)\n"
	       "      --ifname NAME       TAP name in the namespace (" CONFIG_DEFAULT_IFNAME ")\n"
	       "      --address CIDR      container address (10.0.2.100/24)\n"
	       "      --gateway ADDR      gateway; connections to it reach the host's loopback "
	       "(10.0.2.2)\n"
	       "      --dns ADDR          DNS address, forwarded to the host's resolver "
	       "(10.0.2.3)\n"
	       "      --mtu N             TAP MTU, 576 to 65521 (65520)\n"
	       "      --ipv6-prefix PREFIX/LEN  IPv6 prefix: container ::100, gateway ::2, DNS ::3\n"
	       "                          of it, advertised for SLAAC (fd00::/64)\n"
	       "      --no-ipv6           no IPv6 on the link\n"
	       "      --outbound-addr6 ADDR  source address of IPv6 upstream sockets (a unicast\n"
	       "                          address of the host; default: the kernel chooses)\n"
	       "      --no-configure      create the TAP but set no address, route, MTU or state\n"
	       "      --no-offload        no TAP offloads: no 64 KiB super-frames (GSO) or partial\n"
	       "                          checksums with the container's kernel\n"
	       "      --control PATH      control socket (" CONFIG_DEFAULT_CONTROL ")\n"
	       "      --log-level LEVEL   error, warn, info or debug (info)\n"
	       "      --no-host-loopback  the gateway address does not lead to the host's "
	       "loopback\n"
	       "  -t, --tcp-forward [HOSTADDR:]HOSTPORT:CONTAINERPORT\n"
	       "                          forward a host TCP port into the container (repeatable;\n"
	       "                          ranges 8000-8010:80-90; HOSTADDR 0.0.0.0)\n"
	       "  -u, --udp-forward [HOSTADDR:]HOSTPORT:CONTAINERPORT  the same for UDP\n"
	       "      --time-wait SECONDS TCP TIME_WAIT (2MSL), 0 to 3600 (60)\n"
	       "      --max-flows N       flows per link, 1 to 1048576 (65536)\n"
	       "      --max-half-open N   TCP connections waiting for their upstream, per link "
	       "(1024)\n"
	       "      --dns-upstream ADDR[:PORT]  resolver to forward to (first nameserver of\n"
	       "                          /etc/resolv.conf)\n"
	       "      --udp-timeout SECONDS  idle UDP flow without a reply, 1 to 86400 (30)\n"
	       "      --udp-timeout-stream SECONDS  idle UDP flow with replies (180)\n"
	       "      --max-udp-flows N   UDP flows per link, 0 to 1048576 (4096)\n"
	       "      --closed-history N  closed flows remembered, 0 to 1000000 (1024)\n"
	       "      --metrics ADDR:PORT serve Prometheus metrics at http://ADDR:PORT/metrics"
	       " (off)\n"
	       "      --capture-dir DIR   where `tapirctl capture` files go (" CONFIG_DEFAULT_CAPTURE_DIR
	       ")\n"
	       "      --deny RULE         deny every link CIDR[:PORT[-PORT]] [tcp|udp|any]\n"
	       "                          (repeatable; [policy] deny)\n"
	       "      --deny-link-local   deny 169.254.0.0/16 (cloud metadata) to every link\n"
	       "      --deny-host-addresses  deny the host's own non-loopback addresses\n"
	       "      --idle-timeout SECONDS  reset ESTABLISHED TCP flows idle this long (0: off)\n"
	       "      --max-per-destination N  upstream TCP connections per link towards one\n"
	       "                          ADDRESS:PORT (0: no cap)\n"
	       "      --max-socket-memory MIB  kernel socket buffers of a link's TCP flows (0: no"
	       " bound)\n"
	       "      --user NAME         the data path's user once started, as root (" CONFIG_DEFAULT_USER
	       ");\n"
	       "                          a privileged helper keeps setns/TAP/netlink (root: no\n"
	       "                          privilege separation)\n"
	       "      --seccomp MODE      the system call filters of the data path and of the\n"
	       "                          privileged helper: kill, log or off (kill)\n"
	       "      --busy-poll USEC    after request/response traffic, poll up to this long\n"
	       "                          before sleeping: fewer wakeups, CPU spent (50; 0: off)\n"
	       "      --version           print the version and exit\n"
	       "  -h, --help              print this help and exit\n"
	       "\n"
	       "Flags override the file. Signals: SIGTERM/SIGINT stop, SIGHUP re-reads the log "
	       "level.\n"
	       "Started as `slirp4netns`, or as `tapird --slirp4netns-compat ARGS...`, it takes\n"
	       "slirp4netns 1.2's command line instead (see --slirp4netns-compat --help).\n";
}
