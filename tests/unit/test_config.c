/* test_config.c - tapird's configuration: defaults, every command-line option, every file key,
 * and the messages that refuse bad input (they must name the option or FILE:LINE).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* by path: a plain "config.h" would find autoconf's, which -I. puts first */
#include "../../daemon/config.h"
#include "log.h"
#include "sandbox.h"
#include "stack.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

/* A temporary file holding @text; its path is written into @path (PATH_MAX bytes). */
static void tmpfile_with(char *path, const char *text)
{
	int fd;

	snprintf(path, PATH_MAX, "/tmp/tapir-test-config-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/**
 * parse() - run config_parse_args over defaults with a NULL-terminated argument list
 * Return: what config_parse_args returned
 */
static int parse(struct config *c, enum config_action *action, char *err, size_t errlen, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = (char *)"tapird";
	va_start(ap, errlen);
	while (argc < 63 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	config_defaults(c);
	err[0] = '\0';
	return config_parse_args(c, argc, argv, action, err, errlen);
}

static void test_defaults_are_design_md(void **state)
{
	struct config c;

	config_defaults(&c);
	assert_false(c.foreground);
	assert_string_equal(c.config_path, "");
	assert_string_equal(c.link.netns, "");
	assert_int_equal(c.link.pid, 0);
	assert_string_equal(c.link.ifname, "tap0");
	assert_int_equal(c.link.addr, IP(10, 0, 2, 100));
	assert_int_equal(c.link.prefix_len, 24);
	assert_int_equal(c.link.gateway, IP(10, 0, 2, 2));
	assert_int_equal(c.link.dns, IP(10, 0, 2, 3));
	assert_int_equal(c.link.mtu, 65520);
	assert_false(c.link.no_configure);
	assert_false(c.link.no_dhcp); /* DHCP is served by default */
	assert_false(c.link.no_offload); /* offloads on unless asked */
	assert_string_equal(c.control, "/run/tapird/control.sock");
	assert_string_equal(c.control_group, "");
	assert_string_equal(c.admin_group, "");
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_false(c.no_host_loopback);
	assert_int_equal(c.time_wait_s, 60);
	assert_int_equal(c.max_flows, STACK_DEFAULT_MAX_FLOWS);
	assert_int_equal(c.max_half_open, STACK_DEFAULT_MAX_HALF_OPEN);
	assert_string_equal(c.dns_upstream, "");
}

static void test_args_every_option(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "-f", "--netns", "/var/run/x/ns",
			       "--ifname", "eth7", "--address", "192.168.5.9/16", "--gateway",
			       "192.168.0.1", "--dns", "192.168.0.53", "--mtu", "1500",
			       "--no-configure", "--no-offload", "--control", "/tmp/t.sock",
			       "--log-level", "debug",
			       "--no-host-loopback", "--time-wait", "5", "--max-flows", "100",
			       "--max-half-open", "10", "--dns-upstream", "127.0.0.53:5353", NULL),
			 0);
	assert_int_equal(a, CONFIG_RUN);
	assert_true(c.foreground);
	assert_string_equal(c.link.netns, "/var/run/x/ns");
	assert_int_equal(c.link.pid, 0);
	assert_string_equal(c.link.ifname, "eth7");
	assert_int_equal(c.link.addr, IP(192, 168, 5, 9));
	assert_int_equal(c.link.prefix_len, 16);
	assert_int_equal(c.link.gateway, IP(192, 168, 0, 1));
	assert_int_equal(c.link.dns, IP(192, 168, 0, 53));
	assert_int_equal(c.link.mtu, 1500);
	assert_true(c.link.no_configure);
	assert_true(c.link.no_offload);
	assert_string_equal(c.control, "/tmp/t.sock");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_true(c.log_level_from_args);
	assert_true(c.link.no_host_loopback);
	assert_int_equal(c.time_wait_s, 5);
	assert_int_equal(c.max_flows, 100);
	assert_int_equal(c.max_half_open, 10);
	assert_string_equal(c.dns_upstream, "127.0.0.53:5353");
}

static void test_args_long_foreground_and_equals_form(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--foreground", "--netns=c1",
			       "--mtu=9000", NULL),
			 0);
	assert_true(c.foreground);
	assert_string_equal(c.link.netns, "/run/netns/c1");
	assert_int_equal(c.link.mtu, 9000);
	assert_false(c.log_level_from_args);
}

