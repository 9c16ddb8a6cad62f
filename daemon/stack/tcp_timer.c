/* tcp_timer.c - STUB */
#include "tcp_internal.h"
void tcp_tick(struct stack *s, uint64_t now_us) { (void)s; (void)now_us; }
uint64_t tcp_next_deadline(struct stack *s) { (void)s; return UINT64_MAX; }
