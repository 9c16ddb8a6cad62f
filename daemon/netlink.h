/* netlink.h - STUB */
#ifndef TAPIR_NETLINK_H
#define TAPIR_NETLINK_H
#endif
