/* capture.c - classic pcap files of a link's TAP traffic, written without libpcap.
 *
 * The format (the libpcap file format, tcpdump's pcap-savefile(5)): a 24-byte global header
 * (magic 0xa1b2c3d4 in host byte order, version 2.4, snaplen, link type 1 = Ethernet), then
 * per frame a 16-byte record header (seconds, microseconds, captured length, original
 * length) and the captured bytes. Readers detect the byte order from the magic.
 */
#include "capture.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "link.h"
#include "log.h"
#include "safedir.h"

#define PCAP_MAGIC 0xa1b2c3d4u
#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_GLOBAL_HDR 24
#define PCAP_REC_HDR 16
#define CAPTURE_BUF (256 * 1024)

/**
 * struct capture - a running capture
 * @info:	the file and what was written
 * @fp:		the file, NULL once finished
 */
struct capture {
	struct capture_info info;
	FILE *fp;
};

/**
 * put32() - @v into @p in host byte order (pcap files are written in the writer's order)
 */
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/** put16() - @v into @p in host byte order */
static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/**
 * finish() - flush and close @c's file; record a write error
 */
static void finish(struct capture *c)
{
	if (!c->fp)
		return;
	if (fclose(c->fp) != 0 && !c->info.error)
		c->info.error = errno;
	c->fp = NULL;
}

/**
 * capture_name_check() - whether @name is a bare capture file name: 1 to CAPTURE_NAME_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.' (so never "." or ".." or a hidden file)
 * Return: NULL if it is, else what is wrong with it (static text)
 */
const char *capture_name_check(const char *name)
{
	size_t n = strlen(name);

	if (!n)
		return "is empty";
	if (n > CAPTURE_NAME_MAX)
		return "is longer than " CAPTURE_NAME_MAX_STR " bytes";
	if (strchr(name, '/'))
		return "is a path: give a bare file name, it is created in the capture directory";
	if (name[0] == '.')
		return "starts with '.' (\".\", \"..\" and hidden names are refused)";
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return "has a character other than A-Z a-z 0-9 . _ -";
	return NULL;
}

int capture_dir_open(const char *dir, char *err, size_t errlen)
{
	/* made on first use, 0700: captures hold the container's traffic */
	return safedir_open(dir, "capture directory", 0700, false, err, errlen);
}

int capture_file_open(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct stat st;
	const char *why;
	int dfd, fd;

	if ((why = capture_name_check(name))) {
		snprintf(err, errlen, "capture file name '%.200s' %s", name, why);
		return -1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "capture directory %.200s: too long", dir);
		return -1;
	}
	dfd = capture_dir_open(dir, err, errlen);
	if (dfd < 0)
		return -1;
	/* O_EXCL: never truncate or append to a file that exists (say a hard link to
	 * /etc/passwd); O_NOFOLLOW: with O_EXCL a symbolic link fails too, but say so plainly. */
	fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		    0600);
	close(dfd);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s: exists already; captures never overwrite a file: "
					      "pick a new name or remove it", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	return fd;
}

int capture_start(struct link *l, const char *dir, const char *name, int fd,
		  uint64_t max_frames, uint64_t max_bytes, char *err, size_t errlen)
{
	uint8_t hdr[PCAP_GLOBAL_HDR] = { 0 };
	char path[PATH_MAX];
	struct capture *c;

	if (l->capture) {
		snprintf(err, errlen, "%s: a capture to %s is running already", l->name,
			 l->capture->info.path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fd < 0) {
		fd = capture_file_open(dir, name, err, errlen);
		if (fd < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%.2000s/%.200s", dir, name);
	if (!max_bytes || max_bytes > CAPTURE_MAX_BYTES)
		max_bytes = max_bytes ? CAPTURE_MAX_BYTES : CAPTURE_DEFAULT_MAX_BYTES;
	fcntl(fd, F_SETFL, 0);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->fp = fdopen(fd, "w"))) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		free(c);
		close(fd);
		return -1;
	}
	setvbuf(c->fp, NULL, _IOFBF, CAPTURE_BUF);
	snprintf(c->info.path, sizeof(c->info.path), "%s", path);
	c->info.max_frames = max_frames;
	c->info.max_bytes = max_bytes;
	put32(hdr, PCAP_MAGIC);
	put16(hdr + 4, 2); /* version 2.4 */
	put16(hdr + 6, 4);
	put32(hdr + 16, CAPTURE_SNAPLEN);
	put32(hdr + 20, PCAP_LINKTYPE_ETHERNET);
	if (fwrite(hdr, sizeof(hdr), 1, c->fp) != 1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(c->fp);
		free(c);
		return -1;
	}
	c->info.bytes = sizeof(hdr);
	l->capture = c;
	log_info("%s: capturing to %s (at most %llu frames, %llu bytes)", l->name, path,
		 (unsigned long long)max_frames, (unsigned long long)max_bytes);
	return 0;
}

void capture_frame(struct link *l, const uint8_t *frame, size_t len)
{
	struct capture *c = l->capture;
	uint8_t rec[PCAP_REC_HDR];
	size_t caplen = len < CAPTURE_SNAPLEN ? len : CAPTURE_SNAPLEN;
	struct timespec ts;

	if (!c->fp)
		return; /* finished at a bound; waits for capture_stop() */
	if ((c->info.max_frames && c->info.frames >= c->info.max_frames) ||
	    c->info.bytes + PCAP_REC_HDR + caplen > c->info.max_bytes) {
		c->info.full = true;
		finish(c);
		log_info("%s: capture to %s reached its bound: %llu frames, %llu bytes", l->name,
			 c->info.path, (unsigned long long)c->info.frames,
			 (unsigned long long)c->info.bytes);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	put32(rec, (uint32_t)ts.tv_sec);
	put32(rec + 4, (uint32_t)(ts.tv_nsec / 1000));
	put32(rec + 8, (uint32_t)caplen);
	put32(rec + 12, (uint32_t)len);
	if (fwrite(rec, sizeof(rec), 1, c->fp) != 1 || fwrite(frame, caplen, 1, c->fp) != 1) {
		c->info.error = errno ? errno : EIO;
		log_warn("%s: capture to %s: %s; stopped", l->name, c->info.path,
			 strerror(c->info.error));
		finish(c);
		return;
	}
	c->info.frames++;
	c->info.bytes += sizeof(rec) + caplen;
	/* stop at once at the frame bound, so the file is complete without waiting for more */
	if (c->info.max_frames && c->info.frames >= c->info.max_frames) {
		c->info.full = true;
		finish(c);
	}
}

bool capture_get(const struct link *l, struct capture_info *info)
{
	if (!l->capture)
		return false;
	*info = l->capture->info;
	return true;
}

int capture_stop(struct link *l, struct capture_info *info)
{
	struct capture *c = l->capture;

	if (!c)
		return -1;
	finish(c);
	if (info)
		*info = c->info;
	log_info("%s: capture to %s stopped: %llu frames, %llu bytes", l->name, c->info.path,
		 (unsigned long long)c->info.frames, (unsigned long long)c->info.bytes);
	l->capture = NULL;
	free(c);
	return 0;
}
