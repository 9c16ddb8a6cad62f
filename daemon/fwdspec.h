/* fwdspec.h - port forward specifications: "[HOSTADDR:]HOSTPORT:CONTAINERPORT", with equal
 * length port ranges ("8000-8010:9000-9010"), as -t/--tcp-forward, -u/--udp-forward and the
 * [forward] section of the configuration file write them.
 *
 * Parsing only, so that the configuration parser and its tests can use it without the loop:
 * fwd.c opens the listeners. Must not: touch the network.
 */
#ifndef TAPIR_FWDSPEC_H
#define TAPIR_FWDSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct fwd_spec - one forward or one range of forwards
 * @proto:	PROTO_TCP or PROTO_UDP (wire.h's IP protocol numbers)
 * @haddr:	host address to listen on (host byte order; 0 = every address)
 * @hport:	first host port
 * @gport:	first container port
 * @count:	ports in the range (1 for a single forward): hport + i goes to gport + i
 * @v6:		listen on IPv6 @haddr6 (then @haddr is unused): clients reach the container
 *		over IPv6
 * @haddr6:	IPv6 host address (network order; :: = every address)
 */
struct fwd_spec {
	uint8_t proto;
	bool v6;
	uint8_t haddr6[16];
	uint32_t haddr;
	uint16_t hport;
	uint16_t gport;
	uint16_t count;
};

/**
 * fwd_spec_parse() - parse "[HOSTADDR:]HOSTPORT[-LAST]:CONTAINERPORT[-LAST]"
 * @s:		the text
 * @proto:	PROTO_TCP or PROTO_UDP, copied into @out
 * @out:	the result (unchanged on failure)
 * @why:	on failure, what is wrong (without the text itself)
 * @whylen:	size of @why
 *
 * HOSTADDR is a dotted IPv4 address (0.0.0.0 = every address, the default), or an IPv6
 * address in brackets ("[::1]:8080:80": the forward reaches the container over IPv6). Ports are 1 to
 * 65535; a range's last port is not below its first; both sides' ranges have one length.
 * Return: 0, or -1 with @why set
 */
int fwd_spec_parse(const char *s, uint8_t proto, struct fwd_spec *out, char *why,
		   size_t whylen);

#endif
