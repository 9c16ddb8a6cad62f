/* seq.h - STUB: modular 32-bit sequence arithmetic */
#ifndef TAPIR_SEQ_H
#define TAPIR_SEQ_H
#include <stdint.h>
#endif
