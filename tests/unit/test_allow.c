/* test_allow.c - the allow-list: loading files (good, empty, duplicates,
 * bad entries, each error at its line), edits in memory, and the atomic save
 * (round trip, mode kept, no temp file left behind on failure). Files live
 * in a mkdtemp directory removed at the end. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/allow.h"
#include "fixture.h"

#define HEX_A "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
#define HEX_B "81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9"
#define HEX_C "4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5"
#define FP_A  "sha256:" HEX_A
#define FP_B  "sha256:" HEX_B
#define FP_C  "sha256:" HEX_C
#define FP_D  "sha256:" "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"

_Static_assert(sizeof(FP_A) == CONF_FP_LEN, "FP_A is 64 hex digits");

struct fixture {
	char dir[FX_DIR_MAX];	/* "/tmp/vpnd-test-allow.XXXXXX" */
	struct cidr net;	/* 10.8.0.0/24 */
};

/* dir/NAME (fx_path: four buffers in turn). */
static const char *path_of(struct fixture *f, const char *name)
{
	return fx_path(f->dir, name);
}

/* Write TEXT to dir/NAME; returns its path. */
static const char *put(struct fixture *f, const char *name, const char *text)
{
	const char *path = path_of(f, name);

	fx_write(path, text);
	return path;
}

