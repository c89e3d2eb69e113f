/* fuzz_allow.c - the allow-list: allow_load on an arbitrary file, then the
 * round trip and the edits vpnctl makes. What loads inside 10.8.0.0/24 must
 * load the same without a network (a network only adds checks); what loads
 * must be saved by allow_save and load back entry for entry; then words cut
 * from the input are tried as names and fingerprints with allow_add and
 * allow_remove, whose results are checked against the validators, and the
 * edited list must keep its invariants (valid, no duplicate name,
 * fingerprint or address) and survive another round trip. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/allow.h"
#include "fuzz/fuzz.h"
#include "fuzz/scratch.h"

#define MAX_WORDS 24

static char in_path[PATH_MAX], out_path[PATH_MAX];

const char *__lsan_default_suppressions(void)
{
	return FUZZ_LSAN_LIBCONFIG;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	scratch_path("allow.conf", in_path);
	scratch_path("saved.conf", out_path);
	return 0;
}

static void check_same(const struct allow_list *a, const struct allow_list *b)
{
	if (a->al_n != b->al_n)
		abort();
	for (size_t i = 0; i < a->al_n; i++) {
		const struct allow_entry *x = &a->al_e[i], *y = &b->al_e[i];

		if (strcmp(x->ae_name, y->ae_name) != 0 ||
		    strcmp(x->ae_fp, y->ae_fp) != 0 ||
		    x->ae_has_addr != y->ae_has_addr ||
		    (x->ae_has_addr && x->ae_addr.s_addr != y->ae_addr.s_addr))
			abort();
	}
}

/* What allow.h promises of a list in memory. */
static void check_valid(const struct allow_list *al)
{
	char fp[CONF_FP_LEN];

	if (al->al_n > al->al_cap || (al->al_n > 0 && al->al_e == NULL))
		abort();
	for (size_t i = 0; i < al->al_n; i++) {
		const struct allow_entry *e = &al->al_e[i];

		if (!fp_name_valid(e->ae_name) ||
		    fp_normalise(e->ae_fp, fp) != 0 || strcmp(fp, e->ae_fp) != 0 ||
		    allow_find_name(al, e->ae_name) != e ||
		    allow_find_fp(al, e->ae_fp) != e)
			abort();
		for (size_t j = i + 1; j < al->al_n; j++)
			if (e->ae_has_addr && al->al_e[j].ae_has_addr &&
			    e->ae_addr.s_addr == al->al_e[j].ae_addr.s_addr)
				abort();
	}
}

/* Save al and load it back: the same entries, in the same order. */
static void round_trip(const struct allow_list *al)
{
	struct allow_list back;
	struct conf_err err;

	if (allow_save(al, out_path, &err) != 0 ||
	    allow_load(&back, out_path, NULL, &err) != 0)
		abort();
	check_same(al, &back);
	allow_free(&back);
}

/* The input's words: runs of bytes that are not libconfig punctuation
 * (nor NUL, which strchr finds too). */
static int cut_words(const uint8_t *data, size_t size, char *buf,
    char *words[MAX_WORDS])
{
	int n = 0;
	size_t i = 0, k = 0;

	while (i < size && n < MAX_WORDS) {
		while (i < size && strchr(" \t\r\n\"=;,(){}", data[i]) != NULL)
			i++;
		if (i == size)
			break;
		words[n++] = buf + k;
		while (i < size && strchr(" \t\r\n\"=;,(){}", data[i]) == NULL)
			buf[k++] = (char)data[i++];
		buf[k++] = '\0';
	}
	return n;
}

/* A valid fingerprint made from a word, so that adds get past the check. */
static void fp_from(const char *w, char out[CONF_FP_LEN])
{
	uint32_t h = 2166136261u;
	int i;

	for (; *w != '\0'; w++)
		h = (h ^ (uint8_t)*w) * 16777619u;
	memcpy(out, "sha256:", 7);
	for (i = 0; i < 64; i++)
		out[7 + i] = "0123456789abcdef"[(h >> (i % 8 * 4)) & 0xf];
	out[71] = '\0';
}

static void try_add(struct allow_list *al, const char *name, const char *fp,
    const struct in_addr *addr)
{
	size_t n = al->al_n;
	struct conf_err err = { .line = -1 };
	const struct allow_entry *e;
	char norm[CONF_FP_LEN];
	bool name_ok = fp_name_valid(name);
	bool fp_ok = fp_normalise(fp, norm) == 0;
	bool clash = name_ok && fp_ok && (allow_find_name(al, name) != NULL ||
	    allow_find_fp(al, fp) != NULL);
	int rc;

	for (size_t i = 0; addr != NULL && i < al->al_n; i++)
		if (al->al_e[i].ae_has_addr && al->al_e[i].ae_addr.s_addr == addr->s_addr)
			clash = true;
	rc = allow_add(al, NULL, name, fp, addr, &err);
	if (!name_ok || !fp_ok) {
		if (rc != -EINVAL || al->al_n != n || err.msg[0] == '\0')
			abort();
	} else if (clash) {
		if (rc != -EEXIST || al->al_n != n || err.msg[0] == '\0')
			abort();
	} else {
		if (rc != 0 || al->al_n != n + 1 ||
		    (e = allow_find_name(al, name)) == NULL ||
		    allow_find_fp(al, fp) != e || strcmp(e->ae_fp, norm) != 0 ||
		    e->ae_has_addr != (addr != NULL) ||
		    (addr != NULL && e->ae_addr.s_addr != addr->s_addr))
			abort();
	}
}

static void try_remove(struct allow_list *al, const char *name)
{
	size_t n = al->al_n;
	bool listed = allow_find_name(al, name) != NULL;
	int rc = allow_remove(al, name);

	if (listed ? rc != 0 || al->al_n != n - 1 : rc != -ENOENT || al->al_n != n)
		abort();
	if (allow_find_name(al, name) != NULL)
		abort();
}

static void edit(struct allow_list *al, const uint8_t *data, size_t size)
{
	char *buf, *w[MAX_WORDS], fp[CONF_FP_LEN];
	struct in_addr a;
	int n, i;

	if ((buf = malloc(2 * size + 1)) == NULL)
		abort();
	n = cut_words(data, size, buf, w);
	for (i = 0; i < n; i++) {
		fp_from(w[i], fp);
		a.s_addr = htonl(0x0a080000u | (uint8_t)fp[7 + i % 8]);
		if (i + 1 < n)			/* a word pair as they stand */
			try_add(al, w[i], w[i + 1], NULL);
		try_add(al, w[i], fp, i % 2 ? &a : NULL);
		check_valid(al);
		if (i % 3 == 2)
			try_remove(al, w[i - 1]);
	}
	if (n > 0)
		try_remove(al, w[0]);
	check_valid(al);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct cidr net = { { htonl(0x0a080000u) }, 24 };
	struct allow_list in, any, nothing = { 0 };
	struct conf_err err;
	char p[PATH_MAX];
	int rc, rc_any;

	scratch_write("allow.conf", data, size, p);
	rc = allow_load(&in, in_path, &net, &err);
	rc_any = allow_load(&any, in_path, NULL, &err);
	if (rc == 0) {
		if (rc_any != 0)
			abort();
		check_same(&in, &any);
	}
	allow_free(&in);
	if (rc_any != 0) {
		if (err.msg[0] == '\0' || any.al_n != 0 || any.al_e != NULL)
			abort();	/* a failed load leaves nothing behind */
		any = nothing;
	}
	check_valid(&any);
	round_trip(&any);
	edit(&any, data, size);
	round_trip(&any);
	allow_free(&any);
	return 0;
}
