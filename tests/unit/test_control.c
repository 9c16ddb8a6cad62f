/* test_control.c - the control protocol: ctl_handle_line() against a fake daemon holding two
 * links with real stacks and flows placed straight into their tables, then the socket server
 * (ctl_server_new) on a private libevent loop with real Unix-socket clients.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "control.h"
#include "flowjson.h"
#include "link.h"
#include "monitor.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

/* The test's clock: every reply is computed at this instant. */
static uint64_t fake_now_us = 100000000; /* 100 s */

uint64_t tapird_now_us(void)
{
	return fake_now_us;
}

#define T0 (fake_now_us - 5000000) /* flows were created 5 s before "now" */
#define TEST_MAX_FLOWS 16384

/**
 * struct fixture - a daemon with links c1 (three flows) and c2 (none)
 */
struct fixture {
	struct tapird d;
	struct link l1, l2;
	struct flow *est, *tw, *udp;
};

static void noop_tx(void *ctx, struct stack_txq *q)
{
	(void)ctx;
	q->n = 0;
}

static const struct stack_ops test_ops = { .tx = noop_tx };

static struct stack *make_stack(struct tapird *d)
{
	struct stack_cfg cfg;

	stack_cfg_defaults(&cfg);
	cfg.max_flows = TEST_MAX_FLOWS;
	cfg.next_flow_id = &d->next_flow_id;
	return stack_new(&cfg, &test_ops, NULL);
}

static void make_link(struct fixture *fx, struct link *l, const char *name)
{
	snprintf(l->name, sizeof(l->name), "%s", name);
	link_cfg_defaults(&l->cfg);
	snprintf(l->cfg.name, sizeof(l->cfg.name), "%s", name);
	snprintf(l->netns, sizeof(l->netns), "/run/netns/%s", name);
	snprintf(l->ifname, sizeof(l->ifname), "tap0");
	l->ifindex = 2;
	l->tap_fd = -1;
	l->configured = true;
	l->d = &fx->d;
	l->stack = make_stack(&fx->d);
	assert_non_null(l->stack);
	fx->d.links[fx->d.nlinks++] = l;
}

static struct flow *add_flow(struct link *l, uint64_t id, uint8_t proto, uint16_t cport,
			     uint32_t paddr, uint16_t pport)
{
	struct flow *f = flow_alloc(stack_flows(l->stack), id, proto, STACK_DEFAULT_ADDR, cport,
				    paddr, pport, T0);

	assert_non_null(f);
	return f;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->d.start_mono_us = fake_now_us - 7000000; /* up 7 s */
	fx->d.start_wall = 1700000000;               /* 2023-11-14T22:13:20Z */
	make_link(fx, &fx->l1, "c1");
	make_link(fx, &fx->l2, "c2");

	fx->est = add_flow(&fx->l1, 17, PROTO_TCP, 43122, STACK_DEFAULT_GATEWAY, 8080);
	flow_record(fx->est, TCP_SYN_RCVD, T0);
	flow_record(fx->est, TCP_ESTABLISHED, T0 + 1500);
	fx->est->uaddr = 0x7f000001;
	fx->est->uport = 8080;
	fx->est->bytes_in = 5120;
	fx->est->bytes_out = 1048576;
	fx->est->pkts_in = 12;
	fx->est->pkts_out = 40;
	fx->est->last_us = fake_now_us - 10000;

	fx->tw = add_flow(&fx->l1, 18, PROTO_TCP, 43124, 0x5db8d822, 443);
	flow_record(fx->tw, TCP_SYN_RCVD, T0);
	flow_record(fx->tw, TCP_TIME_WAIT, T0 + 3000);

	fx->udp = add_flow(&fx->l1, 19, PROTO_UDP, 5353, STACK_DEFAULT_DNS, 53);
	flow_record(fx->udp, UDP_ACTIVE, T0);
	fx->udp->origin = FLOW_ORIGIN_CONTAINER;
	*state = fx;
	return 0;
}

static void free_flows(struct link *l)
{
	struct flow_table *t = stack_flows(l->stack);
	struct flow *f, *next;

	/* Our flows never went through the stack: free them here, not in stack_free(). */
	for (f = flow_next(t, NULL); f; f = next) {
		next = flow_next(t, f);
		flow_free(t, f);
	}
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free_flows(&fx->l1);
	free_flows(&fx->l2);
	stack_free(fx->l1.stack);
	stack_free(fx->l2.stack);
	free(fx);
	return 0;
}

/**
 * call() - one request through ctl_handle_line(); the reply must be one line of valid JSON
 */
static json_t *call_as(struct fixture *fx, const char *req, uid_t uid)
{
	char *line = ctl_handle_line(&fx->d, req, strlen(req), uid, 0);
	json_error_t jerr;
	json_t *j;

	assert_non_null(line);
	assert_null(strchr(line, '\n'));
	j = json_loads(line, 0, &jerr);
	if (!j)
		fail_msg("reply is not JSON: %s (%s)", jerr.text, line);
	free(line);
	assert_true(json_is_object(j));
	return j;
}

static json_t *call(struct fixture *fx, const char *req)
{
	return call_as(fx, req, 0);
}

/** ret() - the "return" member; fails the test on an error reply */
static json_t *ret(json_t *reply)
{
	json_t *r = json_object_get(reply, "return");

	if (!r)
		fail_msg("expected a return, got %s", json_dumps(reply, JSON_COMPACT));
	assert_null(json_object_get(reply, "error"));
	return r;
}

/** expect_error() - @req must give an error of class @cls whose desc contains @needle */
static void expect_error(struct fixture *fx, const char *req, const char *cls,
			 const char *needle)
{
	json_t *reply = call(fx, req);
	json_t *e = json_object_get(reply, "error");
	const char *desc;

	if (!e)
		fail_msg("%s: expected an error, got %s", req, json_dumps(reply, JSON_COMPACT));
	assert_null(json_object_get(reply, "return"));
	assert_string_equal(json_string_value(json_object_get(e, "class")), cls);
	desc = json_string_value(json_object_get(e, "desc"));
	assert_non_null(desc);
	assert_true(strlen(desc) > 0);
	if (needle && !strstr(desc, needle))
		fail_msg("%s: desc '%s' lacks '%s'", req, desc, needle);
	json_decref(reply);
}

static json_int_t ival(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return json_integer_value(v);
}

static const char *sval(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

#define X_NAME(n, h) #n,
static const char *const all_counters[] = { STACK_COUNTERS(X_NAME) };
#undef X_NAME
#define NCOUNTERS (sizeof(all_counters) / sizeof(all_counters[0]))

/** set_counter() - give counter @name of @l a value (the test owns the stack) */
static void set_counter(struct link *l, const char *name, uint64_t v)
{
	struct stack_counters *c = (struct stack_counters *)stack_counters(l->stack);

#define X_SET(n, h)                     \
	if (!strcmp(name, #n))          \
		c->n = v;
	STACK_COUNTERS(X_SET)
#undef X_SET
}

/* --- status ------------------------------------------------------------------------------ */

static void test_status_daemon_fields(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"status\"}");
	json_t *r = ret(reply);

	assert_true(strlen(sval(r, "version")) > 0);
	assert_int_equal(ival(r, "pid"), getpid());
	assert_int_equal(ival(r, "uptime_ms"), 7000);
	assert_string_equal(sval(r, "started"), "2023-11-14T22:13:20Z");
	assert_int_equal(ival(r, "flows_total"), 3);
	assert_int_equal(json_array_size(json_object_get(r, "links")), 2);
	json_decref(reply);
}

static void test_status_link_fields(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"status\"}");
	json_t *l = json_array_get(json_object_get(ret(reply), "links"), 0);
	json_t *flows, *by, *counters;

	assert_string_equal(sval(l, "name"), "c1");
	assert_string_equal(sval(l, "netns"), "/run/netns/c1");
	assert_string_equal(sval(l, "ifname"), "tap0");
	assert_int_equal(ival(l, "ifindex"), 2);
	assert_int_equal(ival(l, "mtu"), STACK_DEFAULT_MTU);
	assert_true(json_is_true(json_object_get(l, "configured")));
	assert_string_equal(sval(l, "address"), "10.0.2.100/24");
	assert_string_equal(sval(l, "gateway"), "10.0.2.2");
	assert_string_equal(sval(l, "dns"), "10.0.2.3");
	assert_string_equal(sval(l, "mac"), "02:74:61:70:69:72");
	assert_true(json_is_null(json_object_get(l, "container_mac")));
	counters = json_object_get(l, "counters");
	assert_int_equal(json_object_size(counters), NCOUNTERS);
	for (size_t i = 0; i < NCOUNTERS; i++)
		assert_true(json_is_integer(json_object_get(counters, all_counters[i])));
	flows = json_object_get(l, "flows");
	assert_int_equal(ival(flows, "total"), 3);
	assert_int_equal(ival(flows, "tcp"), 2);
	assert_int_equal(ival(flows, "udp"), 1);
	by = json_object_get(flows, "by_state");
	for (unsigned int s = 0; s < TCP_NSTATES; s++)
		assert_true(json_is_integer(json_object_get(by, tcp_state_name(s))));
	assert_int_equal(ival(by, "ESTABLISHED"), 1);
	assert_int_equal(ival(by, "TIME_WAIT"), 1);
	assert_int_equal(ival(by, "SYN_RCVD"), 0);
	assert_int_equal(ival(by, "ACTIVE"), 1);
	assert_int_equal(ival(by, "REPLIED"), 0);
	json_decref(reply);
}

/* --- stats ------------------------------------------------------------------------------- */

static void test_stats_every_counter_and_drop(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"stats\"}");
	json_t *links = json_object_get(ret(reply), "links");
	size_t ndrops = 0;

	assert_int_equal(json_array_size(links), 2);
	for (size_t k = 0; k < 2; k++) {
		json_t *l = json_array_get(links, k);
		json_t *c = json_object_get(l, "counters"), *dr = json_object_get(l, "drops");

		ndrops = 0;
		assert_int_equal(json_object_size(c), NCOUNTERS);
		for (size_t i = 0; i < NCOUNTERS; i++) {
			assert_true(json_is_integer(json_object_get(c, all_counters[i])));
			if (!strncmp(all_counters[i], "drop_", 5)) {
				ndrops++;
				assert_true(json_is_integer(json_object_get(dr,
									    all_counters[i] + 5)));
			}
		}
		assert_true(ndrops > 0);
		assert_int_equal(json_object_size(dr), ndrops);
		assert_true(json_is_integer(json_object_get(l, "tx_errors")));
	}
	json_decref(reply);
}