/* Every file in the directory counts: a stray temp file fails a test. */
static int count_files(struct fixture *f)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	assert_non_null(dir = opendir(f->dir));
	while ((d = readdir(dir)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (fx_tmpdir(f->dir, sizeof(f->dir), "allow") < 0 ||
	    conf_parse_cidr("10.8.0.0/24", &f->net))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	fx_rmtree(f->dir);
	free(f);
	return 0;
}

/* Load TEXT and expect rc, line and a message containing msg. */
static void expect_err(void **state, const char *text, int rc, int line,
    const char *msg)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	const char *path = put(f, "peers.conf", text);

	assert_int_equal(allow_load(&al, path, &f->net, &err), rc);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
	assert_int_equal(err.line, line);
	assert_string_equal(err.file, path);
	assert_int_equal(al.al_n, 0);
	assert_null(al.al_e);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void test_load_example(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	const char *path = put(f, "peers.conf",
	    "# the SPEC's example\n"
	    "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\"; "
	    "address = \"10.8.0.10\"; },\n"
	    "  { name = \"bob\";   fingerprint = \"" FP_B "\"; }\n"
	    ");\n");

	assert_int_equal(allow_load(&al, path, &f->net, &err), 0);
	assert_int_equal(al.al_n, 2);
	assert_string_equal(al.al_e[0].ae_name, "alice");
	assert_string_equal(al.al_e[0].ae_fp, FP_A);
	assert_true(al.al_e[0].ae_has_addr);
	assert_int_equal(al.al_e[0].ae_addr.s_addr, ip("10.8.0.10").s_addr);
	assert_string_equal(al.al_e[1].ae_name, "bob");
	assert_false(al.al_e[1].ae_has_addr);
	assert_ptr_equal(allow_find_name(&al, "bob"), &al.al_e[1]);
	assert_ptr_equal(allow_find_fp(&al, FP_A), &al.al_e[0]);
	assert_null(allow_find_name(&al, "carol"));
	assert_null(allow_find_fp(&al, FP_C));
	allow_free(&al);
}

static void test_load_empty(void **state)
{
	struct fixture *f = *state;
	static const char *const texts[] = { "", "# nothing yet\n",
	    "peers = ( );\n", NULL };
	struct allow_list al;
	struct conf_err err;

	for (const char *const *t = texts; *t != NULL; t++) {
		assert_int_equal(allow_load(&al, put(f, "peers.conf", *t), NULL,
		    &err), 0);
		assert_int_equal(al.al_n, 0);
		allow_free(&al);
	}
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	char buf[PATH_MAX + 200], want[PATH_MAX + 64];
	const char *path = path_of(f, "absent.conf");

	assert_int_equal(allow_load(&al, path, NULL, &err), -ENOENT);
	assert_int_equal(al.al_n, 0);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(conf_err_str(&err, buf, sizeof(buf)), want);
}

static void test_load_duplicates(void **state)
{
	expect_err(state, "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\"; },\n"
	    "  { name = \"bob\"; fingerprint = \"" FP_B "\"; },\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_C "\"; }\n);\n",
	    -EEXIST, 4, "name: alice is already listed");
	expect_err(state, "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\"; },\n"
	    "  { name = \"bob\";\n"
	    "    fingerprint = \"SHA256:" HEX_A "\"; }\n);\n",
	    -EEXIST, 4, "fingerprint: " FP_A " is already listed");
	expect_err(state, "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\";\n"
	    "    address = \"10.8.0.10\"; },\n"
	    "  { name = \"bob\"; fingerprint = \"" FP_B "\";\n"
	    "    address = \"10.8.0.10\"; }\n);\n",
	    -EEXIST, 5, "address: 10.8.0.10 is already listed");
}

static void test_load_bad_entries(void **state)
{
	expect_err(state, "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\";\n"
	    "    addr = \"10.8.0.10\"; }\n);\n", -EINVAL, 3, "addr: unknown key");
	expect_err(state, "# comment\npeople = ( );\n", -EINVAL, 2,
	    "people: unknown key");
	expect_err(state, "peers = (\n  { name = \"al ice\"; fingerprint = \""
	    FP_A "\"; }\n);\n", -EINVAL, 2, "name: \"al ice\" is not");
	expect_err(state, "peers = (\n  { name = \"alice\";\n"
	    "    fingerprint = \"sha256:abc\"; }\n);\n", -EINVAL, 3,
	    "fingerprint: \"sha256:abc\" is not");
	expect_err(state, "peers = (\n  { name = \"alice\"; }\n);\n", -EINVAL,
	    2, "fingerprint: missing");
	expect_err(state, "peers = (\n  { name = \"alice\"; fingerprint = \""
	    FP_A "\";\n    address = 10; }\n);\n", -EINVAL, 3,
	    "address: expected a string");
	expect_err(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\";\n    address = \"10.8.0.300\"; }\n);\n", -EINVAL, 3,
	    "address: \"10.8.0.300\" is not an IPv4 address");
	expect_err(state, "peers = [ \"alice\" ];\n", -EINVAL, 1,
	    "peers: expected a list");
	expect_err(state, "peers = ( \"alice\" );\n", -EINVAL, 1,
	    "peers: expected a list of");
	expect_err(state, "peers = (\n  { name = ; }\n);\n", -EINVAL,
	    2, "syntax error");
}

static void test_address_outside_net(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	const char *text = "peers = (\n  { name = \"alice\";\n"
	    "    fingerprint = \"" FP_A "\";\n    address = \"10.9.0.5\"; }\n);\n";

	expect_err(state, text, -EINVAL, 4,
	    "address: 10.9.0.5 is outside 10.8.0.0/24");
	assert_int_equal(allow_load(&al, put(f, "peers.conf", text), NULL, &err),
	    0);		/* no network given: no check */
	assert_int_equal(al.al_n, 1);
	allow_free(&al);
	expect_err(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address = \"10.8.0.0\"; }\n);\n", -EINVAL, 2,
	    "address: 10.8.0.0 is the network address of 10.8.0.0/24");
	expect_err(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address = \"10.8.0.1\"; }\n);\n", -EINVAL, 2,
	    "address: 10.8.0.1 is the server's (the first host of 10.8.0.0/24)");
	expect_err(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address = \"10.8.0.255\"; }\n);\n", -EINVAL, 2,
	    "address: 10.8.0.255 is the broadcast address of 10.8.0.0/24");
}

/* The list an edit starts from: alice with a static address, bob without. */
#define LIST_AB "peers = (\n" \
	"  { name = \"alice\"; fingerprint = \"" FP_A "\"; address = \"10.8.0.10\"; },\n" \
	"  { name = \"bob\"; fingerprint = \"" FP_B "\"; }\n"

/* allow_add on LIST_AB loaded, and allow_load of LIST_AB with the same
 * entry appended, agree: same rc, same message; on success the saved list
 * loads back as the file with the entry appended does. */
static void add_vs_load(struct fixture *f, const char *name, const char *fp,
    const char *addr)
{
	struct allow_list al, back;
	struct conf_err err, lerr;
	struct in_addr a;
	char text[1024], saved[8192];
	int rc, lrc;

	if (addr != NULL)
		assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
	snprintf(text, sizeof(text), LIST_AB ",  { name = \"%s\"; fingerprint = "
	    "\"%s\";%s%s%s }\n);\n", name, fp, addr != NULL ? " address = \"" : "",
	    addr != NULL ? addr : "", addr != NULL ? "\";" : "");
	lrc = allow_load(&back, put(f, "as-loaded.conf", text), &f->net, &lerr);
	assert_int_equal(allow_load(&al, put(f, "peers.conf", LIST_AB ");\n"),
	    &f->net, &err), 0);
	memset(&err, 0, sizeof(err));
	rc = allow_add(&al, &f->net, name, fp, addr != NULL ? &a : NULL, &err);
	if (rc != lrc || strcmp(err.msg, lerr.msg) != 0)
		fail_msg("%s %s: add %d \"%s\", load %d \"%s\"", name,
		    addr != NULL ? addr : "-", rc, err.msg, lrc, lerr.msg);
	if (rc < 0) {
		assert_int_equal(al.al_n, 2);	/* the list is unchanged */
		allow_free(&al);
		return;
	}
	assert_int_equal(allow_save(&al, path_of(f, "peers.conf"), &err), 0);
	snprintf(saved, sizeof(saved), "%s", path_of(f, "peers.conf"));
	allow_free(&al);
	assert_int_equal(allow_load(&al, saved, &f->net, &err), 0);
	assert_int_equal(al.al_n, back.al_n);
	for (size_t i = 0; i < al.al_n; i++) {
		assert_string_equal(al.al_e[i].ae_name, back.al_e[i].ae_name);
		assert_string_equal(al.al_e[i].ae_fp, back.al_e[i].ae_fp);
		assert_int_equal(al.al_e[i].ae_has_addr, back.al_e[i].ae_has_addr);
		assert_int_equal(al.al_e[i].ae_addr.s_addr, back.al_e[i].ae_addr.s_addr);
	}
	allow_free(&al);
	allow_free(&back);
}

/* An edit is checked exactly as loading checks the entry: each entry the
 * loader refuses (network, server or broadcast address, outside the
 * network, a name, fingerprint or address listed) is refused with the
 * loader's message, and what is accepted saves as a file that loads. */
static void test_add_checks_as_load(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	char addr[INET_ADDRSTRLEN];

	assert_int_equal(allow_load(&al, put(f, "peers.conf", LIST_AB ");\n"),
	    &f->net, &err), 0);
	assert_int_equal(allow_add(&al, &f->net, "carol", FP_C,
	    &(struct in_addr){ ip("10.8.0.0").s_addr }, &err), -EINVAL);
	assert_string_equal(err.msg, "address: 10.8.0.0 is the network address of 10.8.0.0/24");
	assert_int_equal(allow_add(&al, &f->net, "carol", FP_C,
	    &(struct in_addr){ ip("10.8.0.1").s_addr }, &err), -EINVAL);
	assert_string_equal(err.msg, "address: 10.8.0.1 is the server's "
	    "(the first host of 10.8.0.0/24)");
	assert_int_equal(allow_add(&al, &f->net, "carol", FP_C,
	    &(struct in_addr){ ip("10.8.0.255").s_addr }, &err), -EINVAL);
	assert_string_equal(err.msg, "address: 10.8.0.255 is the broadcast "
	    "address of 10.8.0.0/24");
	assert_int_equal(allow_add(&al, &f->net, "carol", FP_C,
	    &(struct in_addr){ ip("10.9.0.5").s_addr }, &err), -EINVAL);
	assert_string_equal(err.msg, "address: 10.9.0.5 is outside 10.8.0.0/24");
	assert_int_equal(al.al_n, 2);
	allow_free(&al);

	for (unsigned i = 0; i < 256; i++) {	/* every address of the network */
		snprintf(addr, sizeof(addr), "10.8.0.%u", i & 0xff);
		add_vs_load(f, "carol", FP_C, addr);
	}
	add_vs_load(f, "carol", FP_C, "10.7.255.255");
	add_vs_load(f, "carol", FP_C, "10.8.1.0");
	add_vs_load(f, "carol", FP_C, NULL);
	add_vs_load(f, "alice", FP_C, NULL);
	add_vs_load(f, "carol", FP_A, NULL);
	add_vs_load(f, "carol", "SHA256:" HEX_B, "10.8.0.11");
	add_vs_load(f, "carol", FP_C, "10.8.0.10");
	add_vs_load(f, "carol.x", FP_C, NULL);
	add_vs_load(f, "bob", FP_B, "10.8.0.10");
}

static void test_fingerprint(void **state)
{
	static const char *const bad[] = {
		"sha256:" "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e9",
		"sha256:" HEX_A "0",
		"sha256:" "2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e9g",
		HEX_A, "sha1:" HEX_A, "sha256 " HEX_A, " sha256:" HEX_A, "", NULL };
	char out[CONF_FP_LEN];

	(void)state;
	for (const char *const *s = bad; *s != NULL; s++)
		if (fp_normalise(*s, out) != -EINVAL)
			fail_msg("\"%s\" accepted", *s);
	assert_int_equal(fp_normalise("SHA256:2BD806C97F0E00AF1A1FC3328FA"
	    "763A9269723C8DB8FAC4F93AF71DB186D6E90", out), 0);
	assert_string_equal(out, FP_A);
	assert_int_equal(fp_normalise(FP_A, out), 0);
	assert_string_equal(out, FP_A);
}

static void test_uppercase_loaded_lowercase(void **state)
{
	struct fixture *f = *state;
	struct allow_list al;
	struct conf_err err;
	const char *path = put(f, "peers.conf", "peers = ( { name = \"alice\"; "
	    "fingerprint = \"sha256:2BD806C97F0E00AF1A1FC3328FA763A9269723C8DB8"
	    "FAC4F93AF71DB186D6E90\"; } );\n");

	assert_int_equal(allow_load(&al, path, NULL, &err), 0);
	assert_string_equal(al.al_e[0].ae_fp, FP_A);
	assert_non_null(allow_find_fp(&al, "sha256:2BD806C97F0E00AF1A1FC3328FA"
	    "763A9269723C8DB8FAC4F93AF71DB186D6E90"));
	allow_free(&al);
}

static void test_add(void **state)
{
	struct allow_list al = { 0 };
	struct conf_err err;
	struct in_addr a = ip("10.8.0.10"), b = ip("10.8.0.11");

	(void)state;
	assert_int_equal(allow_add(&al, NULL, "alice", FP_A, &a, &err), 0);
	assert_int_equal(allow_add(&al, NULL, "bob", FP_B, NULL, &err), 0);
	assert_int_equal(allow_add(&al, NULL, "alice", FP_C, NULL, &err), -EEXIST);
	assert_string_equal(err.msg, "name: alice is already listed");
	assert_int_equal(allow_add(&al, NULL, "carol", "SHA256:" HEX_B, NULL, &err),
	    -EEXIST);
	assert_string_equal(err.msg, "fingerprint: " FP_B " is already listed");
	assert_int_equal(allow_add(&al, NULL, "carol", FP_C, &a, &err), -EEXIST);
	assert_string_equal(err.msg, "address: 10.8.0.10 is already listed");
	assert_int_equal(allow_add(&al, NULL, "carol/x", FP_C, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "name: \"carol/x\" is not"));
	assert_int_equal(allow_add(&al, NULL, "carol", HEX_C, NULL, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "fingerprint:"));
	assert_int_equal(allow_add(&al, NULL, "carol", FP_C, &b, NULL), 0);
	assert_int_equal(al.al_n, 3);
	assert_int_equal(allow_find_name(&al, "carol")->ae_addr.s_addr, b.s_addr);
	allow_free(&al);
}

/* More entries than the first allocation holds: realloc keeps them. */
static void test_add_many(void **state)
{
	struct allow_list al = { 0 };
	char name[16], fp[CONF_FP_LEN];

	(void)state;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "peer%d", i);
		snprintf(fp, sizeof(fp), "sha256:%064x", i);
		assert_int_equal(allow_add(&al, NULL, name, fp, NULL, NULL), 0);
	}
	assert_int_equal(al.al_n, 100);
	assert_string_equal(allow_find_name(&al, "peer99")->ae_fp,
	    "sha256:" "0000000000000000000000000000000000000000000000000000000000000063");
	allow_free(&al);
}

