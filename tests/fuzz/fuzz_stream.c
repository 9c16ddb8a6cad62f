/* fuzz_stream.c - ctl/stream.c (tapirctl reading replies in place) on arbitrary bytes.
 *
 * The input is not NUL-terminated: every function must stay inside the span (ASan watches).
 * Oracle beyond the sanitizers: when jansson accepts the input too, what js_pretty() prints
 * parses back to the same value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stream.h"

/** walk() - every element or member value of @v through the readers, nested too */
static void walk(struct jspan v, int depth)
{
	static const char *const keys[] = { "id", "flows", "return", "state" };
	struct jspan e, m[4] = { { 0 } };
	size_t pos = 0;
	char buf[64];

	if (depth > 8)
		return;
	js_string(v, buf, sizeof(buf), NULL);
	js_int(v);
	if (js_members(v, keys, 4, m))
		for (int i = 0; i < 4; i++)
			if (m[i].p)
				walk(m[i], depth + 1);
	while (js_next(v, &pos, &e))
		walk(e, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct jspan s = { (const char *)data, size }, ret;
	json_t *a, *b;
	char *out = NULL;
	size_t olen = 0;
	FILE *f;

	if (js_reply_return(s, &ret))
		walk(ret, 0);
	if (!js_valid(s))
		return 0;
	walk(s, 0);
	if (js_open(s, "return", &ret) && js_open(ret, "flows", &ret)) {
		struct jspan e;
		size_t pos = 0;

		while (js_next(ret, &pos, &e))
			walk(e, 1);
	}
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull)
		js_pretty_merged(devnull, "flows", &s, 1);
	f = open_memstream(&out, &olen);
	if (!f)
		return 0;
	js_pretty(f, s, 0);
	fclose(f);
	a = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (a) {
		b = json_loadb(out, olen, JSON_DECODE_ANY, NULL);
		if (!b || !json_equal(a, b))
			abort(); /* js_pretty changed the value */
		json_decref(b);
		json_decref(a);
	}
	free(out);
	return 0;
}
