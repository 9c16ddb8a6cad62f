/* netlink.c - STUB */
#include "netlink.h"
