/* test_cni.c - tapir-cni's CNI rules (ctl/cni.c): the runtime's parameters, the network
 * configuration, the link name, the ADD result in each supported version, CHECK's comparison.
 * Section numbers are those of the CNI spec 1.0.0 (SPEC.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ctl/cni.h"

/* --- a stand-in environment ------------------------------------------------------------ */
static const char *fake_env[8][2];

static const char *fake_getenv(const char *name)
{
	for (size_t i = 0; i < 8 && fake_env[i][0]; i++)
		if (!strcmp(fake_env[i][0], name))
			return fake_env[i][1];
	return NULL;
}

/* set_env(NAME, VALUE, ..., NULL): the environment holds exactly these */
static void set_env(const char *first, ...)
{
	va_list ap;
	size_t i = 0;

	memset(fake_env, 0, sizeof(fake_env));
	va_start(ap, first);
	for (const char *n = first; n && i < 7; n = va_arg(ap, const char *), i++) {
		fake_env[i][0] = n;
		fake_env[i][1] = va_arg(ap, const char *);
	}
	va_end(ap);
}

static const struct cni_env add_env = { CNI_CMD_ADD, "c0ffee", "/run/netns/tcn-x", "eth0" };
static const struct cni_env check_env = { CNI_CMD_CHECK, "c0ffee", "/run/netns/tcn-x", "eth0" };

/* parse(): cni_parse_conf of @text for @env; its return, @e filled */
static int parse(struct cni_conf *c, const struct cni_env *env, const char *text,
		 struct cni_error *e)
{
	memset(e, 0, sizeof(*e));
	return cni_parse_conf(c, env, text, strlen(text), e);
}

/* --- section 2: parameters ------------------------------------------------------------- */
static void test_env_missing_command_is_code_4(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env(NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	assert_non_null(strstr(e.msg, "CNI_COMMAND"));
}

static void test_env_unknown_command_is_code_4(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "GC", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	assert_non_null(strstr(e.details, "\"GC\""));
}

static void test_env_add_names_every_missing_variable(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "ADD", "CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	assert_string_equal(e.msg, "required env variables [CNI_CONTAINERID,CNI_NETNS] missing");
}

static void test_env_del_needs_no_netns(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "DEL", "CNI_CONTAINERID", "abc", "CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), 0);
	assert_int_equal(env.command, CNI_CMD_DEL);
	assert_null(env.netns);
}

static void test_env_version_needs_nothing_else(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "VERSION", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), 0);
	assert_int_equal(env.command, CNI_CMD_VERSION);
}

static void test_env_container_id_characters(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "-starts-with-dash", "CNI_NETNS",
		"/run/netns/x", "CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	set_env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "a/b", "CNI_NETNS", "/run/netns/x",
		"CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	set_env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "Ab9_.-z", "CNI_NETNS", "/run/netns/x",
		"CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), 0);
}

static void test_env_ifname_rules(void **state)
{
	static const char *const bad[] = { "sixteen-chars-xx", ".", "..", "a/b", "a:b", "a b" };
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c", "CNI_NETNS", "/run/netns/x",
			"CNI_IFNAME", bad[i], NULL);
		assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
		assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	}
	set_env("CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c", "CNI_NETNS", "/run/netns/x",
		"CNI_IFNAME", "fifteen-chars-x", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), 0);
}

static void test_env_netns_must_be_absolute(void **state)
{
	struct cni_env env;
	struct cni_error e = { 0 };

	(void)state;
	set_env("CNI_COMMAND", "CHECK", "CNI_CONTAINERID", "c", "CNI_NETNS", "tcn-x",
		"CNI_IFNAME", "eth0", NULL);
	assert_int_equal(cni_parse_env(&env, fake_getenv, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_ENV);
	assert_non_null(strstr(e.msg, "CNI_NETNS"));
}

/* --- section 5: VERSION -------------------------------------------------------------------- */
static void test_version_without_input_is_1_0_0(void **state)
{
	struct cni_error e = { 0 };
	json_t *v = cni_version_json("", 0, &e), *list;

	(void)state;
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "cniVersion")), "1.0.0");
	list = json_object_get(v, "supportedVersions");
	assert_int_equal(json_array_size(list), 4);
	assert_string_equal(json_string_value(json_array_get(list, 0)), "0.3.0");
	assert_string_equal(json_string_value(json_array_get(list, 3)), "1.0.0");
	json_decref(v);
}