static void test_stats_values_and_total(void **state)
{
	struct fixture *fx = *state;
	json_t *reply, *r, *l1, *total;

	set_counter(&fx->l1, "rx_frames", 7);
	set_counter(&fx->l2, "rx_frames", 5);
	set_counter(&fx->l1, "drop_ip_bad_checksum", 3);
	set_counter(&fx->l2, "drop_ip_bad_checksum", 1);
	fx->l1.tx_errors = 2;
	reply = call(fx, "{\"execute\": \"stats\"}");
	r = ret(reply);
	l1 = json_array_get(json_object_get(r, "links"), 0);
	assert_string_equal(sval(l1, "name"), "c1");
	assert_int_equal(ival(json_object_get(l1, "counters"), "rx_frames"), 7);
	assert_int_equal(ival(json_object_get(l1, "drops"), "ip_bad_checksum"), 3);
	assert_int_equal(ival(l1, "tx_errors"), 2);
	total = json_object_get(r, "total");
	assert_int_equal(ival(json_object_get(total, "counters"), "rx_frames"), 12);
	assert_int_equal(ival(json_object_get(total, "drops"), "ip_bad_checksum"), 4);
	assert_int_equal(ival(total, "tx_errors"), 2);
	json_decref(reply);
}

static void test_stats_link_filter(void **state)
{
	struct fixture *fx = *state;
	json_t *reply, *r, *links;

	set_counter(&fx->l1, "rx_frames", 7);
	set_counter(&fx->l2, "rx_frames", 5);
	reply = call(fx, "{\"execute\": \"stats\", \"arguments\": {\"link\": \"c2\"}}");
	r = ret(reply);
	links = json_object_get(r, "links");
	assert_int_equal(json_array_size(links), 1);
	assert_string_equal(sval(json_array_get(links, 0), "name"), "c2");
	assert_int_equal(ival(json_object_get(json_object_get(r, "total"), "counters"),
			      "rx_frames"), 5);
	json_decref(reply);
}

static void test_stats_unknown_link(void **state)
{
	expect_error(*state, "{\"execute\": \"stats\", \"arguments\": {\"link\": \"nope\"}}",
		     "DeviceNotFound", "'nope'");
	expect_error(*state, "{\"execute\": \"stats\", \"arguments\": {\"link\": 3}}",
		     "GenericError", "'link'");
}

/* --- conns ------------------------------------------------------------------------------- */

/** conns() - ids of the flows `conns` lists with @args ("" = none), in order, in @ids */
static size_t conns(struct fixture *fx, const char *args, uint64_t *ids, size_t max)
{
	char req[256];
	json_t *reply, *flows;
	size_t n;

	snprintf(req, sizeof(req), "{\"execute\": \"conns\"%s%s}",
		 *args ? ", \"arguments\": " : "", args);
	reply = call(fx, req);
	flows = json_object_get(ret(reply), "flows");
	assert_true(json_is_array(flows));
	n = json_array_size(flows);
	for (size_t i = 0; i < n && i < max; i++)
		ids[i] = (uint64_t)ival(json_array_get(flows, i), "id");
	json_decref(reply);
	return n;
}

static void test_conns_all(void **state)
{
	uint64_t ids[8];

	assert_int_equal(conns(*state, "", ids, 8), 3);
	assert_int_equal(ids[0], 17);
	assert_int_equal(ids[1], 18);
	assert_int_equal(ids[2], 19);
}

static void test_conns_flow_json(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"conns\"}");
	json_t *flows = json_object_get(ret(reply), "flows");
	json_t *f = json_array_get(flows, 0), *h, *tw = json_array_get(flows, 1);

	assert_int_equal(ival(f, "id"), 17);
	assert_string_equal(sval(f, "link"), "c1");
	assert_string_equal(sval(f, "proto"), "tcp");
	assert_string_equal(sval(f, "state"), "ESTABLISHED");
	assert_string_equal(sval(f, "origin"), "container");
	assert_string_equal(sval(f, "container"), "10.0.2.100:43122");
	assert_string_equal(sval(f, "peer"), "10.0.2.2:8080");
	assert_string_equal(sval(f, "upstream"), "127.0.0.1:8080");
	assert_int_equal(ival(f, "age_ms"), 5000);
	assert_int_equal(ival(f, "idle_ms"), 10);
	assert_int_equal(ival(json_object_get(f, "bytes"), "from_container"), 5120);
	assert_int_equal(ival(json_object_get(f, "bytes"), "to_container"), 1048576);
	assert_int_equal(ival(json_object_get(f, "packets"), "from_container"), 12);
	assert_int_equal(ival(json_object_get(f, "packets"), "to_container"), 40);
	h = json_object_get(f, "history");
	assert_int_equal(json_array_size(h), 2);
	assert_string_equal(sval(json_array_get(h, 0), "state"), "SYN_RCVD");
	assert_int_equal(ival(json_array_get(h, 0), "at_ms"), 0);
	assert_string_equal(sval(json_array_get(h, 1), "state"), "ESTABLISHED");
	assert_int_equal(ival(json_array_get(h, 1), "at_ms"), 1);
	assert_null(json_object_get(f, "history_lost"));
	/* No TCP state behind these flows: tcp_get_view() says so, and there is no block. */
	assert_null(json_object_get(f, "tcp"));
	/* No upstream yet: null, not "0.0.0.0:0". */
	assert_true(json_is_null(json_object_get(tw, "upstream")));
	assert_string_equal(sval(tw, "peer"), "93.184.216.34:443");
	assert_string_equal(sval(json_array_get(flows, 2), "proto"), "udp");
	assert_string_equal(sval(json_array_get(flows, 2), "state"), "ACTIVE");
	json_decref(reply);
}

static void test_conns_filters(void **state)
{
	struct fixture *fx = *state;
	uint64_t ids[8];

	assert_int_equal(conns(fx, "{\"state\": \"ESTABLISHED\"}", ids, 8), 1);
	assert_int_equal(ids[0], 17);
	assert_int_equal(conns(fx, "{\"state\": \"time_wait\"}", ids, 8), 1);
	assert_int_equal(ids[0], 18);
	assert_int_equal(conns(fx, "{\"state\": \"LISTEN\"}", ids, 8), 0);
	assert_int_equal(conns(fx, "{\"state\": \"ACTIVE\"}", ids, 8), 1);
	assert_int_equal(ids[0], 19);
	assert_int_equal(conns(fx, "{\"proto\": \"udp\"}", ids, 8), 1);
	assert_int_equal(ids[0], 19);
	assert_int_equal(conns(fx, "{\"proto\": \"tcp\"}", ids, 8), 2);
	assert_int_equal(conns(fx, "{\"proto\": \"tcp\", \"state\": \"ACTIVE\"}", ids, 8), 0);
	assert_int_equal(conns(fx, "{\"link\": \"c1\"}", ids, 8), 3);
	assert_int_equal(conns(fx, "{\"link\": \"c2\"}", ids, 8), 0);
	assert_int_equal(conns(fx, "{\"link\": \"c1\", \"proto\": \"tcp\", "
				   "\"state\": \"ESTABLISHED\"}", ids, 8), 1);
	assert_int_equal(conns(fx, "{\"state\": null}", ids, 8), 3);
}

static void test_conns_bad_filters(void **state)
{
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"state\": \"OPEN\"}}",
		     "GenericError", "ESTABLISHED");
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"state\": \"OPEN\"}}",
		     "GenericError", "TIME_WAIT");
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"state\": 4}}",
		     "GenericError", "'state'");
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"proto\": \"icmp\"}}",
		     "GenericError", "icmp");
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"link\": \"c9\"}}",
		     "DeviceNotFound", "c9");
	expect_error(*state, "{\"execute\": \"conns\", \"arguments\": {\"sate\": \"LISTEN\"}}",
		     "GenericError", "'sate'");
}

static void test_conns_ten_thousand_flows(void **state)
{
	struct fixture *fx = *state;
	struct flow_table *t = stack_flows(fx->l2.stack);
	json_t *reply, *flows;
	uint64_t ids[1];
	char *line;

	for (uint32_t i = 0; i < 10000; i++) {
		struct flow *f = flow_alloc(t, 1000 + i, PROTO_TCP, STACK_DEFAULT_ADDR,
					    (uint16_t)(10000 + i), 0x7f000001, 80, T0);

		assert_non_null(f);
		flow_record(f, TCP_ESTABLISHED, T0);
	}
	line = ctl_handle_line(&fx->d, "{\"execute\":\"conns\"}", 19, 1000, 1000);
	reply = json_loads(line, 0, NULL);
	assert_non_null(reply);
	flows = json_object_get(ret(reply), "flows");
	assert_int_equal(json_array_size(flows), 10003);
	assert_int_equal(ival(json_array_get(flows, 10002), "id"), 10999);
	json_decref(reply);
	free(line);
	assert_int_equal(conns(fx, "{\"link\": \"c2\", \"state\": \"ESTABLISHED\"}", ids, 1),
			 10000);
}