static void test_args_netns_name_means_run_netns(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "c1", NULL), 0);
	assert_string_equal(c.link.netns, "/run/netns/c1");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "./rel/ns", NULL), 0);
	assert_string_equal(c.link.netns, "./rel/ns");
}

static void test_args_pid(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--pid", "4242", NULL), 0);
	assert_int_equal(c.link.pid, 4242);
	assert_string_equal(c.link.netns, "");
}

static void test_args_mtu_bounds(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--mtu", "576", NULL), 0);
	assert_int_equal(c.link.mtu, 576);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--mtu", "65521", NULL),
			 0);
	assert_int_equal(c.link.mtu, 65521);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--mtu", "575", NULL),
			 -1);
	assert_string_equal(err, "--mtu: \"575\" is not a number between 576 and 65521");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--mtu", "65522", NULL),
			 -1);
	assert_non_null(strstr(err, "--mtu: \"65522\""));
}

/* Each bad value: refused, and the message names the option and the value. */
static void test_args_bad_values_name_option_and_value(void **state)
{
	static const char *const bad[][3] = {
		{ "--netns", "", "--netns: \"\"" },
		{ "--netns", "..", "--netns: \"..\"" },
		{ "--pid", "0", "--pid: \"0\"" },
		{ "--pid", "-3", "--pid: \"-3\"" },
		{ "--pid", "12x", "--pid: \"12x\"" },
		{ "--ifname", "", "--ifname: \"\"" },
		{ "--ifname", "a-name-too-long-for-linux", "--ifname: \"a-name-too-long" },
		{ "--ifname", "ta/p", "--ifname: \"ta/p\"" },
		{ "--ifname", "tap%d", "--ifname: \"tap%d\"" },
		{ "--ifname", "ta p", "--ifname: \"ta p\"" },
		{ "--address", "10.0.2.100", "--address: \"10.0.2.100\"" },
		{ "--address", "10.0.2/24", "--address: \"10.0.2\"" },
		{ "--address", "10.0.2.100/31", "--address: \"10.0.2.100/31\"" },
		{ "--address", "10.0.2.100/x", "--address: \"10.0.2.100/x\"" },
		{ "--address", "127.0.0.1/8", "--address: \"127.0.0.1\"" },
		{ "--address", "224.0.0.1/24", "--address: \"224.0.0.1\"" },
		{ "--gateway", "10.0.2.256", "--gateway: \"10.0.2.256\"" },
		{ "--gateway", "gw", "--gateway: \"gw\"" },
		{ "--dns", "0.0.0.0", "--dns: \"0.0.0.0\"" },
		{ "--dns", "255.255.255.255", "--dns: \"255.255.255.255\"" },
		{ "--mtu", "", "--mtu: \"\"" },
		{ "--mtu", "+1500", "--mtu: \"+1500\"" },
		{ "--mtu", "1500 ", "--mtu: \"1500 \"" },
		{ "--mtu", "99999999999999999999", "--mtu: \"99999999999999999999\"" },
		{ "--control", "relative.sock", "--control: \"relative.sock\"" },
		{ "--control",
		  "/a/path/that/is/much/too/long/for/the/sun_path/of/a/unix/socket/address/"
		  "which/is/only/one/hundred/and/eight/bytes",
		  "--control: \"/a/path" },
		{ "--log-level", "loud", "--log-level: \"loud\"" },
		{ "--time-wait", "3601", "--time-wait: \"3601\"" },
		{ "--max-flows", "0", "--max-flows: \"0\"" },
		{ "--max-flows", "1048577", "--max-flows: \"1048577\"" },
		{ "--max-half-open", "0", "--max-half-open: \"0\"" },
		{ "--dns-upstream", "resolver", "--dns-upstream: \"resolver\"" },
		{ "--dns-upstream", "1.2.3.4:0", "--dns-upstream: \"1.2.3.4:0\"" },
		{ "--dns-upstream", "1.2.3.4:65536", "--dns-upstream: \"1.2.3.4:65536\"" },
		{ "--dns-upstream", "[::1", "--dns-upstream: \"[::1\"" },
	};
	enum config_action a;
	struct config c;
	char err[512];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(&c, &a, err, sizeof(err), "--netns", "n", bad[i][0], bad[i][1],
			       NULL);

		if (rc != -1 || strncmp(err, bad[i][2], strlen(bad[i][2])))
			fail_msg("%s \"%s\": rc %d, message \"%s\"", bad[i][0], bad[i][1], rc, err);
		assert_null(strchr(err, '\n'));
	}
}

