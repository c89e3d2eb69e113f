/* test_afile.c - the atomic file writer: the new file gets the mode asked
 * for whatever the umask, or the old file's mode with keep_mode; the content
 * is replaced byte for byte; no temp file survives a success or a failure;
 * afile_clean removes exactly the ".NAME.vpnd-XXXXXX" temp files of NAME.
 * Each test works in a fresh directory under /tmp made by the fixture. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "conf/afile.h"
#include "fixture.h"

struct fixture {
	char   dir[FX_DIR_MAX];
	mode_t umask_was;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (fx_tmpdir(f->dir, sizeof(f->dir), "afile") < 0) {
		free(f);
		return -1;
	}
	f->umask_was = umask(022);
	umask(f->umask_was);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = fx_rmtree(f->dir);

	umask(f->umask_was);
	free(f);
	return rc;
}

static void assert_dir(const char *dir, const char *want)
{
	char got[1024];

	fx_list_dir(dir, got, sizeof(got));
	assert_string_equal(got, want);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* PATH holds exactly LEN bytes of WANT. */
static void assert_content(const char *path, const void *want, size_t len)
{
	char buf[8192];
	FILE *fp;
	size_t n;

	assert_true(len < sizeof(buf));
	assert_non_null(fp = fopen(path, "rb"));
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	assert_int_equal(n, len);
	assert_memory_equal(buf, want, len);
}

static void write_ok(const char *path, const char *text, mode_t mode, bool keep)
{
	const char *what = NULL;

	assert_int_equal(afile_write(path, text, strlen(text), mode, keep, &what), 0);
}

static void test_new_file_gets_mode_whatever_the_umask(void **state)
{
	struct fixture *f = *state;
	const char *p = fx_path(f->dir, "a");

	umask(0077);		/* would make 0644 into 0600 */
	write_ok(p, "one\n", 0644, false);
	assert_int_equal(mode_of(p), 0644);
	umask(0);		/* would leave mkstemp's 0600 */
	write_ok(fx_path(f->dir, "b"), "two\n", 0640, false);
	assert_int_equal(mode_of(fx_path(f->dir, "b")), 0640);
	umask(0777);		/* would make 0600 into 0000 */
	write_ok(fx_path(f->dir, "c"), "three\n", 0600, false);
	assert_int_equal(mode_of(fx_path(f->dir, "c")), 0600);
	assert_dir(f->dir, "a b c");
}

static void test_mode_replaces_old_mode_without_keep(void **state)
{
	struct fixture *f = *state;
	const char *p = fx_path(f->dir, "leases");

	fx_write(p, "old\n");
	assert_int_equal(chmod(p, 0644), 0);
	write_ok(p, "new\n", 0600, false);
	assert_int_equal(mode_of(p), 0600);
}

static void test_keep_mode(void **state)
{
	struct fixture *f = *state;
	const char *p = fx_path(f->dir, "peers.conf");
	const char *q = fx_path(f->dir, "fresh.conf");

	fx_write(p, "old\n");
	assert_int_equal(chmod(p, 0640), 0);
	umask(0077);
	write_ok(p, "new\n", 0644, true);
	assert_int_equal(mode_of(p), 0640);
	assert_content(p, "new\n", 4);

	/* setgid and sticky bits are part of the mode kept */
	assert_int_equal(chmod(p, 02604), 0);
	write_ok(p, "newer\n", 0644, true);
	assert_int_equal(mode_of(p), 02604);

	/* nothing to keep: the mode given */
	write_ok(q, "x\n", 0604, true);
	assert_int_equal(mode_of(q), 0604);
}

static void test_content_replaced_exactly(void **state)
{
	struct fixture *f = *state;
	const char *p = fx_path(f->dir, "data");
	static const unsigned char bin[] = { 0, 1, 2, '\n', 0xff, 0, 'x', 0x80 };
	char big[5000];
	const char *what;

	memset(big, 'b', sizeof(big));
	fx_write(p, "a much longer old content that must not show through\n");
	assert_int_equal(afile_write(p, big, sizeof(big), 0600, false, &what), 0);
	assert_content(p, big, sizeof(big));
	assert_int_equal(afile_write(p, bin, sizeof(bin), 0600, false, &what), 0);
	assert_content(p, bin, sizeof(bin));
	assert_int_equal(afile_write(p, "", 0, 0600, false, &what), 0);
	assert_content(p, "", 0);
	assert_dir(f->dir, "data");
}

