/* reass.h - the family-neutral core of fragment reassembly (reass.c): the bookkeeping that
 * IPv4 (ip4_reass.c: RFC 791 3.2, RFC 815, RFC 1122 3.3.2) and IPv6 (ip6_reass.c: RFC 8200
 * 4.5, RFC 5722, RFC 6946) share. One table per family and link: REASS_SLOTS datagrams keyed
 * by identification, addresses and protocol, the oldest evicted for a new one; a byte budget
 * over all their buffers; coverage in 8-byte units, so that any overlap is seen; a timeout
 * from the first fragment. The family fronts keep what differs: which fragments are
 * malformed, which errors are answered with ICMP, the header of the rebuilt datagram.
 *
 * The container is hostile, so every resource is bounded and every conflict is fatal:
 *  - a fragment of a new datagram when all slots are taken evicts the oldest (over_limit,
 *    once for that datagram);
 *  - each datagram's buffer grows with the highest byte received, and all of a table's
 *    buffers together stay under REASS_BUDGET_DGRAMS of the largest datagram: a datagram
 *    that would take them past it is discarded (over_limit);
 *  - REASS_TIMEOUT_US after its first fragment an incomplete datagram is discarded (timeout)
 *    and, if fragment zero was there, the front is told so that it can answer with ICMP time
 *    exceeded (RFC 1122 3.3.2, RFC 8200 4.5);
 *  - overlapping fragments discard the whole datagram (overlap), as RFC 5722 asks of IPv6 and
 *    we ask of IPv4 too: overlaps only serve to slip different bytes past a filter. An exact
 *    duplicate (every byte already held and the same) is harmless: only it is dropped
 *    (duplicate). So is a fragment whose end contradicts the last fragment's (overlap);
 *  - a fragment ending beyond the family's largest datagram discards its datagram (too_big).
 * Counting rule: a fragment dropped at once counts once; a datagram given up with the
 * fragments it held counts once; no fragment makes us count more than one drop.
 * Must not: know header formats, send anything, or know struct stack (the fronts do).
 */
#ifndef TAPIR_REASS_H
#define TAPIR_REASS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Datagrams in reassembly per link and family (Linux bounds by memory only) */
#define REASS_SLOTS 16
/* RFC 1122 3.3.2 recommends 60 to 120 s for a reassembly timeout, and RFC 8200 4.5 waits at
 * most 60 s, both for fragments that cross the Internet by different paths; Linux uses 30 s
 * (ipfrag_time). Ours cross one TAP, back to back from the container's kernel, so any
 * missing after 15 s are lost for good, and a short timeout bounds how long a container can
 * hold a slot with a partial datagram. */
#define REASS_TIMEOUT_US (15 * 1000000ull)
/* Buffers held per table: four datagrams of the largest size. Linux's ipfrag_high_thresh
 * (4 MiB) is per namespace; a link is one container. */
#define REASS_BUDGET_DGRAMS 4u
/* Data bytes of the largest datagram of any family: IPv4's, 65535 less a 20-byte header
 * (IPv6's is 65535 less its 40-byte one) */
#define REASS_MAX_DATA (65535 - 20)
/* Bytes of fragment zero's header kept: IPv6's fixed header, IPv4's without options */
#define REASS_HDR_MAX 40

/**
 * struct reass_family - what a table needs to know of its family
 * @hdrs:	room in front of the data in a buffer: the link header and the header the front
 *		rebuilds, which is the kept header (@hdr_len bytes, placed just before the data)
 * @max_data:	data bytes a datagram may carry
 * @hdr_len:	bytes of fragment zero's header to keep (at most REASS_HDR_MAX)
 */
struct reass_family {
	size_t hdrs;
	size_t max_data;
	size_t hdr_len;
};

