/* fuzz_frame.c - the TLS stream's framing: the input is the decrypted byte
 * stream a peer sends. It is read twice the way stream_deliver reads it, once
 * in one piece and once in chunks of varying size through a bounded receive
 * buffer (SSL_read hands over whatever a record held; the buffer of an end
 * that takes GSO frames, STREAM_RX_GSO); both reads must
 * deliver the same frames and stop at the same place, and the buffer must
 * never fill with an incomplete frame. Each frame is then handled the way
 * the client and the server would: every CONFIG payload is decoded, and one
 * that decodes must survive encode -> frame -> parse -> decode unchanged. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/dtls.h"
#include "fuzz/fuzz.h"
#include "tunnel/frame.h"
#include "tunnel/stream.h"

struct seen {			/* one delivered frame */
	size_t   s_off;		/* where its header starts in the stream */
	uint8_t  s_type;
	uint32_t s_len;
};

struct reading {
	const uint8_t *r_in;	/* the whole stream, to check payloads against */
	struct seen   *r_seen;
	size_t         r_n, r_cap;
	int            r_end;	/* 0, or frame_parse's error that ended it */
	size_t         r_end_off;
};

struct rx {			/* stream.c's st_rx and st_rx_len */
	uint8_t buf[STREAM_RX_GSO];
	size_t  len;
	size_t  base;		/* stream offset of buf[0] */
};

static struct rx rx;

static void check_config_round_trip(const struct msg_config *m)
{
	/* decode took at most FRAME_CTRL_MAX bytes; the encoder writes the
	 * version and the timers (11 bytes) where the input had none, which
	 * next to a full load of domains runs past one frame */
	uint8_t enc[FRAME_CTRL_MAX + 16], enc2[sizeof(enc)], framed[FRAME_HDR + FRAME_CTRL_MAX];
	struct msg_config m2;
	struct frame f;
	int n, n2, i;

	if ((n = msg_config_encode(m, enc, sizeof(enc))) <= 0)
		abort();
	if (n <= FRAME_CTRL_MAX) {
		frame_put_hdr(framed, FRAME_CONFIG, (size_t)n);
		memcpy(framed + FRAME_HDR, enc, (size_t)n);
		if (frame_parse(framed, FRAME_HDR + (size_t)n, &f) != FRAME_HDR + n ||
		    f.f_type != FRAME_CONFIG || f.f_len != (uint32_t)n)
			abort();
	}
	if (msg_config_decode(enc, (size_t)n, &m2) != 0)
		abort();
	if (m2.mc_version != m->mc_version ||
	    m2.mc_addr.s_addr != m->mc_addr.s_addr || m2.mc_plen != m->mc_plen ||
	    m2.mc_gateway.s_addr != m->mc_gateway.s_addr ||
	    m2.mc_mtu != m->mc_mtu || m2.mc_keepalive != m->mc_keepalive ||
	    m2.mc_dead_peer_timeout != m->mc_dead_peer_timeout ||
	    m2.mc_nroutes != m->mc_nroutes || m2.mc_ndns != m->mc_ndns ||
	    m2.mc_nsearch != m->mc_nsearch || m2.mc_gso != m->mc_gso ||
	    m2.mc_has6 != m->mc_has6 || (m->mc_has6 &&
	    (memcmp(&m2.mc_addr6, &m->mc_addr6, 16) != 0 || m2.mc_plen6 != m->mc_plen6 ||
	     memcmp(&m2.mc_gateway6, &m->mc_gateway6, 16) != 0 ||
	     m2.mc_nroutes6 != m->mc_nroutes6)))
		abort();
	for (i = 0; m->mc_has6 && i < m->mc_nroutes6; i++)
		if (memcmp(&m2.mc_routes6[i].addr, &m->mc_routes6[i].addr, 16) != 0 ||
		    m2.mc_routes6[i].plen != m->mc_routes6[i].plen)
			abort();
	for (i = 0; i < m->mc_nroutes; i++)
		if (m2.mc_routes[i].addr.s_addr != m->mc_routes[i].addr.s_addr ||
		    m2.mc_routes[i].plen != m->mc_routes[i].plen)
			abort();
	for (i = 0; i < m->mc_ndns; i++)
		if (m2.mc_dns[i].cd_family != m->mc_dns[i].cd_family ||
		    memcmp(m2.mc_dns[i].cd_addr, m->mc_dns[i].cd_addr, 16) != 0)
			abort();
	for (i = 0; i < m->mc_nsearch; i++)
		if (strcmp(m2.mc_search[i], m->mc_search[i]) != 0)
			abort();
	/* and the encoding is canonical: encoding the copy gives the same bytes */
	if ((n2 = msg_config_encode(&m2, enc2, sizeof(enc2))) != n ||
	    memcmp(enc, enc2, (size_t)n) != 0)
		abort();
}

