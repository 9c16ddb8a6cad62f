/* tap.c - STUB */
#include "tap.h"