/**
 * struct reass_counters - the family's counters for each outcome (in the link's
 * stack_counters, which outlive the table)
 * @fragment:	fragments dropped for want of memory
 * @too_big:	datagrams whose fragments end past @max_data
 * @overlap:	datagrams discarded for overlapping or contradicting fragments
 * @duplicate:	fragments that duplicate bytes already held
 * @timeout:	datagrams whose reassembly timed out
 * @over_limit:	datagrams evicted or refused by the slot and byte bounds
 * @reassembled: datagrams completed
 */
struct reass_counters {
	uint64_t *fragment, *too_big, *overlap, *duplicate, *timeout, *over_limit, *reassembled;
};

/**
 * struct reass_key - what makes fragments one datagram (RFC 791 3.2: source, destination,
 * protocol, identification; RFC 8200 4.5: source, destination, identification)
 * @saddr, @daddr: addresses (IPv4 in the first four bytes, the rest zero)
 * @id:		identification
 * @proto:	protocol (IPv4; 0 for IPv6, whose next header is not part of the key)
 */
struct reass_key {
	uint8_t saddr[16], daddr[16];
	uint32_t id;
	uint8_t proto;
};

/**
 * enum reass_verdict - what became of a fragment
 * @REASS_HELD:		kept, the datagram is not complete yet
 * @REASS_DONE:		it completed the datagram: the caller owns the buffer
 * @REASS_TOO_BIG:	it ends past the family's limit: dropped with its datagram, counted
 * @REASS_DROPPED:	dropped (duplicate, overlap, bounds, memory), counted
 */
enum reass_verdict { REASS_HELD, REASS_DONE, REASS_TOO_BIG, REASS_DROPPED };

/**
 * struct reass_done - a complete datagram
 * @buf:	malloc'd, the caller frees it: @hdrs bytes (the kept header of fragment zero in
 *		its last @hdr_len), then @total data bytes
 * @total:	data length
 */
struct reass_done {
	uint8_t *buf;
	size_t total;
};

struct reass;

/**
 * reass_new() - an empty table for one family
 * @f:		the family's sizes (static storage)
 * @c:		its counters
 * Return: the table, or NULL without memory
 */
struct reass *reass_new(const struct reass_family *f, const struct reass_counters *c);

/** reass_free() - drop every partial datagram and the table (NULL is fine) */
void reass_free(struct reass *r);

/**
 * reass_add() - one fragment, already checked by the front for the family's own rules
 * @r:		the table
 * @k:		the datagram it belongs to
 * @off:	offset of its data in the datagram, a multiple of 8
 * @data:	its data
 * @len:	its length, nonzero (a multiple of 8 unless @last)
 * @last:	the last fragment (more fragments clear)
 * @hdr:	the header to keep if @off is 0 (@hdr_len bytes)
 * @now_us:	time
 * @done:	set when the verdict is REASS_DONE
 * Return: the verdict
 */
enum reass_verdict reass_add(struct reass *r, const struct reass_key *k, size_t off,
			     const uint8_t *data, size_t len, bool last, const uint8_t *hdr,
			     uint64_t now_us, struct reass_done *done);

/**
 * reass_expired_fn - a datagram timed out after fragment zero came: the front may answer
 * @ctx:	the front's context
 * @hdr:	fragment zero's kept header
 * @data:	the data held contiguously from offset 0, at most 64 bytes (for an ICMP quote)
 * @len:	its length
 * @now_us:	time
 */
typedef void (*reass_expired_fn)(void *ctx, const uint8_t *hdr, const uint8_t *data, size_t len,
				 uint64_t now_us);

/**
 * reass_tick() - discard (and count) the datagrams whose reassembly timed out, calling
 * @expired for each that had fragment zero
 */
void reass_tick(struct reass *r, uint64_t now_us, reass_expired_fn expired, void *ctx);

/** reass_deadline() - when the next datagram times out, UINT64_MAX if none (or no table) */
uint64_t reass_deadline(const struct reass *r);

/** reass_pending() - datagrams in reassembly (0 without a table) */
size_t reass_pending(const struct reass *r);

#endif
