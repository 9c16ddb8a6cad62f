/* tcp_internal.h - STUB: shared by tcp_*.c */
#ifndef TAPIR_TCP_INTERNAL_H
#define TAPIR_TCP_INTERNAL_H
#include "stack_internal.h"
#include "tcp.h"
#endif
