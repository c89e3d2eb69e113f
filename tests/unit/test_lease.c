/* test_lease.c - the lease file: owners saved from one pool come back in a
 * new pool (a restart), malformed or refused lines are skipped and counted,
 * a missing file is an empty one, and saving is atomic (no temp file left,
 * mode 0600, the old file intact when the write fails). Each test works in a
 * fresh directory under /tmp made by the fixture. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "server/lease.h"
#include "server/pool.h"
#include "fixture.h"

#define FP(hex2) "sha256:" hex2 \
	"00000000000000000000000000000000000000000000000000000000000000"
#define FP_ALICE FP("a1")
#define FP_BOB   FP("b0")
#define FP_CAROL FP("ca")
#define FP_DAVE  FP("da")

struct dir {
	char d_path[FX_DIR_MAX];	/* the directory */
	char d_file[PATH_MAX];		/* d_path/leases */
};

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static struct pool *pool_24(void)
{
	struct cidr c = { .addr = ip("10.8.0.0"), .plen = 24 };
	struct pool *p = NULL;

	assert_int_equal(pool_new(&p, &c), 0);
	return p;
}

static void assert_lease(struct pool *p, const char *fp, const char *want)
{
	struct in_addr a;
	char got[INET_ADDRSTRLEN];

	assert_int_equal(pool_lease(p, fp, &a), 0);
	assert_non_null(inet_ntop(AF_INET, &a, got, sizeof(got)));
	assert_string_equal(got, want);
}

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	if (fx_tmpdir(d->d_path, sizeof(d->d_path), "lease") < 0) {
		free(d);
		return -1;
	}
	snprintf(d->d_file, sizeof(d->d_file), "%s/" LEASE_FILE, d->d_path);
	*state = d;
	return 0;
}

/* Remove the directory and whatever a test left in it. */
static int teardown(void **state)
{
	struct dir *d = *state;

	fx_rmtree(d->d_path);
	free(d);
	return 0;
}

/* Save two owners, load them into a new pool: each gets its address back,
 * whoever asks first, and a newcomer gets neither. */
static void test_lease_round_trip(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24(), *q;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease(p, FP_BOB, "10.8.0.3");
	pool_release(p, FP_ALICE);
	assert_int_equal(lease_save(p, d->d_file), 0);
	pool_free(p);

	q = pool_24();
	assert_int_equal(lease_load(q, d->d_file), 0);
	assert_false(pool_changed(q));		/* loading is not a change */
	assert_lease(q, FP_CAROL, "10.8.0.4");
	assert_lease(q, FP_BOB, "10.8.0.3");
	assert_lease(q, FP_ALICE, "10.8.0.2");
	pool_free(q);
}

/* The file is the header comment and one line per owner, address order;
 * lease_render + lease_write write the same as lease_save. */
static void test_lease_render_is_the_file(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24();
	char *buf, got[1024];
	size_t len;
	FILE *f;

	assert_int_equal(pool_remember(p, ip("10.8.0.77"), FP_DAVE), 0);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_non_null(buf = lease_render(p, &len));
	assert_int_equal(len, strlen(buf));
	assert_non_null(strstr(buf, "\n" FP_ALICE " 10.8.0.2\n"
	    FP_DAVE " 10.8.0.77\n"));
	assert_int_equal(buf[0], '#');
	assert_int_equal(lease_write(d->d_file, buf, len), 0);
	assert_non_null(f = fopen(d->d_file, "r"));
	assert_int_equal(fread(got, 1, sizeof(got), f), len);
	fclose(f);
	assert_memory_equal(got, buf, len);
	free(buf);
	pool_free(p);
}

/* Every bad line is skipped and counted; good lines around them load.
 * Lines the pool refuses (outside the network, the server's address)
 * count as skipped too. */
static void test_lease_malformed_lines_skipped_and_counted(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "\n"
	    "   \t  \n"
	    "  # indented comment\n"
	    FP("a1") " 10.8.0.20\n"				/* good */
	    "\t" FP("B0") "\t 10.8.0.30  \r\n"			/* good, any case */
	    FP("ca") "\n"					/* no address */
	    FP("ca") " 10.8.0.40 extra\n"			/* extra field */
	    FP("ca") " 10.8.0.300\n"				/* bad address */
	    FP("ca") " 10.8.0\n"				/* bad address */
	    FP("ca") " 10.8.0.40 # note\n"			/* extra field */
	    "sha256:ca00 10.8.0.40\n"				/* short fp */
	    FP("zz") " 10.8.0.40\n"				/* not hex */
	    "md5:" FP("ca") " 10.8.0.40\n"			/* prefix */
	    FP("ca") " 10.9.0.40\n"				/* outside */
	    FP("ca") " 10.8.0.1\n"				/* server's */
	    FP("ca") " 10.8.0.40";				/* good, no \n */
	struct dir *d = *state;
	struct pool *p = pool_24();

	fx_write_buf(d->d_file, text, sizeof(text) - 1);
	assert_int_equal(lease_load(p, d->d_file), 10);
	assert_lease(p, FP_DAVE, "10.8.0.2");
	assert_lease(p, FP_ALICE, "10.8.0.20");
	assert_lease(p, FP_BOB, "10.8.0.30");
	assert_lease(p, FP_CAROL, "10.8.0.40");
	pool_free(p);
}

