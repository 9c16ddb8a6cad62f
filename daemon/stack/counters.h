/* counters.h - every counter a link keeps, named as users see them.
 *
 * One X-macro list so that the stack, `tapirctl stats`, the JSON and the metrics all spell a
 * counter the same way. Rule: every frame the stack drops increments exactly one drop_*
 * counter. X(name, help) - help is one line for humans and for Prometheus HELP.
 */
#ifndef TAPIR_COUNTERS_H
#define TAPIR_COUNTERS_H

#include <stdint.h>

#define STACK_COUNTERS(X)                                                                    \
	X(rx_frames, "frames read from the TAP")                                             \
	X(rx_bytes, "bytes read from the TAP")                                               \
	X(tx_frames, "frames written to the TAP")                                            \
	X(tx_bytes, "bytes written to the TAP")                                              \
	X(drop_short_frame, "frames shorter than their headers")                             \
	X(drop_vnet_malformed, "virtio-net headers cut short or with flags we do not know")  \
	X(drop_vnet_bad_gso, "virtio-net GSO of a bad type or size, or not on TCP/IPv4")     \
	X(drop_vnet_bad_csum, "virtio-net partial checksums not on the TCP/UDP checksum")    \
	X(drop_not_for_us, "frames for another MAC or address")                              \
	X(drop_bad_ethertype, "frames with an ethertype we do not handle")                   \
	X(drop_arp_malformed, "ARP packets with bad types or lengths")                       \
	X(drop_ip_bad_version, "IP packets whose version disagrees with the ethertype")      \
	X(drop_ip_bad_ihl, "IPv4 headers with a bad header length")                          \
	X(drop_ip_bad_length, "IPv4 total length disagreeing with the frame")                \
	X(drop_ip_bad_checksum, "IPv4 headers with a bad checksum")                          \
	X(drop_ip_bad_source, "IPv4 packets from an address that is not the container's")    \
	X(drop_ip_fragment, "IPv4 fragments dropped for want of memory to reassemble them")  \
	X(drop_ip_frag_malformed, "IPv4 fragments empty or not a multiple of 8 bytes")       \
	X(drop_ip_frag_too_big, "IPv4 datagrams whose fragments end past 65535 bytes")       \
	X(drop_ip_frag_overlap, "IPv4 datagrams discarded for overlapping fragments")        \
	X(drop_ip_frag_duplicate, "IPv4 fragments that duplicate bytes already held")        \
	X(drop_ip_frag_timeout, "IPv4 datagrams whose reassembly timed out")                 \
	X(drop_ip_frag_over_limit, "IPv4 datagrams evicted by the reassembly bounds")        \
	X(drop_ip_bad_proto, "IPv4 packets of a protocol we do not relay")                   \
	X(drop_ip_ttl_expired, "IP packets for a relayed host with TTL or hop limit 0 or 1")  \
	X(drop_ip_too_big, "IP packets over the link MTU that may not be fragmented (no GSO)") \
	X(drop_ip6_bad_length, "IPv6 payload length disagreeing with the frame")            \
	X(drop_ip6_bad_source, "IPv6 packets from an address that is not the container's")  \
	X(drop_ip6_malformed, "IPv6 extension headers truncated or malformed")              \
	X(drop_ip6_chain_too_long, "IPv6 packets with more extension headers than we walk") \
	X(drop_ip6_rh0, "IPv6 packets with a type 0 routing header (RFC 5095)")             \
	X(drop_ip6_param_problem, "IPv6 packets answered by a parameter problem")           \
	X(drop_ip6_bad_option, "IPv6 packets with an option whose type says discard")       \
	X(drop_ip6_bad_proto, "IPv6 packets of a next header we do not handle")             \
	X(drop_ip6_no_next, "IPv6 packets whose next header is No Next Header")             \
	X(drop_ip6_fragment, "IPv6 fragments dropped for want of memory to reassemble them") \
	X(drop_ip6_frag_malformed, "IPv6 fragments empty or misaligned")                    \
	X(drop_ip6_frag_incomplete_chain, "IPv6 first fragments lacking the chain (RFC 7112)") \
	X(drop_ip6_frag_too_big, "IPv6 packets whose fragments end past 65535 bytes")       \
	X(drop_ip6_frag_overlap, "IPv6 packets discarded for overlapping fragments")        \
	X(drop_ip6_frag_duplicate, "IPv6 fragments that duplicate bytes already held")      \
	X(drop_ip6_frag_timeout, "IPv6 packets whose reassembly timed out")                 \
	X(drop_ip6_frag_over_limit, "IPv6 packets evicted by the reassembly bounds")        \
	X(drop_icmp6_malformed, "ICMPv6 messages too short or of a type we ignore")         \
	X(drop_icmp6_bad_checksum, "ICMPv6 messages with a bad checksum")                   \
	X(drop_ndp_malformed, "NDP messages failing the RFC 4861 validity checks")          \
	X(drop_ndp_not_ours, "NDP solicitations (DAD included) for addresses not ours")     \
	X(drop_icmp_malformed, "ICMP messages too short or of a type we ignore")             \
	X(drop_icmp_bad_checksum, "ICMP messages with a bad checksum")                       \
	X(drop_icmp_rate_limited, "ICMP requests whose reply a rate limit suppressed")       \
	X(drop_icmp_no_route, "ICMP echo requests to an address we do not answer for")       \
	X(drop_icmp_echo_failed, "ICMP echo requests the host's ping socket did not send")   \
	X(drop_tcp_malformed, "TCP segments with a bad header or option length")             \
	X(drop_tcp_bad_checksum, "TCP segments with a bad checksum")                         \
	X(drop_tcp_no_flow, "TCP segments for no connection (answered by RST)")              \
	X(drop_tcp_out_of_window, "TCP segments outside the receive window")                 \
	X(drop_tcp_bad_ack, "TCP segments with an unacceptable ACK")                         \
	X(drop_tcp_rate_limited, "challenge ACKs or RSTs suppressed by the rate limit")      \
	X(drop_tcp_over_limit, "SYNs refused because the link's connection limits are hit")  \
	X(drop_tcp_ooo_full, "out-of-order segments dropped because the queue is full")      \
	X(drop_tcp_no_room, "in-order payload the upstream socket had no room for")          \
	X(drop_tcp_upstream_gone, "in-order payload for an upstream already reset or closed") \
	X(drop_tcp_bad_state, "TCP segments not acceptable in the connection's state")       \
	X(drop_tcp_challenged, "TCP segments answered by an RFC 5961 challenge ACK")         \
	X(drop_tcp_dup_syn, "retransmitted SYNs absorbed while a connection is opening")     \
	X(drop_udp_malformed, "UDP datagrams with a bad header or length")                   \
	X(drop_udp_bad_checksum, "UDP datagrams with a bad checksum")                        \
	X(drop_udp_over_limit, "UDP datagrams refused because the link's flow limit is hit") \
	X(drop_udp_no_service, "UDP datagrams to a port we do not serve (port unreachable)") \
	X(drop_udp_dns_malformed, "DNS queries shorter than a DNS header")                   \
	X(drop_udp_upstream_error, "UDP datagrams the upstream socket did not take or give") \
	X(drop_udp_too_big, "UDP datagrams larger than the upstream path MTU (EMSGSIZE)")   \
	X(drop_dhcp_malformed, "DHCP messages with a bad header, magic cookie or options")   \
	X(drop_dhcp_unsupported, "BOOTP, relayed or server-to-client DHCP messages")         \
	X(drop_dhcp_not_ours, "DHCP messages for another server or address")                 \
	X(drop_dhcp_unavailable, "DHCP DISCOVERs unanswered: the address was declined")      \
	X(drop_policy_denied, "new flows the link's reach policy denied (RST or ICMP 3/13)") \
	X(drop_tcp_per_destination, "SYNs refused by the per-destination connection cap")    \
	X(rx_gso_frames, "TCP super-frames (GSO) read from the TAP")                         \
	X(rx_csum_trusted, "frames whose L4 checksum the virtio-net header vouched for")     \
	X(arp_replies, "ARP replies sent")                                                   \
	X(ip6_frag_reassembled, "IPv6 packets reassembled from the container's fragments")  \
	X(ip6_atomic_fragments, "IPv6 atomic fragments taken as whole packets (RFC 6946)")  \
	X(ndp_neighbor_adverts, "NDP neighbour advertisements sent")                        \
	X(ndp_router_adverts, "NDP router advertisements sent")                             \
	X(icmp6_echo_replies, "ICMPv6 echo replies sent for the gateway and DNS addresses") \
	X(dhcp_offers, "DHCPOFFERs sent")                                                    \
	X(dhcp_acks, "DHCPACKs sent (to REQUEST and INFORM)")                                \
	X(dhcp_naks, "DHCPNAKs sent")                                                        \
	X(dhcp_releases, "DHCPRELEASEs of the link's address")                               \
	X(dhcp_declines, "DHCPDECLINEs of the link's address")                               \
	X(ip_frag_reassembled, "IPv4 datagrams reassembled from the container's fragments")  \
	X(icmp_echo_replies, "ICMP echo replies sent for the gateway and DNS addresses")     \
	X(icmp_echo_relayed, "ICMP echo requests relayed through a host ping socket")        \
	X(icmp_echo_relayed_replies, "ICMP echo replies relayed back to the container")      \
	X(udp_gso_sends, "runs of equal-size UDP datagrams sent upstream as one GSO send")    \
	X(udp_gso_fallbacks, "GSO sends the kernel refused, their datagrams sent one by one") \
	X(icmp_errors_sent, "ICMP errors sent to the container")                             \
	X(icmp_errors_rate_limited, "ICMP errors not sent because of the rate limit")        \
	X(icmp_time_exceeded_sent, "ICMP/ICMPv6 time exceeded sent (TTL or hop limit <= 1)") \
	X(icmp_too_big_sent, "ICMPv6 packet too big and ICMP fragmentation needed sent")    \
	X(tcp_rst_sent, "TCP RSTs sent to the container")                                    \
	X(tcp_challenge_acks, "RFC 5961 challenge ACKs sent")                                \
	X(tcp_retransmits, "TCP segments retransmitted to the container")                    \
	X(tcp_fast_retransmits, "TCP fast retransmits (three duplicate ACKs)")               \
	X(tcp_rto_expired, "TCP retransmission timeouts")                                    \
	X(tcp_zero_window_probes, "TCP zero-window probes sent")                             \
	X(tcp_syn_cookies_or_drops, "SYNs dropped under the half-open limit")                \
	X(tcp_half_open_evicted, "half-open connections evicted for a new SYN (RFC 4987)")   \
	X(tcp_idle_timeout, "ESTABLISHED flows reset both ways by the idle timeout")         \
	X(tcp_sockbuf_capped, "upstream sockets whose buffers max-socket-memory shrank")     \
	X(flows_opened, "flows created")                                                     \
	X(flows_closed_fin, "flows closed after both FINs")                                  \
	X(flows_closed_rst_container, "flows closed by a RST from the container")            \
	X(flows_closed_rst_upstream, "flows closed by a reset from upstream")                \
	X(flows_closed_refused, "flows whose upstream connect was refused")                  \
	X(flows_closed_unreachable, "flows whose upstream was unreachable")                  \
	X(flows_closed_timeout, "flows closed by a timeout or retransmission give-up")       \
	X(flows_closed_evicted, "flows evicted to make room")

#define X_FIELD(name, help) uint64_t name;
struct stack_counters {
	STACK_COUNTERS(X_FIELD)
};
#undef X_FIELD

#endif