/* Watch DIR for files created in it. */
static int watch(const char *dir)
{
	int fd;

	assert_true((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0);
	assert_true(inotify_add_watch(fd, dir, IN_CREATE) >= 0);
	return fd;
}

/* The name of the file created in the watched directory whose name starts
 * with PREFIX, into out ("" if none); closes fd. */
static void created(int fd, const char *prefix, char out[NAME_MAX + 1])
{
	union {
		struct inotify_event ev;
		char                 buf[4096];
	} u;
	const struct inotify_event *ev;
	ssize_t n, off;

	out[0] = '\0';
	n = read(fd, u.buf, sizeof(u.buf));
	close(fd);
	for (off = 0; off < n; off += (ssize_t)sizeof(*ev) + ev->len) {
		ev = (const void *)(u.buf + off);
		if (ev->len > 0 && strncmp(ev->name, prefix, strlen(prefix)) == 0)
			snprintf(out, NAME_MAX + 1, "%s", ev->name);
	}
}

/* A name without a directory is relative to the working directory, and
 * so is its temp file. */
static void test_relative_path(void **state)
{
	struct fixture *f = *state;
	char cwd[PATH_MAX], tmp[NAME_MAX + 1];
	int fd;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	fd = watch(f->dir);
	write_ok("rel", "here\n", 0600, false);
	assert_int_equal(chdir(cwd), 0);
	created(fd, ".rel.vpnd-", tmp);
	assert_int_equal(strlen(tmp), strlen(".rel.vpnd-XXXXXX"));
	assert_content(fx_path(f->dir, "rel"), "here\n", 5);
	assert_dir(f->dir, "rel");
}

static void test_missing_directory(void **state)
{
	struct fixture *f = *state;
	const char *what = NULL;

	assert_int_equal(afile_write(fx_path(f->dir, "nodir/file"), "x", 1, 0600,
	    false, &what), -ENOENT);
	assert_non_null(what);
	assert_string_equal(what, "cannot create a temp file");
	assert_dir(f->dir, "");
}

/* rename() onto a directory fails after the temp file is written and
 * synced: the temp file goes, the directory stays as it was. */
static void test_rename_onto_directory(void **state)
{
	struct fixture *f = *state;
	const char *what = NULL;
	const char *sub = fx_path(f->dir, "sub");

	assert_int_equal(mkdir(sub, 0755), 0);
	fx_write(fx_path(f->dir, "sub/keep"), "k\n");
	assert_int_equal(afile_write(sub, "x", 1, 0600, false, &what), -EISDIR);
	assert_non_null(what);
	assert_string_equal(what, "cannot rename the temp file");
	assert_dir(f->dir, "sub");
	assert_dir(sub, "keep");

	/* an empty directory too */
	assert_int_equal(mkdir(fx_path(f->dir, "empty"), 0755), 0);
	assert_int_equal(afile_write(fx_path(f->dir, "empty"), "x", 1, 0600, false,
	    &what), -EISDIR);
	assert_string_equal(what, "cannot rename the temp file");
	assert_dir(f->dir, "empty sub");
}

static void test_path_too_long(void **state)
{
	struct fixture *f = *state;
	char p[PATH_MAX + 16];
	const char *what = NULL;

	/* fits PATH_MAX itself, but not with ".vpnd-XXXXXX" added */
	snprintf(p, sizeof(p), "%s/", f->dir);
	memset(p + strlen(p), 'n', PATH_MAX - 4 - strlen(p));
	p[PATH_MAX - 4] = '\0';
	assert_int_equal(afile_write(p, "x", 1, 0600, false, &what), -ENAMETOOLONG);
	assert_string_equal(what, "path too long");
	assert_dir(f->dir, "");
}

struct seen {
	int  n;
	char names[8][PATH_MAX];
};

static void on_removed(void *arg, const char *name)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->names[s->n++], PATH_MAX, "%s", name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_clean_removes_only_temp_files(void **state)
{
	struct fixture *f = *state;
	static const char *const keep[] = {
		"peers.conf", ".peers.conf.backup", ".peers.conf.vpnd-12345",
		".peers.conf.vpnd-1234567", ".other.conf.vpnd-AbC123",
		"peers.conf.vpnd-AbC123", ".peers.conf.vpnd.AbC123", ".peers.con.vpnd-AbC123",
	};
	struct seen s = { 0 };
	size_t i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		fx_write(fx_path(f->dir, keep[i]), "keep\n");
	fx_write(fx_path(f->dir, ".peers.conf.vpnd-AbC123"), "temp\n");
	fx_write(fx_path(f->dir, ".peers.conf.vpnd-zz9ZZ0"), "temp\n");
	afile_clean(fx_path(f->dir, "peers.conf"), on_removed, &s);
	assert_int_equal(s.n, 2);
	qsort(s.names, (size_t)s.n, sizeof(s.names[0]), cmp_str);
	assert_string_equal(s.names[0], fx_path(f->dir, ".peers.conf.vpnd-AbC123"));
	assert_string_equal(s.names[1], fx_path(f->dir, ".peers.conf.vpnd-zz9ZZ0"));
	assert_dir(f->dir, ".other.conf.vpnd-AbC123 .peers.con.vpnd-AbC123 "
	    ".peers.conf.backup .peers.conf.vpnd-12345 .peers.conf.vpnd-1234567 "
	    ".peers.conf.vpnd.AbC123 peers.conf peers.conf.vpnd-AbC123");

	/* nothing left to remove: no callback */
	afile_clean(fx_path(f->dir, "peers.conf"), on_removed, &s);
	assert_int_equal(s.n, 2);
}

static void test_clean_without_callback_and_missing_dir(void **state)
{
	struct fixture *f = *state;

	fx_write(fx_path(f->dir, ".leases.vpnd-q1w2e3"), "temp\n");
	afile_clean(fx_path(f->dir, "leases"), NULL, NULL);
	assert_dir(f->dir, "");
	afile_clean(fx_path(f->dir, "nodir/leases"), NULL, NULL);
	assert_dir(f->dir, "");
}

/* The temp file afile_write makes (seen with inotify) is beside the file
 * and has a name afile_clean matches: a crashed write's leftover would be
 * found. */
static void test_clean_matches_the_temp_name_write_uses(void **state)
{
	struct fixture *f = *state;
	char tmp[NAME_MAX + 1];
	struct seen s = { 0 };
	const char *p = fx_path(f->dir, "state");
	int fd;

	fd = watch(f->dir);
	write_ok(p, "v1\n", 0600, false);
	created(fd, ".state.vpnd-", tmp);
	assert_int_equal(strlen(tmp), strlen(".state.vpnd-XXXXXX"));
	assert_dir(f->dir, "state");

	fx_write(fx_path(f->dir, tmp), "partial");
	afile_clean(p, on_removed, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], fx_path(f->dir, tmp));
	assert_dir(f->dir, "state");
	assert_content(p, "v1\n", 3);
}

/* A name with glob metacharacters is still matched literally: its own
 * temp files go, another file's stay. */
static void test_clean_name_with_glob_characters(void **state)
{
	struct fixture *f = *state;
	struct seen s = { 0 };
	char got[1024];

	fx_write(fx_path(f->dir, "peers[1].conf"), "keep\n");
	fx_write(fx_path(f->dir, ".peers[1].conf.vpnd-AbC123"), "temp\n");
	fx_write(fx_path(f->dir, ".peers1.conf.vpnd-AbC123"), "other's\n");
	afile_clean(fx_path(f->dir, "peers[1].conf"), on_removed, &s);
	fx_list_dir(f->dir, got, sizeof(got));
	assert_string_equal(got, ".peers1.conf.vpnd-AbC123 peers[1].conf");
	assert_int_equal(s.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new_file_gets_mode_whatever_the_umask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_replaces_old_mode_without_keep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_content_replaced_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relative_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rename_onto_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_removes_only_temp_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_without_callback_and_missing_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_matches_the_temp_name_write_uses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clean_name_with_glob_characters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