static void test_version_echoes_input_version(void **state)
{
	const char *in = "{\"cniVersion\": \"0.4.0\"}";
	struct cni_error e = { 0 };
	json_t *v = cni_version_json(in, strlen(in), &e);

	(void)state;
	assert_non_null(v);
	assert_string_equal(json_string_value(json_object_get(v, "cniVersion")), "0.4.0");
	json_decref(v);
}

static void test_version_bad_json_is_code_6(void **state)
{
	struct cni_error e = { 0 };

	(void)state;
	assert_null(cni_version_json("{nope", 5, &e));
	assert_int_equal(e.code, CNI_ERR_DECODE);
}

/* --- section 1: the configuration ------------------------------------------------------------ */
static void test_conf_not_json_is_code_6(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": ", &e), -1);
	assert_int_equal(e.code, CNI_ERR_DECODE);
	assert_non_null(strstr(e.details, "line 1"));
	assert_int_equal(parse(&c, &add_env, "[1, 2]", &e), -1);
	assert_int_equal(e.code, CNI_ERR_DECODE);
}

static void test_conf_versions(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env, "{\"name\": \"n\"}", &e), -1);
	assert_int_equal(e.code, CNI_ERR_INCOMPATIBLE_VERSION);
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": \"0.2.0\", \"name\": \"n\"}", &e),
			 -1);
	assert_int_equal(e.code, CNI_ERR_INCOMPATIBLE_VERSION);
	assert_string_equal(e.version, "0.2.0"); /* the error carries the version given */
	assert_non_null(strstr(e.details, "0.3.0, 0.3.1, 0.4.0, 1.0.0"));
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": 1, \"name\": \"n\"}", &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_CONFIG);
	for (const char *const *v = (const char *const[]){ "0.3.0", "0.3.1", "0.4.0", "1.0.0",
							   NULL };
	     *v; v++) {
		char text[128];

		snprintf(text, sizeof(text), "{\"cniVersion\": \"%s\", \"name\": \"n\"}", *v);
		assert_int_equal(parse(&c, &add_env, text, &e), 0);
		assert_string_equal(c.version, *v);
		cni_conf_free(&c);
	}
}

static void test_conf_check_needs_0_4_0(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &check_env, "{\"cniVersion\": \"0.3.1\", \"name\": \"n\"}", &e),
			 -1);
	assert_int_equal(e.code, CNI_ERR_INCOMPATIBLE_VERSION);
	assert_string_equal(e.msg, "config version does not allow CHECK");
	assert_int_equal(parse(&c, &check_env, "{\"cniVersion\": \"0.4.0\", \"name\": \"n\"}", &e),
			 0);
	cni_conf_free(&c);
}

static void test_conf_name(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": \"1.0.0\"}", &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_CONFIG);
	assert_string_equal(e.msg, "missing network name");
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": \"1.0.0\", \"name\": \"a b\"}", &e),
			 -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_CONFIG);
}

static void test_conf_ipam_is_unsupported_field(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env,
			       "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"ipam\": "
			       "{\"type\": \"host-local\"}}",
			       &e),
			 -1);
	assert_int_equal(e.code, CNI_ERR_UNSUPPORTED_FIELD);
	assert_non_null(strstr(e.msg, "ipam"));
	assert_non_null(strstr(e.details, "host-local")); /* the key and its value */
}

static void test_conf_bad_tapir_keys_are_code_7(void **state)
{
	static const char *const bad[] = {
		"\"address\": \"10.0.2.100\"",	  "\"address\": \"10.0.2.100/33\"",
		"\"address\": 5",		  "\"gateway\": \"10.0.2\"",
		"\"dns\": \"::1\"",		  "\"dns\": {\"nameservers\": [\"fd00::3\"]}",
		"\"dns\": {\"nameservers\": [1]}", "\"dns\": 3",
		"\"mtu\": \"1500\"",		  "\"mtu\": -1",
		"\"hostLoopback\": \"yes\"",	  "\"socket\": \"relative.sock\"",
		"\"prevResult\": []",
	};
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", %s}",
			 bad[i]);
		assert_int_equal(parse(&c, &add_env, text, &e), -1);
		if (e.code != CNI_ERR_INVALID_CONFIG)
			fail_msg("%s: code %d", bad[i], e.code);
	}
}

