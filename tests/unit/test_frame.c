/* test_frame.c - stream framing and the CONFIG message. Frames and TLVs are
 * built byte by byte here, not with the code under test, so a parser that
 * agrees with a wrong encoder still fails. Every input is network input:
 * each truncation point and each out-of-range length is tried. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "tunnel/frame.h"

/* TLV types from docs/protocol.md, spelled out independently of frame.c. */
enum { T_VERSION = 1, T_ADDR = 2, T_GATEWAY = 3, T_MTU = 4, T_ROUTE = 5,
       T_KEEPALIVE = 6, T_DEAD = 7 };

/* A frame header written by hand: type, flags, big-endian length. */
static void hdr(uint8_t *out, uint8_t type, uint8_t flags, size_t len)
{
	out[0] = type;
	out[1] = flags;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)(len & 0xff);
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 31);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* frame_parse on a heap copy of exactly n bytes, so that ASan catches a
 * read past the length it was given. */
static int parse_exact(const uint8_t *buf, size_t n, struct frame *f)
{
	uint8_t *p = NULL;
	int r;

	if (n > 0) {
		assert_non_null(p = malloc(n));
		memcpy(p, buf, n);
	}
	r = frame_parse(p, n, f);
	free(p);
	return r;
}

/* ---- frame_parse ---- */

static void test_frame_parse_complete_data(void **state)
{
	uint8_t buf[FRAME_HDR + 100];
	struct frame f;

	(void)state;
	hdr(buf, FRAME_DATA, 0, 100);
	fill(buf + FRAME_HDR, 100, 7);
	memset(&f, 0, sizeof(f));
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), FRAME_HDR + 100);
	assert_int_equal(f.f_type, FRAME_DATA);
	assert_int_equal(f.f_len, 100);
	assert_ptr_equal(f.f_payload, buf + FRAME_HDR);
}

/* Every prefix of a valid frame asks for more; the whole frame parses. */
static void test_frame_parse_needs_more_at_every_truncation(void **state)
{
	static const size_t lens[] = { 1, 2, 255, 256, 1500, FRAME_DATA_MAX };
	static uint8_t buf[FRAME_MAX];
	struct frame f;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		hdr(buf, FRAME_DATA, 0, lens[i]);
		fill(buf + FRAME_HDR, lens[i], (unsigned)i);
		for (n = 0; n < FRAME_HDR + lens[i]; n++)
			assert_int_equal(parse_exact(buf, n, &f), 0);
		assert_int_equal(frame_parse(buf, FRAME_HDR + lens[i], &f),
		    (int)(FRAME_HDR + lens[i]));
		assert_int_equal(f.f_len, lens[i]);
	}
	/* An empty frame: only the header's own truncations. */
	hdr(buf, FRAME_KEEPALIVE, 0, 0);
	for (n = 0; n < FRAME_HDR; n++)
		assert_int_equal(parse_exact(buf, n, &f), 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), FRAME_HDR);
	assert_int_equal(f.f_type, FRAME_KEEPALIVE);
	assert_int_equal(f.f_len, 0);
}

/* Trailing bytes beyond one frame are not consumed. */
static void test_frame_parse_two_frames_back_to_back(void **state)
{
	uint8_t buf[2 * FRAME_HDR + 10 + 3];
	struct frame f;
	int n;

	(void)state;
	hdr(buf, FRAME_DATA, 0, 10);
	fill(buf + FRAME_HDR, 10, 1);
	hdr(buf + FRAME_HDR + 10, FRAME_BYE, 0, 3);
	memcpy(buf + 2 * FRAME_HDR + 10, "bye", 3);

	n = frame_parse(buf, sizeof(buf), &f);
	assert_int_equal(n, FRAME_HDR + 10);
	assert_int_equal(f.f_type, FRAME_DATA);
	assert_int_equal(f.f_len, 10);
	assert_ptr_equal(f.f_payload, buf + FRAME_HDR);

	assert_int_equal(frame_parse(buf + n, sizeof(buf) - (size_t)n, &f),
	    FRAME_HDR + 3);
	assert_int_equal(f.f_type, FRAME_BYE);
	assert_int_equal(f.f_len, 3);
	assert_memory_equal(f.f_payload, "bye", 3);
	/* The second frame cut short still asks for more. */
	assert_int_equal(frame_parse(buf + n, sizeof(buf) - (size_t)n - 1, &f), 0);
}

/* Any flag bit is a protocol error, known the moment the header is in. */
static void test_frame_parse_flags_set_is_eproto(void **state)
{
	uint8_t buf[FRAME_HDR + 8];
	struct frame f;
	unsigned bit;

	(void)state;
	for (bit = 0; bit < 8; bit++) {
		hdr(buf, FRAME_DATA, (uint8_t)(1u << bit), 8);
		fill(buf + FRAME_HDR, 8, bit);
		assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EPROTO);
		assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EPROTO);
	}
	hdr(buf, FRAME_KEEPALIVE, 0xff, 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EPROTO);
}

