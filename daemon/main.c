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
#include "privsep.h"
#include "sandbox.h"
#include "slirp4netns.h"
#include "slirpapi.h"
#include "tapird.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
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
 * struct tapird_compat - started as slirp4netns (slirp4netns.h): its own fds and API socket
 * @on:		this process speaks slirp4netns's command line
 * @opts:	its options that struct config has no place for (-e, -r, --api-socket...)
 * @api:	the --api-socket server, NULL if none
 * @ev_exit:	-e FD hung up: exit
 * @exit_now:	-e FD is not open: exit once ready (slirp4netns: POLLNVAL at the first poll)
 */
static struct tapird_compat {
	bool on;
	struct s4n_opts opts;
	struct slirpapi *api;
	struct event *ev_exit;
	bool exit_now;
} compat;

/* The service manager's notification socket, connected before the privileges go: the data
 * path's user may not reach its path (a supervisor's socket in a root-only directory), and a
 * connected datagram socket is never looked up again. -1: sd_notify() as usual. */
static int notify_fd = -1;

/**
 * notify_connect() - connect @notify_fd to $NOTIFY_SOCKET (a path, or "@name" in the
 * abstract namespace); nothing if unset or unreachable (notifyf() falls back to sd_notify())
 */
static void notify_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *e = getenv("NOTIFY_SOCKET");
	socklen_t len;
	size_t n;
	int fd;

	if (!e || (e[0] != '/' && e[0] != '@') || (n = strlen(e)) >= sizeof(sun.sun_path))
		return;
	memcpy(sun.sun_path, e, n);
	if (e[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, (struct sockaddr *)&sun, len) < 0) {
		close(fd);
		return;
	}
	notify_fd = fd;
}

/**
 * notifyf() - sd_notifyf(0, ...) through the socket connected at start when there is one
 */
