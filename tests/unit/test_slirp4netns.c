/* test_slirp4netns.c - slirp4netns 1.2's command line (slirp4netns.c): every option, every
 * error and its shape; and the API socket's wording (slirpapi.c) where no link is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "slirp4netns.h"
#include "slirpapi.h"
#include "tapird.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))
#define MAXARGS 32

static struct config cfg;
static struct s4n_opts opts;
static char err[1024];

/**
 * parse() - s4n_parse_args() over a NULL-terminated list of arguments (argv[0] added)
 * Return: its result
 */
static enum s4n_result parse(const char *first, ...)
{
	char *argv[MAXARGS + 2];
	const char *a;
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)"slirp4netns";
	va_start(ap, first);
	for (a = first; a && argc < MAXARGS; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	return s4n_parse_args(&cfg, &opts, argc, argv, err, sizeof(err));
}

static void expect_err(enum s4n_result want, const char *needle, enum s4n_result got)
{
	assert_int_equal(got, want);
	if (!strstr(err, needle))
		fail_msg("message '%s' lacks '%s'", err, needle);
}

static void test_invoked_by_name_or_flag(void **state)
{
	char *a1[] = { (char *)"/usr/local/libexec/tapir/slirp4netns", NULL };
	char *a2[] = { (char *)"slirp4netns", NULL };
	char *a3[] = { (char *)"tapird", (char *)"--slirp4netns-compat", NULL };
	char *a4[] = { (char *)"tapird", (char *)"--netns", NULL };
	char *a5[] = { (char *)"/bin/slirp4netns-real", NULL };

	(void)state;
	assert_int_equal(s4n_is_invoked(1, a1), 1);
	assert_int_equal(s4n_is_invoked(1, a2), 1);
	assert_int_equal(s4n_is_invoked(2, a3), 2);
	assert_int_equal(s4n_is_invoked(2, a4), 0);
	assert_int_equal(s4n_is_invoked(1, a5), 0);
	assert_int_equal(s4n_is_invoked(0, a1), 0);
}

