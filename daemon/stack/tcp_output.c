/* tcp_output.c - STUB */
#include "tcp_internal.h"
