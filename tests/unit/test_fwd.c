/* test_fwd.c - port forwards: specification parsing (fwdspec.c), the -t/-u flags and the
 * [forward] section, the stack's side (LISTEN rows, the active open cases the TCP tests do not
 * cover, inbound UDP flows) and the control handlers (fwd.c) on a real loop with loopback
 * sockets.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "fwd.h"
#include "fwdspec.h"
#include "link.h"
#include "tapird.h"
#include "tcp_fixture.h"
#include "udp.h"
#include "udprelay.h"

/* --- specifications ------------------------------------------------------------------------ */

static void expect_spec(const char *s, uint32_t haddr, uint16_t hport, uint16_t gport,
			uint16_t count)
{
	struct fwd_spec sp;
	char why[160] = "";

	if (fwd_spec_parse(s, PROTO_TCP, &sp, why, sizeof(why)))
		fail_msg("'%s' refused: %s", s, why);
	assert_int_equal(sp.proto, PROTO_TCP);
	assert_int_equal(sp.haddr, haddr);
	assert_int_equal(sp.hport, hport);
	assert_int_equal(sp.gport, gport);
	assert_int_equal(sp.count, count);
}

static void expect_bad_spec(const char *s, const char *needle)
{
	struct fwd_spec sp = { .proto = 99 };
	char why[160] = "";

	if (!fwd_spec_parse(s, PROTO_UDP, &sp, why, sizeof(why)))
		fail_msg("'%s' accepted", s);
	assert_int_equal(sp.proto, 99); /* unchanged on failure */
	if (!strstr(why, needle))
		fail_msg("'%s': message '%s' lacks '%s'", s, why, needle);
}

static void test_spec_ports_only(void **state)
{
	(void)state;
	expect_spec("8080:80", 0, 8080, 80, 1);
	expect_spec("1:65535", 0, 1, 65535, 1);
}

static void test_spec_with_host_address(void **state)
{
	struct fwd_spec sp;
	char why[160];

	(void)state;
	expect_spec("127.0.0.1:8443:443", 0x7f000001, 8443, 443, 1);
	expect_spec("0.0.0.0:53:5353", 0, 53, 5353, 1);
	/* an IPv6 host address, in brackets: the forward reaches the container over IPv6 */
	assert_int_equal(fwd_spec_parse("[::1]:8080-8081:80-81", PROTO_TCP, &sp, why, sizeof(why)), 0);
	assert_true(sp.v6);
	assert_int_equal(sp.haddr6[15], 1);
	assert_int_equal(sp.hport, 8080);
	assert_int_equal(sp.gport, 80);
	assert_int_equal(sp.count, 2);
}

static void test_spec_ranges_of_equal_length(void **state)
{
	(void)state;
	expect_spec("8000-8010:9000-9010", 0, 8000, 9000, 11);
	expect_spec("10.0.0.1:7-7:8-8", 0x0a000001, 7, 8, 1);
	expect_spec("1-65535:1-65535", 0, 1, 1, 65535);
}

static void test_spec_bad_ports(void **state)
{
	(void)state;
	expect_bad_spec("0:80", "host port \"0\"");
	expect_bad_spec("8080:65536", "container port \"65536\"");
	expect_bad_spec("80a:80", "host port");
	expect_bad_spec("8080:", "container port \"\"");
	expect_bad_spec(":80", "host port \"\"");
	expect_bad_spec("-1:80", "host port range");
	expect_bad_spec("8080", "HOSTPORT:CONTAINERPORT");
	expect_bad_spec("", "HOSTPORT:CONTAINERPORT");
	expect_bad_spec("100000000000000000000080:80", "host port");
	expect_bad_spec("90-80:90-80", "ends before it starts");
}

static void test_spec_bad_addresses(void **state)
{
	(void)state;
	expect_bad_spec("1.2.3:80:80", "\"1.2.3\" is not an IPv4 address");
	expect_bad_spec("localhost:80:80", "not an IPv4 address");
	expect_bad_spec("[::1:80:80", "[IPV6]:HOSTPORT:CONTAINERPORT");
	expect_bad_spec("[::1]80:80", "[IPV6]:HOSTPORT:CONTAINERPORT");
	expect_bad_spec("[10.0.0.1]:80:80", "not an IPv6 address");
	expect_bad_spec("::1:80:80", "HOSTPORT:CONTAINERPORT");
	expect_bad_spec("1.2.3.4:5:6:7", "HOSTPORT:CONTAINERPORT");
	expect_bad_spec("1.2.3.400:80:80", "not an IPv4 address");
}

static void test_spec_mismatched_ranges(void **state)
{
	(void)state;
	expect_bad_spec("8000-8010:80", "host range has 11 ports, the container range 1");
	expect_bad_spec("8000-8001:80-82", "2 ports, the container range 3");
}

/* --- configuration ------------------------------------------------------------------------- */

