/* flowjson.h - a flow as JSON, per the flow JSON of DESIGN.md (fields consumers rely on).
 * Must not: change any flow; read only.
 */
#ifndef TAPIR_FLOWJSON_H
#define TAPIR_FLOWJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow;
struct link;
struct tcp_view;

/**
 * flow_to_json() - the flow JSON of @f on @l at @now_us
 * @detail:	add every TCP internal (the `conn` command) rather than the summary block
 * Return: a new reference
 */
json_t *flow_to_json(const struct link *l, const struct flow *f, uint64_t now_us, bool detail);

/**
 * flow_json() - the same from parts: link name @lname, TCP internals @v (NULL: no "tcp"
 * block), for flows whose stack state is gone (the closed-flow ring)
 * Return: a new reference, or NULL on allocation failure
 */
json_t *flow_json(const char *lname, const struct flow *f, const struct tcp_view *v,
		  uint64_t now_us, bool detail);

/**
 * flow_json_summary() - the summary flow JSON (detail false) of flow_json(), written straight
 * into @buf as json_dumps(..., JSON_COMPACT) would write it, byte for byte, without building
 * jansson objects (the `conns` listing of many flows); NUL-terminated when @len > 0
 * Return: the length of the whole JSON text; if it is @len or more, @buf holds only a
 * truncated prefix (as with snprintf)
 */
size_t flow_json_summary(char *buf, size_t len, const char *lname, const struct flow *f,
			 const struct tcp_view *v, uint64_t now_us);

/**
 * flow_summary() - flow_json_summary() for live flow @f on @l: what
 * json_dumps(flow_to_json(@l, @f, @now_us, false), JSON_COMPACT) writes
 * Return: as flow_json_summary()
 */
size_t flow_summary(char *buf, size_t len, const struct link *l, const struct flow *f,
		    uint64_t now_us);

/**
 * flow_addr_port() - "a.b.c.d:port" for @addr (host byte order) into @buf (22 bytes hold the
 * longest)
 * Return: @buf
 */
const char *flow_addr_port(char *buf, size_t len, uint32_t addr, uint16_t port);

/* Room for "[IPv6]:port" and its NUL */
#define FLOW_ENDPOINT_LEN 48

/**
 * flow_endpoint() - one side of @f as "a.b.c.d:port", or "[v6]:port" for IPv6
 * @buf:	at least FLOW_ENDPOINT_LEN bytes
 * @len:	its size
 * @f:		the flow
 * @side:	'c' the container's, 'p' the peer's, 'u' the upstream's
 * Return: @buf
 */
const char *flow_endpoint(char *buf, size_t len, const struct flow *f, char side);

/** flow_has_upstream() - whether @f's upstream address is known (or it listens) */
bool flow_has_upstream(const struct flow *f);

/**
 * flow_iso_time() - "2024-05-01T12:34:56.789Z" for @wall_us (microseconds since the epoch)
 * Return: @buf
 */
const char *flow_iso_time(char *buf, size_t len, int64_t wall_us);

#endif
