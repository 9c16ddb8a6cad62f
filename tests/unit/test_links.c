/* test_links.c - links are isolated: two stacks, as tapird runs one per attached container,
 * with the same container address and the same 4-tuple on each (every container defaults to
 * 10.0.2.100), driven side by side. What one link's upstream sends reaches only that link's
 * TAP; what one container sends reaches only its own upstream; one link at its connection limit
 * does not stop the other from opening connections (the limits are per link).
 */
#include <stdlib.h>
#include <string.h>

#include "stack_internal.h"
#include "tcp_fixture.h"

/**
 * struct two - two links' worlds
 * @a, @b:	each a stack with its own mock shell (TAP capture, upstream, sink)
 */
struct two {
	struct fx *a, *b;
};

static int two_setup(void **state)
{
	struct two *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->a = fx_new();
	t->b = fx_new();
	*state = t;
	return 0;
}

static int two_teardown(void **state)
{
	struct two *t = *state;

	fx_free(t->a);
	fx_free(t->b);
	free(t);
	return 0;
}

/**
 * tap_has_byte() - whether any payload the stack of @fx sent to its TAP contains @byte
 */
static bool tap_has_byte(struct fx *fx, uint8_t byte)
{
	struct parsed p;

	for (size_t i = 0; i < fx_nout(fx); i++) {
		fx_out(fx, i, &p);
		if (p.payload_len && memchr(p.payload, byte, p.payload_len))
			return true;
	}
	return false;
}

static void test_upstream_data_reaches_only_its_own_tap(void **state)
{
	struct two *t = *state;
	uint8_t da[3000], db[3000];

	/* the same 4-tuple on both links: nothing but the link tells the flows apart */
	fx_to_established(t->a);
	fx_to_established(t->b);
	assert_int_equal(t->a->f->cport, t->b->f->cport);
	assert_int_equal(t->a->f->caddr, t->b->f->caddr);
	memset(da, 0xaa, sizeof(da));
	memset(db, 0xbb, sizeof(db));
	fx_upstream(t->a, da, sizeof(da));
	tcp_upstream_readable(t->a->s, t->a->f, t->a->now);
	assert_true(fx_nout(t->a) > 0);
	assert_true(tap_has_byte(t->a, 0xaa));
	/* link b's TAP got nothing at all from a's upstream data */
	assert_int_equal(fx_nout(t->b), 0);
	fx_upstream(t->b, db, sizeof(db));
	tcp_upstream_readable(t->b->s, t->b->f, t->b->now);
	assert_true(tap_has_byte(t->b, 0xbb));
	assert_false(tap_has_byte(t->b, 0xaa));
	assert_false(tap_has_byte(t->a, 0xbb));
	assert_int_equal(t->a->f->bytes_out, sizeof(da));
	assert_int_equal(t->b->f->bytes_out, sizeof(db));
}

static void test_container_data_reaches_only_its_own_upstream(void **state)
{
	struct two *t = *state;
	uint8_t da[500], db[700];

	fx_to_established(t->a);
	fx_to_established(t->b);
	memset(da, 0x11, sizeof(da));
	memset(db, 0x22, sizeof(db));
	fx_data(t->a, da, sizeof(da));
	assert_int_equal(t->a->m.sink_len, sizeof(da));
	assert_int_equal(t->b->m.sink_len, 0);
	fx_data(t->b, db, sizeof(db));
	assert_int_equal(t->b->m.sink_len, sizeof(db));
	assert_int_equal(t->a->m.sink_len, sizeof(da));
	assert_memory_equal(t->a->m.sink, da, sizeof(da));
	assert_memory_equal(t->b->m.sink, db, sizeof(db));
	assert_int_equal(t->a->m.deliver_calls, 1);
	assert_int_equal(t->b->m.deliver_calls, 1);
}

static void test_one_link_at_its_limit_leaves_the_other_open(void **state)
{
	struct two *t = *state;
	struct stack_cfg cfg;
	uint32_t i;

	/* link a: a small table, filled with half-open connections by a SYN flood */
	fx_free(t->a);
	fx_cfg_default(&cfg);
	cfg.max_flows = 8;
	cfg.max_half_open = 8;
	t->a = fx_new_cfg(&cfg);
	for (i = 0; i < 3 * cfg.max_flows; i++) {
		struct fr_tcp s = t->a->syn;

		s.flags = TCP_SYN;
		s.sport = (uint16_t)(20000 + i);
		s.seq = 1000 + i;
		fx_send(t->a, &s, NULL, 0);
	}
	assert_int_equal(flow_count(stack_flows(t->a->s)), cfg.max_flows);
	/* RFC 4987 3.5: past the half-open bound each SYN recycles a's oldest half-open flow */
	assert_int_equal(stack_counters(t->a->s)->tcp_half_open_evicted, 2 * cfg.max_flows);
	/* link b opens and carries a connection as if a did not exist */
	fx_to_established(t->b);
	fx_upstream(t->b, NULL, 100);
	tcp_upstream_readable(t->b->s, t->b->f, t->b->now);
	assert_int_equal(fx_nout(t->b), 1);
	assert_int_equal(stack_counters(t->b->s)->drop_tcp_over_limit, 0);
	assert_int_equal(flow_count(stack_flows(t->b->s)), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upstream_data_reaches_only_its_own_tap,
						two_setup, two_teardown),
		cmocka_unit_test_setup_teardown(test_container_data_reaches_only_its_own_upstream,
						two_setup, two_teardown),
		cmocka_unit_test_setup_teardown(test_one_link_at_its_limit_leaves_the_other_open,
						two_setup, two_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