static void test_frame_parse_zero_length_data_is_eproto(void **state)
{
	uint8_t buf[FRAME_HDR + 4] = { 0 };
	struct frame f;

	(void)state;
	hdr(buf, FRAME_DATA, 0, 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EPROTO);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EPROTO);
	hdr(buf, FRAME_CONFIG, 0, 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EPROTO);
}

/* A DATA frame may be as long as the largest MTU and no longer; the
 * oversize is caught from the header, without waiting for the payload. */
static void test_frame_parse_data_size_limit(void **state)
{
	static uint8_t buf[FRAME_MAX + 1];
	struct frame f;

	(void)state;
	hdr(buf, FRAME_DATA, 0, FRAME_DATA_MAX);
	assert_int_equal(frame_parse(buf, FRAME_MAX, &f), FRAME_MAX);
	assert_int_equal(f.f_len, FRAME_DATA_MAX);

	hdr(buf, FRAME_DATA, 0, FRAME_DATA_MAX + 1);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EMSGSIZE);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EMSGSIZE);
	hdr(buf, FRAME_DATA, 0, 0xffff);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EMSGSIZE);
}

static void test_frame_parse_keepalive_with_payload_is_eproto(void **state)
{
	uint8_t buf[FRAME_HDR + 1] = { 0 };
	struct frame f;

	(void)state;
	hdr(buf, FRAME_KEEPALIVE, 0, 1);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EPROTO);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EPROTO);
}

/* Control frames: up to FRAME_CTRL_MAX; DENY and BYE may be empty. */
static void test_frame_parse_control_size_limit(void **state)
{
	static const uint8_t types[] = { FRAME_CONFIG, FRAME_DENY, FRAME_BYE };
	static uint8_t buf[FRAME_HDR + FRAME_CTRL_MAX + 1];
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		hdr(buf, types[i], 0, FRAME_CTRL_MAX);
		assert_int_equal(frame_parse(buf, FRAME_HDR + FRAME_CTRL_MAX, &f),
		    FRAME_HDR + FRAME_CTRL_MAX);
		assert_int_equal(f.f_type, types[i]);
		hdr(buf, types[i], 0, FRAME_CTRL_MAX + 1);
		assert_int_equal(frame_parse(buf, FRAME_HDR, &f), -EMSGSIZE);
		assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EMSGSIZE);
	}
	hdr(buf, FRAME_BYE, 0, 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), FRAME_HDR);
	hdr(buf, FRAME_DENY, 0, 0);
	assert_int_equal(frame_parse(buf, FRAME_HDR, &f), FRAME_HDR);
}

/* Unknown types come back as they are, for the caller to skip, within the
 * control size limit. */
static void test_frame_parse_unknown_type_returned_as_is(void **state)
{
	static const uint8_t types[] = { 0, FRAME_BYE + 1, 0x7f, 0xff };
	static uint8_t buf[FRAME_HDR + FRAME_CTRL_MAX + 1];
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		hdr(buf, types[i], 0, 5);
		memcpy(buf + FRAME_HDR, "hello", 5);
		assert_int_equal(frame_parse(buf, FRAME_HDR + 5, &f), FRAME_HDR + 5);
		assert_int_equal(f.f_type, types[i]);
		assert_int_equal(f.f_len, 5);
		assert_memory_equal(f.f_payload, "hello", 5);
		assert_int_equal(frame_parse(buf, FRAME_HDR + 4, &f), 0);
		hdr(buf, types[i], 0, 0);
		assert_int_equal(frame_parse(buf, FRAME_HDR, &f), FRAME_HDR);
		hdr(buf, types[i], 0, FRAME_CTRL_MAX + 1);
		assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EMSGSIZE);
	}
}

static void test_frame_put_hdr_is_big_endian(void **state)
{
	uint8_t buf[FRAME_HDR];
	const uint8_t want[FRAME_HDR] = { FRAME_DATA, 0, 0x23, 0x28 };
	const uint8_t want_max[FRAME_HDR] = { 0x42, 0, 0xff, 0xff };

	(void)state;
	memset(buf, 0xaa, sizeof(buf));
	frame_put_hdr(buf, FRAME_DATA, FRAME_DATA_MAX);	/* 9000 = 0x2328 */
	assert_memory_equal(buf, want, FRAME_HDR);
	frame_put_hdr(buf, 0x42, 0xffff);
	assert_memory_equal(buf, want_max, FRAME_HDR);
}

/* ---- GSO and CAPS frames ---- */

/* GSO frames take the flags byte as length bits 16-23, up to
 * FRAME_GSO_MAX; other types still refuse any flag (above). */
