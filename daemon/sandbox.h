/* sandbox.h - confine a process once its start-up is done: switch to an unprivileged user,
 * keep only the capabilities it names, set no_new_privs, install the data path's or the
 * privileged helper's seccomp filter (libseccomp); and slirp4netns's --enable-sandbox (an
 * empty root in a new mount namespace).
 *
 * Each call is one way: nothing here can be undone by the process, which is the point.
 * Must not: open sockets, parse configuration, talk to the privileged helper (privsep.h).
 */
#ifndef TAPIR_SANDBOX_H
#define TAPIR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** SANDBOX_CAP() - the bit of capability @c in a sandbox_caps_keep() mask */
#define SANDBOX_CAP(c) (UINT64_C(1) << (c))

/**
 * enum sandbox_seccomp - what a system call outside a filter's list does
 * @SANDBOX_SECCOMP_KILL:	kills the whole process (SECCOMP_RET_KILL_PROCESS; the kernel
 *				logs a type=1326 SECCOMP audit record naming the call)
 * @SANDBOX_SECCOMP_LOG:	is allowed, and logged the same way (to find what is missing)
 * @SANDBOX_SECCOMP_OFF:	no filter at all
 */
enum sandbox_seccomp {
	SANDBOX_SECCOMP_KILL = 0,
	SANDBOX_SECCOMP_LOG,
	SANDBOX_SECCOMP_OFF,
};

/**
 * sandbox_seccomp_parse() - "kill", "log" or "off" into @mode
 * Return: 0, or -1 for anything else
 */
int sandbox_seccomp_parse(const char *s, enum sandbox_seccomp *mode);

/** sandbox_seccomp_name() - "kill", "log" or "off" */
const char *sandbox_seccomp_name(enum sandbox_seccomp mode);

/**
 * sandbox_caps_keep() - reduce the permitted, effective and inheritable sets to @keep
 * (SANDBOX_CAP() bits), clear the ambient set, and drop everything else from the bounding set
 * when we may (CAP_SETPCAP; without it the bounding set stays: with no_new_privs and no
 * permitted capability beyond @keep, it grants nothing)
 * Return: 0, or -1 with @err filled
 */
int sandbox_caps_keep(uint64_t keep, char *err, size_t errlen);

/**
 * sandbox_caps_permitted() - the permitted set of this process, as SANDBOX_CAP() bits
 * Return: the mask (0 if it cannot be read)
 */
uint64_t sandbox_caps_permitted(void);

/**
 * sandbox_drop_user() - become @uid/@gid with no supplementary groups, keeping @keep's
 * capabilities only (sandbox_caps_keep()); when we are @uid already, only the capabilities
 * change (a unit's User= with AmbientCapabilities=)
 * Return: 0, or -1 with @err filled
 */
int sandbox_drop_user(uid_t uid, gid_t gid, uint64_t keep, char *err, size_t errlen);

/**
 * sandbox_no_new_privs() - PR_SET_NO_NEW_PRIVS: no execve() can ever grant more
 * Return: 0, or -1 with @err filled
 */
int sandbox_no_new_privs(char *err, size_t errlen);

/**
 * sandbox_seccomp_datapath() - set no_new_privs and install the data path's filter: the
 * system calls the event loop, the relays, the control socket and the logs make, with
 * socket() limited to AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK/NETLINK_ROUTE (getifaddrs
 * for deny-host-addresses; the MTU watch's resync), and nothing that creates processes,
 * changes credentials, mounts, traces or loads anything
 * @mode:	what a call outside the list does (SANDBOX_SECCOMP_OFF: nothing is installed)
 * Return: 0, or -1 with @err filled
 */
int sandbox_seccomp_datapath(enum sandbox_seccomp mode, char *err, size_t errlen);

/**
 * sandbox_seccomp_helper() - set no_new_privs and install the privileged helper's filter
 * (privsep.c), inherited by the TAP child of each ATTACH: the calls of its four requests,
 * with ioctl() limited to the TAP's TUNSETIFF, TUNSETVNETHDRSZ, TUNSETVNETLE, TUNSETOFFLOAD
 * and SIOCGIFINDEX, socket() to AF_UNIX and AF_NETLINK/NETLINK_ROUTE, setns() to network
 * namespaces, clone() to fork()'s flags (clone3() fails with ENOSYS); nothing that executes,
 * mounts, traces, changes credentials or makes other namespaces
 * @mode:	what a call outside the list does (SANDBOX_SECCOMP_OFF: nothing is installed)
 * Return: 0, or -1 with @err filled
 */
int sandbox_seccomp_helper(enum sandbox_seccomp mode, char *err, size_t errlen);

/**
 * sandbox_seccomp_denied_example() - a system call the data path's filter refuses, for tests:
 * its number
 */
int sandbox_seccomp_denied_example(void);

/**
 * sandbox_pivot_empty() - slirp4netns 1.2's --enable-sandbox: a new mount namespace whose
 * root is an empty read-only tmpfs holding only /etc and /run of the host (bound read-only:
 * resolv.conf and what it may link to), entered with pivot_root; the old root is unmounted.
 * Sockets and files open before stay usable; paths outside /etc and /run are gone.
 * Return: 0, or -1 with @err filled
 */
int sandbox_pivot_empty(char *err, size_t errlen);

#endif
