/* fuzz_control.c - libFuzzer target: the control socket's request handler, ctl_handle_line()
 * (daemon/control.c: JSON envelope, dispatch, argument checks, every command's handler),
 * without a socket, against a fake daemon holding two links with flows in their tables.
 *
 * Input: byte 0 chooses the peer: bit 0 set, uid 0 (root: mutating commands run); clear,
 * uid 1000 (read commands only). The rest is split at newlines; each line is one request.
 * Requests that would reach outside the process as root are answered as uid 1000 instead
 * (permission denied): add_hostfwd (it opens listening sockets on the host), attach (it
 * enters namespaces and makes TAPs) and detach (it would free the harness's own links). A
 * capture cannot write either: the capture directory does not exist.
 * Oracles beyond ASan/UBSan: every reply is one line of JSON, an object with exactly one of
 * "return" and "error"; an error has a string class and desc.
 *
 * Build and run: tests/fuzz/run.sh SECONDS (every target).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "control.h"
#include "flow.h"
#include "link.h"
#include "log.h"
#include "monitor.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_FLOWS 40 /* flows per link: enough for filters and `conn` ids to hit */

static struct tapird d;
static struct link links[2];

static void noop_tx(void *ctx, struct stack_txq *q)
{
	(void)ctx;
	q->n = 0;
}

/** setup() - the fake daemon: links c1 (TCP and UDP flows in several states) and c2 (none) */
static void setup(void)
{
	static const struct stack_ops ops = { .tx = noop_tx };
	static const char *const names[2] = { "c1", "c2" };

	log_set_level(LOG_LVL_ERROR);
	config_defaults(&d.cfg);
	snprintf(d.cfg.capture_dir, sizeof(d.cfg.capture_dir), "/nonexistent/tapir-fuzz");
	d.start_wall = 1700000000;
	for (int i = 0; i < 2; i++) {
		struct stack_cfg cfg;

		stack_cfg_defaults(&cfg);
		cfg.max_flows = 256;
		cfg.next_flow_id = &d.next_flow_id;
		snprintf(links[i].name, sizeof(links[i].name), "%s", names[i]);
		link_cfg_defaults(&links[i].cfg);
		snprintf(links[i].cfg.name, sizeof(links[i].cfg.name), "%s", names[i]);
		links[i].tap_fd = -1;
		links[i].d = &d;
		links[i].stack = stack_new(&cfg, &ops, NULL);
		if (!links[i].stack)
			abort();
		d.links[d.nlinks++] = &links[i];
	}
	for (unsigned int i = 0; i < FZ_FLOWS; i++) {
		uint8_t proto = i % 3 ? PROTO_TCP : PROTO_UDP;
		struct flow *f = flow_alloc(stack_flows(links[0].stack), ++d.next_flow_id, proto,
					    STACK_DEFAULT_ADDR, (uint16_t)(40000 + i),
					    STACK_DEFAULT_GATEWAY, 8080, 1000);

		if (!f)
			abort();
		flow_record(f, proto == PROTO_UDP ? UDP_ACTIVE : i % TCP_NSTATES, 2000);
	}
	d.mon = monitor_new(&d, 64);
	if (!d.mon)
		abort();
}

/** check_reply() - the oracle: one JSON object line with "return" xor a well-formed "error" */
static void check_reply(const char *line)
{
	json_t *j, *e;

	if (strchr(line, '\n'))
		abort();
	j = json_loads(line, 0, NULL);
	if (!j || !json_is_object(j))
		abort();
	e = json_object_get(j, "error");
	if (!json_object_get(j, "return") == !e)
		abort();
	if (e && (!json_is_string(json_object_get(e, "class")) ||
		  !json_is_string(json_object_get(e, "desc"))))
		abort();
	json_decref(j);
}

/** reaches_out() - whether @line asks for add_hostfwd, attach or detach (see the header) */
static int reaches_out(const char *line, size_t len)
{
	static const char *const cmds[] = { "add_hostfwd", "attach", "detach" };
	/* the daemon's own flags (control.c answer()), so both read the same "execute" */
	json_t *j = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	json_t *x = json_is_object(j) ? json_object_get(j, "execute") : NULL;
	int r = 0;

	for (size_t i = 0; json_is_string(x) && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		r |= !strcmp(json_string_value(x), cmds[i]);
	json_decref(j);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uid_t uid;

	if (!d.nlinks)
		setup();
	if (!size)
		return 0;
	uid = data[0] & 1 ? 0 : 1000;
	data++, size--;
	while (size) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;
		uid_t as = uid == 0 && reaches_out((const char *)data, len) ? 1000 : uid;
		char *reply = ctl_handle_line(&d, (const char *)data, len, as, as);

		check_reply(reply);
		free(reply);
		data += len + (nl != NULL);
		size -= len + (nl != NULL);
	}
	return 0;
}
