/* stream.h - tapird's compact JSON replies read in place, without building a tree.
 *
 * A `conns` reply over 50,000 flows is ~25 MB; parsing it into a jansson tree (and freeing
 * it) costs more than a second of CPU, far more than the daemon spends writing it. The
 * listing only needs to walk the flows one by one, pick a few members of each, and, for
 * --json, print the same bytes json_dumpf(JSON_INDENT(2)) would. These functions do that on
 * spans of the reply text: a value is located by skipping (bounds-checked, nesting bounded),
 * never copied or allocated.
 * Must not: allocate, print anything but what js_pretty() is asked to, or trust the text: every
 * function stops at the span's end and reports malformed input.
 */
#ifndef TAPIR_CTL_STREAM_H
#define TAPIR_CTL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * struct jspan - a JSON value (or a whole text) in a buffer
 * @p:	first byte
 * @n:	bytes
 */
struct jspan {
	const char *p;
	size_t n;
};

/**
 * js_valid() - whether @s is exactly one JSON value (blanks around it allowed), nested at
 * most JS_MAX_DEPTH deep
 */
bool js_valid(struct jspan s);

/* Deepest nesting accepted: tapird's replies go 5 deep; the bound keeps the recursion short. */
#define JS_MAX_DEPTH 64

/**
 * js_member() - the value of member @key of object @obj (a span starting at '{')
 * @val:	set to the value's span
 * Return: true if found
 */
bool js_member(struct jspan obj, const char *key, struct jspan *val);

/**
 * js_members() - one walk over object @obj, setting @vals[i] to the value of member @keys[i]
 * (left as it was when absent; keys compared as written, without unescaping). The walk stops
 * once every key was found (a key given twice in @keys is then never "all found").
 * Return: false if @obj is not an object or is malformed (in the part walked)
 */
bool js_members(struct jspan obj, const char *const *keys, size_t nkeys, struct jspan *vals);

/**
 * js_open() - js_member() for a large value that the caller walks with js_next() (which finds
 * its end): @val spans from the value's first byte to the end of @obj, so that the value is
 * not read once more only to find where it ends. Only for text js_valid() accepted.
 * Return: true if found
 */
bool js_open(struct jspan obj, const char *key, struct jspan *val);

/**
 * js_next() - iterate over the elements of array @arr (a span starting at '[')
 * @pos:	cursor: 0 to start, then what the previous call left
 * @elem:	set to the next element
 * Return: true while there is one
 */
bool js_next(struct jspan arr, size_t *pos, struct jspan *elem);

/** js_is() - whether @v is the literal or token @lit ("null", "true"...) */
bool js_is(struct jspan v, const char *lit);

/**
 * js_string() - the string value @v decoded into @out (NUL-terminated, cut to fit)
 * Return: @out, or @dflt if @v is not a string
 */
const char *js_string(struct jspan v, char *out, size_t outlen, const char *dflt);

/** js_int() - the integer value @v (0 if it is not a number) */
long long js_int(struct jspan v);

/**
 * js_pretty() - print value @v as json_dumpf(JSON_INDENT(2)) prints it, starting at nesting
 * @depth (strings and numbers copied as they are: tapird writes them as jansson does). @v
 * must be well formed (js_valid(), or an element js_next() found in a valid text).
 */
void js_pretty(FILE *out, struct jspan v, int depth);

/**
 * js_reply_return() - if @line is a valid reply {"return": {...}} (an object), its "return"
 * Return: true and @ret set; false for an error reply or anything malformed (the caller then
 * parses it the ordinary way, which explains what is wrong)
 */
bool js_reply_return(struct jspan line, struct jspan *ret);

/**
 * js_pretty_merged() - print {"flows": [...]} as json_dumpf(JSON_INDENT(2)) would, the
 * array being the elements of every @arrays[i] one after the other
 * @arrays:	@n arrays (spans starting at '['; a span that is not an array adds nothing)
 */
void js_pretty_merged(FILE *out, const char *key, const struct jspan *arrays, size_t n);

#endif
