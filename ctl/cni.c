/* cni.c - the CNI rules of tapir-cni: parameters, configuration, result, CHECK (see cni.h).
 * Section numbers are those of the CNI spec 1.0.0 (SPEC.md).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cni.h"

/* The versions whose result format this plugin writes: 0.3.0 to 0.4.0 share one (types/040
 * in the CNI library: "version" in each ips entry), 1.0.0 drops that field. 0.1.0 and 0.2.0
 * had another result shape altogether ("ip4": {...}) and are not offered. */
static const char *const supported_versions[] = { "0.3.0", "0.3.1", "0.4.0", "1.0.0" };
#define NVERSIONS (sizeof(supported_versions) / sizeof(supported_versions[0]))

/* section 2 "Parameters" and section 1 "name": an alphanumeric, then alphanumerics, '_', '.'
 * or '-'; the CNI library applies the same rule to both */
#define NAME_FIRST "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define NAME_REST NAME_FIRST "_.-"

int cni_err(struct cni_error *e, int code, const char *msg, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	va_start(ap, fmt);
	vsnprintf(e->details, sizeof(e->details), fmt, ap);
	va_end(ap);
	return -1;
}

/** valid_cni_name() - @s follows the spec's rule for container IDs and network names */
static bool valid_cni_name(const char *s)
{
	return s[0] && strchr(NAME_FIRST, s[0]) && strspn(s + 1, NAME_REST) == strlen(s + 1);
}

/**
 * check_ifname() - CNI_IFNAME as the kernel's dev_valid_name() takes it: 1 to 15 bytes, not
 * "." or "..", no '/', ':' or whitespace (the rules the CNI library checks, too)
 * Return: 0, or -1 with @e set (code 4)
 */
static int check_ifname(const char *n, struct cni_error *e)
{
	if (strlen(n) > 15)
		return cni_err(e, CNI_ERR_INVALID_ENV, "interface name is too long",
			       "CNI_IFNAME \"%.40s\": at most 15 characters", n);
	if (!strcmp(n, ".") || !strcmp(n, ".."))
		return cni_err(e, CNI_ERR_INVALID_ENV, "interface name is . or ..",
			       "CNI_IFNAME \"%s\"", n);
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p == ' ' || (*p >= '\t' && *p <= '\r'))
			return cni_err(e, CNI_ERR_INVALID_ENV,
				       "interface name contains / or : or whitespace characters",
				       "CNI_IFNAME \"%s\"", n);
	return 0;
}

int cni_parse_env(struct cni_env *env, const char *(*getenv_fn)(const char *),
		  struct cni_error *e)
{
	static const struct {
		const char *name;
		enum cni_command cmd;
	} cmds[] = {
		{ "ADD", CNI_CMD_ADD },
		{ "DEL", CNI_CMD_DEL },
		{ "CHECK", CNI_CMD_CHECK },
		{ "VERSION", CNI_CMD_VERSION },
	};
	const char *cmd = getenv_fn("CNI_COMMAND");
	char missing[128] = "";
	size_t i;

	memset(env, 0, sizeof(*env));
	if (!cmd || !*cmd)
		return cni_err(e, CNI_ERR_INVALID_ENV, "required env variables [CNI_COMMAND] missing",
			       "CNI_COMMAND must be ADD, DEL, CHECK or VERSION");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return cni_err(e, CNI_ERR_INVALID_ENV, "unknown CNI_COMMAND",
			       "CNI_COMMAND \"%.40s\": must be ADD, DEL, CHECK or VERSION", cmd);
	env->command = cmds[i].cmd;
	if (env->command == CNI_CMD_VERSION)
		return 0;