static void test_conf_tapir_keys_make_the_attach_arguments(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env,
			       "{\"cniVersion\": \"1.0.0\", \"name\": \"tapir\", \"type\": "
			       "\"tapir-cni\", \"socket\": \"/tmp/x.sock\", \"address\": "
			       "\"10.0.5.100/24\", \"gateway\": \"10.0.5.2\", \"dns\": "
			       "\"10.0.5.3\", \"mtu\": 1500, \"hostLoopback\": false, \"ipMasq\": "
			       "true}",
			       &e),
			 0);
	assert_string_equal(c.socket, "/tmp/x.sock");
	assert_string_equal(json_string_value(json_object_get(c.attach, "address")),
			    "10.0.5.100/24");
	assert_string_equal(json_string_value(json_object_get(c.attach, "gateway")), "10.0.5.2");
	assert_string_equal(json_string_value(json_object_get(c.attach, "dns")), "10.0.5.3");
	assert_int_equal(json_integer_value(json_object_get(c.attach, "mtu")), 1500);
	assert_true(json_is_false(json_object_get(c.attach, "host_loopback")));
	assert_true(json_is_true(json_object_get(c.attach, "configure")));
	assert_int_equal(json_object_size(c.attach), 6);
	cni_conf_free(&c);
	/* nothing given: the daemon's defaults, the default socket */
	assert_int_equal(parse(&c, &add_env, "{\"cniVersion\": \"1.0.0\", \"name\": \"n\"}", &e),
			 0);
	assert_string_equal(c.socket, "/run/tapird/control.sock");
	assert_int_equal(json_object_size(c.attach), 1);
	cni_conf_free(&c);
}

static void test_conf_well_known_dns_gives_first_nameserver(void **state)
{
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_int_equal(parse(&c, &add_env,
			       "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"dns\": "
			       "{\"nameservers\": [\"10.0.2.3\", \"fd00::3\"], \"search\": "
			       "[\"example.test\"]}}",
			       &e),
			 0);
	assert_string_equal(json_string_value(json_object_get(c.attach, "dns")), "10.0.2.3");
	assert_non_null(c.dns);
	cni_conf_free(&c);
}

/* --- runtimeConfig.portMappings (the CNI conventions' portMappings capability) ---------- */
static void test_conf_port_mappings_make_forwards(void **state)
{
	struct cni_conf c;
	struct cni_error e;
	json_t *f;

	(void)state;
	assert_int_equal(parse(&c, &add_env,
			       "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"runtimeConfig\": "
			       "{\"portMappings\": [{\"hostPort\": 8080, \"containerPort\": 80, "
			       "\"protocol\": \"tcp\"}, {\"hostPort\": 5353, \"containerPort\": 53, "
			       "\"protocol\": \"UDP\", \"hostIP\": \"127.0.0.1\"}, {\"hostPort\": 1, "
			       "\"containerPort\": 2}], \"bandwidth\": {}}}",
			       &e),
			 0);
	assert_int_equal(json_array_size(c.forwards), 3);
	f = json_array_get(c.forwards, 0);
	assert_string_equal(json_string_value(json_object_get(f, "proto")), "tcp");
	assert_string_equal(json_string_value(json_object_get(f, "host_addr")), "");
	assert_int_equal(json_integer_value(json_object_get(f, "host_port")), 8080);
	assert_int_equal(json_integer_value(json_object_get(f, "guest_port")), 80);
	f = json_array_get(c.forwards, 1);
	assert_string_equal(json_string_value(json_object_get(f, "proto")), "udp");
	assert_string_equal(json_string_value(json_object_get(f, "host_addr")), "127.0.0.1");
	f = json_array_get(c.forwards, 2); /* protocol defaults to tcp */
	assert_string_equal(json_string_value(json_object_get(f, "proto")), "tcp");
	cni_conf_free(&c);
}

