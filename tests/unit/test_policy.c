/* test_policy.c - deny rules (daemon/policy.c): parsing hostile text, matching, bounds, and
 * the host-address switch. Issue 14, finding 4. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "reach.h"

/**
 * denied() - does @p deny @addr:@port over @proto (no host addresses)?
 * @p:		the policy
 * @addr:	dotted quad
 * @port:	port
 * @proto:	POLICY_TCP or POLICY_UDP
 * @why:	the rule that matched, out (may be NULL)
 * Return: true if denied
 */
static bool denied(const struct policy *p, const char *addr, uint16_t port, int proto,
		   char *why)
{
	char buf[POLICY_RULE_TEXT];
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	return policy_check(p, NULL, AF_INET, &a, port, proto, why ? why : buf, POLICY_RULE_TEXT);
}

/**
 * parse_fmt() - parse @text and format it back
 * @text:	the rule
 * @out:	its canonical text
 * Return: policy_rule_parse()'s result
 */
static int parse_fmt(const char *text, char *out)
{
	struct policy_rule r;
	char why[128];

	if (policy_rule_parse(text, &r, why, sizeof(why)))
		return -1;
	policy_rule_format(&r, out, POLICY_RULE_TEXT);
	return 0;
}

static void test_rule_forms_parse_and_format_canonically(void **state)
{
	static const char *const cases[][2] = {
		{ "10.0.0.0/8", "10.0.0.0/8 any" },
		{ "169.254.169.254", "169.254.169.254/32 any" },
		{ "  10.0.2.2/32:22   tcp ", "10.0.2.2/32:22 tcp" },
		{ "192.168.0.0/16:5000-5999 udp", "192.168.0.0/16:5000-5999 udp" },
		{ "0.0.0.0/0 any", "0.0.0.0/0 any" },
		{ "1.2.3.4/32:65535", "1.2.3.4/32:65535 any" },
		{ "1.2.3.4:1-65535\ttcp", "1.2.3.4/32:1-65535 tcp" },
	};
	char out[POLICY_RULE_TEXT], again[POLICY_RULE_TEXT];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse_fmt(cases[i][0], out))
			fail_msg("\"%s\" refused", cases[i][0]);
		assert_string_equal(out, cases[i][1]);
		assert_int_equal(parse_fmt(out, again), 0); /* the canonical form reads back */
		assert_string_equal(again, out);
	}
}

static void test_rule_hostile_text_refused(void **state)
{
	static const char *const bad[] = {
		"", " ", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.0/008",
		"10.0.0.1/8", /* host bits set */
		"256.0.0.0/8", "10.0.0", "10.0.0.0.0", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:99999999999", "1.2.3.4:-1", "1.2.3.4:+80", "1.2.3.4:80-", "1.2.3.4:-80",
		"1.2.3.4:90-80", "1.2.3.4:80-90-100", "1.2.3.4:", "1.2.3.4/32:80 icmp",
		"1.2.3.4 tcp udp", "1.2.3.4:80/32", "::1", "[::1]:80", "fd00::/8",
		"1.2.3.4\n", "1.2.3.4:8\x7f", "-1.2.3.4", "0x01.2.3.4", "1.2.3.4/ 8",
		"tcp", "/8", ":80",
		/* longer than a rule can be */
		"1.2.3.4/32:80                                                                 tcp",
	};
	struct policy_rule r;
	char why[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(why, 0, sizeof(why));
		if (!policy_rule_parse(bad[i], &r, why, sizeof(why)))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_true(why[0] != '\0'); /* says why */
	}
	assert_int_equal(policy_rule_parse(NULL, &r, why, sizeof(why)), -1);
}

static void test_rule_matches_prefix_port_and_protocol(void **state)
{
	struct policy p = { .nrules = 0 };
	char why[128];

	(void)state;
	assert_int_equal(policy_add(&p, "10.0.2.2/32:8000-8080 tcp", why, sizeof(why)), 0);
	assert_int_equal(policy_add(&p, "192.168.0.0/16 udp", why, sizeof(why)), 0);
	assert_true(denied(&p, "10.0.2.2", 8000, POLICY_TCP, why));
	assert_string_equal(why, "10.0.2.2/32:8000-8080 tcp");
	assert_true(denied(&p, "10.0.2.2", 8080, POLICY_TCP, NULL));
	assert_false(denied(&p, "10.0.2.2", 7999, POLICY_TCP, NULL));
	assert_false(denied(&p, "10.0.2.2", 8081, POLICY_TCP, NULL));
	assert_false(denied(&p, "10.0.2.2", 8000, POLICY_UDP, NULL)); /* tcp only */
	assert_false(denied(&p, "10.0.2.3", 8000, POLICY_TCP, NULL));
	assert_true(denied(&p, "192.168.255.1", 53, POLICY_UDP, NULL));
	assert_false(denied(&p, "192.168.255.1", 53, POLICY_TCP, NULL));
	assert_false(denied(&p, "192.169.0.1", 53, POLICY_UDP, NULL));
}

