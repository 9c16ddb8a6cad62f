/* slirp4netns.c - slirp4netns 1.2's command line (see slirp4netns.h).
 *
 * The options, their order of checks and their messages follow slirp4netns 1.2's main.c
 * (parse_args() and slirp4netns_config_from_options()), so that a runtime that drives
 * slirp4netns sees the same answers. Where tapir differs it says why beside the line.
 */
#include "slirp4netns.h"
#include "config.h"
#include "log.h"
#include "stack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* slirp4netns main.c: the guest is the network address + 100, so a /26 or longer has no
 * room for it (NETWORK_PREFIX_MIN/MAX) */
#define S4N_PREFIX_MIN 1
#define S4N_PREFIX_MAX 25
/* slirp4netns main.c DEFAULT_VHOST_OFFSET, DEFAULT_VNAMESERVER_OFFSET,
 * DEFAULT_RECOMMENDED_VGUEST_OFFSET */
#define S4N_GATEWAY_OFFSET 2
#define S4N_DNS_OFFSET 3
#define S4N_GUEST_OFFSET 100
/* libslirp's DHCP pool starts at the network + 15 (slirp4netns main.c
 * DEFAULT_VDHCPSTART_OFFSET): without -c, slirp4netns configures nothing and the container
 * either runs a DHCP client, which libslirp leases network + 15 (slirp4netns's own dhcp test),
 * or is configured by the runtime with the recommended network + 100 (rootlesskit, whose port
 * driver names 10.0.2.100 as guest_addr). tapird's stack relays from one address: it starts
 * as network + 100 and becomes network + 15 when the DHCP server ACKs it. */
#define S4N_DHCP_OFFSET 15

/* getopt_long values of the long-only options (slirp4netns uses negative numbers too) */
enum {
	OPT_CIDR = 256,
	OPT_DISABLE_HOST_LOOPBACK,
	OPT_NO_HOST_LOOPBACK, /* deprecated spelling, still accepted by 1.2 */
	OPT_NETNS_TYPE,
	OPT_USERNS_PATH,
	OPT_ENABLE_SANDBOX,
	OPT_CREATE_SANDBOX, /* deprecated spelling */
	OPT_ENABLE_SECCOMP,
	OPT_OUTBOUND_ADDR,
	OPT_OUTBOUND_ADDR6,
	OPT_DISABLE_DNS,
	OPT_MACADDRESS,
	OPT_TARGET_TYPE,
};

static const struct option s4n_longopts[] = {
	{ "configure", no_argument, NULL, 'c' },
	{ "exit-fd", required_argument, NULL, 'e' },
	{ "ready-fd", required_argument, NULL, 'r' },
	{ "mtu", required_argument, NULL, 'm' },
	{ "cidr", required_argument, NULL, OPT_CIDR },
	{ "disable-host-loopback", no_argument, NULL, OPT_DISABLE_HOST_LOOPBACK },
	{ "no-host-loopback", no_argument, NULL, OPT_NO_HOST_LOOPBACK },
	{ "netns-type", required_argument, NULL, OPT_NETNS_TYPE },
	{ "userns-path", required_argument, NULL, OPT_USERNS_PATH },
	{ "api-socket", required_argument, NULL, 'a' },
	{ "enable-ipv6", no_argument, NULL, '6' },
	{ "enable-sandbox", no_argument, NULL, OPT_ENABLE_SANDBOX },
	{ "create-sandbox", no_argument, NULL, OPT_CREATE_SANDBOX },
	{ "enable-seccomp", no_argument, NULL, OPT_ENABLE_SECCOMP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' },
	{ "outbound-addr", required_argument, NULL, OPT_OUTBOUND_ADDR },
	{ "outbound-addr6", required_argument, NULL, OPT_OUTBOUND_ADDR6 },
	{ "disable-dns", no_argument, NULL, OPT_DISABLE_DNS },
	{ "macaddress", required_argument, NULL, OPT_MACADDRESS },
	{ "target-type", required_argument, NULL, OPT_TARGET_TYPE },
	{ 0, 0, 0, 0 },
};

int s4n_is_invoked(int argc, char **argv)
{
	const char *base;

	if (argc < 1 || !argv[0])
		return 0;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "slirp4netns"))
		return 1;
	if (argc > 1 && !strcmp(argv[1], S4N_COMPAT_FLAG))
		return 2;
	return 0;
}

