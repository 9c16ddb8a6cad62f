/* link.c - STUB */
#include "link.h"
