/* cni.h - the CNI side of tapir-cni (CNI spec 1.0.0, github.com/containernetworking/cni
 * SPEC.md): the runtime's parameters and network configuration checked, the link name derived
 * from the attachment, the Success result built from what tapird's attach returned, CHECK's
 * comparison of prevResult with what tapird and the namespace show.
 *
 * Pure: no file descriptors, no environment, no daemon. tapir-cni.c does the I/O and passes
 * everything in, so each rule here is unit-tested (tests/unit/test_cni.c).
 */
#ifndef TAPIR_CTL_CNI_H
#define TAPIR_CTL_CNI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* by path: a plain "config.h" is autoconf's */
#include "../daemon/config.h" /* LINK_NAME_MAX: the daemon's bound on a link's name */

/* The spec version whose result format this plugin writes by default. */
#define CNI_VERSION "1.0.0"
/* The network configuration on stdin: a plugin's object with a prevResult is a few KiB; a
 * megabyte is far beyond any real one and bounds what a broken runtime can make us hold. */
#define CNI_MAX_STDIN (1u << 20)
/* tapir link names of CNI attachments start with this (tapirctl conns shows them) */
#define CNI_LINK_PREFIX "cni-"
#define CNI_DEFAULT_SOCKET "/run/tapird/control.sock"
/* prevResult's addresses for our interface that CHECK compares (tapir gives one) */
#define CNI_MAX_IPS 16
/* runtimeConfig.portMappings of one ADD: each becomes a forward holding a host socket; as many
 * as tapird takes from its configuration file (CONFIG_MAX_FORWARDS) */
#define CNI_MAX_PORT_MAPPINGS CONFIG_MAX_FORWARDS

/**
 * enum cni_code - the error codes of SPEC.md section 5 "Error", and tapir-cni's own (100 and
 * up are the plugin's; 999 is what the CNI project's Go library uses for internal errors)
 */
enum cni_code {
	CNI_ERR_INCOMPATIBLE_VERSION = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_INTERNAL = 999,
	CNI_ERR_TAPIRD_REFUSED = 1000, /* tapird answered the request with an error */
	CNI_ERR_TAPIRD_UNREACHABLE = 1001, /* tapird's socket: permission, not the protocol */
	CNI_ERR_NETNS = 1002, /* the container's namespace or interface cannot be read */
	CNI_ERR_CHECK = 1003, /* CHECK: the attachment is not what prevResult says */
};

/**
 * struct cni_error - a CNI error result before it is printed
 * @code:	enum cni_code
 * @msg:	short: what failed
 * @details:	longer: the value, the variable, the daemon's words
 * @version:	the configuration's cniVersion once read, "" before: the error result carries
 *		it (SPEC.md section 5 "Error": "the same value as provided by the configuration")
 */
struct cni_error {
	int code;
	char msg[160];
	char details[640];
	char version[33];
};

/** enum cni_command - CNI_COMMAND */
enum cni_command { CNI_CMD_ADD, CNI_CMD_DEL, CNI_CMD_CHECK, CNI_CMD_VERSION };

/**
 * struct cni_env - the runtime's parameters (SPEC.md section 2 "Parameters"), borrowed from
 * the environment
 * @command:		CNI_COMMAND
 * @containerid:	CNI_CONTAINERID (NULL if unset or empty)
 * @netns:		CNI_NETNS
 * @ifname:		CNI_IFNAME
 */
struct cni_env {
	enum cni_command command;
	const char *containerid;
	const char *netns;
	const char *ifname;
};

/**
 * struct cni_conf - the network configuration as tapir-cni uses it
 * @version:	cniVersion (borrowed from @json)
 * @name:	the network's name
 * @socket:	tapird's control socket
 * @attach:	the arguments for attach, built from the tapir keys (address, gateway, dns,
 *		mtu, hostLoopback); the caller adds name, netns and ifname
 * @dns:	the well-known "dns" object when given as one (borrowed; NULL otherwise): its
 *		other nameservers, domain, search and options go into the result
 * @prev:	prevResult (borrowed), NULL if absent
 * @forwards:	the add_hostfwd arguments of runtimeConfig.portMappings (the "portMappings"
 *		capability of the CNI conventions), an array (owned, maybe empty); the caller
 *		adds "link"
 * @json:	the whole configuration (owned)
 */
struct cni_conf {
	const char *version;
	const char *name;
	const char *socket;
	json_t *attach;
	json_t *dns;
	json_t *prev;
	json_t *forwards;
	json_t *json;
};

