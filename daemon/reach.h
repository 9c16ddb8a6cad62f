/* reach.h - what one link's flows may reach upstream, and how much of the host they may hold.
 *
 * The relays (relay.c for TCP, udprelay.c for UDP) ask here where they choose a flow's
 * upstream destination: the reach policy (policy.h: the link's own rules, then the daemon's
 * [policy]), the per-destination cap on concurrent upstream TCP connections (each holds an
 * ephemeral port of the host towards that ADDRESS:PORT, of which there are ~28000), and the
 * socket memory budget (kernel send and receive buffers, which autotuning grows to
 * net.ipv4.tcp_rmem/tcp_wmem's maximum, several MiB, per socket). Each refusal is counted by
 * the stack (STACK_E_POLICY, STACK_E_PER_DEST) and logged at most once a second.
 * Must not: open sockets, parse frames.
 */
#ifndef TAPIR_REACH_H
#define TAPIR_REACH_H

#include <stdint.h>

struct flow;
struct reach;
struct relay_env;

/* Smallest buffer (per direction, what the kernel reports after doubling) the memory budget
 * shrinks a socket to: below a few segments TCP stalls on every ACK. With it, the bound is
 * max(max-socket-memory, flows x 2 x this); max-flows bounds flows. */
#define REACH_SOCKBUF_MIN (32 * 1024)

/**
 * reach_check() - may the link of @env open a new flow to @addr:@port over @proto?
 * @env:	the link as the relays see it (its policy, the daemon's)
 * @proto:	POLICY_TCP or POLICY_UDP
 * @addr:	the destination the container asked for, IPv4 host order
 * @port:	its port
 * Return: 0, or -STACK_E_POLICY (logged, rate-limited, with the rule)
 */
int reach_check(const struct relay_env *env, int proto, uint32_t addr, uint16_t port);

/**
 * reach_dest_acquire() - count TCP flow @f towards upstream @addr:@port against the
 * per-destination cap ([tcp] max-per-destination); released by reach_dest_release()
 * @env:	the link (@env->reach holds the counts)
 * @f:		the flow
 * @addr:	upstream address, IPv4 host order (0 for an IPv6 upstream)
 * @port:	upstream port
 * Return: 0, -STACK_E_PER_DEST (at the cap: logged, rate-limited), or -ENOMEM
 */
int reach_dest_acquire(const struct relay_env *env, const struct flow *f, uint32_t addr,
		       uint16_t port);

/**
 * reach_dest_release() - @f no longer holds its destination (idempotent; no-op if never
 * acquired)
 * @r:	the link's counts (NULL: nothing)
 * @f:	the flow
 */
void reach_dest_release(struct reach *r, const struct flow *f);

/**
 * reach_sockbuf() - bound new upstream socket @fd's buffers so that @live sockets of the
 * link stay within [tcp] max-socket-memory (counted by stack_note_sockbuf_capped())
 * @env:	the link
 * @fd:		the new socket, before connect()
 * @live:	upstream sockets of @l including this one
 */
void reach_sockbuf(const struct relay_env *env, int fd, uint32_t live);

/**
 * reach_sockbuf_share() - what to set SO_SNDBUF and SO_RCVBUF to on a new socket so that
 * @live sockets stay within @budget bytes of buffers
 * @budget:	max-socket-memory in bytes (0: no bound)
 * @live:	sockets including the new one
 * @mem_max:	what one socket may grow to by autotuning, send plus receive
 * Return: 0 to leave the socket alone (the budget holds even if every socket grows to
 * @mem_max), else the value for each setsockopt (the kernel doubles it)
 */
int reach_sockbuf_share(uint64_t budget, uint32_t live, uint64_t mem_max);

/**
 * reach_new() - a link's per-destination counts, empty (the table is made on first use)
 * Return: the state, or NULL when out of memory
 */
struct reach *reach_new(void);

/**
 * reach_free() - free @r (NULL: nothing), once no flow of its link is left
 * @r:	the state
 */
void reach_free(struct reach *r);

#endif
