/* monitor.h - what happens to flows, for whoever looks: the ring of recently closed flows and
 * the fan-out of flow events (open, state, close) to the control socket's watchers.
 *
 * The stack reports every flow event through stack_ops.flow_event = monitor_flow_event (link.c
 * installs it). A closing flow is copied into a bounded ring (final counters, TCP internals,
 * history, how it ended). An event is turned into JSON only when a watcher's filter wants it,
 * and then once for all of them: with no watcher, an event costs a pointer test.
 * Must not: block, or write to sockets itself (each watcher's sink does, and bounds itself).
 */
#ifndef TAPIR_MONITOR_H
#define TAPIR_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "flow.h"
#include "stack.h"
#include "tcp.h"

#define MONITOR_DEFAULT_CLOSED 1024   /* closed flows remembered (config closed-history) */
#define MONITOR_MAX_CLOSED 1000000    /* ~0.5 KiB each: half a GiB at most */

struct tapird;
struct monitor;
struct monitor_watch;

/**
 * struct monitor_closed - one flow after its end
 * @f:		the flow as it was at its close (@f.tcp and @f.relay are NULL)
 * @v:		its TCP internals at the close (valid when @has_view)
 * @has_view:	@v is filled (TCP flows)
 * @last_state:	the state it was in before CLOSED
 * @link:	name of the link it belonged to
 * @closed_us:	when it closed (monotonic)
 * @seq:	ordinal of this entry among every flow ever closed (1, 2, ...), stable while the
 *		entry stays in the ring
 */
struct monitor_closed {
	struct flow f;
	struct tcp_view v;
	bool has_view;
	uint8_t last_state;
	char link[LINK_NAME_MAX];
	uint64_t closed_us;
	uint64_t seq;
};

/**
 * struct monitor_filter - what a watcher wants; zero/empty members match anything
 * @link:	link name
 * @proto:	PROTO_TCP or PROTO_UDP
 * @state:	a state name (TCP or UDP word): events entering or leaving that state
 * @id:		one flow
 */
struct monitor_filter {
	char link[LINK_NAME_MAX];
	uint8_t proto;
	const char *state;
	uint64_t id;
};

/**
 * monitor_sink - a watcher's output: one event as a JSON line (no newline), @len bytes
 */
typedef void (*monitor_sink)(void *arg, const char *line, size_t len);

/**
 * monitor_new() - a monitor for @d remembering @closed_cap closed flows (0: none)
 * Return: the monitor, or NULL when out of memory
 */
struct monitor *monitor_new(struct tapird *d, uint32_t closed_cap);

/** monitor_free() - release the ring and every watcher registration */
void monitor_free(struct monitor *m);

/**
 * monitor_flow_event() - stack_ops.flow_event: @ctx is the struct link; the monitor is
 * link->d->mon (nothing happens while it is NULL)
 */
void monitor_flow_event(void *ctx, struct flow *f, enum stack_flow_event ev, int from);

/**
 * monitor_watch_add() - send events matching @flt (copied; @flt->state must be a static
 * string such as tcp_state_name() returns) to @sink
 * Return: the registration, or NULL when out of memory
 */
struct monitor_watch *monitor_watch_add(struct monitor *m, const struct monitor_filter *flt,
					monitor_sink sink, void *arg);

/** monitor_watch_del() - stop a registration (NULL is a no-op) */
void monitor_watch_del(struct monitor *m, struct monitor_watch *w);

/** monitor_watchers() - how many registrations there are */
unsigned int monitor_watchers(const struct monitor *m);

/** monitor_closed_count() - closed flows in the ring */
uint32_t monitor_closed_count(const struct monitor *m);

/**
 * monitor_closed_at() - the @i-th remembered closed flow, oldest first
 * Return: the entry, or NULL if @i is out of range
 */
const struct monitor_closed *monitor_closed_at(const struct monitor *m, uint32_t i);

/**
 * monitor_closed_by_seq() - the entry with ordinal @seq if it is still in the ring
 * Return: the entry or NULL
 */
const struct monitor_closed *monitor_closed_by_seq(const struct monitor *m, uint64_t seq);

/** monitor_closed_seq_range() - ordinals of the oldest and newest entries (0, 0 if empty) */
void monitor_closed_seq_range(const struct monitor *m, uint64_t *first, uint64_t *last);

/**
 * monitor_timestamp() - the wall-clock time of monotonic instant @mono_us, as seconds and
 * microseconds (the QMP event timestamp)
 */
void monitor_timestamp(const struct monitor *m, uint64_t mono_us, int64_t *sec, int64_t *usec);

/**
 * monitor_event_line() - a complete event line {"event": @name, "data": @data (stolen),
 * "timestamp": ...} at monotonic @mono_us, malloc'd; NULL when out of memory
 */
char *monitor_event_line(const struct monitor *m, const char *name, json_t *data,
			 uint64_t mono_us);

#endif