static int parse_args(struct config *c, char *err, size_t errlen, ...)
{
	char *argv[32];
	int argc = 0;
	enum config_action action;
	va_list ap;

	argv[argc++] = "tapird";
	va_start(ap, errlen);
	for (char *a; argc < 31 && (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	config_defaults(c);
	return config_parse_args(c, argc, argv, &action, err, errlen);
}

static void test_config_flags_repeat_in_order(void **state)
{
	struct config *c = calloc(1, sizeof(*c));
	char err[512] = "";

	(void)state;
	assert_non_null(c);
	if (parse_args(c, err, sizeof(err), "--netns", "x", "-t", "8080:80", "--udp-forward",
		       "127.0.0.1:53:5353", "--tcp-forward=9000-9001:9000-9001", NULL))
		fail_msg("refused: %s", err);
	assert_int_equal(c->nforwards, 3);
	assert_int_equal(c->forwards[0].proto, PROTO_TCP);
	assert_int_equal(c->forwards[0].hport, 8080);
	assert_int_equal(c->forwards[1].proto, PROTO_UDP);
	assert_int_equal(c->forwards[1].haddr, 0x7f000001);
	assert_int_equal(c->forwards[1].gport, 5353);
	assert_int_equal(c->forwards[2].count, 2);
	free(c);
}

static void test_config_file_forward_section(void **state)
{
	struct config *c = calloc(1, sizeof(*c));
	char path[] = "/tmp/tapir-fwd-test.XXXXXX";
	char err[512] = "";
	int fd = mkstemp(path);
	const char *text = "[forward]\ntcp = 8080:80\ntcp = 8443:443\nudp = 5353:53\n";

	(void)state;
	assert_non_null(c);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* the file's forwards first, the command line's after them */
	if (parse_args(c, err, sizeof(err), "-c", path, "--netns", "x", "-u", "1:2", NULL))
		fail_msg("refused: %s", err);
	assert_int_equal(c->nforwards, 4);
	assert_int_equal(c->forwards[1].hport, 8443);
	assert_int_equal(c->forwards[2].proto, PROTO_UDP);
	assert_int_equal(c->forwards[3].hport, 1);

	fd = open(path, O_WRONLY | O_TRUNC);
	text = "[forward]\ntcp = 8080:80\nudp = 70000:1\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(parse_args(c, err, sizeof(err), "-c", path, "--netns", "x", NULL), -1);
	if (!strstr(err, ":3: udp: \"70000:1\": host port"))
		fail_msg("message '%s'", err);
	unlink(path);
	free(c);
}

static void test_config_flag_errors_name_the_option(void **state)
{
	struct config *c = calloc(1, sizeof(*c));
	char err[512] = "";

	(void)state;
	assert_non_null(c);
	assert_int_equal(parse_args(c, err, sizeof(err), "--netns", "x", "-t", "80-81:80", NULL),
			 -1);
	if (!strstr(err, "--tcp-forward: \"80-81:80\": the host range has 2 ports"))
		fail_msg("message '%s'", err);
	assert_int_equal(parse_args(c, err, sizeof(err), "--netns", "x", "-u", NULL), -1);
	if (!strstr(err, "-u: needs a value"))
		fail_msg("message '%s'", err);
	free(c);
}

static void test_config_forward_bound(void **state)
{
	struct config *c = calloc(1, sizeof(*c));
	char *argv[3 + 2 * (CONFIG_MAX_FORWARDS + 1) + 1];
	enum config_action action;
	char err[512] = "";
	int argc = 0;

	(void)state;
	assert_non_null(c);
	argv[argc++] = "tapird";
	argv[argc++] = "--netns";
	argv[argc++] = "x";
	for (int i = 0; i <= CONFIG_MAX_FORWARDS; i++) {
		argv[argc++] = "-t";
		argv[argc++] = "8080:80";
	}
	argv[argc] = NULL;
	config_defaults(c);
	assert_int_equal(config_parse_args(c, argc, argv, &action, err, sizeof(err)), -1);
	if (!strstr(err, "more than 64 forwards"))
		fail_msg("message '%s'", err);
	free(c);
}

/* --- the stack: LISTEN rows and active open ------------------------------------------------ */

static void test_listen_row_is_listen_without_tcb(void **state)
{
	struct fx *fx = FX;
	struct tcp_view v;
	struct flow *row;

	row = tcp_listen_row(fx->s, T_CADDR, 80, fx->now);
	assert_non_null(row);
	assert_int_equal(row->state, TCP_LISTEN);
	assert_int_equal(row->origin, FLOW_ORIGIN_HOST);
	assert_int_equal(row->paddr, 0);
	assert_int_equal(row->pport, 0);
	assert_false(tcp_get_view(row, &v));
	assert_int_equal(stack_flows_in_state(fx->s, TCP_LISTEN), 1);
	assert_int_equal(fx_nout(fx), 0);
	tcp_listen_row_release(fx->s, row, fx->now);
	assert_int_equal(stack_flows_in_state(fx->s, TCP_LISTEN), 0);
	assert_int_equal(flow_count(stack_flows(fx->s)), 0);
}

static void test_listen_row_never_matches_a_segment(void **state)
{
	struct fx *fx = FX;
	struct flow *row = tcp_listen_row(fx->s, T_CADDR, FX_CPORT, fx->now);

	assert_non_null(row);
	/* the container's SYN from the forwarded port opens its own flow; the row stays */
	fx_to_established(fx);
	assert_ptr_not_equal(fx->f, row);
	assert_int_equal(row->state, TCP_LISTEN);
	assert_int_equal(row->pkts_in, 0);
	tcp_listen_row_release(fx->s, row, fx->now);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
}

/** connect_fx() - tcp_connect() with the container's MAC already known; our SYN parsed */
static struct flow *connect_fx(struct fx *fx, struct parsed *p)
{
	struct flow *f;

	fx_seg(fx, TCP_ACK, 1, 1, NULL, 0); /* a stray ACK teaches the container's MAC */
	fx_clear(fx);
	f = tcp_connect(fx->s, T_CADDR, FX_CPORT, T_PEER, FX_PPORT, fx->now);
	assert_non_null(f);
	fx->f = f;
	fx_one(fx, p);
	assert_int_equal(p->flags, TCP_SYN);
	fx_clear(fx);
	return f;
}

static void test_syn_sent_rst_resets_upstream(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	connect_fx(fx, &p);
	/* RFC 9293 3.10.7.3: an acceptable RST in SYN_SENT: "connection reset", CLOSED; the
	 * shell hears tcp_reset (it resets the forward's client) */
	fx_seg(fx, TCP_RST | TCP_ACK, 0, p.seq + 1, NULL, 0);
	assert_null(fx_lookup(fx));
	assert_int_equal(fx->m.reset_calls, 1);
	assert_int_equal(fx->m.closed_calls, 1);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_syn_sent_rst_with_bad_ack_dropped(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	connect_fx(fx, &p);
	/* 3.10.7.3: unacceptable ACK with RST set: drop the segment, no RST in answer */
	fx_seg(fx, TCP_RST | TCP_ACK, 0, p.seq + 5000, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_SENT);
	assert_int_equal(fx_nout(fx), 0);
	assert_int_equal(fx->m.reset_calls, 0);
}

static void test_syn_sent_ack_below_iss_sends_rst(void **state)
{
	struct fx *fx = FX;
	struct parsed p, r;

	connect_fx(fx, &p);
	/* 3.10.7.3: SEG.ACK =< ISS is unacceptable too: <SEQ=SEG.ACK><CTL=RST> */
	fx_seg(fx, TCP_ACK, 77, p.seq, NULL, 0);
	fx_one(fx, &r);
	assert_int_equal(r.flags, TCP_RST);
	assert_int_equal(r.seq, p.seq);
	assert_int_equal(fx_state(fx), TCP_SYN_SENT);
}

static void test_syn_sent_plain_ack_dropped(void **state)
{
	struct fx *fx = FX;
	struct parsed p;

	connect_fx(fx, &p);
	/* 3.10.7.3 fifth: neither SYN nor RST: drop (an acceptable ACK alone means nothing) */
	fx_seg(fx, TCP_ACK, 77, p.seq + 1, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_SENT);
	assert_int_equal(fx_nout(fx), 0);
}

static void test_simultaneous_open_completed_by_plain_ack(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p, sa;

	connect_fx(fx, &p);
	t = fx->syn;
	t.flags = TCP_SYN;
	t.seq = 900;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_SYN_RCVD);
	fx_one(fx, &sa);
	assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
	fx_clear(fx);
	/* the container's ACK of our SYN (its SYN-ACK carried nothing new) */
	fx_seg(fx, TCP_ACK, 901, p.seq + 1, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	assert_int_equal(fx->f->nhist, 3);
	assert_int_equal(fx->f->hist[0].state, TCP_SYN_SENT);
	assert_int_equal(fx->f->hist[1].state, TCP_SYN_RCVD);
	assert_int_equal(fx->f->hist[2].state, TCP_ESTABLISHED);
}

static void test_upstream_data_waits_for_established(void **state)
{
	struct fx *fx = FX;
	struct fr_tcp t;
	struct parsed p, a;

	connect_fx(fx, &p);
	/* the forward's client wrote before the container answered */
	fx_upstream(fx, "early", 5);
	tcp_upstream_readable(fx->s, fx->f, fx->now);
	assert_int_equal(fx_nout(fx), 0);
	t = fx->syn;
	t.flags = TCP_SYN | TCP_ACK;
	t.seq = 500;
	t.ack = p.seq + 1;
	fx_send(fx, &t, NULL, 0);
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
	fx_last(fx, &a);
	assert_int_equal(a.payload_len, 5);
	assert_memory_equal(a.payload, "early", 5);
	assert_int_equal(a.seq, p.seq + 1);
	assert_int_equal(a.ack, 501);
}

static void test_connect_refuses_tuple_in_use(void **state)
{
	struct fx *fx = FX;

	fx_to_established(fx);
	/* the container's own connection holds this 4-tuple: a forward may not take it */
	assert_null(tcp_connect(fx->s, T_CADDR, FX_CPORT, T_PEER, FX_PPORT, fx->now));
	assert_int_equal(fx_state(fx), TCP_ESTABLISHED);
}

/* --- the stack: inbound UDP ---------------------------------------------------------------- */

/**
 * struct ufx - a stack whose shell records UDP sends
 * @cap:	frames the stack sent (first: cap_tx takes the ctx as a struct capture)
 * @s:		the stack
 * @cfg:	its configuration
 * @nsent:	udp_send calls
 * @last:	the flow of the last one
 * @data:	its payload
 * @len:	its length
 */
struct ufx {
	struct capture cap;
	struct stack *s;
	struct stack_cfg cfg;
	int nsent;
	struct flow *last;
	uint8_t data[64];
	size_t len;
};

static int ufx_send(void *ctx, struct flow *f, const uint8_t *data, size_t len)
{
	struct ufx *u = ctx;

	u->nsent++;
	u->last = f;
	u->len = len < sizeof(u->data) ? len : sizeof(u->data);
	memcpy(u->data, data, u->len);
	return 0;
}

static struct ufx *ufx_new(bool no_host_loopback)
{
	static const struct stack_ops ops = { .tx = cap_tx, .udp_send = ufx_send };
	struct ufx *u = calloc(1, sizeof(*u));
	uint8_t buf[128];
	size_t n;

	assert_non_null(u);
	stack_cfg_defaults(&u->cfg);
	u->cfg.mtu = 1500;
	u->cfg.no_host_loopback = no_host_loopback;
	memcpy(u->cfg.mac, ((const uint8_t[6]){ 0x02, 0, 0, 0, 0, 2 }), 6);
	u->s = stack_new(&u->cfg, &ops, u);
	assert_non_null(u->s);
	/* the container asks for the gateway's MAC: the stack learns the container's */
	n = fr_arp(buf, ARP_OP_REQUEST, T_CMAC, T_CADDR, (const uint8_t[6]){ 0 }, T_GW);
	stack_input(u->s, buf, n, 1);
	cap_reset(&u->cap);
	return u;
}

static void ufx_free(struct ufx *u)
{
	stack_free(u->s);
	cap_reset(&u->cap);
	free(u);
}

static void test_udp_inbound_flow_and_first_datagram(void **state)
{
	struct ufx *u = ufx_new(false);
	struct parsed p;
	struct flow *f;

	(void)state;
	f = udp_open_inbound(u->s, T_CADDR, 7777, T_GW, 40000, 10);
	assert_non_null(f);
	assert_int_equal(f->origin, FLOW_ORIGIN_HOST);
	assert_int_equal(f->state, UDP_ACTIVE);
	udp_upstream_datagram(u->s, f, (const uint8_t *)"ping", 4, 11);
	/* still ACTIVE: only the opening side (the host client) has spoken */
	assert_int_equal(f->state, UDP_ACTIVE);
	assert_int_equal(u->cap.n, 1);
	fr_parse(u->cap.frame[0], u->cap.len[0], &p);
	assert_int_equal(p.proto, PROTO_UDP);
	assert_int_equal(p.saddr, T_GW);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.daddr, T_CADDR);
	assert_int_equal(p.dport, 7777);
	assert_int_equal(p.payload_len, 4);
	assert_memory_equal(p.payload, "ping", 4);
	assert_int_equal(udp_flow_count(u->s), 1);
	ufx_free(u);
}

static void test_udp_inbound_reply_marks_replied(void **state)
{
	struct ufx *u = ufx_new(true); /* host loopback off: the gateway closed to new flows */
	uint8_t buf[128];
	struct flow *f;
	size_t n;

	(void)state;
	f = udp_open_inbound(u->s, T_CADDR, 7777, T_GW, 40000, 10);
	assert_non_null(f);
	udp_upstream_datagram(u->s, f, (const uint8_t *)"ping", 4, 11);
	cap_reset(&u->cap);
	/* the container answers the forward's client, which appears as the gateway */
	n = fr_udp(buf, u->cfg.mac, T_CADDR, T_GW, 7777, 40000, (const uint8_t *)"pong", 4, false,
		   false);
	stack_input(u->s, buf, n, 12);
	assert_int_equal(u->nsent, 1);
	assert_ptr_equal(u->last, f);
	assert_int_equal(u->len, 4);
	assert_memory_equal(u->data, "pong", 4);
	assert_int_equal(f->state, UDP_REPLIED);
	assert_int_equal(u->cap.n, 0); /* no ICMP port unreachable */
	/* a new flow to the gateway is still refused */
	n = fr_udp(buf, u->cfg.mac, T_CADDR, T_GW, 7777, 40001, (const uint8_t *)"x", 1, false,
		   false);
	stack_input(u->s, buf, n, 13);
	assert_int_equal(u->nsent, 1);
	assert_int_equal(u->cap.n, 1);
	ufx_free(u);
}

static void test_udp_inbound_tuple_in_use(void **state)
{
	struct ufx *u = ufx_new(false);
	uint8_t buf[128];
	size_t n;

	(void)state;
	n = fr_udp(buf, u->cfg.mac, T_CADDR, T_GW, 7777, 40000, (const uint8_t *)"x", 1, false,
		   false);
	stack_input(u->s, buf, n, 12);
	assert_int_equal(u->nsent, 1);
	assert_null(udp_open_inbound(u->s, T_CADDR, 7777, T_GW, 40000, 13));
	assert_null(udp_open_inbound(u->s, T_CADDR, 0, T_GW, 40001, 13));
	assert_int_equal(udp_flow_count(u->s), 1);
	ufx_free(u);
}

static void test_listen_row6_is_listen_without_tcb(void **state)
{
	static const uint8_t c6[16] = T_CADDR6, any[16];
	struct fx *fx = FX;
	struct tcp_view v;
	struct flow *row;

	row = tcp_listen_row6(fx->s, c6, 80, fx->now);
	assert_non_null(row);
	assert_true(row->v6);
	assert_memory_equal(row->caddr6, c6, 16);
	assert_memory_equal(row->paddr6, any, 16);
	assert_int_equal(row->state, TCP_LISTEN);
	assert_int_equal(row->origin, FLOW_ORIGIN_HOST);
	assert_int_equal(row->pport, 0);
	assert_false(tcp_get_view(row, &v));
	assert_int_equal(stack_flows_in_state(fx->s, TCP_LISTEN), 1);
	assert_int_equal(fx_nout(fx), 0);
	tcp_listen_row_release(fx->s, row, fx->now);
	assert_int_equal(flow_count(stack_flows(fx->s)), 0);
}

static void test_udp_inbound6_flow_datagram_and_reply(void **state)
{
	static const uint8_t c6[16] = T_CADDR6, gw6[16] = T_GW6, peer6[16] = T_PEER6;
	struct ufx *u = ufx_new(true); /* host loopback off: the gateway closed to new flows */
	const uint8_t *l4;
	uint8_t buf[128], m[12];
	struct parsed6 p;
	struct flow *f;

	(void)state;
	/* a client on ::1 appears as the gateway (fwd.c); the flow is IPv6 */
	f = udp_open_inbound6(u->s, c6, 7777, gw6, 40000, 10);
	assert_non_null(f);
	assert_true(f->v6);
	assert_int_equal(f->origin, FLOW_ORIGIN_HOST);
	assert_int_equal(f->state, UDP_ACTIVE);
	udp_upstream_datagram(u->s, f, (const uint8_t *)"ping", 4, 11);
	assert_int_equal(u->cap.n, 1);
	fr_parse6(u->cap.frame[0], u->cap.len[0], &p); /* checksums verified */
	assert_int_equal(p.nh, PROTO_UDP);
	assert_memory_equal(p.saddr, gw6, 16);
	assert_memory_equal(p.daddr, c6, 16);
	l4 = p.l4;
	assert_int_equal(rd16(l4), 40000);
	assert_int_equal(rd16(l4 + 2), 7777);
	assert_int_equal(rd16(l4 + 4), UDP_HDR_LEN + 4);
	assert_memory_equal(l4 + UDP_HDR_LEN, "ping", 4);
	cap_reset(&u->cap);

	/* the container answers over IPv6: the forward's flow, not a new one to the gateway */
	wr16(m, 7777);
	wr16(m + 2, 40000);
	wr16(m + 4, sizeof(m));
	wr16(m + 6, 0);
	memcpy(m + 8, "pong", 4);
	wr16(m + 6, fr_csum6(c6, gw6, PROTO_UDP, m, sizeof(m)));
	stack_input(u->s, buf,
		    fr_ip6(buf, u->cfg.mac, &(struct fr_ip6){ .nh = PROTO_UDP }, m, sizeof(m)),
		    12);
	assert_int_equal(u->nsent, 1);
	assert_ptr_equal(u->last, f);
	assert_memory_equal(u->data, "pong", 4);
	assert_int_equal(f->state, UDP_REPLIED);
	assert_int_equal(u->cap.n, 0); /* no port unreachable */

	/* the same 4-tuple again, a port 0, an address not the container's: no flow */
	assert_null(udp_open_inbound6(u->s, c6, 7777, gw6, 40000, 13));
	assert_null(udp_open_inbound6(u->s, c6, 0, peer6, 40000, 13));
	assert_null(udp_open_inbound6(u->s, peer6, 7777, gw6, 40001, 13));
	assert_int_equal(udp_flow_count(u->s), 1);
	ufx_free(u);
}

static void test_udp_inbound6_refused_without_ipv6(void **state)
{
	static const uint8_t c6[16] = T_CADDR6, gw6[16] = T_GW6;
	static const struct stack_ops ops = { .tx = cap_tx };
	struct stack_cfg cfg;
	struct stack *s;

	(void)state;
	stack_cfg_defaults(&cfg);
	cfg.ipv6 = false;
	s = stack_new(&cfg, &ops, NULL);
	assert_non_null(s);
	assert_null(udp_open_inbound6(s, c6, 7777, gw6, 40000, 10));
	assert_int_equal(udp_flow_count(s), 0);
	stack_free(s);
}

/* --- the control handlers, on a loop --------------------------------------------------------- */

/**
 * struct cfx - a daemon with one link (a stack, no TAP) and a loop
 * @d:		the daemon
 * @l:		its link
 */
struct cfx {
	struct tapird d;
	struct link l;
};

static void noop_tx(void *ctx, struct stack_txq *q)
{
	(void)ctx;
	q->n = 0;
}

static void noop_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

/** cfx_flow_closed() - stack_ops.flow_closed: a UDP flow's relay lets go (as link.c's) */
static void cfx_flow_closed(void *ctx, struct flow *f)
{
	(void)ctx;
	udprelay_closed(f);
}

static int cfx_setup(void **state)
{
	static const struct stack_ops ops = { .tx = noop_tx, .flow_closed = cfx_flow_closed };
	struct cfx *c = calloc(1, sizeof(*c));
	struct stack_cfg sc;

	assert_non_null(c);
	config_defaults(&c->d.cfg);
	c->d.base = event_base_new();
	assert_non_null(c->d.base);
	stack_cfg_defaults(&sc);
	sc.max_flows = 64;
	c->l.d = &c->d;
	c->l.tap_fd = -1;
	link_cfg_defaults(&c->l.cfg);
	snprintf(c->l.cfg.name, sizeof(c->l.cfg.name), "c1");
	snprintf(c->l.name, sizeof(c->l.name), "c1");
	c->l.stack = stack_new(&sc, &ops, &c->l);
	c->l.ev_timer = evtimer_new(c->d.base, noop_cb, NULL);
	assert_non_null(c->l.stack);
	/* what link_attach gives the relays (no touched hook: link_touch re-arms at once) */
	c->l.env = (struct relay_env){ .stack = c->l.stack, .base = c->d.base, .cfg = &c->l.cfg,
				       .dcfg = &c->d.cfg, .name = c->l.name };
	c->d.links[c->d.nlinks++] = &c->l;
	*state = c;
	return 0;
}

static int cfx_teardown(void **state)
{
	struct cfx *c = *state;

	fwd_fini(&c->d);
	assert_int_equal(flow_count(stack_flows(c->l.stack)), 0);
	stack_free(c->l.stack);
	event_free(c->l.ev_timer);
	event_base_free(c->d.base);
	free(c);
	return 0;
}

/** free_port() - a loopback TCP port nobody holds now */
static int free_port(int type)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/** call() - run handler @fn on the JSON @args; NULL and *@cls/@desc on an error */
static json_t *call(struct cfx *c, json_t *(*fn)(struct tapird *, json_t *, const char **,
						  char *, size_t),
		    const char *args, const char **cls, char *desc, size_t len)
{
	json_t *a = json_loads(args, 0, NULL), *r;

	assert_non_null(a);
	*cls = NULL;
	desc[0] = '\0';
	r = fn(&c->d, a, cls, desc, len);
	json_decref(a);
	return r;
}

static void expect_err(struct cfx *c, json_t *(*fn)(struct tapird *, json_t *, const char **,
						     char *, size_t),
		       const char *args, const char *want_cls, const char *needle)
{
	const char *cls;
	char desc[512];
	json_t *r = call(c, fn, args, &cls, desc, sizeof(desc));

	if (r)
		fail_msg("%s: accepted", args);
	assert_string_equal(cls, want_cls);
	if (!strstr(desc, needle))
		fail_msg("%s: desc '%s' lacks '%s'", args, desc, needle);
}

static void test_ctl_add_list_remove(void **state)
{
	struct cfx *c = *state;
	int port = free_port(SOCK_STREAM), uport = free_port(SOCK_DGRAM);
	const char *cls;
	char args[256], desc[512];
	json_t *r, *e;
	struct flow *row = NULL;

	snprintf(args, sizeof(args),
		 "{\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": %d,"
		 " \"guest_port\": 80}", port);
	r = call(c, fwd_ctl_add, args, &cls, desc, sizeof(desc));
	if (!r)
		fail_msg("add: %s", desc);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1);
	json_decref(r);
	/* slirp4netns: an empty host_addr is 0.0.0.0, an empty guest_addr the container's */
	snprintf(args, sizeof(args),
		 "{\"proto\": \"udp\", \"host_addr\": \"\", \"host_port\": %d, \"guest_addr\": \"\","
		 " \"guest_port\": 53}", uport);
	r = call(c, fwd_ctl_add, args, &cls, desc, sizeof(desc));
	if (!r)
		fail_msg("add udp: %s", desc);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 2);
	json_decref(r);

	/* the TCP forward's LISTEN row: upstream the listening address */
	for (struct flow *f = flow_next(stack_flows(c->l.stack), NULL); f;
	     f = flow_next(stack_flows(c->l.stack), f))
		if (f->state == TCP_LISTEN)
			row = f;
	assert_non_null(row);
	assert_int_equal(row->caddr, STACK_DEFAULT_ADDR);
	assert_int_equal(row->cport, 80);
	assert_int_equal(row->uaddr, 0x7f000001);
	assert_int_equal(row->uport, port);
	assert_int_equal(flow_count(stack_flows(c->l.stack)), 1); /* none for UDP */

	r = call(c, fwd_ctl_list, "{}", &cls, desc, sizeof(desc));
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 2);
	e = json_array_get(json_object_get(r, "entries"), 0);
	assert_int_equal(json_object_size(e), 7);
	assert_int_equal(json_integer_value(json_object_get(e, "id")), 1);
	assert_string_equal(json_string_value(json_object_get(e, "link")), "c1");
	assert_string_equal(json_string_value(json_object_get(e, "proto")), "tcp");
	assert_string_equal(json_string_value(json_object_get(e, "host_addr")), "127.0.0.1");
	assert_int_equal(json_integer_value(json_object_get(e, "host_port")), port);
	assert_string_equal(json_string_value(json_object_get(e, "guest_addr")), "10.0.2.100");
	assert_int_equal(json_integer_value(json_object_get(e, "guest_port")), 80);
	e = json_array_get(json_object_get(r, "entries"), 1);
	assert_string_equal(json_string_value(json_object_get(e, "proto")), "udp");
	assert_string_equal(json_string_value(json_object_get(e, "host_addr")), "0.0.0.0");
	json_decref(r);
	/* the "link" filter: the link's own forwards; an unknown link is an error */
	r = call(c, fwd_ctl_list, "{\"link\": \"c1\"}", &cls, desc, sizeof(desc));
	assert_non_null(r);
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 2);
	json_decref(r);
	expect_err(c, fwd_ctl_list, "{\"link\": \"c9\"}", "DeviceNotFound",
		   "no link named 'c9'");
	expect_err(c, fwd_ctl_list, "{\"link\": 1}", "GenericError",
		   "bad arguments.link: must be a string");

	/* the same port again: the bind error names address and port */
	snprintf(args, sizeof(args),
		 "{\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": %d,"
		 " \"guest_port\": 81}", port);
	{
		char needle[128];

		snprintf(needle, sizeof(needle), "127.0.0.1:%d: %s", port, strerror(EADDRINUSE));
		expect_err(c, fwd_ctl_add, args, "GenericError", needle);
	}

	r = call(c, fwd_ctl_remove, "{\"id\": 1}", &cls, desc, sizeof(desc));
	assert_non_null(r);
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	assert_int_equal(flow_count(stack_flows(c->l.stack)), 0); /* the LISTEN row went */
	expect_err(c, fwd_ctl_remove, "{\"id\": 1}", "DeviceNotFound", "no forward with id 1");
	/* ids are not reused */
	snprintf(args, sizeof(args),
		 "{\"proto\": \"tcp\", \"host_addr\": \"127.0.0.1\", \"host_port\": %d,"
		 " \"guest_port\": 80}", port);
	r = call(c, fwd_ctl_add, args, &cls, desc, sizeof(desc));
	if (!r)
		fail_msg("add again: %s", desc);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
	json_decref(r);
}