/* --- conn -------------------------------------------------------------------------------- */

static void test_conn_by_id(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"conn\", \"arguments\": {\"id\": 18}}");
	json_t *f = ret(reply);

	assert_int_equal(ival(f, "id"), 18);
	assert_string_equal(sval(f, "state"), "TIME_WAIT");
	assert_string_equal(sval(f, "container"), "10.0.2.100:43124");
	assert_int_equal(ival(json_array_get(json_object_get(f, "history"), 1), "at_ms"), 3);
	json_decref(reply);
}

static void test_conn_errors(void **state)
{
	expect_error(*state, "{\"execute\": \"conn\", \"arguments\": {\"id\": 99}}",
		     "DeviceNotFound", "99");
	expect_error(*state, "{\"execute\": \"conn\", \"arguments\": {\"id\": -1}}",
		     "DeviceNotFound", NULL);
	expect_error(*state, "{\"execute\": \"conn\", \"arguments\": {\"id\": \"17\"}}",
		     "GenericError", "'id'");
	expect_error(*state, "{\"execute\": \"conn\", \"arguments\": {\"id\": 17.0}}",
		     "GenericError", "'id'");
	expect_error(*state, "{\"execute\": \"conn\"}", "GenericError", "'id'");
}

static void test_history_overflow_counted(void **state)
{
	struct fixture *fx = *state;
	json_t *reply;
	json_t *f;

	for (int i = 0; i < FLOW_HIST_MAX + 2; i++)
		flow_record(fx->tw, i % 2 ? TCP_ESTABLISHED : TCP_CLOSE_WAIT, T0 + 10000);
	reply = call(fx, "{\"execute\": \"conn\", \"arguments\": {\"id\": 18}}");
	f = ret(reply);
	assert_int_equal(json_array_size(json_object_get(f, "history")), FLOW_HIST_MAX);
	assert_int_equal(ival(f, "history_lost"), 4);
	json_decref(reply);
}

/* --- envelope errors --------------------------------------------------------------------- */

static void test_malformed_requests(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, "garbage", "GenericError", "JSON");
	expect_error(fx, "{\"execute\": \"status\"", "GenericError", "JSON");
	expect_error(fx, "", "GenericError", NULL);
	expect_error(fx, "[1, 2]", "GenericError", "object");
	expect_error(fx, "\"status\"", "GenericError", "object");
	expect_error(fx, "42", "GenericError", "object");
	expect_error(fx, "{}", "GenericError", "execute");
	expect_error(fx, "{\"arguments\": {}}", "GenericError", "execute");
	expect_error(fx, "{\"execute\": 1}", "GenericError", "execute");
	expect_error(fx, "{\"execute\": null}", "GenericError", "execute");
	expect_error(fx, "{\"execute\": \"status\", \"execute\": \"stats\"}", "GenericError",
		     NULL);
	expect_error(fx, "{\"execute\": \"conns\", \"arguments\": [1]}", "GenericError",
		     "arguments");
	expect_error(fx, "{\"execute\": \"conns\", \"arguments\": \"x\"}", "GenericError",
		     "arguments");
	expect_error(fx, "{\"execute\": \"status\", \"arguments\": {\"verbose\": true}}",
		     "GenericError", "verbose");
}

static void test_unknown_and_reserved_commands(void **state)
{
	struct fixture *fx = *state;
	json_t *reply;

	expect_error(fx, "{\"execute\": \"reboot\"}", "CommandNotFound", "reboot");
	expect_error(fx, "{\"execute\": \"STATUS\"}", "CommandNotFound", NULL);
	/* watch exists, but streams events: it needs a socket, which ctl_handle_line lacks */
	expect_error(fx, "{\"execute\": \"watch\"}", "GenericError", "connection");
	/* Port forwards (fwd.c; test_fwd covers them): listing is a read command... */
	reply = call_as(fx, "{\"execute\": \"list_hostfwd\"}", 1000);
	assert_int_equal(json_array_size(json_object_get(ret(reply), "entries")), 0);
	json_decref(reply);
	/* ...adding one mutates: refused to a plain user before anything else... */
	reply = call_as(fx, "{\"execute\": \"add_hostfwd\"}", 1000);
	assert_string_equal(sval(json_object_get(reply, "error"), "class"), "GenericError");
	assert_non_null(strstr(sval(json_object_get(reply, "error"), "desc"), "permission"));
	json_decref(reply);
	/* ...while root gets as far as the missing arguments. */
	expect_error(fx, "{\"execute\": \"add_hostfwd\"}", "GenericError", "arguments.proto");
}

/* --- attach / detach (ctl_links.c) ---------------------------------------------------- */

/** attach_err() - an attach with @args (a JSON object's members) must fail with @needle and
 * leave the daemon's two links as they were */
static void attach_err(struct fixture *fx, const char *args, const char *needle)
{
	char req[1024];

	snprintf(req, sizeof(req), "{\"execute\": \"attach\", \"arguments\": {%s}}", args);
	expect_error(fx, req, "GenericError", needle);
	assert_int_equal(fx->d.nlinks, 2);
	assert_ptr_equal(fx->d.links[0], &fx->l1);
	assert_ptr_equal(fx->d.links[1], &fx->l2);
}

static void test_attach_needs_privilege(void **state)
{
	json_t *reply = call_as(*state, "{\"execute\": \"attach\", \"arguments\": "
					"{\"name\": \"c3\", \"netns\": \"c3\"}}", 1000);

	assert_non_null(strstr(sval(json_object_get(reply, "error"), "desc"), "permission"));
	json_decref(reply);
	reply = call_as(*state, "{\"execute\": \"detach\", \"arguments\": {\"name\": \"c1\"}}",
			1000);
	assert_non_null(strstr(sval(json_object_get(reply, "error"), "desc"), "permission"));
	json_decref(reply);
	assert_int_equal(((struct fixture *)*state)->d.nlinks, 2);
}

/* Finding 4: the run-time policy commands; mutating ones need root or admin-group */
static void test_policy_mutations_need_privilege(void **state)
{
	struct fixture *fx = *state;
	static const char *const reqs[] = {
		"{\"execute\": \"policy_add\", \"arguments\": {\"rule\": \"10.0.0.0/8\"}}",
		"{\"execute\": \"policy_remove\", \"arguments\": {\"rule\": \"10.0.0.0/8\"}}",
		"{\"execute\": \"policy_set\", \"arguments\": {\"link\": \"c1\", "
		"\"deny_link_local\": true}}",
	};
	json_t *reply;

	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		reply = call_as(fx, reqs[i], 1000);
		assert_non_null(strstr(sval(json_object_get(reply, "error"), "desc"), "permission"));
		json_decref(reply);
	}
	assert_int_equal(fx->d.cfg.policy.nrules, 0);
	assert_false(fx->l1.cfg.policy.deny_link_local);
	reply = call_as(fx, "{\"execute\": \"policy_list\"}", 1000);
	assert_true(json_is_object(json_object_get(ret(reply), "default")));
	json_decref(reply);
}

static void test_policy_add_list_remove(void **state)
{
	struct fixture *fx = *state;
	json_t *reply, *r, *links;

	reply = call(fx, "{\"execute\": \"policy_add\", \"arguments\": {\"link\": \"c1\", "
			 "\"rule\": \" 10.0.2.2:22  tcp\"}}");
	r = ret(reply);
	assert_string_equal(sval(r, "rule"), "10.0.2.2/32:22 tcp");
	assert_string_equal(sval(r, "link"), "c1");
	json_decref(reply);
	assert_int_equal(fx->l1.cfg.policy.nrules, 1);
	assert_int_equal(fx->l2.cfg.policy.nrules, 0);
	assert_int_equal(fx->d.cfg.policy.nrules, 0);
	json_decref(call(fx, "{\"execute\": \"policy_add\", \"arguments\": "
			     "{\"rule\": \"169.254.0.0/16\"}}"));
	assert_int_equal(fx->d.cfg.policy.nrules, 1);
	json_decref(call(fx, "{\"execute\": \"policy_set\", \"arguments\": "
			     "{\"link\": \"c2\", \"deny_host_addresses\": true}}"));
	assert_true(fx->l2.cfg.policy.deny_host_addrs);

	reply = call(fx, "{\"execute\": \"policy_list\", \"arguments\": {\"link\": \"c1\"}}");
	r = ret(reply);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(r, "default"), "deny"), 0)),
			    "169.254.0.0/16 any");
	links = json_object_get(r, "links");
	assert_int_equal(json_array_size(links), 1);
	assert_string_equal(sval(json_array_get(links, 0), "name"), "c1");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_array_get(links, 0), "deny"), 0)),
			    "10.0.2.2/32:22 tcp");
	json_decref(reply);

	expect_error(fx, "{\"execute\": \"policy_remove\", \"arguments\": {\"link\": \"c1\", "
			 "\"rule\": \"10.0.2.2/32:22 udp\"}}", "GenericError", "no rule");
	json_decref(call(fx, "{\"execute\": \"policy_remove\", \"arguments\": {\"link\": "
			     "\"c1\", \"rule\": \"10.0.2.2/32:22 tcp\"}}"));
	assert_int_equal(fx->l1.cfg.policy.nrules, 0);
}

