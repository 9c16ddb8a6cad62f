/* test_flow.c - the flow table: capacity, lookup, slot reuse, iteration, history. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "flow.h"
#include "wire.h"

static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void test_flow_table_rejects_bad_capacity(void **state)
{
	(void)state;
	assert_null(flow_table_new(0, key));
	assert_null(flow_table_new((1u << 24) + 1, key));
}

static void test_flow_alloc_until_full_then_null(void **state)
{
	struct flow_table *t = flow_table_new(4, key);

	(void)state;
	for (uint16_t i = 0; i < 4; i++)
		assert_non_null(flow_alloc(t, i + 1, PROTO_TCP, 1, 1000 + i, 2, 80, 0));
	assert_int_equal(flow_count(t), 4);
	assert_null(flow_alloc(t, 9, PROTO_TCP, 1, 2000, 2, 80, 0));
	assert_int_equal(flow_count(t), 4);
	flow_table_free(t);
}

static void test_flow_lookup_matches_whole_tuple_and_proto(void **state)
{
	struct flow_table *t = flow_table_new(16, key);
	struct flow *f = flow_alloc(t, 7, PROTO_TCP, 0x0a000264, 40000, 0x0a000202, 80, 5);

	(void)state;
	assert_ptr_equal(flow_lookup(t, PROTO_TCP, 0x0a000264, 40000, 0x0a000202, 80), f);
	assert_null(flow_lookup(t, PROTO_UDP, 0x0a000264, 40000, 0x0a000202, 80));
	assert_null(flow_lookup(t, PROTO_TCP, 0x0a000264, 40001, 0x0a000202, 80));
	assert_null(flow_lookup(t, PROTO_TCP, 0x0a000264, 40000, 0x0a000203, 80));
	assert_null(flow_lookup(t, PROTO_TCP, 0x0a000264, 40000, 0x0a000202, 81));
	assert_int_equal(f->id, 7);
	assert_int_equal(f->created_us, 5);
	flow_table_free(t);
}

static void test_flow_free_unindexes_and_slot_is_reused_first(void **state)
{
	struct flow_table *t = flow_table_new(8, key);
	struct flow *a = flow_alloc(t, 1, PROTO_TCP, 1, 1, 2, 2, 0);
	struct flow *b = flow_alloc(t, 2, PROTO_TCP, 1, 3, 2, 2, 0);
	uint32_t bidx = b->idx;

	(void)state;
	assert_int_equal(a->idx, 0);
	assert_int_equal(bidx, 1);
	flow_free(t, b);
	assert_null(flow_lookup(t, PROTO_TCP, 1, 3, 2, 2));
	assert_null(flow_at(t, bidx));
	b = flow_alloc(t, 3, PROTO_TCP, 1, 5, 2, 2, 0);
	assert_int_equal(b->idx, bidx);
	assert_ptr_equal(flow_lookup(t, PROTO_TCP, 1, 5, 2, 2), b);
	assert_ptr_equal(flow_lookup(t, PROTO_TCP, 1, 1, 2, 2), a);
	flow_table_free(t);
}

static void test_flow_many_in_one_table_all_found(void **state)
{
	struct flow_table *t = flow_table_new(20000, key);

	(void)state;
	for (uint32_t i = 0; i < 20000; i++)
		assert_non_null(flow_alloc(t, i, PROTO_UDP, 1, (uint16_t)i, 2 + i / 65536, 53, 0));
	for (uint32_t i = 0; i < 20000; i += 7) {
		struct flow *f = flow_lookup(t, PROTO_UDP, 1, (uint16_t)i, 2 + i / 65536, 53);

		assert_non_null(f);
		assert_int_equal(f->id, i);
	}
	flow_table_free(t);
}

static void test_flow_next_visits_live_flows_in_slot_order(void **state)
{
	struct flow_table *t = flow_table_new(8, key);
	struct flow *fl[5], *f;
	int n = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		fl[i] = flow_alloc(t, (uint64_t)i, PROTO_TCP, 1, (uint16_t)i, 2, 2, 0);
	flow_free(t, fl[1]);
	flow_free(t, fl[3]);
	for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
		assert_true(f == fl[0] || f == fl[2] || f == fl[4]);
		n++;
	}
	assert_int_equal(n, 3);
	flow_table_free(t);
}

static void test_flow_record_keeps_history_and_counts_overflow(void **state)
{
	struct flow_table *t = flow_table_new(1, key);
	struct flow *f = flow_alloc(t, 1, PROTO_TCP, 1, 1, 2, 2, 0);

	(void)state;
	for (unsigned int i = 0; i < FLOW_HIST_MAX + 3; i++)
		flow_record(f, (uint8_t)(i % TCP_NSTATES), 100 + i);
	assert_int_equal(f->nhist, FLOW_HIST_MAX);
	assert_int_equal(f->hist_lost, 3);
	assert_int_equal(f->hist[0].at_us, 100);
	assert_int_equal(f->hist[FLOW_HIST_MAX - 1].at_us, 100 + FLOW_HIST_MAX + 2);
	assert_int_equal(f->state, (FLOW_HIST_MAX + 2) % TCP_NSTATES);
	flow_table_free(t);
}

static void test_tcp_state_names_round_trip(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < TCP_NSTATES; i++)
		assert_int_equal(tcp_state_parse(tcp_state_name(i)), (int)i);
	assert_string_equal(tcp_state_name(TCP_SYN_RCVD), "SYN_RCVD");
	assert_int_equal(tcp_state_parse("time_wait"), TCP_TIME_WAIT);
	assert_int_equal(tcp_state_parse("ESTABLISHEDX"), -1);
	assert_string_equal(tcp_state_name(TCP_NSTATES), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flow_table_rejects_bad_capacity),
		cmocka_unit_test(test_flow_alloc_until_full_then_null),
		cmocka_unit_test(test_flow_lookup_matches_whole_tuple_and_proto),
		cmocka_unit_test(test_flow_free_unindexes_and_slot_is_reused_first),
		cmocka_unit_test(test_flow_many_in_one_table_all_found),
		cmocka_unit_test(test_flow_next_visits_live_flows_in_slot_order),
		cmocka_unit_test(test_flow_record_keeps_history_and_counts_overflow),
		cmocka_unit_test(test_tcp_state_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
