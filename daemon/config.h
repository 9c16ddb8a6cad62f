/* config.h - tapird's configuration: defaults, the INI file (libinih), the command line.
 *
 * Order: defaults, then the file (-c), then command-line flags. Every failure leaves a
 * message that names the problem (FILE:LINE: key: what is wrong). Must not: touch the
 * network or start anything; parsing only.
 */
#ifndef TAPIR_CONFIG_H
#define TAPIR_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwdspec.h"
#include "policy.h"

#define CONFIG_DEFAULT_CONTROL "/run/tapird/control.sock"
#define CONFIG_DEFAULT_CAPTURE_DIR "/var/lib/tapird/captures"
#define CONFIG_DEFAULT_IFNAME "tap0"
/* The data path's user after start-up (systemd/tapird.sysusers makes it) */
#define CONFIG_DEFAULT_USER "tapird"
/* [daemon] busy-poll: microseconds the loop polls after a small turn (main.c, run_loop()) */
#define CONFIG_DEFAULT_BUSY_POLL_US 50
/* -t/-u and [forward] lines; a range counts once. Each forward holds a host socket. */
#define CONFIG_MAX_FORWARDS 64
/* [link NAME] sections in the file: the daemon serves at most TAPIRD_MAX_LINKS links */
#define CONFIG_MAX_LINKS 64
/* A link's name: CNI container ids are 64 hex digits; room for a prefix */
#define LINK_NAME_MAX 128

/**
 * struct link_cfg - one container to attach: where, and how its TAP is set up
 * @name:		the link's name in listings and commands ("" = from @netns or @pid)
 * @netns:		namespace path (a bare NAME given means /run/netns/NAME) ("" = unset)
 * @pid:		or: the namespace of this process (0 = unset)
 * @userns:		user namespace to join before creating the TAP ("" = none): rootless
 *			runtimes own the network namespace from their user namespace
 * @ifname:		TAP name in the namespace
 * @addr:		container address
 * @prefix_len:		its prefix length
 * @gateway:		gateway address
 * @dns:		DNS address
 * @mtu:		TAP MTU
 * @no_configure:	create and hold the TAP, configure nothing
 * @no_dhcp:		the stack does not answer DHCP (dhcp = no; default: it does)
 * @dhcp_addr:		the address DHCP leases, when not @addr (0: @addr); ACKed, it becomes
 *			the container's (slirp4netns compat without -c: stack_cfg.dhcp_addr)
 * @no_offload:		open the TAP without its offloads (no virtio-net header, no GSO, no
 *			partial checksums): frames of at most the MTU, every checksum computed
 * @no_host_loopback:	the gateway address does not map to the host's loopback
 * @host_loopback_set:	@no_host_loopback was given for this link (else the daemon's [tcp]
 *			host-loopback applies)
 * @no_dns:		the DNS address answers nothing (slirp4netns --disable-dns)
 * @outbound_addr:	source address of upstream sockets (0 = the kernel chooses)
 * @outbound_addr6:	source address of IPv6 upstream sockets (network order; when
 *			@has_outbound6: slirp4netns 1.2 --outbound-addr6, [link] outbound-addr6)
 * @has_outbound6:	@outbound_addr6 is set (else the kernel chooses)
 * @no_ipv6:		IPv6 off for this link ([link] ipv6 = no, --no-ipv6)
 * @prefix6:		the link's IPv6 prefix (network order; fd00::): the container is
 *			::100 of it, the gateway ::2, DNS ::3
 * @prefix6_len:	its length (64)
 * @mac:		MAC address to give the TAP in the namespace (slirp4netns --macaddress)
 * @has_mac:		@mac is set (else the kernel's random one stays)
 * @tap_reuse:		attach to a persistent TAP of @ifname made beforehand instead of
 *			refusing the name (slirp4netns semantics: rootlesskit makes the TAP)
 * @slirp_answers:	what is denied looks as it does under slirp4netns 1.2: with
 *			@no_host_loopback, TCP to the gateway gets ICMP net unreachable and UDP
 *			is dropped; with @no_dns, everything to the DNS address is dropped
 *			(slirp4netns sends it to the real address: it times out). Otherwise
 *			both are refused (RST, ICMP port unreachable).
 * @policy:		what this link may not reach (deny rules, deny-link-local,
 *			deny-host-addresses), on top of the daemon's [policy] (policy.h)
 */