static void test_ctl_add_argument_errors(void **state)
{
	struct cfx *c = *state;

	expect_err(c, fwd_ctl_add, "{\"host_port\": 1, \"guest_port\": 1}", "GenericError",
		   "bad request: add_hostfwd: bad arguments.proto: missing");
	expect_err(c, fwd_ctl_add, "{\"proto\": 6, \"host_port\": 1, \"guest_port\": 1}",
		   "GenericError", "bad arguments.proto");
	expect_err(c, fwd_ctl_add, "{\"proto\": \"tcp\", \"guest_port\": 1}", "GenericError",
		   "bad arguments.host_port: missing");
	expect_err(c, fwd_ctl_add, "{\"proto\": \"tcp\", \"host_port\": 0, \"guest_port\": 1}",
		   "GenericError", "bad arguments.host_port: must be an integer from 1 to 65535");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_port\": 65536, \"guest_port\": 1}", "GenericError",
		   "bad arguments.host_port");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_port\": 1.5, \"guest_port\": 1}", "GenericError",
		   "bad arguments.host_port");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_addr\": 1, \"host_port\": 1, \"guest_port\": 1}",
		   "GenericError", "bad arguments.host_addr: must be a string");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_addr\": \"::1x\", \"host_port\": 1,"
		   " \"guest_port\": 1}",
		   "GenericError", "bad arguments.host_addr: not an IPv4 or IPv6 address");
	expect_err(c, fwd_ctl_add, "{\"proto\": \"tcp\", \"host_port\": 1}", "GenericError",
		   "bad arguments.guest_port: missing");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_port\": 1, \"guest_port\": \"80\"}",
		   "GenericError", "bad arguments.guest_port: must be an integer");
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"tcp\", \"host_port\": 1, \"guest_addr\": \"10.0.2.5\","
		   " \"guest_port\": 80}",
		   "GenericError", "10.0.2.5 is not the container's address (10.0.2.100)");
	expect_err(c, fwd_ctl_remove, "{}", "GenericError", "bad arguments.id: missing");
	expect_err(c, fwd_ctl_remove, "{\"id\": \"1\"}", "GenericError",
		   "bad arguments.id: must be a positive integer");
	expect_err(c, fwd_ctl_remove, "{\"id\": 0}", "GenericError",
		   "bad arguments.id: must be a positive integer");
	assert_int_equal(flow_count(stack_flows(c->l.stack)), 0);
}

