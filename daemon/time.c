/* time.c - the one clock the shell reads and hands to the stack. */
#include "tapird.h"

uint64_t tapird_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
