/* main.c - tapird: configuration, attach, the event loop, signals, systemd readiness.
 *
 * Start-up order matters: everything that can fail (configuration, namespace, TAP, netlink,
 * control socket) happens before we detach from the terminal or tell systemd READY=1, so that
 * a failure is one line on stderr and exit status 1.
 */
#include "config.h"
#include "control.h"
#include "fwd.h"
#include "link.h"
#include "log.h"
#include "tapird.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#ifndef TAPIR_VERSION
#define TAPIR_VERSION "unknown"
#endif

/* Ask for this many fds when root: every TCP flow holds a host socket (fs.nr_open default) */
#define TAPIRD_NOFILE_WANT (1u << 20)

/**
 * struct tapird_sig - the signal events and the reason the loop ended
 * @ev:		SIGTERM, SIGINT, SIGHUP events
 * @stopping:	a stop signal ended the loop (otherwise: every link was lost)
 */
static struct tapird_sig {
	struct event *ev[3];
	bool stopping;
} sig;

/**
 * raise_nofile() - RLIMIT_NOFILE up to the hard limit (up to TAPIRD_NOFILE_WANT as root,
 * unless systemd runs us: then the unit's LimitNOFILE= is the limit, and setrlimit() is
 * called only if there is something to raise, so the unit can filter @resources out)
 */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (geteuid() == 0 && rl.rlim_max < TAPIRD_NOFILE_WANT && !getenv("NOTIFY_SOCKET")) {
		struct rlimit want = { TAPIRD_NOFILE_WANT, TAPIRD_NOFILE_WANT };

		if (!setrlimit(RLIMIT_NOFILE, &want))
			return;
	}
	if (rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		log_warn("RLIMIT_NOFILE: %s", strerror(errno));
}

/**
 * daemonize() - the classic double fork: new session, no terminal, cwd "/", stdio on
 * /dev/null, log to syslog
 * Return: 0 in the grandchild (the parents exit), -1 on failure
 */
static int daemonize(struct tapird *d)
{
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		return -1;
	if (pid)
		_exit(0);
	if (setsid() < 0)
		return -1;
	/* the session leader exits, so we can never acquire a controlling terminal again */
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid)
		_exit(0);
	if (chdir("/"))
		return -1;
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
	log_use_syslog();
	/* the epoll instance and the signal pipe must be the child's own */
	return event_reinit(d->base) ? -1 : 0;
}

/**
 * on_stop() - SIGTERM or SIGINT: leave the loop; main() shuts down in order
 * @arg:	the daemon
 */
static void on_stop(evutil_socket_t signo, short what, void *arg)
{
	struct tapird *d = arg;

	log_info("%s: stopping", strsignal((int)signo));
	sd_notify(0, "STOPPING=1");
	sig.stopping = true;
	event_base_loopbreak(d->base);
}

/**
 * on_reload() - SIGHUP: re-read the file's log level; a bad file changes nothing
 * @arg:	the daemon
 */
static void on_reload(evutil_socket_t signo, short what, void *arg)
{
	struct tapird *d = arg;
	char err[512];
	struct config n;

	if (!d->cfg.config_path[0]) {
		log_info("SIGHUP: no configuration file (-c) to re-read");
		return;
	}
	sd_notify(0, "RELOADING=1");
	config_defaults(&n);
	if (config_load_file(&n, d->cfg.config_path, err, sizeof(err))) {
		log_err("SIGHUP: %s; configuration unchanged", err);
	} else if (d->cfg.log_level_from_args) {
		log_info("SIGHUP: %s re-read; log level stays %s (set by --log-level)",
			 d->cfg.config_path, log_level_name(d->cfg.log_level));
	} else {
		d->cfg.log_level = n.log_level;
		log_set_level(n.log_level);
		log_info("SIGHUP: %s re-read; log level %s", d->cfg.config_path,
			 log_level_name(n.log_level));
	}
	sd_notify(0, "READY=1");
}

/**
 * signals_add() - SIGTERM, SIGINT and SIGHUP on the loop
 * Return: 0, or -1
 */
static int signals_add(struct tapird *d)
{
	static const int signo[3] = { SIGTERM, SIGINT, SIGHUP };
	unsigned int i;

	for (i = 0; i < 3; i++) {
		event_callback_fn cb = signo[i] == SIGHUP ? on_reload : on_stop;

		sig.ev[i] = evsignal_new(d->base, signo[i], cb, d);
		if (!sig.ev[i] || event_add(sig.ev[i], NULL))
			return -1;
	}
	return 0;
}

