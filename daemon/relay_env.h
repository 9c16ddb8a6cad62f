/* relay_env.h - what the relays (relay.c, udprelay.c, pingrelay.c) may know of the link whose
 * flows they carry: its stack, the loop, its addresses and choices, and how to tell the link
 * that the stack was fed (so that the link re-arms the stack's timer, once per loop turn).
 *
 * The relays get this, not struct link: they cannot reach the TAP, the link's other state or
 * the daemon beyond its configuration. link.c owns it (embedded in struct link) and fills it
 * at attach. Must not: hold anything a relay would write.
 */
#ifndef TAPIR_RELAY_ENV_H
#define TAPIR_RELAY_ENV_H

#include <sys/socket.h>

struct stack;
struct event_base;
struct link_cfg;
struct config;
struct sockaddr_storage;
struct reach;

/**
 * struct relay_env - a link as its relays see it
 * @stack:	the link's stack: upstream events go in here
 * @base:	the loop the relays' sockets are watched on
 * @cfg:	the link's configuration (gateway, DNS address, no_host_loopback, no_dns)
 * @dcfg:	the daemon's configuration (the upstream resolver)
 * @name:	the link's name, for messages
 * @touched:	call after feeding @stack from a loop callback: the link re-arms the stack's
 *		timer once, at the end of this loop turn (link.c finds the link from @env)
 * @reach:	the link's per-destination connection counts (reach.c writes them through
 *		reach_dest_acquire(); the relays pass them on, never touch them)
 * @bind_outbound: bind an upstream socket to the link's outbound address before it connects
 *		to @dst (slirp4netns --outbound-addr); NULL or 0: nothing to bind. Return: 0 or
 *		-errno
 */
struct relay_env {
	struct stack *stack;
	struct event_base *base;
	const struct link_cfg *cfg;
	const struct config *dcfg;
	const char *name;
	struct reach *reach;
	void (*touched)(struct relay_env *env);
	int (*bind_outbound)(const struct relay_env *env, int fd,
			     const struct sockaddr_storage *dst);
};

/** relay_env_touched() - the stack of @env was fed: have its timer re-armed this loop turn */
static inline void relay_env_touched(struct relay_env *env)
{
	if (env->touched)
		env->touched(env);
}

/** relay_env_bind_outbound() - @env's bind_outbound for @fd towards @dst (0 without one) */
static inline int relay_env_bind_outbound(const struct relay_env *env, int fd,
					  const struct sockaddr_storage *dst)
{
	return env->bind_outbound ? env->bind_outbound(env, fd, dst) : 0;
}

#endif