static void on_config(const struct frame *f)
{
	struct msg_config m;
	int i;

	if (msg_config_decode(f->f_payload, f->f_len, &m) != 0)
		return;
	/* what cli_tun_setup relies on */
	if (m.mc_plen < 1 || m.mc_plen > 32 || m.mc_mtu < 576 ||
	    m.mc_mtu > FRAME_DATA_MAX || m.mc_nroutes < 0 ||
	    m.mc_nroutes > CONF_MAX_ROUTES)
		abort();
	for (i = 0; i < m.mc_nroutes; i++)
		if (m.mc_routes[i].plen < 0 || m.mc_routes[i].plen > 32)
			abort();
	/* what cli_tun_setup6 relies on: IPv6 whole or not at all */
	if ((!m.mc_has6 && m.mc_nroutes6 != 0) || (m.mc_has6 &&
	    (m.mc_plen6 < 1 || m.mc_plen6 > 128)) || m.mc_nroutes6 < 0 ||
	    m.mc_nroutes + m.mc_nroutes6 > CONF_MAX_ROUTES)
		abort();
	for (i = 0; i < m.mc_nroutes6; i++)
		if (m.mc_routes6[i].plen < 0 || m.mc_routes6[i].plen > 128)
			abort();
	/* what client/dns.c relies on: bounded lists, one line per domain */
	if (m.mc_ndns < 0 || m.mc_ndns > CONF_MAX_DNS || m.mc_nsearch < 0 ||
	    m.mc_nsearch > CONF_MAX_SEARCH)
		abort();
	for (i = 0; i < m.mc_ndns; i++)
		if (m.mc_dns[i].cd_family != AF_INET && m.mc_dns[i].cd_family != AF_INET6)
			abort();
	for (i = 0; i < m.mc_nsearch; i++)
		if (conf_check_domain(m.mc_search[i]) != 0)
			abort();
	check_config_round_trip(&m);
}

/* One known frame, as peer_on_frame and cli_on_frame take it. */
static void on_frame(const struct frame *f)
{
	char why[FRAME_CTRL_MAX + 32];
	uint8_t id[DTLS_ID_LEN];

	switch (f->f_type) {
	case FRAME_DATA:
		if (f->f_len < 1 || f->f_len > FRAME_DATA_MAX)
			abort();
		break;
	case FRAME_CONFIG:
		if (f->f_len < 1 || f->f_len > FRAME_CTRL_MAX)
			abort();
		on_config(f);
		break;
	case FRAME_KEEPALIVE:
		if (f->f_len != 0)
			abort();
		break;
	case FRAME_DENY:
	case FRAME_BYE:		/* logged as "%.*s" */
		if (f->f_len > FRAME_CTRL_MAX)
			abort();
		snprintf(why, sizeof(why), "closed by peer: %.*s", (int)f->f_len,
		    (const char *)f->f_payload);
		break;
	case FRAME_GSO:		/* sess_deliver_super reads the header, then checks it */
		if (f->f_len < FRAME_GSO_HDR + 20 || f->f_len > FRAME_GSO_MAX)
			abort();
		{
			struct virtio_net_hdr h;
			struct vnet_info vi;

			frame_gso_get(f->f_payload, &h);
			(void)vnet_check(&h, f->f_payload + FRAME_GSO_HDR,
			    f->f_len - FRAME_GSO_HDR, FRAME_DATA_MAX, &vi);
		}
		break;
	case FRAME_CAPS:	/* peer_on_control reads byte 3 */
		if (f->f_len < 4 || f->f_len > FRAME_CTRL_MAX)
			abort();
		break;
	case FRAME_DTLS:	/* cli_dtls_offer takes exactly the id */
		if (f->f_len == DTLS_ID_LEN)
			memcpy(id, f->f_payload, sizeof(id));
		break;
	}
}

