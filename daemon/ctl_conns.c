/* ctl_conns.c - `conns`: the flows (live, and with "all" the recently closed ones) listed by
 * a job that writes the reply in slices. Must not: hold the relay up for more than a slice, or
 * read a flow it noted without checking that it is still the same flow.
 *
 * `conns` is written in slices: the flows that match are noted (link, slot, id) when the
 * request comes, and CTL_CONNS_SLICE of them are encoded per loop turn, the next slice only
 * once the client's unread output is below CTL_JOB_LOWAT. So 10,000 flows never hold the relay
 * up for longer than one slice, and a client that does not read costs at most a slice or two of
 * memory. A flow that closes (or whose slot is reused) before its slice is skipped; a flow is
 * shown as it is when its slice is written. Requests that follow on the same connection wait
 * until the reply is complete (replies stay in order).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "ctl_internal.h"
#include "flowjson.h"
#include "link.h"
#include "monitor.h"
#include "stack.h"
#include "tapird.h"
#include "wire.h"

/* The UDP pseudo-states accepted by the "state" filter, besides the TCP ones. */
static const unsigned int udp_states[] = { UDP_ACTIVE, UDP_REPLIED };

/**
 * state_names() - "CLOSED LISTEN ... ACTIVE REPLIED" into @buf, for error messages
 * Return: @buf
 */
static const char *state_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned int s = 0; s < TCP_NSTATES && n < len; s++)
		n += (size_t)snprintf(buf + n, len - n, "%s%s", s ? " " : "", tcp_state_name(s));
	for (size_t i = 0; i < sizeof(udp_states) / sizeof(udp_states[0]) && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, " %s", udp_state_name(udp_states[i]));
	return buf;
}

/**
 * ctl_conns_filter_parse() - read and check the arguments of `conns`
 * Return: 0, or -1 with the error recorded
 */
int ctl_conns_filter_parse(struct ctl_req *r, struct conns_filter *flt)
{
	const char *state, *proto;
	char names[CTL_DESC_MAX / 2];
	int s;

	memset(flt, 0, sizeof(*flt));
	if (ctl_arg_link(r, &flt->link) < 0 || ctl_arg_string(r, "proto", &proto) < 0 ||
	    ctl_arg_string(r, "state", &state) < 0)
		return -1;
	if (proto) {
		if (!strcasecmp(proto, "tcp")) {
			flt->proto = PROTO_TCP;
		} else if (!strcasecmp(proto, "udp")) {
			flt->proto = PROTO_UDP;
		} else {
			ctl_fail(r, "GenericError", "unknown proto '%.64s' (valid: tcp udp)",
				 proto);
			return -1;
		}
	}
	if (!state)
		return 0;
	s = tcp_state_parse(state);
	if (s >= 0) {
		flt->state = tcp_state_name((unsigned int)s);
		return 0;
	}
	for (size_t i = 0; i < sizeof(udp_states) / sizeof(udp_states[0]); i++)
		if (!strcasecmp(state, udp_state_name(udp_states[i]))) {
			flt->state = udp_state_name(udp_states[i]);
			return 0;
		}
	ctl_fail(r, "GenericError", "unknown state '%.64s' (valid: %s)", state,
		 state_names(names, sizeof(names)));
	return -1;
}

/** ctl_conns_job_free() - release a job (NULL is a no-op) */
void ctl_conns_job_free(struct conns_job *j)
{
	if (!j)
		return;
	free(j->refs);
	free(j->id_json);
	free(j);
}

/**
 * link_alive() - whether @l is still one of @d's links (a pointer kept across loop turns)
 */
static bool link_alive(const struct tapird *d, const struct link *l)
{
	for (unsigned int i = 0; i < d->nlinks; i++)
		if (d->links[i] == l)
			return l->stack != NULL;
	return false;
}

/**
 * conns_match() - whether live flow @f passes @flt
 */
static bool conns_match(const struct conns_filter *flt, const struct flow *f)
{
	if (flt->proto && f->proto != flt->proto)
		return false;
	return !flt->state || !strcmp(flow_state_name(f), flt->state);
}

/**
 * ctl_closed_json() - closed flow @c as flow JSON: its state CLOSED, its age its lifetime, plus
 * when it closed and the state it was in before
 * Return: a new reference, or NULL on allocation failure
 */
json_t *ctl_closed_json(const struct monitor *m, const struct monitor_closed *c, uint64_t now_us,
			bool detail)
{
	json_t *o = flow_json(c->link, &c->f, c->has_view ? &c->v : NULL, c->closed_us, detail);
	const struct flow *f = &c->f;
	int64_t sec, usec;
	char iso[40];

	if (!o)
		return NULL;
	monitor_timestamp(m, c->closed_us, &sec, &usec);
	json_object_set_new(o, "state", json_string("CLOSED"));
	json_object_set_new(o, "last_state", json_string(f->proto == PROTO_UDP
								  ? udp_state_name(c->last_state)
								  : tcp_state_name(c->last_state)));
	json_object_set_new(o, "closed_ms_ago",
			    json_integer(now_us > c->closed_us
						 ? (json_int_t)((now_us - c->closed_us) / 1000)
						 : 0));
	json_object_set_new(o, "closed_at",
			    json_string(flow_iso_time(iso, sizeof(iso), sec * 1000000 + usec)));
	return o;
}