static void test_frame_gso_lengths(void **state)
{
	static uint8_t buf[FRAME_HDR + FRAME_GSO_MAX + 1];
	struct frame f;
	size_t n;

	(void)state;
	for (n = FRAME_GSO_HDR + 20; n <= FRAME_GSO_MAX; n += n < 300 ? 1 : 4093) {
		frame_put_hdr(buf, FRAME_GSO, n);
		assert_int_equal(buf[1], n >> 16);
		assert_int_equal(frame_parse(buf, FRAME_HDR + n, &f), (int)(FRAME_HDR + n));
		assert_int_equal(f.f_type, FRAME_GSO);
		assert_int_equal(f.f_len, n);
		assert_int_equal(frame_parse(buf, FRAME_HDR + n - 1, &f), 0);	/* more */
	}
	frame_put_hdr(buf, FRAME_GSO, FRAME_GSO_MAX);
	assert_int_equal(parse_exact(buf, FRAME_HDR + FRAME_GSO_MAX, &f), (int)(FRAME_HDR + FRAME_GSO_MAX));
	frame_put_hdr(buf, FRAME_GSO, FRAME_GSO_MAX + 1);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EMSGSIZE);
	frame_put_hdr(buf, FRAME_GSO, FRAME_GSO_HDR + 19);	/* no room for a TCP/IP header */
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EPROTO);
	frame_put_hdr(buf, FRAME_DATA, 0x10000);		/* DATA: no bit 16 */
	assert_int_equal(buf[1], 0);
	hdr(buf, FRAME_CAPS, 0, 3);
	assert_int_equal(frame_parse(buf, sizeof(buf), &f), -EPROTO);
	hdr(buf, FRAME_CAPS, 0, 4);
	assert_int_equal(frame_parse(buf, FRAME_HDR + 4, &f), FRAME_HDR + 4);
}

static void test_frame_gso_header_round_trip(void **state)
{
	struct virtio_net_hdr in = { .flags = 1, .gso_type = 1, .hdr_len = 0x1234,
	    .gso_size = 0x0568, .csum_start = 20, .csum_offset = 16 }, out;
	uint8_t w[FRAME_GSO_HDR];

	(void)state;
	frame_gso_put(w, &in);
	assert_memory_equal(w, "\x01\x01\x12\x34\x05\x68\x00\x14\x00\x10", FRAME_GSO_HDR);
	memset(&out, 0xaa, sizeof(out));
	frame_gso_get(w, &out);
	assert_memory_equal(&in, &out, sizeof(in));
}

/* CONFIG's GSO flag: encoded only when set, any length taken. */
static void test_config_gso_flag(void **state)
{
	struct msg_config m = { .mc_version = 1, .mc_plen = 24, .mc_mtu = 1400 }, d;
	uint8_t buf[FRAME_CTRL_MAX];
	int n, k;

	(void)state;
	m.mc_addr = ip("10.8.0.7");
	m.mc_gateway = ip("10.8.0.1");
	assert_true((n = msg_config_encode(&m, buf, sizeof(buf))) > 0);
	assert_int_equal(msg_config_decode(buf, (size_t)n, &d), 0);
	assert_false(d.mc_gso);
	m.mc_gso = true;
	assert_int_equal(k = msg_config_encode(&m, buf, sizeof(buf)), n + 2);
	assert_int_equal(msg_config_decode(buf, (size_t)k, &d), 0);
	assert_true(d.mc_gso);
	buf[k - 1] = 3;			/* a later version's parameters */
	memset(buf + k, 0, 3);
	assert_int_equal(msg_config_decode(buf, (size_t)k + 3, &d), 0);
	assert_true(d.mc_gso);
}

/* ---- CONFIG ---- */

static void config_sample(struct msg_config *m, int nroutes)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->mc_version = FRAME_VERSION;
	m->mc_addr = ip("10.8.0.10");
	m->mc_plen = 24;
	m->mc_gateway = ip("10.8.0.1");
	m->mc_mtu = 1420;
	m->mc_keepalive = 10;
	m->mc_dead_peer_timeout = 30;
	for (i = 0; i < nroutes; i++) {
		/* 0.0.0.0/0, then distinct /32s, /16s ... */
		m->mc_routes[i].plen = i == 0 ? 0 : 8 + i % 25;
		m->mc_routes[i].addr.s_addr = i == 0 ? 0 :
		    htonl(0xc0000000u | (uint32_t)i << 8);
	}
	m->mc_nroutes = nroutes;
}

static void config_round_trip(int nroutes)
{
	struct msg_config in, out;
	uint8_t buf[FRAME_CTRL_MAX];
	int n, i;

	config_sample(&in, nroutes);
	n = msg_config_encode(&in, buf, sizeof(buf));
	assert_in_range(n, 1, FRAME_CTRL_MAX);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(msg_config_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.mc_version, in.mc_version);
	assert_int_equal(out.mc_addr.s_addr, in.mc_addr.s_addr);
	assert_int_equal(out.mc_plen, in.mc_plen);
	assert_int_equal(out.mc_gateway.s_addr, in.mc_gateway.s_addr);
	assert_int_equal(out.mc_mtu, in.mc_mtu);
	assert_int_equal(out.mc_keepalive, in.mc_keepalive);
	assert_int_equal(out.mc_dead_peer_timeout, in.mc_dead_peer_timeout);
	assert_int_equal(out.mc_nroutes, nroutes);
	for (i = 0; i < nroutes; i++) {
		assert_int_equal(out.mc_routes[i].addr.s_addr,
		    in.mc_routes[i].addr.s_addr);
		assert_int_equal(out.mc_routes[i].plen, in.mc_routes[i].plen);
	}
}