struct link_cfg {
	char name[LINK_NAME_MAX];
	char netns[PATH_MAX];
	int pid;
	char userns[PATH_MAX];
	char ifname[IFNAMSIZ];
	uint32_t addr;
	uint8_t prefix_len;
	uint32_t gateway;
	uint32_t dns;
	uint32_t mtu;
	bool no_configure;
	bool no_dhcp;
	uint32_t dhcp_addr;
	bool no_offload;
	bool no_host_loopback;
	bool host_loopback_set;
	bool no_dns;
	uint32_t outbound_addr;
	uint8_t outbound_addr6[16];
	bool has_outbound6;
	bool no_ipv6;
	uint8_t prefix6[16];
	uint8_t prefix6_len;
	uint8_t mac[6];
	bool has_mac;
	bool tap_reuse;
	bool slirp_answers;
	struct policy policy;
};

/**
 * struct config - every option; addresses in host byte order
 * @foreground:		stay in the foreground (-f)
 * @config_path:	file given with -c ("" = none)
 * @link:		the link of [link] and the command line (--netns, --pid ...); attached
 *			at start when it names a namespace
 * @links:		the links of [link NAME] sections, attached at start
 * @nlinks:		used entries of @links
 * @control:		control socket path
 * @control_group:	group owning the socket (read commands); "" = root's
 * @admin_group:	group allowed mutating commands besides uid 0
 * @log_level:		enum log_level
 * @no_host_loopback:	[tcp] host-loopback = no: the default of every link
 * @forwards:		port forwards to open at start (-t, -u, [forward] tcp/udp), in order
 * @nforwards:		used entries of @forwards
 * @time_wait_s:	TIME_WAIT duration (2MSL) in seconds
 * @max_flows:		flow table size per link
 * @max_half_open:	bound on half-open TCP connections per link
 * @dns_upstream:	"ADDR[:PORT]" of the upstream resolver ("" = first of /etc/resolv.conf)
 * @log_level_from_args: --log-level was given (SIGHUP's re-read of the file keeps it)
 * @udp_timeout_s:	idle timeout of a UDP flow without a reply, seconds
 * @udp_timeout_stream_s: idle timeout of a UDP flow that got a reply, seconds
 * @max_udp_flows:	bound on UDP flows per link (0: no UDP)
 * @closed_history:	closed flows remembered for `conns --all` and `conn` (0: none)
 * @metrics:		"ADDR:PORT" (IPv6 as "[ADDR]:PORT") of the Prometheus endpoint ("" = off)
 * @capture_dir:	the one directory captures are written in (capture.h)
 * @policy:		[policy]: deny rules and switches every link gets besides its own
 * @idle_timeout_s:	[tcp] idle-timeout: an ESTABLISHED flow silent this long is reset both
 *			ways (0: never, as slirp4netns)
 * @max_per_dest:	[tcp] max-per-destination: concurrent upstream TCP connections of one
 *			link towards one ADDRESS:PORT (0: no cap)
 * @max_sock_mem:	[tcp] max-socket-memory: bytes of kernel socket buffers (send plus
 *			receive) a link's upstream TCP sockets may ask for (0: no bound)
 * @user:		[daemon] user, --user: whom the data path runs as once started
 *			(CONFIG_DEFAULT_USER; "root": no privilege separation at all)
 * @seccomp:		[daemon] seccomp, --seccomp: enum sandbox_seccomp (kill, log, off)
 * @busy_poll_us:	[daemon] busy-poll, --busy-poll: after a small loop turn that fed a
 *			stack, poll for up to this long before sleeping (0: off;
 *			CONFIG_DEFAULT_BUSY_POLL_US)
 */
