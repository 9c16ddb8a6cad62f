/* reach.c - reach policy, per-destination cap and socket memory budget of a link (reach.h). */
#include "reach.h"

#include "config.h"
#include "log.h"
#include "policy.h"
#include "relay_env.h"
#include "stack.h"
#include "tapird.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Fallbacks when /proc/sys/net/ipv4/tcp_[rw]mem cannot be read: Linux's defaults for the
 * autotuning maxima (6 MiB receive, 4 MiB send) */
#define REACH_RMEM_MAX_DFLT (6u << 20)
#define REACH_WMEM_MAX_DFLT (4u << 20)

/**
 * struct reach_dest - upstream connections of a link towards one ADDRESS:PORT
 * @addr:	IPv4 address, host order
 * @port:	port
 * @used:	the entry holds a destination
 * @n:		connections held
 */
struct reach_dest {
	uint32_t addr;
	uint16_t port;
	uint16_t used;
	uint32_t n;
};

/**
 * struct reach - a link's per-destination table (open addressing, linear probing)
 * @mask:	entries - 1 (a power of two, at least twice the flow table: probes stay short)
 * @ncap:	flow slots covered by @held
 * @held:	per flow slot: the destination it holds, addr and port (@held_on says whether)
 * @held_on:	per flow slot: 1 if it holds a destination
 * @tab:	the destinations
 */
struct reach {
	uint32_t mask;
	uint32_t ncap;
	struct reach_dest *held;
	uint8_t *held_on;
	struct reach_dest *tab;
};

/**
 * struct reach_rl - a log line's rate limit
 * @last_s:	second (monotonic) of the last line let through
 * @dropped:	lines suppressed since
 */
struct reach_rl {
	uint64_t last_s;
	unsigned long dropped;
};

/* One limit per kind of line, so that a flood of one kind never hides another */
static struct reach_rl reach_rl_policy = { UINT64_MAX, 0 };
static struct reach_rl reach_rl_dest = { UINT64_MAX, 0 };
static struct reach_rl reach_rl_mem = { UINT64_MAX, 0 };

/**
 * reach_sup_text() - " (N more not logged)" for @n suppressed lines, or ""
 * @buf:	room for the text
 * @len:	its size
 * @n:		lines suppressed
 * Return: @buf
 */
static const char *reach_sup_text(char *buf, size_t len, unsigned long n)
{
	buf[0] = '\0';
	if (n)
		snprintf(buf, len, " (%lu like it not logged)", n);
	return buf;
}

/**
 * reach_ratelimited() - at most one line of a kind per second, for all links together (a
 * container hammering a denied address must not flood the journal)
 * @rl:		the kind's limit
 * @suppressed:	set to the lines suppressed since the last one let through
 * Return: true if this line is to be suppressed
 */
static bool reach_ratelimited(struct reach_rl *rl, unsigned long *suppressed)
{
	uint64_t now_s = tapird_now_us() / 1000000;

	if (now_s == rl->last_s) {
		rl->dropped++;
		return true;
	}
	rl->last_s = now_s;
	*suppressed = rl->dropped;
	rl->dropped = 0;
	return false;
}

int reach_check(const struct relay_env *env, int proto, uint32_t addr, uint16_t port)
{
	const struct policy_host *host = NULL;
	uint32_t a = htonl(addr);
	char why[POLICY_RULE_TEXT], dst[INET_ADDRSTRLEN], sb[48];
	unsigned long sup;

	if (env->cfg->policy.deny_host_addrs || env->dcfg->policy.deny_host_addrs)
		host = policy_host_get(tapird_now_us() / 1000);
	if (!policy_check(&env->cfg->policy, host, AF_INET, &a, port, proto, why, sizeof(why)) &&
	    !policy_check(&env->dcfg->policy, host, AF_INET, &a, port, proto, why, sizeof(why)))
		return 0;
	if (!reach_ratelimited(&reach_rl_policy, &sup)) {
		inet_ntop(AF_INET, &a, dst, sizeof(dst));
		log_warn("%s: %s to %s:%u denied by policy (%s)%s", env->name,
			 proto == POLICY_TCP ? "TCP" : "UDP", dst, port, why,
			 reach_sup_text(sb, sizeof(sb), sup));
	}
	return -STACK_E_POLICY;
}

struct reach *reach_new(void)
{
	return calloc(1, sizeof(struct reach));
}

/**
 * reach_tables() - make @r's tables for a flow table of @cap slots, on first use (the flow
 * table's size is fixed for a link's life)
 * @r:		the state
 * @cap:	flow slots
 * Return: 0, or -ENOMEM with @r unchanged
 */
static int reach_tables(struct reach *r, uint32_t cap)
{
	uint32_t size = 16;

	if (r->tab)
		return r->ncap == cap ? 0 : -ENOMEM;
	while (size < 2 * cap && size < (1u << 31))
		size <<= 1;
	r->tab = calloc(size, sizeof(*r->tab));
	r->held = calloc(cap, sizeof(*r->held));
	r->held_on = calloc(cap, 1);
	if (!r->tab || !r->held || !r->held_on) {
		free(r->tab);
		free(r->held);
		free(r->held_on);
		r->tab = NULL;
		r->held = NULL;
		r->held_on = NULL;
		return -ENOMEM;
	}
	r->mask = size - 1;
	r->ncap = cap;
	return 0;
}

/**
 * reach_hash() - bucket of @addr:@port (a multiply-xorshift mix: the container chooses the
 * destinations, but at most max-flows of them are ever held, so a chain is bounded by it)
 * Return: the bucket
 */
static uint32_t reach_hash(const struct reach *r, uint32_t addr, uint16_t port)
{
	uint64_t h = ((uint64_t)addr << 16 | port) * 0x9e3779b97f4a7c15ull;

	return (uint32_t)(h ^ (h >> 29)) & r->mask;
}

