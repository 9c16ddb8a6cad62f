/* sandbox.c - confine a process once its start-up is done: user, capabilities,
 * no_new_privs, the data path's and the privileged helper's seccomp filters, slirp4netns's
 * --enable-sandbox. */
#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/if_tun.h>

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif

/* Built with AddressSanitizer: its runtime (and LeakSanitizer's check at exit, which stops
 * the world with a ptrace()ing clone) needs calls the daemon itself never makes */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

int sandbox_seccomp_parse(const char *s, enum sandbox_seccomp *mode)
{
	if (!strcmp(s, "kill"))
		*mode = SANDBOX_SECCOMP_KILL;
	else if (!strcmp(s, "log"))
		*mode = SANDBOX_SECCOMP_LOG;
	else if (!strcmp(s, "off"))
		*mode = SANDBOX_SECCOMP_OFF;
	else
		return -1;
	return 0;
}

const char *sandbox_seccomp_name(enum sandbox_seccomp mode)
{
	switch (mode) {
	case SANDBOX_SECCOMP_KILL:
		return "kill";
	case SANDBOX_SECCOMP_LOG:
		return "log";
	default:
		return "off";
	}
}

/**
 * caps_get() - capget() of this process
 * @d:		filled: two 32-bit words of each set
 * Return: 0, or -errno
 */
static int caps_get(struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };

	memset(d, 0, 2 * sizeof(*d));
	return syscall(SYS_capget, &h, d) ? -errno : 0;
}

uint64_t sandbox_caps_permitted(void)
{
	struct __user_cap_data_struct d[2];

	if (caps_get(d))
		return 0;
	return (uint64_t)d[0].permitted | ((uint64_t)d[1].permitted << 32);
}

/**
 * bounding_drop() - drop every capability but @keep's from the bounding set, if we may
 * (CAP_SETPCAP effective; without it, EPERM: the set stays as it is)
 * Return: 0, or -1 with @err filled
 */
static int bounding_drop(uint64_t keep, char *err, size_t errlen)
{
	int c;

	/* PR_CAPBSET_READ says EINVAL past the kernel's last capability */
	for (c = 0; c < 64; c++) {
		if (keep & SANDBOX_CAP(c))
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) < 0)
			break;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
			if (errno == EPERM)
				return 0;
			snprintf(err, errlen, "dropping capability %d from the bounding set: %s", c,
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int sandbox_caps_keep(uint64_t keep, char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	uint64_t have = sandbox_caps_permitted();

	/* never ask for more than we hold: capset() would refuse the whole call */
	keep &= have;
	if (bounding_drop(keep, err, errlen))
		return -1;
	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = (uint32_t)keep;
	d[1].permitted = d[1].effective = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, d)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	/* capabilities leave the ambient set with the permitted set; clear the rest too */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
		snprintf(err, errlen, "clearing the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (sandbox_caps_permitted() != keep) {
		snprintf(err, errlen, "capabilities: %#llx left, %#llx wanted",
			 (unsigned long long)sandbox_caps_permitted(), (unsigned long long)keep);
		return -1;
	}
	return 0;
}

int sandbox_drop_user(uid_t uid, gid_t gid, uint64_t keep, char *err, size_t errlen)
{
	uid_t r, e, s;

	if (getresuid(&r, &e, &s))
		r = e = s = (uid_t)-1;
	/* while CAP_SETPCAP is still effective (root): the uid change clears it */
	if (bounding_drop(keep, err, errlen))
		return -1;
	if (r != uid || e != uid || s != uid) {
		/* keep the permitted set across the uid change; trimmed to @keep below */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
			snprintf(err, errlen, "PR_SET_KEEPCAPS: %s", strerror(errno));
			return -1;
		}
		if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0) {
			snprintf(err, errlen, "setting gid %u: %s", (unsigned int)gid,
				 strerror(errno));
			return -1;
		}
		if (setresuid(uid, uid, uid) < 0) {
			snprintf(err, errlen, "setting uid %u: %s", (unsigned int)uid,
				 strerror(errno));
			return -1;
		}
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		/* setresuid() emptied the effective set: CAP_SETPCAP for the bounding set is
		 * gone; the permitted set still holds what we had */
	} else if (getegid() != gid && (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0)) {
		/* our own uid already (User=); another group is asked: only with CAP_SETGID */
		snprintf(err, errlen, "setting gid %u: %s", (unsigned int)gid, strerror(errno));
		return -1;
	}
	return sandbox_caps_keep(keep, err, errlen);
}

