/* relay.c - STUB */
#include "relay.h"