/**
 * reach_find() - the entry of @addr:@port, or the free one where it would go
 * Return: its index
 */
static uint32_t reach_find(const struct reach *r, uint32_t addr, uint16_t port)
{
	uint32_t i = reach_hash(r, addr, port);

	while (r->tab[i].used && (r->tab[i].addr != addr || r->tab[i].port != port))
		i = (i + 1) & r->mask;
	return i;
}

/**
 * reach_delete() - empty entry @i, moving later entries of its cluster back so that every
 * lookup still finds them (backward-shift deletion: no tombstones to accumulate)
 * @r:	the table
 * @i:	the entry
 */
static void reach_delete(struct reach *r, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t h;

		r->tab[i].used = 0;
		do {
			j = (j + 1) & r->mask;
			if (!r->tab[j].used)
				return;
			h = reach_hash(r, r->tab[j].addr, r->tab[j].port);
			/* j may move to i only if its home h is not cyclically in (i, j] */
		} while (i <= j ? (i < h && h <= j) : (i < h || h <= j));
		r->tab[i] = r->tab[j];
		i = j;
	}
}

int reach_dest_acquire(const struct relay_env *env, const struct flow *f, uint32_t addr,
		       uint16_t port)
{
	uint32_t cap = env->dcfg->max_per_dest, i;
	char dst[INET_ADDRSTRLEN], sb[48];
	struct reach *r = env->reach;
	unsigned long sup;

	if (!cap)
		return 0;
	if (!r || reach_tables(r, flow_capacity(stack_flows(env->stack))) || f->idx >= r->ncap)
		return -ENOMEM;
	if (r->held_on[f->idx])
		reach_dest_release(r, f);
	i = reach_find(r, addr, port);
	if (r->tab[i].used && r->tab[i].n >= cap) {
		if (!reach_ratelimited(&reach_rl_dest, &sup)) {
			uint32_t a = htonl(addr);

			inet_ntop(AF_INET, &a, dst, sizeof(dst));
			log_warn("%s: TCP to %s:%u refused: %u connections to it already"
				 " (max-per-destination)%s", env->name, dst, port, cap,
				 reach_sup_text(sb, sizeof(sb), sup));
		}
		return -STACK_E_PER_DEST;
	}
	if (!r->tab[i].used)
		r->tab[i] = (struct reach_dest){ .addr = addr, .port = port, .used = 1 };
	r->tab[i].n++;
	r->held[f->idx] = (struct reach_dest){ .addr = addr, .port = port, .used = 1 };
	r->held_on[f->idx] = 1;
	return 0;
}

void reach_dest_release(struct reach *r, const struct flow *f)
{
	uint32_t i;

	if (!r || !r->tab || f->idx >= r->ncap || !r->held_on[f->idx])
		return;
	r->held_on[f->idx] = 0;
	i = reach_find(r, r->held[f->idx].addr, r->held[f->idx].port);
	if (!r->tab[i].used)
		return; /* cannot happen: acquire put it there */
	if (--r->tab[i].n == 0)
		reach_delete(r, i);
}

/**
 * reach_tcp_mem_max() - the most a TCP socket's buffers grow to by autotuning, send plus
 * receive: the third values of net.ipv4.tcp_rmem and tcp_wmem, read once
 * Return: bytes
 */
static uint64_t reach_tcp_mem_max(void)
{
	static uint64_t cached;
	const char *files[2] = { "/proc/sys/net/ipv4/tcp_rmem", "/proc/sys/net/ipv4/tcp_wmem" };
	const unsigned long dflt[2] = { REACH_RMEM_MAX_DFLT, REACH_WMEM_MAX_DFLT };
	uint64_t sum = 0;

	if (cached)
		return cached;
	for (int k = 0; k < 2; k++) {
		unsigned long lo, def, max = dflt[k];
		FILE *fp = fopen(files[k], "re");

		if (fp) {
			if (fscanf(fp, "%lu %lu %lu", &lo, &def, &max) != 3)
				max = dflt[k];
			fclose(fp);
		}
		sum += max;
	}
	cached = sum;
	return cached;
}

int reach_sockbuf_share(uint64_t budget, uint32_t live, uint64_t mem_max)
{
	uint64_t per;

	if (!budget || !live || mem_max <= budget / live) /* no product: it could wrap */
		return 0;
	/* Setting SO_SNDBUF/SO_RCVBUF turns autotuning off for the socket and the kernel
	 * doubles the value given (socket(7)): a quarter of this flow's share per direction.
	 * Sockets opened earlier keep theirs; the share shrinks as flows grow. */
	per = budget / live;
	if (per < 2 * REACH_SOCKBUF_MIN)
		per = 2 * REACH_SOCKBUF_MIN;
	return (int)(per / 4 < INT32_MAX ? per / 4 : INT32_MAX);
}

void reach_sockbuf(const struct relay_env *env, int fd, uint32_t live)
{
	int v = reach_sockbuf_share(env->dcfg->max_sock_mem, live, reach_tcp_mem_max());
	unsigned long sup;
	char sb[48];

	if (!v)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	stack_note_sockbuf_capped(env->stack);
	if (!reach_ratelimited(&reach_rl_mem, &sup))
		log_info("%s: %u upstream sockets: new ones get %d KiB of buffers per direction"
			 " (max-socket-memory)%s", env->name, live, 2 * v / 1024,
			 reach_sup_text(sb, sizeof(sb), sup));
}

void reach_free(struct reach *r)
{
	if (!r)
		return;
	free(r->tab);
	free(r->held);
	free(r->held_on);
	free(r);
}