static void test_config_round_trip_no_routes(void **state)
{
	(void)state;
	config_round_trip(0);
}

/* The most routes a server may push still fit one control frame. */
static void test_config_round_trip_max_routes(void **state)
{
	(void)state;
	config_round_trip(CONF_MAX_ROUTES);
}

/* Every buffer shorter than the message is refused; the exact size works. */
static void test_config_encode_enospc_on_small_buffer(void **state)
{
	struct msg_config m;
	uint8_t buf[FRAME_CTRL_MAX];
	size_t cap;
	int n;

	(void)state;
	config_sample(&m, 3);
	n = msg_config_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
	for (cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(msg_config_encode(&m, buf, cap), -ENOSPC);
	assert_int_equal(msg_config_encode(&m, buf, (size_t)n), n);
}

/* A hand-built TLV list. */
struct tlvbuf {
	uint8_t b[FRAME_CTRL_MAX];
	size_t  len;
};

static void put(struct tlvbuf *t, uint8_t type, const void *v, uint8_t l)
{
	assert_true(t->len + 2 + l <= sizeof(t->b));
	t->b[t->len] = type;
	t->b[t->len + 1] = l;
	if (l > 0)
		memcpy(t->b + t->len + 2, v, l);
	t->len += 2 + (size_t)l;
}

static void put_pfx(struct tlvbuf *t, uint8_t type, const char *a, int plen)
{
	uint8_t v[5];
	struct in_addr in = ip(a);

	memcpy(v, &in.s_addr, 4);
	v[4] = (uint8_t)plen;
	put(t, type, v, 5);
}

static void put_u16(struct tlvbuf *t, uint8_t type, unsigned v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)(v & 0xff) };

	put(t, type, b, 2);
}

static void put_gw(struct tlvbuf *t, const char *a)
{
	struct in_addr in = ip(a);

	put(t, T_GATEWAY, &in.s_addr, 4);
}

/* The required TLVs: address, gateway, MTU. */
static void put_required(struct tlvbuf *t, int plen, unsigned mtu)
{
	put_pfx(t, T_ADDR, "10.8.0.7", plen);
	put_gw(t, "10.8.0.1");
	put_u16(t, T_MTU, mtu);
}

/* msg_config_decode on a heap copy of exactly len bytes (see parse_exact). */
static int decode_exact(const uint8_t *b, size_t len, struct msg_config *m)
{
	uint8_t *p = NULL;
	int r;

	if (len > 0) {
		assert_non_null(p = malloc(len));
		memcpy(p, b, len);
	}
	r = msg_config_decode(p, len, m);
	free(p);
	return r;
}

static int decode(const struct tlvbuf *t)
{
	struct msg_config m;

	return decode_exact(t->b, t->len, &m);
}

/* A message cut anywhere inside a TLV is refused; cut at a TLV boundary it
 * is a shorter message, valid once address, gateway and MTU are in. */
static void test_config_decode_truncated_tlv_at_every_length(void **state)
{
	struct tlvbuf t = { .len = 0 };
	struct msg_config m;
	size_t bounds[8], nb = 0, n, k, required;
	bool at_bound;

	(void)state;
	put_required(&t, 24, 1400);
	required = t.len;
	bounds[nb++] = t.len;
	put_pfx(&t, T_ROUTE, "192.168.0.0", 16);
	bounds[nb++] = t.len;
	put(&t, 99, "abc", 3);
	bounds[nb++] = t.len;
	put_u16(&t, T_KEEPALIVE, 5);
	bounds[nb++] = t.len;

	for (n = 0; n < t.len; n++) {
		at_bound = false;
		for (k = 0; k < nb; k++)
			at_bound |= bounds[k] == n;
		if (n >= required && at_bound)
			assert_int_equal(decode_exact(t.b, n, &m), 0);
		else
			assert_int_equal(decode_exact(t.b, n, &m), -EPROTO);
	}
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_nroutes, 1);
	assert_int_equal(m.mc_keepalive, 5);
}

static void test_config_decode_requires_addr_mtu_gateway(void **state)
{
	struct tlvbuf t;

	(void)state;
	memset(&t, 0, sizeof(t));			/* no address */
	put_gw(&t, "10.8.0.1");
	put_u16(&t, T_MTU, 1400);
	assert_int_equal(decode(&t), -EPROTO);

	memset(&t, 0, sizeof(t));			/* no MTU */
	put_pfx(&t, T_ADDR, "10.8.0.7", 24);
	put_gw(&t, "10.8.0.1");
	assert_int_equal(decode(&t), -EPROTO);

	memset(&t, 0, sizeof(t));			/* no gateway */
	put_pfx(&t, T_ADDR, "10.8.0.7", 24);
	put_u16(&t, T_MTU, 1400);
	assert_int_equal(decode(&t), -EPROTO);

	memset(&t, 0, sizeof(t));			/* all three, any order */
	put_u16(&t, T_MTU, 1400);
	put_gw(&t, "10.8.0.1");
	put_pfx(&t, T_ADDR, "10.8.0.7", 24);
	assert_int_equal(decode(&t), 0);

	memset(&t, 0, sizeof(t));
	assert_int_equal(decode(&t), -EPROTO);		/* empty */
}