static void test_policy_errors_change_nothing(void **state)
{
	struct fixture *fx = *state;
	char req[256];

	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": {\"link\": \"nope\", "
			 "\"rule\": \"10.0.0.0/8\"}}", "DeviceNotFound", "nope");
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": {\"link\": 7, "
			 "\"rule\": \"10.0.0.0/8\"}}", "GenericError", "'link' must be a string");
	expect_error(fx, "{\"execute\": \"policy_add\"}", "GenericError", "'rule'");
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": {\"rule\": 5}}",
		     "GenericError", "'rule' must be a string");
	/* an embedded NUL is refused by the envelope already (JSON_ALLOW_NUL is off) */
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": "
			 "{\"rule\": \"10.0.0.0/8\\u0000 tcp\"}}", "GenericError", "NUL");
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": "
			 "{\"rule\": \"10.0.0.1/8\"}}", "GenericError", "host bits");
	expect_error(fx, "{\"execute\": \"policy_set\", \"arguments\": {}}", "GenericError",
		     "deny_link_local");
	expect_error(fx, "{\"execute\": \"policy_set\", \"arguments\": "
			 "{\"deny_link_local\": \"yes\"}}", "GenericError", "true or false");
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": "
			 "{\"rule\": \"10.0.0.0/8\", \"port\": 1}}", "GenericError", "port");
	assert_int_equal(fx->d.cfg.policy.nrules, 0);
	assert_false(fx->d.cfg.policy.deny_link_local);
	/* the table is bounded */
	for (int i = 0; i < POLICY_MAX_RULES; i++) {
		json_t *reply;

		snprintf(req, sizeof(req), "{\"execute\": \"policy_add\", \"arguments\": "
			 "{\"rule\": \"10.%d.0.0/16\"}}", i);
		reply = call(fx, req);
		ret(reply);
		json_decref(reply);
	}
	expect_error(fx, "{\"execute\": \"policy_add\", \"arguments\": "
			 "{\"rule\": \"11.0.0.0/8\"}}", "GenericError", "at most 64");
	assert_int_equal(fx->d.cfg.policy.nrules, POLICY_MAX_RULES);
}

/* attach's deny arguments go through the file's parser; a bad one attaches nothing */
static void test_attach_deny_arguments_checked(void **state)
{
	struct fixture *fx = *state;

	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", "
		       "\"deny\": [\"10.0.0.0/8\", \"1.2.3.4:0\"]", "deny[1]: ");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"deny\": [7]",
		   "argument 'deny' must be a string");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"deny\": \"300.0.0.0/8\"",
		   "deny: ");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"deny_link_local\": 1",
		   "true or false");
}

static void test_attach_errors_change_nothing(void **state)
{
	struct fixture *fx = *state;

	/* the file's messages, with the argument's name in front */
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"mtu\": 1",
		   "mtu: \"1\" is not a number between 576 and 65521");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"address\": \"10.0.2.100\"",
		   "address: \"10.0.2.100\" is not ADDRESS/PREFIX");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"ifname\": \"a/b\"", "ifname: ");
	attach_err(fx, "\"name\": \"a b\", \"netns\": \"c3\"", "name: ");
	attach_err(fx, "\"name\": \"\", \"netns\": \"c3\"", "name: ");
	attach_err(fx, "\"name\": \"c3\", \"pid\": 0", "pid: \"0\" is not a number");
	/* link_cfg_check(): the rules spanning options */
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"gateway\": \"10.9.9.9\"",
		   "c3: gateway 10.9.9.9 must be another address inside 10.0.2.100/24");
	attach_err(fx, "\"name\": \"c3\"", "c3: no namespace: give netns or pid");
	/* the request's own rules */
	attach_err(fx, "\"netns\": \"c3\"", "argument 'name' is required");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"pid\": 1",
		   "give either netns or pid, not both");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"mtu\": \"1500\"",
		   "argument 'mtu' must be an integer");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"configure\": 1",
		   "argument 'configure' must be true or false");
	attach_err(fx, "\"name\": 3, \"netns\": \"c3\"", "argument 'name' must be a string");
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"c3\", \"cidr\": \"10.0.3.0/24\"",
		   "command 'attach' has no argument 'cidr'");
	/* link_attach(): a name in use is refused before anything is opened */
	attach_err(fx, "\"name\": \"c1\", \"netns\": \"/run/netns/c1\"",
		   "c1: a link of that name is attached already");
	/* a namespace that is not there */
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"/nonexistent/tmu-ns\"",
		   "/nonexistent/tmu-ns: No such file or directory");
	/* the daemon's own namespace: its routing would be taken over */
	attach_err(fx, "\"name\": \"c3\", \"netns\": \"/proc/self/ns/net\"",
		   "/proc/self/ns/net: this is tapird's own network namespace");
	/* a FIFO: refused unopened (open() would block the daemon), as is a directory */
	{
		char dir[] = "/tmp/tmu-ctl-XXXXXX", fifo[64], args[256], want[128];

		assert_non_null(mkdtemp(dir));
		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		snprintf(args, sizeof(args), "\"name\": \"c3\", \"netns\": \"%s\"", fifo);
		snprintf(want, sizeof(want), "%s: not a network namespace", fifo);
		attach_err(fx, args, want);
		snprintf(args, sizeof(args), "\"name\": \"c3\", \"netns\": \"%s\"", dir);
		snprintf(want, sizeof(want), "%s: not a network namespace", dir);
		attach_err(fx, args, want);
		unlink(fifo);
		rmdir(dir);
	}
}

static void test_detach_errors(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, "{\"execute\": \"detach\", \"arguments\": {\"name\": \"c9\"}}",
		     "DeviceNotFound", "no link named 'c9'");
	expect_error(fx, "{\"execute\": \"detach\"}", "GenericError",
		     "argument 'name' is required");
	expect_error(fx, "{\"execute\": \"detach\", \"arguments\": {\"name\": 1}}",
		     "GenericError", "argument 'name' must be a string");
	assert_int_equal(fx->d.nlinks, 2);
}

static void test_status_and_stats_with_no_link(void **state)
{
	struct fixture *fx = *state;
	unsigned int n = fx->d.nlinks;
	json_t *reply;

	/* tapird starts with no link and waits for attach: every listing still answers */
	fx->d.nlinks = 0;
	reply = call(fx, "{\"execute\": \"status\"}");
	assert_int_equal(json_array_size(json_object_get(ret(reply), "links")), 0);
	assert_int_equal(ival(ret(reply), "flows_total"), 0);
	json_decref(reply);
	reply = call(fx, "{\"execute\": \"stats\"}");
	assert_int_equal(json_array_size(json_object_get(ret(reply), "links")), 0);
	json_decref(reply);
	reply = call(fx, "{\"execute\": \"conns\"}");
	assert_int_equal(json_array_size(json_object_get(ret(reply), "flows")), 0);
	json_decref(reply);
	reply = call(fx, "{\"execute\": \"list_hostfwd\"}");
	assert_int_equal(json_array_size(json_object_get(ret(reply), "entries")), 0);
	json_decref(reply);
	fx->d.nlinks = n;
}

static void test_read_commands_for_any_uid(void **state)
{
	json_t *reply = call_as(*state, "{\"execute\": \"status\"}", 1000);

	ret(reply);
	json_decref(reply);
}

static void test_oversized_request(void **state)
{
	struct fixture *fx = *state;
	size_t len = CTL_MAX_REQUEST + 1;
	char *big = malloc(len);
	char *line;
	json_t *reply;

	assert_non_null(big);
	memset(big, ' ', len);
	memcpy(big, "{\"execute\": \"status\"}", 21); /* valid JSON, then padding: too long */
	line = ctl_handle_line(&fx->d, big, len, 0, 0);
	reply = json_loads(line, 0, NULL);
	assert_non_null(reply);
	assert_non_null(strstr(sval(json_object_get(reply, "error"), "desc"), "too large"));
	json_decref(reply);
	free(line);
	/* Exactly at the limit is fine. */
	line = ctl_handle_line(&fx->d, big, CTL_MAX_REQUEST, 0, 0);
	reply = json_loads(line, 0, NULL);
	ret(reply);
	json_decref(reply);
	free(line);
	free(big);
}

static void test_deep_nesting_and_nul(void **state)
{
	struct fixture *fx = *state;
	char deep[20001];
	char *line;
	json_t *reply;

	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	expect_error(fx, deep, "GenericError", NULL);
	static const char nul[] = "{\"execute\": \"st\0atus\"}";

	line = ctl_handle_line(&fx->d, nul, sizeof(nul) - 1, 0, 0);
	reply = json_loads(line, 0, NULL);
	assert_non_null(json_object_get(reply, "error"));
	json_decref(reply);
	free(line);
}

static void test_id_echoed(void **state)
{
	struct fixture *fx = *state;
	json_t *reply = call(fx, "{\"execute\": \"status\", \"id\": \"abc\"}");

	assert_string_equal(sval(reply, "id"), "abc");
	json_decref(reply);
	reply = call(fx, "{\"execute\": \"nope\", \"id\": 7}");
	assert_int_equal(ival(reply, "id"), 7);
	json_decref(reply);
}

/* --- flow_to_json directly ------------------------------------------------------------- */

