/* log.h - the daemon's log: stderr in the foreground (or under systemd, which reads stderr),
 * with a level that SIGHUP can change. Must not: allocate on the data path.
 */
#ifndef TAPIR_LOG_H
#define TAPIR_LOG_H

#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/** log_level_parse() - "error", "warn"/"warning", "info", "debug" → level; -1 if unknown */
int log_level_parse(const char *name);
/** log_level_name() - the level's word */
const char *log_level_name(int level);
/** log_set_level() - messages above @level are dropped */
void log_set_level(int level);
/** log_get_level() - the current level */
int log_get_level(void);
/** log_use_syslog() - send every later message to syslog(3) (daemonized: stderr is gone) */
void log_use_syslog(void);
/** log_msg() - one line, prefixed by the level (systemd's <N> prefix when under journald) */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