static void test_conf_bad_port_mappings(void **state)
{
	static const struct {
		const char *rc;
		int code;
	} bad[] = {
		{ "[]", CNI_ERR_INVALID_CONFIG },
		{ "{\"portMappings\": {}}", CNI_ERR_INVALID_CONFIG },
		{ "{\"portMappings\": [{\"hostPort\": 0, \"containerPort\": 80}]}",
		  CNI_ERR_INVALID_CONFIG },
		{ "{\"portMappings\": [{\"hostPort\": 80, \"containerPort\": 65536}]}",
		  CNI_ERR_INVALID_CONFIG },
		{ "{\"portMappings\": [{\"hostPort\": \"80\", \"containerPort\": 80}]}",
		  CNI_ERR_INVALID_CONFIG },
		{ "{\"portMappings\": [{\"hostPort\": 80, \"containerPort\": 80, \"protocol\": "
		  "\"sctp\"}]}",
		  CNI_ERR_UNSUPPORTED_FIELD },
		{ "{\"portMappings\": [{\"hostPort\": 80, \"containerPort\": 80, \"hostIP\": "
		  "\"::1\"}]}",
		  CNI_ERR_UNSUPPORTED_FIELD },
		{ "{\"portMappings\": [{\"hostPort\": 80, \"containerPort\": 80, \"hostIP\": "
		  "\"localhost\"}]}",
		  CNI_ERR_INVALID_CONFIG },
	};
	struct cni_conf c;
	struct cni_error e;
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"runtimeConfig\": %s}",
			 bad[i].rc);
		assert_int_equal(parse(&c, &add_env, text, &e), -1);
		if (e.code != bad[i].code)
			fail_msg("%s: code %d, want %d", bad[i].rc, e.code, bad[i].code);
	}
	/* DEL makes no forwards (the detach closes them): it does not judge them either */
	assert_int_equal(parse(&c, &(struct cni_env){ CNI_CMD_DEL, "c", NULL, "eth0" }, text, &e), 0);
	assert_int_equal(json_array_size(c.forwards), 0);
	cni_conf_free(&c);
}

static void test_conf_port_mappings_bounded(void **state)
{
	size_t len = 200 + (CNI_MAX_PORT_MAPPINGS + 1) * 48, n;
	char *text = malloc(len);
	struct cni_conf c;
	struct cni_error e;

	(void)state;
	assert_non_null(text);
	n = (size_t)snprintf(text, len, "{\"cniVersion\": \"1.0.0\", \"name\": \"n\", "
					"\"runtimeConfig\": {\"portMappings\": [");
	for (int i = 0; i <= CNI_MAX_PORT_MAPPINGS; i++)
		n += (size_t)snprintf(text + n, len - n, "%s{\"hostPort\": %d, \"containerPort\": 80}",
				      i ? ", " : "", 10000 + i);
	snprintf(text + n, len - n, "]}}");
	assert_int_equal(parse(&c, &add_env, text, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_CONFIG);
	assert_non_null(strstr(e.details, "at most"));
	free(text);
}

/* --- the link name ------------------------------------------------------------------------ */
static void test_link_name_short_id(void **state)
{
	char n[LINK_NAME_MAX];

	(void)state;
	cni_link_name(n, "0123abcd", "eth0");
	assert_string_equal(n, "cni-0123abcd:eth0");
}

static void test_link_name_podman_id_fits(void **state)
{
	char id[65], n[LINK_NAME_MAX];

	(void)state;
	memset(id, 'f', 64);
	id[64] = '\0';
	cni_link_name(n, id, "eth0");
	assert_int_equal(strlen(n), 4 + 64 + 1 + 4);
	assert_null(strchr(n, '~'));
}

static void test_link_name_long_id_is_shortened_stably(void **state)
{
	char a[301], b[301], na[LINK_NAME_MAX], na2[LINK_NAME_MAX], nb[LINK_NAME_MAX];

	(void)state;
	memset(a, 'a', 300);
	a[300] = '\0';
	memcpy(b, a, sizeof(b));
	b[299] = 'b'; /* differs only past what the shortened name keeps */
	cni_link_name(na, a, "fifteen-chars-x");
	cni_link_name(na2, a, "fifteen-chars-x");
	cni_link_name(nb, b, "fifteen-chars-x");
	assert_int_equal(strlen(na), LINK_NAME_MAX - 1);
	assert_string_equal(na, na2);
	assert_string_not_equal(na, nb);
	assert_non_null(strchr(na, '~'));
	assert_memory_equal(na, "cni-aaaa", 8);
	assert_string_equal(na + strlen(na) - 16, ":fifteen-chars-x");
}

static void test_link_name_differs_by_ifname(void **state)
{
	char a[LINK_NAME_MAX], b[LINK_NAME_MAX];

	(void)state;
	/* section 3: an attachment is (CNI_CONTAINERID, CNI_IFNAME) */
	cni_link_name(a, "c1", "eth0");
	cni_link_name(b, "c1", "eth1");
	assert_string_not_equal(a, b);
}

/* --- tapird's link object -------------------------------------------------------------------- */
static json_t *link_json(void)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:i, s:s}", "name", "cni-c0ffee:eth0",
			 "netns", "/run/netns/tcn-x", "ifname", "eth0", "ifindex", 2, "address",
			 "10.0.2.100/24", "gateway", "10.0.2.2", "dns", "10.0.2.3", "mtu", 65520,
			 "mac", "02:00:00:00:00:02");
}