int sandbox_no_new_privs(char *err, size_t errlen)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* The data path's system calls, by who makes them. A call missing here kills tapird in kill
 * mode: run with --seccomp=log and read the kernel's SECCOMP records (docs/security.md). */
static const char *const datapath_calls[] = {
	/* memory (malloc, libevent, jansson) */
	"brk", "mmap", "munmap", "mremap", "madvise", "mprotect",
	/* fds: TAP, sockets, the configuration file on SIGHUP, /etc/resolv.conf, the pcap file
	 * the helper opened; stdio */
	"read", "readv", "write", "writev", "pread64", "pwrite64", "close", "dup", "dup2",
	"dup3", "fcntl", "fstat", "newfstatat", "statx", "lseek", "openat", "open", "fsync",
	"fdatasync", "unlink", "unlinkat", "getdents64", "readlink", "readlinkat",
	"access", "faccessat", "faccessat2", "umask", "fchmod", "ftruncate", "pipe2",
	/* the loop: epoll (libevent), its signal socketpair, timers */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1", "poll",
	"ppoll", "select", "pselect6", "timerfd_create", "timerfd_settime", "timerfd_gettime",
	"eventfd2",
	/* sockets: relays, forwards, control and API sockets, ping sockets, sd_notify, syslog,
	 * netlink (the MTU watch, getifaddrs) */
	"connect", "accept", "accept4", "bind", "listen", "getsockname", "getpeername",
	"setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"recvmmsg", "shutdown", "socketpair",
	/* time, identity, randomness */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
	"getpid", "gettid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getresuid",
	"getresgid", "getgroups", "getrandom", "uname", "sysinfo", "getrlimit", "prlimit64",
	"sched_yield", "sched_getaffinity",
	/* signals: SIGTERM/SIGINT/SIGHUP through libevent; abort() */
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "kill", "tgkill",
	"restart_syscall",
	/* threads that glibc may create for nothing, futexes of stdio locks; the end */
	"futex", "set_robust_list", "rseq", "exit", "exit_group",
	/* reaping the privileged helper at exit */
	"wait4", "waitid",
};

#ifdef SANDBOX_ASAN
/* AddressSanitizer's runtime: its reports (symbolizer lookups), LeakSanitizer's exit check,
 * its alternate signal stack (sigaltstack: the helper's list lacks it, the data path's has it) */
static const char *const asan_calls[] = {
	"clone", "clone3", "ptrace", "prctl", "getdents", "sched_getparam", "getpriority", "mincore",
	"process_vm_readv", "pipe", "arch_prctl", "set_tid_address", "execve", "sigaltstack",
};
#endif

/**
 * calls_add() - allow each of the @n system calls @names (one unknown to this kernel or to
 * libseccomp is skipped)
 * Return: 0, or a negative errno
 */
static int calls_add(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	size_t i;
	int nr, rc;

	for (i = 0; i < n; i++) {
		nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/**
 * ioctls_add() - allow ioctl() with each of the @n request numbers @reqs, no other
 * Return: 0, or a negative errno
 */
static int ioctls_add(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				      SCMP_A1(SCMP_CMP_EQ, reqs[i]));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/**
 * socket_add() - allow socket() in @family; with @proto >= 0, that protocol only
 * Return: 0, or a negative errno
 */
static int socket_add(scmp_filter_ctx ctx, int family, int proto)
{
	if (proto < 0)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family));
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family),
				SCMP_A2(SCMP_CMP_EQ, (scmp_datum_t)proto));
}

/**
 * filter_new() - set no_new_privs and start a filter whose default is @mode's action: kill
 * the whole process, or log and allow
 * Return: the filter, or NULL with @err filled
 */
