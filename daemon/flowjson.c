/* flowjson.c - a flow as JSON, the shape DESIGN.md ("A flow as JSON") promises to consumers.
 *
 * Read only: nothing here changes a flow. Times are relative (age, idle, history offsets from
 * the flow's creation) so that the monotonic clock never leaks into the protocol.
 */
#include "flowjson.h"

#include <stdio.h>
#include <time.h>

#include "flow.h"
#include "link.h"
#include "tapird.h"
#include "tcp.h"
#include "wire.h"

const char *flow_addr_port(char *buf, size_t len, uint32_t addr, uint16_t port)
{
	snprintf(buf, len, "%u.%u.%u.%u:%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff, port);
	return buf;
}

/**
 * ms_since() - whole milliseconds from @then_us to @now_us, 0 if @then_us is later
 */
static json_int_t ms_since(uint64_t now_us, uint64_t then_us)
{
	return now_us > then_us ? (json_int_t)((now_us - then_us) / 1000) : 0;
}

/**
 * hist_state_name() - the name of a recorded state, in the vocabulary of @f's protocol
 */
static const char *hist_state_name(const struct flow *f, uint8_t state)
{
	return f->proto == PROTO_UDP ? udp_state_name(state) : tcp_state_name(state);
}

/**
 * wscale_json() - [snd, rcv] shifts, or null when window scaling is off (RFC 7323 2.2: it is
 * in use only if both sides sent the option, so one -1 means off for both)
 */
static json_t *wscale_json(const struct tcp_view *v)
{
	if (v->wscale_snd < 0 || v->wscale_rcv < 0)
		return json_null();
	return json_pack("[ii]", v->wscale_snd, v->wscale_rcv);
}

/**
 * tcp_json() - the "tcp" block: the summary fields, plus every internal when @detail
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *tcp_json(const struct tcp_view *v, bool detail)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:o, s:I, s:I, s:I}",
			      "snd_una", (json_int_t)v->snd_una, "snd_nxt", (json_int_t)v->snd_nxt,
			      "snd_wnd", (json_int_t)v->snd_wnd, "rcv_nxt", (json_int_t)v->rcv_nxt,
			      "rcv_wnd", (json_int_t)v->rcv_wnd, "mss", (int)v->mss,
			      "wscale", wscale_json(v), "srtt_us", (json_int_t)v->srtt_us,
			      "rto_ms", (json_int_t)v->rto_ms, "retransmits",
			      (json_int_t)v->retransmits);
	json_t *more;

	if (!o || !detail)
		return o;
	more = json_pack("{s:I, s:I, s:I, s:I, s:i, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I,"
			 " s:b, s:b, s:b}",
			 "iss", (json_int_t)v->iss, "irs", (json_int_t)v->irs,
			 "snd_wl1", (json_int_t)v->snd_wl1, "snd_wl2", (json_int_t)v->snd_wl2,
			 "peer_mss", (int)v->peer_mss, "ts", (int)v->ts, "sack", (int)v->sack,
			 "rttvar_us", (json_int_t)v->rttvar_us, "cwnd", (json_int_t)v->cwnd,
			 "ssthresh", (json_int_t)v->ssthresh, "dupacks", (json_int_t)v->dupacks,
			 "ooo_bytes", (json_int_t)v->ooo_bytes,
			 "in_flight", (json_int_t)v->in_flight, "fin_rcvd", (int)v->fin_rcvd,
			 "fin_sent", (int)v->fin_sent, "upstream_eof", (int)v->upstream_eof);
	if (!more || json_object_update(o, more) < 0) {
		json_decref(more);
		json_decref(o);
		return NULL;
	}
	json_decref(more);
	return o;
}

/**
 * wall_offset_us() - CLOCK_REALTIME minus the daemon's monotonic clock, in microseconds
 */
static int64_t wall_offset_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - (int64_t)tapird_now_us();
}

const char *flow_iso_time(char *buf, size_t len, int64_t wall_us)
{
	time_t t = (time_t)(wall_us / 1000000);
	struct tm tm;
	char s[32];

	if (!gmtime_r(&t, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s.%03dZ", s, (int)(wall_us % 1000000 / 1000));
	return buf;
}

/**
 * history_json() - the recorded transitions, offsets from the flow's creation; with @detail
 * also the wall-clock time of each (ISO 8601, UTC, milliseconds)
 * Return: a new reference, or NULL on allocation failure
 */
static json_t *history_json(const struct flow *f, bool detail)
{
	json_t *a = json_array();
	unsigned int i, n = f->nhist <= FLOW_HIST_MAX ? f->nhist : FLOW_HIST_MAX;
	int64_t off = detail ? wall_offset_us() : 0;

	for (i = 0; a && i < n; i++) {
		json_t *h = json_pack("{s:s, s:I}", "state", hist_state_name(f, f->hist[i].state),
				      "at_ms", ms_since(f->hist[i].at_us, f->created_us));
		char iso[40];

		if (h && detail)
			json_object_set_new(h, "at", json_string(flow_iso_time(
				iso, sizeof(iso), (int64_t)f->hist[i].at_us + off)));

		if (json_array_append_new(a, h) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

json_t *flow_to_json(const struct link *l, const struct flow *f, uint64_t now_us, bool detail)
{
	struct tcp_view v;
	bool tcp = f->proto == PROTO_TCP && tcp_get_view(f, &v);

	return flow_json(l->name, f, tcp ? &v : NULL, now_us, detail);
}

json_t *flow_json(const char *lname, const struct flow *f, const struct tcp_view *v,
		  uint64_t now_us, bool detail)
{
	char cbuf[24], pbuf[24], ubuf[24];
	/* a port forward's LISTEN row may listen on 0.0.0.0: an address, not "not yet" */
	bool has_up = f->uaddr || (f->proto == PROTO_TCP && f->state == TCP_LISTEN);
	json_t *o, *link;

	link = json_string(lname);
	if (!link) /* not UTF-8: names come from the operator, but never emit invalid JSON */
		link = json_string("?");
	o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:{s:I, s:I},"
		      " s:{s:I, s:I}, s:o}",
		      "id", (json_int_t)f->id, "link", link,
		      "proto", f->proto == PROTO_UDP ? "udp" : "tcp", "state", flow_state_name(f),
		      "origin", f->origin == FLOW_ORIGIN_HOST ? "host" : "container",
		      "container", flow_addr_port(cbuf, sizeof(cbuf), f->caddr, f->cport),
		      "peer", flow_addr_port(pbuf, sizeof(pbuf), f->paddr, f->pport),
		      "upstream", has_up ? json_string(flow_addr_port(ubuf, sizeof(ubuf), f->uaddr,
								     f->uport))
					  : json_null(),
		      "age_ms", ms_since(now_us, f->created_us),
		      "idle_ms", ms_since(now_us, f->last_us),
		      "bytes", "from_container", (json_int_t)f->bytes_in,
		      "to_container", (json_int_t)f->bytes_out,
		      "packets", "from_container", (json_int_t)f->pkts_in,
		      "to_container", (json_int_t)f->pkts_out,
		      "history", history_json(f, detail));
	if (!o)
		return NULL;
	if (f->hist_lost)
		json_object_set_new(o, "history_lost", json_integer(f->hist_lost));
	if (f->end != FLOW_END_NONE)
		json_object_set_new(o, "end", json_string(flow_end_name(f->end)));
	if (v) {
		json_t *t = tcp_json(v, detail);

		if (!t) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, "tcp", t);
	}
	return o;
}
