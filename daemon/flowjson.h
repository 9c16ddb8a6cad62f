/* flowjson.h - a flow as JSON, per the flow JSON of DESIGN.md (fields consumers rely on).
 * Must not: change any flow; read only.
 */
#ifndef TAPIR_FLOWJSON_H
#define TAPIR_FLOWJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct flow;
struct link;

/**
 * flow_to_json() - the flow JSON of @f on @l at @now_us
 * @detail:	add every TCP internal (the `conn` command) rather than the summary block
 * Return: a new reference
 */
json_t *flow_to_json(const struct link *l, const struct flow *f, uint64_t now_us, bool detail);

#endif
