/* pingrelay.h - ICMP echo from the container to other hosts, relayed through unprivileged
 * ping sockets (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), Linux 3.0+).
 *
 * Implements stack_ops.icmp_echo and feeds the replies back with icmp_echo_reply(). Ping
 * sockets need no capability, only the daemon's group inside net.ipv4.ping_group_range (in
 * the daemon's network namespace); where they are not permitted, echo requests go unanswered
 * and are counted (drop_icmp_echo_failed). Must not: parse or build frames.
 */
#ifndef TAPIR_PINGRELAY_H
#define TAPIR_PINGRELAY_H

struct link;
struct stack_ops;

/**
 * pingrelay_fill_ops() - set stack_ops.icmp_echo; its ctx is the struct link * the stack
 * belongs to
 */
void pingrelay_fill_ops(struct stack_ops *ops);

/**
 * pingrelay_link_gone() - close every ping socket of @l (call before the link is freed)
 */
void pingrelay_link_gone(struct link *l);

#endif
