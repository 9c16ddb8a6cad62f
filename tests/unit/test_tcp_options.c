/* test_tcp_options.c - SYN options: MSS (RFC 9293 3.7.1, RFC 6691), window scaling and
 * timestamps (RFC 7323), SACK-permitted (RFC 2018); each offered only when the container
 * offered it. */
#include "stack_internal.h"
#include "tcp_fixture.h"

static struct tcp_view view(struct fx *fx)
{
	struct tcp_view v;

	assert_true(tcp_get_view(fx->f, &v));
	return v;
}

static void synack(struct fx *fx, struct parsed *p)
{
	fx_to_syn_rcvd_waiting(fx);
	tcp_upstream_connected(fx->s, fx->f, fx->now);
	fx_one(fx, p);
}

static void test_synack_mss_is_mtu_minus_40(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	synack(fx, &p);
	assert_int_equal(p.mss, 1460);
}

static void test_mss_clamped_to_mtu(void **state)
{
	struct stack_cfg cfg;
	struct fx *fx;
	struct parsed p;

	(void)state;
	fx_cfg_default(&cfg);
	cfg.mtu = 65520;
	fx = fx_new_cfg(&cfg);
	fx->syn.mss = 65495;
	synack(fx, &p);
	assert_int_equal(p.mss, 65480);
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	fx_upstream(fx, NULL, 200000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_true(fx_nout(fx) >= 2);
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		assert_true(p.ip_len <= 65520);
		assert_true(p.payload_len <= 65480);
	}
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 65480);
	fx_free(fx);
}

static void test_mss_follows_mtu_change(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t = fx->syn;
	struct parsed p;

	/* the shell read the TAP's real MTU (the container set 1400): RFC 9293 3.7.1 */
	assert_int_equal(stack_set_mtu(fx->s, 1400), 1400);
	assert_int_equal(stack_get_cfg(fx->s)->mtu, 1400);
	fx->syn.mss = 1360;
	synack(fx, &p);
	assert_int_equal(p.mss, 1360);
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	/* `ip link set tap0 mtu 1300`: the next connection announces 1260 */
	assert_int_equal(stack_set_mtu(fx->s, 1300), 1300);
	t.flags = TCP_SYN;
	t.sport = 2000;
	t.seq = 5;
	t.mss = 1260;
	fx_send(fx, &t, NULL, 0);
	tcp_upstream_connected(fx->s, flow_lookup(stack_flows(fx->s), PROTO_TCP, T_CADDR, 2000,
						 T_PEER, FX_PPORT), fx->now);
	fx_one(fx, &p);
	assert_int_equal(p.mss, 1260);
	fx_clear(fx);
	/* the first connection keeps its MSS but no frame exceeds the new MTU */
	assert_int_equal(view(fx).mss, 1360);
	fx_upstream(fx, NULL, 5000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_true(fx_nout(fx) >= 4);
	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		assert_true(p.ip_len <= 1300);
	}
}

static void test_mtu_bounded(void **state)
{
	struct fx *fx = FX;

	assert_int_equal(stack_set_mtu(fx->s, 68), STACK_MIN_MTU);
	assert_int_equal(stack_set_mtu(fx->s, 1u << 20), STACK_MAX_MTU);
	assert_int_equal(stack_get_cfg(fx->s)->mtu, STACK_MAX_MTU);
}

static void test_send_clamped_to_peer_mss(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->syn.mss = 1000;
	fx_to_established(fx);
	assert_int_equal(view(fx).mss, 1000);
	fx_upstream(fx, NULL, 2500);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 1000);
}

