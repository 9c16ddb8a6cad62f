/* eth.c - Ethernet: STUB, to be written */
#include "stack_internal.h"
void eth_input(struct stack *s, const uint8_t *frame, size_t len, uint64_t now_us) { (void)s; (void)frame; (void)len; (void)now_us; }
