/* stream.c - tapird's compact JSON replies read in place (stream.h). */
#include "stream.h"

#include <stdlib.h>
#include <string.h>

/** ws() - @p moved past blanks, at most to @end */
static const char *ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/**
 * skip_string() - past the string starting at @p (a '"')
 * Return: the byte after its closing quote, or NULL if it is malformed or unterminated
 */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		} else if ((unsigned char)*p < 0x20) {
			return NULL; /* RFC 8259 7: control characters must be escaped */
		}
	}
	return NULL;
}

/**
 * skip_value() - past the value starting at or after @p
 * @depth:	nesting so far (bounded by JS_MAX_DEPTH)
 * Return: the byte after it, or NULL if it is malformed
 */
static const char *skip_value(const char *p, const char *end, int depth)
{
	char close;

	p = ws(p, end);
	if (p >= end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p == '{' || *p == '[') {
		if (depth >= JS_MAX_DEPTH)
			return NULL;
		close = *p == '{' ? '}' : ']';
		p = ws(p + 1, end);
		if (p < end && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				if (p >= end || *p != '"' || !(p = skip_string(p, end)))
					return NULL;
				p = ws(p, end);
				if (p >= end || *p != ':')
					return NULL;
				p++;
			}
			p = skip_value(p, end, depth + 1);
			if (!p)
				return NULL;
			p = ws(p, end);
			if (p < end && *p == close)
				return p + 1;
			if (p >= end || *p != ',')
				return NULL;
			p = ws(p + 1, end);
		}
	}
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		const char *s = p;

		while (p < end && ((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == '.' ||
				   *p == 'e' || *p == 'E'))
			p++;
		return p > s ? p : NULL;
	}
	for (const char *lit = "true\0false\0null\0"; *lit; lit += strlen(lit) + 1) {
		size_t n = strlen(lit);

		if ((size_t)(end - p) >= n && !memcmp(p, lit, n))
			return p + n;
	}
	return NULL;
}

bool js_valid(struct jspan s)
{
	const char *end = s.p + s.n, *p = skip_value(s.p, end, 0);

	return p && ws(p, end) == end;
}

/**
 * open_member() - the value of member @key of object @obj, as a span from its first byte to
 * the end of @obj: the value itself is not skipped (see js_open())
 * Return: true if found
 */
static bool open_member(struct jspan obj, const char *key, struct jspan *val)
{
	const char *p = obj.p, *end = obj.p + obj.n, *ke;
	size_t kl = strlen(key);

	p = ws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = ws(p + 1, end);
	while (p < end && *p == '"' && (ke = skip_string(p, end))) {
		bool match = (size_t)(ke - p) == kl + 2 && !memcmp(p + 1, key, kl);

		p = ws(ke, end);
		if (p >= end || *p != ':')
			return false;
		p = ws(p + 1, end);
		if (match) {
			val->p = p;
			val->n = (size_t)(end - p);
			return true;
		}
		p = skip_value(p, end, 1);
		if (!p)
			return false;
		p = ws(p, end);
		if (p >= end || *p != ',')
			return false;
		p = ws(p + 1, end);
	}
	return false;
}

bool js_open(struct jspan obj, const char *key, struct jspan *val)
{
	return open_member(obj, key, val);
}

bool js_members(struct jspan obj, const char *const *keys, size_t nkeys, struct jspan *vals)
{
	const char *p = obj.p, *end = obj.p + obj.n;
	size_t found = 0;

	p = ws(p, end);
	if (p >= end || *p != '{')
		return false;
	p = ws(p + 1, end);
	if (p < end && *p == '}')
		return true;
	for (;;) {
		const char *k = p, *ke, *v;

		if (p >= end || *p != '"' || !(ke = skip_string(p, end)))
			return false;
		p = ws(ke, end);
		if (p >= end || *p != ':')
			return false;
		v = ws(p + 1, end);
		p = skip_value(v, end, 1);
		if (!p)
			return false;
		for (size_t i = 0; i < nkeys; i++) {
			size_t kl = strlen(keys[i]);

			if ((size_t)(ke - k) == kl + 2 && !memcmp(k + 1, keys[i], kl)) {
				vals[i].p = v;
				vals[i].n = (size_t)(p - v);
				found++;
			}
		}
		if (found >= nkeys) /* all there: the rest need not be read */
			return true;
		p = ws(p, end);
		if (p < end && *p == '}')
			return true;
		if (p >= end || *p != ',')
			return false;
		p = ws(p + 1, end);
	}
}

bool js_member(struct jspan obj, const char *key, struct jspan *val)
{
	struct jspan v = { NULL, 0 };

	if (!js_members(obj, &key, 1, &v) || !v.p)
		return false;
	*val = v;
	return true;
}

bool js_next(struct jspan arr, size_t *pos, struct jspan *elem)
{
	const char *end = arr.p + arr.n, *p, *e;

	if (!*pos) {
		p = ws(arr.p, end);
		if (p >= end || *p != '[')
			return false;
		p++;
	} else {
		p = arr.p + *pos;
	}
	p = ws(p, end);
	if (p >= end || *p == ']')
		return false;
	e = skip_value(p, end, 1);
	if (!e)
		return false;
	elem->p = p;
	elem->n = (size_t)(e - p);
	e = ws(e, end);
	if (e < end && *e == ',')
		e++;
	else if (e >= end || *e != ']')
		return false; /* neither another element nor the end: malformed */
	*pos = (size_t)(e - arr.p);
	return true;
}

