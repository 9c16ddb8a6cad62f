/* tcp_input.c - STUB */
#include "tcp_internal.h"
void tcp_input(struct stack *s, const struct pkt *p) { (void)s; (void)p; }
