/* tcp6_wrap.h - run an IPv4 TCP test file again over IPv6 (issue 13). Include it, define
 * TCP6_SKIP as a NULL-terminated list of test names, then include the test file: its
 * cmocka_run_group_tests() runs every test but those, with frames.c's fr_v6 mode on (IPv6
 * segments built and parsed, addresses mapped, the fixture's MTU 20 bytes larger so that
 * the MSS is the same). The tests skipped name IPv4 itself: ICMP (not ICMPv6) errors, the
 * IPv4 4-tuple in flow_lookup(), active opens (port forwards reach the container over IPv4
 * only so far), MSS figures computed from the MTU with 40 bytes of headers. */
#ifndef TAPIR_TCP6_WRAP_H
#define TAPIR_TCP6_WRAP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frames.h"

/**
 * tcp6_run() - run @n tests of @tests minus those named in @skip, over IPv6
 * @name:	the group's name
 * @tests:	the tests
 * @n:		how many
 * @skip:	names not to run (NULL-terminated)
 * @setup:	group setup
 * @teardown:	group teardown
 * Return: cmocka's result
 */
static inline int tcp6_run(const char *name, const struct CMUnitTest *tests, size_t n,
			   const char *const *skip, CMFixtureFunction setup,
			   CMFixtureFunction teardown)
{
	struct CMUnitTest *keep = calloc(n, sizeof(*keep));
	size_t k = 0;
	int rc;

	assert_non_null(keep);
	for (size_t i = 0; i < n; i++) {
		bool out = false;

		for (size_t j = 0; skip[j]; j++)
			out |= !strcmp(skip[j], tests[i].name);
		if (!out)
			keep[k++] = tests[i];
	}
	fr_v6 = true;
	rc = _cmocka_run_group_tests(name, keep, k, setup, teardown);
	free(keep);
	return rc;
}

#undef cmocka_run_group_tests
#define cmocka_run_group_tests(group, setup, teardown)                                       \
	tcp6_run(#group, group, sizeof(group) / sizeof((group)[0]), tcp6_skip, setup, teardown)

#endif
