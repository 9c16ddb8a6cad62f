/* control.c - STUB */
#include "control.h"
