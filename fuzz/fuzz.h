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

#endif