/**
 * fail() - write a message into @err
 * @rc:		what to return
 * Return: @rc
 */
__attribute__((format(printf, 4, 5))) static enum s4n_result fail(enum s4n_result rc, char *err,
								   size_t errlen,
								   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/**
 * parse_fd() - a non-negative decimal integer, as slirp4netns's strtol() check takes it
 * Return: the number, or -1
 */
static int parse_nonneg(const char *v, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 0 || n > max)
		return -1;
	return (int)n;
}

/**
 * parse_cidr() - slirp4netns's parse_cidr(): "A.B.C.D/N", N in 1..25, host bits zero
 * @net, @prefix: the network (host byte order) and its prefix length
 * Return: 0, or -1 with slirp4netns's message in @err
 */
static int parse_cidr(const char *cidr, uint32_t *net, unsigned int *prefix, char *err,
		      size_t errlen)
{
	char addr[16];
	const char *slash = strchr(cidr, '/');
	struct in_addr ia;
	size_t alen;
	uint32_t mask;
	int dots = 0, p;

	/* slirp4netns's regex: ^(([0-9]{1,3}\.){3}[0-9]{1,3})/([0-9]{1,2})$ */
	alen = slash ? (size_t)(slash - cidr) : 0;
	if (!slash || alen < 7 || alen > 15 || !slash[1] || strlen(slash + 1) > 2)
		goto invalid;
	for (const char *s = cidr; s < slash; s++) {
		if (*s == '.')
			dots++;
		else if (*s < '0' || *s > '9')
			goto invalid;
	}
	for (const char *s = slash + 1; *s; s++)
		if (*s < '0' || *s > '9')
			goto invalid;
	if (dots != 3)
		goto invalid;
	memcpy(addr, cidr, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, &ia) != 1) {
		snprintf(err, errlen, "invalid network address: %s", addr);
		return -1;
	}
	p = atoi(slash + 1);
	if (p < S4N_PREFIX_MIN || p > S4N_PREFIX_MAX) {
		snprintf(err, errlen, "prefix length needs to be %d-%d", S4N_PREFIX_MIN,
			 S4N_PREFIX_MAX);
		return -1;
	}
	mask = ~0u << (32 - p);
	*net = ntohl(ia.s_addr);
	if (*net & ~mask) {
		snprintf(err, errlen, "CIDR needs to be a network address like 10.0.2.0/24, "
				      "not like 10.0.2.100/24");
		return -1;
	}
	*prefix = (unsigned int)p;
	return 0;
invalid:
	snprintf(err, errlen, "invalid CIDR: %s", cidr);
	return -1;
}

/**
 * iface_addr4() - the first IPv4 address of interface @name (slirp4netns's
 * get_interface_addr())
 * Return: 0 with @out in host byte order, or -1
 */
static int iface_addr4(const char *name, uint32_t *out)
{
	struct ifaddrs *ifa0, *ifa;
	int rc = -1;

	if (getifaddrs(&ifa0) < 0)
		return -1;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || !ifa->ifa_name || ifa->ifa_addr->sa_family != AF_INET ||
		    strcmp(ifa->ifa_name, name))
			continue;
		*out = ntohl(((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr);
		rc = 0;
		break;
	}
	freeifaddrs(ifa0);
	return rc;
}

/**
 * iface_addr6() - an IPv6 address of interface @name to bind to: its first that is not
 * link-local (which needs the interface to mean anything), as slirp4netns's
 * get_interface_addr() takes the first of the family
 * Return: 0 with @out (network order), or -1
 */
