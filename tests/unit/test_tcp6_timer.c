/* test_tcp6_timer.c - every test of test_tcp_timer.c again over IPv6 (issue 13: no second copy of
 * the TCP code per family, and none of its tests): the same RFC 9293 rules checked through
 * ip6.c, the IPv6 flow keys and the IPv6 pseudo-header. See tcp6_wrap.h for what is skipped. */
#include "tcp6_wrap.h"

static const char *const tcp6_skip[] = {
	"test_timer_heap_many_flows",
	NULL,
};

#include "test_tcp_timer.c"