static void test_tiny_peer_mss_floored(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->syn.mss = 1;
	fx_to_established(fx);
	assert_int_equal(view(fx).peer_mss, 536);
	fx_upstream(fx, NULL, 2000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_out(fx, 0, &p);
	assert_int_equal(p.payload_len, 536);
}

static void test_missing_mss_defaults_to_536(void **state)
{
	struct fx *fx = FX;

	fx->syn.mss = 0;
	fx_to_established(fx);
	assert_int_equal(view(fx).mss, 536);
}

static void test_mss_accounts_for_timestamp_option(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->ts = true;
	fx->syn.has_ts = true;
	fx->syn.tsval = 1;
	fx_to_established(fx);
	fx_upstream(fx, NULL, 3000);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	fx_out(fx, 0, &p);
	/* RFC 6691: data plus options within the MSS */
	assert_int_equal(p.payload_len, 1460 - 12);
	assert_true(p.ip_len <= 1500);
}

static void test_wscale_only_if_offered(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->syn.has_wscale = false;
	synack(fx, &p);
	assert_int_equal(p.wscale, -1);
	assert_int_equal(view(fx).wscale_rcv, -1);
	assert_int_equal(view(fx).wscale_snd, -1);
}

static void test_wscale_offered_shift_7(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	synack(fx, &p);
	assert_int_equal(p.wscale, 7);
	assert_int_equal(view(fx).wscale_snd, 7);
}

static void test_peer_wscale_applied_to_its_window(void **state)
{
	struct fx *fx = FX;

	fx->syn.wscale = 3;
	fx->win = 1000;
	fx_to_established(fx);
	assert_int_equal(view(fx).snd_wnd, 8000);
}

static void test_syn_window_never_scaled(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;

	fx->syn.wscale = 3;
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = FX_CISN;
	t.win = 1000;
	fx_send(fx, &t, NULL, 0);
	fx->f = fx_lookup(fx);
	assert_int_equal(view(fx).snd_wnd, 1000);
}

static void test_wscale_over_14_treated_as_14(void **state)
{
	struct fx *fx = FX;

	fx->syn.wscale = 15;
	fx_to_established(fx);
	assert_int_equal(view(fx).wscale_snd, 14);
}

static void test_sack_permitted_only_if_offered(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	fx->syn.sack_perm = false;
	synack(fx, &p);
	assert_false(p.sack_perm);
	fx_clear(fx);
	fx_free(fx);
	*state = fx = fx_new();
	synack(fx, &p);
	assert_true(p.sack_perm);
}

static void test_timestamps_only_if_offered(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	synack(fx, &p);
	assert_false(p.has_ts);
	assert_false(view(fx).ts);
}

static void test_timestamps_echoed(void **state)
{
	struct fx *fx = FX;
	struct parsed p;
	uint8_t d[10] = { 0 };

	fx->ts = true;
	fx->syn.has_ts = true;
	fx->syn.tsval = 777;
	synack(fx, &p);
	assert_true(p.has_ts);
	assert_int_equal(p.tsecr, 777);
	fx_clear(fx);
	fx_ack(fx, fx->rnxt);
	fx->tsval = 9000;
	fx_data(fx, d, sizeof(d));
	fx_tick(fx, 40000);
	fx_one(fx, &p);
	assert_true(p.has_ts);
	assert_int_equal(p.tsecr, 9000);
}

static void test_malformed_option_lengths_dropped(void **state)
{
	struct fx *fx = FX;
	static const uint8_t bad[][4] = {
		{ TCPOPT_MSS, 3, 5, 0 },      /* MSS must be 4 long */
		{ TCPOPT_MSS, 0, 0, 0 },      /* length below 2 */
		{ TCPOPT_WSCALE, 9, 0, 0 },   /* runs past the header */
		{ TCPOPT_NOP, TCPOPT_SACK_PERM, 3, 0 },
		{ TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, 8 }, /* kind without room for length */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fr_tcp t = { .flags = TCP_SYN, .seq = 1, .raw_opts = bad[i],
				    .raw_opts_len = 4 };

		fx_send(fx, &t, NULL, 0);
	}
	assert_int_equal(stack_counters(fx->s)->drop_tcp_malformed, 5);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx_nout(fx), 0);
}

static void test_unknown_option_skipped(void **state)
{
	struct fx *fx = FX;
	static const uint8_t opts[] = { 30, 4, 1, 2, TCPOPT_MSS, 4, 0x05, 0x00 };
	struct fr_tcp t = { .flags = TCP_SYN, .seq = FX_CISN, .raw_opts = opts,
			    .raw_opts_len = sizeof(opts) };

	fx_send(fx, &t, NULL, 0);
	fx->f = fx_lookup(fx);
	assert_non_null(fx->f);
	assert_int_equal(view(fx).peer_mss, 0x500);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_synack_mss_is_mtu_minus_40),
		cmocka_unit_test(test_mss_clamped_to_mtu),
		T(test_mss_follows_mtu_change),
		T(test_mtu_bounded),
		T(test_send_clamped_to_peer_mss),
		T(test_tiny_peer_mss_floored),
		T(test_missing_mss_defaults_to_536),
		T(test_mss_accounts_for_timestamp_option),
		T(test_wscale_only_if_offered),
		T(test_wscale_offered_shift_7),
		T(test_peer_wscale_applied_to_its_window),
		T(test_syn_window_never_scaled),
		T(test_wscale_over_14_treated_as_14),
		T(test_sack_permitted_only_if_offered),
		T(test_timestamps_only_if_offered),
		T(test_timestamps_echoed),
		T(test_malformed_option_lengths_dropped),
		T(test_unknown_option_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