static scmp_filter_ctx filter_new(enum sandbox_seccomp mode, char *err, size_t errlen)
{
	scmp_filter_ctx ctx;

	if (sandbox_no_new_privs(err, errlen))
		return NULL;
	ctx = seccomp_init(mode == SANDBOX_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp: cannot build the filter");
		return NULL;
	}
#ifdef SANDBOX_ASAN
	{
		int rc = calls_add(ctx, asan_calls, sizeof(asan_calls) / sizeof(asan_calls[0]));

		if (rc < 0) {
			snprintf(err, errlen, "seccomp: %s", strerror(-rc));
			seccomp_release(ctx);
			return NULL;
		}
	}
#endif
	return ctx;
}

/**
 * filter_load() - load @ctx unless building it failed (@rc < 0), and release it
 * Return: 0, or -1 with @err filled
 */
static int filter_load(scmp_filter_ctx ctx, int rc, char *err, size_t errlen)
{
	if (rc >= 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errlen, "seccomp: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int sandbox_seccomp_datapath(enum sandbox_seccomp mode, char *err, size_t errlen)
{
	/* the relays' queue sizes (SIOCINQ = FIONREAD, SIOCOUTQ = TIOCOUTQ), FIONBIO, and
	 * TCGETS (stdio's isatty()); never a TAP's or a device's */
	static const unsigned long ioctls[] = { SIOCINQ, SIOCOUTQ, FIONBIO, TCGETS };
	scmp_filter_ctx ctx;
	int rc;

	if (mode == SANDBOX_SECCOMP_OFF)
		return 0;
	ctx = filter_new(mode, err, errlen);
	if (!ctx)
		return -1;
	rc = calls_add(ctx, datapath_calls, sizeof(datapath_calls) / sizeof(datapath_calls[0]));
	if (!rc)
		rc = ioctls_add(ctx, ioctls, sizeof(ioctls) / sizeof(ioctls[0]));
	/* socket(): the families the data path opens, netlink for routing only */
	if (!rc)
		rc = socket_add(ctx, AF_UNIX, -1);
	if (!rc)
		rc = socket_add(ctx, AF_INET, -1);
	if (!rc)
		rc = socket_add(ctx, AF_INET6, -1);
	if (!rc)
		rc = socket_add(ctx, AF_NETLINK, NETLINK_ROUTE);
	return filter_load(ctx, rc, err, errlen);
}

/* The privileged helper's system calls (privsep.c), by request; the TAP child an ATTACH forks
 * inherits the filter. Found with --seccomp=log while every request ran, its success and its
 * refusals. A call missing here kills the helper (or the TAP child: that attach fails) in
 * kill mode: read the kernel's SECCOMP records of comm "tapird-priv" (docs/security.md). */
static const char *const helper_calls[] = {
	/* the channel: a request in (recv), a reply out with its descriptors; the end */
	"recvfrom", "sendmsg", "close", "exit", "exit_group",
	/* memory (libnl's messages, stdio's buffer for /proc/self/uid_map) */
	"brk", "mmap", "munmap", "mremap", "madvise",
	/* files: the namespace (netns_open()), /dev/net/tun, capture-dir one component at a
	 * time (safedir_open(): its owners, /proc/self/uid_map in a user namespace) and the new
	 * file in it, the -c file, the control socket (lstat, unlink); fstat and stat are
	 * newfstatat's names in older C libraries */
	"openat", "open", "read", "fstat", "newfstatat", "stat", "lstat", "mkdirat", "unlink",
	"geteuid",
	/* ATTACH: the TAP child's reply and its end (glibc's fork() resets the child's robust
	 * futex list) */
	"recvmsg", "wait4", "set_robust_list",
	/* ATTACH, in the TAP child: libnl's rtnetlink sockets (a port id from the pid) and the
	 * MTU watch's */
	"bind", "getsockname", "setsockopt", "getpid",
};

int sandbox_seccomp_helper(enum sandbox_seccomp mode, char *err, size_t errlen)
{
	/* the TAP (tap.c) and if_nametoindex(); never another device's, never a terminal's */
	static const unsigned long ioctls[] = { TUNSETIFF, TUNSETVNETHDRSZ, TUNSETVNETLE,
						TUNSETOFFLOAD, SIOCGIFINDEX };
	scmp_filter_ctx ctx;
	int rc;

	if (mode == SANDBOX_SECCOMP_OFF)
		return 0;
	ctx = filter_new(mode, err, errlen);
	if (!ctx)
		return -1;
	rc = calls_add(ctx, helper_calls, sizeof(helper_calls) / sizeof(helper_calls[0]));
	if (!rc)
		rc = ioctls_add(ctx, ioctls, sizeof(ioctls) / sizeof(ioctls[0]));
	/* socket(): if_nametoindex()'s AF_UNIX datagram socket, rtnetlink; socketpair(): the
	 * TAP child's reply channel */
	if (!rc)
		rc = socket_add(ctx, AF_UNIX, -1);
	if (!rc)
		rc = socket_add(ctx, AF_NETLINK, NETLINK_ROUTE);
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1,
				      SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* setns() into a network namespace only: never a user, mount or PID namespace, though
	 * CAP_SYS_ADMIN would allow them (the helper never attaches a user namespace) */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setns), 1,
				      SCMP_A1(SCMP_CMP_EQ, CLONE_NEWNET));
#ifndef SANDBOX_ASAN
	/* clone() as fork() makes it (the TAP child): SIGCHLD, and glibc's CLONE_CHILD_SETTID
	 * and CLONE_CHILD_CLEARTID; no thread, no new namespace, no shared memory. clone3()
	 * passes its flags in memory a filter cannot read: ENOSYS makes a C library fall back
	 * to clone(). (An ASan build allows both whole, for its runtime.) */
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				      SCMP_A0(SCMP_CMP_MASKED_EQ,
					      ~(scmp_datum_t)(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID),
					      SIGCHLD));
	if (!rc)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