static void test_link_from_json(void **state)
{
	struct cni_error e = { 0 };
	struct cni_link l;
	json_t *j = link_json();

	(void)state;
	assert_int_equal(cni_link_from_json(&l, j, &e), 0);
	assert_string_equal(l.address, "10.0.2.100/24");
	assert_string_equal(l.gateway, "10.0.2.2");
	assert_int_equal(l.ifindex, 2);
	json_object_del(j, "ifindex");
	assert_int_equal(cni_link_from_json(&l, j, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INTERNAL);
	json_decref(j);
}

/* --- section 5: the ADD result ------------------------------------------------------------- */
static void build_result(const char *conf_text, json_t **r)
{
	struct cni_error e = { 0 };
	struct cni_conf c;
	struct cni_link l;
	json_t *j = link_json();

	assert_int_equal(cni_parse_conf(&c, &add_env, conf_text, strlen(conf_text), &e), 0);
	assert_int_equal(cni_link_from_json(&l, j, &e), 0);
	*r = cni_result(&c, &add_env, &l, "aa:bb:cc:dd:ee:ff");
	assert_non_null(*r);
	json_decref(j);
	cni_conf_free(&c);
}

static void test_result_1_0_0(void **state)
{
	json_t *r, *ip, *iface, *route;

	(void)state;
	build_result("{\"cniVersion\": \"1.0.0\", \"name\": \"n\"}", &r);
	assert_string_equal(json_string_value(json_object_get(r, "cniVersion")), "1.0.0");
	iface = json_array_get(json_object_get(r, "interfaces"), 0);
	assert_string_equal(json_string_value(json_object_get(iface, "name")), "eth0");
	assert_string_equal(json_string_value(json_object_get(iface, "mac")), "aa:bb:cc:dd:ee:ff");
	assert_string_equal(json_string_value(json_object_get(iface, "sandbox")),
			    "/run/netns/tcn-x");
	ip = json_array_get(json_object_get(r, "ips"), 0);
	assert_string_equal(json_string_value(json_object_get(ip, "address")), "10.0.2.100/24");
	assert_string_equal(json_string_value(json_object_get(ip, "gateway")), "10.0.2.2");
	assert_int_equal(json_integer_value(json_object_get(ip, "interface")), 0);
	assert_null(json_object_get(ip, "version")); /* 1.0.0 dropped it */
	route = json_array_get(json_object_get(r, "routes"), 0);
	assert_string_equal(json_string_value(json_object_get(route, "dst")), "0.0.0.0/0");
	assert_string_equal(json_string_value(json_object_get(route, "gw")), "10.0.2.2");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(r, "dns"), "nameservers"), 0)),
			    "10.0.2.3");
	json_decref(r);
}

static void test_result_0_4_0_has_ip_version(void **state)
{
	json_t *r, *ip;

	(void)state;
	build_result("{\"cniVersion\": \"0.4.0\", \"name\": \"n\"}", &r);
	assert_string_equal(json_string_value(json_object_get(r, "cniVersion")), "0.4.0");
	ip = json_array_get(json_object_get(r, "ips"), 0);
	assert_string_equal(json_string_value(json_object_get(ip, "version")), "4");
	json_decref(r);
}

