/* tcp_sack.c - the sender's SACK scoreboard and the queries of RFC 6675 loss recovery.
 *
 * The container's SACK blocks (RFC 2018) say which bytes above SND.UNA it holds. The
 * scoreboard keeps them as sorted, disjoint ranges inside (SND.UNA, SND.MAX]; from it come
 * RFC 6675's IsLost() (a hole is lost once DupThresh discontiguous ranges or more than
 * (DupThresh - 1) * SMSS bytes were SACKed above it), SetPipe() (bytes still in flight) and
 * NextSeg()'s choice of hole to retransmit. tcp_input.c feeds it and decides when recovery
 * begins and ends; tcp_output.c sends what NextSeg() picks.
 * Every block comes from the container and is hostile: it is taken only if it lies inside
 * what we sent and not yet cumulatively acknowledged, and the board holds at most
 * TCP_SACKED_MAX ranges, so no frame can make it grow or cost more than a few dozen
 * comparisons. The board's array is allocated when a first block arrives and freed once it
 * is empty again: only loss recovery needs it, and an idle connection should not pay its
 * 128 bytes. Must not: send, or change anything but the scoreboard.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

/**
 * sb_remove() - drop range @i
 * @c:	the connection
 * @i:	index
 */
static void sb_remove(struct tcp_conn *c, unsigned int i)
{
	memmove(&c->sacked[i], &c->sacked[i + 1], (c->nsacked - i - 1) * sizeof(c->sacked[0]));
	c->nsacked--;
}

/**
 * sb_add() - merge [@l, @r) into the scoreboard
 * @c:	the connection
 * @l:	left edge
 * @r:	right edge (after @l)
 * Return: bytes newly SACKed (0 if the board held all of them already)
 */
static uint32_t sb_add(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	uint32_t before = 0, after = 0;
	unsigned int i, pos;

	if (!c->sacked) {
		c->sacked = malloc(TCP_SACKED_MAX * sizeof(c->sacked[0]));
		if (!c->sacked) /* no board: IsLost() stays cautious, NewReno-like */
			return 0;
	}
	for (i = 0; i < c->nsacked; i++)
		before += c->sacked[i][1] - c->sacked[i][0];
	/* Absorb every range that overlaps or touches [l, r). */
	for (i = 0; i < c->nsacked;) {
		uint32_t ol = c->sacked[i][0], or = c->sacked[i][1];

		if (seq_gt(ol, r) || seq_lt(or, l)) {
			i++;
			continue;
		}
		l = seq_min(l, ol);
		r = seq_max(r, or);
		sb_remove(c, i);
	}
	for (pos = 0; pos < c->nsacked && seq_lt(c->sacked[pos][0], l); pos++)
		;
	if (c->nsacked == TCP_SACKED_MAX) {
		/* Full: forget the highest range. The ones nearest SND.UNA decide what is
		 * retransmitted next; losing the last only makes IsLost() more cautious. */
		if (pos == TCP_SACKED_MAX)
			return 0;
		c->nsacked--;
	}
	memmove(&c->sacked[pos + 1], &c->sacked[pos], (c->nsacked - pos) * sizeof(c->sacked[0]));
	c->sacked[pos][0] = l;
	c->sacked[pos][1] = r;
	c->nsacked++;
	for (i = 0; i < c->nsacked; i++)
		after += c->sacked[i][1] - c->sacked[i][0];
	return after > before ? after - before : 0;
}

/**
 * tcp_sack_update() - RFC 6675 Update(): forget what SND.UNA passed, record @g's blocks
 * @c:	the connection (SND.UNA already advanced by @g's cumulative ACK)
 * @g:	the arriving segment
 * Return: true if @g SACKed bytes not SACKed before (RFC 6675 2's duplicate acknowledgment)
 */