static void test_args_good_dns_upstream_forms(void **state)
{
	static const char *const good[] = { "1.1.1.1", "127.0.0.53:53", "::1", "[::1]:5353",
					    "fd00::1" };
	enum config_action a;
	struct config c;
	char err[512];
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(&c, &a, err, sizeof(err), "--netns", "n", "--dns-upstream", good[i],
			  NULL))
			fail_msg("%s refused: %s", good[i], err);
		assert_string_equal(c.dns_upstream, good[i]);
	}
}

/* Without a namespace tapird starts with no link and waits for `attach` (issue 11: the
 * installed tapird.service must start so) */
static void test_args_no_namespace_means_no_link(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "-f", NULL), 0);
	assert_false(link_cfg_has_ns(&c.link));
	assert_int_equal(c.nlinks, 0);
	/* a link's own options without its namespace are still checked */
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-f", "--mtu", "1", NULL), -1);
	assert_non_null(strstr(err, "--mtu"));
}

static void test_args_netns_and_pid_refused(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--pid", "1", NULL),
			 -1);
	assert_non_null(strstr(err, "--pid: "));
}

static void test_args_unknown_missing_and_extra(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--frobnicate", NULL),
			 -1);
	assert_string_equal(err, "--frobnicate: unknown option");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "-x", NULL), -1);
	assert_string_equal(err, "-x: unknown option");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--mtu", NULL), -1);
	assert_string_equal(err, "--mtu: needs a value");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "-c", NULL), -1);
	assert_string_equal(err, "-c: needs a value");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--no-configure=1",
			       NULL),
			 -1);
	assert_non_null(strstr(err, "--no-configure=1"));
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "stray", NULL), -1);
	assert_non_null(strstr(err, "\"stray\""));
}

static void test_args_cross_checks(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--gateway", "10.0.3.2",
			       NULL),
			 -1);
	assert_non_null(strstr(err, "gateway 10.0.3.2"));
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--dns", "10.0.2.100",
			       NULL),
			 -1);
	assert_non_null(strstr(err, "dns 10.0.2.100"));
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--address",
			       "10.0.2.255/24", NULL),
			 -1);
	assert_non_null(strstr(err, "broadcast"));
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "--max-flows", "10",
			       NULL),
			 -1);
	assert_non_null(strstr(err, "max-half-open 1024"));
}

static void test_outbound_addr6_flag_and_key(void **state)
{
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	enum config_action action;
	char path[PATH_MAX], err[512];
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--netns", "x",
			       "--outbound-addr6", "2001:db8::9", NULL), 0);
	assert_true(c.link.has_outbound6);
	assert_memory_equal(c.link.outbound_addr6, want, 16);
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--netns", "x", NULL), 0);
	assert_false(c.link.has_outbound6);
	assert_int_not_equal(parse(&c, &action, err, sizeof(err), "--netns", "x",
				   "--outbound-addr6", "10.0.0.1", NULL), 0);
	assert_non_null(strstr(err, "--outbound-addr6: \"10.0.0.1\" is not an IPv6 address"));
	assert_int_not_equal(parse(&c, &action, err, sizeof(err), "--netns", "x",
				   "--outbound-addr6", "::", NULL), 0);
	assert_non_null(strstr(err, "unspecified"));
	assert_int_not_equal(parse(&c, &action, err, sizeof(err), "--netns", "x",
				   "--outbound-addr6", "::ffff:10.0.0.1", NULL), 0);
	assert_non_null(strstr(err, "IPv4-mapped"));
	/* per link in the file */
	tmpfile_with(path, "[link]\nnetns = web\noutbound-addr6 = 2001:db8::9\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_true(c.link.has_outbound6);
	assert_memory_equal(c.link.outbound_addr6, want, 16);
	unlink(path);
}

static void test_args_help_and_version(void **state)
{
	enum config_action a;
	struct config c;
	char err[512];

	assert_int_equal(parse(&c, &a, err, sizeof(err), "--help", NULL), 0);
	assert_int_equal(a, CONFIG_HELP);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-h", "--bogus", NULL), 0);
	assert_int_equal(a, CONFIG_HELP);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--version", NULL), 0);
	assert_int_equal(a, CONFIG_VERSION);
	assert_non_null(strstr(config_usage(), "--netns PATH|NAME"));
	assert_non_null(strstr(config_usage(), "--dns-upstream"));
}

