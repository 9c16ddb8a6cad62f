/* log.c - STUB */
#include "log.h"