static void test_config_decode_addr_prefix_length(void **state)
{
	static const struct { int plen; int want; } cases[] = {
		{ 0, -EPROTO }, { 1, 0 }, { 24, 0 }, { 32, 0 }, { 33, -EPROTO },
		{ 255, -EPROTO },
	};
	struct tlvbuf t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&t, 0, sizeof(t));
		put_required(&t, cases[i].plen, 1400);
		assert_int_equal(decode(&t), cases[i].want);
	}
}

/* A route may be the default route (/0) but no longer than /32. */
static void test_config_decode_route_prefix_length(void **state)
{
	struct tlvbuf t;

	(void)state;
	memset(&t, 0, sizeof(t));
	put_required(&t, 24, 1400);
	put_pfx(&t, T_ROUTE, "0.0.0.0", 0);
	put_pfx(&t, T_ROUTE, "192.0.2.1", 32);
	assert_int_equal(decode(&t), 0);
	put_pfx(&t, T_ROUTE, "192.0.2.0", 33);
	assert_int_equal(decode(&t), -EPROTO);
}

static void test_config_decode_too_many_routes(void **state)
{
	struct msg_config m;
	struct tlvbuf t;
	int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	put_required(&t, 24, 1400);
	for (i = 0; i < CONF_MAX_ROUTES; i++)
		put_pfx(&t, T_ROUTE, "10.0.0.0", 8);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_nroutes, CONF_MAX_ROUTES);
	put_pfx(&t, T_ROUTE, "10.0.0.0", 8);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), -EPROTO);
}

static void test_config_decode_mtu_range(void **state)
{
	static const struct { unsigned mtu; int want; } cases[] = {
		{ 0, -EPROTO }, { 575, -EPROTO }, { 576, 0 }, { 1500, 0 },
		{ FRAME_DATA_MAX, 0 }, { FRAME_DATA_MAX + 1, -EPROTO },
		{ 0xffff, -EPROTO },
	};
	struct tlvbuf t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&t, 0, sizeof(t));
		put_required(&t, 24, cases[i].mtu);
		assert_int_equal(decode(&t), cases[i].want);
	}
}

/* A known TLV with the wrong value length is an error, not a guess. */
static void test_config_decode_wrong_value_length(void **state)
{
	static const uint8_t types[] = { T_VERSION, T_ADDR, T_GATEWAY, T_MTU,
		T_ROUTE, T_KEEPALIVE, T_DEAD };
	uint8_t junk[8] = { 0 };
	struct tlvbuf t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		memset(&t, 0, sizeof(t));
		put_required(&t, 24, 1400);
		put(&t, types[i], junk, 3);	/* no known TLV is 3 bytes */
		assert_int_equal(decode(&t), -EPROTO);
	}
}

/* Unknown TLVs of any length, anywhere, are skipped. */
static void test_config_decode_skips_unknown_tlvs(void **state)
{
	static uint8_t big[255];
	struct msg_config m;
	struct tlvbuf t = { .len = 0 };

	(void)state;
	memset(big, T_ADDR, sizeof(big));	/* looks like TLVs, must not parse */
	put(&t, 0, NULL, 0);
	put(&t, 200, big, 255);
	put_pfx(&t, T_ADDR, "10.8.0.7", 24);
	put(&t, T_DEAD + 4, big, 5);		/* 11: kept for IPv6, unused */
	put_gw(&t, "10.8.0.1");
	put(&t, 0xff, big, 1);
	put_u16(&t, T_MTU, 1400);
	put(&t, 42, NULL, 0);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_addr.s_addr, ip("10.8.0.7").s_addr);
	assert_int_equal(m.mc_plen, 24);
	assert_int_equal(m.mc_gateway.s_addr, ip("10.8.0.1").s_addr);
	assert_int_equal(m.mc_mtu, 1400);
	assert_int_equal(m.mc_nroutes, 0);
}

/* decode starts from a clean struct: routes do not pile up across calls. */
static void test_config_decode_resets_output(void **state)
{
	struct msg_config m;
	struct tlvbuf t = { .len = 0 };

	(void)state;
	put_required(&t, 24, 1400);
	put_pfx(&t, T_ROUTE, "10.0.0.0", 8);
	memset(&m, 0x7f, sizeof(m));
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_nroutes, 1);
	assert_int_equal(m.mc_keepalive, 0);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_nroutes, 1);
}

/* ---- CONFIG: resolvers and search domains (TLVs 16 and 17) ---- */

#define T_DNS        16
#define T_DNS_SEARCH 17

static void config_with_dns(struct msg_config *m)
{
	config_sample(m, 2);
	m->mc_dns[0].cd_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, "10.8.0.1", m->mc_dns[0].cd_addr), 1);
	m->mc_dns[1].cd_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::1", m->mc_dns[1].cd_addr), 1);
	m->mc_ndns = 2;
	strcpy(m->mc_search[0], "corp.example");
	strcpy(m->mc_search[1], "~lab.example");
	m->mc_nsearch = 2;
}