static int iface_addr6(const char *name, uint8_t out[16])
{
	struct ifaddrs *ifa0, *ifa;
	int rc = -1;

	if (getifaddrs(&ifa0) < 0)
		return -1;
	for (ifa = ifa0; ifa; ifa = ifa->ifa_next) {
		const uint8_t *a;

		if (!ifa->ifa_addr || !ifa->ifa_name || ifa->ifa_addr->sa_family != AF_INET6 ||
		    strcmp(ifa->ifa_name, name))
			continue;
		a = ((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr.s6_addr;
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			continue;
		memcpy(out, a, 16);
		rc = 0;
		break;
	}
	freeifaddrs(ifa0);
	return rc;
}

/**
 * apply_outbound6() - --outbound-addr6: an IPv6 address, or an interface name (its address)
 * @lc:		the link
 * @v:		the value
 * Return: S4N_RUN, or S4N_ERR with the message in @err
 */
static enum s4n_result apply_outbound6(struct link_cfg *lc, const char *v, char *err,
				       size_t errlen)
{
	char buf[INET6_ADDRSTRLEN], why[160];
	uint8_t a[16];

	if (inet_pton(AF_INET6, v, a) != 1) {
		if (iface_addr6(v, a) || !inet_ntop(AF_INET6, a, buf, sizeof(buf)))
			return fail(S4N_ERR, err, errlen, "outbound-addr6 has to be valid ipv6"
				    " address or interface name.");
		v = buf;
	}
	if (link_cfg_set(lc, "outbound-addr6", v, why, sizeof(why)))
		return fail(S4N_ERR, err, errlen, "outbound-addr6: %s", why);
	return S4N_RUN;
}

/**
 * parse_mac() - "xx:xx:xx:xx:xx:xx", each byte one or two hex digits
 * Return: 0, or -1
 */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		char *end;
		unsigned long b;

		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return -1;
		b = strtoul(s, &end, 16);
		if (b > 255 || end - s > 2)
			return -1;
		mac[i] = (uint8_t)b;
		if (i < 5 && *end != ':')
			return -1;
		s = end + (i < 5);
	}
	return *s ? -1 : 0;
}

/**
 * apply_values() - slirp4netns_config_from_options(): the values checked after the options
 * were read (CIDR, outbound address, MAC), each failing without the usage text
 * @lc:		the link, its @no_configure already set (it decides the container address)
 * Return: S4N_RUN, or S4N_ERR with the message in @err
 */
static enum s4n_result apply_values(struct link_cfg *lc, const char *cidr, const char *outbound,
				    const char *mac, char *err, size_t errlen)
{
	unsigned int prefix;
	struct in_addr ia;
	uint32_t net;

	if (parse_cidr(cidr, &net, &prefix, err, errlen))
		return S4N_ERR;
	/* -c configures the recommended address (.100); without it a DHCP client in the
	 * container gets libslirp's first lease (.15), and that becomes the address */
	lc->addr = net + S4N_GUEST_OFFSET;
	lc->dhcp_addr = lc->no_configure ? net + S4N_DHCP_OFFSET : 0;
	lc->gateway = net + S4N_GATEWAY_OFFSET;
	lc->dns = net + S4N_DNS_OFFSET;
	lc->prefix_len = (uint8_t)prefix;
	if (outbound) {
		if (inet_pton(AF_INET, outbound, &ia) == 1)
			lc->outbound_addr = ntohl(ia.s_addr);
		else if (iface_addr4(outbound, &lc->outbound_addr))
			return fail(S4N_ERR, err, errlen, "outbound-addr has to be valid ipv4"
				    " address or interface name.");
	}
	if (mac) {
		if (parse_mac(mac, lc->mac))
			return fail(S4N_ERR, err, errlen,
				    "\"%s\" is an invalid MAC address.\nmacaddress has to be a"
				    " valid MAC address (hex string, 6 bytes, each byte separated"
				    " by a ':').", mac);
		lc->has_mac = true;
	}
	return S4N_RUN;
}

/**
 * copy_arg() - copy @v into @dst of @size bytes
 * Return: 0, or -1 when it does not fit
 */