	/* section 2: ADD and CHECK need all three; DEL may come without CNI_NETNS (the
	 * namespace may be gone already). CNI_PATH is optional: nothing is delegated. */
	env->containerid = getenv_fn("CNI_CONTAINERID");
	env->netns = getenv_fn("CNI_NETNS");
	env->ifname = getenv_fn("CNI_IFNAME");
	if (env->netns && !*env->netns)
		env->netns = NULL;
	if (!env->containerid || !*env->containerid)
		strcat(missing, ",CNI_CONTAINERID");
	if (!env->netns && env->command != CNI_CMD_DEL)
		strcat(missing, ",CNI_NETNS");
	if (!env->ifname || !*env->ifname)
		strcat(missing, ",CNI_IFNAME");
	if (missing[0]) {
		char msg[160];

		snprintf(msg, sizeof(msg), "required env variables [%s] missing", missing + 1);
		return cni_err(e, CNI_ERR_INVALID_ENV, msg, "CNI_COMMAND=%s needs %s", cmd,
			       missing + 1);
	}
	if (!valid_cni_name(env->containerid))
		return cni_err(e, CNI_ERR_INVALID_ENV, "invalid characters in containerID",
			       "CNI_CONTAINERID \"%.200s\": an alphanumeric, then alphanumerics, "
			       "'_', '.' or '-'",
			       env->containerid);
	if (check_ifname(env->ifname, e))
		return -1;
	if (env->netns && (env->netns[0] != '/' || strlen(env->netns) >= PATH_MAX))
		return cni_err(e, CNI_ERR_INVALID_ENV, "CNI_NETNS is not a namespace path",
			       "CNI_NETNS \"%.200s\": an absolute path below %d bytes "
			       "(/run/netns/NAME, /proc/PID/ns/net)",
			       env->netns, PATH_MAX);
	return 0;
}

bool cni_version_supported(const char *v)
{
	for (size_t i = 0; i < NVERSIONS; i++)
		if (!strcmp(v, supported_versions[i]))
			return true;
	return false;
}

/** versions_list() - "0.3.0, 0.3.1, ..." into @buf */
static const char *versions_list(char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; i < NVERSIONS; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "",
			 supported_versions[i]);
	return buf;
}

/** blank() - @s (of @len bytes) holds nothing but whitespace */
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return false;
	return true;
}

json_t *cni_version_json(const char *input, size_t len, struct cni_error *e)
{
	const char *v = CNI_VERSION;
	json_t *in = NULL, *out, *list;
	json_error_t jerr;

	/* section 5 "Version": cniVersion is "the value of cniVersion specified on input"; the
	 * CNI library sends {"cniVersion": ...}, older runtimes send nothing */
	if (input && !blank(input, len)) {
		in = json_loadb(input, len, 0, &jerr);
		if (!in) {
			cni_err(e, CNI_ERR_DECODE, "failed to decode the VERSION input",
				"line %d column %d: %s", jerr.line, jerr.column, jerr.text);
			return NULL;
		}
		if (json_is_string(json_object_get(in, "cniVersion")) &&
		    json_string_length(json_object_get(in, "cniVersion")) < sizeof(e->version))
			v = json_string_value(json_object_get(in, "cniVersion"));
	}
	list = json_array();
	for (size_t i = 0; list && i < NVERSIONS; i++)
		json_array_append_new(list, json_string(supported_versions[i]));
	out = json_pack("{s:s, s:o}", "cniVersion", v, "supportedVersions", list);
	json_decref(in);
	return out;
}

/**
 * parse_cidr() - "a.b.c.d/n" (n 0 to 32)
 * Return: true, with @addr (network byte order) and @plen set
 */
static bool parse_cidr(const char *s, struct in_addr *addr, int *plen)
{
	char buf[INET_ADDRSTRLEN + 4], *slash, *end;
	long n;

	if (strlen(s) >= sizeof(buf))
		return false;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash || !slash[1])
		return false;
	*slash = '\0';
	n = strtol(slash + 1, &end, 10);
	if (*end || n < 0 || n > 32 || (slash[1] == '0' && slash[2]) || slash[1] == '+' ||
	    slash[1] == '-')
		return false;
	*plen = (int)n;
	return inet_pton(AF_INET, buf, addr) == 1;
}

/** same_cidr() - @a and @b are the same address and prefix length, however spelled */
static bool same_cidr(const char *a, const char *b)
{
	struct in_addr x, y;
	int px, py;

	return parse_cidr(a, &x, &px) && parse_cidr(b, &y, &py) && x.s_addr == y.s_addr &&
	       px == py;
}

