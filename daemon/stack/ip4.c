/* ip4.c - STUB */
#include "stack_internal.h"
void ip4_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us) { (void)s; (void)frame; (void)len; (void)now_us; }
void ip4_output(struct stack *s, uint32_t saddr, uint32_t daddr, uint8_t proto, size_t l4_len) { (void)s; (void)saddr; (void)daddr; (void)proto; (void)l4_len; }