static void test_file_every_key(void **state)
{
	char path[PATH_MAX], err[512];
	struct config c;

	tmpfile_with(path, "# a comment\n"
			   "; another\n"
			   "[link]\n"
			   "netns = web\n"
			   "ifname = eth1\n"
			   "address = 172.16.0.10/12\n"
			   "gateway = 172.16.0.1\n"
			   "dns = 172.16.0.2\n"
			   "mtu = 1400\n"
			   "configure = no\n"
			   "dhcp = no\n"
			   "offload = no\n"
			   "\n"
			   "[daemon]\n"
			   "control = /run/t/c.sock\n"
			   "control-group = tapird\n"
			   "admin-group = wheel\n"
			   "log-level = WARNING\n"
			   "[tcp]\n"
			   "time-wait = 0\n"
			   "max-flows = 2048\n"
			   "max-half-open = 64 ; inline comment\n"
			   "host-loopback = off\n"
			   "[dns]\n"
			   "upstream = [2001:db8::53]:53\n");
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.link.netns, "/run/netns/web");
	assert_string_equal(c.link.ifname, "eth1");
	assert_int_equal(c.link.addr, IP(172, 16, 0, 10));
	assert_int_equal(c.link.prefix_len, 12);
	assert_int_equal(c.link.gateway, IP(172, 16, 0, 1));
	assert_int_equal(c.link.dns, IP(172, 16, 0, 2));
	assert_int_equal(c.link.mtu, 1400);
	assert_true(c.link.no_configure);
	assert_true(c.link.no_dhcp);
	assert_true(c.link.no_offload);
	assert_string_equal(c.control, "/run/t/c.sock");
	assert_string_equal(c.control_group, "tapird");
	assert_string_equal(c.admin_group, "wheel");
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	assert_int_equal(c.time_wait_s, 0);
	assert_int_equal(c.max_flows, 2048);
	assert_int_equal(c.max_half_open, 64);
	assert_true(c.no_host_loopback);
	assert_string_equal(c.dns_upstream, "[2001:db8::53]:53");
	assert_string_equal(c.config_path, path);
	unlink(path);

	tmpfile_with(path, "[link]\npid = 77\nconfigure = yes\ndhcp = yes\n[tcp]\nhost-loopback = 1\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.link.pid, 77);
	assert_false(c.link.no_dhcp);
	assert_string_equal(c.link.netns, "");
	assert_false(c.link.no_configure);
	assert_false(c.no_host_loopback);
	unlink(path);

	tmpfile_with(path, "[link]\npid = 77\noffload = yes\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_false(c.link.no_offload);
	unlink(path);
}

/* Each bad file: refused with "PATH:LINE: ...", naming the key or section. */
/* [link NAME] sections: one daemon, many containers (issue 11, part 2) */
static void test_file_named_links(void **state)
{
	enum config_action a;
	char path[PATH_MAX];
	struct config c;
	char err[512];

	tmpfile_with(path, "[link c1]\nnetns = c1\n"
			   "[link c2]\npid = 42\naddress = 10.9.0.100/24\ngateway = 10.9.0.2\n"
			   "dns = 10.9.0.3\nhost-loopback = no\n"
			   "[tcp]\nhost-loopback = yes\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), 0);
	assert_false(link_cfg_has_ns(&c.link));
	assert_int_equal(c.nlinks, 2);
	assert_string_equal(c.links[0].name, "c1");
	assert_string_equal(c.links[0].netns, "/run/netns/c1");
	assert_int_equal(c.links[0].addr, STACK_DEFAULT_ADDR);
	assert_false(c.links[0].no_host_loopback);
	assert_string_equal(c.links[1].name, "c2");
	assert_int_equal(c.links[1].pid, 42);
	assert_int_equal(c.links[1].addr, IP(10, 9, 0, 100));
	assert_true(c.links[1].no_host_loopback);
	unlink(path);

	/* [tcp] host-loopback is the default of links that do not say, wherever it stands */
	tmpfile_with(path, "[link c1]\nnetns = c1\n[tcp]\nhost-loopback = no\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), 0);
	assert_true(c.links[0].no_host_loopback);
	unlink(path);

	/* [link] and [link NAME] together; the unnamed link's name derived */
	tmpfile_with(path, "[link]\npid = 9\n[link c1]\nnetns = /var/run/netns/c1\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), 0);
	assert_string_equal(c.link.name, "pid:9");
	assert_int_equal(c.nlinks, 1);
	assert_string_equal(c.links[0].name, "c1");
	unlink(path);

	/* a namespace on the command line (tapird@NAME.service) replaces the file's named
	 * links, which the shared tapird.service serves */
	tmpfile_with(path, "[link c1]\nnetns = /var/run/netns/c1\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, "--netns", "c9", NULL), 0);
	assert_string_equal(c.link.name, "c9");
	assert_int_equal(c.nlinks, 0);
	unlink(path);
}

static void test_file_named_link_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} bad[] = {
		{ "[link c1]\nmtu = 1500\n", "c1: no namespace" },
		{ "[link c1]\nnetns = a\n[link c2]\nnetns = b\npid = 3\n", ":5: pid: give either" },
		{ "[link c1]\nname = x\n", ":2: name: [link c1] names its link already" },
		{ "[link c1]\nbogus = 1\n", ":2: bogus: unknown key in [link c1]" },
		{ "[link a/b]\nnetns = x\n", ":2: [link a/b]: " },
		{ "[link]\nnetns = c1\nname = c1\n[link c1]\nnetns = c2\n",
		  "two links are named \"c1\"" },
	};
	enum config_action a;
	struct config c;
	char err[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[PATH_MAX];

		tmpfile_with(path, bad[i].text);
		assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), -1);
		if (!strstr(err, bad[i].want))
			fail_msg("%s: '%s' lacks '%s'", bad[i].text, err, bad[i].want);
		unlink(path);
	}
}

static void test_file_errors_name_file_and_line(void **state)
{
	static const char *const bad[][3] = {
		{ "[link]\nmtu = 1500\nmtu = 9x\n", "3", "mtu: \"9x\" is not a number" },
		{ "[link]\ncolour = blue\n", "2", "colour: unknown key in [link]" },
		{ "[nope]\nkey = 1\n", "2", "[nope]: unknown section" },
		{ "mtu = 1500\n", "1", "mtu: key outside of any [section]" },
		{ "[link]\nthis is not ini\n", "2", "not \"key = value\"" },
		{ "[link\nmtu = 1500\n", "1", "not \"key = value\"" },
		{ "[daemon]\nlog-level = chatty\n", "2", "log-level: \"chatty\"" },
		{ "[link]\nconfigure = maybe\n", "2", "configure: \"maybe\" is not yes or no" },
		{ "[link]\ndhcp = perhaps\n", "2", "dhcp: \"perhaps\" is not yes or no" },
		{ "[link]\nnetns = a\npid = 3\n", "3", "pid: give either netns or pid" },
		{ "[tcp]\nmax-flows = 0\n", "2", "max-flows: \"0\"" },
		{ "[dns]\nupstream = x\n", "2", "upstream: \"x\"" },
		{ "[link]\nmtu =\n", "2", "mtu: \"\"" },
		/* the first error wins, later ones do not hide it */
		{ "[link]\nmtu = 1\nbogus = 2\n", "2", "mtu: \"1\"" },
	};
	char path[PATH_MAX], err[512], want[PATH_MAX + 64];
	struct config c, before;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tmpfile_with(path, bad[i][0]);
		config_defaults(&c);
		before = c;
		snprintf(want, sizeof(want), "%s:%s: %s", path, bad[i][1], bad[i][2]);
		if (config_load_file(&c, path, err, sizeof(err)) != -1 ||
		    strncmp(err, want, strlen(want)))
			fail_msg("file %u: got \"%s\", want \"%s...\"", i, err, want);
		/* a refused file changes nothing */
		assert_memory_equal(&c, &before, sizeof(c));
		unlink(path);
	}
}