/** is_ip4() - @s is a dotted IPv4 address */
static bool is_ip4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

/** is_ip() - @s is an IPv4 or IPv6 address */
static bool is_ip(const char *s)
{
	struct in6_addr a;

	return is_ip4(s) || inet_pton(AF_INET6, s, &a) == 1;
}

/**
 * string_key() - member @key of @o: absent (NULL, 0), or a string
 * Return: 0, or -1 with @e set (code 7) if present and not a string
 */
static int string_key(const json_t *o, const char *key, const char **out, struct cni_error *e)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"%s\" must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/**
 * string_array() - member @key of @o, if present, is an array of strings
 * Return: 0, or -1 with @e set (code 7)
 */
static int string_array(const json_t *o, const char *key, const char *where,
			struct cni_error *e)
{
	const json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"%s\" in \"%s\" must be a list of strings", key, where);
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				       "\"%s\" in \"%s\": entry %zu is not a string", key, where,
				       i);
	return 0;
}

/**
 * parse_dns() - "dns": tapir's DNS address as a string, or the well-known dictionary of
 * section 1 ({"nameservers": [...], "domain", "search", "options"}) whose first nameserver
 * is the address tapird answers DNS on
 * Return: 0, or -1 with @e set (code 7)
 */
static int parse_dns(struct cni_conf *conf, json_t *dns, struct cni_error *e)
{
	const json_t *ns, *v;
	const char *dom;
	size_t i;

	if (json_is_string(dns)) {
		if (!is_ip4(json_string_value(dns)))
			return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				       "dns \"%.60s\" is not an IPv4 address",
				       json_string_value(dns));
		json_object_set(conf->attach, "dns", dns);
		return 0;
	}
	if (!json_is_object(dns))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"dns\" must be an IPv4 address or {\"nameservers\": [...]}");
	if (string_array(dns, "nameservers", "dns", e) || string_array(dns, "search", "dns", e) ||
	    string_array(dns, "options", "dns", e) || string_key(dns, "domain", &dom, e))
		return -1;
	ns = json_object_get(dns, "nameservers");
	json_array_foreach(ns, i, v)
		if (!is_ip(json_string_value(v)))
			return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				       "dns nameserver \"%.60s\" is not an IP address",
				       json_string_value(v));
	if (json_array_size(ns)) {
		/* tapird answers DNS on one IPv4 address: the first; the others are listed for
		 * the container as given (it reaches them through the relay) */
		if (!is_ip4(json_string_value(json_array_get(ns, 0))))
			return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
				       "the first dns nameserver \"%.60s\" is tapird's DNS address: "
				       "it must be IPv4",
				       json_string_value(json_array_get(ns, 0)));
		json_object_set(conf->attach, "dns", json_array_get(ns, 0));
	}
	conf->dns = dns;
	return 0;
}

/**
 * parse_tapir_keys() - tapir's own keys into the attach arguments: socket, address, gateway,
 * dns, mtu, hostLoopback. Only their form is checked here; tapird judges the values (an MTU
 * out of range, a gateway outside the subnet) and says so.
 * Return: 0, or -1 with @e set (code 7)
 */
static int parse_tapir_keys(struct cni_conf *conf, struct cni_error *e)
{
	const char *s;
	json_t *v;
	struct in_addr a;
	int plen;

	if (string_key(conf->json, "socket", &conf->socket, e))
		return -1;
	if (!conf->socket)
		conf->socket = CNI_DEFAULT_SOCKET;
	else if (conf->socket[0] != '/' || strlen(conf->socket) > 107)
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "socket \"%.200s\" is not an absolute path of at most 107 bytes",
			       conf->socket);
	if (string_key(conf->json, "address", &s, e))
		return -1;
	if (s && !parse_cidr(s, &a, &plen))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "address \"%.60s\" is not IPv4 CIDR (10.0.2.100/24)", s);
	if (s)
		json_object_set_new(conf->attach, "address", json_string(s));
	if (string_key(conf->json, "gateway", &s, e))
		return -1;
	if (s && !is_ip4(s))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "gateway \"%.60s\" is not an IPv4 address", s);
	if (s)
		json_object_set_new(conf->attach, "gateway", json_string(s));
	v = json_object_get(conf->json, "dns");
	if (v && parse_dns(conf, v, e))
		return -1;
	v = json_object_get(conf->json, "mtu");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 1 ||
		  json_integer_value(v) > 0x7fffffff))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"mtu\" must be a positive integer");
	if (v)
		json_object_set(conf->attach, "mtu", v);
	v = json_object_get(conf->json, "hostLoopback");
	if (v && !json_is_boolean(v))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"hostLoopback\" must be true or false");
	if (v)
		json_object_set(conf->attach, "host_loopback", v);
	/* an interface plugin must leave the interface configured (section 2 "ADD") */
	json_object_set_new(conf->attach, "configure", json_true());
	return 0;
}