/** free_port6() - a port of type @type nobody holds on ::1 now (0: no IPv6 loopback) */
static int free_port6(int type)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET6, type, 0), port;

	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		close(fd);
		return 0;
	}
	port = ntohs(sa.sin6_port);
	close(fd);
	return port;
}

static void test_ctl_ipv6_forwards_udp_and_listen_row(void **state)
{
	static const uint8_t c6[16] = T_CADDR6, gw6[16] = T_GW6, lo6[16] = { [15] = 1 };
	struct cfx *c = *state;
	int port = free_port6(SOCK_STREAM), uport = free_port6(SOCK_DGRAM);
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct flow *row = NULL, *uf = NULL;
	char args[256], desc[512];
	const char *cls;
	json_t *r, *e;
	int fd;

	if (!port || !uport)
		skip(); /* no ::1 on this machine */
	snprintf(args, sizeof(args),
		 "{\"proto\": \"tcp\", \"host_addr\": \"::1\", \"host_port\": %d,"
		 " \"guest_port\": 80}", port);
	r = call(c, fwd_ctl_add, args, &cls, desc, sizeof(desc));
	if (!r)
		fail_msg("add tcp [::1]: %s", desc);
	json_decref(r);
	/* slirp4netns's API with a v6 guest_addr too: the container's own */
	snprintf(args, sizeof(args),
		 "{\"proto\": \"udp\", \"host_addr\": \"::1\", \"host_port\": %d,"
		 " \"guest_addr\": \"fd00::100\", \"guest_port\": 53}", uport);
	r = call(c, fwd_ctl_add, args, &cls, desc, sizeof(desc));
	if (!r)
		fail_msg("add udp [::1]: %s", desc);
	json_decref(r);
	expect_err(c, fwd_ctl_add,
		   "{\"proto\": \"udp\", \"host_addr\": \"::1\", \"host_port\": 1,"
		   " \"guest_addr\": \"fd00::99\", \"guest_port\": 53}",
		   "GenericError", "not the container's IPv6 address");

	/* the TCP forward's LISTEN row, IPv6 on both sides */
	for (struct flow *f = flow_next(stack_flows(c->l.stack), NULL); f;
	     f = flow_next(stack_flows(c->l.stack), f))
		if (f->state == TCP_LISTEN)
			row = f;
	assert_non_null(row);
	assert_true(row->v6);
	assert_memory_equal(row->caddr6, c6, 16);
	assert_int_equal(row->cport, 80);
	assert_true(row->uv6);
	assert_memory_equal(row->uaddr6, lo6, 16);
	assert_int_equal(row->uport, port);

	r = call(c, fwd_ctl_list, "{}", &cls, desc, sizeof(desc));
	assert_non_null(r);
	e = json_array_get(json_object_get(r, "entries"), 1);
	assert_string_equal(json_string_value(json_object_get(e, "proto")), "udp");
	assert_string_equal(json_string_value(json_object_get(e, "host_addr")), "::1");
	assert_string_equal(json_string_value(json_object_get(e, "guest_addr")), "fd00::100");
	json_decref(r);

	/* a datagram from a client on ::1: an IPv6 flow from the gateway to the container */
	to.sin6_port = htons((uint16_t)uport);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(sendto(fd, "q", 1, 0, (struct sockaddr *)&to, sizeof(to)), 1);
	for (int i = 0; i < 100 && !uf; i++) {
		event_base_loop(c->d.base, EVLOOP_NONBLOCK);
		for (struct flow *f = flow_next(stack_flows(c->l.stack), NULL); f;
		     f = flow_next(stack_flows(c->l.stack), f))
			if (f->proto == PROTO_UDP)
				uf = f;
		if (!uf)
			usleep(10000);
	}
	close(fd);
	assert_non_null(uf);
	assert_true(uf->v6);
	assert_int_equal(uf->origin, FLOW_ORIGIN_HOST);
	assert_memory_equal(uf->caddr6, c6, 16);
	assert_int_equal(uf->cport, 53);
	assert_memory_equal(uf->paddr6, gw6, 16);
	assert_true(uf->uv6);
	assert_memory_equal(uf->uaddr6, lo6, 16);
	assert_int_equal(uf->bytes_out, 1);
}

