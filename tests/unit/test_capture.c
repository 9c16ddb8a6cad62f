/* test_capture.c - where a capture may write (issue 14, finding 1): a bare name inside the
 * one capture directory, created new, never through a symbolic link, never over a file that
 * exists, never in a directory someone else may write to; and the pcap it writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capture.h"
#include "link.h"
#include "tapird.h"

uint64_t tapird_now_us(void)
{
	return 0;
}

/**
 * struct capfx - a link and a private capture directory @dir (0700, ours) under a fresh
 * temporary directory @top
 */
struct capfx {
	struct link l;
	char top[64];
	char dir[128];
	char err[512];
};

static int cap_setup(void **state)
{
	struct capfx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->l.name, sizeof(f->l.name), "c1");
	snprintf(f->top, sizeof(f->top), "/tmp/thd-capture-test.XXXXXX");
	assert_non_null(mkdtemp(f->top));
	snprintf(f->dir, sizeof(f->dir), "%s/captures", f->top);
	assert_int_equal(mkdir(f->dir, 0700), 0);
	*state = f;
	return 0;
}

static int cap_teardown(void **state)
{
	struct capfx *f = *state;
	char cmd[256];

	if (f->l.capture)
		capture_stop(&f->l, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->top);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/** start() - capture_start() on @f's link in @dir; the error text stays in f->err */
static int start(struct capfx *f, const char *dir, const char *name)
{
	f->err[0] = '\0';
	return capture_start(&f->l, dir, name, -1, 0, 0, f->err, sizeof(f->err));
}

/** expect_refused() - @name in @dir is refused with a message containing @why */
static void expect_refused(struct capfx *f, const char *dir, const char *name, const char *why)
{
	if (start(f, dir, name) == 0)
		fail_msg("capture of '%s' in %s was accepted", name, dir);
	assert_null(f->l.capture);
	if (!strstr(f->err, why))
		fail_msg("capture of '%s': error \"%s\" does not say \"%s\"", name, f->err, why);
}

static void test_capture_refuses_dotdot(void **state)
{
	struct capfx *f = *state;
	char p[256];

	expect_refused(f, f->dir, "../x", "is a path");
	snprintf(p, sizeof(p), "%s/x", f->top);
	assert_int_equal(access(p, F_OK), -1); /* nothing created one level up */
	expect_refused(f, f->dir, "..", "starts with '.'");
	expect_refused(f, f->dir, ".", "starts with '.'");
	expect_refused(f, f->dir, "..x", "starts with '.'");
}

static void test_capture_refuses_absolute_and_nested_paths(void **state)
{
	struct capfx *f = *state;
	char p[256];

	snprintf(p, sizeof(p), "%s/abs.pcap", f->top);
	expect_refused(f, f->dir, p, "is a path");
	assert_int_equal(access(p, F_OK), -1);
	expect_refused(f, f->dir, "/etc/passwd", "is a path");
	expect_refused(f, f->dir, "sub/x.pcap", "is a path");
}

static void test_capture_refuses_bad_names(void **state)
{
	struct capfx *f = *state;
	char longname[CAPTURE_NAME_MAX + 2];

	expect_refused(f, f->dir, "", "is empty");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	expect_refused(f, f->dir, longname, "longer than 128");
	expect_refused(f, f->dir, "a b", "character other than");
	expect_refused(f, f->dir, "a\nb", "character other than");
	longname[CAPTURE_NAME_MAX] = '\0'; /* exactly the bound: fine */
	assert_int_equal(start(f, f->dir, longname), 0);
}

static void test_capture_refuses_existing_file(void **state)
{
	struct capfx *f = *state;
	char p[256], buf[16] = "";
	int fd;

	snprintf(p, sizeof(p), "%s/old.pcap", f->dir);
	fd = open(p, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious", 8), 8);
	close(fd);
	expect_refused(f, f->dir, "old.pcap", "exists already");
	fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, buf, sizeof(buf)), 8); /* neither truncated nor written */
	close(fd);
	assert_string_equal(buf, "precious");
}

static void test_capture_refuses_symlink_file(void **state)
{
	struct capfx *f = *state;
	char p[256], target[256];

	/* a link to a file that does not exist yet: O_CREAT alone would create the target */
	snprintf(target, sizeof(target), "%s/target", f->top);
	snprintf(p, sizeof(p), "%s/evil.pcap", f->dir);
	assert_int_equal(symlink(target, p), 0);
	expect_refused(f, f->dir, "evil.pcap", "exists already");
	assert_int_equal(access(target, F_OK), -1);
}