/**
 * parse_port_mapping() - one entry of runtimeConfig.portMappings (CONVENTIONS.md of the CNI
 * project: hostPort, containerPort, protocol "tcp" (the default) or "udp", hostIP) as the
 * arguments of tapird's add_hostfwd
 * Return: the arguments (a new reference), or NULL with @e set (7 malformed, 2 SCTP or an
 * IPv6 hostIP: tapir forwards IPv4 TCP and UDP)
 */
static json_t *parse_port_mapping(const json_t *pm, size_t i, struct cni_error *e)
{
	const json_t *hp = json_object_get(pm, "hostPort"), *cp = json_object_get(pm, "containerPort");
	const char *proto = "tcp", *ip = NULL;

	if (!json_is_object(pm) || !json_is_integer(hp) || !json_is_integer(cp) ||
	    json_integer_value(hp) < 1 || json_integer_value(hp) > 65535 ||
	    json_integer_value(cp) < 1 || json_integer_value(cp) > 65535) {
		cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			"runtimeConfig.portMappings[%zu]: hostPort and containerPort must be "
			"integers from 1 to 65535",
			i);
		return NULL;
	}
	if (string_key(pm, "protocol", &proto, e) || string_key(pm, "hostIP", &ip, e))
		return NULL;
	if (!proto)
		proto = "tcp";
	if (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp")) {
		cni_err(e, CNI_ERR_UNSUPPORTED_FIELD,
			"unsupported field in network configuration: portMappings protocol",
			"runtimeConfig.portMappings[%zu].protocol = \"%.20s\": tapir forwards tcp "
			"and udp",
			i, proto);
		return NULL;
	}
	if (ip && *ip && !is_ip4(ip)) {
		cni_err(e, is_ip(ip) ? CNI_ERR_UNSUPPORTED_FIELD : CNI_ERR_INVALID_CONFIG,
			"unsupported or invalid portMappings hostIP",
			"runtimeConfig.portMappings[%zu].hostIP = \"%.60s\": tapir forwards from "
			"IPv4 host addresses",
			i, ip);
		return NULL;
	}
	return json_pack("{s:s, s:s, s:I, s:I}", "proto", strcasecmp(proto, "tcp") ? "udp" : "tcp",
			 "host_addr", ip ? ip : "", "host_port", json_integer_value(hp),
			 "guest_port", json_integer_value(cp));
}

/**
 * parse_runtime_config() - runtimeConfig (section 3 "Deriving runtimeConfig"): the
 * portMappings capability into @conf->forwards; other capabilities are not tapir's and are
 * left alone
 * Return: 0, or -1 with @e set
 */
static int parse_runtime_config(struct cni_conf *conf, const struct cni_env *env,
				struct cni_error *e)
{
	const json_t *rc = json_object_get(conf->json, "runtimeConfig"), *pms, *pm;
	size_t i;

