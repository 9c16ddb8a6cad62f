/* pingrelay.h - ICMP echo from the container to other hosts, relayed through unprivileged
 * ping sockets (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), Linux 3.0+).
 *
 * Does the stack's icmp_echo (link.c's stack_ops call it) and feeds the replies back with icmp_echo_reply(). Ping
 * sockets need no capability, only the daemon's group inside net.ipv4.ping_group_range (in
 * the daemon's network namespace); where they are not permitted, echo requests go unanswered
 * and are counted (drop_icmp_echo_failed). Must not: parse or build frames.
 */
#ifndef TAPIR_PINGRELAY_H
#define TAPIR_PINGRELAY_H

#include <stddef.h>
#include <stdint.h>

struct relay_env;

/**
 * pingrelay_echo() - stack_ops.icmp_echo: send the container's echo request from the host
 * @env:	the link
 * @daddr:	destination
 * @id:		the container's identifier (the kernel puts the socket's in its place)
 * @seq:	sequence number
 * @data:	data after the ICMP header
 * @len:	its length
 * Return: 0, or a negative errno (the stack counts the request as dropped)
 */
int pingrelay_echo(struct relay_env *env, uint32_t daddr, uint16_t id, uint16_t seq,
		   const uint8_t *data, size_t len);

/**
 * pingrelay_env_gone() - close every ping socket of @env's link (call before it is freed)
 */
void pingrelay_env_gone(const struct relay_env *env);

#endif