static int copy_arg(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return -1;
	memcpy(dst, v, n + 1);
	return 0;
}

/**
 * parse_operands() - PID|PATH TAPNAME, after the options
 * @ops, @nops: the operands
 * Return: S4N_RUN, or S4N_ERR_USAGE with the message (or none) in @err
 */
static enum s4n_result parse_operands(struct link_cfg *lc, struct s4n_opts *o, char **ops,
				      int nops, char *err, size_t errlen)
{
	/* slirp4netns 1.2 needs both, though its usage line shows [TAPNAME]: usage, exit 1 */
	if (nops < 2)
		return fail(S4N_ERR_USAGE, err, errlen, "%s", "");
	/* more is "WARNING: too many arguments" in slirp4netns, not an error: the extra ones are
	 * ignored (s4n_log_unsupported() says so) */
	o->extra_operands = nops > 2;
	if (!o->netns_type_path) {
		int pid = parse_nonneg(ops[0], INT32_MAX);

		if (pid <= 0)
			return fail(S4N_ERR_USAGE, err, errlen, "PID must be a positive integer");
		lc->pid = pid;
	} else {
		if (access(ops[0], F_OK) < 0)
			return fail(S4N_ERR_USAGE, err, errlen,
				    "existing path expected when --netns-type=path: %s",
				    strerror(errno));
		if (copy_arg(lc->netns, sizeof(lc->netns), ops[0]))
			return fail(S4N_ERR_USAGE, err, errlen, "%s: path too long", ops[0]);
	}
	if (!ops[1][0] || copy_arg(lc->ifname, sizeof(lc->ifname), ops[1]))
		return fail(S4N_ERR_USAGE, err, errlen, "%s: not a valid interface name"
			    " (1 to %zu characters)", ops[1], sizeof(lc->ifname) - 1);
	return S4N_RUN;
}

