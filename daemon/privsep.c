/* privsep.c - the privileged helper and the data path's side of its socketpair.
 *
 * The helper's side: helper_main() (its capabilities, no_new_privs, its descriptors, then its
 * own seccomp filter, sandbox_seccomp_helper(), in the --seccomp mode of the data path's, then
 * one "ready" reply), privsep_req_check() (every request is hostile), helper_serve() (one
 * request at a time), and the actions, each reusing what the daemon did before the split:
 * link_tap_create() (a child joins the namespace; the TAP and netlink fds come back; the
 * child inherits the filter), capture_file_open() (safedir walk, O_CREAT|O_EXCL|O_NOFOLLOW).
 * A system call an action needs must be on the helper's list in sandbox.c: in kill mode any
 * other kills the helper (or the TAP child), and the data path's request fails saying so
 * (helper_gone(): "killed by SIGSYS"). The data path's side: privsep_start() waits for the
 * ready reply (or the reason the helper could not start); privsep_call() sends one request
 * and takes one reply with its descriptors.
 */
#define _GNU_SOURCE
#include "privsep.h"

#include "capture.h"
#include "config.h"
#include "link.h"
#include "netns.h"
#include "sandbox.h"
#include "stack.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/**
 * struct privsep_rep - the helper's answer; its descriptors ride along as SCM_RIGHTS
 * @ok:		1 if the request was carried out
 * @ifindex:	ATTACH: the TAP's index in the namespace
 * @mtu:	ATTACH: its MTU
 * @nfds:	descriptors attached (ATTACH: 1 or 2; the *_OPEN: 1)
 * @err:	what went wrong, when not @ok
 */
struct privsep_rep {
	int32_t ok;
	int32_t ifindex;
	uint32_t mtu;
	int32_t nfds;
	char err[512];
};

/**
 * struct privsep - the data path's end
 * @fd:		its socket (SOCK_SEQPACKET)
 * @pid:	the helper
 * @reaped:	the helper is dead and reaped (its end closed while it was our child)
 * @status:	its wait status then
 */
struct privsep {
	int fd;
	pid_t pid;
	bool reaped;
	int status;
};

/* --- the rules: what the helper accepts ------------------------------------------------- */

/**
 * one_component() - @s is a single path component of 1 to 255 bytes, not "." or ".."
 * Return: true if so
 */
