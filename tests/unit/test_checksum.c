/* test_checksum.c - the Internet checksum (RFC 1071) against the RFC's worked example and a
 * deliberately naive reference: 16-bit words, end-around carry after every addition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checksum.h"

/**
 * ref_sum() - ones' complement sum of @len bytes, the slow way (RFC 1071 section 1)
 * Return: the 16-bit ones' complement sum, not complemented
 */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint16_t start)
{
	uint32_t sum = start;

	for (size_t i = 0; i < len; i += 2) {
		uint16_t w = (uint16_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));

		sum += w;
		sum = (sum & 0xffff) + (sum >> 16); /* end-around carry */
	}
	return (uint16_t)sum;
}

static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	return (uint16_t)~ref_sum(p, len, 0);
}

/** fill() - deterministic pseudo-random bytes (xorshift32), so failures reproduce */
static void fill(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

/* RFC 1071 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2, so the checksum is 220d */
static void test_rfc1071_example(void **state)
{
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	(void)state;
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0x220d);
	assert_int_equal(ref_csum(b, sizeof(b)), 0x220d); /* the reference agrees with the RFC */
}

/* RFC 1071 2(B): the sum is independent of byte order; swapping every pair swaps the result */
static void test_byte_order_independence(void **state)
{
	uint8_t a[64], b[64];
	uint16_t ca, cb;

	(void)state;
	fill(a, sizeof(a), 7);
	for (size_t i = 0; i < sizeof(a); i += 2) {
		b[i] = a[i + 1];
		b[i + 1] = a[i];
	}
	ca = csum_fold(csum_partial(a, sizeof(a), 0));
	cb = csum_fold(csum_partial(b, sizeof(b), 0));
	assert_int_equal(ca, (uint16_t)(cb << 8 | cb >> 8));
}

static void test_odd_length_padded_with_zero(void **state)
{
	const uint8_t odd[] = { 0x12, 0x34, 0x56 }, even[] = { 0x12, 0x34, 0x56, 0x00 };

	(void)state;
	assert_int_equal(csum_fold(csum_partial(odd, 3, 0)), csum_fold(csum_partial(even, 4, 0)));
	assert_int_equal(csum_fold(csum_partial(odd, 3, 0)), (uint16_t)~(0x1234 + 0x5600));
	assert_int_equal(csum_fold(csum_partial(odd, 1, 0)), (uint16_t)~0x1200);
}

static void test_all_ones_sum_to_zero_checksum(void **state)
{
	uint8_t b[1000];

	(void)state;
	memset(b, 0xff, sizeof(b));
	for (size_t len = 2; len <= sizeof(b); len += 2)
		assert_int_equal(csum_fold(csum_partial(b, len, 0)), 0);
}

static void test_all_zeros_checksum_is_ffff(void **state)
{
	uint8_t b[64] = { 0 };

	(void)state;
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0xffff);
	assert_int_equal(csum_fold(csum_partial(b, 0, 0)), 0xffff);
}

static void test_matches_reference_every_length(void **state)
{
	uint8_t b[1501];

	(void)state;
	for (uint32_t seed = 1; seed <= 20; seed++) {
		fill(b, sizeof(b), seed);
		for (size_t len = 0; len <= sizeof(b); len++)
			assert_int_equal(csum_fold(csum_partial(b, len, 0)), ref_csum(b, len));
	}
}

static void test_matches_reference_largest_datagram(void **state)
{
	static uint8_t b[65535];

	(void)state;
	fill(b, sizeof(b), 99);
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), ref_csum(b, sizeof(b)));
	memset(b, 0xff, sizeof(b));
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), ref_csum(b, sizeof(b)));
}

static void test_unaligned_buffer(void **state)
{
	uint8_t raw[520], copy[512];

	(void)state;
	fill(raw, sizeof(raw), 3);
	for (size_t off = 0; off < 8; off++) {
		memcpy(copy, raw + off, sizeof(copy));
		assert_int_equal(csum_fold(csum_partial(raw + off, sizeof(copy), 0)),
				 csum_fold(csum_partial(copy, sizeof(copy), 0)));
	}
}

/* Split points at every even offset, with an odd final chunk too */
static void test_chunked_equals_whole(void **state)
{
	uint8_t b[301];

	(void)state;
	fill(b, sizeof(b), 11);
	for (size_t len = sizeof(b) - 1; len <= sizeof(b); len++) {
		uint16_t whole = csum_fold(csum_partial(b, len, 0));

		for (size_t cut = 0; cut <= len; cut += 2) {
			uint64_t sum = csum_partial(b, cut, 0);

			assert_int_equal(csum_fold(csum_partial(b + cut, len - cut, sum)), whole);
		}
	}
}

static void test_many_chunks_equal_whole(void **state)
{
	uint8_t b[4096];
	uint64_t sum = 0;
	size_t off = 0, step = 2;

	(void)state;
	fill(b, sizeof(b), 5);
	while (off < sizeof(b)) {
		size_t n = off + step > sizeof(b) ? sizeof(b) - off : step;

		sum = csum_partial(b + off, n, sum);
		off += n;
		step = step % 62 + 2; /* even sizes 2..62, changing */
	}
	assert_int_equal(csum_fold(sum), ref_csum(b, sizeof(b)));
}

