/* log.c - the daemon's log: one line per message on stderr, or syslog once daemonized.
 *
 * Under systemd (JOURNAL_STREAM names our stderr) each line starts with the sd-daemon(3)
 * "<N>" priority prefix so the journal keeps the severity; elsewhere the level is spelled.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>

static int log_level = LOG_LVL_INFO;	/* messages above it are dropped */
static int log_journal = -1;		/* stderr is the journal: -1 not checked yet, 0, 1 */
static bool log_syslog;			/* daemonized: stderr is gone, use syslog(3) */

static const char *const log_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

/* syslog(3) priorities for each level, as sd-daemon(3) prefixes expect them */
static const int log_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

int log_level_parse(const char *name)
{
	unsigned int i;

	if (!strcasecmp(name, "warning"))
		return LOG_LVL_WARN;
	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (!strcasecmp(name, log_names[i]))
			return (int)i;
	}
	return -1;
}

const char *log_level_name(int level)
{
	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		return "?";
	return log_names[level];
}

void log_set_level(int level)
{
	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

void log_use_syslog(void)
{
	openlog("tapird", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_syslog = true;
}

/**
 * log_to_journal() - is stderr connected to the journal?
 *
 * systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream it gave us; compare it with
 * stderr so that a child whose stderr was redirected does not inherit the prefix format.
 * Return: true if lines should carry the "<N>" prefix
 */
static bool log_to_journal(void)
{
	unsigned long long dev, ino;
	const char *js;
	struct stat st;

	if (log_journal >= 0)
		return log_journal;
	log_journal = 0;
	js = getenv("JOURNAL_STREAM");
	if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && !fstat(2, &st) &&
	    st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino)
		log_journal = 1;
	return log_journal;
}

void log_msg(int level, const char *fmt, ...)
{
	int saved = errno;	/* callers may log and then look at errno */
	char line[1024];
	va_list ap;

	if (level > log_level)
		return;
	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);

	if (log_syslog)
		syslog(log_prio[level], "%s", line);
	else if (log_to_journal())
		fprintf(stderr, "<%d>%s\n", log_prio[level], line);
	else
		fprintf(stderr, "tapird: %s: %s\n", log_names[level], line);
	errno = saved;
}
