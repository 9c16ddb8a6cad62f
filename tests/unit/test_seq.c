/* test_seq.c - modular 32-bit sequence arithmetic (RFC 9293 3.4), wrap-around included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "seq.h"

static void test_seq_lt_plain(void **state)
{
	(void)state;
	assert_true(seq_lt(1, 2));
	assert_false(seq_lt(2, 1));
	assert_false(seq_lt(5, 5));
	assert_true(seq_leq(5, 5));
	assert_true(seq_geq(5, 5));
	assert_false(seq_gt(5, 5));
}

static void test_seq_wraparound(void **state)
{
	(void)state;
	/* 0xfffffff0 comes before 0x10: the circle wraps */
	assert_true(seq_lt(0xfffffff0u, 0x10u));
	assert_true(seq_gt(0x10u, 0xfffffff0u));
	assert_true(seq_leq(0xffffffffu, 0u));
	assert_true(seq_geq(0u, 0xffffffffu));
	assert_int_equal(seq_diff(0x10u, 0xfffffff0u), 0x20);
	assert_int_equal(seq_diff(0xfffffff0u, 0x10u), -0x20);
}

static void test_seq_half_circle(void **state)
{
	(void)state;
	/* just under half the circle ahead is "after"; just over is "before" */
	assert_true(seq_gt(0x7fffffffu, 0u));
	assert_true(seq_lt(0x80000001u, 0u));
}

static void test_seq_between_wraps(void **state)
{
	(void)state;
	assert_true(seq_between(5, 5, 10));
	assert_false(seq_between(10, 5, 10));
	assert_false(seq_between(4, 5, 10));
	assert_true(seq_between(0xfffffffeu, 0xfffffff0u, 0x10u));
	assert_true(seq_between(0x5u, 0xfffffff0u, 0x10u));
	assert_false(seq_between(0x10u, 0xfffffff0u, 0x10u));
	assert_false(seq_between(0xffffffefu, 0xfffffff0u, 0x10u));
	/* an empty window holds nothing */
	assert_false(seq_between(7, 7, 7));
}

static void test_seq_min_max_wrap(void **state)
{
	(void)state;
	assert_int_equal(seq_max(0xfffffff0u, 0x10u), 0x10u);
	assert_int_equal(seq_min(0xfffffff0u, 0x10u), 0xfffffff0u);
	assert_int_equal(seq_max(3, 9), 9);
	assert_int_equal(seq_min(3, 9), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_lt_plain),
		cmocka_unit_test(test_seq_wraparound),
		cmocka_unit_test(test_seq_half_circle),
		cmocka_unit_test(test_seq_between_wraps),
		cmocka_unit_test(test_seq_min_max_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