static void test_defaults_are_slirp4netns(void **state)
{
	(void)state;
	assert_int_equal(parse("1234", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.pid, 1234);
	assert_string_equal(cfg.link.ifname, "tap0");
	assert_int_equal(cfg.link.mtu, 1500);
	/* without -c: network + 100 until a DHCP client in the container is leased libslirp's
	 * first address, network + 15 */
	assert_int_equal(cfg.link.addr, IP(10, 0, 2, 100));
	assert_int_equal(cfg.link.dhcp_addr, IP(10, 0, 2, 15));
	assert_false(cfg.link.no_dhcp);
	assert_int_equal(cfg.link.gateway, IP(10, 0, 2, 2));
	assert_int_equal(cfg.link.dns, IP(10, 0, 2, 3));
	assert_int_equal(cfg.link.prefix_len, 24);
	/* without -c the TAP is made, not configured */
	assert_true(cfg.link.no_configure);
	assert_false(cfg.link.no_host_loopback);
	assert_false(cfg.link.no_dns);
	assert_int_equal(cfg.link.outbound_addr, 0);
	assert_false(cfg.link.has_mac);
	assert_true(cfg.link.tap_reuse);
	assert_true(cfg.link.slirp_answers);
	/* a PID: its user namespace is joined too (slirp4netns's nsenter()) */
	assert_string_equal(cfg.link.userns, "/proc/1234/ns/user");
	assert_true(cfg.foreground);
	assert_int_equal(opts.exit_fd, -1);
	assert_int_equal(opts.ready_fd, -1);
	assert_string_equal(opts.api_socket, "");
	assert_false(opts.extra_operands);
}

static void test_podman_command_line(void **state)
{
	(void)state;
	assert_int_equal(parse("--mtu=65520", "--enable-sandbox", "--enable-seccomp",
			       "--enable-ipv6", "-c", "-e", "3", "-r", "4", "--netns-type=path",
			       "/proc/self/ns/net", "tap0", "--disable-host-loopback",
			       "--api-socket", "/tmp/x.sock", NULL),
			 S4N_RUN);
	assert_int_equal(cfg.link.mtu, 65520);
	assert_true(opts.enable_sandbox);
	assert_true(opts.enable_seccomp);
	assert_true(opts.enable_ipv6);
	assert_false(cfg.link.no_configure);
	assert_int_equal(opts.exit_fd, 3);
	assert_int_equal(opts.ready_fd, 4);
	assert_true(opts.netns_type_path);
	assert_string_equal(cfg.link.netns, "/proc/self/ns/net");
	assert_int_equal(cfg.link.pid, 0);
	assert_string_equal(cfg.link.userns, "");
	assert_true(cfg.link.no_host_loopback);
	assert_true(cfg.link.host_loopback_set);
	assert_string_equal(opts.api_socket, "/tmp/x.sock");
}

static void test_short_options(void **state)
{
	(void)state;
	assert_int_equal(parse("-c", "-e3", "-r", "5", "-m", "9000", "-6", "-a", "/tmp/a",
			       "42", "eth0", NULL),
			 S4N_RUN);
	assert_false(cfg.link.no_configure);
	assert_int_equal(opts.exit_fd, 3);
	assert_int_equal(opts.ready_fd, 5);
	assert_int_equal(cfg.link.mtu, 9000);
	assert_true(opts.enable_ipv6);
	assert_string_equal(opts.api_socket, "/tmp/a");
	assert_int_equal(cfg.link.pid, 42);
	assert_string_equal(cfg.link.ifname, "eth0");
	assert_int_equal(parse("--configure", "--exit-fd=7", "--ready-fd=8", "1", "t", NULL),
			 S4N_RUN);
	assert_int_equal(opts.exit_fd, 7);
	assert_int_equal(opts.ready_fd, 8);
}

static void test_cidr_derives_addresses(void **state)
{
	(void)state;
	assert_int_equal(parse("-c", "--cidr=10.10.0.0/16", "1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.addr, IP(10, 10, 0, 100));
	assert_int_equal(cfg.link.gateway, IP(10, 10, 0, 2));
	assert_int_equal(cfg.link.dns, IP(10, 10, 0, 3));
	assert_int_equal(cfg.link.prefix_len, 16);
	assert_int_equal(parse("-c", "--cidr", "192.168.7.128/25", "1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.addr, IP(192, 168, 7, 228));
	assert_int_equal(cfg.link.gateway, IP(192, 168, 7, 130));
	assert_int_equal(cfg.link.prefix_len, 25);
}

static void test_address_is_dhcp_lease_without_configure(void **state)
{
	(void)state;
	/* slirp4netns: -c configures network + 100 and DHCP leases that; without -c the runtime
	 * configures network + 100 itself (rootlesskit) or the container's DHCP client gets
	 * libslirp's first lease, network + 15, whatever the CIDR */
	assert_int_equal(parse("-c", "1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.addr, IP(10, 0, 2, 100));
	assert_int_equal(cfg.link.dhcp_addr, 0);
	assert_int_equal(parse("1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.addr, IP(10, 0, 2, 100));
	assert_int_equal(cfg.link.dhcp_addr, IP(10, 0, 2, 15));
	assert_int_equal(parse("--cidr=10.10.0.0/16", "1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.dhcp_addr, IP(10, 10, 0, 15));
	assert_int_equal(cfg.link.gateway, IP(10, 10, 0, 2));
	assert_int_equal(parse("--cidr", "192.168.7.128/25", "1", "tap0", NULL), S4N_RUN);
	assert_int_equal(cfg.link.addr, IP(192, 168, 7, 228));
	assert_int_equal(cfg.link.dhcp_addr, IP(192, 168, 7, 143));
	assert_false(cfg.link.no_dhcp);
}

static void test_cidr_errors_as_slirp4netns(void **state)
{
	(void)state;
	/* checked after parsing: the message alone, no usage */
	expect_err(S4N_ERR, "invalid CIDR: 10.0.2.0", parse("--cidr=10.0.2.0", "1", "t", NULL));
	expect_err(S4N_ERR, "invalid CIDR: 10.0.2/24", parse("--cidr=10.0.2/24", "1", "t", NULL));
	expect_err(S4N_ERR, "invalid CIDR: 10.0.2.0/123",
		   parse("--cidr=10.0.2.0/123", "1", "t", NULL));
	expect_err(S4N_ERR, "invalid CIDR: a.b.c.d/24", parse("--cidr=a.b.c.d/24", "1", "t", NULL));
	expect_err(S4N_ERR, "invalid network address: 10.0.2.300",
		   parse("--cidr=10.0.2.300/24", "1", "t", NULL));
	expect_err(S4N_ERR, "prefix length needs to be 1-25",
		   parse("--cidr=10.0.2.0/26", "1", "t", NULL));
	expect_err(S4N_ERR, "prefix length needs to be 1-25",
		   parse("--cidr=10.0.0.0/0", "1", "t", NULL));
	expect_err(S4N_ERR, "CIDR needs to be a network address like 10.0.2.0/24, not like"
			    " 10.0.2.100/24",
		   parse("--cidr=10.0.2.100/24", "1", "t", NULL));
}

static void test_fd_and_mtu_errors(void **state)
{
	(void)state;
	expect_err(S4N_ERR_USAGE, "exit-fd must be a non-negative integer",
		   parse("-e", "x", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "exit-fd must be a non-negative integer",
		   parse("-e", "-1", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "ready-fd must be a non-negative integer",
		   parse("-r", "3x", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "MTU must be a positive integer (< 65522)",
		   parse("--mtu=65522", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "MTU must be a positive integer (< 65522)",
		   parse("--mtu=0", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "MTU must be a positive integer (< 65522)",
		   parse("-m", "", "1", "t", NULL));
	/* tapir's own floor */
	expect_err(S4N_ERR_USAGE, "at least 576", parse("--mtu=575", "1", "t", NULL));
	assert_int_equal(parse("--mtu=65521", "1", "t", NULL), S4N_RUN);
	assert_int_equal(parse("--mtu=576", "1", "t", NULL), S4N_RUN);
}

static void test_operand_errors(void **state)
{
	(void)state;
	/* slirp4netns 1.2 needs PID and TAPNAME: usage alone */
	expect_err(S4N_ERR_USAGE, "", parse("1234", NULL));
	assert_string_equal(err, "");
	expect_err(S4N_ERR_USAGE, "", parse(NULL));
	expect_err(S4N_ERR_USAGE, "PID must be a positive integer", parse("0", "t", NULL));
	expect_err(S4N_ERR_USAGE, "PID must be a positive integer", parse("abc", "t", NULL));
	expect_err(S4N_ERR_USAGE, "PID must be a positive integer",
		   parse("--netns-type=pid", "/proc/1/ns/net", "t", NULL));
	expect_err(S4N_ERR_USAGE, "existing path expected when --netns-type=path: No such file",
		   parse("--netns-type=path", "/nonexistent/tcm-ns", "t", NULL));
	expect_err(S4N_ERR_USAGE, "not a valid interface name",
		   parse("1", "abcdefghijklmnopq", NULL));
	/* more operands: a warning, not an error */
	assert_int_equal(parse("1", "t", "extra", NULL), S4N_RUN);
	assert_true(opts.extra_operands);
	/* any --netns-type other than "pid" means a path, as in slirp4netns */
	assert_int_equal(parse("--netns-type=other", "/proc/self/ns/net", "t", NULL), S4N_RUN);
	assert_string_equal(cfg.link.netns, "/proc/self/ns/net");
}

static void test_unknown_option_and_missing_argument(void **state)
{
	(void)state;
	/* getopt printed the reason; the caller prints the usage */
	expect_err(S4N_ERR_USAGE, "", parse("--no-such-option", "1", "t", NULL));
	assert_string_equal(err, "");
	expect_err(S4N_ERR_USAGE, "", parse("-x", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "", parse("1", "t", "--mtu", NULL));
}

static void test_userns_path(void **state)
{
	(void)state;
	assert_int_equal(parse("--userns-path=/proc/self/ns/user", "--netns-type=path",
			       "/proc/self/ns/net", "tap0", NULL),
			 S4N_RUN);
	assert_string_equal(cfg.link.userns, "/proc/self/ns/user");
	/* given with a PID, it wins over the PID's own */
	assert_int_equal(parse("--userns-path=/proc/self/ns/user", "7", "tap0", NULL), S4N_RUN);
	assert_string_equal(cfg.link.userns, "/proc/self/ns/user");
	expect_err(S4N_ERR_USAGE, "userns path doesn't exist: /nonexistent/tcm-user",
		   parse("--userns-path=/nonexistent/tcm-user", "1", "t", NULL));
}

static void test_flags(void **state)
{
	(void)state;
	assert_int_equal(parse("--disable-dns", "--no-host-loopback", "--create-sandbox", "1",
			       "t", NULL),
			 S4N_RUN);
	assert_true(cfg.link.no_dns);
	assert_true(cfg.link.no_host_loopback);
	assert_true(opts.enable_sandbox);
	assert_false(opts.enable_seccomp);
	assert_int_equal(parse("--outbound-addr6=fd00::1", "--target-type=netns", "1", "t", NULL),
			 S4N_RUN);
	assert_string_equal(opts.outbound_addr6, "fd00::1");
}

static void test_outbound_addr6(void **state)
{
	static const uint8_t want[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 }, lo[16] = { [15] = 1 };

	(void)state;
	/* the address itself (whether the host has it is checked at attach: link.c) */
	assert_int_equal(parse("--outbound-addr6=2001:db8::7", "-6", "1", "t", NULL), S4N_RUN);
	assert_true(cfg.link.has_outbound6);
	assert_memory_equal(cfg.link.outbound_addr6, want, 16);
	/* an interface name: its IPv6 address (lo has ::1 wherever IPv6 is on) */
	if (parse("--outbound-addr6=lo", "-6", "1", "t", NULL) == S4N_RUN) {
		assert_true(cfg.link.has_outbound6);
		assert_memory_equal(cfg.link.outbound_addr6, lo, 16);
	}
	expect_err(S4N_ERR, "outbound-addr6 has to be valid ipv6 address or interface name.",
		   parse("--outbound-addr6=tcm-noif0", "-6", "1", "t", NULL));
	expect_err(S4N_ERR, "outbound-addr6: \"ff02::1\": a multicast address is no source",
		   parse("--outbound-addr6=ff02::1", "-6", "1", "t", NULL));
	expect_err(S4N_ERR, "link-local address needs an interface",
		   parse("--outbound-addr6=fe80::1", "-6", "1", "t", NULL));
	/* none given: none set */
	assert_int_equal(parse("-6", "1", "t", NULL), S4N_RUN);
	assert_false(cfg.link.has_outbound6);
}

static void test_outbound_addr(void **state)
{
	(void)state;
	assert_int_equal(parse("--outbound-addr=192.0.2.7", "1", "t", NULL), S4N_RUN);
	assert_int_equal(cfg.link.outbound_addr, IP(192, 0, 2, 7));
	/* an interface name: its IPv4 address */
	assert_int_equal(parse("--outbound-addr=lo", "1", "t", NULL), S4N_RUN);
	assert_int_equal(cfg.link.outbound_addr, IP(127, 0, 0, 1));
	expect_err(S4N_ERR, "outbound-addr has to be valid ipv4 address or interface name.",
		   parse("--outbound-addr=tcm-noif0", "1", "t", NULL));
}

static void test_macaddress(void **state)
{
	(void)state;
	assert_int_equal(parse("--macaddress=02:00:0a:0B:c:ff", "-c", "1", "t", NULL), S4N_RUN);
	assert_true(cfg.link.has_mac);
	assert_memory_equal(cfg.link.mac, "\x02\x00\x0a\x0b\x0c\xff", 6);
	expect_err(S4N_ERR_USAGE, "--macaddr cannot be specified when --configure or -c is not"
				  " specified",
		   parse("--macaddress=02:00:00:00:00:01", "1", "t", NULL));
	expect_err(S4N_ERR, "\"02:00:00\" is an invalid MAC address.",
		   parse("-c", "--macaddress=02:00:00", "1", "t", NULL));
	expect_err(S4N_ERR, "is an invalid MAC address",
		   parse("-c", "--macaddress=02:00:00:00:00:01:02", "1", "t", NULL));
	expect_err(S4N_ERR, "is an invalid MAC address",
		   parse("-c", "--macaddress=02:00:00:00:00:100", "1", "t", NULL));
	expect_err(S4N_ERR, "is an invalid MAC address",
		   parse("-c", "--macaddress=zz:00:00:00:00:01", "1", "t", NULL));
}

static void test_target_type(void **state)
{
	(void)state;
	expect_err(S4N_ERR_USAGE, "--target-type must be either \"netns\" or \"bess\"",
		   parse("--target-type=foo", "1", "t", NULL));
	expect_err(S4N_ERR_USAGE, "--target-type=bess is not supported by tapird",
		   parse("--target-type=bess", "/tmp/bess.sock", NULL));
}

static void test_help_and_version(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	static const char *const probed[] = { "--netns-type", "--userns-path",
					      "--enable-sandbox", "--enable-seccomp",
					      "--disable-host-loopback", "--mtu", "--api-socket",
					      "--cidr", "--outbound-addr", "--disable-dns",
					      "--enable-ipv6", "--macaddress", "--target-type",
					      "--configure", "--exit-fd", "--ready-fd" };

	(void)state;
	assert_int_equal(parse("-h", NULL), S4N_HELP);
	assert_int_equal(parse("--version", NULL), S4N_VERSION_OUT);
	/* -h wins even with a bad operand list: it exits at once, as in slirp4netns */
	assert_int_equal(parse("--help", "x", NULL), S4N_HELP);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	s4n_usage(f, "slirp4netns");
	fclose(f);
	assert_true(strncmp(buf, "Usage: slirp4netns [OPTION]... PID|PATH [TAPNAME]\n", 50) == 0);
	for (size_t i = 0; i < sizeof(probed) / sizeof(probed[0]); i++)
		if (!strstr(buf, probed[i]))
			fail_msg("--help lacks %s", probed[i]);
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	s4n_version(f, "9.9");
	fclose(f);
	assert_true(strncmp(buf, "slirp4netns version 1.2.", 24) == 0);
	assert_non_null(strstr(buf, "tapird 9.9"));
	/* upstream's tests grep it and need >= 3 */
	assert_non_null(strstr(buf, "\nSLIRP_CONFIG_VERSION_MAX: 4\n"));
	free(buf);
}

static void test_control_path(void **state)
{
	char p[108];

	(void)state;
	assert_int_equal(s4n_control_path(p, sizeof(p), 0, "/run/user/0", 42), 0);
	assert_string_equal(p, "/run/tapird/slirp4netns-42.sock");
	assert_int_equal(s4n_control_path(p, sizeof(p), 1000, "/run/user/1000", 7), 0);
	assert_string_equal(p, "/run/user/1000/tapird/slirp4netns-7.sock");
	assert_int_equal(s4n_control_path(p, sizeof(p), 1000, NULL, 7), 0);
	assert_string_equal(p, "/run/user/1000/tapird/slirp4netns-7.sock");
	/* a relative XDG_RUNTIME_DIR is ignored, as the XDG spec says */
	assert_int_equal(s4n_control_path(p, sizeof(p), 1001, "tmp", 7), 0);
	assert_string_equal(p, "/run/user/1001/tapird/slirp4netns-7.sock");
	assert_int_equal(s4n_control_path(p, 20, 1001, NULL, 7), -1);
}

static void test_host_uid_through_uid_map(void **state)
{
	(void)state;
	/* the initial namespace */
	assert_int_equal(s4n_host_uid("         0          0 4294967295\n", 0), 0);
	assert_int_equal(s4n_host_uid("         0          0 4294967295\n", 1000), 1000);
	/* rootless podman: 0 is the user, 1.. the subordinate ids */
	assert_int_equal(s4n_host_uid("0 1000 1\n1 100000 65536\n", 0), 1000);
	assert_int_equal(s4n_host_uid("0 1000 1\n1 100000 65536\n", 5), 100004);
	/* unmapped, empty or unreadable: as given */
	assert_int_equal(s4n_host_uid("0 1000 1\n", 7), 7);
	assert_int_equal(s4n_host_uid("", 0), 0);
	assert_int_equal(s4n_host_uid(NULL, 3), 3);
}

/* --- the API socket's wording (no link attached: what does not need one) ------------------ */

/* slirp4netns's error answer around @desc */
#define ERR(desc) "{\"error\":{\"desc\":\"" desc "\"}}"

static void expect_answer(const char *req, const char *want)
{
	static struct tapird d;
	char *a = slirpapi_answer(&d, NULL, req, strlen(req));

	assert_non_null(a);
	if (strcmp(a, want))
		fail_msg("%s\n  answered %s\n  expected %s", req, a, want);
	free(a);
}

static void test_api_envelope_errors(void **state)
{
	(void)state;
	expect_answer("{", ERR("bad request: cannot parse JSON"));
	expect_answer("", ERR("bad request: cannot parse JSON"));
	expect_answer("[1]", ERR("bad request: json_object() failed"));
	expect_answer("{}", ERR("bad request: no execute found"));
	expect_answer("{\"execute\": 1}", ERR("bad request: no execute found"));
	expect_answer("{\"execute\": \"nope\"}",
		      ERR("bad request: unknown execute"));
}

static void test_api_add_argument_errors(void **state)
{
	(void)state;
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"sctp\"}}",
		      ERR("bad request: add_hostfwd: bad arguments.proto"));
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{}}",
		      ERR("bad request: add_hostfwd: bad arguments.proto"));
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
		      "\"host_addr\":\"1.2.3\",\"host_port\":8080,\"guest_port\":80}}",
		      ERR("bad request: add_hostfwd: bad arguments.host_addr"));
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
		      "\"guest_port\":80}}",
		      ERR("bad request: add_hostfwd: bad arguments.host_port"));
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"udp\","
		      "\"host_port\":8080}}",
		      ERR("bad request: add_hostfwd: bad arguments.guest_port"));
	/* every other failure (here: no link to lead into) is slirp4netns's own words */
	expect_answer("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
		      "\"host_port\":8080,\"guest_port\":80}}",
		      ERR("bad request: add_hostfwd: slirp_add_hostfwd failed"));
}

static void test_api_list_and_remove(void **state)
{
	(void)state;
	/* no "return" around the list: slirp4netns writes the object alone */
	expect_answer("{\"execute\":\"list_hostfwd\"}", "{\"entries\":[]}");
	expect_answer("{\"execute\":\"list_hostfwd\",\"arguments\":{}}\n", "{\"entries\":[]}");
	expect_answer("{\"execute\":\"remove_hostfwd\",\"arguments\":{\"id\":5}}",
		      ERR("bad request: remove_hostfwd: bad arguments.id"));
	expect_answer("{\"execute\":\"remove_hostfwd\"}",
		      ERR("bad request: remove_hostfwd: bad arguments.id"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invoked_by_name_or_flag),
		cmocka_unit_test(test_defaults_are_slirp4netns),
		cmocka_unit_test(test_podman_command_line),
		cmocka_unit_test(test_short_options),
		cmocka_unit_test(test_cidr_derives_addresses),
		cmocka_unit_test(test_address_is_dhcp_lease_without_configure),
		cmocka_unit_test(test_cidr_errors_as_slirp4netns),
		cmocka_unit_test(test_fd_and_mtu_errors),
		cmocka_unit_test(test_operand_errors),
		cmocka_unit_test(test_unknown_option_and_missing_argument),
		cmocka_unit_test(test_userns_path),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_outbound_addr),
		cmocka_unit_test(test_outbound_addr6),
		cmocka_unit_test(test_macaddress),
		cmocka_unit_test(test_target_type),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_control_path),
		cmocka_unit_test(test_host_uid_through_uid_map),
		cmocka_unit_test(test_api_envelope_errors),
		cmocka_unit_test(test_api_add_argument_errors),
		cmocka_unit_test(test_api_list_and_remove),
	};

	/* getopt's own messages would clutter the test output */
	opterr = 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