static void test_add_range_rolls_back_on_a_busy_port(void **state)
{
	struct cfx *c = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	struct fwd_spec sp = { .proto = PROTO_TCP, .haddr = 0x7f000001, .count = 3,
			       .gport = 8000 };
	char err[256] = "";
	uint64_t id = 0;
	int busy = -1, port = 0, tries;
	const char *cls;
	char desc[512];
	json_t *r;

	/* three free ports in a row, the middle one then held by us. Tests running beside this
	 * one take ephemeral ports too: look again rather than skip when a neighbour is taken. */
	for (tries = 0; tries < 50 && !port; tries++) {
		int p = free_port(SOCK_STREAM), third;

		if (p > 65533)
			continue;
		busy = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(busy >= 0);
		sa.sin_port = htons((uint16_t)(p + 1));
		if (bind(busy, (struct sockaddr *)&sa, sizeof(sa)) || listen(busy, 1)) {
			close(busy);
			continue;
		}
		third = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(third >= 0);
		sa.sin_port = htons((uint16_t)(p + 2));
		if (bind(third, (struct sockaddr *)&sa, sizeof(sa))) {
			close(third);
			close(busy);
			continue;
		}
		close(third);
		port = p;
	}
	if (!port)
		skip(); /* 50 tries found no three free ports in a row on 127.0.0.1 */
	sp.hport = (uint16_t)port;
	assert_int_equal(fwd_add(&c->d, NULL, &sp, STACK_DEFAULT_ADDR, &id, err, sizeof(err)), -1);
	if (!strstr(err, strerror(EADDRINUSE)))
		fail_msg("message '%s'", err);
	close(busy);
	/* nothing of the range stayed: no row, no entry, the first port free again */
	assert_int_equal(flow_count(stack_flows(c->l.stack)), 0);
	r = call(c, fwd_ctl_list, "{}", &cls, desc, sizeof(desc));
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 0);
	json_decref(r);
	assert_int_equal(fwd_add(&c->d, NULL, &sp, STACK_DEFAULT_ADDR, &id, err, sizeof(err)), 0);
	assert_int_equal(stack_flows_in_state(c->l.stack, TCP_LISTEN), 3);
	r = call(c, fwd_ctl_list, "{}", &cls, desc, sizeof(desc));
	assert_int_equal(json_array_size(json_object_get(r, "entries")), 3);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(r, "entries"), 2), "guest_port")),
			 8002);
	json_decref(r);
}