/**
 * attach_configured() - attach the links the configuration names: the command line's (or
 * [link]'s), then each [link NAME] in file order. None is fine: tapird then waits for
 * `attach` on the control socket.
 * Return: 0, or -1 with the first failure in @err (links attached before it stay; the
 * caller shuts down)
 */
static int attach_configured(struct tapird *d, char *err, size_t errlen)
{
	unsigned int i;

	if (link_cfg_has_ns(&d->cfg.link)) {
		if (!link_attach(d, &d->cfg.link, err, errlen))
			return -1;
		/* started for this namespace: when it goes, so does the daemon */
		d->exit_with_last_link = true;
	}
	for (i = 0; i < d->cfg.nlinks; i++)
		if (!link_attach(d, &d->cfg.links[i], err, errlen))
			return -1;
	return 0;
}

/**
 * shutdown_all() - everything main() set up, in reverse order
 */
static void shutdown_all(struct tapird *d)
{
	unsigned int i;

	if (d->ctl)
		ctl_server_free(d->ctl);
	d->ctl = NULL;
	/* before the links: the forwards' LISTEN rows and UDP flows are in the links' tables */
	fwd_fini(d);
	while (d->nlinks)
		link_detach(d->links[d->nlinks - 1]);
	for (i = 0; i < 3; i++) {
		if (sig.ev[i])
			event_free(sig.ev[i]);
		sig.ev[i] = NULL;
	}
	if (d->base)
		event_base_free(d->base);
	d->base = NULL;
}

int main(int argc, char **argv)
{
	static struct tapird d;
	enum config_action action;
	char err[1024];

	config_defaults(&d.cfg);
	if (config_parse_args(&d.cfg, argc, argv, &action, err, sizeof(err))) {
		fprintf(stderr, "tapird: %s\n", err);
		return 1;
	}
	if (action == CONFIG_HELP) {
		fputs(config_usage(), stdout);
		return 0;
	}
	if (action == CONFIG_VERSION) {
		printf("tapird %s\n", TAPIR_VERSION);
		return 0;
	}
	log_set_level(d.cfg.log_level);

	/* a relay write to a closed upstream socket must be an EPIPE, not our death */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	d.start_mono_us = tapird_now_us();
	d.start_wall = time(NULL);
	d.next_flow_id = 1;

	d.base = event_base_new();
	if (!d.base) {
		fprintf(stderr, "tapird: cannot create the event loop\n");
		return 1;
	}
	if (attach_configured(&d, err, sizeof(err))) {
		fprintf(stderr, "tapird: %s\n", err);
		shutdown_all(&d);
		return 1;
	}
	if (fwd_start(&d, err, sizeof(err))) {
		fprintf(stderr, "tapird: %s\n", err);
		shutdown_all(&d);
		return 1;
	}
	d.ctl = ctl_server_new(&d, d.cfg.control, err, sizeof(err));
	if (!d.ctl) {
		fprintf(stderr, "tapird: %s\n", err);
		shutdown_all(&d);
		return 1;
	}
	/* systemd (Type=notify) supervises a foreground process: never fork under it */
	if (!d.cfg.foreground && !getenv("NOTIFY_SOCKET") && daemonize(&d)) {
		log_err("daemonize: %s", strerror(errno));
		shutdown_all(&d);
		return 1;
	}
	if (signals_add(&d)) {
		log_err("cannot install signal handlers");
		shutdown_all(&d);
		return 1;
	}

	log_info("serving %u link%s, control %s", d.nlinks, d.nlinks == 1 ? "" : "s",
		 d.cfg.control);
	if (d.nlinks == 1)
		sd_notifyf(0, "READY=1\nSTATUS=serving %s (%s in %s)\nMAINPID=%lu",
			   d.links[0]->name, d.links[0]->ifname, d.links[0]->netns,
			   (unsigned long)getpid());
	else
		sd_notifyf(0, "READY=1\nSTATUS=serving %u links; control %s\nMAINPID=%lu",
			   d.nlinks, d.cfg.control, (unsigned long)getpid());

	event_base_dispatch(d.base);

	if (!sig.stopping) {
		log_err("no link left; exiting");
		sd_notify(0, "STOPPING=1");
	}
	shutdown_all(&d);
	log_info("stopped");
	return sig.stopping ? 0 : 1;
}
