/* icmp.c - STUB */
#include "stack_internal.h"
void icmp_input(struct stack *s, const struct pkt *p) { (void)s; (void)p; }
void icmp_send_error(struct stack *s, const struct pkt *orig, uint8_t type, uint8_t code, uint32_t from) { (void)s; (void)orig; (void)type; (void)code; (void)from; }