static void test_flow_json_host_origin_and_end(void **state)
{
	struct fixture *fx = *state;
	json_t *j;

	fx->est->origin = FLOW_ORIGIN_HOST;
	fx->est->end = FLOW_END_RST_UPSTREAM;
	fx->est->last_us = fake_now_us + 5; /* a clock a hair ahead: never negative */
	j = flow_to_json(&fx->l1, fx->est, fake_now_us, false);
	assert_string_equal(sval(j, "origin"), "host");
	assert_string_equal(sval(j, "end"), "rst_upstream");
	assert_int_equal(ival(j, "idle_ms"), 0);
	json_decref(j);
}

/**
 * same_as_jansson() - flow_json_summary() of @f writes exactly what
 * json_dumps(flow_json(..., false), JSON_COMPACT) writes (so json_equal() holds too), and a
 * buffer too short for it gets a NUL-terminated prefix and the full length
 */
static void same_as_jansson(const char *lname, const struct flow *f, const struct tcp_view *v,
			    uint64_t now_us)
{
	json_t *o = flow_json(lname, f, v, now_us, false), *back;
	char *d = o ? json_dumps(o, JSON_COMPACT) : NULL;
	char buf[4096], small[64];
	size_t n, cut;

	assert_non_null(d);
	n = flow_json_summary(buf, sizeof(buf), lname, f, v, now_us);
	assert_int_equal(n, strlen(d));
	assert_string_equal(buf, d);
	back = json_loads(buf, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(back, o));
	for (cut = 0; cut <= sizeof(small); cut += 21) {
		memset(small, 'x', sizeof(small));
		assert_int_equal(flow_json_summary(small, cut, lname, f, v, now_us), n);
		if (cut) {
			assert_int_equal(strlen(small), cut - 1);
			assert_memory_equal(small, d, cut - 1);
		} else {
			assert_int_equal(small[0], 'x'); /* nothing written at all */
		}
	}
	json_decref(back);
	json_decref(o);
	free(d);
}

static void test_flow_json_summary_matches_jansson(void **state)
{
	static const char *const names[] = {
		"c1", "", "a\"b\\c/d", "tab\there\nnl\rcr\bbs\ffeed", "\x01\x02\x1f\x7f end",
		"caf\xc3\xa9 \xe2\x82\xac", "bad\xff utf8", "\xc0\x80 overlong",
		"a long name with quotes \"\"\"\" and backslashes \\\\\\\\ to the limit....",
	};
	struct fixture *fx = *state;
	struct tcp_view v;
	struct flow *lst;
	char buf[4096];
	unsigned int i, st;
	json_t *o;
	char *d;

	/* the live flows behind `conns`: flow_summary() agrees with flow_to_json() */
	for (i = 0; i < 3; i++) {
		struct flow *f = i == 0 ? fx->est : i == 1 ? fx->tw : fx->udp;

		o = flow_to_json(&fx->l1, f, fake_now_us, false);
		d = json_dumps(o, JSON_COMPACT);
		assert_int_equal(flow_summary(buf, sizeof(buf), &fx->l1, f, fake_now_us),
				 strlen(d));
		assert_string_equal(buf, d);
		json_decref(o);
		free(d);
	}
	/* a port forward's LISTEN row on 0.0.0.0, host origin */
	lst = add_flow(&fx->l2, 40, PROTO_TCP, 8080, 0, 0);
	lst->state = TCP_LISTEN;
	lst->origin = FLOW_ORIGIN_HOST;
	lst->uport = 8080;
	same_as_jansson("c2", lst, NULL, fake_now_us);
	/* every link name: escapes (RFC 8259 7), UTF-8 passed through, invalid UTF-8 as "?" */
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		same_as_jansson(names[i], fx->est, NULL, fake_now_us);
		same_as_jansson(names[i], fx->udp, NULL, fake_now_us);
	}
	/* every state of both protocols (and one past), every end reason, with and without a
	 * "tcp" block, window scaling on and off, extreme counters */
	memset(&v, 0, sizeof(v));
	for (st = 0; st <= TCP_TIME_WAIT + 1; st++) {
		fx->est->state = (uint8_t)st;
		fx->udp->state = (uint8_t)(st % 4);
		fx->est->end = (uint8_t)(st % (FLOW_END_SHUTDOWN + 1));
		fx->est->origin = st % 2 ? FLOW_ORIGIN_HOST : FLOW_ORIGIN_CONTAINER;
		fx->est->uaddr = st % 3 ? 0x7f000001 : 0;
		v.snd_una = 0xffffffffu - st;
		v.snd_nxt = st;
		v.snd_wnd = 65535u << (st % 14);
		v.rcv_nxt = 0x80000000u;
		v.rcv_wnd = 1u << st;
		v.mss = (uint16_t)(65535 - st);
		v.wscale_snd = (int8_t)(st % 3 == 0 ? -1 : (int)st % 15);
		v.wscale_rcv = (int8_t)(st % 5 == 0 ? -1 : 14);
		v.srtt_us = 0xffffffffu;
		v.rto_ms = 200 + st;
		v.retransmits = st % 2 ? 0 : UINT64_MAX >> 1;
		same_as_jansson("c1", fx->est, &v, fake_now_us);
		same_as_jansson("c1", fx->est, NULL, fake_now_us);
		same_as_jansson("c1", fx->udp, NULL, fake_now_us);
	}
	fx->est->bytes_in = fx->est->pkts_out = (uint64_t)INT64_MAX;
	fx->est->created_us = fake_now_us + 1; /* a clock a hair ahead: 0, never negative */
	same_as_jansson("c1", fx->est, &v, fake_now_us);
	/* a full history plus lost transitions ("history_lost") */
	for (i = 0; i < FLOW_HIST_MAX + 3; i++)
		flow_record(fx->tw, i % 2 ? TCP_ESTABLISHED : TCP_CLOSE_WAIT, T0 + 1000 * i);
	assert_true(fx->tw->hist_lost > 0);
	same_as_jansson(names[8], fx->tw, &v, fake_now_us);
	fx->tw->hist_lost = UINT32_MAX;
	same_as_jansson("c1", fx->tw, &v, fake_now_us);
	same_as_jansson("c1", fx->tw, &v, 0);
}

/* --- the monitor: closed-flow ring and event fan-out --------------------------------------- */

/**
 * struct sink_log - what a test sink received
 * @n:		events
 * @last:	the last one
 */
struct sink_log {
	int n;
	char last[2048];
};

static void test_sink(void *arg, const char *line, size_t len)
{
	struct sink_log *lg = arg;

	lg->n++;
	snprintf(lg->last, sizeof(lg->last), "%.*s", (int)len, line);
}

static void test_monitor_closed_flow_in_conns_all_and_conn(void **state)
{
	struct fixture *fx = *state;
	json_t *reply, *flows, *f = NULL;
	uint64_t id = fx->est->id;

	fx->d.mon = monitor_new(&fx->d, 2);
	assert_non_null(fx->d.mon);
	fx->est->end = FLOW_END_RST_UPSTREAM;
	monitor_flow_event(&fx->l1, fx->est, STACK_EV_CLOSE, TCP_ESTABLISHED);
	assert_int_equal(monitor_closed_count(fx->d.mon), 1);
	flow_free(stack_flows(fx->l1.stack), fx->est);
	fx->est = NULL;
	reply = call(fx, "{\"execute\": \"conns\", \"arguments\": {\"state\": \"CLOSED\", "
			 "\"all\": true}}");
	flows = json_object_get(ret(reply), "flows");
	for (size_t i = 0; i < json_array_size(flows); i++)
		if ((uint64_t)ival(json_array_get(flows, i), "id") == id)
			f = json_array_get(flows, i);
	assert_non_null(f);
	assert_string_equal(sval(f, "state"), "CLOSED");
	assert_string_equal(sval(f, "end"), "rst_upstream");
	assert_string_equal(sval(f, "last_state"), "ESTABLISHED");
	assert_int_equal(ival(json_object_get(f, "bytes"), "to_container"), 1048576);
	json_decref(reply);
	/* without "all", closed flows are not listed */
	reply = call(fx, "{\"execute\": \"conns\", \"arguments\": {\"state\": \"CLOSED\"}}");
	assert_int_equal(json_array_size(json_object_get(ret(reply), "flows")), 0);
	json_decref(reply);
	/* conn finds it in the ring */
	reply = call(fx, "{\"execute\": \"conn\", \"arguments\": {\"id\": 17}}");
	assert_string_equal(sval(ret(reply), "state"), "CLOSED");
	assert_non_null(strstr(sval(ret(reply), "closed_at"), "Z"));
	json_decref(reply);
	monitor_free(fx->d.mon);
	fx->d.mon = NULL;
}

static void test_monitor_ring_keeps_the_newest(void **state)
{
	struct fixture *fx = *state;
	struct flow f = *fx->tw;
	uint64_t first, last;

	fx->d.mon = monitor_new(&fx->d, 3);
	for (uint64_t i = 1; i <= 5; i++) {
		f.id = 100 + i;
		monitor_flow_event(&fx->l1, &f, STACK_EV_CLOSE, f.state);
	}
	assert_int_equal(monitor_closed_count(fx->d.mon), 3);
	assert_int_equal(monitor_closed_at(fx->d.mon, 0)->f.id, 103);
	assert_int_equal(monitor_closed_at(fx->d.mon, 2)->f.id, 105);
	assert_null(monitor_closed_at(fx->d.mon, 3));
	monitor_closed_seq_range(fx->d.mon, &first, &last);
	assert_int_equal(last - first, 2);
	assert_null(monitor_closed_by_seq(fx->d.mon, first - 1));
	assert_int_equal(monitor_closed_by_seq(fx->d.mon, last)->f.id, 105);
	monitor_free(fx->d.mon);
	fx->d.mon = NULL;
}