static void test_file_line_too_long_refused(void **state)
{
	char path[PATH_MAX], err[512], text[400], want[PATH_MAX + 32];
	struct config c;

	snprintf(text, sizeof(text), "[daemon]\n# comment\ncontrol = /%0300d\n", 0);
	tmpfile_with(path, text);
	config_defaults(&c);
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: line longer than", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
}

static void test_file_missing(void **state)
{
	struct config c;
	char err[512];

	config_defaults(&c);
	assert_int_equal(config_load_file(&c, "/nonexistent/tapird.conf", err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/tapird.conf: No such file or directory");
}

static void test_args_override_file(void **state)
{
	char path[PATH_MAX], err[512];
	enum config_action a;
	struct config c;

	tmpfile_with(path, "[link]\nnetns = fromfile\nmtu = 1400\nifname = f0\n"
			   "[daemon]\nlog-level = error\n");
	/* the flag comes before -c on the command line and still wins */
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--mtu", "9000", "-c", path, NULL), 0);
	assert_int_equal(c.link.mtu, 9000);
	assert_string_equal(c.link.ifname, "f0");
	assert_string_equal(c.link.netns, "/run/netns/fromfile");
	assert_int_equal(c.log_level, LOG_LVL_ERROR);
	assert_false(c.log_level_from_args);
	assert_string_equal(c.config_path, path);
	/* --pid on the command line replaces the file's netns */
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--config", path, "--pid", "9", NULL), 0);
	assert_int_equal(c.link.pid, 9);
	assert_string_equal(c.link.netns, "");
	unlink(path);
}

static void test_args_bad_file_refused(void **state)
{
	char path[PATH_MAX], err[512], want[PATH_MAX + 32];
	enum config_action a;
	struct config c;

	tmpfile_with(path, "[link]\n\nmtu = 70000\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--netns", "n", "-c", path, NULL), -1);
	snprintf(want, sizeof(want), "%s:3: mtu: \"70000\"", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
}

/* Finding 4: [policy] and [link NAME] deny rules, the two switches, and --deny */
static void test_policy_keys_file_and_flags(void **state)
{
	char path[PATH_MAX], err[512];
	enum config_action a;
	struct config c;

	(void)state;
	tmpfile_with(path, "[policy]\ndeny = 10.0.0.0/8\ndeny = 127.0.0.1/32:22 tcp\n"
			   "deny-link-local = yes\n"
			   "[link web]\nnetns = web\ndeny = 10.0.2.2/32:8080\n"
			   "deny-host-addresses = yes\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, "--deny", "192.0.2.0/24 udp",
			       "--deny-host-addresses", NULL), 0);
	assert_int_equal(c.policy.nrules, 3);
	assert_true(c.policy.deny_link_local);
	assert_true(c.policy.deny_host_addrs);
	assert_int_equal(c.nlinks, 1);
	assert_int_equal(c.links[0].policy.nrules, 1);
	assert_true(c.links[0].policy.deny_host_addrs);
	assert_false(c.links[0].policy.deny_link_local);
	unlink(path);
}

static void test_policy_bad_rules_name_file_and_line(void **state)
{
	char path[PATH_MAX], err[512], want[PATH_MAX + 64];
	enum config_action a;
	struct config c;

	(void)state;
	tmpfile_with(path, "[policy]\ndeny = 10.0.0.0/8\ndeny = 10.0.0.0/33\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), -1);
	snprintf(want, sizeof(want), "%s:3: deny: ", path);
	assert_memory_equal(err, want, strlen(want));
	unlink(path);
	tmpfile_with(path, "[link]\ndeny = 1.2.3.4:70000\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), -1);
	assert_non_null(strstr(err, ":2: deny: "));
	unlink(path);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--deny", "fe80::/10", NULL), -1);
	assert_non_null(strstr(err, "--deny"));
}

static void test_policy_too_many_rules_refused(void **state)
{
	static char text[8192];
	char path[PATH_MAX], err[512];
	enum config_action a;
	struct config c;
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "[policy]\n");
	for (int i = 0; i <= POLICY_MAX_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "deny = 10.%d.0.0/16\n", i);
	tmpfile_with(path, text);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), -1);
	assert_non_null(strstr(err, ":66: deny: at most 64 deny rules"));
	unlink(path);
}