	conf->forwards = json_array();
	if (!conf->forwards)
		return cni_err(e, CNI_ERR_INTERNAL, "out of memory", "runtimeConfig");
	/* only ADD makes forwards; DEL's detach closes them with the link */
	if (!rc || env->command != CNI_CMD_ADD)
		return 0;
	if (!json_is_object(rc))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"runtimeConfig\" must be an object");
	pms = json_object_get(rc, "portMappings");
	if (!pms || json_is_null(pms))
		return 0;
	if (!json_is_array(pms))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "runtimeConfig.portMappings must be a list");
	if (json_array_size(pms) > CNI_MAX_PORT_MAPPINGS)
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "runtimeConfig.portMappings: %zu entries, at most %d",
			       json_array_size(pms), CNI_MAX_PORT_MAPPINGS);
	json_array_foreach(pms, i, pm) {
		json_t *args = parse_port_mapping(pm, i, e);

		if (!args || json_array_append_new(conf->forwards, args))
			return -1;
	}
	return 0;
}

/**
 * parse_common() - cniVersion, name, type, ipam and prevResult (sections 1 and 3)
 * Return: 0, or -1 with @e set
 */
static int parse_common(struct cni_conf *conf, const struct cni_env *env, struct cni_error *e)
{
	json_t *v = json_object_get(conf->json, "cniVersion"), *ipam;
	const char *type;
	char list[64];

	if (!v)
		/* the CNI library reads a configuration without cniVersion as 0.1.0 */
		return cni_err(e, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
			       "the configuration has no cniVersion (0.1.0, then); tapir-cni "
			       "supports %s",
			       versions_list(list, sizeof(list)));
	if (!json_is_string(v))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"cniVersion\" must be a string");
	conf->version = json_string_value(v);
	if (strlen(conf->version) < sizeof(e->version))
		strcpy(e->version, conf->version);
	if (!cni_version_supported(conf->version))
		return cni_err(e, CNI_ERR_INCOMPATIBLE_VERSION, "incompatible CNI versions",
			       "the configuration's cniVersion is \"%.32s\"; tapir-cni supports %s",
			       conf->version, versions_list(list, sizeof(list)));
	/* CHECK came with 0.4.0 */
	if (env->command == CNI_CMD_CHECK && !strncmp(conf->version, "0.3.", 4))
		return cni_err(e, CNI_ERR_INCOMPATIBLE_VERSION, "config version does not allow CHECK",
			       "CHECK needs cniVersion 0.4.0 or later; the configuration says %s",
			       conf->version);
	if (string_key(conf->json, "name", &conf->name, e))
		return -1;
	if (!conf->name || !*conf->name)
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "missing network name",
			       "the configuration has no \"name\"");
	if (!valid_cni_name(conf->name))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid characters found in network name",
			       "name \"%.100s\": an alphanumeric, then alphanumerics, '_', '.' or '-'",
			       conf->name);
	if (string_key(conf->json, "type", &type, e))
		return -1;
	ipam = json_object_get(conf->json, "ipam");
	if (ipam) {
		char *dump = json_dumps(ipam, JSON_COMPACT | JSON_ENCODE_ANY);

		cni_err(e, CNI_ERR_UNSUPPORTED_FIELD,
			"unsupported field in network configuration: ipam",
			"ipam = %.300s: tapir-cni takes the container's address from its own "
			"\"address\" key (tapird answers for it) and delegates to no IPAM plugin",
			dump ? dump : "?");
		free(dump);
		return -1;
	}
	v = json_object_get(conf->json, "prevResult");
	if (v && !json_is_object(v))
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "\"prevResult\" must be an object");
	conf->prev = v;
	return 0;
}

int cni_parse_conf(struct cni_conf *conf, const struct cni_env *env, const char *text,
		   size_t len, struct cni_error *e)
{
	json_error_t jerr;

	memset(conf, 0, sizeof(*conf));
	conf->json = json_loadb(text, len, 0, &jerr);
	if (!conf->json)
		return cni_err(e, CNI_ERR_DECODE, "failed to decode the network configuration",
			       "stdin, line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(conf->json)) {
		cni_conf_free(conf);
		return cni_err(e, CNI_ERR_DECODE, "failed to decode the network configuration",
			       "stdin holds JSON but not an object");
	}
	conf->attach = json_object();
	if (!conf->attach) {
		cni_conf_free(conf);
		return cni_err(e, CNI_ERR_INTERNAL, "out of memory", "building the attach request");
	}
	if (parse_common(conf, env, e) || parse_tapir_keys(conf, e) ||
	    parse_runtime_config(conf, env, e)) {
		cni_conf_free(conf);
		return -1;
	}
	return 0;
}

