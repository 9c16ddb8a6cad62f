/* tapird.h - the daemon's process-wide state, shared by the I/O shell's modules.
 * Must not: be included from daemon/stack/ (the stack knows nothing of the daemon).
 */
#ifndef TAPIR_TAPIRD_H
#define TAPIR_TAPIRD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"

struct event_base;
struct link;
struct ctl_server;
struct monitor;

/* One daemon serves one or many containers; each is a link. */
#define TAPIRD_MAX_LINKS 64

/**
 * struct tapird - the daemon
 * @base:		libevent loop
 * @cfg:		effective configuration (file, then command line)
 * @links:		attached containers
 * @nlinks:		used entries of @links
 * @ctl:		the control socket server
 * @start_mono_us:	monotonic start time
 * @start_wall:		wall-clock start time
 * @next_flow_id:	flow ids, unique across links
 * @mon:		closed-flow ring and event fan-out (monitor.h); NULL until the control
 *			server starts it
 * @exit_with_last_link: the loop ends when the last link is lost (a daemon started for one
 *			namespace named on its command line); a daemon of many links keeps
 *			serving its control socket for the next attach
 * @priv:		the privileged helper (privsep.h), NULL when there is none (slirp4netns
 *			compat, user = root): attach and captures are then done in-process
 * @activity:		bumped by every callback that fed a link's stack (link_touch()): the
 *			busy poll (main.c) polls on while it moves
 * @moved:		bytes read from and written to the TAPs: the busy poll polls after
 *			small turns only
 */
struct tapird {
	struct event_base *base;
	struct config cfg;
	struct link *links[TAPIRD_MAX_LINKS];
	unsigned int nlinks;
	struct ctl_server *ctl;
	uint64_t start_mono_us;
	time_t start_wall;
	uint64_t next_flow_id;
	struct monitor *mon;
	bool exit_with_last_link;
	struct privsep *priv;
	unsigned long activity;
	uint64_t moved;
};

/** tapird_now_us() - CLOCK_MONOTONIC in microseconds: the one clock the shell gives the stack */
uint64_t tapird_now_us(void);

#endif
