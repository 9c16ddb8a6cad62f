/* config_internal.h - what the configuration's files share; nothing outside daemon/config*.c
 * includes it (config.h is the module's public face).
 *
 * The configuration, by concern:
 *   config.c		the entry points: the INI file (libinih), the command line (getopt),
 *			the usage text, the checks of the whole configuration
 *   config_value.c	the value parsers the setters share
 *   config_link.c	the keys of one link: defaults, setters, table, link_cfg_check()
 *   config_daemon.c	the daemon-wide keys: defaults, setters, the file's table
 *
 * The file and the command line go through the same setters, so a value means the same thing
 * wherever it comes from.
 */
#ifndef TAPIR_CONFIG_INTERNAL_H
#define TAPIR_CONFIG_INTERNAL_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;

/* Every setter: apply @v to @c, or write why it is wrong into @why and return -1. */
typedef int (*config_setter)(struct config *c, const char *v, char *why, size_t whylen);
/* The same for a key of one link */
typedef int (*link_setter)(struct link_cfg *lc, const char *v, char *why, size_t whylen);

/**
 * struct config_key - one key of the file
 * @section:	its section
 * @key:	its name there
 * @set:	the setter shared with the command line
 */
struct config_key {
	const char *section;
	const char *key;
	config_setter set;
};

/* The daemon-wide keys of the file (config_daemon.c); config_nkeys of them */
extern const struct config_key config_keys[];
extern const size_t config_nkeys;

/* config_value.c: the value parsers (each: 0, or -1 with the reason in @why) */
int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out, char *why,
	      size_t whylen);
int parse_bool(const char *v, bool *out, char *why, size_t whylen);
int parse_ip4(const char *v, uint32_t *out, char *why, size_t whylen);
int policy_set_deny(struct policy *p, const char *v, char *why, size_t whylen);

/* config_link.c: the link setters the command line uses too */
int set_netns(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_pid(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_ifname(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_address(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_gateway(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_dns(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_mtu(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_name(struct link_cfg *lc, const char *v, char *why, size_t whylen);
int set_ipv6_prefix(struct link_cfg *c, const char *v, char *why, size_t whylen);
int set_outbound_addr6(struct link_cfg *c, const char *v, char *why, size_t whylen);

/* config_daemon.c: the daemon-wide setters the command line uses too */
int set_tcp_forward(struct config *c, const char *v, char *why, size_t whylen);
int set_udp_forward(struct config *c, const char *v, char *why, size_t whylen);
int set_control(struct config *c, const char *v, char *why, size_t whylen);
int set_log_level(struct config *c, const char *v, char *why, size_t whylen);
int set_time_wait(struct config *c, const char *v, char *why, size_t whylen);
int set_max_flows(struct config *c, const char *v, char *why, size_t whylen);
int set_max_half_open(struct config *c, const char *v, char *why, size_t whylen);
int set_dns_upstream(struct config *c, const char *v, char *why, size_t whylen);
int set_udp_timeout(struct config *c, const char *v, char *why, size_t whylen);
int set_udp_timeout_stream(struct config *c, const char *v, char *why, size_t whylen);
int set_max_udp_flows(struct config *c, const char *v, char *why, size_t whylen);
int set_closed_history(struct config *c, const char *v, char *why, size_t whylen);
int set_metrics(struct config *c, const char *v, char *why, size_t whylen);
int set_capture_dir(struct config *c, const char *v, char *why, size_t whylen);
int set_deny(struct config *c, const char *v, char *why, size_t whylen);
int set_idle_timeout(struct config *c, const char *v, char *why, size_t whylen);
int set_max_per_dest(struct config *c, const char *v, char *why, size_t whylen);
int set_max_sock_mem(struct config *c, const char *v, char *why, size_t whylen);
int set_user(struct config *c, const char *v, char *why, size_t whylen);
int set_seccomp(struct config *c, const char *v, char *why, size_t whylen);
int set_busy_poll(struct config *c, const char *v, char *why, size_t whylen);

#endif /* TAPIR_CONFIG_INTERNAL_H */
