/* monitor.c - the ring of recently closed flows and the fan-out of flow events to watchers.
 *
 * Cost model. The stack calls monitor_flow_event() for every open, transition and close.
 * Without watchers an open or a transition costs a load and a branch; a close also copies the
 * flow (about half a KiB) into the ring, whose slots are allocated once (calloc: pages become
 * resident only as the ring fills). With watchers, an event is encoded once (jansson, one
 * json_dumps) if at least one filter wants it, and the same line goes to every sink that does.
 *
 * Event timestamps are the stack's own times for the transition (the flow's history), moved
 * to the wall clock by an offset measured once at start, so they never go backwards between
 * the events of one flow, even if the wall clock is stepped meanwhile.
 */
#include "monitor.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include "flowjson.h"
#include "link.h"
#include "tapird.h"
#include "wire.h"

/**
 * struct monitor_watch - one watcher's registration
 * @flt:	its filter
 * @sink:	where matching events go
 * @arg:	the sink's argument
 * @entry:	in monitor.watches
 */
struct monitor_watch {
	struct monitor_filter flt;
	monitor_sink sink;
	void *arg;
	TAILQ_ENTRY(monitor_watch) entry;
};

/**
 * struct monitor - the daemon's monitor
 * @d:		the daemon
 * @ring:	closed flows, @cap slots
 * @cap:	slots in @ring (0: nothing is remembered)
 * @count:	used slots
 * @next_seq:	ordinal of the next closed flow (the newest has next_seq - 1)
 * @wall_off_us: CLOCK_REALTIME minus the monotonic clock, at start
 * @watches:	registrations
 * @nwatches:	how many
 */
struct monitor {
	struct tapird *d;
	struct monitor_closed *ring;
	uint32_t cap;
	uint32_t count;
	uint64_t next_seq;
	int64_t wall_off_us;
	TAILQ_HEAD(, monitor_watch) watches;
	unsigned int nwatches;
};

struct monitor *monitor_new(struct tapird *d, uint32_t closed_cap)
{
	struct monitor *m = calloc(1, sizeof(*m));
	struct timespec ts;

	if (!m)
		return NULL;
	if (closed_cap > MONITOR_MAX_CLOSED)
		closed_cap = MONITOR_MAX_CLOSED;
	if (closed_cap) {
		m->ring = calloc(closed_cap, sizeof(*m->ring));
		if (!m->ring) {
			free(m);
			return NULL;
		}
	}
	m->d = d;
	m->cap = closed_cap;
	m->next_seq = 1;
	TAILQ_INIT(&m->watches);
	clock_gettime(CLOCK_REALTIME, &ts);
	m->wall_off_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 -
			 (int64_t)tapird_now_us();
	return m;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	while (!TAILQ_EMPTY(&m->watches)) {
		struct monitor_watch *w = TAILQ_FIRST(&m->watches);

		TAILQ_REMOVE(&m->watches, w, entry);
		free(w);
	}
	free(m->ring);
	free(m);
}

struct monitor_watch *monitor_watch_add(struct monitor *m, const struct monitor_filter *flt,
					monitor_sink sink, void *arg)
{
	struct monitor_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->flt = *flt;
	w->sink = sink;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&m->watches, w, entry);
	m->nwatches++;
	return w;
}

void monitor_watch_del(struct monitor *m, struct monitor_watch *w)
{
	if (!w)
		return;
	TAILQ_REMOVE(&m->watches, w, entry);
	m->nwatches--;
	free(w);
}

unsigned int monitor_watchers(const struct monitor *m)
{
	return m->nwatches;
}

uint32_t monitor_closed_count(const struct monitor *m)
{
	return m->count;
}

const struct monitor_closed *monitor_closed_at(const struct monitor *m, uint32_t i)
{
	uint64_t first;

	if (i >= m->count)
		return NULL;
	first = m->next_seq - m->count;
	return &m->ring[(first + i) % m->cap];
}

