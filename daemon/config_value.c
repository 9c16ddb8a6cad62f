/* config_value.c - the value parsers the configuration's setters share (numbers, booleans,
 * IPv4 addresses, deny rules): text in, value or a reason out. Parsing only.
 */
#include "config_internal.h"
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/**
 * parse_u32() - a decimal number in [@min, @max], digits only (no sign, no blanks)
 * Return: 0, or -1 with @why set
 */
int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out, char *why,
	      size_t whylen)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = (*v >= '0' && *v <= '9') ? strtoul(v, &end, 10) : 0;
	if (*v < '0' || *v > '9' || *end || errno || n < min || n > max) {
		snprintf(why, whylen, "\"%s\" is not a number between %u and %u", v, min, max);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/**
 * parse_bool() - yes/no, true/false, on/off, 1/0 (any case)
 * Return: 0, or -1 with @why set
 */
int parse_bool(const char *v, bool *out, char *why, size_t whylen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	unsigned int i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i]) || !strcasecmp(v, no[i])) {
			*out = !strcasecmp(v, yes[i]);
			return 0;
		}
	}
	snprintf(why, whylen, "\"%s\" is not yes or no", v);
	return -1;
}

/**
 * parse_ip4() - a dotted-quad IPv4 address usable as a host address
 * @out:	the address in host byte order
 * Return: 0, or -1 with @why set
 */
int parse_ip4(const char *v, uint32_t *out, char *why, size_t whylen)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, v, &a) != 1) {
		snprintf(why, whylen, "\"%s\" is not an IPv4 address", v);
		return -1;
	}
	h = ntohl(a.s_addr);
	/* RFC 1122 3.2.1.3: 0/8, 127/8, class D/E and broadcast are never a host's address */
	if ((h >> 24) == 0 || (h >> 24) == 127 || h >= 0xe0000000u) {
		snprintf(why, whylen, "\"%s\" is not a unicast host address", v);
		return -1;
	}
	*out = h;
	return 0;
}

/**
 * policy_set_deny() - add one deny rule (repeatable key) to @p
 * Return: 0, or -1 with @why set
 */
int policy_set_deny(struct policy *p, const char *v, char *why, size_t whylen)
{
	return policy_add(p, v, why, whylen) ? -1 : 0;
}
