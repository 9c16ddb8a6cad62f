/* flowjson.c - a flow as JSON, the shape DESIGN.md ("A flow as JSON") promises to consumers.
 *
 * Read only: nothing here changes a flow. Times are relative (age, idle, history offsets from
 * the flow's creation) so that the monotonic clock never leaks into the protocol.
 */
#include "flowjson.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

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

const char *flow_endpoint(char *buf, size_t len, const struct flow *f, char side)
{
	const uint8_t *a6 = side == 'c' ? f->caddr6 : side == 'p' ? f->paddr6 : f->uaddr6;
	uint32_t a4 = side == 'c' ? f->caddr : side == 'p' ? f->paddr : f->uaddr;
	uint16_t port = side == 'c' ? f->cport : side == 'p' ? f->pport : f->uport;
	bool v6 = side == 'u' ? f->uv6 : f->v6;
	char a[INET6_ADDRSTRLEN];

	if (!v6)
		return flow_addr_port(buf, len, a4, port);
	if (!inet_ntop(AF_INET6, a6, a, sizeof(a)))
		snprintf(a, sizeof(a), "?");
	snprintf(buf, len, "[%s]:%u", a, port);
	return buf;
}

bool flow_has_upstream(const struct flow *f)
{
	/* a port forward's LISTEN row may listen on 0.0.0.0: an address, not "not yet" */
	return f->uaddr || f->uv6 || (f->proto == PROTO_TCP && f->state == TCP_LISTEN);
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
	char cbuf[FLOW_ENDPOINT_LEN], pbuf[FLOW_ENDPOINT_LEN], ubuf[FLOW_ENDPOINT_LEN];
	bool has_up = flow_has_upstream(f);
	json_t *o, *link;

	link = json_string(lname);
	if (!link) /* not UTF-8: names come from the operator, but never emit invalid JSON */
		link = json_string("?");
	o = json_pack("{s:I, s:o, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:{s:I, s:I},"
		      " s:{s:I, s:I}, s:o}",
		      "id", (json_int_t)f->id, "link", link,
		      "proto", f->proto == PROTO_UDP ? "udp" : "tcp", "state", flow_state_name(f),
		      "origin", f->origin == FLOW_ORIGIN_HOST ? "host" : "container",
		      "container", flow_endpoint(cbuf, sizeof(cbuf), f, 'c'),
		      "peer", flow_endpoint(pbuf, sizeof(pbuf), f, 'p'),
		      "upstream", has_up ? json_string(flow_endpoint(ubuf, sizeof(ubuf), f, 'u'))
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

/**
 * struct jout - a bounded output buffer that counts what would not fit (snprintf-style)
 * @buf:	the buffer
 * @len:	its size
 * @pos:	bytes written so far, or needed when past @len
 */
struct jout {
	char *buf;
	size_t len;
	size_t pos;
};

/**
 * jout_mem() - append @n bytes of @s to @o (counted, written only where they fit)
 */
static void jout_mem(struct jout *o, const char *s, size_t n)
{
	if (o->pos < o->len)
		memcpy(o->buf + o->pos, s, o->pos + n <= o->len ? n : o->len - o->pos);
	o->pos += n;
}

/**
 * jout_str() - append the C string @s to @o, as is (no escaping: for JSON syntax and for
 * strings known to need none, such as state names and "a.b.c.d:port")
 */
static void jout_str(struct jout *o, const char *s)
{
	jout_mem(o, s, strlen(s));
}

/**
 * jout_int() - append @v to @o in decimal, as json_dumps() writes a json_int_t
 */
static void jout_int(struct jout *o, json_int_t v)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "%" JSON_INTEGER_FORMAT, v);

	jout_mem(o, s, n > 0 ? (size_t)n : 0);
}

/**
 * jout_key_int() - append @key (JSON syntax up to the value, e.g. ",\"age_ms\":") then @v
 */
static void jout_key_int(struct jout *o, const char *key, json_int_t v)
{
	jout_str(o, key);
	jout_int(o, v);
}

/**
 * jout_escaped() - append @s as a JSON string, quotes included, escaped as json_dumps() does:
 * '"' and '\\' by a backslash, the control characters below 0x20 as \b \f \n \r \t or \u00XX
 * (RFC 8259 7: these must be escaped; nothing else need be). @s must be valid UTF-8.
 */