/* Finding 5: the three limits, their ranges and defaults (off) */
static void test_resource_limit_keys(void **state)
{
	char path[PATH_MAX], err[512];
	enum config_action a;
	struct config c;

	(void)state;
	assert_int_equal(parse(&c, &a, err, sizeof(err), NULL), 0);
	assert_int_equal(c.idle_timeout_s, 0);
	assert_int_equal(c.max_per_dest, 0);
	assert_int_equal(c.max_sock_mem, 0);
	tmpfile_with(path, "[tcp]\nidle-timeout = 300\nmax-per-destination = 100\n"
			   "max-socket-memory = 64\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), 0);
	assert_int_equal(c.idle_timeout_s, 300);
	assert_int_equal(c.max_per_dest, 100);
	assert_int_equal(c.max_sock_mem, 64ull << 20);
	unlink(path);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--idle-timeout", "5",
			       "--max-per-destination", "2", "--max-socket-memory", "1", NULL), 0);
	assert_int_equal(c.idle_timeout_s, 5);
	assert_int_equal(c.max_per_dest, 2);
	assert_int_equal(c.max_sock_mem, 1ull << 20);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--idle-timeout", "604801", NULL), -1);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--idle-timeout", "-1", NULL), -1);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--max-per-destination", "x", NULL), -1);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--max-socket-memory", "1048577", NULL),
			 -1);
}