void cni_conf_free(struct cni_conf *conf)
{
	json_decref(conf->forwards);
	json_decref(conf->attach);
	json_decref(conf->json);
	memset(conf, 0, sizeof(*conf));
}

/** fnv1a64() - the 64-bit FNV-1a hash of @s: stable across runs and hosts */
static uint64_t fnv1a64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void cni_link_name(char out[LINK_NAME_MAX], const char *containerid, const char *ifname)
{
	size_t plen = strlen(CNI_LINK_PREFIX), ilen = strlen(ifname), idlen = strlen(containerid);
	char hash[17];
	size_t head;

	/* The attachment is (CNI_CONTAINERID, CNI_IFNAME) (section 3): a container may be on
	 * two tapir networks under two interface names, so the name carries both. ':' is in
	 * neither a container ID nor an interface name: no two attachments share a name. */
	memcpy(out, CNI_LINK_PREFIX, plen);
	if (plen + idlen + 1 + ilen < LINK_NAME_MAX) {
		memcpy(out + plen, containerid, idlen);
		head = plen + idlen;
	} else {
		/* HEAD~HASH: as much of the ID as leaves room for "~", the hash and ":IF" */
		head = LINK_NAME_MAX - 1 - (1 + 16 + 1 + ilen);
		memcpy(out + plen, containerid, head - plen);
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)fnv1a64(containerid));
		out[head++] = '~';
		memcpy(out + head, hash, 16);
		head += 16;
	}
	out[head++] = ':';
	memcpy(out + head, ifname, ilen + 1);
}

/**
 * copy_str() - string member @key of @j into @dst (@len bytes); "" if absent or null
 * @required:	absent, null or empty is an error
 * Return: 0, or -1 with @e set (code 999)
 */
static int copy_str(char *dst, size_t len, const json_t *j, const char *key, bool required,
		    struct cni_error *e)
{
	const json_t *v = json_object_get(j, key);

	dst[0] = '\0';
	if (!v || json_is_null(v)) {
		if (required)
			return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
				       "the link has no \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= len ||
	    (required && !json_string_length(v)))
		return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
			       "the link's \"%s\" is not a string of at most %zu bytes", key,
			       len - 1);
	strcpy(dst, json_string_value(v));
	return 0;
}

int cni_link_from_json(struct cni_link *l, const json_t *j, struct cni_error *e)
{
	const json_t *ix = json_object_get(j, "ifindex");
	struct in_addr a;
	int plen;

	memset(l, 0, sizeof(*l));
	if (!json_is_object(j))
		return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
			       "the link is not an object");
	if (copy_str(l->name, sizeof(l->name), j, "name", true, e) ||
	    copy_str(l->netns, sizeof(l->netns), j, "netns", true, e) ||
	    copy_str(l->ifname, sizeof(l->ifname), j, "ifname", true, e) ||
	    copy_str(l->address, sizeof(l->address), j, "address", true, e) ||
	    copy_str(l->gateway, sizeof(l->gateway), j, "gateway", false, e) ||
	    copy_str(l->dns, sizeof(l->dns), j, "dns", false, e))
		return -1;
	if (!json_is_integer(ix) || json_integer_value(ix) < 1 ||
	    json_integer_value(ix) > 0x7fffffff)
		return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
			       "link %s: \"ifindex\" is not a positive integer", l->name);
	l->ifindex = (int)json_integer_value(ix);
	if (!parse_cidr(l->address, &a, &plen))
		return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
			       "link %s: address \"%s\" is not IPv4 CIDR", l->name, l->address);
	if ((l->gateway[0] && !is_ip4(l->gateway)) || (l->dns[0] && !is_ip4(l->dns)))
		return cni_err(e, CNI_ERR_INTERNAL, "unexpected reply from tapird",
			       "link %s: gateway \"%s\" or dns \"%s\" is not an IPv4 address",
			       l->name, l->gateway, l->dns);
	return 0;
}

/**
 * array_member() - member @key of @o as an array, created (empty) if absent or not one
 * Return: the borrowed array, NULL on allocation failure
 */