static void test_monitor_events_only_to_matching_watchers(void **state)
{
	struct fixture *fx = *state;
	struct monitor_filter all = { 0 }, est = { .state = "ESTABLISHED" },
			      udp = { .proto = PROTO_UDP }, other = { .link = "c2" },
			      byid = { .id = 17 };
	struct sink_log l_all = { 0 }, l_est = { 0 }, l_udp = { 0 }, l_other = { 0 },
			l_id = { 0 };
	json_t *ev;

	fx->d.mon = monitor_new(&fx->d, 0);
	monitor_watch_add(fx->d.mon, &all, test_sink, &l_all);
	monitor_watch_add(fx->d.mon, &est, test_sink, &l_est);
	monitor_watch_add(fx->d.mon, &udp, test_sink, &l_udp);
	monitor_watch_add(fx->d.mon, &other, test_sink, &l_other);
	monitor_watch_add(fx->d.mon, &byid, test_sink, &l_id);
	assert_int_equal(monitor_watchers(fx->d.mon), 5);
	/* est: SYN_RCVD -> ESTABLISHED was its last transition; tw: FIN_WAIT_2 -> TIME_WAIT */
	monitor_flow_event(&fx->l1, fx->est, STACK_EV_STATE, TCP_SYN_RCVD);
	monitor_flow_event(&fx->l1, fx->tw, STACK_EV_STATE, TCP_FIN_WAIT_2);
	assert_int_equal(l_all.n, 2);
	assert_int_equal(l_est.n, 1);
	assert_int_equal(l_udp.n, 0);
	assert_int_equal(l_other.n, 0);
	assert_int_equal(l_id.n, 1);
	ev = json_loads(l_est.last, 0, NULL);
	assert_non_null(ev);
	assert_string_equal(sval(ev, "event"), "state");
	assert_string_equal(sval(json_object_get(ev, "data"), "from"), "SYN_RCVD");
	assert_string_equal(sval(json_object_get(ev, "data"), "state"), "ESTABLISHED");
	assert_int_equal(ival(json_object_get(ev, "data"), "at_ms"), 1);
	assert_true(ival(json_object_get(ev, "timestamp"), "seconds") > 0);
	json_decref(ev);
	monitor_free(fx->d.mon);
	fx->d.mon = NULL;
}

/* --- the socket server ------------------------------------------------------------------- */

/**
 * struct srvfx - a server on a private loop, at a path in a fresh directory
 */
struct srvfx {
	struct fixture *fx;
	struct event_base *base;
	struct ctl_server *srv;
	char dir[64];
	char path[100];
};

static int srv_setup(void **state)
{
	struct srvfx *s = calloc(1, sizeof(*s));
	char err[256] = "";

	assert_non_null(s);
	setup((void **)&s->fx);
	s->base = event_base_new();
	assert_non_null(s->base);
	s->fx->d.base = s->base;
	snprintf(s->dir, sizeof(s->dir), "/tmp/tapir-ctl-test.XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	/* A parent that does not exist yet: the server creates it. */
	snprintf(s->path, sizeof(s->path), "%s/run/tapird/control.sock", s->dir);
	s->srv = ctl_server_new(&s->fx->d, s->path, err, sizeof(err));
	if (!s->srv)
		fail_msg("ctl_server_new: %s", err);
	s->fx->d.ctl = s->srv; /* as main.c does: `status` shows the server's counters */
	*state = s;
	return 0;
}

static int srv_teardown(void **state)
{
	struct srvfx *s = *state;
	char p[160];

	ctl_server_free(s->srv);
	s->fx->d.ctl = NULL;
	event_base_free(s->base);
	snprintf(p, sizeof(p), "%s/run/tapird", s->dir);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/run", s->dir);
	rmdir(p);
	rmdir(s->dir);
	teardown((void **)&s->fx);
	free(s);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void pump(struct srvfx *s)
{
	event_base_loop(s->base, EVLOOP_NONBLOCK);
}

/** send_all() - write @len bytes, running the loop when the socket is full */
static void send_all(struct srvfx *s, int fd, const char *buf, size_t len)
{
	for (int spins = 0; len && spins < 100000; spins++) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno != EAGAIN) {
			fail_msg("send: %s", strerror(errno));
		}
		pump(s);
	}
	assert_int_equal(len, 0);
}

/**
 * read_reply() - run the loop until one line arrives on @fd (bounded: 5 s)
 * Return: the parsed line, or NULL on EOF without a line
 */
static json_t *read_reply(struct srvfx *s, int fd)
{
	static char buf[1 << 22];
	static size_t have;
	static int have_fd = -1;
	struct timespec t0, t;
	json_t *j;

	if (have_fd != fd)
		have = 0;
	have_fd = fd;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		ssize_t n;

		if (nl) {
			size_t len = (size_t)(nl - buf);

			j = json_loadb(buf, len, 0, NULL);
			assert_non_null(j);
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
			return j;
		}
		pump(s);
		n = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (n == 0)
			return NULL;
		if (n > 0)
			have += (size_t)n;
		else
			assert_int_equal(errno, EAGAIN);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 5)
			fail_msg("no reply within 5 s");
	}
}

/** wait_eof() - run the loop until the server closes @fd (bounded: 5 s) */
static bool wait_eof(struct srvfx *s, int fd)
{
	struct timespec t0, t;
	char b[4096];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ssize_t n;

		pump(s);
		n = recv(fd, b, sizeof(b), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec <= 5);
	return false;
}

static void expect_return(json_t *j)
{
	assert_non_null(j);
	ret(j);
	json_decref(j);
}

static void expect_error_reply(json_t *j, const char *needle)
{
	json_t *e;

	assert_non_null(j);
	e = json_object_get(j, "error");
	assert_non_null(e);
	if (needle)
		assert_non_null(strstr(sval(e, "desc"), needle));
	json_decref(j);
}

static void test_srv_socket_mode_and_parent(void **state)
{
	struct srvfx *s = *state;
	struct stat st;
	char p[160];

	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	snprintf(p, sizeof(p), "%s/run/tapird", s->dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

static void test_srv_many_requests_one_connection(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path);
	const char *req = "{\"execute\": \"status\"}\n{\"execute\": \"stats\"}\n"
			  "\n{\"execute\": \"nope\"}\n{\"execute\": \"conns\"}\r\n";

	assert_true(fd >= 0);
	send_all(s, fd, req, strlen(req));
	expect_return(read_reply(s, fd));
	expect_return(read_reply(s, fd));
	expect_error_reply(read_reply(s, fd), "nope"); /* the blank line got no reply */
	expect_return(read_reply(s, fd));
	for (int i = 0; i < 50; i++) {
		send_all(s, fd, "{\"execute\": \"status\"}\n", 22);
		expect_return(read_reply(s, fd));
	}
	close(fd);
}

static void test_srv_errors_keep_serving(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path), fd2;
	static const char *const bad[] = { "garbage\n", "[1]\n", "{\"execute\": \"x\"}\n",
					   "{\"execute\": 3}\n" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		send_all(s, fd, bad[i], strlen(bad[i]));
		expect_error_reply(read_reply(s, fd), NULL);
	}
	send_all(s, fd, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fd));
	/* Another client is served all along. */
	fd2 = connect_to(s->path);
	send_all(s, fd2, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fd2));
	close(fd2);
	close(fd);
}

static void test_srv_oversized_line_discarded(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path);
	size_t len = 70 * 1024;
	char *big = malloc(len);

	assert_non_null(big);
	memset(big, 'x', len);
	send_all(s, fd, big, len); /* no newline yet */
	expect_error_reply(read_reply(s, fd), "too large");
	send_all(s, fd, big, 1000); /* more of the same line: discarded silently */
	send_all(s, fd, "tail\n{\"execute\": \"status\"}\n", 27);
	expect_return(read_reply(s, fd));
	/* A too-long line that arrives whole, newline included, is refused too. */
	big[len - 1] = '\n';
	send_all(s, fd, big, len);
	expect_error_reply(read_reply(s, fd), "too large");
	send_all(s, fd, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fd));
	free(big);
	close(fd);
}

static void test_srv_one_shot_client(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path);

	/* No newline at all: the shutdown ends the request. */
	send_all(s, fd, "{\"execute\": \"status\"}", 21);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect_return(read_reply(s, fd));
	assert_true(wait_eof(s, fd));
	close(fd);
	fd = connect_to(s->path);
	send_all(s, fd, "{\"execute\": \"status\"}\n", 22);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect_return(read_reply(s, fd));
	assert_true(wait_eof(s, fd));
	close(fd);
}

static void test_srv_client_limit(void **state)
{
	struct srvfx *s = *state;
	int fds[CTL_MAX_CLIENTS], extra;

	if (geteuid() != 0)
		skip(); /* any other uid has CTL_MAX_CLIENTS_PER_UID (the per-uid test covers it) */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = connect_to(s->path);
		assert_true(fds[i] >= 0);
		pump(s);
	}
	for (int i = 0; i < 10; i++)
		pump(s);
	extra = connect_to(s->path);
	assert_true(extra >= 0);
	expect_error_reply(read_reply(s, extra), "too many");
	assert_true(wait_eof(s, extra));
	close(extra);
	/* The others still work; closing one makes room. */
	send_all(s, fds[0], "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fds[0]));
	close(fds[1]);
	for (int i = 0; i < 10; i++)
		pump(s);
	extra = connect_to(s->path);
	send_all(s, extra, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, extra));
	close(extra);
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (i != 1)
			close(fds[i]);
	for (int i = 0; i < 10; i++)
		pump(s);
}