enum s4n_result s4n_parse_args(struct config *c, struct s4n_opts *o, int argc, char **argv,
			       char *err, size_t errlen)
{
	const char *cidr = S4N_DEFAULT_CIDR, *outbound = NULL, *mac = NULL, *target = NULL;
	struct link_cfg *lc = &c->link;
	bool configure = false;
	enum s4n_result rc;
	int opt, n;

	config_defaults(c);
	memset(o, 0, sizeof(*o));
	o->exit_fd = o->ready_fd = -1;
	lc->mtu = S4N_DEFAULT_MTU;
	/* the process lives as long as its container: its runtime supervises it */
	c->foreground = true;
	err[0] = '\0';

	optind = 0; /* GNU: full re-initialisation, so that every call parses afresh */
	while ((opt = getopt_long(argc, argv, "ce:r:m:a:6hv", s4n_longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			configure = true;
			break;
		case 'e':
			o->exit_fd = parse_nonneg(optarg, INT32_MAX);
			if (o->exit_fd < 0)
				return fail(S4N_ERR_USAGE, err, errlen,
					    "exit-fd must be a non-negative integer");
			break;
		case 'r':
			o->ready_fd = parse_nonneg(optarg, INT32_MAX);
			if (o->ready_fd < 0)
				return fail(S4N_ERR_USAGE, err, errlen,
					    "ready-fd must be a non-negative integer");
			break;
		case 'm':
			n = parse_nonneg(optarg, 65521);
			if (n <= 0)
				return fail(S4N_ERR_USAGE, err, errlen,
					    "MTU must be a positive integer (< 65522)");
			/* slirp4netns takes any positive MTU; tapir's stack needs the 576 bytes
			 * every IPv4 host must accept (RFC 791) */
			if (n < STACK_MIN_MTU)
				return fail(S4N_ERR_USAGE, err, errlen,
					    "MTU must be at least %d for tapird (RFC 791)",
					    STACK_MIN_MTU);
			lc->mtu = (uint32_t)n;
			break;
		case OPT_CIDR:
			cidr = optarg;
			break;
		case OPT_NO_HOST_LOOPBACK:
		case OPT_DISABLE_HOST_LOOPBACK:
			lc->no_host_loopback = true;
			lc->host_loopback_set = true;
			break;
		case OPT_CREATE_SANDBOX:
		case OPT_ENABLE_SANDBOX:
			o->enable_sandbox = true;
			break;
		case OPT_ENABLE_SECCOMP:
			o->enable_seccomp = true;
			break;
		case OPT_NETNS_TYPE:
			/* slirp4netns: "pid" is a PID, anything else a path */
			o->netns_type_path = strcmp(optarg, "pid") != 0;
			break;
		case OPT_USERNS_PATH:
			if (access(optarg, F_OK) < 0)
				return fail(S4N_ERR_USAGE, err, errlen,
					    "userns path doesn't exist: %s", optarg);
			if (copy_arg(lc->userns, sizeof(lc->userns), optarg))
				return fail(S4N_ERR_USAGE, err, errlen, "%s: path too long",
					    optarg);
			break;
		case 'a':
			if (copy_arg(o->api_socket, sizeof(o->api_socket), optarg))
				return fail(S4N_ERR_USAGE, err, errlen, "%s: path too long",
					    optarg);
			break;
		case '6':
			o->enable_ipv6 = true;
			break;
		case 'h':
			return S4N_HELP;
		case 'v':
			return S4N_VERSION_OUT;
		case OPT_OUTBOUND_ADDR:
			outbound = optarg;
			break;
		case OPT_OUTBOUND_ADDR6:
			if (copy_arg(o->outbound_addr6, sizeof(o->outbound_addr6), optarg))
				return fail(S4N_ERR_USAGE, err, errlen,
					    "%s: not an IPv6 address or interface name", optarg);
			break;
		case OPT_DISABLE_DNS:
			lc->no_dns = true;
			break;
		case OPT_MACADDRESS:
			mac = optarg;
			break;
		case OPT_TARGET_TYPE:
			target = optarg;
			break;
		default:
			/* getopt_long printed "unrecognized option" or "requires an argument" */
			return fail(S4N_ERR_USAGE, err, errlen, "%s", "");
		}
	}
	if (mac && !configure)
		return fail(S4N_ERR_USAGE, err, errlen, "--macaddr cannot be specified when"
			    " --configure or -c is not specified");
	if (target && !strcmp(target, "bess"))
		/* BESS hands the frames to a BESS daemon's socket, not to a TAP: not tapir's */
		return fail(S4N_ERR_USAGE, err, errlen, "--target-type=bess is not supported"
			    " by tapird");
	if (target && strcmp(target, "netns"))
		return fail(S4N_ERR_USAGE, err, errlen,
			    "--target-type must be either \"netns\" or \"bess\"");
	rc = parse_operands(lc, o, argv + optind, argc - optind, err, errlen);
	if (rc != S4N_RUN)
		return rc;
	/* slirp4netns's nsenter(): with a PID and no --userns-path it joins the PID's user
	 * namespace too (rootlesskit relies on it); the TAP child skips it when it is ours */
	if (lc->pid && !lc->userns[0])
		snprintf(lc->userns, sizeof(lc->userns), "/proc/%d/ns/user", lc->pid);
	/* slirp4netns semantics: without -c the TAP exists but is not configured; a TAP made
	 * beforehand under TAPNAME is attached to (rootlesskit's PrepareTap makes one) */
	lc->no_configure = !configure;
	lc->tap_reuse = true;
	lc->slirp_answers = true;
	/* slirp4netns gives IPv6 only with --enable-ipv6 (libslirp's fd00::/64, ::2, ::3) */
	lc->no_ipv6 = !o->enable_ipv6;
	if (o->outbound_addr6[0]) {
		rc = apply_outbound6(lc, o->outbound_addr6, err, errlen);
		if (rc != S4N_RUN)
			return rc;
	}
	return apply_values(lc, cidr, outbound, mac, err, errlen);
}

void s4n_log_unsupported(const struct s4n_opts *o)
{
	if (o->extra_operands)
		log_warn("too many arguments: the ones after TAPNAME are ignored");
}

void s4n_usage(FILE *f, const char *argv0)
{
	fprintf(f, "Usage: %s [OPTION]... PID|PATH [TAPNAME]\n", argv0);
	fputs("User-mode networking for unprivileged network namespaces (tapird, speaking\n"
	      "slirp4netns " S4N_VERSION "'s command line and API).\n\n", f);
	fputs("-c, --configure          bring up the interface\n"
	      "-e, --exit-fd=FD         specify the FD for terminating slirp4netns\n"
	      "-r, --ready-fd=FD        specify the FD to write to when the network is"
	      " configured\n", f);
	fprintf(f, "-m, --mtu=MTU            specify MTU (default=%d, max=65521)\n",
		S4N_DEFAULT_MTU);
	fputs("-6, --enable-ipv6        enable IPv6 (accepted; tapird serves IPv4 only)\n"
	      "-a, --api-socket=PATH    specify API socket path\n", f);
	fprintf(f, "--cidr=CIDR              specify network address CIDR (default=%s)\n",
		S4N_DEFAULT_CIDR);
	fputs("--disable-host-loopback  prohibit connecting to 127.0.0.1:* on the host"
	      " namespace\n"
	      "--netns-type=TYPE        specify network namespace type ([path|pid],"
	      " default=pid)\n"
	      "--userns-path=PATH       specify user namespace path\n"
	      "--enable-sandbox         create a new mount namespace (and drop all caps except"
	      " CAP_NET_BIND_SERVICE if running as the root)\n"
	      "--enable-seccomp         enable seccomp to limit syscalls\n"
	      "--outbound-addr=IPv4     sets outbound ipv4 address to bound to\n"
	      "--outbound-addr6=IPv6    sets outbound ipv6 address to bound to\n"
	      "--disable-dns            disables 10.0.2.3 (or configured internal ip) to host"
	      " dns redirect\n"
	      "--macaddress=MAC         specify the MAC address of the TAP (only valid with"
	      " -c)\n"
	      "--target-type=TYPE       specify the target type ([netns|bess], default=netns;"
	      " tapird: netns only)\n"
	      "-h, --help               show this help and exit\n"
	      "-v, --version            show version and exit\n", f);
}

void s4n_version(FILE *f, const char *tapir_version)
{
	/* slirp4netns's lines are runc-style "key: value"; tools read the first one */
	fprintf(f, "slirp4netns version %s\n", S4N_VERSION);
	fprintf(f, "commit: tapird %s\n", tapir_version);
	fputs("libslirp: none (tapird has its own TCP/IP stack)\n", f);
	/* slirp4netns prints libslirp's configuration version; tools read it to know which
	 * options exist (>= 2: --outbound-addr, >= 3: --disable-dns, 4: 1.2's full set) */
	fprintf(f, "SLIRP_CONFIG_VERSION_MAX: %d\n", S4N_CONFIG_VERSION);
}

uid_t s4n_host_uid(const char *uid_map, uid_t euid)
{
	unsigned long in, out, count;
	const char *p = uid_map;
	int n;

	/* "INSIDE OUTSIDE COUNT" lines (user_namespaces(7)); the initial namespace maps all */
	while (p && sscanf(p, "%lu %lu %lu%n", &in, &out, &count, &n) == 3) {
		if (euid >= in && euid - in < count)
			return (uid_t)(out + (euid - in));
		p = strchr(p + n, '\n');
		if (p)
			p++;
	}
	return euid;
}

int s4n_control_path(char *buf, size_t len, uid_t uid, const char *xdg, pid_t pid)
{
	int n;

	if (uid == 0)
		n = snprintf(buf, len, "/run/tapird/slirp4netns-%ld.sock", (long)pid);
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/tapird/slirp4netns-%ld.sock", xdg, (long)pid);
	else
		n = snprintf(buf, len, "/run/user/%lu/tapird/slirp4netns-%ld.sock",
			     (unsigned long)uid, (long)pid);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}
