/* fuzz_dtls_msg.c - the server's DTLS data path after decryption: the input
 * is one decrypted record, byte 0 the message type (dchan.h), the rest its
 * payload, dispatched as dchan_deliver -> peer_dc_msg -> peer_data_in do.
 * DATA from the peer at 10.8.0.2 in 10.8.0.0/24 (server 10.8.0.1) goes
 * through filt_from_peer with client_to_client off and on; a packet passed
 * on must land in a valid addr_slot and fit whichever transport carries it
 * to the next hop, a DTLS message or a DATA frame the receiver accepts, or
 * one peer could get another's session closed. filt_tun_dst runs on the
 * same bytes as if they came back from the TUN device. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"
#include "server/filter.h"
#include "tunnel/dchan.h"
#include "tunnel/frame.h"

#define NET    0x0a080000u	/* 10.8.0.0/24 */
#define PLEN   24
#define SERVER 0x0a080001u
#define PEER   0x0a080002u

static uint8_t framed[FRAME_MAX];

/* peer_send: the packet must be one the next hop takes whole. */
static void check_forward(const uint8_t *pkt, size_t len)
{
	struct frame f;

	if (len + 1 > UDP_MSG_MAX)		/* dchan_send's -EMSGSIZE */
		abort();
	if (len > FRAME_DATA_MAX)
		abort();
	frame_put_hdr(framed, FRAME_DATA, len);
	memcpy(framed + FRAME_HDR, pkt, len);
	if (frame_parse(framed, FRAME_HDR + len, &f) != (int)(FRAME_HDR + len) ||
	    f.f_type != FRAME_DATA || f.f_len != len)
		abort();
}

/* peer_data_in with the server's rules r. */
static void data_in(const struct filt_rules *r, const uint8_t *pkt, size_t len)
{
	struct in_addr src = { htonl(PEER) }, dst;
	uint32_t off;

	switch (filt_from_peer(r, src, pkt, len, &dst)) {
	case FILT_TO_TUN:	/* write(tun_fd, pkt, len) */
		if (len > UDP_MSG_MAX)
			abort();
		break;
	case FILT_TO_PEER:	/* addr_slot(s, dst), then peer_send */
		off = ntohl(dst.s_addr) - NET;
		if (off >= 1u << (32 - PLEN) || !r->fr_c2c)
			abort();
		check_forward(pkt, len);
		break;
	case FILT_DROP_ISOLATED:
		if (r->fr_c2c)
			abort();
		break;
	case FILT_DROP_MALFORMED:
	case FILT_DROP_SPOOF:
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct filt_rules r = {
		.fr_net = { { htonl(NET) }, PLEN },
		.fr_server = { htonl(SERVER) },
	};
	struct in_addr dst;

	/* SSL_read fills the scratch buffer (s_pkt, UDP_MSG_MAX) at most */
	if (size > UDP_MSG_MAX)
		size = UDP_MSG_MAX;
	if (size == 0)		/* dchan_deliver drops empty records */
		return 0;
	if (data[0] == DC_DATA && size > 1) {	/* peer_dc_msg */
		r.fr_c2c = false;
		data_in(&r, data + 1, size - 1);
		r.fr_c2c = true;
		data_in(&r, data + 1, size - 1);
	}
	if (filt_tun_dst(data + 1, size - 1, &dst) == 0)	/* srv_tun_read */
		check_forward(data + 1, size - 1);
	return 0;
}
