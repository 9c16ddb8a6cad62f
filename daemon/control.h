/* control.h - STUB */
#ifndef TAPIR_CONTROL_H
#define TAPIR_CONTROL_H
#endif