#endif
	return filter_load(ctx, rc, err, errlen);
}

int sandbox_seccomp_denied_example(void)
{
	return SYS_mount;
}

/**
 * bind_ro() - bind @from on @to read-only, nosuid, nodev, noexec, as a slave (the host's
 * later mounts still show; ours never leak back), as slirp4netns's add_mount()
 * Return: 0, or -1 with errno set
 */
static int bind_ro(const char *from, const char *to)
{
	unsigned long fl = MS_NOSUID | MS_NODEV | MS_NOEXEC;

	if (mount(from, to, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -1;
	if (mount(NULL, to, NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return -1;
	return mount(NULL, to, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | fl, NULL);
}

int sandbox_pivot_empty(char *err, size_t errlen)
{
#ifdef SANDBOX_ASAN
	/* LeakSanitizer's exit check lists our threads in /proc/PID/task: an ASan build keeps
	 * /proc (read-only), or its check fails and so does the exit status */
	static const char *const dirs[] = { "/etc", "/run", "/proc" };
#else
	static const char *const dirs[] = { "/etc", "/run" };
#endif
	const char *root = "/tmp", *step;
	char to[PATH_MAX];
	unsigned int i;

	step = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS) < 0)
		goto fail;
	/* nothing we mount from here on propagates to the host */
	step = "making / private";
	if (mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		goto fail;
	/* the new root: a tmpfs on /tmp, seen by this mount namespace alone (slirp4netns) */
	step = "mounting a tmpfs on /tmp";
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=0755"))
		goto fail;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(to, sizeof(to), "%s%s", root, dirs[i]);
		step = dirs[i];
		if (mkdir(to, 0755) < 0 || bind_ro(dirs[i], to) < 0)
			goto fail;
	}
	snprintf(to, sizeof(to), "%s/old", root);
	step = "pivot_root";
	if (mkdir(to, 0700) < 0 || chdir(root) < 0 || syscall(SYS_pivot_root, ".", "old") < 0)
		goto fail;
	step = "leaving the old root";
	if (chdir("/") < 0 || umount2("/old", MNT_DETACH) < 0 || rmdir("/old") < 0)
		goto fail;
	/* read-only from now on; a failure is harmless (slirp4netns #163 ignores it too) */
	mount("tmpfs", "/", "tmpfs", MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	      "size=16k,mode=0755");
	return 0;
fail:
	snprintf(err, errlen, "sandbox: %s: %s", step, strerror(errno));
	return -1;
}