/* The shipped conf/tapird.conf: valid as shipped, and every "#key = value" line in it is the
 * real default (uncommenting them all must change nothing). */
static void test_shipped_conf_documents_the_defaults(void **state)
{
	char conf[PATH_MAX], path[PATH_MAX], err[512], line[512];
	static char text[32768];
	struct config c, d;
	size_t used = 0;
	const char *tail;
	static const char *const keys[] = {
		"netns", "pid", "ifname", "address", "gateway", "dns", "mtu", "configure",
		"dhcp", "control", "control-group", "admin-group", "log-level", "time-wait", "max-flows",
		"max-half-open", "host-loopback", "upstream", "timeout", "timeout-stream",
		"deny", "deny-link-local", "deny-host-addresses", "idle-timeout",
		"max-per-destination", "max-socket-memory", "user", "seccomp", "busy-poll",
	};
	unsigned int uncommented = 0, documented = 0, i;
	FILE *f;

	/* __FILE__ is .../tests/unit/test_config.c; the file is .../conf/tapird.conf */
	tail = strstr(__FILE__, "tests/unit/test_config.c");
	if (!tail || (size_t)(tail - __FILE__) + 20 > sizeof(conf))
		skip();
	snprintf(conf, sizeof(conf), "%.*sconf/tapird.conf", (int)(tail - __FILE__), __FILE__);
	f = fopen(conf, "r");
	if (!f) {
		print_message("skipped: %s not found from __FILE__\n", conf);
		skip();
	}
	config_defaults(&c);
	config_defaults(&d);
	assert_int_equal(config_load_file(&c, conf, err, sizeof(err)), 0);
	memset(c.config_path, 0, sizeof(c.config_path));
	assert_memory_equal(&c, &d, sizeof(c));

	while (fgets(line, sizeof(line), f)) {
		const char *p = line;

		/* "#key = value" (no blank after '#') is a default; "# text" is prose, and
		 * "#   key = example" documents a key that has no default */
		if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z') {
			p = line + 1;
			uncommented++;
		}
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			char d1[64], d2[64];

			snprintf(d1, sizeof(d1), "#%s =", keys[i]);
			snprintf(d2, sizeof(d2), "#   %s =", keys[i]);
			if (!strncmp(line, d1, strlen(d1)) || !strncmp(line, d2, strlen(d2)))
				documented |= 1u << i;
		}
		assert_true(used + strlen(p) < sizeof(text));
		memcpy(text + used, p, strlen(p));
		used += strlen(p);
	}
	text[used] = '\0';
	fclose(f);
	/* at least every key listed above but the four without a default (netns, pid, deny,
	 * upstream), max-flows twice */
	assert_true(uncommented >= 24);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (!(documented & (1u << i)))
			fail_msg("key %s is not documented in %s", keys[i], conf);
	}
	tmpfile_with(path, text);
	if (config_load_file(&c, path, err, sizeof(err)))
		fail_msg("uncommented defaults refused: %s", err);
	memset(c.config_path, 0, sizeof(c.config_path));
	assert_memory_equal(&c, &d, sizeof(c));
	unlink(path);
}

