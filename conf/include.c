/* include.c - refuse @includes that would kill the process. libconfig 1.5's
 * scanner fopen()s an included name and, when reading it then fails (a
 * directory: EISDIR), flex's fatal-error hook prints "input in flex scanner
 * failed" and calls exit(2): at startup vpnd dies without saying where, and
 * on "vpnctl reload" a hand-edited allow-list takes the running server down.
 * A device or FIFO would block the reader or never end. So the files are
 * walked first, line by line, matching the scanner's include rule
 * (^[ \t]*@include[ \t]+"name", with \\ and \" escapes), and any name that
 * exists but is not a regular file is an error at its line. The walk stops
 * where libconfig stops, at 10 levels of nesting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf/include.h"

#define INCLUDE_MAX_DEPTH 10	/* libconfig 1.5's MAX_INCLUDE_DEPTH */

/* The name in an include line, unescaped into name; false if no include. */
static bool include_name(const char *line, char *name, size_t cap)
{
	size_t k = 0;

	line += strspn(line, " \t");
	if (strncmp(line, "@include", 8) != 0 || strspn(line + 8, " \t") == 0)
		return false;
	line += 8 + strspn(line + 8, " \t");
	if (*line++ != '"')
		return false;
	for (; *line != '"'; line++) {
		if (*line == '\0' || *line == '\n' || k + 1 >= cap)
			return false;	/* unterminated: libconfig reports it */
		if (line[0] == '\\' && (line[1] == '\\' || line[1] == '"'))
			line++;
		name[k++] = *line;
	}
	name[k] = '\0';
	return true;
}

static int refuse(struct conf_err *err, const char *file, int line,
    const char *name, const struct stat *st)
{
	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	snprintf(err->msg, sizeof(err->msg), "@include: \"%.100s\" is %s", name,
	    S_ISDIR(st->st_mode) ? "a directory" : "not a regular file");
	return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
}

/* 0 go on, 1 stop walking (libconfig stops there too), < 0 refused. */
static int walk(const char *path, const char *dir, int depth,
    struct conf_err *err)
{
	char name[PATH_MAX], full[PATH_MAX];
	char *line = NULL;
	size_t cap = 0;
	struct stat st;
	int n = 0, rc = 0;
	FILE *f;

	if (depth > INCLUDE_MAX_DEPTH)
		return 1;
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		n++;
		if (!include_name(line, name, sizeof(name)))
			continue;
		if (snprintf(full, sizeof(full), "%s%s%s", dir ? dir : "",
		    dir ? "/" : "", name) >= (int)sizeof(full) ||
		    stat(full, &st) < 0)
			continue;
		if (!S_ISREG(st.st_mode))
			rc = refuse(err, path, n, name, &st);
		else
			rc = walk(full, dir, depth + 1, err);
	}
	free(line);
	fclose(f);
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
