/* test_siphash.c - SipHash-2-4 against the reference vectors, and the keys the stack derives
 * from its one secret (issue 14, finding 7): one per use, and the ISN made with its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "siphash.h"
#include "tcp_fixture.h"

/* The 64 SipHash-2-4 test vectors of the reference implementation (Aumasson and Bernstein,
 * github.com/veorq/SipHash vectors.h, vectors_sip64; the paper's appendix A gives the first
 * fifteen bytes' one): key 00 01 .. 0f, message 00 01 .. (i - 1) of length i; here the 8
 * output bytes read little-endian. */
static const uint64_t sip24_vectors[64] = {
	0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL,
	0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL, 0x18765564cd99a68dULL,
	0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL,
	0x9e0082df0ba9e4b0ULL, 0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL,
	0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
	0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL,
	0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL, 0xbed65cf21aa2ee98ULL,
	0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL,
	0xb8ad50c6f649af94ULL, 0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL,
	0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
	0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL,
	0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL, 0x15e034d40fa197aeULL,
	0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL,
	0x9abfd8766a33735cULL, 0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL,
	0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
	0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL,
	0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL, 0xee64435a9752fe72ULL,
	0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL,
	0x7fa8220ba3b2eceaULL, 0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL,
	0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
	0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL,
	0x958a324ceb064572ULL,
};

static void test_siphash24_reference_vectors(void **state)
{
	uint8_t key[16], in[64];

	(void)state;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)i;
	for (size_t len = 0; len < 64; len++)
		if (siphash24(key, in, len) != sip24_vectors[len])
			fail_msg("SipHash-2-4 of %zu bytes: %016llx, reference %016llx", len,
				 (unsigned long long)siphash24(key, in, len),
				 (unsigned long long)sip24_vectors[len]);
}

static void test_derived_keys_differ_per_use_and_secret(void **state)
{
	uint8_t secret[16], other[16], isn[16], flow[16], isn2[16], isn3[16];

	(void)state;
	for (int i = 0; i < 16; i++) {
		secret[i] = (uint8_t)(0x42 + i);
		other[i] = secret[i];
	}
	other[15] ^= 1;
	siphash_derive_key(secret, SIPHASH_LABEL_ISN, isn);
	siphash_derive_key(secret, SIPHASH_LABEL_FLOW, flow);
	assert_memory_not_equal(isn, flow, 16);
	assert_memory_not_equal(isn, secret, 16);
	assert_memory_not_equal(flow, secret, 16);
	/* neither half repeats the other: the two PRF outputs are distinct */
	assert_memory_not_equal(isn, isn + 8, 8);
	/* deterministic, and a one-bit change of the secret changes the key */
	siphash_derive_key(secret, SIPHASH_LABEL_ISN, isn2);
	assert_memory_equal(isn, isn2, 16);
	siphash_derive_key(other, SIPHASH_LABEL_ISN, isn3);
	assert_memory_not_equal(isn, isn3, 16);
}

/** isn_with() - RFC 6528's F over the fixture's 4-tuple, as tcp_isn() lays it out */
static uint32_t isn_with(const uint8_t key[16], struct fx *fx, uint32_t *ts_off)
{
	uint8_t in[12];
	uint64_t h;

	in[0] = T_PEER >> 24, in[1] = T_PEER >> 16 & 0xff, in[2] = T_PEER >> 8 & 0xff;
	in[3] = T_PEER & 0xff;
	in[4] = FX_PPORT >> 8, in[5] = FX_PPORT & 0xff;
	in[6] = T_CADDR >> 24, in[7] = T_CADDR >> 16 & 0xff, in[8] = T_CADDR >> 8 & 0xff;
	in[9] = T_CADDR & 0xff;
	in[10] = FX_CPORT >> 8, in[11] = FX_CPORT & 0xff;
	h = siphash24(key, in, sizeof(in));
	*ts_off = (uint32_t)(h >> 32);
	return (uint32_t)(fx->now / 4) + (uint32_t)h;
}

static void test_isn_uses_derived_key_not_raw_secret(void **state)
{
	struct fx *fx = FX;
	struct stack_cfg cfg;
	uint8_t key[16];
	uint32_t off, raw_off;

	fx_cfg_default(&cfg);
	fx_to_syn_rcvd(fx);
	siphash_derive_key(cfg.secret, SIPHASH_LABEL_ISN, key);
	assert_int_equal(fx->iss, isn_with(key, fx, &off));
	assert_int_not_equal(fx->iss, isn_with(cfg.secret, fx, &raw_off));
	siphash_derive_key(cfg.secret, SIPHASH_LABEL_FLOW, key);
	assert_int_not_equal(fx->iss, isn_with(key, fx, &off));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash24_reference_vectors),
		cmocka_unit_test(test_derived_keys_differ_per_use_and_secret),
		cmocka_unit_test_setup_teardown(test_isn_uses_derived_key_not_raw_secret,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
