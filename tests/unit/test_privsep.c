/* test_privsep.c - privilege separation (issue 14, finding 2): the helper refuses hostile
 * requests (bad lengths, unterminated fields, paths outside the allowed set, bad names and
 * ranges), a real helper answers them with an error and keeps serving, and the data path's
 * and the helper's seccomp filters kill a process that makes a call outside their list
 * (SIGSYS) while the calls on the list go through.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "link.h"
#include "privsep.h"
#include "sandbox.h"
#include "tapird.h"

/* an AddressSanitizer build: its runtime's calls are on both filters (sandbox.c) */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif

uint64_t tapird_now_us(void)
{
	return 0;
}

/** attach_req() - a valid ATTACH request for @path */
static struct privsep_req attach_req(const char *path)
{
	struct privsep_req r;
	struct link_cfg lc;
	char err[256];

	link_cfg_defaults(&lc);
	assert_int_equal(privsep_req_attach(&r, &lc, path, err, sizeof(err)), 0);
	return r;
}

/** check() - privsep_req_check() of @r as a whole message, no allowed paths */
static int check(const struct privsep_req *r)
{
	char why[256];

	return privsep_req_check(r, sizeof(*r), NULL, why, sizeof(why));
}

static void test_netns_paths_of_the_allowed_shapes_accepted(void **state)
{
	(void)state;
	assert_true(privsep_netns_path_ok("/run/netns/c1", NULL));
	assert_true(privsep_netns_path_ok("/var/run/netns/cni-1234-abcd", NULL));
	assert_true(privsep_netns_path_ok("/proc/1/ns/net", NULL));
	assert_true(privsep_netns_path_ok("/proc/4194304/ns/net", NULL));
}

static void test_netns_paths_outside_refused(void **state)
{
	static const char *const bad[] = {
		"/etc/passwd", "/run/netns/", "/run/netns/.", "/run/netns/..",
		"/run/netns/../../etc/shadow", "/run/netns/a/b", "/run/netnsx/c1",
		"/var/run/netns/../x", "/proc/self/ns/net", "/proc/0/ns/net", "/proc/012/ns/net",
		"/proc/12/ns/user", "/proc/12/ns/net/", "/proc/12/ns/net/..", "/proc/12/root/etc",
		"/proc/12345678901/ns/net", "/proc//ns/net", "run/netns/c1", "", "/tmp/ns",
		"//run/netns/c1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (privsep_netns_path_ok(bad[i], NULL))
			fail_msg("accepted: '%s'", bad[i]);
	}
}

static void test_netns_path_from_the_configuration_accepted(void **state)
{
	struct privsep_allow allow = { .paths = { "/tmp/held/ns" }, .npaths = 1 };

	(void)state;
	assert_true(privsep_netns_path_ok("/tmp/held/ns", &allow));
	/* exactly that path, not another beside it */
	assert_false(privsep_netns_path_ok("/tmp/held/ns2", &allow));
	assert_false(privsep_netns_path_ok("/tmp/held/../held/ns", &allow));
}

static void test_req_wrong_length_refused(void **state)
{
	struct privsep_req r = attach_req("/run/netns/c1");
	char big[sizeof(r) + 64] = { 0 };
	char why[256];

	(void)state;
	assert_int_equal(privsep_req_check(&r, sizeof(r), NULL, why, sizeof(why)), 0);
	assert_int_equal(privsep_req_check(&r, sizeof(r) - 1, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "bytes"));
	assert_int_equal(privsep_req_check(&r, 0, NULL, why, sizeof(why)), -1);
	memcpy(big, &r, sizeof(r));
	assert_int_equal(privsep_req_check(big, sizeof(big), NULL, why, sizeof(why)), -1);
}

static void test_req_unterminated_or_trailing_bytes_refused(void **state)
{
	struct privsep_req r = attach_req("/run/netns/c1");

	(void)state;
	memset(r.path, 'a', sizeof(r.path));
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	/* "/run/netns/c1\0/../../etc": what follows the NUL must be NULs */
	memcpy(r.path + 14, "/../../etc", 10);
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	memset(r.ifname, 'x', sizeof(r.ifname));
	assert_int_equal(check(&r), -1);
}