static void test_config_dns_round_trip(void **state)
{
	struct msg_config in, out;
	uint8_t buf[FRAME_CTRL_MAX];
	int n;

	(void)state;
	config_with_dns(&in);
	n = msg_config_encode(&in, buf, sizeof(buf));
	assert_in_range(n, 1, FRAME_CTRL_MAX);
	memset(&out, 0x5a, sizeof(out));
	assert_int_equal(msg_config_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.mc_nroutes, 2);
	assert_int_equal(out.mc_ndns, 2);
	assert_int_equal(out.mc_dns[0].cd_family, AF_INET);
	assert_memory_equal(out.mc_dns[0].cd_addr, in.mc_dns[0].cd_addr, 4);
	assert_int_equal(out.mc_dns[1].cd_family, AF_INET6);
	assert_memory_equal(out.mc_dns[1].cd_addr, in.mc_dns[1].cd_addr, 16);
	assert_int_equal(out.mc_nsearch, 2);
	assert_string_equal(out.mc_search[0], "corp.example");
	assert_string_equal(out.mc_search[1], "~lab.example");
}

/* The most a server's configuration may push (conf.c's budget: 64 routes,
 * 8 IPv6 resolvers, domains up to 1024 bytes in all) fits one frame. */
static void test_config_dns_max_fits(void **state)
{
	struct msg_config in, out;
	uint8_t buf[FRAME_CTRL_MAX];
	int i, n;

	(void)state;
	config_sample(&in, CONF_MAX_ROUTES);
	for (i = 0; i < CONF_MAX_DNS; i++) {
		in.mc_dns[i].cd_family = AF_INET6;
		in.mc_dns[i].cd_addr[15] = (uint8_t)i;
	}
	in.mc_ndns = CONF_MAX_DNS;
	/* 1024 - 28 - 448 - 144 = 404 bytes: 8 domains of 48 + 2 */
	for (i = 0; i < CONF_MAX_SEARCH; i++)
		snprintf(in.mc_search[i], sizeof(in.mc_search[i]), "d%d.%045d", i, 0);
	in.mc_nsearch = CONF_MAX_SEARCH;
	in.mc_gso = true;
	n = msg_config_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, 28 + 7 * CONF_MAX_ROUTES + 18 * CONF_MAX_DNS +
	    CONF_MAX_SEARCH * 50 + 2);
	assert_true(n <= FRAME_CTRL_MAX);
	assert_int_equal(msg_config_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.mc_ndns, CONF_MAX_DNS);
	assert_int_equal(out.mc_nsearch, CONF_MAX_SEARCH);
}

/* A client of protocol version 1 knows TLVs 1..7 and skips the rest
 * (test_config_decode_skips_unknown_tlvs): every TLV the resolvers add is
 * outside that range and well formed, so such a client reads the same
 * address, gateway, MTU, timers and routes from a message with them as
 * from one without. */
static void test_config_dns_invisible_to_v1(void **state)
{
	struct msg_config with, without, a, b;
	uint8_t buf[FRAME_CTRL_MAX], base[FRAME_CTRL_MAX];
	int n, nb;
	size_t off;

	(void)state;
	config_with_dns(&with);
	without = with;
	without.mc_ndns = without.mc_nsearch = 0;
	n = msg_config_encode(&with, buf, sizeof(buf));
	nb = msg_config_encode(&without, base, sizeof(base));
	assert_true(n > nb);
	assert_memory_equal(buf, base, (size_t)nb);	/* the new ones come last */
	for (off = (size_t)nb; off < (size_t)n; off += 2 + (size_t)buf[off + 1]) {
		assert_true(buf[off] == T_DNS || buf[off] == T_DNS_SEARCH);
		assert_true(buf[off] > T_DEAD);
		assert_true(off + 2 + buf[off + 1] <= (size_t)n);
	}
	assert_int_equal(off, (size_t)n);
	assert_int_equal(msg_config_decode(buf, (size_t)n, &a), 0);
	assert_int_equal(msg_config_decode(base, (size_t)nb, &b), 0);
	assert_int_equal(b.mc_ndns, 0);
	a.mc_ndns = a.mc_nsearch = 0;
	memset(a.mc_dns, 0, sizeof(a.mc_dns));
	memset(a.mc_search, 0, sizeof(a.mc_search));
	assert_memory_equal(&a, &b, sizeof(a));
}

static void expect_dns_refused(const void *v, uint8_t type, uint8_t l)
{
	struct msg_config m;
	struct tlvbuf t = { .len = 0 };

	put_required(&t, 24, 1400);
	put(&t, type, v, l);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), -EPROTO);
}

/* A resolver is 4 or 16 bytes; a domain is a name conf_check_domain takes:
 * a newline would be a second resolv.conf directive on the client. */