#define T(name) cmocka_unit_test(name)
#define TF(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
#define TC(name) cmocka_unit_test_setup_teardown(name, cfx_setup, cfx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_spec_ports_only),
		T(test_spec_with_host_address),
		T(test_spec_ranges_of_equal_length),
		T(test_spec_bad_ports),
		T(test_spec_bad_addresses),
		T(test_spec_mismatched_ranges),
		T(test_config_flags_repeat_in_order),
		T(test_config_file_forward_section),
		T(test_config_flag_errors_name_the_option),
		T(test_config_forward_bound),
		TF(test_listen_row_is_listen_without_tcb),
		TF(test_listen_row_never_matches_a_segment),
		TF(test_listen_row6_is_listen_without_tcb),
		TF(test_syn_sent_rst_resets_upstream),
		TF(test_syn_sent_rst_with_bad_ack_dropped),
		TF(test_syn_sent_ack_below_iss_sends_rst),
		TF(test_syn_sent_plain_ack_dropped),
		TF(test_simultaneous_open_completed_by_plain_ack),
		TF(test_upstream_data_waits_for_established),
		TF(test_connect_refuses_tuple_in_use),
		T(test_udp_inbound_flow_and_first_datagram),
		T(test_udp_inbound_reply_marks_replied),
		T(test_udp_inbound_tuple_in_use),
		T(test_udp_inbound6_flow_datagram_and_reply),
		T(test_udp_inbound6_refused_without_ipv6),
		TC(test_ctl_add_list_remove),
		TC(test_ctl_ipv6_forwards_udp_and_listen_row),
		TC(test_ctl_add_argument_errors),
		TC(test_add_range_rolls_back_on_a_busy_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
