/* tap.c - the TAP device: create it in the current network namespace, tune its offloads. */
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define TAP_CLONE_DEV "/dev/net/tun"

int tap_open(const char *ifname, unsigned int flags)
{
	struct ifreq ifr;
	int fd, hdrlen = TAP_VNET_HDR_LEN;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	/* TUNSETIFF attaches to an existing persistent TAP of that name: never share one */
	if (!(flags & TAP_REUSE) && if_nametoindex(ifname))
		return -EBUSY;

	fd = open(TAP_CLONE_DEV, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (flags & TAP_VNET_HDR)
		ifr.ifr_flags |= IFF_VNET_HDR;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto fail;
	/* the kernel may have picked another name had ours contained a '%d' */
	if (strncmp(ifr.ifr_name, ifname, IFNAMSIZ)) {
		errno = EINVAL;
		goto fail;
	}
	if (flags & TAP_VNET_HDR) {
		int le = 1;

		/* the header's 16-bit fields little-endian whatever the host (virtio 1.x) */
		if (ioctl(fd, TUNSETVNETHDRSZ, &hdrlen) < 0 || ioctl(fd, TUNSETVNETLE, &le) < 0)
			goto fail;
	}
	return fd;
fail:
	hdrlen = -errno;
	close(fd);
	return hdrlen;
}

int tap_set_offload(int fd, unsigned int offloads)
{
	return ioctl(fd, TUNSETOFFLOAD, (unsigned long)offloads) < 0 ? -errno : 0;
}