static void test_log_level_names(void **state)
{
	assert_int_equal(log_level_parse("error"), LOG_LVL_ERROR);
	assert_int_equal(log_level_parse("warn"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("warning"), LOG_LVL_WARN);
	assert_int_equal(log_level_parse("Info"), LOG_LVL_INFO);
	assert_int_equal(log_level_parse("debug"), LOG_LVL_DEBUG);
	assert_int_equal(log_level_parse("trace"), -1);
	assert_string_equal(log_level_name(LOG_LVL_WARN), "warn");
	assert_string_equal(log_level_name(42), "?");
}

/* capture-dir: absolute only; where it may be is checked when a capture starts (capture.c) */
static void test_capture_dir(void **state)
{
	enum config_action action;
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_string_equal(c.capture_dir, "/var/lib/tapird/captures");
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--netns", "c1", "--capture-dir",
			       "/srv/caps", NULL),
			 0);
	assert_string_equal(c.capture_dir, "/srv/caps");
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--netns", "c1", "--capture-dir",
			       "caps", NULL),
			 -1);
	assert_non_null(strstr(err, "--capture-dir: \"caps\" is not an absolute path"));
}

/* busy-poll: the default, the key, the flag, the bound */
static void test_busy_poll(void **state)
{
	char path[PATH_MAX], err[256];
	enum config_action a;
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_int_equal(c.busy_poll_us, CONFIG_DEFAULT_BUSY_POLL_US);
	tmpfile_with(path, "[daemon]\nbusy-poll = 0\n");
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, NULL), 0);
	assert_int_equal(c.busy_poll_us, 0);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "-c", path, "--busy-poll", "200", NULL), 0);
	assert_int_equal(c.busy_poll_us, 200); /* the flag overrides the file */
	unlink(path);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--busy-poll", "10000", NULL), 0);
	assert_int_equal(c.busy_poll_us, 10000);
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--busy-poll", "10001", NULL), -1);
	assert_non_null(strstr(err, "--busy-poll"));
	assert_int_equal(parse(&c, &a, err, sizeof(err), "--busy-poll", "fast", NULL), -1);
	assert_non_null(strstr(err, "--busy-poll"));
}

/* user and seccomp (privilege separation): names, defaults, bad values */
static void test_user_and_seccomp(void **state)
{
	enum config_action action;
	struct config c;
	char err[256];

	config_defaults(&c);
	assert_string_equal(c.user, "tapird");
	assert_int_equal(c.seccomp, SANDBOX_SECCOMP_KILL);
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--user", "nobody", "--seccomp",
			       "log", NULL),
			 0);
	assert_string_equal(c.user, "nobody");
	assert_int_equal(c.seccomp, SANDBOX_SECCOMP_LOG);
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--seccomp", "trap", NULL), -1);
	assert_non_null(strstr(err, "--seccomp: \"trap\" is not kill, log or off"));
	assert_int_equal(parse(&c, &action, err, sizeof(err), "--user", "a/b", NULL), -1);
	assert_non_null(strstr(err, "is not a user name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_and_seccomp),
		cmocka_unit_test(test_busy_poll),
		cmocka_unit_test(test_defaults_are_design_md),
		cmocka_unit_test(test_args_every_option),
		cmocka_unit_test(test_args_long_foreground_and_equals_form),
		cmocka_unit_test(test_args_netns_name_means_run_netns),
		cmocka_unit_test(test_args_pid),
		cmocka_unit_test(test_args_mtu_bounds),
		cmocka_unit_test(test_args_bad_values_name_option_and_value),
		cmocka_unit_test(test_args_good_dns_upstream_forms),
		cmocka_unit_test(test_args_no_namespace_means_no_link),
		cmocka_unit_test(test_args_netns_and_pid_refused),
		cmocka_unit_test(test_args_unknown_missing_and_extra),
		cmocka_unit_test(test_args_cross_checks),
		cmocka_unit_test(test_args_help_and_version),
		cmocka_unit_test(test_outbound_addr6_flag_and_key),
		cmocka_unit_test(test_file_every_key),
		cmocka_unit_test(test_file_named_links),
		cmocka_unit_test(test_file_named_link_errors),
		cmocka_unit_test(test_file_errors_name_file_and_line),
		cmocka_unit_test(test_file_line_too_long_refused),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_args_override_file),
		cmocka_unit_test(test_args_bad_file_refused),
		cmocka_unit_test(test_shipped_conf_documents_the_defaults),
		cmocka_unit_test(test_policy_keys_file_and_flags),
		cmocka_unit_test(test_policy_bad_rules_name_file_and_line),
		cmocka_unit_test(test_policy_too_many_rules_refused),
		cmocka_unit_test(test_resource_limit_keys),
		cmocka_unit_test(test_log_level_names),
		cmocka_unit_test(test_capture_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
