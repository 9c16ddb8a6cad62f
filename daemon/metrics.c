/* metrics.c - Prometheus text exposition of tapird's counters and flow table.
 *
 * Names: tapir_ prefix; counters end in _total (the exposition format's convention, which
 * promtool checks); the counter names and HELP texts come from counters.h's X-macro, so a
 * counter added there appears here without an edit. Label values (link names come from the
 * operator) are escaped as the format says: backslash, double quote and newline.
 */
#include "metrics.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "counters.h"
#include "flow.h"
#include "link.h"
#include "log.h"
#include "monitor.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

/* A scrape's request is a GET line and a few headers; anything bigger is not Prometheus. */
#define METRICS_MAX_HEADERS 8192
/* A client that sends nothing for this long is dropped. */
#define METRICS_TIMEOUT_S 10

/**
 * struct metrics - the endpoint
 * @d:		the daemon
 * @http:	the evhttp server
 */
struct metrics {
	struct tapird *d;
	struct evhttp *http;
};

#define X_ENTRY(n, h) { #n, h, offsetof(struct stack_counters, n) },
static const struct {
	const char *name;
	const char *help;
	size_t off;
} metrics_counters[] = { STACK_COUNTERS(X_ENTRY) };
#undef X_ENTRY

#define DROP_PREFIX "drop_"

/** counter() - the value of counter @k of link @l */
static uint64_t counter(const struct link *l, size_t k)
{
	uint64_t v;

	memcpy(&v, (const char *)stack_counters(l->stack) + metrics_counters[k].off, sizeof(v));
	return v;
}

/**
 * label_value() - @s escaped for a label value into @buf
 * Return: @buf
 */
static const char *label_value(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
	return buf;
}

int metrics_render(struct tapird *d, struct evbuffer *out)
{
	static const unsigned int udp_states[] = { UDP_ACTIVE, UDP_REPLIED };
	char name[2 * sizeof(((struct link *)0)->name) + 4];
	unsigned int i;
	size_t k;
	int rc = 0;

	rc |= evbuffer_add_printf(out, "# HELP tapir_flows Live flows by link, protocol and "
				       "state.\n# TYPE tapir_flows gauge\n") < 0;
	for (i = 0; i < d->nlinks; i++) {
		struct link *l = d->links[i];
		uint32_t tcp[TCP_NSTATES] = { 0 }, udp[3] = { 0 };
		struct flow_table *t;
		const struct flow *f;

		if (!l || !l->stack)
			continue;
		t = stack_flows(l->stack);
		for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
			if (f->proto == PROTO_TCP && f->state < TCP_NSTATES)
				tcp[f->state]++;
			else if (f->proto == PROTO_UDP && f->state < 3)
				udp[f->state]++;
		}
		label_value(name, sizeof(name), l->name);
		for (unsigned int s = 0; s < TCP_NSTATES; s++)
			rc |= evbuffer_add_printf(out,
						  "tapir_flows{link=\"%s\",proto=\"tcp\","
						  "state=\"%s\"} %u\n",
						  name, tcp_state_name(s), tcp[s]) < 0;
		for (k = 0; k < sizeof(udp_states) / sizeof(udp_states[0]); k++)
			rc |= evbuffer_add_printf(out,
						  "tapir_flows{link=\"%s\",proto=\"udp\","
						  "state=\"%s\"} %u\n",
						  name, udp_state_name(udp_states[k]),
						  udp[udp_states[k]]) < 0;
	}
	/* Drops are one counter with a reason label (the Prometheus way to split a count, and
	 * reasons such as not_for_us would read as units in a metric name). */
	rc |= evbuffer_add_printf(out, "# HELP tapir_drops_total Frames dropped, by reason (see "
				       "tapirctl stats).\n# TYPE tapir_drops_total counter\n") < 0;
	for (k = 0; k < sizeof(metrics_counters) / sizeof(metrics_counters[0]); k++) {
		if (strncmp(metrics_counters[k].name, DROP_PREFIX, strlen(DROP_PREFIX)))
			continue;
		for (i = 0; i < d->nlinks; i++)
			if (d->links[i] && d->links[i]->stack)
				rc |= evbuffer_add_printf(
					      out, "tapir_drops_total{link=\"%s\",reason=\"%s\"} "
						   "%llu\n",
					      label_value(name, sizeof(name), d->links[i]->name),
					      metrics_counters[k].name + strlen(DROP_PREFIX),
					      (unsigned long long)counter(d->links[i], k)) < 0;
	}
	for (k = 0; k < sizeof(metrics_counters) / sizeof(metrics_counters[0]); k++) {
		if (!strncmp(metrics_counters[k].name, DROP_PREFIX, strlen(DROP_PREFIX)))
			continue;
		rc |= evbuffer_add_printf(out, "# HELP tapir_%s_total %s.\n"
					       "# TYPE tapir_%s_total counter\n",
					  metrics_counters[k].name, metrics_counters[k].help,
					  metrics_counters[k].name) < 0;
		for (i = 0; i < d->nlinks; i++)
			if (d->links[i] && d->links[i]->stack)
				rc |= evbuffer_add_printf(out, "tapir_%s_total{link=\"%s\"} %llu\n",
							  metrics_counters[k].name,
							  label_value(name, sizeof(name),
								      d->links[i]->name),
							  (unsigned long long)counter(d->links[i],
										      k)) < 0;
	}
	rc |= evbuffer_add_printf(out, "# HELP tapir_tx_errors_total frames the TAP refused "
				       "(queue full, link down).\n"
				       "# TYPE tapir_tx_errors_total counter\n") < 0;
	for (i = 0; i < d->nlinks; i++)
		if (d->links[i])
			rc |= evbuffer_add_printf(out, "tapir_tx_errors_total{link=\"%s\"} %llu\n",
						  label_value(name, sizeof(name),
							      d->links[i]->name),
						  (unsigned long long)d->links[i]->tx_errors) < 0;
	if (d->mon)
		rc |= evbuffer_add_printf(out,
					  "# HELP tapir_closed_flows_remembered Closed flows kept "
					  "for conns --all.\n"
					  "# TYPE tapir_closed_flows_remembered gauge\n"
					  "tapir_closed_flows_remembered %u\n"
					  "# HELP tapir_watchers Control connections watching flow "
					  "events.\n"
					  "# TYPE tapir_watchers gauge\n"
					  "tapir_watchers %u\n",
					  monitor_closed_count(d->mon), monitor_watchers(d->mon)) < 0;
	return rc ? -1 : 0;
}

