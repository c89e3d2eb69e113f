/* include.c - refuse @includes that would kill the process. libconfig 1.5's
 * scanner fopen()s an included name and, when reading it then fails (a
 * directory: EISDIR), flex's fatal-error hook prints "input in flex scanner
 * failed" and calls exit(2): at startup vpnd dies without saying where, and
 * on "vpnctl reload" a hand-edited allow-list takes the running server down.
 * A device or FIFO would block the reader or never end. So the files are
 * read first and scanned with the scanner's include rule
 * (^[ \t]*@include[ \t]+"name"), building the name as it does, and any name
 * that exists but is not a regular file is an error at its line. The walk
 * goes as deep as libconfig does (it gives up at 10 levels of nesting). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/include.h"

#define INCLUDE_MAX_DEPTH 10	/* libconfig 1.5 gives up sooner */

/* Whether an include starts at p (the start of a line), and its name,
 * unescaped into name as the scanner builds it: each run of plain bytes is
 * appended as a C string, so a NUL cuts the run short; \\ and \" are
 * escapes; a lone backslash is dropped; a newline is just a byte. */
static bool include_at(const char *p, const char *end, char *name, size_t cap)
{
	bool cut = false;
	size_t k = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (end - p < 10 || memcmp(p, "@include", 8) != 0 ||
	    (p[8] != ' ' && p[8] != '\t'))
		return false;
	for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p == end || *p++ != '"')
		return false;
	for (; p < end && *p != '"'; p++) {
		if (*p == '\\') {
			if (p + 1 < end && (p[1] == '\\' || p[1] == '"'))
				name[k++] = *++p;
			cut = false;
		} else if (*p == '\0')
			cut = true;
		else if (!cut)
			name[k++] = *p;
		if (k + 1 >= cap)
			return false;	/* too long to name a file */
	}
	name[k] = '\0';
	return p < end;		/* unterminated: libconfig says so */
}

static int refuse(struct conf_err *err, const char *file, int line,
    const char *name, const struct stat *st)
{
	return conf_err_set(err, file, line, S_ISDIR(st->st_mode) ? EISDIR : EINVAL,
	    "@include: \"%.100s\" is %s", name,
	    S_ISDIR(st->st_mode) ? "a directory" : "not a regular file");
}

static int walk(const char *path, const char *dir, int depth,
    struct conf_err *err);

/* Every include in buf (the file at path): refused, or walked into. The
 * scanner sees an include only at the start of a line, but whether it is
 * looking there depends on its state (a string or a comment may have
 * begun on an earlier line), so every line start is tried on its own, even
 * one inside a name tried before: a harmless excess. 0 go on, 1 stop
 * walking, < 0 refused. */
static int scan(const char *buf, size_t len, const char *path,
    const char *dir, int depth, struct conf_err *err)
{
	char name[PATH_MAX], full[PATH_MAX];
	const char *p = buf, *end = buf + len;
	struct stat st;
	int line = 1, rc = 0;

	for (; rc == 0 && p < end; line++) {
		if (include_at(p, end, name, sizeof(name)) &&
		    snprintf(full, sizeof(full), "%s%s%s", dir ? dir : "",
		    dir ? "/" : "", name) < (int)sizeof(full) &&
		    stat(full, &st) == 0)
			rc = S_ISREG(st.st_mode) ? walk(full, dir, depth + 1, err) :
			    refuse(err, path, line, name, &st);
		while (p < end && *p++ != '\n')
			;
	}
	return rc;
}

/* The whole file into *buf (malloc'd) and *len; 0 or -1. */
static int read_all(const char *path, char **buf, size_t *len)
{
	size_t cap = 0, n = 0, got;
	char *b = NULL, *nb;
	int rc = -1;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(b, cap)) == NULL)
				break;
			b = nb;
		}
		if ((got = fread(b + n, 1, cap - n, f)) == 0) {
			rc = ferror(f) ? -1 : 0;
			break;
		}
		n += got;
	}
	fclose(f);
	if (rc < 0) {
		free(b);
		return -1;
	}
	*buf = b;
	*len = n;
	return 0;
}

/* 0 go on, 1 stop walking (libconfig stops there too), < 0 refused. */
static int walk(const char *path, const char *dir, int depth,
    struct conf_err *err)
{
	char *buf;
	size_t len;
	int rc;

	if (depth > INCLUDE_MAX_DEPTH)
		return 1;
	if (read_all(path, &buf, &len) < 0)
		return 0;		/* libconfig will say why */
	rc = scan(buf, len, path, dir, depth, err);
	free(buf);
	return rc;
}

int include_check(const char *path, const char *dir, struct conf_err *err)
{
	struct stat st;
	int rc;

	if (stat(path, &st) < 0)
		return 0;		/* fopen will say why */
	if (S_ISDIR(st.st_mode)) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "%s", strerror(EISDIR));
		return -EISDIR;
	}
	if (!S_ISREG(st.st_mode))
		return 0;		/* a pipe can be read only once: libconfig's */
	rc = walk(path, dir, 0, err);
	return rc < 0 ? rc : 0;
}