static void test_config_dns_bad_values(void **state)
{
	static const char *const bad[] = { "corp.example\nnameserver 6.6.6.6",
		"a b", "", ".", "a..b", "-x.\xc3\xa9", "~", "a/b" };
	uint8_t addr[17] = { 10, 8, 0, 1 };
	size_t i;

	(void)state;
	expect_dns_refused(addr, T_DNS, 0);
	expect_dns_refused(addr, T_DNS, 5);
	expect_dns_refused(addr, T_DNS, 17);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_dns_refused(bad[i], T_DNS_SEARCH, (uint8_t)strlen(bad[i]));
}

static void test_config_dns_too_many(void **state)
{
	struct msg_config m;
	struct tlvbuf t = { .len = 0 };
	uint8_t addr[4] = { 10, 8, 0, 1 };
	int i;

	(void)state;
	put_required(&t, 24, 1400);
	for (i = 0; i < CONF_MAX_DNS; i++)
		put(&t, T_DNS, addr, 4);
	for (i = 0; i < CONF_MAX_SEARCH; i++)
		put(&t, T_DNS_SEARCH, "x.example", 9);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), 0);
	assert_int_equal(m.mc_ndns, CONF_MAX_DNS);
	assert_int_equal(m.mc_nsearch, CONF_MAX_SEARCH);
	put(&t, T_DNS, addr, 4);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), -EPROTO);
	t.len -= 6;
	put(&t, T_DNS_SEARCH, "x.example", 9);
	assert_int_equal(msg_config_decode(t.b, t.len, &m), -EPROTO);
}

/* ---- IPv6 inside the tunnel: TLVs 8 (ADDR6), 9 (GATEWAY6), 10 (ROUTE6) ---- */

#define T_ADDR6    8
#define T_GATEWAY6 9
#define T_ROUTE6   10

static void put_pfx6(struct tlvbuf *t, uint8_t type, const char *a, int plen)
{
	uint8_t v[17];

	assert_int_equal(inet_pton(AF_INET6, a, v), 1);
	v[16] = (uint8_t)plen;
	put(t, type, v, 17);
}

static void put_gw6(struct tlvbuf *t, const char *a)
{
	uint8_t v[16];

	assert_int_equal(inet_pton(AF_INET6, a, v), 1);
	put(t, T_GATEWAY6, v, 16);
}

static void config_with_v6(struct msg_config *m)
{
	memset(m, 0, sizeof(*m));
	m->mc_version = 1;
	m->mc_addr = ip("10.8.0.7");
	m->mc_plen = 24;
	m->mc_gateway = ip("10.8.0.1");
	m->mc_mtu = 1400;
	m->mc_routes[0].plen = 0;
	m->mc_nroutes = 1;
	m->mc_has6 = true;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::7", &m->mc_addr6), 1);
	m->mc_plen6 = 64;
	assert_int_equal(inet_pton(AF_INET6, "fd00:8::1", &m->mc_gateway6), 1);
	m->mc_routes6[0].plen = 0;
	assert_int_equal(inet_pton(AF_INET6, "2001:db8::", &m->mc_routes6[1].addr), 1);
	m->mc_routes6[1].plen = 32;
	m->mc_nroutes6 = 2;
}

/* Encoded as protocol.md says (after the IPv4 routes, types 8, 9, 10 with
 * 17, 16, 17 bytes), decoded back to the same message; and the IPv6 TLVs
 * are all in 8..15, so a decoder that predates them skips them and sees
 * the IPv4-only message. */
static void test_config_ipv6_round_trip_and_old_decoder(void **state)
{
	struct msg_config m, d, v4;
	uint8_t buf[FRAME_CTRL_MAX], base[FRAME_CTRL_MAX], strip[FRAME_CTRL_MAX];
	size_t off, ns = 0;
	int n, nb;

	(void)state;
	config_with_v6(&m);
	assert_true((n = msg_config_encode(&m, buf, sizeof(buf))) > 0);
	assert_int_equal(msg_config_decode(buf, (size_t)n, &d), 0);
	assert_true(d.mc_has6);
	assert_memory_equal(&d.mc_addr6, &m.mc_addr6, 16);
	assert_int_equal(d.mc_plen6, 64);
	assert_memory_equal(&d.mc_gateway6, &m.mc_gateway6, 16);
	assert_int_equal(d.mc_nroutes6, 2);
	assert_int_equal(d.mc_routes6[0].plen, 0);
	assert_memory_equal(&d.mc_routes6[1].addr, &m.mc_routes6[1].addr, 16);
	assert_int_equal(d.mc_routes6[1].plen, 32);
	v4 = m;
	v4.mc_has6 = false;
	v4.mc_nroutes6 = 0;
	nb = msg_config_encode(&v4, base, sizeof(base));
	assert_int_equal(n, nb + 19 + 18 + 2 * 19);
	for (off = 0; off < (size_t)n; off += 2 + (size_t)buf[off + 1]) {
		if (buf[off] >= 8 && buf[off] <= 15) {
			assert_int_equal(buf[off + 1], buf[off] == T_GATEWAY6 ? 16 : 17);
			continue;
		}
		memcpy(strip + ns, buf + off, 2 + (size_t)buf[off + 1]);
		ns += 2 + (size_t)buf[off + 1];
	}
	assert_int_equal(ns, (size_t)nb);
	assert_memory_equal(strip, base, ns);
	assert_int_equal(msg_config_decode(base, (size_t)nb, &d), 0);
	assert_false(d.mc_has6);
}

