/* log.h - STUB */
#ifndef TAPIR_LOG_H
#define TAPIR_LOG_H
#endif
