/* config.c - STUB */
#include "config.h"
