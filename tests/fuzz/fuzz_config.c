/* fuzz_config.c - libFuzzer target: the configuration file parser (daemon/config.c: inih with
 * tapir's line reader and key table, and every key's value parser, forward specs included).
 *
 * Input: the file's bytes. They are written to a memfd and parsed through its /proc/self/fd
 * path, exactly as config_load_file() reads a file (no separate entry point that could
 * differ from the daemon's).
 * Oracles beyond ASan/UBSan: a refused file leaves the configuration as it was and the error
 * names the file; an accepted one keeps its bounded fields NUL-terminated and within range.
 *
 * Build and run: tests/fuzz/run.sh SECONDS (every target).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config before, c;
	char path[64], err[1024];

	if (memfd < 0 && (memfd = memfd_create("tapir-fuzz-config", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	config_defaults(&before);
	c = before;
	err[0] = '\0';
	if (config_load_file(&c, path, err, sizeof(err)) < 0) {
		if (memcmp(&c, &before, sizeof(c)) || strncmp(err, path, strlen(path)))
			abort(); /* a refused file changed the configuration, or the error lost the
				  * file's name */
		return 0;
	}
	if (!memchr(c.control, 0, sizeof(c.control)) ||
	    !memchr(c.capture_dir, 0, sizeof(c.capture_dir)) ||
	    !memchr(c.control_group, 0, sizeof(c.control_group)) ||
	    !memchr(c.admin_group, 0, sizeof(c.admin_group)) ||
	    c.nforwards > CONFIG_MAX_FORWARDS || c.nlinks > CONFIG_MAX_LINKS)
		abort();
	for (unsigned int i = 0; i <= c.nlinks && i <= CONFIG_MAX_LINKS; i++) {
		const struct link_cfg *lc = i < c.nlinks ? &c.links[i] : &c.link;

		if (!memchr(lc->name, 0, sizeof(lc->name)) ||
		    !memchr(lc->netns, 0, sizeof(lc->netns)) || lc->prefix_len > 32)
			abort(); /* a bounded field lost its end, or a prefix longer than IPv4 */
	}
	return 0;
}