/* A NUL byte hides the rest of the line from string functions: the line
 * is malformed, not read as the part before it. */
static void test_lease_line_with_nul_is_malformed(void **state)
{
	static const char text[] = FP("a1") " 10.8.0.20\0junk\n"
	    FP("b0") " 10.8.0.30\n";
	struct dir *d = *state;
	struct pool *p = pool_24();

	fx_write_buf(d->d_file, text, sizeof(text) - 1);
	assert_int_equal(lease_load(p, d->d_file), 1);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease(p, FP_BOB, "10.8.0.30");
	pool_free(p);
}

static void test_lease_missing_file_is_empty(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24();

	assert_int_equal(lease_load(p, d->d_file), 0);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	/* Something there that cannot be read is an error, not "empty". */
	assert_int_equal(mkdir(d->d_file, 0700), 0);
	assert_int_equal(lease_load(p, d->d_file), -EISDIR);
	pool_free(p);
}

/* Saving leaves only the file, mode 0600 whatever the umask and whatever
 * the mode of the file it replaces. */
static void test_lease_save_is_atomic_and_0600(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24();
	struct stat st;
	char names[256];
	mode_t old;

	fx_write_buf(d->d_file, "# old\n", 6);
	assert_int_equal(chmod(d->d_file, 0666), 0);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	old = umask(0277);		/* mkstemp alone would make it 0400 */
	assert_int_equal(lease_save(p, d->d_file), 0);
	umask(old);
	assert_int_equal(stat(d->d_file, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	fx_list_dir(d->d_path, names, sizeof(names));
	assert_string_equal(names, LEASE_FILE);
	assert_int_equal(lease_save(p, d->d_file), 0);
	fx_list_dir(d->d_path, names, sizeof(names));
	assert_string_equal(names, LEASE_FILE);
	pool_free(p);
}

/* A failed save returns -errno and leaves no temp file: here the rename
 * fails because a directory is in the way; a missing directory fails at
 * the start. */
static void test_lease_failed_save_leaves_no_temp(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24();
	char names[256], path[PATH_MAX];

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_int_equal(mkdir(d->d_file, 0700), 0);
	assert_int_equal(lease_save(p, d->d_file), -EISDIR);
	fx_list_dir(d->d_path, names, sizeof(names));
	assert_string_equal(names, LEASE_FILE);
	snprintf(path, sizeof(path), "%s/none/" LEASE_FILE, d->d_path);
	assert_int_equal(lease_save(p, path), -ENOENT);
	assert_int_equal(lease_write(path, "", 0), -ENOENT);
	pool_free(p);
}

/* What tells the server to save: a new owner, not a fingerprint coming
 * back to its own address, and not the load itself. */
static void test_lease_changed_semantics(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24(), *q = pool_24();

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_true(pool_changed(p));
	assert_int_equal(lease_save(p, d->d_file), 0);
	pool_clear_changed(p);
	pool_release(p, FP_ALICE);
	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_false(pool_changed(p));

	assert_int_equal(lease_load(q, d->d_file), 0);
	assert_false(pool_changed(q));
	assert_lease(q, FP_ALICE, "10.8.0.2");	/* its old one, restarted */
	assert_false(pool_changed(q));
	assert_lease(q, FP_BOB, "10.8.0.3");
	assert_true(pool_changed(q));
	pool_free(p);
	pool_free(q);
}

/* Loading into a pool with live state: a reserved address (for another
 * fingerprint) or one in use is not taken over; those lines are skipped. */
static void test_lease_load_refuses_reserved_and_in_use(void **state)
{
	static const char text[] = FP("a1") " 10.8.0.2\n"
	    FP("b0") " 10.8.0.3\n" FP("ca") " 10.8.0.4\n"
	    FP("e1") " 10.8.0.6\n";
	struct dir *d = *state;
	struct pool *p = pool_24();
	struct in_addr a;

	assert_int_equal(pool_reserve(p, ip("10.8.0.2"), FP_DAVE), 0);
	assert_int_equal(pool_remember(p, ip("10.8.0.9"), FP_DAVE), 0);
	assert_lease(p, FP_DAVE, "10.8.0.2");		/* reserved wins */
	assert_int_equal(pool_reserve(p, ip("10.8.0.4"), FP_CAROL), 0);
	assert_int_equal(pool_reserve(p, ip("10.8.0.6"), FP("f4")), 0);
	fx_write_buf(d->d_file, text, sizeof(text) - 1);
	assert_int_equal(lease_load(p, d->d_file), 2);	/* .2 and .6 */
	assert_int_equal(pool_lease(p, FP_DAVE, &a), -EBUSY);
	assert_lease(p, FP_BOB, "10.8.0.3");
	assert_lease(p, FP_CAROL, "10.8.0.4");
	assert_lease(p, FP_ALICE, "10.8.0.5");
	pool_free(p);
}

/* ---- network6: IPv6 owners in the same file ---- */

static struct pool6 *pool6_64(void)
{
	struct cidr6 c = { .plen = 64 };
	struct pool6 *p = NULL;

	assert_int_equal(inet_pton(AF_INET6, "fd00:8::", &c.addr), 1);
	assert_int_equal(pool6_new(&p, &c), 0);
	return p;
}

static void assert_lease6(struct pool6 *p, const char *fp, const char *want)
{
	struct in6_addr a;
	char got[INET6_ADDRSTRLEN];

	assert_int_equal(pool6_lease(p, fp, &a), 0);
	assert_string_equal(inet_ntop(AF_INET6, &a, got, sizeof(got)), want);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

/* One file holds both: the IPv4 lines, then one IPv6 line per network6
 * owner; loading gives each fingerprint both addresses back. */
static void test_lease6_round_trip_one_file(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24(), *q;
	struct pool6 *p6 = pool6_64(), *q6;
	char *buf;
	size_t len;

	assert_lease(p, FP_ALICE, "10.8.0.2");
	assert_lease6(p6, FP_BOB, "fd00:8::2");
	assert_lease6(p6, FP_ALICE, "fd00:8::3");
	assert_non_null(buf = lease_render6(p, p6, &len));
	assert_non_null(strstr(buf, "\n" FP_ALICE " 10.8.0.2\n" FP_BOB " fd00:8::2\n"
	    FP_ALICE " fd00:8::3\n"));
	assert_int_equal(lease_write(d->d_file, buf, len), 0);
	free(buf);
	pool_free(p);
	pool6_free(p6);

	q = pool_24();
	q6 = pool6_64();
	assert_int_equal(lease_load6(q, q6, d->d_file), 0);
	assert_false(pool6_changed(q6));
	assert_lease6(q6, FP_CAROL, "fd00:8::4");
	assert_lease6(q6, FP_ALICE, "fd00:8::3");
	assert_lease6(q6, FP_BOB, "fd00:8::2");
	assert_lease(q, FP_ALICE, "10.8.0.2");
	pool_free(q);
	pool6_free(q6);
}

/* A file from before network6 (IPv4 lines only) loads as it did; IPv6
 * lines without a pool6 (network6 removed), or outside network6, are
 * skipped and counted, and the old lease_load skips them too. */
static void test_lease6_old_files_and_skips(void **state)
{
	struct dir *d = *state;
	struct pool *p = pool_24();
	struct pool6 *p6 = pool6_64();

	write_file(d->d_file, FP_ALICE " 10.8.0.9\n");
	assert_int_equal(lease_load6(p, p6, d->d_file), 0);
	assert_lease(p, FP_ALICE, "10.8.0.9");
	assert_lease6(p6, FP_ALICE, "fd00:8::2");
	pool_free(p);
	pool6_free(p6);

	p = pool_24();
	p6 = pool6_64();
	write_file(d->d_file, FP_ALICE " 10.8.0.9\n" FP_BOB " fd00:8::7\n"
	    FP_CAROL " fd00:9::7\n" FP_DAVE " fd00:8::1\n");
	assert_int_equal(lease_load6(p, p6, d->d_file), 2);
	assert_lease6(p6, FP_BOB, "fd00:8::7");
	assert_int_equal(lease_load6(p, NULL, d->d_file), 3);
	assert_int_equal(lease_load(p, d->d_file), 3);
	pool_free(p);
	pool6_free(p6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease_render_is_the_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_malformed_lines_skipped_and_counted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_line_with_nul_is_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_missing_file_is_empty,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_save_is_atomic_and_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_failed_save_leaves_no_temp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_changed_semantics,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_lease_load_refuses_reserved_and_in_use, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lease6_round_trip_one_file,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease6_old_files_and_skips,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
