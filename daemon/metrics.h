/* metrics.h - the Prometheus endpoint: GET /metrics in the text exposition format (0.0.4),
 * served by libevent's evhttp on the daemon's loop.
 *
 * Gauges tapir_flows{link,proto,state}; tapir_drops_total{link,reason} for the drop_*
 * counters of counters.h and a counter tapir_<name>_total{link} for each other one (HELP from
 * its X-macro); tapir_tx_errors_total{link}; the closed-flow ring and
 * watcher gauges. Off unless configured ([monitor] metrics, --metrics). Must not: take more
 * than one loop turn per scrape, or answer anything but GET/HEAD of /metrics.
 */
#ifndef TAPIR_METRICS_H
#define TAPIR_METRICS_H

#include <stddef.h>

struct tapird;
struct metrics;
struct evbuffer;

/**
 * metrics_new() - listen on @addr ("ADDR:PORT", "[IPV6]:PORT") on d->base
 * Return: the endpoint, or NULL with "metrics ADDR: reason" in @err
 */
struct metrics *metrics_new(struct tapird *d, const char *addr, char *err, size_t errlen);

/** metrics_free() - stop listening (NULL is a no-op) */
void metrics_free(struct metrics *m);

/**
 * metrics_render() - the whole exposition for @d into @out (what GET /metrics answers)
 * Return: 0, or -1 when out of memory
 */
int metrics_render(struct tapird *d, struct evbuffer *out);

#endif
