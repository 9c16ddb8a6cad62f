/* test_tcp6_handshake.c - every test of test_tcp_handshake.c again over IPv6 (issue 13: no second copy of
 * the TCP code per family, and none of its tests): the same RFC 9293 rules checked through
 * ip6.c, the IPv6 flow keys and the IPv6 pseudo-header. See tcp6_wrap.h for what is skipped. */
#include "tcp6_wrap.h"

static const char *const tcp6_skip[] = {
	"test_connect_sends_syn_in_syn_sent",
	"test_isn_differs_per_tuple_and_time",
	"test_simultaneous_open_synack_window_not_scaled",
	"test_simultaneous_open_through_syn_rcvd",
	"test_syn_sent_bad_ack_sends_rst",
	"test_syn_sent_retransmits_syn_then_gives_up",
	"test_syn_sent_rst_with_good_ack_closes",
	"test_syn_sent_rst_without_ack_ignored",
	"test_syn_sent_synack_to_established",
	"test_tcp_open_net_unreachable_sends_icmp_at_once",
	"test_upstream_host_unreachable_sends_icmp",
	"test_upstream_net_unreachable_sends_icmp",
	/* look their flows up by the IPv4 4-tuple (flow_lookup) */
	"test_half_open_limit_evicts_oldest",
	"test_syn_flood_genuine_syn_answered_at_once",
	NULL,
};

#include "test_tcp_handshake.c"