static void test_req_attach_fields_checked(void **state)
{
	struct privsep_req r;

	(void)state;
	r = attach_req("/etc/shadow");
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	strcpy(r.ifname, "tap%d");
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	strcpy(r.ifname, "..");
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.ifname[0] = '\0';
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.mtu = 70000;
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.mtu = 67;
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.prefix_len = 33;
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.prefix6_len = 0;
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	r.flags |= 1u << 20;
	assert_int_equal(check(&r), -1);
	r = attach_req("/run/netns/c1");
	assert_int_equal(check(&r), 0);
}

static void test_req_capture_name_checked(void **state)
{
	static const char *const bad[] = { "../x", "/etc/passwd", ".hidden", "a/b", "", "a b" };
	struct privsep_req r = { .op = PRIVSEP_CAPTURE_OPEN };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(r.path, 0, sizeof(r.path));
		strcpy(r.path, bad[i]);
		if (!check(&r))
			fail_msg("capture name accepted: '%s'", bad[i]);
	}
	memset(r.path, 0, sizeof(r.path));
	strcpy(r.path, "c1-2026.pcap");
	assert_int_equal(check(&r), 0);
}

static void test_req_unknown_op_and_arguments_refused(void **state)
{
	struct privsep_req r = { .op = 99 };

	(void)state;
	assert_int_equal(check(&r), -1);
	r.op = 0;
	assert_int_equal(check(&r), -1);
	/* CONFIG_OPEN names no file: the helper opens the one given at start, or nothing */
	r.op = PRIVSEP_CONFIG_OPEN;
	assert_int_equal(check(&r), 0);
	strcpy(r.path, "/etc/shadow");
	assert_int_equal(check(&r), -1);
	memset(r.path, 0, sizeof(r.path));
	r.op = PRIVSEP_UNLINK_CONTROL;
	r.flags = 1;
	assert_int_equal(check(&r), -1);
}

/**
 * test_helper_refuses_hostile_requests_and_keeps_serving() - a real helper: a path outside
 * the allowed set and a capture name with a path are answered with an error, not acted on,
 * and it answers the next request
 */
