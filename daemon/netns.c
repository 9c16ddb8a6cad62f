/* netns.c - STUB */
#include "netns.h"