static void test_rule_zero_prefix_matches_everything(void **state)
{
	struct policy p = { .nrules = 0 };
	char why[128];

	(void)state;
	assert_int_equal(policy_add(&p, "0.0.0.0/0:443", why, sizeof(why)), 0);
	assert_true(denied(&p, "1.1.1.1", 443, POLICY_TCP, NULL));
	assert_true(denied(&p, "255.255.255.255", 443, POLICY_UDP, NULL));
	assert_false(denied(&p, "1.1.1.1", 80, POLICY_TCP, NULL));
}

static void test_empty_policy_denies_nothing(void **state)
{
	struct policy p = { .nrules = 0 };

	(void)state;
	assert_false(denied(&p, "169.254.169.254", 80, POLICY_TCP, NULL));
	assert_false(denied(NULL, "169.254.169.254", 80, POLICY_TCP, NULL));
}

static void test_deny_link_local_one_switch(void **state)
{
	struct policy p = { .deny_link_local = true };
	char why[128];

	(void)state;
	assert_true(denied(&p, "169.254.169.254", 80, POLICY_TCP, why));
	assert_string_equal(why, "deny-link-local");
	assert_true(denied(&p, "169.254.0.1", 53, POLICY_UDP, NULL));
	assert_true(denied(&p, "169.254.255.255", 1, POLICY_TCP, NULL));
	assert_false(denied(&p, "169.253.255.255", 80, POLICY_TCP, NULL));
	assert_false(denied(&p, "169.255.0.0", 80, POLICY_TCP, NULL));
}

static void test_deny_host_addresses_uses_the_given_list(void **state)
{
	struct policy p = { .deny_host_addrs = true };
	struct policy_host h = { .n = 2 };
	struct in_addr a;
	char why[128];

	(void)state;
	inet_pton(AF_INET, "192.0.2.7", &h.addr[0]);
	inet_pton(AF_INET, "198.51.100.1", &h.addr[1]);
	inet_pton(AF_INET, "198.51.100.1", &a);
	assert_true(policy_check(&p, &h, AF_INET, &a, 22, POLICY_TCP, why, sizeof(why)));
	assert_string_equal(why, "deny-host-addresses");
	inet_pton(AF_INET, "198.51.100.2", &a);
	assert_false(policy_check(&p, &h, AF_INET, &a, 22, POLICY_TCP, why, sizeof(why)));
	/* the switch off: the list does not matter */
	p.deny_host_addrs = false;
	inet_pton(AF_INET, "192.0.2.7", &a);
	assert_false(policy_check(&p, &h, AF_INET, &a, 22, POLICY_TCP, why, sizeof(why)));
}

static void test_host_addresses_read_skip_loopback(void **state)
{
	struct policy_host h;

	(void)state;
	assert_int_equal(policy_host_read(&h), 0);
	assert_true(h.n <= POLICY_HOST_ADDRS_MAX);
	for (unsigned int i = 0; i < h.n; i++)
		assert_int_not_equal(ntohl(h.addr[i]) >> 24, 127);
	/* the cache answers the same list */
	assert_int_equal(policy_host_get(1000)->n, h.n);
}

static void test_rule_table_bounded(void **state)
{
	struct policy p = { .nrules = 0 };
	char rule[64], why[128];

	(void)state;
	for (int i = 0; i < POLICY_MAX_RULES; i++) {
		snprintf(rule, sizeof(rule), "10.1.%d.0/24", i);
		assert_int_equal(policy_add(&p, rule, why, sizeof(why)), 0);
	}
	assert_int_equal(p.nrules, POLICY_MAX_RULES);
	assert_int_equal(policy_add(&p, "10.2.0.0/16", why, sizeof(why)), -2);
	assert_non_null(strstr(why, "at most 64"));
	assert_int_equal(p.nrules, POLICY_MAX_RULES);
	/* a rule already there is no new entry, even when full */
	assert_int_equal(policy_add(&p, "10.1.0.0/24 any", why, sizeof(why)), 0);
	assert_int_equal(p.nrules, POLICY_MAX_RULES);
}

