/* test_stream.c - ctl/stream.c: tapird's replies read in place must give what jansson gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "stream.h"

static struct jspan span(const char *s)
{
	return (struct jspan){ s, strlen(s) };
}

/* js_pretty() of compact text as jansson writes it (tapird's replies: UTF-8 as it is, only
 * control characters as \u00XX) prints what json_dumpf(JSON_INDENT(2)) prints of its tree */
static void test_pretty_matches_jansson_indent(void **state)
{
	static const char *const docs[] = {
		"{\"flows\":[]}",
		"{}",
		"[]",
		"{\"flows\":[{\"id\":1,\"link\":\"c\\\"1\\\\\",\"upstream\":null,\"bytes\":{},"
		"\"history\":[{\"state\":\"SYN_RCVD\",\"at_ms\":0},{\"state\":\"ESTABLISHED\","
		"\"at_ms\":-3}],\"tcp\":{\"wscale\":[7,7],\"ok\":true,\"no\":false}}]}",
		"{\"a\":[[],[{}],[1,[2,[3]]]],\"s\":\"x\\u0001y\\n\xc3\xa9\"}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		char *want = NULL, *got = NULL;
		size_t wl = 0, gl = 0;
		FILE *w = open_memstream(&want, &wl), *g = open_memstream(&got, &gl);
		json_t *j = json_loads(docs[i], 0, NULL);

		assert_non_null(j);
		assert_true(js_valid(span(docs[i])));
		json_dumpf(j, w, JSON_INDENT(2) | JSON_ENCODE_ANY);
		js_pretty(g, span(docs[i]), 0);
		fclose(w);
		fclose(g);
		assert_string_equal(got, want);
		json_decref(j);
		free(want);
		free(got);
	}
}

/* members found in one walk, nested objects and absent keys included */
static void test_members_and_elements(void **state)
{
	static const char *const keys[] = { "b", "zz", "a" };
	const char *doc = "{\"a\":{\"x\":[1,2]},\"b\":\"two\",\"c\":3}";
	struct jspan v[3] = { { 0 } }, e;
	char buf[16];
	size_t pos = 0;
	long long sum = 0;

	(void)state;
	assert_true(js_members(span(doc), keys, 3, v));
	assert_string_equal(js_string(v[0], buf, sizeof(buf), "?"), "two");
	assert_null(v[1].p);
	assert_true(js_member(v[2], "x", &e));
	while (js_next(e, &pos, &v[1]))
		sum += js_int(v[1]);
	assert_int_equal(sum, 3);
	assert_true(js_is((struct jspan){ "null", 4 }, "null"));
}

/* js_open(): a large array walked without being skipped first, its elements all found */
static void test_open_walks_to_the_array_end(void **state)
{
	const char *doc = "{\"return\":{\"flows\":[{\"id\":1},{\"id\":2}],\"more\":[9]},\"id\":7}";
	struct jspan ret, flows, e;
	size_t pos = 0;
	long long ids = 0;
	int n = 0;

	(void)state;
	assert_true(js_valid(span(doc)));
	assert_true(js_open(span(doc), "return", &ret));
	assert_true(js_open(ret, "flows", &flows));
	while (js_next(flows, &pos, &e)) {
		assert_true(js_member(e, "id", &e));
		ids += js_int(e);
		n++;
	}
	assert_int_equal(n, 2);
	assert_int_equal(ids, 3);
	assert_false(js_open(ret, "absent", &e));
}

/* escapes decoded (a surrogate pair into one 4-byte character); a string cut to fit */
static void test_string_decoding(void **state)
{
	char buf[16], small[4];

	(void)state;
	assert_string_equal(js_string(span("\"a\\\"b\\\\c\\/\\n\""), buf, sizeof(buf), "?"),
			    "a\"b\\c/\n");
	assert_string_equal(js_string(span("\"\\u00e9\\ud83d\\ude00\""), buf, sizeof(buf), "?"),
			    "\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(js_string(span("\"abcdef\""), small, sizeof(small), "?"), "abc");
	assert_string_equal(js_string(span("42"), buf, sizeof(buf), "?"), "?");
	/* an absent member (js_members() leaves its span { NULL, 0 }) is the default */
	assert_string_equal(js_string((struct jspan){ NULL, 0 }, buf, sizeof(buf), "?"), "?");
}

/* malformed text is refused, and nothing reads past the span */
static void test_malformed_refused(void **state)
{
	static const char *const bad[] = {
		"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "[1 2]", "\"open", "{\"a\":1}x", "tru",
		"{\"a\":\"\x01\"}",
	};
	char deep[2 * JS_MAX_DEPTH + 8];
	struct jspan r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(js_valid(span(bad[i])));
	memset(deep, '[', JS_MAX_DEPTH + 2);
	memset(deep + JS_MAX_DEPTH + 2, ']', JS_MAX_DEPTH + 2);
	deep[2 * JS_MAX_DEPTH + 4] = '\0';
	assert_false(js_valid(span(deep)));
	/* a span ending inside a value: the bytes beyond it are never looked at */
	assert_false(js_valid((struct jspan){ "{\"a\":12}", 6 }));
	assert_false(js_reply_return(span("{\"error\":{\"class\":\"X\"}}"), &r));
	assert_true(js_reply_return(span("{\"return\":{\"flows\":[]},\"id\":3}"), &r));
	assert_int_equal(r.n, strlen("{\"flows\":[]}"));
}

/* several daemons' arrays as one {"flows": [...]} listing, as jansson prints the merged tree */
static void test_merged_matches_jansson(void **state)
{
	struct jspan arrays[3] = { span("[{\"id\":1}]"), span("[]"), span("[{\"id\":2},{\"id\":3}]") };
	const char *want = "{\n  \"flows\": [\n    {\n      \"id\": 1\n    },\n    {\n      \"id\": "
			   "2\n    },\n    {\n      \"id\": 3\n    }\n  ]\n}";
	char *got = NULL;
	size_t gl = 0;
	FILE *g = open_memstream(&got, &gl);

	(void)state;
	js_pretty_merged(g, "flows", arrays, 3);
	fclose(g);
	assert_string_equal(got, want);
	free(got);
	g = open_memstream(&got, &gl);
	js_pretty_merged(g, "flows", arrays + 1, 1);
	fclose(g);
	assert_string_equal(got, "{\n  \"flows\": []\n}");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pretty_matches_jansson_indent),
		cmocka_unit_test(test_members_and_elements),
		cmocka_unit_test(test_open_walks_to_the_array_end),
		cmocka_unit_test(test_string_decoding),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_merged_matches_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