const struct monitor_closed *monitor_closed_by_seq(const struct monitor *m, uint64_t seq)
{
	if (!m->count || seq < m->next_seq - m->count || seq >= m->next_seq)
		return NULL;
	return &m->ring[seq % m->cap];
}

void monitor_closed_seq_range(const struct monitor *m, uint64_t *first, uint64_t *last)
{
	*first = m->count ? m->next_seq - m->count : 0;
	*last = m->count ? m->next_seq - 1 : 0;
}

void monitor_timestamp(const struct monitor *m, uint64_t mono_us, int64_t *sec, int64_t *usec)
{
	int64_t w = (int64_t)mono_us + m->wall_off_us;

	*sec = w / 1000000;
	*usec = w % 1000000;
}

char *monitor_event_line(const struct monitor *m, const char *name, json_t *data,
			 uint64_t mono_us)
{
	int64_t sec, usec;
	json_t *ev;
	char *s;

	monitor_timestamp(m, mono_us, &sec, &usec);
	ev = json_pack("{s:s, s:o, s:{s:I, s:I}}", "event", name, "data", data, "timestamp",
		       "seconds", (json_int_t)sec, "microseconds", (json_int_t)usec);
	if (!ev)
		return NULL;
	s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	return s;
}

/**
 * state_word() - the name of state @st in @f's protocol
 */
static const char *state_word(const struct flow *f, unsigned int st)
{
	return f->proto == PROTO_UDP ? udp_state_name(st) : tcp_state_name(st);
}

/**
 * remember() - copy closing flow @f of link @l into the ring (the oldest entry goes)
 */
static void remember(struct monitor *m, const struct link *l, const struct flow *f,
		     uint64_t now_us)
{
	struct monitor_closed *c;

	if (!m->cap)
		return;
	c = &m->ring[m->next_seq % m->cap];
	c->f = *f;
	c->f.tcp = NULL;
	c->f.relay = NULL;
	c->f.hnext = 0;
	c->has_view = f->proto == PROTO_TCP && tcp_get_view(f, &c->v);
	/* The stack records CLOSED before it reports the close: the state before is the one
	 * before that in the history (the last slot is the newest even after an overflow). */
	c->last_state = f->state;
	if (f->proto == PROTO_TCP && f->state == TCP_CLOSED && f->nhist >= 2)
		c->last_state = f->hist[(f->nhist <= FLOW_HIST_MAX ? f->nhist : FLOW_HIST_MAX) - 2]
					.state;
	if (f->proto == PROTO_TCP)
		c->f.state = TCP_CLOSED;
	snprintf(c->link, sizeof(c->link), "%s", l->name);
	c->closed_us = now_us;
	c->seq = m->next_seq++;
	if (m->count < m->cap)
		m->count++;
}

/**
 * matches() - whether watcher filter @flt wants event @ev of flow @f on @l
 * @from:	previous state for STACK_EV_STATE
 */
static bool matches(const struct monitor_filter *flt, const struct link *l, const struct flow *f,
		    enum stack_flow_event ev, int from)
{
	if (flt->id && flt->id != f->id)
		return false;
	if (flt->proto && flt->proto != f->proto)
		return false;
	if (flt->link[0] && strcmp(flt->link, l->name))
		return false;
	if (flt->state) {
		bool hit = !strcasecmp(flt->state, state_word(f, f->state));

		if (ev == STACK_EV_STATE && from >= 0)
			hit = hit || !strcasecmp(flt->state, state_word(f, (unsigned int)from));
		if (ev == STACK_EV_CLOSE)
			hit = hit || !strcasecmp(flt->state, "CLOSED");
		if (!hit)
			return false;
	}
	return true;
}

/**
 * event_data() - the "data" of event @ev for flow @f on @l
 * Return: a new reference, or NULL when out of memory
 */
