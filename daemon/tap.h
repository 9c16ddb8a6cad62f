/* tap.h - STUB */
#ifndef TAPIR_TAP_H
#define TAPIR_TAP_H
#endif