static void test_result_chained_keeps_prev_result(void **state)
{
	json_t *r, *ip, *ns;

	(void)state;
	/* section 5 "Success": a prevResult is passed through with this plugin's additions */
	build_result("{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"dns\": {\"nameservers\": "
		     "[\"10.0.2.3\", \"192.0.2.53\"], \"search\": [\"example.test\"]}, "
		     "\"prevResult\": {\"cniVersion\": \"1.0.0\", \"interfaces\": [{\"name\": "
		     "\"lo\", \"sandbox\": \"/run/netns/tcn-x\"}], \"ips\": [{\"address\": "
		     "\"127.0.0.1/8\", \"interface\": 0}], \"dns\": {\"nameservers\": "
		     "[\"192.0.2.1\"]}}}",
		     &r);
	assert_int_equal(json_array_size(json_object_get(r, "interfaces")), 2);
	assert_int_equal(json_array_size(json_object_get(r, "ips")), 2);
	ip = json_array_get(json_object_get(r, "ips"), 1);
	assert_int_equal(json_integer_value(json_object_get(ip, "interface")), 1);
	ns = json_object_get(json_object_get(r, "dns"), "nameservers");
	assert_int_equal(json_array_size(ns), 3);
	assert_string_equal(json_string_value(json_array_get(ns, 0)), "192.0.2.1");
	assert_string_equal(json_string_value(json_array_get(ns, 1)), "10.0.2.3");
	assert_string_equal(json_string_value(json_array_get(ns, 2)), "192.0.2.53");
	assert_non_null(json_object_get(json_object_get(r, "dns"), "search"));
	json_decref(r);
}

/* --- section 2: CHECK -------------------------------------------------------------------------- */
#define CHECK_CONF                                                                               \
	"{\"cniVersion\": \"1.0.0\", \"name\": \"n\", \"prevResult\": {\"cniVersion\": "         \
	"\"1.0.0\", \"interfaces\": [{\"name\": \"eth0\", \"mac\": \"aa:bb:cc:dd:ee:ff\", "      \
	"\"sandbox\": \"/run/netns/tcn-x\"}], \"ips\": [{\"address\": \"10.0.2.100/24\", "      \
	"\"gateway\": \"10.0.2.2\", \"interface\": 0}]}}"

struct check_fixture {
	struct cni_conf c;
	struct cni_link l;
	struct cni_iface ifc;
};

static int check_setup(void **state)
{
	struct check_fixture *f = calloc(1, sizeof(*f));
	struct cni_error e = { 0 };
	json_t *j = link_json();

	assert_non_null(f);
	assert_int_equal(cni_parse_conf(&f->c, &check_env, CHECK_CONF, strlen(CHECK_CONF), &e), 0);
	assert_int_equal(cni_link_from_json(&f->l, j, &e), 0);
	json_decref(j);
	f->ifc.ifindex = 2;
	f->ifc.up = true;
	strcpy(f->ifc.mac, "aa:bb:cc:dd:ee:ff");
	strcpy(f->ifc.addrs[0], "10.0.2.100/24");
	f->ifc.naddrs = 1;
	*state = f;
	return 0;
}

static int check_teardown(void **state)
{
	struct check_fixture *f = *state;

	cni_conf_free(&f->c);
	free(f);
	return 0;
}

static void test_check_all_agree(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), 0);
}

static void test_check_no_prev_result_is_code_7(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };
	const json_t *prev = f->c.prev;

	f->c.prev = NULL;
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_int_equal(e.code, CNI_ERR_INVALID_CONFIG);
	f->c.prev = (json_t *)prev;
}

static void test_check_link_detached(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	assert_int_equal(cni_check(&f->c, &check_env, NULL, false, &f->ifc, &e), -1);
	assert_int_equal(e.code, CNI_ERR_CHECK);
	assert_string_equal(e.msg, "the link is not attached in tapird");
}

static void test_check_link_in_another_namespace(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	assert_int_equal(cni_check(&f->c, &check_env, &f->l, false, &f->ifc, &e), -1);
	assert_int_equal(e.code, CNI_ERR_CHECK);
}