static void test_remove_and_free(void **state)
{
	struct allow_list al = { 0 };

	(void)state;
	assert_int_equal(allow_remove(&al, "alice"), -ENOENT);
	assert_int_equal(allow_add(&al, NULL, "alice", FP_A, NULL, NULL), 0);
	assert_int_equal(allow_add(&al, NULL, "bob", FP_B, NULL, NULL), 0);
	assert_int_equal(allow_add(&al, NULL, "carol", FP_C, NULL, NULL), 0);
	assert_int_equal(allow_remove(&al, "dave"), -ENOENT);
	assert_int_equal(allow_remove(&al, "bob"), 0);
	assert_int_equal(al.al_n, 2);
	assert_string_equal(al.al_e[0].ae_name, "alice");
	assert_string_equal(al.al_e[1].ae_name, "carol");
	assert_null(allow_find_fp(&al, FP_B));
	allow_free(&al);
	assert_int_equal(al.al_n, 0);
	assert_null(al.al_e);
	assert_int_equal(allow_add(&al, NULL, "bob", FP_B, NULL, NULL), 0);
	allow_free(&al);
	allow_free(&al);
	allow_free(NULL);
}

static void test_name_valid(void **state)
{
	char n63[64], n64[65];

	(void)state;
	memset(n63, 'a', 63);
	n63[63] = '\0';
	memset(n64, 'a', 64);
	n64[64] = '\0';
	assert_true(fp_name_valid("alice"));
	assert_true(fp_name_valid("Alice.Home_2-x"));
	assert_true(fp_name_valid(n63));
	assert_false(fp_name_valid(n64));
	assert_false(fp_name_valid(""));
	assert_false(fp_name_valid(NULL));
	assert_false(fp_name_valid("a b"));
	assert_false(fp_name_valid("a\"b"));
	assert_false(fp_name_valid("a/b"));
	assert_false(fp_name_valid("\xc3\xa9"));
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct allow_list al = { 0 }, back;
	struct conf_err err;
	struct in_addr a = ip("10.8.0.10"), c = ip("10.8.0.200");
	struct stat st;
	char line[128];
	FILE *fp;
	const char *path = path_of(f, "saved.conf");

	assert_int_equal(allow_add(&al, &f->net, "alice", FP_A, &a, &err), 0);
	assert_int_equal(allow_add(&al, &f->net, "bob", FP_B, NULL, &err), 0);
	assert_int_equal(allow_add(&al, &f->net, "carol", FP_C, &c, &err), 0);
	assert_int_equal(allow_save(&al, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(fgets(line, sizeof(line), fp));
	fclose(fp);
	assert_int_equal(line[0], '#');
	assert_non_null(strstr(line, "written by vpnd/vpnctl"));

	assert_int_equal(allow_load(&back, path, &f->net, &err), 0);
	assert_int_equal(back.al_n, al.al_n);
	for (size_t i = 0; i < al.al_n; i++) {
		assert_string_equal(back.al_e[i].ae_name, al.al_e[i].ae_name);
		assert_string_equal(back.al_e[i].ae_fp, al.al_e[i].ae_fp);
		assert_int_equal(back.al_e[i].ae_has_addr, al.al_e[i].ae_has_addr);
		assert_int_equal(back.al_e[i].ae_addr.s_addr,
		    al.al_e[i].ae_addr.s_addr);
	}
	allow_free(&back);

	allow_free(&al);		/* an empty list saves and loads too */
	assert_int_equal(allow_save(&al, path, &err), 0);
	assert_int_equal(allow_load(&back, path, NULL, &err), 0);
	assert_int_equal(back.al_n, 0);
	allow_free(&back);
	unlink(path);
}

static void test_save_keeps_mode(void **state)
{
	struct fixture *f = *state;
	struct allow_list al = { 0 };
	struct conf_err err;
	struct stat st;
	const char *path = put(f, "peers.conf", "peers = ( );\n");
	int before;

	assert_int_equal(chmod(path, 0600), 0);
	before = count_files(f);
	assert_int_equal(allow_add(&al, NULL, "alice", FP_A, NULL, &err), 0);
	assert_int_equal(allow_save(&al, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(count_files(f), before);	/* no temp file left */
	allow_free(&al);
	assert_int_equal(allow_load(&al, path, NULL, &err), 0);
	assert_int_equal(al.al_n, 1);
	allow_free(&al);
}

static void test_save_failure(void **state)
{
	struct fixture *f = *state;
	struct allow_list al = { 0 };
	struct conf_err err;
	char sub[PATH_MAX];
	int before;

	assert_int_equal(allow_add(&al, NULL, "alice", FP_A, NULL, &err), 0);
	assert_int_equal(allow_save(&al, path_of(f, "nodir/peers.conf"), &err),
	    -ENOENT);
	assert_non_null(strstr(err.msg, "cannot create a temp file"));
	assert_int_equal(err.line, 0);

	/* rename() over a non-empty directory fails after the temp file is
	 * written: it must be gone again. */
	snprintf(sub, sizeof(sub), "%s", path_of(f, "sub"));
	assert_int_equal(mkdir(sub, 0755), 0);
	put(f, "sub/x", "x\n");
	before = count_files(f);
	assert_true(allow_save(&al, sub, &err) < 0);
	assert_non_null(strstr(err.msg, "cannot rename the temp file"));
	assert_string_equal(err.file, sub);
	assert_int_equal(count_files(f), before);
	unlink(path_of(f, "sub/x"));
	rmdir(sub);
	allow_free(&al);
}

/* ---- address6 (network6) ---- */

static void expect_err6(void **state, const char *text, int rc, int line,
    const char *msg)
{
	struct fixture *f = *state;
	struct cidr6 net6 = { .plen = 64 };
	struct allow_list al;
	struct conf_err err;
	const char *path = put(f, "peers.conf", text);

	assert_int_equal(inet_pton(AF_INET6, "fd00:8::", &net6.addr), 1);
	assert_int_equal(allow_load6(&al, path, &f->net, &net6, &err), rc);
	if (strstr(err.msg, msg) == NULL)
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
	assert_int_equal(err.line, line);
	assert_int_equal(al.al_n, 0);
}

/* address6 loads and saves (next to address); it must lie in network6,
 * be neither its network address nor the server's ::1, and be unique. */
static void test_address6(void **state)
{
	struct fixture *f = *state;
	struct cidr6 net6 = { .plen = 64 };
	struct allow_list al, back;
	struct conf_err err;
	char a[INET6_ADDRSTRLEN];
	const char *path = put(f, "peers.conf", "peers = (\n"
	    "  { name = \"alice\"; fingerprint = \"" FP_A "\"; address = \"10.8.0.10\";\n"
	    "    address6 = \"fd00:8::a\"; },\n"
	    "  { name = \"bob\"; fingerprint = \"" FP_B "\"; address6 = \"fd00:8::b\"; },\n"
	    "  { name = \"carol\"; fingerprint = \"" FP_C "\"; }\n);\n");

	assert_int_equal(inet_pton(AF_INET6, "fd00:8::", &net6.addr), 1);
	assert_int_equal(allow_load6(&al, path, &f->net, &net6, &err), 0);
	assert_int_equal(al.al_n, 3);
	assert_true(al.al_e[0].ae_has_addr && al.al_e[0].ae_has_addr6);
	assert_string_equal(inet_ntop(AF_INET6, &al.al_e[0].ae_addr6, a, sizeof(a)), "fd00:8::a");
	assert_false(al.al_e[1].ae_has_addr);
	assert_true(al.al_e[1].ae_has_addr6);
	assert_false(al.al_e[2].ae_has_addr6);
	assert_int_equal(allow_save(&al, path_of(f, "out.conf"), &err), 0);
	assert_int_equal(allow_load6(&back, path_of(f, "out.conf"), &f->net, &net6, &err), 0);
	assert_int_equal(back.al_n, 3);
	assert_memory_equal(&back.al_e[1].ae_addr6, &al.al_e[1].ae_addr6, 16);
	assert_false(back.al_e[2].ae_has_addr6);
	allow_free(&back);

	/* an edit runs the same checks: outside, the server's, taken */
	struct in6_addr d;

	assert_int_equal(inet_pton(AF_INET6, "fd00:9::d", &d), 1);
	assert_int_equal(allow_add6(&al, &f->net, &net6, "dave", FP_D, NULL, &d, &err), -EINVAL);
	assert_string_equal(err.msg, "address6: fd00:9::d is outside fd00:8::/64");
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::1", &d), 1);
	assert_int_equal(allow_add6(&al, &f->net, &net6, "dave", FP_D, NULL, &d, &err), -EINVAL);
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::b", &d), 1);
	assert_int_equal(allow_add6(&al, &f->net, &net6, "dave", FP_D, NULL, &d, &err), -EEXIST);
	assert_int_equal(al.al_n, 3);
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::d", &d), 1);
	assert_int_equal(allow_add6(&al, &f->net, &net6, "dave", FP_D,
	    &(struct in_addr){ ip("10.8.0.13").s_addr }, &d, &err), 0);
	assert_int_equal(al.al_n, 4);
	assert_true(al.al_e[3].ae_has_addr && al.al_e[3].ae_has_addr6);
	assert_memory_equal(&al.al_e[3].ae_addr6, &d, 16);
	allow_free(&al);

	expect_err6(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\";\n    address6 = \"fd00:9::5\"; }\n);\n", -EINVAL, 3,
	    "address6: fd00:9::5 is outside fd00:8::/64");
	expect_err6(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address6 = \"fd00:8::1\"; }\n);\n", -EINVAL, 2,
	    "address6: fd00:8::1 is the server's");
	expect_err6(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address6 = \"fd00:8::\"; }\n);\n", -EINVAL, 2,
	    "address6: fd00:8:: is the network address");
	expect_err6(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address6 = \"10.8.0.9\"; }\n);\n", -EINVAL, 2,
	    "address6: \"10.8.0.9\" is not an IPv6 address");
	expect_err6(state, "peers = (\n  { name = \"a\"; fingerprint = \"" FP_A
	    "\"; address6 = \"fd00:8::7\"; },\n  { name = \"b\"; fingerprint = \"" FP_B
	    "\";\n address6 = \"fd00:8::7\"; }\n);\n", -EEXIST, 4,
	    "address6: fd00:8::7 is already listed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address6),
		cmocka_unit_test(test_load_example),
		cmocka_unit_test(test_load_empty),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_duplicates),
		cmocka_unit_test(test_load_bad_entries),
		cmocka_unit_test(test_address_outside_net),
		cmocka_unit_test(test_add_checks_as_load),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_uppercase_loaded_lowercase),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_many),
		cmocka_unit_test(test_remove_and_free),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_save_keeps_mode),
		cmocka_unit_test(test_save_failure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