bool tcp_sack_update(struct tcp_conn *c, const struct tcp_seg *g)
{
	bool news = false;

	while (c->nsacked && seq_leq(c->sacked[0][1], c->snd_una))
		sb_remove(c, 0);
	if (c->nsacked && seq_lt(c->sacked[0][0], c->snd_una))
		c->sacked[0][0] = c->snd_una;
	for (unsigned int i = 0; i < g->nsack; i++) {
		uint32_t l = g->sack[i][0], r = g->sack[i][1];

		/* RFC 2018 4 / RFC 2883: a block at or below SND.UNA reports a duplicate
		 * (D-SACK); one reaching past SND.MAX, or empty, is invalid. */
		if (!seq_lt(l, r) || seq_gt(r, c->snd_max) || seq_leq(r, c->snd_una))
			continue;
		if (seq_lt(l, c->snd_una))
			l = c->snd_una;
		if (sb_add(c, l, r))
			news = true;
	}
	if (!c->nsacked)
		tcp_sack_clear(c);
	return news;
}

/** tcp_sack_clear() - forget every block (RFC 2018 5.1: after a timeout, the container may
 * have reneged on what it SACKed), and release the board; also when the connection ends */
void tcp_sack_clear(struct tcp_conn *c)
{
	free(c->sacked);
	c->sacked = NULL;
	c->nsacked = 0;
}

/**
 * tcp_sack_is_lost() - RFC 6675 IsLost(@seq): DupThresh discontiguous SACKed ranges lie
 * above @seq, or more than (DupThresh - 1) * SMSS SACKed bytes
 * @c:		the connection
 * @seq:	an unSACKed sequence number
 * Return: true if the byte at @seq is deemed lost
 */
bool tcp_sack_is_lost(const struct tcp_conn *c, uint32_t seq)
{
	uint32_t bytes = 0, ranges = 0;

	for (unsigned int i = c->nsacked; i-- > 0;) {
		if (seq_leq(c->sacked[i][1], seq))
			break;
		ranges++;
		bytes += c->sacked[i][1] - seq_max(c->sacked[i][0], seq);
	}
	return ranges >= TCP_DUPTHRESH || bytes > (TCP_DUPTHRESH - 1) * (uint32_t)c->mss;
}

/**
 * tcp_sack_pipe() - RFC 6675 SetPipe(): bytes between SND.UNA and SND.MAX still thought to
 * be in the network: each unSACKed byte not deemed lost, plus each one retransmitted (below
 * HighRxt). Within one hole every byte has the same SACKed ranges above it, so IsLost() is
 * asked once per hole.
 * @c:	the connection
 * Return: bytes
 */
uint32_t tcp_sack_pipe(const struct tcp_conn *c)
{
	uint32_t pipe = 0, start = c->snd_una;

	for (unsigned int i = 0; i <= c->nsacked; i++) {
		uint32_t end = i < c->nsacked ? c->sacked[i][0] : c->snd_max;

		if (seq_lt(start, end)) {
			/* the region after the last range has nothing SACKed above: not lost */
			if (i == c->nsacked || !tcp_sack_is_lost(c, start))
				pipe += end - start;
			if (c->in_recovery && seq_gt(c->high_rxt, start))
				pipe += seq_min(end, c->high_rxt) - start;
		}
		if (i < c->nsacked)
			start = c->sacked[i][1];
	}
	return pipe;
}

/**
 * tcp_sack_next_hole() - RFC 6675 NextSeg() rules (1) and (3): the first unSACKed byte at
 * or after HighRxt and below the highest SACKed byte; with @lost, only if IsLost() holds
 * for it (rule 1), else any (rule 3)
 * @c:		the connection
 * @lost:	require IsLost()
 * @seq:	out: where the segment starts
 * @len:	out: how many bytes up to the hole's end (the caller caps it at the MSS)
 * Return: true if there is one
 */
bool tcp_sack_next_hole(const struct tcp_conn *c, bool lost, uint32_t *seq, uint32_t *len)
{
	uint32_t start = c->snd_una;

	for (unsigned int i = 0; i < c->nsacked; i++) {
		uint32_t end = c->sacked[i][0], s2 = seq_max(start, c->high_rxt);

		if (seq_lt(s2, end)) {
			/* IsLost() only weakens further up: a hole not lost means none above is */
			if (lost && !tcp_sack_is_lost(c, s2))
				return false;
			*seq = s2;
			*len = end - s2;
			return true;
		}
		start = c->sacked[i][1];
	}
	return false;
}