static json_t *event_data(const struct link *l, const struct flow *f, enum stack_flow_event ev,
			  int from, uint64_t at_us)
{
	char cbuf[FLOW_ENDPOINT_LEN], pbuf[FLOW_ENDPOINT_LEN], ubuf[FLOW_ENDPOINT_LEN];
	json_t *o, *name = json_string(l->name);
	struct tcp_view v;

	o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)f->id,
		      "link", name ? name : json_string("?"),
		      "proto", f->proto == PROTO_UDP ? "udp" : "tcp",
		      "origin", f->origin == FLOW_ORIGIN_HOST ? "host" : "container",
		      "container", flow_endpoint(cbuf, sizeof(cbuf), f, 'c'),
		      "peer", flow_endpoint(pbuf, sizeof(pbuf), f, 'p'),
		      "upstream", f->uaddr || f->uv6 ? json_string(flow_endpoint(ubuf, sizeof(ubuf),
									       f, 'u'))
						     : json_null());
	if (!o)
		return NULL;
	switch (ev) {
	case STACK_EV_OPEN:
		json_object_set_new(o, "state", json_string(state_word(f, f->state)));
		break;
	case STACK_EV_STATE:
		json_object_set_new(o, "from", from >= 0 ? json_string(state_word(f, (unsigned)from))
							 : json_null());
		json_object_set_new(o, "state", json_string(state_word(f, f->state)));
		json_object_set_new(o, "at_ms", json_integer(at_us > f->created_us
								     ? (json_int_t)((at_us - f->created_us) / 1000)
								     : 0));
		break;
	case STACK_EV_CLOSE:
		json_object_set_new(o, "state", json_string("CLOSED"));
		json_object_set_new(o, "end", json_string(flow_end_name(f->end)));
		json_object_set_new(o, "age_ms", json_integer(at_us > f->created_us
								      ? (json_int_t)((at_us - f->created_us) / 1000)
								      : 0));
		json_object_set_new(o, "bytes", json_pack("{s:I, s:I}", "from_container",
							  (json_int_t)f->bytes_in, "to_container",
							  (json_int_t)f->bytes_out));
		json_object_set_new(o, "packets", json_pack("{s:I, s:I}", "from_container",
							    (json_int_t)f->pkts_in, "to_container",
							    (json_int_t)f->pkts_out));
		if (f->proto == PROTO_TCP && tcp_get_view(f, &v))
			json_object_set_new(o, "retransmits", json_integer((json_int_t)v.retransmits));
		break;
	}
	return o;
}

/**
 * event_time() - when event @ev of @f happened, on the monotonic clock: the flow's creation,
 * the transition's recorded time, or now for a close that recorded none (UDP)
 */
static uint64_t event_time(const struct flow *f, enum stack_flow_event ev)
{
	if (ev == STACK_EV_OPEN)
		return f->created_us;
	if (f->nhist && (ev == STACK_EV_STATE || f->proto == PROTO_TCP))
		return f->hist[f->nhist <= FLOW_HIST_MAX ? f->nhist - 1 : FLOW_HIST_MAX - 1].at_us;
	return tapird_now_us();
}

void monitor_flow_event(void *ctx, struct flow *f, enum stack_flow_event ev, int from)
{
	static const char *const names[] = { [STACK_EV_OPEN] = "open",
					     [STACK_EV_STATE] = "state",
					     [STACK_EV_CLOSE] = "close" };
	struct link *l = ctx;
	struct monitor *m = l && l->d ? l->d->mon : NULL;
	struct monitor_watch *w;
	char *line = NULL;
	uint64_t at_us;
	size_t len = 0;

	if (!m)
		return;
	if (ev == STACK_EV_CLOSE)
		remember(m, l, f, tapird_now_us());
	if (!m->nwatches)
		return;
	at_us = event_time(f, ev);
	TAILQ_FOREACH(w, &m->watches, entry) {
		if (!matches(&w->flt, l, f, ev, from))
			continue;
		if (!line) {
			line = monitor_event_line(m, names[ev], event_data(l, f, ev, from, at_us),
						  at_us);
			if (!line)
				return; /* out of memory: the event is lost for everyone */
			len = strlen(line);
		}
		w->sink(w->arg, line, len);
	}
	free(line);
}