/**
 * metrics_cb() - GET /metrics
 */
static void metrics_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *b = evbuffer_new();

	if (!b || metrics_render(m->d, b) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		if (b)
			evbuffer_free(b);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

/**
 * other_cb() - any other path: 404
 */
static void other_cb(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, HTTP_NOTFOUND, "only /metrics here");
}

struct metrics *metrics_new(struct tapird *d, const char *addr, char *err, size_t errlen)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	struct metrics *m;
	size_t n;
	long port;

	if (!colon || (n = (size_t)(colon - addr)) >= sizeof(host) || !n) {
		snprintf(err, errlen, "metrics %s: not ADDRESS:PORT", addr);
		return NULL;
	}
	if (addr[0] == '[' && n >= 2 && addr[n - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)n - 2, addr + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)n, addr);
	port = strtol(colon + 1, NULL, 10);
	if (port < 1 || port > 65535) {
		snprintf(err, errlen, "metrics %s: bad port", addr);
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m || !(m->http = evhttp_new(d->base))) {
		snprintf(err, errlen, "metrics %s: %s", addr, strerror(ENOMEM));
		free(m);
		return NULL;
	}
	m->d = d;
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT_S);
	evhttp_set_cb(m->http, "/metrics", metrics_cb, m);
	evhttp_set_gencb(m->http, other_cb, m);
	if (!evhttp_bind_socket_with_handle(m->http, host, (uint16_t)port)) {
		snprintf(err, errlen, "metrics %s: cannot listen: %s", addr, strerror(errno));
		evhttp_free(m->http);
		free(m);
		return NULL;
	}
	log_info("metrics: serving http://%s/metrics", addr);
	return m;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	evhttp_free(m->http);
	free(m);
}