static void note(struct reading *r, size_t off, const struct frame *f, int n)
{
	if ((size_t)n != FRAME_HDR + (size_t)f->f_len ||
	    memcmp(f->f_payload, r->r_in + off + FRAME_HDR, f->f_len) != 0)
		abort();
	if (r->r_n == r->r_cap)
		abort();	/* a frame takes 4 bytes at least */
	r->r_seen[r->r_n++] = (struct seen){ off, f->f_type, f->f_len };
}

/* stream_deliver: every complete frame in rx, unknown types skipped, then
 * the remainder kept. Returns -1 once the stream has failed. */
static int deliver(struct reading *r)
{
	struct frame f;
	size_t off = 0;
	int n;

	while ((n = frame_parse(rx.buf + off, rx.len - off, &f)) > 0) {
		if (f.f_payload != rx.buf + off + FRAME_HDR)
			abort();
		note(r, rx.base + off, &f, n);
		off += (size_t)n;
		if (f.f_type >= FRAME_DATA && f.f_type <= FRAME_LAST)
			on_frame(&f);
		else if (f.f_len > FRAME_CTRL_MAX)
			abort();
	}
	if (n < 0) {
		if (n != -EPROTO && n != -EMSGSIZE)
			abort();
		r->r_end = n;
		r->r_end_off = rx.base + off;
		return -1;
	}
	memmove(rx.buf, rx.buf + off, rx.len - off);
	rx.len -= off;
	rx.base += off;
	/* what is left is one incomplete frame, so the next read has room */
	if (rx.len >= FRAME_HDR + FRAME_GSO_MAX)
		abort();
	return 0;
}

/* Feed the stream in chunks; chunk sizes follow a fixed pattern from 1 byte
 * up to whole records, so a header or payload is split at every point. */
static void read_stream(struct reading *r, const uint8_t *data, size_t size,
    bool chunked)
{
	static const size_t pattern[] = { 1, 3, 2, 7, 1, 64, 5, 1500, 4, 16384 };
	size_t pos = 0, k = 0, want;

	rx.len = rx.base = 0;
	while (pos < size) {
		want = chunked ? pattern[k++ % (sizeof(pattern) / sizeof(pattern[0]))] :
		    size - pos;
		if (want > size - pos)
			want = size - pos;
		if (want > sizeof(rx.buf) - rx.len)	/* SSL_read's limit */
			want = sizeof(rx.buf) - rx.len;
		memcpy(rx.buf + rx.len, data + pos, want);
		rx.len += want;
		pos += want;
		if (deliver(r) < 0)
			return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = size / FRAME_HDR + 1;
	struct reading a = { .r_in = data, .r_cap = cap };
	struct reading b = { .r_in = data, .r_cap = cap };

	if ((a.r_seen = calloc(cap, sizeof(*a.r_seen))) == NULL ||
	    (b.r_seen = calloc(cap, sizeof(*b.r_seen))) == NULL)
		abort();
	read_stream(&a, data, size, false);
	read_stream(&b, data, size, true);
	if (a.r_n != b.r_n || a.r_end != b.r_end ||
	    (a.r_end != 0 && a.r_end_off != b.r_end_off))
		abort();
	for (size_t i = 0; i < a.r_n; i++)
		if (a.r_seen[i].s_off != b.r_seen[i].s_off ||
		    a.r_seen[i].s_type != b.r_seen[i].s_type ||
		    a.r_seen[i].s_len != b.r_seen[i].s_len)
			abort();
	free(a.r_seen);
	free(b.r_seen);
	return 0;
}
