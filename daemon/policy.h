/* policy.h - what a container may reach upstream: deny rules and the two one-line options.
 *
 * slirp4netns lets a container reach whatever the host can (and the host's loopback through the
 * gateway address); tapir keeps that default for compatibility. A link's policy adds `deny`
 * rules (CIDR[:PORT[-PORT]] [tcp|udp|any]) and two switches: deny-link-local (169.254.0.0/16,
 * where clouds serve instance metadata and credentials) and deny-host-addresses (the host's
 * own non-loopback addresses, where host services listen that the gateway mapping does not
 * already expose on purpose). Rules carry an address family so IPv6 CIDRs fit the same table.
 *
 * The parser and the matcher are pure (unit-tested, fuzzable); policy_host_*() read the
 * host's addresses (getifaddrs) and are the only part that does I/O. Must not: know links,
 * sockets or the stack.
 */
#ifndef TAPIR_POLICY_H
#define TAPIR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rules per link, and again for the daemon-wide [policy]: a linear scan per new flow (not
 * per packet) stays a few hundred compares, and the table lives inside struct link_cfg. An
 * operator needing more is writing a firewall: nftables in the host is the tool for that. */
#define POLICY_MAX_RULES 64

/* Text of one rule: "255.255.255.255/32:65535-65535 any" is 34 bytes; IPv6 later needs
 * "[ffff:...:ffff]/128:65535-65535 any", 58. */
#define POLICY_RULE_TEXT 64

/* Host addresses remembered for deny-host-addresses: a host with more has them truncated
 * (counted in policy_host_truncated) rather than the table grown without bound. */
#define POLICY_HOST_ADDRS_MAX 256

/** enum policy_proto - which transport a rule covers */
enum policy_proto { POLICY_ANY = 0, POLICY_TCP = 6, POLICY_UDP = 17 };

/**
 * struct policy_rule - one deny rule
 * @family:	AF_INET (AF_INET6 reserved for the IPv6 work: @addr has room)
 * @plen:	prefix length (0..32 for AF_INET)
 * @proto:	enum policy_proto
 * @port_lo:	first port covered (0 with @port_hi 65535: every port)
 * @port_hi:	last port covered
 * @addr:	network address in network byte order, host bits zero (AF_INET: first 4 bytes)
 */
struct policy_rule {
	uint8_t family;
	uint8_t plen;
	uint8_t proto;
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t addr[16];
};

/**
 * struct policy - a link's (or the daemon's default) reach policy
 * @rule:		deny rules, in the order given
 * @nrules:		used entries of @rule
 * @deny_link_local:	169.254.0.0/16 is denied (cloud metadata)
 * @deny_host_addrs:	the host's own non-loopback addresses are denied
 */
struct policy {
	struct policy_rule rule[POLICY_MAX_RULES];
	unsigned int nrules;
	bool deny_link_local;
	bool deny_host_addrs;
};

/**
 * struct policy_host - the host's own non-loopback IPv4 addresses, network byte order
 * @addr:	the addresses
 * @n:		used entries
 * @truncated:	more addresses existed than fit (POLICY_HOST_ADDRS_MAX)
 */
struct policy_host {
	uint32_t addr[POLICY_HOST_ADDRS_MAX];
	unsigned int n;
	bool truncated;
};

/**
 * policy_rule_parse() - parse "CIDR[:PORT[-PORT]] [tcp|udp|any]" (a bare address is /32)
 * @text:	the rule (hostile: any bytes)
 * @r:		filled on success
 * @why:	on failure, what is wrong
 * @whylen:	size of @why
 * Return: 0, or -1 with @r untouched
 */
int policy_rule_parse(const char *text, struct policy_rule *r, char *why, size_t whylen);

/**
 * policy_rule_format() - the canonical text of @r (what policy_rule_parse() reads back)
 * @r:		the rule
 * @buf:	output, at least POLICY_RULE_TEXT bytes
 * @len:	size of @buf
 * Return: @buf
 */
char *policy_rule_format(const struct policy_rule *r, char *buf, size_t len);

/**
 * policy_add() - append the rule in @text to @p (a rule already there is not added twice)
 * @p:		the policy
 * @text:	the rule
 * @why:	on failure, what is wrong
 * @whylen:	size of @why
 * Return: 0 (added or already there), -1 bad rule, -2 the table is full (POLICY_MAX_RULES)
 */
int policy_add(struct policy *p, const char *text, char *why, size_t whylen);

/**
 * policy_remove() - remove the rule equal to the one in @text from @p
 * @p:		the policy
 * @text:	the rule
 * @why:	on failure, what is wrong
 * @whylen:	size of @why
 * Return: 0, -1 bad rule, -2 no such rule
 */
int policy_remove(struct policy *p, const char *text, char *why, size_t whylen);

/**
 * policy_check() - is a new flow to @addr:@port over @proto denied by @p?
 * @p:		the policy (NULL: nothing denied)
 * @host:	the host's addresses, for deny_host_addrs (NULL: none known)
 * @family:	AF_INET
 * @addr:	destination address, network byte order (4 bytes for AF_INET)
 * @port:	destination port (host order)
 * @proto:	POLICY_TCP or POLICY_UDP
 * @why:	when denied, the rule that matched ("deny-link-local", "deny-host-addresses"
 *		or the rule's text)
 * @whylen:	size of @why
 * Return: true if denied
 */
bool policy_check(const struct policy *p, const struct policy_host *host, int family,
		  const void *addr, uint16_t port, int proto, char *why, size_t whylen);

/**
 * policy_host_read() - read the host's non-loopback IPv4 addresses (getifaddrs) into @h
 * Return: 0, or a negative errno with @h unchanged
 */
int policy_host_read(struct policy_host *h);

/**
 * policy_host_get() - the host's addresses as of at most POLICY_HOST_REFRESH_MS ago: re-read
 * when older (an address added or removed after start is seen within that time), from a
 * cache shared by every link
 * @now_ms:	monotonic time in milliseconds
 * Return: the cache (empty if getifaddrs has never worked)
 */
const struct policy_host *policy_host_get(uint64_t now_ms);

/* How stale the host addresses may be: one getifaddrs() (a netlink dump) per second at most,
 * only when a link with deny-host-addresses opens a flow. */
#define POLICY_HOST_REFRESH_MS 1000

#endif
