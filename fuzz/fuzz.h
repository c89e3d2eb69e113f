/* fuzz.h - the entry points libFuzzer calls in each harness (fuzz_*.c), one
 * harness per parser; declared here because -Wmissing-prototypes wants a
 * prototype before each definition. */
#ifndef VPND_FUZZ_H
#define VPND_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Once, before the first input; a harness that needs no set-up omits it. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* One input (size bytes; data is exactly that long, so ASan sees an
 * over-read). Returns 0; an invariant that fails calls abort(). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LeakSanitizer's built-in suppressions, for harnesses that parse with
 * libconfig: see FUZZ_LSAN_LIBCONFIG. */
const char *__lsan_default_suppressions(void);

/* libconfig 1.5 leaks the string token it was building or had just made
 * when a syntax error follows ('a "x";', 'a = """;'): its bug, not ours
 * (a plain config_read + config_destroy leaks the same), reported at
 * strbuf_append and in its scanner. A missing config_destroy would still
 * show: the tree's root is allocated in config_init. */
#define FUZZ_LSAN_LIBCONFIG "leak:strbuf_append\nleak:libconfig_yylex\n"

#endif
