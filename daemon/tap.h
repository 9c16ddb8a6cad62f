/* tap.h - the TAP device: create it in the current network namespace, tune its offloads.
 *
 * Frames are plain Ethernet (IFF_NO_PI). With TAP_VNET_HDR each frame read or written is
 * preceded by a struct virtio_net_hdr_v1 (TAP_VNET_HDR_LEN bytes, little-endian), which is
 * what lets the kernel hand over and take back 64 KiB segments once tap_set_offload()
 * enables TSO (DESIGN.md, Performance). Must not: parse frames or configure addresses (netlink.c does).
 */
#ifndef TAPIR_TAP_H
#define TAPIR_TAP_H

#include <linux/if_tun.h>
#include <stdint.h>

#define TAP_VNET_HDR (1u << 0)	/* tap_open() flag: virtio-net header before every frame */
#define TAP_VNET_HDR_LEN 12	/* sizeof(struct virtio_net_hdr_v1) */
#define TAP_REUSE (1u << 1)	/* tap_open() flag: attach to a persistent TAP of that name */

/**
 * tap_open() - create TAP @ifname in the current namespace, non-blocking and close-on-exec
 * @flags:	TAP_* flags
 *
 * An interface that already exists under @ifname is refused rather than attached to: TUNSETIFF
 * would silently share a persistent TAP with whoever else holds it. With TAP_REUSE it is
 * attached to, as slirp4netns does (rootlesskit creates the TAP before it starts
 * slirp4netns); the kernel still refuses a TAP another process holds (EBUSY) and an interface
 * that is not a TAP (EINVAL).
 * Return: the fd, or -errno (-EBUSY: the name is taken; -EPERM: no CAP_NET_ADMIN)
 */
int tap_open(const char *ifname, unsigned int flags);

/* The offloads tapird takes from the container's kernel: partial checksums and TCP
 * super-frames (TSO) over IPv4 and IPv6 (no UFO/USO: UDP is taken a datagram at a time) */
#define TAP_OFFLOADS (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)

/**
 * tap_set_offload() - TUNSETOFFLOAD: which offloads (TUN_F_CSUM, TUN_F_TSO4...) we accept
 * Return: 0, or -errno (needs a TAP opened with TAP_VNET_HDR)
 */
int tap_set_offload(int fd, unsigned int offloads);

#endif
