/* flowjson.c - STUB */
#include "flowjson.h"