static bool one_component(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 255 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

bool privsep_netns_path_ok(const char *path, const struct privsep_allow *allow)
{
	static const char *const dirs[] = { "/run/netns/", "/var/run/netns/" };
	const char *p;
	unsigned int i;

	for (i = 0; allow && i < allow->npaths; i++)
		if (allow->paths[i] && !strcmp(path, allow->paths[i]))
			return true;
	for (i = 0; i < 2; i++)
		if (!strncmp(path, dirs[i], strlen(dirs[i])))
			return one_component(path + strlen(dirs[i]));
	if (strncmp(path, "/proc/", 6))
		return false;
	p = path + 6;
	/* a PID: 1 to 10 digits, no leading zero (one name per process) */
	if (*p < '1' || *p > '9')
		return false;
	for (i = 0; isdigit((unsigned char)p[i]); i++)
		;
	return i <= 10 && !strcmp(p + i, "/ns/net");
}

/**
 * ifname_ok() - the kernel's dev_valid_name() and config_link.c's set_ifname(): 1 to 15 bytes,
 * no '/', ':', '%' or blanks, not "." or ".."
 * Return: true if so
 */
static bool ifname_ok(const char *s)
{
	if (!*s || strlen(s) >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || *s == '%' || *s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/**
 * terminated() - field @s of @size bytes holds a NUL, and only NULs after it
 * Return: true if so
 */
static bool terminated(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == size)
		return false;
	for (; n < size; n++)
		if (s[n])
			return false;
	return true;
}

int privsep_req_check(const void *buf, size_t len, const struct privsep_allow *allow,
		      char *why, size_t whylen)
{
	const struct privsep_req *r = buf;
	const char *what = NULL;

	if (len != sizeof(*r)) {
		snprintf(why, whylen, "request of %zu bytes (%zu expected)", len, sizeof(*r));
		return -1;
	}
	if (!terminated(r->path, sizeof(r->path)) || !terminated(r->ifname, sizeof(r->ifname))) {
		snprintf(why, whylen, "request: a text field is not terminated");
		return -1;
	}
	switch (r->op) {
	case PRIVSEP_ATTACH:
		if (r->flags & ~PRIVSEP_F_ALL)
			what = "unknown flags";
		else if (!privsep_netns_path_ok(r->path, allow))
			what = "namespace path outside /run/netns, /var/run/netns, /proc/PID/ns/net "
			       "and the configuration's";
		else if (!ifname_ok(r->ifname))
			what = "not an interface name";
		else if (r->mtu < STACK_MIN_MTU || r->mtu > STACK_MAX_MTU)
			what = "MTU out of range";
		else if (r->prefix_len < 1 || r->prefix_len > 32)
			what = "IPv4 prefix length out of range";
		else if (r->prefix6_len < 1 || r->prefix6_len > 128)
			what = "IPv6 prefix length out of range";
		break;
	case PRIVSEP_CAPTURE_OPEN:
		if (r->flags) {
			what = "unknown flags";
		} else if ((what = capture_name_check(r->path))) {
			/* capture_file_open()'s words, as without the helper */
			snprintf(why, whylen, "refused: capture file name '%.200s' %s", r->path,
				 what);
			return -1;
		}
		break;
	case PRIVSEP_CONFIG_OPEN:
	case PRIVSEP_UNLINK_CONTROL:
		if (r->flags || r->path[0])
			what = "takes no arguments";
		break;
	default:
		snprintf(why, whylen, "unknown request %u", r->op);
		return -1;
	}
	if (what) {
		/* the path is printable up to its NUL; cut to what the reply holds */
		snprintf(why, whylen, "refused: %s ('%.200s')", what, r->path);
		return -1;
	}
	return 0;
}

int privsep_req_attach(struct privsep_req *r, const struct link_cfg *lc, const char *netns,
		       char *err, size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->op = PRIVSEP_ATTACH;
	if (strlen(netns) >= sizeof(r->path) || strlen(lc->ifname) >= sizeof(r->ifname)) {
		snprintf(err, errlen, "%.200s: path too long for the privileged helper", netns);
		return -1;
	}
	memcpy(r->path, netns, strlen(netns));
	memcpy(r->ifname, lc->ifname, strlen(lc->ifname));
	r->flags = (lc->no_configure ? PRIVSEP_F_NO_CONFIGURE : 0) |
		   (lc->no_offload ? PRIVSEP_F_NO_OFFLOAD : 0) |
		   (lc->tap_reuse ? PRIVSEP_F_TAP_REUSE : 0) |
		   (lc->no_ipv6 ? PRIVSEP_F_NO_IPV6 : 0) | (lc->has_mac ? PRIVSEP_F_HAS_MAC : 0);
	r->mtu = lc->mtu;
	r->addr = lc->addr;
	r->gateway = lc->gateway;
	r->prefix_len = lc->prefix_len;
	r->prefix6_len = lc->prefix6_len;
	memcpy(r->prefix6, lc->prefix6, 16);
	memcpy(r->mac, lc->mac, 6);
	return 0;
}

/* --- the helper ------------------------------------------------------------------------- */

/**
 * reply() - send @rep with @nfds descriptors @fds, then close them here
 */
static void reply(int sock, struct privsep_rep *rep, const int *fds, int nfds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	int i;

	rep->nfds = nfds;
	if (nfds > 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

/**
 * same_netns() - @fd is the helper's own network namespace
 * Return: true if so
 */
static bool same_netns(int fd)
{
	int self = netns_open(NETNS_SELF);
	bool same;

	if (self < 0)
		return false;
	same = netns_same(self, fd);
	close(self);
	return same;
}

/**
 * helper_attach() - ATTACH: open the namespace, refuse our own, create the TAP there
 */
static void helper_attach(int sock, const struct privsep_req *r)
{
	struct privsep_rep rep = { 0 };
	struct link_cfg lc;
	struct link_tap t;
	int ns, fds[2];

	ns = netns_open(r->path);
	if (ns < 0) {
		snprintf(rep.err, sizeof(rep.err), "%.300s: %s", r->path,
			 ns == -EINVAL ? "not a network namespace" : strerror(-ns));
		reply(sock, &rep, NULL, 0);
		return;
	}
	if (same_netns(ns)) {
		/* a TAP with a default route in tapird's own namespace would take over the
		 * host's routing and relay the relay's own sockets */
		snprintf(rep.err, sizeof(rep.err), "%.300s: this is tapird's own network namespace",
			 r->path);
		close(ns);
		reply(sock, &rep, NULL, 0);
		return;
	}
	link_cfg_defaults(&lc);
	memcpy(lc.ifname, r->ifname, sizeof(lc.ifname));
	lc.no_configure = r->flags & PRIVSEP_F_NO_CONFIGURE;
	lc.no_offload = r->flags & PRIVSEP_F_NO_OFFLOAD;
	lc.tap_reuse = r->flags & PRIVSEP_F_TAP_REUSE;
	lc.no_ipv6 = r->flags & PRIVSEP_F_NO_IPV6;
	lc.has_mac = r->flags & PRIVSEP_F_HAS_MAC;
	lc.mtu = r->mtu;
	lc.addr = r->addr;
	lc.gateway = r->gateway;
	lc.prefix_len = r->prefix_len;
	lc.prefix6_len = r->prefix6_len;
	memcpy(lc.prefix6, r->prefix6, 16);
	memcpy(lc.mac, r->mac, 6);
	/* never a user namespace: rootless (slirp4netns compat) runs without the helper */
	lc.userns[0] = '\0';
	if (link_tap_create(&lc, r->path, ns, &t, rep.err, sizeof(rep.err))) {
		close(ns);
		reply(sock, &rep, NULL, 0);
		return;
	}
	close(ns);
	rep.ok = 1;
	rep.ifindex = t.ifindex;
	rep.mtu = t.mtu;
	fds[0] = t.fd;
	fds[1] = t.watch_fd;
	reply(sock, &rep, fds, t.watch_fd >= 0 ? 2 : 1);
}

/**
 * helper_open() - CAPTURE_OPEN and CONFIG_OPEN: the one file the request may name
 */
static void helper_open(int sock, const struct privsep_req *r, const struct config *cfg)
{
	struct privsep_rep rep = { 0 };
	int fd;

	if (r->op == PRIVSEP_CAPTURE_OPEN) {
		fd = capture_file_open(cfg->capture_dir, r->path, rep.err, sizeof(rep.err));
	} else if (!cfg->config_path[0]) {
		snprintf(rep.err, sizeof(rep.err), "no configuration file (-c)");
		fd = -1;
	} else {
		fd = open(cfg->config_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			snprintf(rep.err, sizeof(rep.err), "%.300s: %s", cfg->config_path,
				 strerror(errno));
	}
	if (fd < 0) {
		reply(sock, &rep, NULL, 0);
		return;
	}
	rep.ok = 1;
	reply(sock, &rep, &fd, 1);
}

/**
 * helper_unlink_control() - UNLINK_CONTROL: the control socket named at start, if it is
 * still a socket (never anything else put there since)
 */
static void helper_unlink_control(int sock, const struct config *cfg)
{
	struct privsep_rep rep = { .ok = 1 };
	struct stat st;

	if (cfg->control[0] && !lstat(cfg->control, &st) && S_ISSOCK(st.st_mode))
		unlink(cfg->control);
	reply(sock, &rep, NULL, 0);
}

/**
 * helper_serve() - the helper's life: one request, one reply, until the data path's end
 * closes
 * Return: the exit status
 */
static int helper_serve(int sock, const struct config *cfg)
{
	struct privsep_allow allow = { .npaths = 0 };
	struct privsep_req r;
	struct privsep_rep rep;
	unsigned int i;
	ssize_t n;

	if (cfg->link.netns[0])
		allow.paths[allow.npaths++] = cfg->link.netns;
	for (i = 0; i < cfg->nlinks && allow.npaths < 65; i++)
		if (cfg->links[i].netns[0])
			allow.paths[allow.npaths++] = cfg->links[i].netns;
	for (;;) {
		/* one more byte than a request: a longer message shows its real length (TRUNC) */
		char buf[sizeof(r) + 1];

		n = recv(sock, buf, sizeof(buf), MSG_TRUNC | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0;
		memset(&rep, 0, sizeof(rep));
		if (privsep_req_check(buf, (size_t)n, &allow, rep.err, sizeof(rep.err))) {
			reply(sock, &rep, NULL, 0);
			continue;
		}
		memcpy(&r, buf, sizeof(r));
		switch (r.op) {
		case PRIVSEP_ATTACH:
			helper_attach(sock, &r);
			break;
		case PRIVSEP_CAPTURE_OPEN:
		case PRIVSEP_CONFIG_OPEN:
			helper_open(sock, &r, cfg);
			break;
		case PRIVSEP_UNLINK_CONTROL:
			helper_unlink_control(sock, cfg);
			break;
		}
	}
}

/**
 * helper_fail() - tell privsep_start() why the helper could not start
 * Return: the exit status, 1
 */
static int helper_fail(int sock, const char *what, const char *why)
{
	struct privsep_rep rep = { 0 };

	snprintf(rep.err, sizeof(rep.err), "privileged helper: %s%s", what, why);
	reply(sock, &rep, NULL, 0);
	return 1;
}

/**
 * helper_main() - in the fresh child: keep only the helper's capabilities and descriptors,
 * install its seccomp filter, say it is ready (or why not), serve
 * Return: the exit status
 */
static int helper_main(int sock, const struct config *cfg)
{
	uint64_t keep = SANDBOX_CAP(CAP_SYS_ADMIN) | SANDBOX_CAP(CAP_NET_ADMIN);
	struct privsep_rep ready = { .ok = 1 };
	char err[256];
	int null;

	/* --pid of another user's process: only if we were given it (root, or the unit) */
	keep |= sandbox_caps_permitted() & SANDBOX_CAP(CAP_SYS_PTRACE);
	if (sandbox_caps_keep(keep, err, sizeof(err)) || sandbox_no_new_privs(err, sizeof(err)))
		return helper_fail(sock, "", err);
	/* nothing of the daemon's but the channel: not its event loop, not its terminal when
	 * it detaches (a shell waiting on the daemon's stdout must see it close) */
	if (sock != 3) {
		if (dup2(sock, 3) < 0)
			return helper_fail(sock, "dup2: ", strerror(errno));
		sock = 3;
	}
	syscall(SYS_close_range, 4u, ~0u, 0u);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		if (!cfg->foreground && !getenv("NOTIFY_SOCKET")) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (null > 3)
			close(null);
	}
	/* SIGTERM to the process group (a terminal's ^C) ends the data path, whose exit ends us */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	prctl(PR_SET_NAME, "tapird-priv", 0, 0, 0);
	/* last: the filter holds what the four requests need, none of this set-up's calls */
	if (sandbox_seccomp_helper((enum sandbox_seccomp)cfg->seccomp, err, sizeof(err)))
		return helper_fail(sock, "", err);
	reply(sock, &ready, NULL, 0);
	return helper_serve(sock, cfg);
}

/**
 * helper_gone() - the helper's end closed: reap it if it is our child (not when we detached
 * from the terminal: the first process was its parent) and say how it ended; SIGSYS is its
 * seccomp filter's kill
 */
static void helper_gone(struct privsep *p, char *err, size_t errlen)
{
	pid_t r;

	/* its end closes as it exits: the wait is short */
	if (!p->reaped) {
		do
			r = waitpid(p->pid, &p->status, 0);
		while (r < 0 && errno == EINTR);
		p->reaped = r == p->pid;
	}
	if (!p->reaped)
		snprintf(err, errlen, "privileged helper: gone");
	else if (WIFSIGNALED(p->status) && WTERMSIG(p->status) == SIGSYS)
		snprintf(err, errlen, "privileged helper: killed by SIGSYS, a system call outside its "
				      "seccomp filter (the kernel's audit record of comm "
				      "\"tapird-priv\" names it)");
	else if (WIFSIGNALED(p->status))
		snprintf(err, errlen, "privileged helper: killed by signal %d", WTERMSIG(p->status));
	else
		snprintf(err, errlen, "privileged helper: exited (status %d)",
			 WEXITSTATUS(p->status));
}

/**
 * reply_recv() - take one reply of the helper and up to two descriptors
 * @fds:	filled with the descriptors (-1 where none)
 * Return: 0 if the helper says it carried out the request, -1 with @err filled
 */
static int reply_recv(struct privsep *p, struct privsep_rep *rep, int fds[2], char *err,
		      size_t errlen)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			      .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int n_fds = 0, i, rerr;
	ssize_t n;

	fds[0] = fds[1] = -1;
	memset(rep, 0, sizeof(*rep));
	do
		n = recvmsg(p->fd, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	rerr = errno;
	for (cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n_fds = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		if (n_fds > 2)
			n_fds = 2;
		memcpy(fds, CMSG_DATA(cm), sizeof(int) * (size_t)n_fds);
		break;
	}
	if (n != (ssize_t)sizeof(*rep) || !rep->ok || n_fds != rep->nfds) {
		for (i = 0; i < n_fds; i++)
			close(fds[i]);
		fds[0] = fds[1] = -1;
		rep->err[sizeof(rep->err) - 1] = '\0';
		if (n == (ssize_t)sizeof(*rep) && rep->err[0])
			snprintf(err, errlen, "%s", rep->err);
		else if (n == 0 || (n < 0 && rerr == ECONNRESET))
			/* ECONNRESET: it died with our request unread */
			helper_gone(p, err, errlen);
		else
			snprintf(err, errlen, "privileged helper: %s",
				 n < 0 ? strerror(rerr) : "bad reply");
		return -1;
	}
	return 0;
}

struct privsep *privsep_start(const struct config *cfg, char *err, size_t errlen)
{
	struct privsep *p = calloc(1, sizeof(*p));
	struct privsep_rep rep;
	int sv[2], fds[2];

	if (!p) {
		snprintf(err, errlen, "privileged helper: out of memory");
		return NULL;
	}
	/* SEQPACKET: a request and a reply arrive whole, the other end's exit as EOF */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(err, errlen, "privileged helper: socketpair: %s", strerror(errno));
		free(p);
		return NULL;
	}
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0) {
		snprintf(err, errlen, "privileged helper: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(p);
		return NULL;
	}
	if (!p->pid) {
		close(sv[0]);
		/* the descriptor must survive close_range(): clear its close-on-exec later */
		_exit(helper_main(sv[1], cfg));
	}
	close(sv[1]);
	p->fd = sv[0];
	/* its first word: confined and serving, or why not (a filter the kernel refused) */
	if (reply_recv(p, &rep, fds, err, errlen)) {
		privsep_stop(p);
		return NULL;
	}
	return p;
}

pid_t privsep_pid(const struct privsep *p)
{
	return p->pid;
}

/**
 * privsep_call() - send @r, take the reply and up to two descriptors
 * @fds:	filled with the descriptors (-1 where none)
 * Return: 0 if the helper carried it out, -1 with @err filled
 */
static int privsep_call(struct privsep *p, const struct privsep_req *r, struct privsep_rep *rep,
			int fds[2], char *err, size_t errlen)
{
	ssize_t n;

	fds[0] = fds[1] = -1;
	memset(rep, 0, sizeof(*rep));
	do
		n = send(p->fd, r, sizeof(*r), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		helper_gone(p, err, errlen);
		return -1;
	}
	if (n != (ssize_t)sizeof(*r)) {
		snprintf(err, errlen, "privileged helper: %s",
			 n < 0 ? strerror(errno) : "short write");
		return -1;
	}
	return reply_recv(p, rep, fds, err, errlen);
}

int privsep_attach(struct privsep *p, const struct link_cfg *lc, const char *netns,
		   struct link_tap *t, char *err, size_t errlen)
{
	struct privsep_req r;
	struct privsep_rep rep;
	int fds[2];

	if (privsep_req_attach(&r, lc, netns, err, errlen) ||
	    privsep_call(p, &r, &rep, fds, err, errlen))
		return -1;
	if (fds[0] < 0) {
		snprintf(err, errlen, "privileged helper: no TAP in the reply");
		return -1;
	}
	t->fd = fds[0];
	t->watch_fd = fds[1];
	t->ifindex = rep.ifindex;
	t->mtu = rep.mtu;
	return 0;
}

/**
 * privsep_open() - a *_OPEN request; @name for CAPTURE_OPEN
 * Return: the descriptor, or -1 with @err filled
 */
static int privsep_open(struct privsep *p, uint32_t op, const char *name, char *err,
			size_t errlen)
{
	struct privsep_req r = { .op = op };
	struct privsep_rep rep;
	int fds[2];

	if (name && strlen(name) >= sizeof(r.path)) {
		snprintf(err, errlen, "name too long");
		return -1;
	}
	if (name)
		memcpy(r.path, name, strlen(name));
	if (privsep_call(p, &r, &rep, fds, err, errlen))
		return -1;
	if (fds[1] >= 0)
		close(fds[1]);
	if (fds[0] < 0)
		snprintf(err, errlen, "privileged helper: no file in the reply");
	return fds[0];
}

int privsep_capture_open(struct privsep *p, const char *name, char *err, size_t errlen)
{
	return privsep_open(p, PRIVSEP_CAPTURE_OPEN, name, err, errlen);
}

int privsep_config_open(struct privsep *p, char *err, size_t errlen)
{
	return privsep_open(p, PRIVSEP_CONFIG_OPEN, NULL, err, errlen);
}

void privsep_unlink_control(struct privsep *p)
{
	struct privsep_req r = { .op = PRIVSEP_UNLINK_CONTROL };
	struct privsep_rep rep;
	char err[64];
	int fds[2];

	privsep_call(p, &r, &rep, fds, err, sizeof(err));
}

void privsep_stop(struct privsep *p)
{
	if (!p)
		return;
	close(p->fd);
	/* ECHILD when we detached (the helper's parent was the first process): init reaps it */
	while (!p->reaped && waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(p);
}