/* The 64-bit accumulator must not lose carries over many large buffers */
static void test_accumulator_many_megabytes(void **state)
{
	static uint8_t b[1 << 20];
	uint64_t sum = 0;

	(void)state;
	memset(b, 0xff, sizeof(b));
	for (int i = 0; i < 64; i++)
		sum = csum_partial(b, sizeof(b), sum);
	assert_int_equal(csum_fold(sum), 0);
	fill(b, sizeof(b), 17);
	sum = 0;
	for (int i = 0; i < 16; i++)
		sum = csum_partial(b, sizeof(b), sum);
	/* 16 copies: 16 * s in ones' complement arithmetic */
	{
		uint16_t s1 = ref_sum(b, sizeof(b), 0);
		uint32_t acc = 0;

		for (int i = 0; i < 16; i++) {
			acc += s1;
			acc = (acc & 0xffff) + (acc >> 16);
		}
		assert_int_equal(csum_fold(sum), (uint16_t)~acc);
	}
}

static void test_fold_matches_modular_arithmetic(void **state)
{
	static const uint64_t v[] = { 0,	    1,		 0xffff,	0x10000,
				      0x1ffff,	    0xfffffffe, 0xffffffffull, 0x123456789abcdefull,
				      UINT64_MAX, UINT64_MAX - 1 };

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		/* ones' complement value of a nonzero sum lies in 1..0xffff, congruent mod 0xffff */
		uint16_t r = v[i] ? (uint16_t)((v[i] - 1) % 0xffff + 1) : 0;

		assert_int_equal(csum_fold(v[i]), (uint16_t)~r);
	}
}

static void test_csum_ok_verifies_embedded_checksum(void **state)
{
	uint8_t b[100];
	uint16_t c;

	(void)state;
	fill(b, sizeof(b), 23);
	b[10] = b[11] = 0;
	c = csum_fold(csum_partial(b, sizeof(b), 0));
	b[10] = (uint8_t)(c >> 8);
	b[11] = (uint8_t)c;
	assert_true(csum_ok(b, sizeof(b), 0));
	for (size_t i = 0; i < sizeof(b); i++) {
		b[i] ^= 0x40;
		assert_false(csum_ok(b, sizeof(b), 0));
		b[i] ^= 0x40;
	}
}

/* RFC 793 3.1, RFC 768: the pseudo-header is saddr, daddr, zero, protocol, length */
static void test_pseudo4_equals_materialised_header(void **state)
{
	uint8_t ph[12], x[16];

	(void)state;
	for (uint32_t seed = 1; seed < 200; seed++) {
		uint32_t sa, da;
		uint16_t len;
		uint8_t proto;

		fill(x, sizeof(x), seed);
		sa = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 | x[3];
		da = (uint32_t)x[4] << 24 | (uint32_t)x[5] << 16 | (uint32_t)x[6] << 8 | x[7];
		proto = x[8];
		len = (uint16_t)(x[9] << 8 | x[10]);
		memcpy(ph, x, 8);
		ph[8] = 0;
		ph[9] = proto;
		ph[10] = (uint8_t)(len >> 8);
		ph[11] = (uint8_t)len;
		assert_int_equal(csum_fold(csum_pseudo4(sa, da, proto, len)), ref_csum(ph, 12));
	}
}

/* A UDP datagram with the pseudo-header prepended, checked against the reference */
static void test_pseudo4_plus_payload(void **state)
{
	uint8_t buf[12 + 37];
	const uint32_t sa = 0x0a000264, da = 0x0a000203;

	(void)state;
	fill(buf + 12, 37, 41);
	buf[0] = 10, buf[1] = 0, buf[2] = 2, buf[3] = 100;
	buf[4] = 10, buf[5] = 0, buf[6] = 2, buf[7] = 3;
	buf[8] = 0, buf[9] = 17, buf[10] = 0, buf[11] = 37;
	assert_int_equal(csum_fold(csum_partial(buf + 12, 37, csum_pseudo4(sa, da, 17, 37))),
			 ref_csum(buf, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_byte_order_independence),
		cmocka_unit_test(test_odd_length_padded_with_zero),
		cmocka_unit_test(test_all_ones_sum_to_zero_checksum),
		cmocka_unit_test(test_all_zeros_checksum_is_ffff),
		cmocka_unit_test(test_matches_reference_every_length),
		cmocka_unit_test(test_matches_reference_largest_datagram),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_chunked_equals_whole),
		cmocka_unit_test(test_many_chunks_equal_whole),
		cmocka_unit_test(test_accumulator_many_megabytes),
		cmocka_unit_test(test_fold_matches_modular_arithmetic),
		cmocka_unit_test(test_csum_ok_verifies_embedded_checksum),
		cmocka_unit_test(test_pseudo4_equals_materialised_header),
		cmocka_unit_test(test_pseudo4_plus_payload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