struct config {
	bool foreground;
	char config_path[PATH_MAX];
	struct link_cfg link;
	struct link_cfg links[CONFIG_MAX_LINKS];
	unsigned int nlinks;
	char control[PATH_MAX];
	char control_group[64];
	char admin_group[64];
	int log_level;
	bool no_host_loopback;
	struct fwd_spec forwards[CONFIG_MAX_FORWARDS];
	unsigned int nforwards;
	uint32_t time_wait_s;
	uint32_t max_flows;
	uint32_t max_half_open;
	char dns_upstream[128];
	bool log_level_from_args;
	uint32_t udp_timeout_s;
	uint32_t udp_timeout_stream_s;
	uint32_t max_udp_flows;
	uint32_t closed_history;
	char metrics[64];
	char capture_dir[PATH_MAX];
	struct policy policy;
	uint32_t idle_timeout_s;
	uint32_t max_per_dest;
	uint64_t max_sock_mem;
	char user[64];
	int seccomp;
	uint32_t busy_poll_us;
};

/** config_defaults() - fill @c with the DESIGN.md defaults */
void config_defaults(struct config *c);

/** link_cfg_defaults() - fill @lc with the DESIGN.md defaults of a link (no namespace) */
void link_cfg_defaults(struct link_cfg *lc);

/**
 * link_cfg_has_ns() - does @lc name a namespace (netns or pid)?
 * Return: true if so
 */
static inline bool link_cfg_has_ns(const struct link_cfg *lc)
{
	return lc->netns[0] || lc->pid;
}

/**
 * link_cfg_set() - set one key of a link, as in a [link] section ("netns", "pid", "ifname",
 * "address", "gateway", "dns", "mtu", "configure", "dhcp", "offload", "host-loopback", "name",
 * "ipv6", "ipv6-prefix")
 * @why, @whylen: on failure, what is wrong with the value (or "unknown key")
 * Return: 0, -1 for a bad value, -2 for an unknown key
 */
int link_cfg_set(struct link_cfg *lc, const char *key, const char *value, char *why,
		 size_t whylen);

/**
 * link_cfg_check() - the rules that span a link's options (addresses inside the subnet...)
 * and its name, once every source is applied (the name is derived when empty)
 * Return: 0, or -1 with a message in @err
 */
int link_cfg_check(struct link_cfg *lc, char *err, size_t errlen);

/**
 * config_load_file() - apply the INI file at @path over @c
 * @err, @errlen: on failure, "PATH:LINE: what is wrong" (or "PATH: strerror")
 * On success @c->config_path is the file's absolute path (a daemon's cwd is "/").
 * Return: 0, or -1 with @c unchanged
 */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);

/**
 * config_load_fd() - config_load_file() from @fd (taken over, closed): the file the
 * privileged helper opened for a data path that may not open it itself; @path for messages
 */
int config_load_fd(struct config *c, int fd, const char *path, char *err, size_t errlen);

/**
 * config_parse_args() - apply the command line over @c (getopt_long). A -c FILE is loaded
 * first, then the other flags override it; --netns or --pid replaces the file's [link NAME]
 * links (the daemon is then for that one namespace).
 * @action:	set to CONFIG_RUN, CONFIG_HELP or CONFIG_VERSION
 * Return: 0, or -1 with a message in @err
 */
enum config_action { CONFIG_RUN, CONFIG_HELP, CONFIG_VERSION };
int config_parse_args(struct config *c, int argc, char **argv, enum config_action *action,
		      char *err, size_t errlen);

/** config_usage() - the --help text */
const char *config_usage(void);

#endif
