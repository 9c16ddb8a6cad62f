/* capture.h - a link's TAP traffic, both directions, written to a classic pcap file
 * (LINKTYPE_ETHERNET, snaplen 65535) that tcpdump -r and wireshark read.
 *
 * Off by default. The data path tests one pointer (link->capture) per frame; only when a
 * capture runs does capture_frame() copy the frame into a stdio buffer. Every capture is
 * bounded by a frame count and a byte count (file size); at either bound it stops writing by
 * itself and the file is complete. Must not: block the loop for long (the file is written
 * through a 256 KiB buffer), or follow a symbolic link at the file's path.
 */
#ifndef TAPIR_CAPTURE_H
#define TAPIR_CAPTURE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAPTURE_SNAPLEN 65535
#define CAPTURE_DEFAULT_MAX_BYTES (100ull << 20) /* 100 MiB unless asked otherwise */
#define CAPTURE_MAX_BYTES (4ull << 30)           /* classic pcap readers choke past 4 GiB */

struct link;

/**
 * struct capture_info - what a capture did
 * @path:	the file
 * @frames:	frames written
 * @bytes:	bytes written (the file's size)
 * @max_frames:	frame bound (0: none)
 * @max_bytes:	byte bound
 * @full:	a bound was reached: the capture stopped by itself
 * @error:	a write failed (errno), the capture stopped; 0 otherwise
 */
struct capture_info {
	char path[PATH_MAX];
	uint64_t frames;
	uint64_t bytes;
	uint64_t max_frames;
	uint64_t max_bytes;
	bool full;
	int error;
};

/**
 * capture_start() - start writing @l's frames to the new file @path (absolute; replaced if it
 * is a regular file, mode 0600)
 * @max_frames:	stop after this many frames (0: no frame bound)
 * @max_bytes:	stop before the file grows past this (0: CAPTURE_DEFAULT_MAX_BYTES)
 * Return: 0, or -1 with a message in @err (a capture already runs, cannot open the file)
 */
int capture_start(struct link *l, const char *path, uint64_t max_frames, uint64_t max_bytes,
		  char *err, size_t errlen);

/**
 * capture_stop() - finish @l's capture (the file is flushed and closed)
 * @info:	what it did (may be NULL)
 * Return: 0, or -1 if there was none
 */
int capture_stop(struct link *l, struct capture_info *info);

/** capture_get() - what @l's running (or finished, not yet stopped) capture did so far */
bool capture_get(const struct link *l, struct capture_info *info);

/** capture_frame() - record one frame of @len bytes; call only when l->capture is set */
void capture_frame(struct link *l, const uint8_t *frame, size_t len);

#endif