static json_t *array_member(json_t *o, const char *key)
{
	json_t *a = json_object_get(o, key);

	if (json_is_array(a))
		return a;
	a = json_array();
	if (!a || json_object_set_new(o, key, a))
		return NULL;
	return a;
}

/** has_string() - array @a holds the string @s */
static bool has_string(const json_t *a, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	return false;
}

/**
 * add_dns() - the result's "dns": tapird's DNS address first, then the configuration's other
 * nameservers, domain, search and options; merged into prevResult's if it has one
 * Return: 0, -1 on allocation failure
 */
static int add_dns(json_t *r, const struct cni_conf *conf, const struct cni_link *l)
{
	json_t *dns = json_object_get(r, "dns"), *ns, *v;
	static const char *const copied[] = { "domain", "search", "options" };
	size_t i;

	if (!l->dns[0] && !conf->dns)
		return 0;
	if (!json_is_object(dns)) {
		dns = json_object();
		if (!dns || json_object_set_new(r, "dns", dns))
			return -1;
	}
	ns = array_member(dns, "nameservers");
	if (!ns)
		return -1;
	if (l->dns[0] && !has_string(ns, l->dns) && json_array_append_new(ns, json_string(l->dns)))
		return -1;
	json_array_foreach(json_object_get(conf->dns, "nameservers"), i, v)
		if (!has_string(ns, json_string_value(v)) && json_array_append(ns, v))
			return -1;
	for (i = 0; i < sizeof(copied) / sizeof(copied[0]); i++) {
		v = json_object_get(conf->dns, copied[i]);
		if (v && !json_object_get(dns, copied[i]) && json_object_set(dns, copied[i], v))
			return -1;
	}
	if (!json_array_size(ns))
		json_object_del(dns, "nameservers");
	return 0;
}

json_t *cni_result(const struct cni_conf *conf, const struct cni_env *env,
		   const struct cni_link *l, const char *mac)
{
	/* section 5 "Success": a plugin given a prevResult outputs it with its own changes */
	json_t *r = conf->prev ? json_deep_copy(conf->prev) : json_object();
	json_t *ifs, *ips, *routes, *iface, *ip;
	size_t idx;

	if (!r || json_object_set_new(r, "cniVersion", json_string(conf->version)))
		goto fail;
	ifs = array_member(r, "interfaces");
	ips = array_member(r, "ips");
	if (!ifs || !ips)
		goto fail;
	idx = json_array_size(ifs);
	iface = json_pack("{s:s, s:s}", "name", env->ifname, "sandbox", env->netns);
	if (!iface || (mac[0] && json_object_set_new(iface, "mac", json_string(mac))) ||
	    json_array_append_new(ifs, iface))
		goto fail;
	ip = json_pack("{s:s, s:I}", "address", l->address, "interface", (json_int_t)idx);
	if (!ip || (l->gateway[0] && json_object_set_new(ip, "gateway", json_string(l->gateway))))
		goto fail_ip;
	/* 0.3.0 to 0.4.0 name the address family in each entry; 1.0.0 dropped the field */
	if (strcmp(conf->version, "1.0.0") && json_object_set_new(ip, "version", json_string("4")))
		goto fail_ip;
	if (json_array_append_new(ips, ip))
		goto fail;
	if (l->gateway[0]) {
		/* tapird's configure step sets the default route through the gateway */
		routes = array_member(r, "routes");
		if (!routes || json_array_append_new(routes, json_pack("{s:s, s:s}", "dst",
								       "0.0.0.0/0", "gw",
								       l->gateway)))
			goto fail;
	}
	if (add_dns(r, conf, l))
		goto fail;
	return r;
fail_ip:
	json_decref(ip);
fail:
	json_decref(r);
	return NULL;
}

/**
 * prev_interface() - the index of the interface @ifname in @netns in prevResult's interfaces
 * Return: the index, or -1
 */
static int prev_interface(const json_t *prev, const char *ifname, const char *netns)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(prev, "interfaces"), i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		const char *sb = json_string_value(json_object_get(v, "sandbox"));

		if (n && !strcmp(n, ifname) && sb && !strcmp(sb, netns))
			return (int)i;
	}
	return -1;
}