static void test_capture_refuses_symlinked_dir(void **state)
{
	struct capfx *f = *state;
	char link[256], p[300];

	snprintf(link, sizeof(link), "%s/linked", f->top);
	assert_int_equal(symlink(f->dir, link), 0);
	expect_refused(f, link, "x.pcap", "symbolic link");
	snprintf(p, sizeof(p), "%s/x.pcap", f->dir);
	assert_int_equal(access(p, F_OK), -1);
	/* a link higher up the path is refused as well */
	snprintf(link, sizeof(link), "%s/up", f->top);
	assert_int_equal(symlink(f->top, link), 0);
	snprintf(p, sizeof(p), "%s/up/captures", f->top);
	expect_refused(f, p, "x.pcap", "symbolic link");
}

static void test_capture_refuses_untrusted_dir(void **state)
{
	struct capfx *f = *state;

	assert_int_equal(chmod(f->dir, 0770), 0);
	expect_refused(f, f->dir, "x.pcap", "writable by its group or by others");
	assert_int_equal(chmod(f->dir, 0703), 0);
	expect_refused(f, f->dir, "x.pcap", "writable by its group or by others");
	/* even sticky: the capture directory itself must be ours alone */
	assert_int_equal(chmod(f->dir, 01777), 0);
	expect_refused(f, f->dir, "x.pcap", "writable by its group or by others");
	assert_int_equal(chmod(f->dir, 0700), 0);
	if (geteuid() == 0) {
		/* owned by someone else (nobody): refused when we are root */
		assert_int_equal(chown(f->dir, 65534, 65534), 0);
		expect_refused(f, f->dir, "x.pcap", "not owned by root");
		assert_int_equal(chown(f->dir, 0, 0), 0);
	}
	expect_refused(f, "relative/dir", "x.pcap", "not an absolute path");
	expect_refused(f, "/../tmp", "x.pcap", "'..' component");
}

static void test_capture_makes_missing_dir_0700(void **state)
{
	struct capfx *f = *state;
	char d[256];
	struct stat st;

	snprintf(d, sizeof(d), "%s/new", f->top);
	assert_int_equal(start(f, d, "a.pcap"), 0);
	assert_int_equal(stat(d, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	capture_stop(&f->l, NULL);
	/* only the last component is made: a missing parent is an error */
	snprintf(d, sizeof(d), "%s/no/such", f->top);
	expect_refused(f, d, "a.pcap", "No such file");
}

static void test_capture_good_name_writes_pcap(void **state)
{
	struct capfx *f = *state;
	static const uint8_t frame[60] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1,
					   0x08, 0x06 };
	struct capture_info ci;
	uint8_t hdr[24 + 16];
	char p[256];
	struct stat st;
	uint32_t magic, caplen;
	int fd;

	assert_int_equal(start(f, f->dir, "good-1.pcap"), 0);
	assert_non_null(f->l.capture);
	capture_frame(&f->l, frame, sizeof(frame));
	assert_int_equal(capture_stop(&f->l, &ci), 0);
	snprintf(p, sizeof(p), "%s/good-1.pcap", f->dir);
	assert_string_equal(ci.path, p);
	assert_int_equal(ci.frames, 1);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 24 + 16 + sizeof(frame));
	fd = open(p, O_RDONLY);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), sizeof(hdr));
	close(fd);
	memcpy(&magic, hdr, 4);
	memcpy(&caplen, hdr + 24 + 8, 4);
	assert_int_equal(magic, 0xa1b2c3d4u);
	assert_int_equal(caplen, sizeof(frame));
	/* the same name again: refused, the first capture stays as it was */
	expect_refused(f, f->dir, "good-1.pcap", "exists already");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(st.st_size, 24 + 16 + sizeof(frame));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_capture_refuses_dotdot, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_absolute_and_nested_paths,
						cap_setup, cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_bad_names, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_existing_file, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_symlink_file, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_symlinked_dir, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_refuses_untrusted_dir, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_makes_missing_dir_0700, cap_setup,
						cap_teardown),
		cmocka_unit_test_setup_teardown(test_capture_good_name_writes_pcap, cap_setup,
						cap_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
