/* capture.h - a link's TAP traffic, both directions, written to a classic pcap file
 * (LINKTYPE_ETHERNET, snaplen 65535) that tcpdump -r and wireshark read.
 *
 * Off by default. The data path tests one pointer (link->capture) per frame; only when a
 * capture runs does capture_frame() copy the frame into a stdio buffer. Every capture is
 * bounded by a frame count and a byte count (file size); at either bound it stops writing by
 * itself and the file is complete.
 *
 * The daemon writes as root, so where it writes is not the client's to choose (issue 14,
 * finding 1): a capture is a new file with a bare name inside one fixed capture directory
 * (config capture-dir, CONFIG_DEFAULT_CAPTURE_DIR), reached through trusted directories only.
 * Must not: block the loop for long (the file is written through a 256 KiB buffer), follow a
 * symbolic link anywhere on the way, or open a file that exists.
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
/* A capture file's name: short enough to read in a listing, far below NAME_MAX (255). */
#define CAPTURE_NAME_MAX 128
#define CAPTURE_NAME_MAX_STR "128"

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
 * capture_dir_open() - open the capture directory @dir for openat(): every component is
 * opened with O_NOFOLLOW and must be owned by root (or the daemon's uid) and writable by
 * nobody else (an ancestor may be sticky and world-writable, as /tmp); @dir itself must not
 * be group- or world-writable at all
 * Return: a descriptor (O_DIRECTORY), or -1 with the reason, naming the directory, in @err
 */
int capture_dir_open(const char *dir, char *err, size_t errlen);

/**
 * capture_name_check() - whether @name is a bare capture file name: 1 to CAPTURE_NAME_MAX
 * bytes of [A-Za-z0-9._-], not starting with '.'
 * Return: NULL if it is, else what is wrong with it (static text)
 */
const char *capture_name_check(const char *name);

/**
 * capture_file_open() - create the new file @name in capture directory @dir (mode 0600;
 * never an existing file, never through a symbolic link): what capture_start() writes to.
 * The privileged helper calls it when the data path has dropped its privileges.
 * Return: the descriptor, or -1 with @err filled
 */
int capture_file_open(const char *dir, const char *name, char *err, size_t errlen);

/**
 * capture_start() - start writing @l's frames to the new file @name in the capture directory
 * @dir (mode 0600; created, never overwritten or followed)
 * @fd:		the file, opened already by capture_file_open() (the privileged helper's), or
 *		-1 to open it here; taken over either way
 * @name:	a bare file name: [A-Za-z0-9._-], not starting with '.', at most
 *		CAPTURE_NAME_MAX bytes; no path
 * @max_frames:	stop after this many frames (0: no frame bound)
 * @max_bytes:	stop before the file grows past this (0: CAPTURE_DEFAULT_MAX_BYTES)
 * Return: 0, or -1 with a message in @err (a capture already runs, a bad name, an untrusted
 * directory, the file exists or cannot be created)
 */
int capture_start(struct link *l, const char *dir, const char *name, int fd,
		  uint64_t max_frames, uint64_t max_bytes, char *err, size_t errlen);

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