static void test_remove_exact_rule_only(void **state)
{
	struct policy p = { .nrules = 0 };
	char why[128];

	(void)state;
	assert_int_equal(policy_add(&p, "10.0.0.0/8", why, sizeof(why)), 0);
	assert_int_equal(policy_add(&p, "10.0.0.0/8 tcp", why, sizeof(why)), 0);
	assert_int_equal(policy_add(&p, "10.0.0.0/8", why, sizeof(why)), 0); /* duplicate */
	assert_int_equal(p.nrules, 2);
	assert_int_equal(policy_remove(&p, "10.0.0.0/8 udp", why, sizeof(why)), -2);
	assert_non_null(strstr(why, "no rule 10.0.0.0/8 udp"));
	assert_int_equal(policy_remove(&p, "10.0.0.0/33", why, sizeof(why)), -1);
	assert_int_equal(policy_remove(&p, "10.0.0.0/8 any", why, sizeof(why)), 0);
	assert_int_equal(p.nrules, 1);
	assert_true(denied(&p, "10.9.9.9", 1, POLICY_TCP, NULL));
	assert_false(denied(&p, "10.9.9.9", 1, POLICY_UDP, NULL));
}

static void test_ipv6_destination_not_matched_by_ipv4_rules(void **state)
{
	struct policy p = { .deny_link_local = true };
	uint8_t a6[16] = { 0xfe, 0x80 };
	char why[128];

	(void)state;
	assert_int_equal(policy_add(&p, "0.0.0.0/0", why, sizeof(why)), 0);
	assert_false(policy_check(&p, NULL, AF_INET6, a6, 80, POLICY_TCP, why, sizeof(why)));
}

/* Finding 5: the socket memory budget. Off (0), or room for every socket at its largest:
 * sockets keep autotuning; beyond, each new one gets budget / live, a quarter per setsockopt
 * (the kernel doubles it, two directions), never below REACH_SOCKBUF_MIN per direction. */
static void test_sockbuf_share_within_budget(void **state)
{
	const uint64_t mib = 1u << 20, max = 10 * mib;

	(void)state;
	assert_int_equal(reach_sockbuf_share(0, 100000, max), 0);
	assert_int_equal(reach_sockbuf_share(100 * mib, 10, max), 0);
	assert_int_equal(reach_sockbuf_share(100 * mib, 0, max), 0);
	/* 11 sockets at 10 MiB would not fit 100 MiB: 100/11 MiB each */
	assert_int_equal(reach_sockbuf_share(100 * mib, 11, max), (int)(100 * mib / 11 / 4));
	/* the sum of what the kernel grants (2 x value, two directions) stays in the budget
	 * until the floor (1600 sockets here) */
	for (uint32_t live = 11; live <= 100 * mib / (2 * REACH_SOCKBUF_MIN); live += 97)
		assert_true((uint64_t)live * 4 * reach_sockbuf_share(100 * mib, live, max) <=
			    100 * mib);
	/* the floor */
	assert_int_equal(reach_sockbuf_share(1 * mib, 1000, max), REACH_SOCKBUF_MIN / 2);
	/* near 2^64 nothing wraps: the value saturates */
	assert_int_equal(reach_sockbuf_share(UINT64_MAX / 2, 1, UINT64_MAX), INT32_MAX);
	assert_int_equal(reach_sockbuf_share(UINT64_MAX, UINT32_MAX, UINT64_MAX),
			 (int)(UINT64_MAX / UINT32_MAX / 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_forms_parse_and_format_canonically),
		cmocka_unit_test(test_rule_hostile_text_refused),
		cmocka_unit_test(test_rule_matches_prefix_port_and_protocol),
		cmocka_unit_test(test_rule_zero_prefix_matches_everything),
		cmocka_unit_test(test_empty_policy_denies_nothing),
		cmocka_unit_test(test_deny_link_local_one_switch),
		cmocka_unit_test(test_deny_host_addresses_uses_the_given_list),
		cmocka_unit_test(test_host_addresses_read_skip_loopback),
		cmocka_unit_test(test_rule_table_bounded),
		cmocka_unit_test(test_remove_exact_rule_only),
		cmocka_unit_test(test_ipv6_destination_not_matched_by_ipv4_rules),
		cmocka_unit_test(test_sockbuf_share_within_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
