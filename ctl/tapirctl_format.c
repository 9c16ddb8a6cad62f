/* tapirctl_format.c - output shared by the commands: --json printing, and the small
 * formatters for people (members of a reply, sizes as 1.5K, durations as 3m05s).
 * Must not: talk to the daemon.
 */
#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "tapirctl.h"

/**
 * print_json() - @v pretty-printed on stdout (any JSON value), streamed through stdio rather
 * than built as one string first (a 10,000-flow listing is ~10 MB: the string's growth by
 * realloc cost more than the formatting)
 */
void print_json(const json_t *v)
{
	if (!json_dumpf(v, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY))
		putchar('\n');
}

/**
 * json_shown() - with --json, print @r (the "return" value) and free @reply
 * Return: true if it did, and the command is done; false to print for people
 */
bool json_shown(const json_t *r, json_t *reply)
{
	if (!opt_json)
		return false;
	print_json(r);
	json_decref(reply);
	return true;
}

/** jint() - integer member @key of @o, 0 if absent */
long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/** jstr() - string member @key of @o, @dflt if absent or not a string */
const char *jstr(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/**
 * human_bytes() - "512", "1.5K", "3.2M" (powers of 1024, like ss and ls -h)
 * Return: @buf
 */
const char *human_bytes(char *buf, size_t len, long long v)
{
	static const char units[] = "KMGTPE";
	double x = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, len, "%lld", v);
		return buf;
	}
	while (x >= 1024 && u < 5) {
		x /= 1024;
		u++;
	}
	snprintf(buf, len, x < 10 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return buf;
}

/**
 * human_ms() - "850ms", "12.3s", "3m05s", "2h03m", "4d02h"
 * Return: @buf
 */
const char *human_ms(char *buf, size_t len, long long ms)
{
	long long s = ms / 1000;

	if (ms < 1000)
		snprintf(buf, len, "%lldms", ms);
	else if (s < 60)
		snprintf(buf, len, "%.1fs", (double)ms / 1000);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400, (s % 86400) / 3600);
	return buf;
}
