/* test_tcp.c - TCP input validation (checksum, data offset, ports) and the module's
 * bookkeeping: view, counters, per-state counts, release. */
#include <string.h>

#include "stack_internal.h"
#include "tcp_fixture.h"

static void test_bad_checksum_dropped(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;

	t.flags = TCP_SYN;
	t.seq = 1;
	t.bad_checksum = true;
	fx_send(fx, &t, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(stack_counters(fx->s)->drop_tcp_bad_checksum, 1);
	assert_int_equal(fx->m.open_calls, 0);
}

static void test_bad_checksum_on_data_not_delivered(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { .flags = TCP_ACK };
	uint8_t d[10] = { 0 };

	fx_to_established(fx);
	t.seq = fx->cseq;
	t.ack = fx->rnxt;
	t.bad_checksum = true;
	fx_send(fx, &t, d, sizeof(d));
	assert_int_equal(fx->m.sink_len, 0);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_bad_checksum, 1);
}

static void test_data_offset_too_small_dropped(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { .flags = TCP_SYN, .seq = 1, .doff_override = 4 };

	fx_send(fx, &t, NULL, 0);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_malformed, 1);
	assert_null(fx_lookup(fx));
}

static void test_data_offset_past_segment_dropped(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { .flags = TCP_SYN, .seq = 1, .doff_override = 15 };

	fx_send(fx, &t, NULL, 0); /* 60-byte header claimed, 20 present */
	assert_int_equal(stack_counters(fx->s)->drop_tcp_malformed, 1);
	assert_null(fx_lookup(fx));
}

static void test_port_zero_dropped(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = { .flags = TCP_SYN, .seq = 1, .dport = 0, .sport = 5 };
	uint8_t buf[200];
	size_t n;

	/* fx_send would default a zero port: build the frame by hand */
	n = fr_tcp(buf, fx->cfg.mac, &t, NULL, 0);
	stack_input(fx->s, buf, n, fx->now);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_malformed, 1);
	assert_int_equal(flow_count(stack_flows(fx->s)), 0);
}

static void test_truncated_header_dropped(void **state)
{
	struct fx *fx = FX;
	uint8_t l4[12] = { 0 };
	struct fr_ip ip = { .daddr = T_PEER, .proto = PROTO_TCP };
	uint8_t buf[100];
	size_t n = fr_ip4(buf, fx->cfg.mac, &ip, l4, sizeof(l4));

	stack_input(fx->s, buf, n, fx->now);
	assert_int_equal(stack_counters(fx->s)->drop_tcp_malformed, 1);
}

static void test_view_reports_connection(void **state)
{
	struct fx *fx = FX;
	struct tcp_view v;

	fx_to_established(fx);
	assert_true(tcp_get_view(fx->f, &v));
	assert_int_equal(v.iss, fx->iss);
	assert_int_equal(v.irs, FX_CISN);
	assert_int_equal(v.snd_una, fx->iss + 1);
	assert_int_equal(v.snd_nxt, fx->iss + 1);
	assert_int_equal(v.rcv_nxt, FX_CISN + 1);
	assert_int_equal(v.mss, 1460);
	assert_int_equal(v.peer_mss, 1460);
	assert_true(v.sack);
	assert_false(v.ts);
	assert_int_equal(v.snd_wnd, 65535u << 7);
	assert_int_equal(v.in_flight, 0);
	assert_false(v.fin_rcvd);
	assert_false(v.fin_sent);
}

static void test_view_false_for_non_tcp(void **state)
{
	struct flow f;
	struct tcp_view v;

	(void)state;
	memset(&f, 0, sizeof(f));
	assert_false(tcp_get_view(&f, &v));
}

static void test_upstream_events_on_released_flow_ignored(void **state)
{
	struct fx *fx = FX;
	struct flow *f;

	fx_to_established(fx);
	f = fx->f;
	fx_seg(fx, TCP_RST, fx->cseq, 0, NULL, 0);
	assert_null(fx_lookup(fx));
	/* a late event from the shell for a freed slot does nothing */
	tcp_upstream_readable(fx->s, f, fx->now);
	tcp_upstream_eof(fx->s, f, fx->now);
	tcp_upstream_writable(fx->s, f, fx->now);
	tcp_upstream_connected(fx->s, f, fx->now);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_per_state_counts_follow_flows(void **state)
{
	struct fx *fx = FX;

	fx_to_fin_wait_2(fx);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_FIN_WAIT_2), 1);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_ESTABLISHED), 0);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_FIN_WAIT_1), 0);
}

static void test_flow_events_reported(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	assert_int_equal(stack_counters(fx->s)->flows_opened, 1);
}

static void test_stack_free_releases_open_connections(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	fx_upstream(fx, NULL, 100);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_clear(fx);
	stack_free(fx->s);
	fx->s = NULL;
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx->m.closed_end, FLOW_END_SHUTDOWN);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_every_drop_counted_once(void **state)
{
	struct fx *fx = FX;
	const struct stack_counters *c = stack_counters(fx->s);
	uint8_t d[10] = { 0 };
	uint64_t before, after;

#define DROPS(c)                                                                              \
	((c)->drop_tcp_malformed + (c)->drop_tcp_bad_checksum + (c)->drop_tcp_no_flow +       \
	 (c)->drop_tcp_out_of_window + (c)->drop_tcp_bad_ack + (c)->drop_tcp_rate_limited +   \
	 (c)->drop_tcp_over_limit + (c)->drop_tcp_ooo_full + (c)->drop_tcp_no_room +          \
	 (c)->drop_tcp_bad_state + (c)->drop_tcp_challenged + (c)->drop_tcp_dup_syn +          \
	 (c)->drop_tcp_upstream_gone)
	fx_to_established(fx);
	before = DROPS(c);
	fx_seg(fx, TCP_RST, fx->cseq + 5, 0, NULL, 0);            /* challenged */
	fx_seg(fx, TCP_ACK, fx->cseq - 100, fx->rnxt, d, 10);     /* out of window */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->iss + 99999, d, 10);    /* bad ack */
	fx_seg(fx, TCP_PSH, fx->cseq, 0, d, 10);                  /* no ACK */
	fx_seg(fx, TCP_ACK, fx->cseq, fx->rnxt, d, 10);           /* fine: not a drop */
	after = DROPS(c);
	assert_int_equal(after - before, 4);
#undef DROPS
}

static int teardown_maybe_freed(void **state)
{
	struct fx *fx = *state;

	if (!fx->s) {
		fx->s = stack_new(&fx->cfg, &(struct stack_ops){ .tx = cap_tx }, &fx->m.cap);
		assert_non_null(fx->s);
	}
	return fx_teardown(state);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_bad_checksum_dropped),
		T(test_bad_checksum_on_data_not_delivered),
		T(test_data_offset_too_small_dropped),
		T(test_data_offset_past_segment_dropped),
		T(test_port_zero_dropped),
		T(test_truncated_header_dropped),
		T(test_view_reports_connection),
		cmocka_unit_test(test_view_false_for_non_tcp),
		T(test_upstream_events_on_released_flow_ignored),
		T(test_per_state_counts_follow_flows),
		T(test_flow_events_reported),
		cmocka_unit_test_setup_teardown(test_stack_free_releases_open_connections, fx_setup,
						teardown_maybe_freed),
		T(test_every_drop_counted_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
