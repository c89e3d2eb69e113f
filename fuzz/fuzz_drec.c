/* fuzz_drec.c - vpnd records (crypto/drec.c) as a receiver sees them, with
 * fixed AES-256-GCM keys. Byte 0 chooses:
 *
 *   even: the rest is one datagram from the network: drec_open must refuse
 *         it (nobody without the key makes a tag) and never read or write
 *         out of bounds;
 *   odd:  the rest is a run of records, 3 bytes each (sequence number, 16
 *         bits, and a flags byte: bit 0 forges the record by flipping a
 *         byte chosen by bits 1-7), sealed with the sender's key and opened
 *         by the receiver. Each genuine record must open exactly when a
 *         model that remembers every sequence number says it is fresh: not
 *         seen, and less than DREC_WINDOW - 64 behind the highest opened;
 *         a forged one never opens and changes nothing. The payload and
 *         type must come back as sealed, and it must be reported the
 *         newest exactly when no later one has opened. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/drec.h"
#include "fuzz/fuzz.h"

#define MAX_OPS 4096
#define OUT_CAP 9216		/* UDP_DGRAM_MAX, as the channel's scratch */
#define TYPE    1		/* DC_DATA */

static const uint8_t id[DTLS_ID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2 };
static struct drec tx, rx;
static uint8_t out[OUT_CAP];

static uint64_t seen[MAX_OPS];
static size_t nseen;

static bool model_fresh(uint64_t seq, uint64_t last)
{
	size_t i;

	if (seq <= last && last - seq >= DREC_WINDOW - 64)
		return false;
	for (i = 0; i < nseen; i++)
		if (seen[i] == seq)
			return false;
	return true;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t km[2 * 32 + 2 * DREC_IV_LEN];
	size_t i;

	(void)argc;
	(void)argv;
	for (i = 0; i < sizeof(km); i++)
		km[i] = (uint8_t)(i * 37 + 11);
	if (drec_keys(&tx, "AES-256-GCM", km, sizeof(km), false) != 0 ||
	    drec_keys(&rx, "AES-256-GCM", km, sizeof(km), true) != 0)
		abort();
	return 0;
}

static void run_records(const uint8_t *p, size_t n)
{
	uint8_t dg[DREC_OVERHEAD + 8], msg[8], type;
	uint64_t last = 0;
	bool newest;
	size_t i, k;
	int r;

	nseen = 0;
	for (i = 0; i + 3 <= n && nseen < MAX_OPS; i += 3) {
		uint64_t seq = (uint64_t)p[i] << 8 | p[i + 1];
		uint8_t flags = p[i + 2];

		for (k = 0; k < sizeof(msg); k++)
			msg[k] = (uint8_t)(seq >> (k % 2 * 8)) ^ flags;
		tx.dr_tx_seq = seq;
		if (drec_seal(&tx, id, TYPE, msg, sizeof(msg), dg, sizeof(dg)) !=
		    (int)sizeof(dg))
			abort();
		if (flags & 1)
			dg[(flags >> 1) % sizeof(dg)] ^= 0x5a;
		r = drec_open(&rx, dg, sizeof(dg), &type, &newest, out, sizeof(out));
		if (flags & 1) {
			if (r >= 0)
				abort();	/* a forgery opened */
			continue;
		}
		if ((r >= 0) != model_fresh(seq, last))
			abort();	/* the window disagrees with the model */
		if (r < 0)
			continue;
		if (r != (int)sizeof(msg) || type != TYPE || memcmp(out, msg, sizeof(msg)) != 0 ||
		    newest != (seq >= last))
			abort();
		seen[nseen++] = seq;
		if (seq > last)
			last = seq;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t type;
	bool newest;

	if (size == 0)
		return 0;
	rx.dr_rx_last = 0;		/* a fresh window for each input */
	memset(rx.dr_rx_bits, 0, sizeof(rx.dr_rx_bits));
	if ((data[0] & 1) == 0) {
		if (drec_open(&rx, data + 1, size - 1, &type, &newest, out, sizeof(out)) >= 0)
			abort();
		return 0;
	}
	run_records(data + 1, size - 1);
	return 0;
}