/**
 * struct cni_link - what tapird says of an attached link (attach's reply, an entry of
 * status's "links")
 * @name:	its name
 * @netns:	the namespace path it was attached with
 * @ifname:	its TAP's name in there
 * @ifindex:	the TAP's index in there
 * @address:	"10.0.2.100/24"
 * @gateway:	"10.0.2.2", "" if none
 * @dns:	"10.0.2.3", "" if none
 */
struct cni_link {
	char name[LINK_NAME_MAX];
	char netns[PATH_MAX];
	char ifname[16];
	int ifindex;
	char address[24];
	char gateway[16];
	char dns[16];
};

/**
 * struct cni_iface - what the kernel shows of one interface inside the container
 * @ifindex:	its index
 * @up:		IFF_UP
 * @mac:	"aa:bb:cc:dd:ee:ff", "" if it has none
 * @addrs:	its IPv4 addresses, "10.0.2.100/24"
 * @naddrs:	used entries of @addrs
 */
struct cni_iface {
	int ifindex;
	bool up;
	char mac[18];
	char addrs[CNI_MAX_IPS][32];
	int naddrs;
};

/**
 * cni_err() - fill @e with @code, @msg and the formatted details
 * Return: -1, for the callers' returns
 */
__attribute__((format(printf, 4, 5))) int cni_err(struct cni_error *e, int code,
						  const char *msg, const char *fmt, ...);

/**
 * cni_parse_env() - the parameters that @command needs, each checked (SPEC.md section 2)
 * @getenv_fn:	getenv(), or a stand-in for tests
 * Return: 0, or -1 with @e set (code 4, naming every missing or invalid variable)
 */
int cni_parse_env(struct cni_env *env, const char *(*getenv_fn)(const char *),
		  struct cni_error *e);

/**
 * cni_version_supported() - whether tapir-cni writes and reads spec version @v
 */
bool cni_version_supported(const char *v);

/**
 * cni_version_json() - the VERSION result: cniVersion as given on input (@input, NULL or
 * empty: none given; CNI_VERSION is used then), and the versions supported
 * Return: a new reference; NULL (and @e code 6) if @input is given but not JSON
 */
json_t *cni_version_json(const char *input, size_t len, struct cni_error *e);

/**
 * cni_parse_conf() - decode and check the network configuration for @env's command
 * @text, @len:	what came on stdin
 * Return: 0, or -1 with @e set (6 not JSON, 1 unsupported cniVersion, 7 a bad key, 2 ipam or
 * a port mapping tapir cannot make) and @conf empty
 */
int cni_parse_conf(struct cni_conf *conf, const struct cni_env *env, const char *text,
		   size_t len, struct cni_error *e);

/** cni_conf_free() - release what cni_parse_conf() holds */
void cni_conf_free(struct cni_conf *conf);

/**
 * cni_link_name() - the tapir link name of the attachment (@containerid, @ifname): "cni-ID:IF";
 * an ID too long for LINK_NAME_MAX keeps its head and a hash of the whole ("cni-HEAD~HASH:IF":
 * '~' is never in a container ID, so a shortened name never equals a plain one)
 * @out:	LINK_NAME_MAX bytes
 */
void cni_link_name(char out[LINK_NAME_MAX], const char *containerid, const char *ifname);

/**
 * cni_link_from_json() - the fields of tapird's link object @j (attach's reply) into @l
 * Return: 0, or -1 with @e set (code 999) if a field the result needs is missing or malformed
 */
int cni_link_from_json(struct cni_link *l, const json_t *j, struct cni_error *e);

/**
 * cni_result() - the ADD Success result (SPEC.md section 5): @conf's prevResult, if any,
 * with this attachment's interface, address, default route and DNS added
 * @mac:	the interface's MAC in the container ("" if unknown)
 * Return: a new reference, NULL on allocation failure
 */
json_t *cni_result(const struct cni_conf *conf, const struct cni_env *env,
		   const struct cni_link *l, const char *mac);

/**
 * cni_check() - CHECK's comparison: prevResult's interface @env->ifname in @env->netns and
 * its addresses against the link tapird shows (@l, NULL if tapird has no such link) and the
 * interface the namespace shows (@ifc, NULL if the namespace has no such interface)
 * @same_netns:	@l->netns is the namespace @env->netns names (the caller compares the files)
 * Return: 0 if all agree, or -1 with @e set (code 1003 naming the first difference)
 */
int cni_check(const struct cni_conf *conf, const struct cni_env *env, const struct cni_link *l,
	      bool same_netns, const struct cni_iface *ifc, struct cni_error *e);

#endif
