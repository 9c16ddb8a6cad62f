/* fuzz_fwdspec.c - libFuzzer target: the port forward specification parser (daemon/fwdspec.c),
 * which reads -t/-u, the [forward] keys of the configuration file and tapirctl's `fwd add`.
 *
 * Input: the text (a NUL is appended; bytes after an embedded NUL are ignored, as in C).
 * Oracles beyond ASan/UBSan: a spec that parses describes real ports: host and container
 * ranges of count >= 1 ports within 1..65535, and a failure leaves the output untouched and
 * says why.
 *
 * Build and run: tests/fuzz/run.sh SECONDS (every target).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwdspec.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t protos[2] = { PROTO_TCP, PROTO_UDP };
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (int i = 0; i < 2; i++) {
		struct fwd_spec sp, untouched;
		char why[256] = "";

		memset(&sp, 0xa5, sizeof(sp));
		untouched = sp;
		if (fwd_spec_parse(s, protos[i], &sp, why, sizeof(why)) < 0) {
			if (memcmp(&sp, &untouched, sizeof(sp)) || !why[0])
				abort(); /* a failure changed the output or said nothing */
			continue;
		}
		if (sp.proto != protos[i] || sp.count < 1 || sp.hport < 1 || sp.gport < 1 ||
		    (uint32_t)sp.hport + sp.count - 1 > 65535 ||
		    (uint32_t)sp.gport + sp.count - 1 > 65535)
			abort(); /* parsed into ports that do not exist */
	}
	free(s);
	return 0;
}