static void test_srv_slow_reader_cut_loose(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path), ok = connect_to(s->path);
	static const char req[] = "{\"execute\":\"status\"}\n";
	int rcv = 4096;
	bool closed = false;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* Ask for ~2 KB replies again and again (well past 16 MiB) without reading them. */
	for (int i = 0; i < 20000 && !closed; i++) {
		ssize_t n = send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);

		if (n < 0 && errno != EAGAIN)
			closed = true;
		if (i % 64 == 0)
			pump(s);
	}
	/* Once over the limit the server drops it: reading now ends in EOF or a reset. */
	assert_true(wait_eof(s, fd));
	close(fd);
	/* Everyone else is fine. */
	send_all(s, ok, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, ok));
	close(ok);
}

/**
 * add_flows() - @n TCP flows on link c2 (ids from 1000)
 */
static void add_flows(struct srvfx *s, uint32_t n)
{
	struct flow_table *t = stack_flows(s->fx->l2.stack);

	for (uint32_t i = 0; i < n; i++)
		assert_non_null(flow_alloc(t, 1000 + i, PROTO_TCP, STACK_DEFAULT_ADDR,
					   (uint16_t)(10000 + i), 0x7f000001, 80, T0));
}

static void test_srv_conns_sliced_complete_and_in_order(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path);
	static const char req[] = "{\"execute\":\"conns\",\"arguments\":{\"link\":\"c2\"},"
				  "\"id\":7}\n{\"execute\":\"status\",\"id\":8}\n";
	json_t *j, *flows;

	add_flows(s, 2500); /* three slices */
	send_all(s, fd, req, sizeof(req) - 1);
	j = read_reply(s, fd);
	assert_non_null(j);
	flows = json_object_get(ret(j), "flows");
	assert_int_equal(json_array_size(flows), 2500);
	assert_int_equal(ival(j, "id"), 7);
	for (size_t i = 0; i < 2500; i++)
		assert_int_equal(ival(json_array_get(flows, i), "id"), 1000 + (json_int_t)i);
	json_decref(j);
	/* the request queued behind the sliced reply is answered after it, not inside it */
	j = read_reply(s, fd);
	assert_int_equal(ival(j, "id"), 8);
	expect_return(j);
	close(fd);
}

static void test_srv_conns_skips_flows_closed_mid_listing(void **state)
{
	struct srvfx *s = *state;
	struct flow_table *t = stack_flows(s->fx->l2.stack);
	int fd = connect_to(s->path);
	static const char req[] = "{\"execute\":\"conns\",\"arguments\":{\"link\":\"c2\"}}\n";
	int rcv = 4096;
	json_t *j, *flows;
	struct flow *f;

	add_flows(s, 3000);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(req) - 1);
	/* The first slice is written at once; the client does not read, so the rest waits. */
	for (int i = 0; i < 20; i++)
		pump(s);
	/* Meanwhile the last 500 flows close, and one new flow takes a freed slot. */
	for (f = flow_next(t, NULL); f; f = flow_next(t, f))
		if (f->id >= 3500)
			flow_free(t, f);
	assert_non_null(flow_alloc(t, 99999, PROTO_TCP, STACK_DEFAULT_ADDR, 9, 0x7f000001, 80,
				   T0));
	j = read_reply(s, fd);
	flows = json_object_get(ret(j), "flows");
	assert_int_equal(json_array_size(flows), 2500);
	for (size_t i = 0; i < json_array_size(flows); i++)
		assert_true(ival(json_array_get(flows, i), "id") < 3500);
	json_decref(j);
	close(fd);
}

static void test_srv_conns_slow_reader_held_not_dropped(void **state)
{
	struct srvfx *s = *state;
	int fd = connect_to(s->path), ok = connect_to(s->path);
	static const char req[] = "{\"execute\":\"conns\"}\n";
	int rcv = 4096;
	char b[4096];

	add_flows(s, 10000);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* Forty ~5 MB listings asked for, none read: the server writes slices only as the
	 * client drains them, so it holds no more than a slice or two, and keeps the client. */
	for (int i = 0; i < 40; i++) {
		send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
		pump(s);
	}
	for (int i = 0; i < 50; i++)
		pump(s);
	assert_true(recv(fd, b, sizeof(b), MSG_PEEK) > 0); /* still connected, data waiting */
	/* Everyone else is served meanwhile. */
	send_all(s, ok, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, ok));
	close(ok);
	close(fd);
}

static void test_srv_refuses_live_socket_and_replaces_stale(void **state)
{
	struct srvfx *s = *state;
	struct event_base *b2 = event_base_new();
	struct tapird d2 = { .base = b2 };
	struct ctl_server *srv2;
	char err[256] = "";
	int fd;

	/* A live server holds the path: a second one must refuse, naming it. */
	srv2 = ctl_server_new(&d2, s->path, err, sizeof(err));
	assert_null(srv2);
	assert_non_null(strstr(err, s->path));
	assert_non_null(strstr(err, "listening"));
	/* Still reachable after the refusal (the socket file was not removed). */
	fd = connect_to(s->path);
	assert_true(fd >= 0);
	close(fd);
	/* Simulate a crash: close the listener without unlinking; a new server takes over. */
	ctl_server_free(s->srv);
	s->srv = NULL;
	s->fx->d.ctl = NULL;
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", s->path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	close(fd); /* a socket file with no listener: stale */
	s->srv = ctl_server_new(&s->fx->d, s->path, err, sizeof(err));
	if (!s->srv)
		fail_msg("stale socket not replaced: %s", err);
	s->fx->d.ctl = s->srv;
	fd = connect_to(s->path);
	send_all(s, fd, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fd));
	close(fd);
	event_base_free(b2);
}