bool js_is(struct jspan v, const char *lit)
{
	size_t n = strlen(lit);

	return v.p && v.n == n && !memcmp(v.p, lit, n);
}

/** hex4() - the value of four hex digits at @p, -1 if they are not */
static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/** put_utf8() - code point @cp as UTF-8 at @out[*o], if it fits before @cap - 1 */
static void put_utf8(char *out, size_t cap, size_t *o, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n < cap) {
		memcpy(out + *o, b, n);
		*o += n;
	}
}

const char *js_string(struct jspan v, char *out, size_t outlen, const char *dflt)
{
	const char *p = v.p, *end;
	size_t o = 0;

	if (!p || v.n < 2 || *p != '"' || p[v.n - 1] != '"' || !outlen)
		return dflt;
	end = p + v.n; /* not before the check: NULL + 0 is undefined in C */
	for (p++, end--; p < end; p++) {
		unsigned long cp;
		long h;

		if (*p != '\\') {
			if (o + 1 < outlen)
				out[o++] = *p;
			continue;
		}
		if (++p >= end)
			break;
		switch (*p) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (end - p < 5 || (h = hex4(p + 1)) < 0)
				return dflt;
			p += 4;
			cp = (unsigned long)h;
			/* RFC 8259 7: a character beyond the BMP comes as a surrogate pair */
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 7 && p[1] == '\\' &&
			    p[2] == 'u' && (h = hex4(p + 3)) >= 0xdc00 && h < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned long)h - 0xdc00);
				p += 6;
			}
			break;
		default: cp = (unsigned char)*p; break; /* \" \\ \/ */
		}
		put_utf8(out, outlen, &o, cp);
	}
	out[o] = '\0';
	return out;
}

long long js_int(struct jspan v)
{
	char b[32];

	if (!v.p || !v.n || v.n >= sizeof(b))
		return 0;
	memcpy(b, v.p, v.n);
	b[v.n] = '\0';
	return strtoll(b, NULL, 10);
}

/** indent() - a newline and @depth levels of two blanks, as jansson's JSON_INDENT(2) */
static void indent(FILE *out, int depth)
{
	static const char blanks[] = "                                                        ";
	size_t n = (size_t)depth * 2;

	putc_unlocked('\n', out);
	while (n) {
		size_t k = n < sizeof(blanks) - 1 ? n : sizeof(blanks) - 1;

		fwrite_unlocked(blanks, 1, k, out);
		n -= k;
	}
}

/** scalar_end() - whether @c ends a number or literal */
static bool scalar_end(char c)
{
	return c == ',' || c == ':' || c == ']' || c == '}' || c == ' ' || c == '\n' ||
	       c == '\r' || c == '\t';
}

void js_pretty(FILE *out, struct jspan v, int depth)
{
	const char *p = v.p, *end = v.p + v.n, *e;
	int d = depth;

	/* One pass over the tokens, the nesting counted: the value is known to be well formed
	 * (js_valid), so brackets match and strings end. */
	while (p < end) {
		switch (*p) {
		case ' ': case '\n': case '\r': case '\t':
			p++;
			break;
		case '"':
			e = skip_string(p, end);
			if (!e)
				e = end;
			fwrite_unlocked(p, 1, (size_t)(e - p), out);
			p = e;
			break;
		case '{': case '[':
			putc_unlocked(*p, out);
			e = ws(p + 1, end);
			if (e < end && *e == (*p == '{' ? '}' : ']')) { /* jansson: "{}", "[]" */
				putc_unlocked(*e, out);
				p = e + 1;
				break;
			}
			indent(out, ++d);
			p = e;
			break;
		case '}': case ']':
			indent(out, --d);
			putc_unlocked(*p++, out);
			break;
		case ',':
			putc_unlocked(',', out);
			indent(out, d);
			p++;
			break;
		case ':':
			fwrite_unlocked(": ", 1, 2, out);
			p++;
			break;
		default:
			for (e = p + 1; e < end && !scalar_end(*e); e++)
				;
			fwrite_unlocked(p, 1, (size_t)(e - p), out);
			p = e;
		}
	}
}

bool js_reply_return(struct jspan line, struct jspan *ret)
{
	struct jspan r;

	if (!js_valid(line) || !js_member(line, "return", &r) || !r.n || *r.p != '{')
		return false;
	*ret = r;
	return true;
}

void js_pretty_merged(FILE *out, const char *key, const struct jspan *arrays, size_t n)
{
	bool first = true;

	fprintf(out, "{");
	indent(out, 1);
	fprintf(out, "\"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		struct jspan e;
		size_t pos = 0;

		while (js_next(arrays[i], &pos, &e)) {
			if (!first)
				putc_unlocked(',', out);
			first = false;
			indent(out, 2);
			js_pretty(out, e, 2);
		}
	}
	if (!first)
		indent(out, 1);
	putc_unlocked(']', out);
	indent(out, 0);
	putc_unlocked('}', out);
}