static void test_check_address_differs(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	strcpy(f->l.address, "10.0.2.101/24");
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_int_equal(e.code, CNI_ERR_CHECK);
	strcpy(f->l.address, "10.0.2.100/24");
	f->ifc.naddrs = 0; /* removed inside the container */
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_string_equal(e.msg, "the interface lacks its address");
}

static void test_check_interface_gone_or_replaced(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, NULL, &e), -1);
	assert_string_equal(e.msg, "the interface is missing");
	f->ifc.ifindex = 7;
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_string_equal(e.msg, "the interface is not tapird's TAP");
	f->ifc.ifindex = 2;
	f->ifc.up = false;
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_string_equal(e.msg, "the interface is down");
}

static void test_check_mac_differs(void **state)
{
	struct check_fixture *f = *state;
	struct cni_error e = { 0 };

	strcpy(f->ifc.mac, "aa:bb:cc:dd:ee:00");
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), -1);
	assert_string_equal(e.msg, "the interface's MAC differs");
	strcpy(f->ifc.mac, "AA:BB:CC:DD:EE:FF"); /* case does not matter */
	assert_int_equal(cni_check(&f->c, &check_env, &f->l, true, &f->ifc, &e), 0);
}

static void test_check_other_interface_is_not_ours(void **state)
{
	struct check_fixture *f = *state;
	struct cni_env env = check_env;
	struct cni_error e = { 0 };

	env.ifname = "eth1";
	assert_int_equal(cni_check(&f->c, &env, &f->l, true, &f->ifc, &e), -1);
	assert_string_equal(e.msg, "prevResult does not list this interface");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_missing_command_is_code_4),
		cmocka_unit_test(test_env_unknown_command_is_code_4),
		cmocka_unit_test(test_env_add_names_every_missing_variable),
		cmocka_unit_test(test_env_del_needs_no_netns),
		cmocka_unit_test(test_env_version_needs_nothing_else),
		cmocka_unit_test(test_env_container_id_characters),
		cmocka_unit_test(test_env_ifname_rules),
		cmocka_unit_test(test_env_netns_must_be_absolute),
		cmocka_unit_test(test_version_without_input_is_1_0_0),
		cmocka_unit_test(test_version_echoes_input_version),
		cmocka_unit_test(test_version_bad_json_is_code_6),
		cmocka_unit_test(test_conf_not_json_is_code_6),
		cmocka_unit_test(test_conf_versions),
		cmocka_unit_test(test_conf_check_needs_0_4_0),
		cmocka_unit_test(test_conf_name),
		cmocka_unit_test(test_conf_ipam_is_unsupported_field),
		cmocka_unit_test(test_conf_bad_tapir_keys_are_code_7),
		cmocka_unit_test(test_conf_tapir_keys_make_the_attach_arguments),
		cmocka_unit_test(test_conf_well_known_dns_gives_first_nameserver),
		cmocka_unit_test(test_conf_port_mappings_make_forwards),
		cmocka_unit_test(test_conf_bad_port_mappings),
		cmocka_unit_test(test_conf_port_mappings_bounded),
		cmocka_unit_test(test_link_name_short_id),
		cmocka_unit_test(test_link_name_podman_id_fits),
		cmocka_unit_test(test_link_name_long_id_is_shortened_stably),
		cmocka_unit_test(test_link_name_differs_by_ifname),
		cmocka_unit_test(test_link_from_json),
		cmocka_unit_test(test_result_1_0_0),
		cmocka_unit_test(test_result_0_4_0_has_ip_version),
		cmocka_unit_test(test_result_chained_keeps_prev_result),
		cmocka_unit_test_setup_teardown(test_check_all_agree, check_setup, check_teardown),
		cmocka_unit_test_setup_teardown(test_check_no_prev_result_is_code_7, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_link_detached, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_link_in_another_namespace, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_address_differs, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_interface_gone_or_replaced, check_setup,
						check_teardown),
		cmocka_unit_test_setup_teardown(test_check_mac_differs, check_setup, check_teardown),
		cmocka_unit_test_setup_teardown(test_check_other_interface_is_not_ours, check_setup,
						check_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