/**
 * job_put() - append @j (stolen) to the listing in @out, comma-separated
 * Return: 0, or -1 when out of memory
 */
static int job_put(struct conns_job *j, struct evbuffer *out, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;

	json_decref(v);
	if (!s)
		return -1;
	if (j->written++)
		evbuffer_add(out, ",", 1);
	evbuffer_add(out, s, strlen(s));
	free(s);
	return 0;
}

/**
 * job_put_live() - append live flow @f of @l to the listing in @out, comma-separated, with the
 * hand-written encoder (flow_summary(): the same bytes as job_put(flow_to_json(...)), without
 * building and dumping a jansson object per flow, which dominated a listing of 10,000 flows)
 * Return: 0, or -1 when out of memory
 */
static int job_put_live(struct conns_job *j, struct evbuffer *out, const struct link *l,
			const struct flow *f, uint64_t now_us)
{
	char buf[2048], *s = buf;
	size_t n = flow_summary(buf, sizeof(buf), l, f, now_us);

	if (n >= sizeof(buf)) { /* a long link name full of escapes: never in practice */
		s = malloc(n + 1);
		if (!s)
			return -1;
		flow_summary(s, n + 1, l, f, now_us);
	}
	if (j->written++)
		evbuffer_add(out, ",", 1);
	evbuffer_add(out, s, n);
	if (s != buf)
		free(s);
	return 0;
}

/**
 * ctl_conns_job_slice() - write up to @max more flows of @j to @out; the last slice closes the
 * reply (without its newline)
 * Return: true when the reply is complete
 */
bool ctl_conns_job_slice(struct conns_job *j, struct evbuffer *out, size_t max)
{
	uint64_t now_us = tapird_now_us();
	size_t done = 0;

	if (!j->started) {
		evbuffer_add_printf(out, "{\"return\":{\"flows\":[");
		j->started = true;
	}
	for (; j->next < j->nrefs && done < max; j->next++) {
		const struct conns_ref *ref = &j->refs[j->next];
		const struct flow *f;

		if (!link_alive(j->d, ref->l))
			continue;
		f = flow_at(stack_flows(ref->l->stack), ref->idx);
		if (!f || f->id != ref->id || !conns_match(&j->flt, f))
			continue; /* closed (or its slot reused) since the request came */
		job_put_live(j, out, ref->l, f, now_us);
		done++;
	}
	for (; j->d->mon && j->closed_next && j->closed_next <= j->closed_last && done < max;
	     j->closed_next++) {
		const struct monitor_closed *c = monitor_closed_by_seq(j->d->mon, j->closed_next);

		if (!c) /* pushed out of the ring since the request came */
			continue;
		if ((j->flt.link && strcmp(c->link, j->flt.link->name)) ||
		    (j->flt.proto && c->f.proto != j->flt.proto) ||
		    (j->flt.state && strcmp(j->flt.state, "CLOSED")))
			continue;
		job_put(j, out, ctl_closed_json(j->d->mon, c, now_us, false));
		done++;
	}
	if (j->next < j->nrefs || (j->closed_next && j->closed_next <= j->closed_last))
		return false;
	evbuffer_add_printf(out, "]}%s%s}", j->id_json ? ",\"id\":" : "",
			    j->id_json ? j->id_json : "");
	return true;
}

/**
 * ctl_cmd_conns() - every flow (of one link, protocol or state if asked; with "all" also the
 * recently closed ones) as flow JSON. The reply is built by a job, in slices (ctl_conns_job_slice)
 */
json_t *ctl_cmd_conns(struct ctl_req *r)
{
	json_t *all = json_object_get(r->args, "all");
	struct conns_job *j;
	size_t cap = 0;

	if (all && !json_is_boolean(all))
		return ctl_fail(r, "GenericError", "argument 'all' must be a boolean");
	j = calloc(1, sizeof(*j));
	if (!j)
		return ctl_fail(r, "GenericError", "out of memory");
	j->d = r->d;
	if (ctl_conns_filter_parse(r, &j->flt) < 0) {
		free(j);
		return NULL;
	}
	for (unsigned int i = 0; i < r->d->nlinks; i++) {
		struct link *l = r->d->links[i];
		struct flow_table *t;
		const struct flow *f;

		if (!l || !l->stack || (j->flt.link && l != j->flt.link))
			continue;
		t = stack_flows(l->stack);
		for (f = flow_next(t, NULL); f; f = flow_next(t, f)) {
			if (!conns_match(&j->flt, f))
				continue;
			if (j->nrefs == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct conns_ref *n = realloc(j->refs, ncap * sizeof(*n));

				if (!n) {
					ctl_conns_job_free(j);
					return ctl_fail(r, "GenericError", "out of memory");
				}
				j->refs = n;
				cap = ncap;
			}
			j->refs[j->nrefs++] = (struct conns_ref){ l, f->idx, f->id };
		}
	}
	if (json_is_true(all) && r->d->mon) {
		uint64_t first, last;

		monitor_closed_seq_range(r->d->mon, &first, &last);
		j->closed_next = first;
		j->closed_last = last;
	}
	r->job = j;
	return json_object(); /* a placeholder: the job writes the reply */
}