static void test_srv_rejects_non_socket_and_unknown_group(void **state)
{
	struct srvfx *s = *state;
	char path[160], err[256] = "";
	struct tapird d2 = { .base = s->base };
	int fd;

	snprintf(path, sizeof(path), "%s/plainfile", s->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	assert_non_null(strstr(err, "not a socket"));
	unlink(path);
	snprintf(d2.cfg.control_group, sizeof(d2.cfg.control_group), "no-such-group-tapir");
	snprintf(path, sizeof(path), "%s/g.sock", s->dir);
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	assert_non_null(strstr(err, "no-such-group-tapir"));
	assert_int_equal(access(path, F_OK), -1); /* nothing left behind */
}

/**
 * connect_as() - connect to @path as effective uid @uid (SO_PEERCRED records the euid at
 * connect time), with supplementary groups @groups (@ngroups; the test's own are restored),
 * then become root again. Needs root; the server's directory must let @uid through.
 * Return: the descriptor, or -1 if connect failed
 */
static int connect_as(struct srvfx *s, const char *path, uid_t uid, const gid_t *groups,
		      int ngroups)
{
	gid_t saved[64];
	int nsaved = getgroups(64, saved), fd;

	assert_true(nsaved >= 0);
	if (groups)
		assert_int_equal(setgroups((size_t)ngroups, groups), 0);
	assert_int_equal(seteuid(uid), 0);
	fd = connect_to(path);
	assert_int_equal(seteuid(0), 0);
	if (groups)
		assert_int_equal(setgroups((size_t)nsaved, saved), 0);
	for (int i = 0; i < 3; i++)
		pump(s);
	return fd;
}

/** open_for_others() - let other uids reach the server's socket (dir 0711; socket group 0) */
static void open_for_others(struct srvfx *s)
{
	assert_int_equal(chmod(s->dir, 0711), 0);
}

static void test_srv_per_uid_cap_and_root_reserve(void **state)
{
	struct srvfx *s = *state;
	int fds[CTL_MAX_CLIENTS + 1], n = 0, fd;

	if (geteuid() != 0)
		skip(); /* connecting as other uids needs root */
	open_for_others(s);
	/* one user: 16, then refused by name */
	for (int i = 0; i < CTL_MAX_CLIENTS_PER_UID; i++) {
		fds[n] = connect_as(s, s->path, 65534, NULL, 0);
		assert_true(fds[n++] >= 0);
	}
	fd = connect_as(s, s->path, 65534, NULL, 0);
	assert_true(fd >= 0);
	expect_error_reply(read_reply(s, fd), "too many control clients for uid 65534");
	assert_true(wait_eof(s, fd));
	close(fd);
	/* the user's first connection still works */
	send_all(s, fds[0], "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fds[0]));
	/* other users fill the table up to root's reserve, and no further */
	for (uid_t u = 65533; n < CTL_MAX_CLIENTS - CTL_ROOT_RESERVE; u--)
		for (int i = 0; i < CTL_MAX_CLIENTS_PER_UID && n < CTL_MAX_CLIENTS - CTL_ROOT_RESERVE;
		     i++) {
			fds[n] = connect_as(s, s->path, u, NULL, 0);
			assert_true(fds[n++] >= 0);
		}
	fd = connect_as(s, s->path, 60000, NULL, 0);
	assert_true(fd >= 0);
	expect_error_reply(read_reply(s, fd), "the last 8 are root's");
	assert_true(wait_eof(s, fd));
	close(fd);
	/* root is never locked out: the reserve is its */
	for (int i = 0; i < CTL_ROOT_RESERVE; i++) {
		fds[n] = connect_to(s->path);
		assert_true(fds[n++] >= 0);
		pump(s);
	}
	send_all(s, fds[n - 1], "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, fds[n - 1]));
	fd = connect_to(s->path);
	assert_true(fd >= 0);
	expect_error_reply(read_reply(s, fd), "limit 64");
	close(fd);
	send_all(s, fds[0], "{\"execute\": \"status\"}\n", 22);
	{
		json_t *j = read_reply(s, fds[0]);
		json_t *c = json_object_get(json_object_get(j, "return"), "control");

		assert_int_equal(json_integer_value(json_object_get(c, "refused_uid")), 1);
		assert_int_equal(json_integer_value(json_object_get(c, "refused_full")), 2);
		assert_int_equal(json_integer_value(json_object_get(c, "clients")), CTL_MAX_CLIENTS);
		json_decref(j);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	for (int i = 0; i < 10; i++)
		pump(s);
}

/** pump_for() - run the loop for @ms milliseconds */
static void pump_for(struct srvfx *s, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		pump(s);
		usleep(2000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void test_srv_idle_client_closed(void **state)
{
	struct srvfx *s = *state;
	int silent, partial, watcher, busy;
	json_t *j;

	ctl_server_set_idle_timeout(s->srv, 300);
	silent = connect_to(s->path);
	partial = connect_to(s->path);
	watcher = connect_to(s->path);
	busy = connect_to(s->path);
	assert_true(silent >= 0 && partial >= 0 && watcher >= 0 && busy >= 0);
	/* bytes that never make a complete request do not keep a connection (slowloris) */
	send_all(s, partial, "{\"execute\"", 10);
	send_all(s, watcher, "{\"execute\": \"watch\"}\n", 21);
	expect_return(read_reply(s, watcher));
	for (int i = 0; i < 6; i++) {
		pump_for(s, 100);
		/* a byte every 100 ms (the server may have closed it already: no check) */
		if (send(partial, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			assert_true(errno == EPIPE || errno == ECONNRESET || errno == EAGAIN);
		send_all(s, busy, "{\"execute\": \"status\"}\n", 22);
		expect_return(read_reply(s, busy));
	}
	/* 600 ms: the silent and the partial ones are told why and closed */
	j = read_reply(s, silent);
	expect_error_reply(j, "idle: no complete request in 300 ms");
	assert_true(wait_eof(s, silent));
	expect_error_reply(read_reply(s, partial), "idle");
	assert_true(wait_eof(s, partial));
	/* counted, and shown in status */
	send_all(s, busy, "{\"execute\": \"status\"}\n", 22);
	j = read_reply(s, busy);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(j, "return"), "control"),
				 "idle_closed")),
			 2);
	json_decref(j);
	/* the watcher and the client that keeps asking are still served */
	send_all(s, busy, "{\"execute\": \"status\"}\n", 22);
	expect_return(read_reply(s, busy));
	send_all(s, watcher, "{\"execute\": \"status\"}\n", 22);
	j = read_reply(s, watcher);
	assert_non_null(j);
	assert_non_null(json_object_get(j, "return"));
	json_decref(j);
	close(silent);
	close(partial);
	close(watcher);
	close(busy);
	pump_for(s, 10);
}

/** is_denied() - whether @fd's capture status request is refused for want of privilege */
static bool is_denied(struct srvfx *s, int fd)
{
	json_t *j, *e;
	bool denied;
	static const char req[] = "{\"execute\": \"capture\", \"arguments\": {\"action\": "
				  "\"status\", \"link\": \"c1\"}}\n";

	send_all(s, fd, req, sizeof(req) - 1);
	j = read_reply(s, fd);
	assert_non_null(j);
	e = json_object_get(j, "error");
	denied = e && strstr(sval(e, "desc"), "permission denied");
	json_decref(j);
	return denied;
}

static void test_srv_admin_group_resolved_once_from_peer_groups(void **state)
{
	struct srvfx *s = *state;
	struct tapird d2 = { .base = s->base };
	struct ctl_server *srv;
	char path[160], err[256] = "";
	const gid_t admin[] = { 4242 }, other[] = { 4343 };
	int in, out;

	if (geteuid() != 0)
		skip(); /* connecting as another uid with chosen groups needs root */
	open_for_others(s);
	snprintf(path, sizeof(path), "%s/admin.sock", s->dir);
	snprintf(d2.cfg.admin_group, sizeof(d2.cfg.admin_group), "4242"); /* by number */
	d2.links[0] = &s->fx->l1;
	d2.nlinks = 1;
	d2.mon = s->fx->d.mon;
	srv = ctl_server_new(&d2, path, err, sizeof(err));
	if (!srv)
		fail_msg("ctl_server_new: %s", err);
	d2.ctl = srv;
	/* resolved at start: what the name says later is not looked up per request */
	snprintf(d2.cfg.admin_group, sizeof(d2.cfg.admin_group), "no-such-group-tapir");
	in = connect_as(s, path, 65534, admin, 1);
	out = connect_as(s, path, 65534, other, 1);
	assert_true(in >= 0 && out >= 0);
	assert_false(is_denied(s, in));  /* a supplementary member (SO_PEERGROUPS) */
	assert_true(is_denied(s, out));
	/* without a connection, the primary gid against the resolved one */
	{
		const char req[] = "{\"execute\": \"capture\", \"arguments\": {\"action\": "
				   "\"status\", \"link\": \"c1\"}}";
		char *a = ctl_handle_line(&d2, req, sizeof(req) - 1, 65534, 4242);
		char *b = ctl_handle_line(&d2, req, sizeof(req) - 1, 65534, 4343);

		assert_null(strstr(a, "permission denied"));
		assert_non_null(strstr(b, "permission denied"));
		free(a);
		free(b);
	}
	close(in);
	close(out);
	pump_for(s, 10);
	d2.links[0] = NULL;
	d2.nlinks = 0;
	ctl_server_free(srv);
	/* a group that does not exist is an error at start, naming it */
	snprintf(d2.cfg.admin_group, sizeof(d2.cfg.admin_group), "no-such-group-tapir");
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	assert_non_null(strstr(err, "admin group 'no-such-group-tapir' does not exist"));
}

static void test_srv_refuses_untrusted_directory(void **state)
{
	struct srvfx *s = *state;
	struct tapird d2 = { .base = s->base };
	char dir[160], path[200], link[160], err[512] = "";

	snprintf(dir, sizeof(dir), "%s/ctl", s->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	assert_int_equal(chmod(dir, 0775), 0);
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	if (!strstr(err, "control directory") || !strstr(err, "writable by its group or by others"))
		fail_msg("group-writable directory: %s", err);
	assert_int_equal(chmod(dir, 00777), 0); /* world-writable without the sticky bit */
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	assert_non_null(strstr(err, "writable by its group or by others"));
	if (getuid() == 0) {
		/* sticky and root's, as /tmp: nobody else can remove or replace our socket */
		struct ctl_server *srv;

		assert_int_equal(chmod(dir, 01777), 0);
		srv = ctl_server_new(&d2, path, err, sizeof(err));
		if (!srv)
			fail_msg("a sticky root-owned directory (as /tmp) refused: %s", err);
		ctl_server_free(srv);
	}
	assert_int_equal(chmod(dir, 0755), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(dir, 65534, 65534), 0);
		assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
		assert_non_null(strstr(err, "not owned by root"));
		assert_int_equal(chown(dir, 0, 0), 0);
	}
	snprintf(link, sizeof(link), "%s/linked", s->dir);
	assert_int_equal(symlink(dir, link), 0);
	snprintf(path, sizeof(path), "%s/c.sock", link);
	assert_null(ctl_server_new(&d2, path, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	assert_int_equal(access(path, F_OK), -1); /* nothing was bound anywhere */
	unlink(link);
	rmdir(dir);
}

static void test_srv_socket_group_set_before_bind(void **state)
{
	struct srvfx *s = *state;
	struct tapird d2 = { .base = s->base };
	struct ctl_server *srv;
	char path[160], err[256] = "";
	struct stat st;

	if (geteuid() != 0)
		skip(); /* giving the socket a group we are not in needs root */
	snprintf(path, sizeof(path), "%s/grp.sock", s->dir);
	snprintf(d2.cfg.control_group, sizeof(d2.cfg.control_group), "4243"); /* by number */
	srv = ctl_server_new(&d2, path, err, sizeof(err));
	if (!srv)
		fail_msg("ctl_server_new: %s", err);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_gid, 4243);
	assert_int_equal(st.st_uid, 0);
	ctl_server_free(srv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_status_daemon_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_link_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_every_counter_and_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_values_and_total, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_link_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_unknown_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conns_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conns_flow_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conns_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conns_bad_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conns_ten_thousand_flows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conn_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_overflow_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_and_reserved_commands, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_attach_needs_privilege, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_mutations_need_privilege, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_policy_add_list_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_deny_arguments_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_stats_with_no_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_commands_for_any_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deep_nesting_and_nul, setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_echoed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_json_host_origin_and_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_flow_json_summary_matches_jansson, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_monitor_closed_flow_in_conns_all_and_conn, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_monitor_ring_keeps_the_newest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor_events_only_to_matching_watchers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_srv_socket_mode_and_parent, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_many_requests_one_connection, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_errors_keep_serving, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_oversized_line_discarded, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_one_shot_client, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_client_limit, srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_conns_sliced_complete_and_in_order,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_conns_skips_flows_closed_mid_listing,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_conns_slow_reader_held_not_dropped,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_slow_reader_cut_loose, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_refuses_live_socket_and_replaces_stale,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_rejects_non_socket_and_unknown_group,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_per_uid_cap_and_root_reserve, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_idle_client_closed, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_admin_group_resolved_once_from_peer_groups,
						srv_setup, srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_refuses_untrusted_directory, srv_setup,
						srv_teardown),
		cmocka_unit_test_setup_teardown(test_srv_socket_group_set_before_bind, srv_setup,
						srv_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
