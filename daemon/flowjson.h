/* flowjson.h - STUB */
#ifndef TAPIR_FLOWJSON_H
#define TAPIR_FLOWJSON_H
#endif
