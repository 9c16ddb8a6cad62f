/* netns.h - STUB */
#ifndef TAPIR_NETNS_H
#define TAPIR_NETNS_H
#endif
