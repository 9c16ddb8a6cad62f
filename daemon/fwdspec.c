/* fwdspec.c - parse port forward specifications (see fwdspec.h). Must not: touch the network.
 */
#include "fwdspec.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Longest text we look at: "255.255.255.255:65535-65535:65535-65535" is 39 bytes */
#define FWDSPEC_MAX 64

/**
 * parse_port() - a decimal port 1..65535 that fills [@s, @e) exactly
 * @s:		first character
 * @e:		one past the last
 * @out:	the port
 * Return: 0, or -1
 */
static int parse_port(const char *s, const char *e, uint16_t *out)
{
	unsigned long v = 0;

	if (s == e || e - s > 5)
		return -1;
	for (const char *p = s; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (!v || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/**
 * parse_range() - "PORT" or "FIRST-LAST" filling [@s, @e)
 * @s:		first character
 * @e:		one past the last
 * @first:	first port
 * @count:	ports in the range
 * @what:	"host" or "container", for the message
 * @why:	what is wrong
 * @whylen:	its size
 * Return: 0, or -1 with @why set
 */
static int parse_range(const char *s, const char *e, uint16_t *first, uint16_t *count,
		       const char *what, char *why, size_t whylen)
{
	const char *dash = memchr(s, '-', (size_t)(e - s));
	uint16_t lo, hi;

	if (!dash) {
		if (parse_port(s, e, &lo)) {
			snprintf(why, whylen, "%s port \"%.*s\" is not 1 to 65535", what,
				 (int)(e - s), s);
			return -1;
		}
		*first = lo;
		*count = 1;
		return 0;
	}
	if (parse_port(s, dash, &lo) || parse_port(dash + 1, e, &hi)) {
		snprintf(why, whylen,
			 "%s port range \"%.*s\" is not FIRST-LAST with ports 1 to 65535", what,
			 (int)(e - s), s);
		return -1;
	}
	if (hi < lo) {
		snprintf(why, whylen, "%s port range %u-%u ends before it starts", what, lo, hi);
		return -1;
	}
	*first = lo;
	*count = (uint16_t)(hi - lo + 1);
	return 0;
}

int fwd_spec_parse(const char *s, uint8_t proto, struct fwd_spec *out, char *why,
		   size_t whylen)
{
	const char *c1, *c2, *hp;
	struct fwd_spec sp = { .proto = proto };
	uint16_t hcount, gcount;
	size_t len = strlen(s);

	if (!len || len >= FWDSPEC_MAX) {
		snprintf(why, whylen, "expected [HOSTADDR:]HOSTPORT:CONTAINERPORT");
		return -1;
	}
	if (strchr(s + 1, '[')) {
		snprintf(why, whylen, "expected [IPV6]:HOSTPORT:CONTAINERPORT");
		return -1;
	}
	c2 = strrchr(s, ':');
	if (!c2) {
		snprintf(why, whylen, "expected [HOSTADDR:]HOSTPORT:CONTAINERPORT");
		return -1;
	}
	hp = s;
	if (s[0] == '[') {
		/* "[IPV6]:HOSTPORT:CONTAINERPORT" */
		const char *rb = memchr(s, ']', len);
		char addr[INET6_ADDRSTRLEN];

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(addr) || rb + 1 >= c2) {
			snprintf(why, whylen, "expected [IPV6]:HOSTPORT:CONTAINERPORT");
			return -1;
		}
		memcpy(addr, s + 1, (size_t)(rb - s - 1));
		addr[rb - s - 1] = '\0';
		if (inet_pton(AF_INET6, addr, sp.haddr6) != 1) {
			snprintf(why, whylen, "host address \"%s\" is not an IPv6 address", addr);
			return -1;
		}
		sp.v6 = true;
		hp = rb + 2;
		c1 = NULL;
	} else {
		c1 = memchr(s, ':', (size_t)(c2 - s));
	}
	if (c1) {
		char addr[INET_ADDRSTRLEN];
		struct in_addr ia;

		if (memchr(c1 + 1, ':', (size_t)(c2 - c1 - 1)) ||
		    (size_t)(c1 - s) >= sizeof(addr)) {
			snprintf(why, whylen, "expected [HOSTADDR:]HOSTPORT:CONTAINERPORT");
			return -1;
		}
		memcpy(addr, s, (size_t)(c1 - s));
		addr[c1 - s] = '\0';
		if (inet_pton(AF_INET, addr, &ia) != 1) {
			snprintf(why, whylen, "host address \"%s\" is not an IPv4 address", addr);
			return -1;
		}
		sp.haddr = ntohl(ia.s_addr);
		hp = c1 + 1;
	}
	if (parse_range(hp, c2, &sp.hport, &hcount, "host", why, whylen) ||
	    parse_range(c2 + 1, s + len, &sp.gport, &gcount, "container", why, whylen))
		return -1;
	if (hcount != gcount) {
		snprintf(why, whylen, "the host range has %u ports, the container range %u",
			 hcount, gcount);
		return -1;
	}
	sp.count = hcount;
	*out = sp;
	return 0;
}