/* IPv6 comes whole or not at all: ROUTE6 or GATEWAY6 without ADDR6, ADDR6
 * without GATEWAY6, prefix lengths 0 or past 128, wrong lengths, and a
 * 65th route of both families together make the message invalid. */
static void test_config_ipv6_bad(void **state)
{
	struct tlvbuf t;
	uint8_t v[16] = { 0xfd };
	int i;

	(void)state;
	t.len = 0;
	put_required(&t, 24, 1400);
	put_pfx6(&t, T_ADDR6, "fd00:8::7", 64);
	put_gw6(&t, "fd00:8::1");
	put_pfx6(&t, T_ROUTE6, "::", 0);
	assert_int_equal(decode(&t), 0);

	t.len = 0;
	put_required(&t, 24, 1400);
	put_pfx6(&t, T_ROUTE6, "::", 0);
	assert_int_equal(decode(&t), -EPROTO);
	t.len = 0;
	put_required(&t, 24, 1400);
	put_gw6(&t, "fd00:8::1");
	assert_int_equal(decode(&t), -EPROTO);
	t.len = 0;
	put_required(&t, 24, 1400);
	put_pfx6(&t, T_ADDR6, "fd00:8::7", 64);
	assert_int_equal(decode(&t), -EPROTO);
	for (i = 0; i < 2; i++) {
		t.len = 0;
		put_required(&t, 24, 1400);
		put_pfx6(&t, T_ADDR6, "fd00:8::7", i ? 129 : 0);
		put_gw6(&t, "fd00:8::1");
		assert_int_equal(decode(&t), -EPROTO);
	}
	t.len = 0;
	put_required(&t, 24, 1400);
	put_pfx6(&t, T_ADDR6, "fd00:8::7", 64);
	put_gw6(&t, "fd00:8::1");
	put_pfx6(&t, T_ROUTE6, "::", 129);
	assert_int_equal(decode(&t), -EPROTO);
	t.len = 0;
	put_required(&t, 24, 1400);
	put(&t, T_ADDR6, v, 16);
	put_gw6(&t, "fd00:8::1");
	assert_int_equal(decode(&t), -EPROTO);
	t.len = 0;
	put_required(&t, 24, 1400);
	put_pfx6(&t, T_ADDR6, "fd00:8::7", 64);
	put_gw6(&t, "fd00:8::1");
	for (i = 0; i < 32; i++)
		put_pfx(&t, T_ROUTE, "10.0.0.0", 8);
	for (i = 0; i < 32; i++)
		put_pfx6(&t, T_ROUTE6, "::", 0);
	assert_int_equal(decode(&t), 0);
	put_pfx(&t, T_ROUTE, "10.0.0.0", 8);
	assert_int_equal(decode(&t), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_gso_lengths),
		cmocka_unit_test(test_frame_gso_header_round_trip),
		cmocka_unit_test(test_config_gso_flag),
		cmocka_unit_test(test_frame_parse_complete_data),
		cmocka_unit_test(test_frame_parse_needs_more_at_every_truncation),
		cmocka_unit_test(test_frame_parse_two_frames_back_to_back),
		cmocka_unit_test(test_frame_parse_flags_set_is_eproto),
		cmocka_unit_test(test_frame_parse_zero_length_data_is_eproto),
		cmocka_unit_test(test_frame_parse_data_size_limit),
		cmocka_unit_test(test_frame_parse_keepalive_with_payload_is_eproto),
		cmocka_unit_test(test_frame_parse_control_size_limit),
		cmocka_unit_test(test_frame_parse_unknown_type_returned_as_is),
		cmocka_unit_test(test_frame_put_hdr_is_big_endian),
		cmocka_unit_test(test_config_round_trip_no_routes),
		cmocka_unit_test(test_config_round_trip_max_routes),
		cmocka_unit_test(test_config_encode_enospc_on_small_buffer),
		cmocka_unit_test(test_config_decode_truncated_tlv_at_every_length),
		cmocka_unit_test(test_config_decode_requires_addr_mtu_gateway),
		cmocka_unit_test(test_config_decode_addr_prefix_length),
		cmocka_unit_test(test_config_decode_route_prefix_length),
		cmocka_unit_test(test_config_decode_too_many_routes),
		cmocka_unit_test(test_config_decode_mtu_range),
		cmocka_unit_test(test_config_decode_wrong_value_length),
		cmocka_unit_test(test_config_decode_skips_unknown_tlvs),
		cmocka_unit_test(test_config_decode_resets_output),
		cmocka_unit_test(test_config_dns_round_trip),
		cmocka_unit_test(test_config_dns_max_fits),
		cmocka_unit_test(test_config_dns_invisible_to_v1),
		cmocka_unit_test(test_config_dns_bad_values),
		cmocka_unit_test(test_config_dns_too_many),
		cmocka_unit_test(test_config_ipv6_round_trip_and_old_decoder),
		cmocka_unit_test(test_config_ipv6_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