static void jout_escaped(struct jout *o, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *run = s;

	jout_mem(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[7] = "\\u00";
		const char *e = esc;
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		jout_mem(o, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': e = "\\\""; break;
		case '\\': e = "\\\\"; break;
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		jout_mem(o, e, n);
	}
	jout_mem(o, run, (size_t)(s - run));
	jout_mem(o, "\"", 1);
}

/**
 * name_is_utf8() - whether @s is a string json_string() accepts (valid UTF-8); plain ASCII is
 * answered here, anything else by jansson itself so that both encoders agree exactly
 */
static bool name_is_utf8(const char *s)
{
	const char *p;
	json_t *t;

	for (p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			break;
	if (!*p)
		return true;
	t = json_string(s);
	json_decref(t);
	return t != NULL;
}

size_t flow_json_summary(char *buf, size_t len, const char *lname, const struct flow *f,
			 const struct tcp_view *v, uint64_t now_us)
{
	struct jout o = { .buf = buf, .len = len, .pos = 0 };
	bool has_up = flow_has_upstream(f);
	unsigned int i, n = f->nhist <= FLOW_HIST_MAX ? f->nhist : FLOW_HIST_MAX;
	char a[FLOW_ENDPOINT_LEN];

	/* The same keys, values and order as json_dumps(flow_json(..., false), JSON_COMPACT). */
	jout_key_int(&o, "{\"id\":", (json_int_t)f->id);
	jout_str(&o, ",\"link\":");
	jout_escaped(&o, name_is_utf8(lname) ? lname : "?");
	jout_str(&o, f->proto == PROTO_UDP ? ",\"proto\":\"udp\"" : ",\"proto\":\"tcp\"");
	jout_str(&o, ",\"state\":\"");
	jout_str(&o, flow_state_name(f));
	jout_str(&o, f->origin == FLOW_ORIGIN_HOST ? "\",\"origin\":\"host\""
						   : "\",\"origin\":\"container\"");
	jout_str(&o, ",\"container\":\"");
	jout_str(&o, flow_endpoint(a, sizeof(a), f, 'c'));
	jout_str(&o, "\",\"peer\":\"");
	jout_str(&o, flow_endpoint(a, sizeof(a), f, 'p'));
	if (has_up) {
		jout_str(&o, "\",\"upstream\":\"");
		jout_str(&o, flow_endpoint(a, sizeof(a), f, 'u'));
		jout_str(&o, "\"");
	} else {
		jout_str(&o, "\",\"upstream\":null");
	}
	jout_key_int(&o, ",\"age_ms\":", ms_since(now_us, f->created_us));
	jout_key_int(&o, ",\"idle_ms\":", ms_since(now_us, f->last_us));
	jout_key_int(&o, ",\"bytes\":{\"from_container\":", (json_int_t)f->bytes_in);
	jout_key_int(&o, ",\"to_container\":", (json_int_t)f->bytes_out);
	jout_key_int(&o, "},\"packets\":{\"from_container\":", (json_int_t)f->pkts_in);
	jout_key_int(&o, ",\"to_container\":", (json_int_t)f->pkts_out);
	jout_str(&o, "},\"history\":[");
	for (i = 0; i < n; i++) {
		jout_str(&o, i ? ",{\"state\":\"" : "{\"state\":\"");
		jout_str(&o, hist_state_name(f, f->hist[i].state));
		jout_key_int(&o, "\",\"at_ms\":", ms_since(f->hist[i].at_us, f->created_us));
		jout_str(&o, "}");
	}
	jout_str(&o, "]");
	if (f->hist_lost)
		jout_key_int(&o, ",\"history_lost\":", (json_int_t)f->hist_lost);
	if (f->end != FLOW_END_NONE) {
		jout_str(&o, ",\"end\":\"");
		jout_str(&o, flow_end_name(f->end));
		jout_str(&o, "\"");
	}
	if (v) {
		jout_key_int(&o, ",\"tcp\":{\"snd_una\":", (json_int_t)v->snd_una);
		jout_key_int(&o, ",\"snd_nxt\":", (json_int_t)v->snd_nxt);
		jout_key_int(&o, ",\"snd_wnd\":", (json_int_t)v->snd_wnd);
		jout_key_int(&o, ",\"rcv_nxt\":", (json_int_t)v->rcv_nxt);
		jout_key_int(&o, ",\"rcv_wnd\":", (json_int_t)v->rcv_wnd);
		jout_key_int(&o, ",\"mss\":", (json_int_t)(int)v->mss);
		if (v->wscale_snd < 0 || v->wscale_rcv < 0) {
			jout_str(&o, ",\"wscale\":null");
		} else {
			jout_key_int(&o, ",\"wscale\":[", v->wscale_snd);
			jout_key_int(&o, ",", v->wscale_rcv);
			jout_str(&o, "]");
		}
		jout_key_int(&o, ",\"srtt_us\":", (json_int_t)v->srtt_us);
		jout_key_int(&o, ",\"rto_ms\":", (json_int_t)v->rto_ms);
		jout_key_int(&o, ",\"retransmits\":", (json_int_t)v->retransmits);
		jout_str(&o, "}");
	}
	jout_str(&o, "}");
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = '\0';
	return o.pos;
}

size_t flow_summary(char *buf, size_t len, const struct link *l, const struct flow *f,
		    uint64_t now_us)
{
	struct tcp_view v;
	bool tcp = f->proto == PROTO_TCP && tcp_get_view(f, &v);

	return flow_json_summary(buf, len, l->name, f, tcp ? &v : NULL, now_us);
}