static void test_helper_refuses_hostile_requests_and_keeps_serving(void **state)
{
	static struct config cfg;
	struct link_tap t;
	struct link_cfg lc;
	struct privsep *p;
	char err[512];

	(void)state;
	config_defaults(&cfg);
	cfg.foreground = true;
	snprintf(cfg.capture_dir, sizeof(cfg.capture_dir), "/nonexistent-tapir-test");
	p = privsep_start(&cfg, err, sizeof(err));
	assert_non_null(p);
	link_cfg_defaults(&lc);
	assert_int_equal(privsep_attach(p, &lc, "/etc/passwd", &t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused: namespace path outside"));
	assert_int_equal(privsep_attach(p, &lc, "/run/netns/../../etc/passwd", &t, err,
					sizeof(err)), -1);
	assert_non_null(strstr(err, "refused"));
	assert_int_equal(privsep_capture_open(p, "../../etc/passwd", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refused: capture file name '../../etc/passwd' is a path"));
	/* a well-formed request still gets its own answer: no -c was given */
	assert_int_equal(privsep_config_open(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no configuration file"));
	privsep_stop(p);
}

/**
 * test_helper_killed_by_sigsys_is_named() - a helper its filter killed (SIGSYS): the data
 * path's next requests say so, not "gone" or "Broken pipe"
 */
static void test_helper_killed_by_sigsys_is_named(void **state)
{
	static struct config cfg;
	struct rlimit nocore = { 0, 0 };
	struct privsep *p;
	char err[512];

	(void)state;
	/* SIGSYS dumps core by default: not here */
	assert_int_equal(setrlimit(RLIMIT_CORE, &nocore), 0);
	config_defaults(&cfg);
	cfg.foreground = true;
	p = privsep_start(&cfg, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(kill(privsep_pid(p), SIGSYS), 0);
	assert_int_equal(privsep_config_open(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "privileged helper: killed by SIGSYS"));
	assert_int_equal(privsep_config_open(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "privileged helper: killed by SIGSYS"));
	privsep_stop(p);
}

/**
 * run_under() - fork; the child installs a filter with @install in @mode and runs @fn
 * Return: the child's wait status
 */
static int run_under(int (*install)(enum sandbox_seccomp, char *, size_t),
		     enum sandbox_seccomp mode, void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();
	char err[256];

	assert_true(pid >= 0);
	if (!pid) {
		if (install(mode, err, sizeof(err)))
			_exit(100);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/** run_filtered() - run_under() the data path's filter */
static int run_filtered(enum sandbox_seccomp mode, void (*fn)(void))
{
	return run_under(sandbox_seccomp_datapath, mode, fn);
}

/** run_helper_filtered() - run_under() the privileged helper's filter */
static int run_helper_filtered(enum sandbox_seccomp mode, void (*fn)(void))
{
	return run_under(sandbox_seccomp_helper, mode, fn);
}

static void call_mount(void)
{
	syscall(sandbox_seccomp_denied_example(), "none", "/nonexistent", "tmpfs", 0, NULL);
}

static void call_packet_socket(void)
{
	/* a raw packet socket: a family the data path never opens */
	syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
}

static void call_allowed(void)
{
	char b[1];
	int sv[2];

	/* the loop's and the relays' calls: no kill */
	if (getpid() <= 0 || socket(AF_INET, SOCK_STREAM, 0) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0 || write(sv[0], "x", 1) != 1 ||
	    read(sv[1], b, 1) != 1)
		_exit(3);
}

static void test_seccomp_denied_call_kills_with_sigsys(void **state)
{
	int st;

	(void)state;
	st = run_filtered(SANDBOX_SECCOMP_KILL, call_mount);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
	st = run_filtered(SANDBOX_SECCOMP_KILL, call_packet_socket);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_seccomp_allowed_calls_go_through(void **state)
{
	int st;

	(void)state;
	st = run_filtered(SANDBOX_SECCOMP_KILL, call_allowed);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_seccomp_log_mode_does_not_kill(void **state)
{
	int st;

	(void)state;
	st = run_filtered(SANDBOX_SECCOMP_LOG, call_mount);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void call_inet_socket(void)
{
	/* the helper opens no upstream socket: AF_INET is the data path's alone */
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void call_fionbio(void)
{
	int on = 1;

	/* an ioctl() request outside the TAP's and if_nametoindex()'s */
	syscall(SYS_ioctl, 0, FIONBIO, &on);
}

static void call_setns_user(void)
{
	/* setns() into a user namespace: the helper joins network namespaces only */
	syscall(SYS_setns, -1, CLONE_NEWUSER);
}

static void call_unshare(void)
{
	syscall(SYS_unshare, CLONE_NEWNS);
}

#ifndef TEST_ASAN
static void call_clone_newuser(void)
{
	/* clone() with a new user namespace: not fork()'s flags */
	syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
}

static void call_execve(void)
{
	static char *const argv[] = { "true", NULL };

	syscall(SYS_execve, "/bin/true", argv, NULL);
}
#endif

static void call_helper_allowed(void)
{
	int sv[2], nl, st = -1;
	pid_t pid;

	/* the ATTACH path's calls: a child by fork(), its reply channel, rtnetlink,
	 * if_nametoindex() (an AF_UNIX socket and SIOCGIFINDEX) */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		_exit(3);
	pid = fork();
	if (pid < 0)
		_exit(4);
	if (!pid)
		_exit(if_nametoindex("lo") ? 7 : 8);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		_exit(5);
	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl < 0 || getpid() <= 0)
		_exit(6);
#if defined(SYS_clone3) && !defined(TEST_ASAN)
	/* clone3()'s flags cannot be checked: it fails, so that a C library falls back */
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		_exit(9);
#endif
}

static void test_helper_seccomp_denied_calls_kill_with_sigsys(void **state)
{
	static void (*const calls[])(void) = {
		call_mount, call_packet_socket, call_inet_socket, call_fionbio, call_setns_user,
		call_unshare,
#ifndef TEST_ASAN
		/* an ASan build allows clone() and execve() whole, for its runtime */
		call_clone_newuser, call_execve,
#endif
	};
	unsigned int i;
	int st;

	(void)state;
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		st = run_helper_filtered(SANDBOX_SECCOMP_KILL, calls[i]);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			fail_msg("call %u: status %#x, want SIGSYS", i, (unsigned int)st);
	}
}

static void test_helper_seccomp_allowed_calls_go_through(void **state)
{
	int st;

	(void)state;
	st = run_helper_filtered(SANDBOX_SECCOMP_KILL, call_helper_allowed);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_helper_seccomp_log_and_off_do_not_kill(void **state)
{
	int st;

	(void)state;
	st = run_helper_filtered(SANDBOX_SECCOMP_LOG, call_inet_socket);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	st = run_helper_filtered(SANDBOX_SECCOMP_OFF, call_inet_socket);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_seccomp_mode_names(void **state)
{
	enum sandbox_seccomp m;

	(void)state;
	assert_int_equal(sandbox_seccomp_parse("kill", &m), 0);
	assert_int_equal(m, SANDBOX_SECCOMP_KILL);
	assert_int_equal(sandbox_seccomp_parse("log", &m), 0);
	assert_int_equal(m, SANDBOX_SECCOMP_LOG);
	assert_int_equal(sandbox_seccomp_parse("off", &m), 0);
	assert_int_equal(m, SANDBOX_SECCOMP_OFF);
	assert_int_equal(sandbox_seccomp_parse("trap", &m), -1);
	assert_string_equal(sandbox_seccomp_name(SANDBOX_SECCOMP_LOG), "log");
}

/**
 * test_drop_user_keeps_net_bind_service_only() - as root, a child becomes nobody with
 * CAP_NET_BIND_SERVICE alone (skipped when not root)
 */
static void test_drop_user_keeps_net_bind_service_only(void **state)
{
	int status = 0;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		char err[256];
		uint64_t want = SANDBOX_CAP(CAP_NET_BIND_SERVICE);

		if (sandbox_drop_user(65534, 65534, want, err, sizeof(err)))
			_exit(1);
		if (getuid() != 65534 || geteuid() != 65534 || getgid() != 65534)
			_exit(2);
		if (sandbox_caps_permitted() != want)
			_exit(3);
		/* and it cannot come back */
		if (setuid(0) == 0)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netns_paths_of_the_allowed_shapes_accepted),
		cmocka_unit_test(test_netns_paths_outside_refused),
		cmocka_unit_test(test_netns_path_from_the_configuration_accepted),
		cmocka_unit_test(test_req_wrong_length_refused),
		cmocka_unit_test(test_req_unterminated_or_trailing_bytes_refused),
		cmocka_unit_test(test_req_attach_fields_checked),
		cmocka_unit_test(test_req_capture_name_checked),
		cmocka_unit_test(test_req_unknown_op_and_arguments_refused),
		cmocka_unit_test(test_helper_refuses_hostile_requests_and_keeps_serving),
		cmocka_unit_test(test_helper_killed_by_sigsys_is_named),
		cmocka_unit_test(test_seccomp_denied_call_kills_with_sigsys),
		cmocka_unit_test(test_seccomp_allowed_calls_go_through),
		cmocka_unit_test(test_seccomp_log_mode_does_not_kill),
		cmocka_unit_test(test_helper_seccomp_denied_calls_kill_with_sigsys),
		cmocka_unit_test(test_helper_seccomp_allowed_calls_go_through),
		cmocka_unit_test(test_helper_seccomp_log_and_off_do_not_kill),
		cmocka_unit_test(test_seccomp_mode_names),
		cmocka_unit_test(test_drop_user_keeps_net_bind_service_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
