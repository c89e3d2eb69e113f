/* include.h - a check run before libconfig reads a file: libconfig 1.5
 * exit()s the whole process when an @include names something it cannot
 * read as a file (a directory), so such includes are refused first, as an
 * error with the file and line. Used by conf_load and allow_load. */
#ifndef VPND_INCLUDE_H
#define VPND_INCLUDE_H

#include "conf/err.h"

/* Walk PATH and the files it @includes, resolving names as libconfig will:
 * against DIR (config_set_include_dir), or as written when DIR is NULL.
 * 0, or -EISDIR/-EINVAL with *err when PATH is a directory or an included
 * name exists but is a directory or not a regular file. Names that do not
 * exist or cannot be read, and a PATH that is not a regular file (a pipe is
 * read once, by libconfig), are left alone. */
int include_check(const char *path, const char *dir, struct conf_err *err);

#endif