int cni_check(const struct cni_conf *conf, const struct cni_env *env, const struct cni_link *l,
	      bool same_netns, const struct cni_iface *ifc, struct cni_error *e)
{
	const char *want[CNI_MAX_IPS], *pmac;
	const json_t *v;
	int idx, n = 0;
	size_t i;

	/* section 2 "CHECK": "The plugin must consult the prevResult to determine the
	 * expected interfaces and addresses." */
	if (!conf->prev)
		return cni_err(e, CNI_ERR_INVALID_CONFIG, "invalid network configuration",
			       "CHECK needs the prevResult of the ADD");
	idx = prev_interface(conf->prev, env->ifname, env->netns);
	if (idx < 0)
		return cni_err(e, CNI_ERR_CHECK, "prevResult does not list this interface",
			       "no interface %s with sandbox %s in prevResult", env->ifname,
			       env->netns);
	json_array_foreach(json_object_get(conf->prev, "ips"), i, v) {
		const json_t *ix = json_object_get(v, "interface");
		const char *a = json_string_value(json_object_get(v, "address"));

		if (!json_is_integer(ix) || json_integer_value(ix) != idx)
			continue;
		if (!a || n == CNI_MAX_IPS)
			return cni_err(e, CNI_ERR_CHECK, "prevResult's addresses are malformed",
				       "ips entry %zu: no address string, or more than %d for %s",
				       i, CNI_MAX_IPS, env->ifname);
		want[n++] = a;
	}
	if (!n)
		return cni_err(e, CNI_ERR_CHECK, "prevResult has no address for this interface",
			       "no ips entry for interface %d (%s)", idx, env->ifname);
	if (!l)
		return cni_err(e, CNI_ERR_CHECK, "the link is not attached in tapird",
			       "tapird (%s) has no link for container %s interface %s",
			       conf->socket, env->containerid, env->ifname);
	if (strcmp(l->ifname, env->ifname) || !same_netns)
		return cni_err(e, CNI_ERR_CHECK, "the link is attached elsewhere",
			       "tapird's link %s is %s in %s, not %s in %s", l->name, l->ifname,
			       l->netns, env->ifname, env->netns);
	for (int k = 0; k < n; k++)
		if (!same_cidr(want[k], l->address))
			return cni_err(e, CNI_ERR_CHECK, "the link's address differs",
				       "prevResult says %.40s, tapird's link %s has %s", want[k],
				       l->name, l->address);
	if (!ifc)
		return cni_err(e, CNI_ERR_CHECK, "the interface is missing",
			       "no interface %s in %s", env->ifname, env->netns);
	if (ifc->ifindex != l->ifindex)
		return cni_err(e, CNI_ERR_CHECK, "the interface is not tapird's TAP",
			       "%s in %s has index %d; tapird's TAP for link %s has index %d",
			       env->ifname, env->netns, ifc->ifindex, l->name, l->ifindex);
	if (!ifc->up)
		return cni_err(e, CNI_ERR_CHECK, "the interface is down", "%s in %s is down",
			       env->ifname, env->netns);
	for (int k = 0; k < n; k++) {
		bool found = false;

		for (int j = 0; j < ifc->naddrs && !found; j++)
			found = same_cidr(want[k], ifc->addrs[j]);
		if (!found)
			return cni_err(e, CNI_ERR_CHECK, "the interface lacks its address",
				       "%s in %s does not have %.40s", env->ifname, env->netns,
				       want[k]);
	}
	/* a later plugin (tuning) may have changed the MAC: prevResult has the final one */
	pmac = json_string_value(json_object_get(
		json_array_get(json_object_get(conf->prev, "interfaces"), (size_t)idx), "mac"));
	if (pmac && *pmac && strcasecmp(pmac, ifc->mac))
		return cni_err(e, CNI_ERR_CHECK, "the interface's MAC differs",
			       "%s in %s has MAC %s, prevResult says %.40s", env->ifname,
			       env->netns, ifc->mac[0] ? ifc->mac : "none", pmac);
	return 0;
}