static void __attribute__((format(printf, 1, 2))) notifyf(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return;
	if (notify_fd < 0)
		sd_notify(0, buf);
	else if (send(notify_fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
		log_debug("NOTIFY_SOCKET: %s", strerror(errno));
}

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

/* The scheduler slice tapird asks for: EEVDF's shortest (100 us) */
#define TAPIRD_SLICE_NS 100000u

/* struct sched_attr as sched_setattr(2) has it (SCHED_ATTR_SIZE_VER0, 48 bytes): glibc 2.36
 * has no wrapper */
struct tapird_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

/**
 * short_slice() - ask the scheduler for a short slice (sched_attr.sched_runtime of a
 * SCHED_OTHER task: EEVDF, Linux 6.12 on; earlier kernels ignore it)
 *
 * A container's TCP sender fires a tail-loss probe (RFC 8985) when tapird's ACK comes later
 * than 2*SRTT + 2 ms; on a loaded machine another task's default slice (3 ms and more) often
 * keeps a woken tapird waiting that long, and the probe retransmits a segment tapird holds
 * already (iperf3's Retr). With a short slice a woken tapird gets an earlier deadline and
 * preempts such a task (measured on a loaded 2-core host: 3 instead of 21 retransmits over
 * four 5-second uploads at MTU 1500, 21 instead of 50 at 65520). tapird's share of the CPU
 * does not change. Nice level and policy stay as they are; a task that is not SCHED_OTHER
 * (set by its administrator) is left alone, and so is tapird under systemd, whose unit
 * denies @resources (sched_setattr) to it.
 */
static void short_slice(void)
{
	struct tapird_sched_attr a;

	if (getenv("NOTIFY_SOCKET"))
		return;
	memset(&a, 0, sizeof(a));
	if (syscall(SYS_sched_getattr, 0, &a, (unsigned int)sizeof(a), 0) ||
	    a.sched_policy != SCHED_OTHER)
		return;
	a.size = sizeof(a);
	a.sched_flags = 0;
	a.sched_runtime = TAPIRD_SLICE_NS;
	if (syscall(SYS_sched_setattr, 0, &a, 0))
		log_debug("sched_setattr (a short slice): %s", strerror(errno));
}

/* The busy poll follows turns that moved at most this much through the TAPs (request/response
 * traffic, handshakes); a bulk transfer's turns, 64 KiB super-frames or batches of datagrams,
 * never wait long for the next one, and a poll there only takes the CPU its peers need. */
#define BUSY_POLL_TURN_BYTES (16u * 1024)
/* BUSY_POLL_MISSES polls in a row that found nothing halve the next one, down to
 * 1/BUSY_POLL_MIN_DIV of the setting; one that found traffic restores it: sparse traffic costs
 * a few microseconds per burst. */
#define BUSY_POLL_MIN_DIV 16
#define BUSY_POLL_MISSES 4

/**
 * run_loop() - serve until the loop is broken: libevent's dispatch, or with [daemon] busy-poll
 * the same loop that, after a small turn which fed a stack, polls (epoll_wait with no timeout)
 * for up to busy_poll_us without one before it sleeps again
 *
 * A request/response exchange otherwise puts tapird to sleep twice per round trip, and each
 * wakeup costs the scheduler and, on an idle CPU (a virtual one above all), the exit from its
 * idle state: polling through the gap between a request and its answer saves both. Only after
 * small turns (BUSY_POLL_TURN_BYTES), and adaptive (BUSY_POLL_MIN_DIV): a poll that keeps
 * finding nothing shrinks. An idle container costs nothing; a busy interactive one keeps
 * tapird on a CPU through the gaps of its traffic.
 */
/* What one turn of the loop was (loop_turn()) */
enum loop_turn_kind {
	TURN_END,   /* the loop is to end */
	TURN_IDLE,  /* no stack was fed: the control socket, a signal, nothing */
	TURN_SMALL, /* a stack was fed, at most BUSY_POLL_TURN_BYTES through the TAPs */
	TURN_BULK,  /* a stack was fed, more than that */
};

/**
 * loop_turn() - one turn of the loop: libevent's EVLOOP_ONCE (wait for events) or
 * EVLOOP_NONBLOCK (only those ready), then what it was, from @d's activity and bytes moved
 */
static enum loop_turn_kind loop_turn(struct tapird *d, int flags)
{
	unsigned long seen = d->activity;
	uint64_t moved = d->moved;

	/* 1: no event left to wait for, where event_base_dispatch() returns too */
	if (event_base_loop(d->base, flags) != 0 || event_base_got_break(d->base) ||
	    event_base_got_exit(d->base))
		return TURN_END;
	if (seen == d->activity)
		return TURN_IDLE;
	return d->moved - moved > BUSY_POLL_TURN_BYTES ? TURN_BULK : TURN_SMALL;
}

static void run_loop(struct tapird *d)
{
	uint64_t max = d->cfg.busy_poll_us, min = max / BUSY_POLL_MIN_DIV, cur = max, until;
	enum loop_turn_kind t;
	unsigned int misses = 0;
	bool hit;

	if (!max) {
		event_base_dispatch(d->base);
		return;
	}
	if (!min)
		min = 1;
	for (;;) {
		t = loop_turn(d, EVLOOP_ONCE);
		if (t == TURN_END)
			return;
		if (t != TURN_SMALL)
			continue; /* sleep again */
		hit = false;
		until = tapird_now_us() + cur;
		while (tapird_now_us() < until) {
			t = loop_turn(d, EVLOOP_NONBLOCK);
			if (t == TURN_END)
				return;
			if (t == TURN_IDLE)
				continue;
			hit = true;
			if (t == TURN_BULK)
				break;
			until = tapird_now_us() + cur;
		}
		if (hit) {
			misses = 0;
			cur = max;
		} else if (++misses >= BUSY_POLL_MISSES) {
			misses = 0;
			cur = cur / 2 > min ? cur / 2 : min;
		}
	}
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
	notifyf("STOPPING=1");
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
	int rc;

	if (!d->cfg.config_path[0]) {
		log_info("SIGHUP: no configuration file (-c) to re-read");
		return;
	}
	notifyf("RELOADING=1");
	config_defaults(&n);
	/* with privileges dropped, the file may be one only root can read: the helper opens
	 * the path given at start, and we parse what it hands over */
	if (d->priv) {
		int fd = privsep_config_open(d->priv, err, sizeof(err));

		rc = fd < 0 ? -1 : config_load_fd(&n, fd, d->cfg.config_path, err, sizeof(err));
	} else {
		rc = config_load_file(&n, d->cfg.config_path, err, sizeof(err));
	}
	if (rc) {
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
	notifyf("READY=1");
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
 * host_uid() - our effective uid as the host sees it (s4n_host_uid() over /proc/self/uid_map)
 * Return: the uid
 */
static uid_t host_uid(void)
{
	char map[1024] = "";
	FILE *f = fopen("/proc/self/uid_map", "re");

	if (f) {
		size_t n = fread(map, 1, sizeof(map) - 1, f);

		map[n] = '\0';
		fclose(f);
	}
	return s4n_host_uid(map, geteuid());
}

/**
 * compat_sweep() - remove the slirp4netns-PID.sock files in the directory of @path whose
 * process is gone and whose socket nobody answers: left by a network process killed with
 * SIGKILL (runtimes' cleanup does that), they would pile up in the runtime directory
 * @path:	our own control socket's path
 */
static void compat_sweep(const char *path)
{
	char dir[PATH_MAX], f[PATH_MAX + 300];
	const char *slash = strrchr(path, '/');
	struct dirent *e;
	unsigned int n = 0;
	DIR *dh;

	if (!slash || (size_t)(slash - path) >= sizeof(dir))
		return;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dh = opendir(dir);
	if (!dh)
		return;
	while ((e = readdir(dh))) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };
		char *end;
		long pid;
		int fd, rc;

		if (strncmp(e->d_name, "slirp4netns-", 12))
			continue;
		pid = strtol(e->d_name + 12, &end, 10);
		if (pid <= 0 || strcmp(end, ".sock") || !kill((pid_t)pid, 0) || errno != ESRCH)
			continue;
		snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		if (strlen(f) >= sizeof(sun.sun_path))
			continue;
		memcpy(sun.sun_path, f, strlen(f));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
		if (rc < 0 && errno == ECONNREFUSED && !unlink(f))
			n++;
	}
	closedir(dh);
	if (n)
		log_info("%s: removed %u stale slirp4netns-PID.sock of processes gone", dir, n);
}

/**
 * compat_config() - slirp4netns's command line into @d->cfg (and compat.opts); the control
 * socket goes to the runtime directory (attach-contract.md) as slirp4netns-PID.sock
 * @how:	s4n_is_invoked()'s answer (2: argv[1] is the flag, skipped)
 * Return: -1 to go on and serve, or the exit status (after --help, --version, an error)
 */
static int compat_config(struct tapird *d, int argc, char **argv, int how)
{
	char err[1024];
	enum s4n_result r;

	if (how == 2) {
		/* drop the flag; argv[0] stays for getopt's and the usage's messages */
		memmove(&argv[1], &argv[2], (size_t)(argc - 1) * sizeof(*argv));
		argc--;
	}
	compat.on = true;
	r = s4n_parse_args(&d->cfg, &compat.opts, argc, argv, err, sizeof(err));
	switch (r) {
	case S4N_HELP:
		s4n_usage(stdout, argv[0]);
		return 0;
	case S4N_VERSION_OUT:
		s4n_version(stdout, TAPIR_VERSION);
		return 0;
	case S4N_ERR_USAGE:
		/* slirp4netns: the reason on stderr, the usage on stdout, status 1 */
		if (err[0])
			fprintf(stderr, "%s\n", err);
		s4n_usage(stdout, argv[0]);
		return 1;
	case S4N_ERR:
		fprintf(stderr, "%s\n", err);
		return 1;
	case S4N_RUN:
		break;
	}
	if (link_cfg_check(&d->cfg.link, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (s4n_control_path(d->cfg.control, sizeof(d->cfg.control), host_uid(),
			     getenv("XDG_RUNTIME_DIR"), getpid())) {
		fprintf(stderr, "the control socket's path is too long\n");
		return 1;
	}
	s4n_log_unsupported(&compat.opts);
	/* before tapird opens anything: an fd it opens itself (a TAP, a netlink socket) may get
	 * the number later and hide that the runtime's was never open */
	if (compat.opts.exit_fd >= 0 && fcntl(compat.opts.exit_fd, F_GETFD) < 0) {
		/* slirp4netns's poll() says POLLNVAL at once and it exits, status 0 */
		log_warn("exit-fd %d: %s: exiting once ready", compat.opts.exit_fd,
			 strerror(errno));
		compat.exit_now = true;
	}
	compat_sweep(d->cfg.control);
	return -1;
}

/**
 * on_exit_fd() - slirp4netns -e: the runtime closed its end: leave the loop. slirp4netns
 * polls the fd for POLLHUP only, so data written to it does not stop it: read and ignore it.
 * @arg:	the daemon
 */
static void on_exit_fd(evutil_socket_t fd, short what, void *arg)
{
	struct tapird *d = arg;
	struct pollfd p = { .fd = fd, .events = 0 };
	char buf[256];
	ssize_t n = 1;

	/* events 0: poll() reports only hang-up, error and an fd that is not open */
	if (poll(&p, 1, 0) == 0 || !p.revents) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
			return;
	}
	log_info("exit fd %d: %s; stopping", (int)fd,
		 n == 0 ? "closed by the runtime" : "hang-up");
	sig.stopping = true;
	event_base_loopbreak(d->base);
}

/**
 * compat_start() - what slirp4netns adds to serving: the API socket and the exit fd
 * Return: 0, or -1 with @err filled
 */
static int compat_start(struct tapird *d, char *err, size_t errlen)
{
	const struct s4n_opts *o = &compat.opts;

	if (o->api_socket[0]) {
		compat.api = slirpapi_new(d, d->cfg.link.name, o->api_socket, err, errlen);
		if (!compat.api)
			return -1;
	}
	/* not open at start (compat_config()): nothing to watch */
	if (o->exit_fd < 0 || compat.exit_now)
		return 0;
	compat.ev_exit = event_new(d->base, o->exit_fd, EV_READ | EV_PERSIST, on_exit_fd, d);
	if (!compat.ev_exit) {
		snprintf(err, errlen, "exit-fd %d: out of memory", o->exit_fd);
		return -1;
	}
	if (event_add(compat.ev_exit, NULL)) {
		/* a regular file or /dev/null (epoll refuses them): never hangs up, as for
		 * slirp4netns's poll() */
		log_warn("exit-fd %d: cannot be polled; it will never stop this process",
			 o->exit_fd);
		event_free(compat.ev_exit);
		compat.ev_exit = NULL;
	}
	return 0;
}

/**
 * compat_ready() - slirp4netns -r: "1" on the ready fd, once, then close it
 */
static void compat_ready(void)
{
	int fd = compat.opts.ready_fd;
	ssize_t n;

	if (fd < 0)
		return;
	do
		n = write(fd, "1", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		log_warn("ready-fd %d: %s", fd, n < 0 ? strerror(errno) : "short write");
	close(fd);
}

/**
 * struct tapird_drop - whom the data path becomes once started (privsep_plan())
 * @on:		privilege separation: a helper is forked, the data path drops
 * @uid:	its user
 * @gid:	its group
 */
static struct tapird_drop {
	bool on;
	uid_t uid;
	gid_t gid;
} drop;

/**
 * privsep_plan() - decide, before anything is opened, whom the data path becomes: as root,
 * the configured user (it must exist; "root" keeps everything, as before privilege
 * separation); otherwise ourselves (a unit's User= with AmbientCapabilities=)
 * Return: 0, or -1 with @err filled
 */
static int privsep_plan(const struct config *c, char *err, size_t errlen)
{
	struct passwd *pw;

	drop.on = false;
	if (geteuid() == 0) {
		pw = getpwnam(c->user);
		if (!pw) {
			snprintf(err, errlen,
				 "user '%s' does not exist: create it (systemd-sysusers with "
				 "tapird.sysusers, or useradd --system %s), name another with --user "
				 "or [daemon] user, or keep root with --user root (no privilege "
				 "separation)", c->user, c->user);
			return -1;
		}
		if (pw->pw_uid == 0) {
			log_warn("user %s: running as root with every privilege: no privilege "
				 "separation, no seccomp filter", c->user);
			return 0;
		}
		if ((sandbox_caps_permitted() & (SANDBOX_CAP(CAP_SETUID) | SANDBOX_CAP(CAP_SETGID))) !=
		    (SANDBOX_CAP(CAP_SETUID) | SANDBOX_CAP(CAP_SETGID))) {
			snprintf(err, errlen, "cannot become user %s without CAP_SETUID and "
					      "CAP_SETGID: start as that user (a unit's User= with "
					      "AmbientCapabilities=) or keep root with --user root",
				 c->user);
			return -1;
		}
		drop.uid = pw->pw_uid;
		drop.gid = pw->pw_gid;
	} else {
		/* the default names whoever we are: a plain user may run tapird (no drop) */
		if (strcmp(c->user, CONFIG_DEFAULT_USER) &&
		    (!(pw = getpwnam(c->user)) || pw->pw_uid != geteuid())) {
			snprintf(err, errlen, "user %s: running as uid %u, not root: we cannot "
					      "change user (a unit's User= does it)", c->user,
				 (unsigned int)geteuid());
			return -1;
		}
		drop.uid = geteuid();
		drop.gid = getegid();
	}
	drop.on = true;
	return 0;
}

/**
 * privsep_drop() - start-up is done: become the data path's user with CAP_NET_BIND_SERVICE
 * alone (forwards below 1024 added at run time), no_new_privs, the seccomp filter
 * Return: 0, or -1 with @err filled
 */
static int privsep_drop(struct tapird *d, char *err, size_t errlen)
{
	if (sandbox_drop_user(drop.uid, drop.gid, SANDBOX_CAP(CAP_NET_BIND_SERVICE), err, errlen) ||
	    sandbox_no_new_privs(err, errlen))
		return -1;
#if defined(__SANITIZE_ADDRESS__)
	/* LeakSanitizer's exit check ptrace()s our threads from a clone: not if the uid change
	 * made us undumpable (an ASan build only) */
	prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
#endif
	if (sandbox_seccomp_datapath((enum sandbox_seccomp)d->cfg.seccomp, err, errlen))
		return -1;
	log_info("privileges dropped: uid %u gid %u, CAP_NET_BIND_SERVICE only, no_new_privs, "
		 "seccomp %s; privileged helper pid %d",
		 (unsigned int)drop.uid, (unsigned int)drop.gid,
		 sandbox_seccomp_name((enum sandbox_seccomp)d->cfg.seccomp),
		 (int)privsep_pid(d->priv));
	return 0;
}

/**
 * compat_confine() - slirp4netns --enable-sandbox and --enable-seccomp, once the TAP and the
 * sockets are open: an empty root, CAP_NET_BIND_SERVICE alone, no_new_privs; the filter
 * Return: 0, or -1 with @err filled
 */
static int compat_confine(struct tapird *d, char *err, size_t errlen)
{
	const struct s4n_opts *o = &compat.opts;

	if (o->enable_sandbox) {
		if (sandbox_pivot_empty(err, errlen) ||
		    sandbox_caps_keep(SANDBOX_CAP(CAP_NET_BIND_SERVICE), err, errlen) ||
		    sandbox_no_new_privs(err, errlen))
			return -1;
		log_info("--enable-sandbox: an empty root with /etc and /run, CAP_NET_BIND_SERVICE "
			 "only, no_new_privs");
	}
	if (o->enable_seccomp) {
		if (sandbox_seccomp_datapath((enum sandbox_seccomp)d->cfg.seccomp, err, errlen))
			return -1;
		log_info("--enable-seccomp: seccomp filter installed (%s)",
			 sandbox_seccomp_name((enum sandbox_seccomp)d->cfg.seccomp));
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

	slirpapi_free(compat.api);
	compat.api = NULL;
	if (compat.ev_exit)
		event_free(compat.ev_exit);
	compat.ev_exit = NULL;
	if (d->ctl) {
		ctl_server_free(d->ctl);
		/* its directory may be root's alone: the helper removes the socket */
		if (d->priv)
			privsep_unlink_control(d->priv);
	}
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
	privsep_stop(d->priv);
	d->priv = NULL;
}

int main(int argc, char **argv)
{
	static struct tapird d;
	enum config_action action = CONFIG_RUN;
	char err[1024];
	int how, rc;

	how = s4n_is_invoked(argc, argv);
	if (how) {
		/* slirp4netns's command line; from here on the start-up is the same */
		rc = compat_config(&d, argc, argv, how);
		if (rc >= 0)
			return rc;
	} else {
		config_defaults(&d.cfg);
		if (config_parse_args(&d.cfg, argc, argv, &action, err, sizeof(err))) {
			fprintf(stderr, "tapird: %s\n", err);
			return 1;
		}
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
	short_slice();
	d.start_mono_us = tapird_now_us();
	d.start_wall = time(NULL);
	d.next_flow_id = 1;

	d.base = event_base_new();
	if (!d.base) {
		fprintf(stderr, "tapird: cannot create the event loop\n");
		return 1;
	}
	/* slirp4netns compat keeps its own rules (--enable-sandbox, --enable-seccomp) */
	if (!compat.on && privsep_plan(&d.cfg, err, sizeof(err))) {
		fprintf(stderr, "tapird: %s\n", err);
		shutdown_all(&d);
		return 1;
	}
	notify_connect();
	if (drop.on) {
		d.priv = privsep_start(&d.cfg, err, sizeof(err));
		if (!d.priv) {
			fprintf(stderr, "tapird: %s\n", err);
			shutdown_all(&d);
			return 1;
		}
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
	if (!d.ctl && compat.on) {
		/* a runtime's container must not lose its network for want of a listing */
		log_warn("%s; serving without a control socket", err);
	} else if (!d.ctl) {
		fprintf(stderr, "tapird: %s\n", err);
		shutdown_all(&d);
		return 1;
	}
	if (compat.on && compat_start(&d, err, sizeof(err))) {
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
	if ((drop.on && privsep_drop(&d, err, sizeof(err))) ||
	    (compat.on && compat_confine(&d, err, sizeof(err)))) {
		log_err("%s", err);
		shutdown_all(&d);
		return 1;
	}

	log_info("serving %u link%s, control %s", d.nlinks, d.nlinks == 1 ? "" : "s",
		 d.cfg.control);
	if (d.nlinks == 1)
		notifyf("READY=1\nSTATUS=serving %s (%s in %s)\nMAINPID=%lu",
			   d.links[0]->name, d.links[0]->ifname, d.links[0]->netns,
			   (unsigned long)getpid());
	else
		notifyf("READY=1\nSTATUS=serving %u links; control %s\nMAINPID=%lu",
			   d.nlinks, d.cfg.control, (unsigned long)getpid());
	/* the TAP is up (configured with -c), the loop is about to serve: tell the runtime */
	if (compat.on)
		compat_ready();

	if (compat.exit_now)
		sig.stopping = true;
	else
		run_loop(&d);

	if (!sig.stopping) {
		log_err("no link left; exiting");
		notifyf("STOPPING=1");
	}
	shutdown_all(&d);
	log_info("stopped");
	return sig.stopping ? 0 : 1;
}
