/* test_udp6.c - the tests of test_udp.c again over IPv6 (issue 13): the same UDP code with
 * IPv6 flow keys and the IPv6 pseudo-header. Skipped: ICMP (not ICMPv6) errors, the IPv4
 * 4-tuple in flow_lookup(), IPv4 sizes, and the zero checksum IPv6 forbids (RFC 8200 8.1:
 * test_ip6.c's test_ip6_udp_over_ipv6 checks it is dropped, and the IPv6 flow's fields). See tcp6_wrap.h. */
#include "tcp6_wrap.h"

static const char *const tcp6_skip[] = {
	"test_udp_zero_checksum_accepted",
	"test_udp_reply_larger_than_mtu_fragmented",
	"test_udp_reply_sizes_at_default_mtu",
	"test_udp_reply_beyond_ipv4_limit_dropped",
	"test_udp_eviction_at_bound_takes_oldest_idle",
	"test_udp_eviction_prefers_unreplied_flows",
	"test_udp_flow_table_full_evicts_udp",
	"test_udp_upstream_port_unreachable_quotes_last_datagram",
	"test_udp_upstream_host_unreachable_and_ttl_exceeded",
	"test_udp_send_refused_answers_port_unreachable",
	"test_udp_too_big_for_path_answers_frag_needed", /* test_ip6.c: packet too big */
	"test_udp_dns_address_other_port_unreachable",
	"test_udp_gateway_no_host_loopback_port_unreachable",
	/* these read f->caddr and f->paddr, the IPv4 fields (test_ip6.c checks the IPv6 ones) */
	"test_udp_flow_created_then_reused",
	"test_udp_reply_from_peer_address_and_port",
	"test_udp_dns_query_relayed_answer_from_dns_address",
	"test_udp_gateway_relayed",
	/* answers with ICMP (IPv4) administratively prohibited; the policy has IPv4 rules only */
	"test_udp_policy_denied_answers_admin_prohibited",
	NULL,
};

#include "test_udp.c"
