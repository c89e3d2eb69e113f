/* frame.c - encode and decode stream frames and the CONFIG message.
 * Everything here checks lengths before it reads: the input comes from the
 * network. See docs/protocol.md. */
#include <errno.h>
#include <string.h>

#include "tunnel/frame.h"

enum { TLV_VERSION = 1, TLV_ADDR = 2, TLV_GATEWAY = 3, TLV_MTU = 4,
       TLV_ROUTE = 5, TLV_KEEPALIVE = 6, TLV_DEAD = 7,
       TLV_ADDR6 = 8, TLV_GATEWAY6 = 9, TLV_ROUTE6 = 10,	/* 11..15 kept for IPv6 */
       TLV_DNS = 16, TLV_DNS_SEARCH = 17,
       TLV_GSO = 32 };	/* flags from 32 on: any length, later versions may add to them */

static int frame_len_ok(uint8_t type, size_t len)
{
	switch (type) {
	case FRAME_DATA:
		if (len == 0)
			return -EPROTO;
		return len > FRAME_DATA_MAX ? -EMSGSIZE : 0;
	case FRAME_GSO:
		if (len < FRAME_GSO_HDR + 20)
			return -EPROTO;
		return len > FRAME_GSO_MAX ? -EMSGSIZE : 0;
	case FRAME_CAPS:
		return len < 4 ? -EPROTO : len > FRAME_CTRL_MAX ? -EMSGSIZE : 0;
	case FRAME_KEEPALIVE:
		return len == 0 ? 0 : -EPROTO;
	case FRAME_CONFIG:
		if (len == 0)
			return -EPROTO;
		return len > FRAME_CTRL_MAX ? -EMSGSIZE : 0;
	default:	/* DENY, BYE and unknown types: short text or skipped */
		return len > FRAME_CTRL_MAX ? -EMSGSIZE : 0;
	}
}

int frame_parse(const uint8_t *buf, size_t len, struct frame *f)
{
	size_t plen;
	int err;

	if (len < FRAME_HDR)
		return 0;
	if (buf[1] != 0 && buf[0] != FRAME_GSO)
		return -EPROTO;
	plen = (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3];
	if ((err = frame_len_ok(buf[0], plen)) < 0)
		return err;
	if (len < FRAME_HDR + plen)
		return 0;
	f->f_type = buf[0];
	f->f_len = (uint32_t)plen;
	f->f_payload = buf + FRAME_HDR;
	return (int)(FRAME_HDR + plen);
}

void frame_put_hdr(uint8_t *out, uint8_t type, size_t len)
{
	out[0] = type;
	out[1] = type == FRAME_GSO ? (uint8_t)(len >> 16) : 0;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
}

void frame_gso_put(uint8_t out[FRAME_GSO_HDR], const struct virtio_net_hdr *h)
{
	const uint16_t v[4] = { h->hdr_len, h->gso_size, h->csum_start, h->csum_offset };
	int i;

	out[0] = h->flags;
	out[1] = h->gso_type;
	for (i = 0; i < 4; i++) {
		out[2 + 2 * i] = (uint8_t)(v[i] >> 8);
		out[3 + 2 * i] = (uint8_t)v[i];
	}
}

void frame_gso_get(const uint8_t in[FRAME_GSO_HDR], struct virtio_net_hdr *h)
{
	h->flags = in[0];
	h->gso_type = in[1];
	h->hdr_len = (uint16_t)(in[2] << 8 | in[3]);
	h->gso_size = (uint16_t)(in[4] << 8 | in[5]);
	h->csum_start = (uint16_t)(in[6] << 8 | in[7]);
	h->csum_offset = (uint16_t)(in[8] << 8 | in[9]);
}

static int put_tlv(uint8_t *out, size_t cap, size_t *off, uint8_t t,
    const void *v, uint8_t l)
{
	if (*off + 2 + l > cap)
		return -ENOSPC;
	out[*off] = t;
	out[*off + 1] = l;
	if (l > 0)
		memcpy(out + *off + 2, v, l);
	*off += 2 + (size_t)l;
	return 0;
}

static int put_u16(uint8_t *out, size_t cap, size_t *off, uint8_t t, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return put_tlv(out, cap, off, t, b, 2);
}

static int put_prefix(uint8_t *out, size_t cap, size_t *off, uint8_t t,
    struct in_addr a, int plen)
{
	uint8_t b[5];

	memcpy(b, &a.s_addr, 4);
	b[4] = (uint8_t)plen;
	return put_tlv(out, cap, off, t, b, 5);
}

static int put_prefix6(uint8_t *out, size_t cap, size_t *off, uint8_t t,
    const struct in6_addr *a, int plen)
{
	uint8_t b[17];

	memcpy(b, a, 16);
	b[16] = (uint8_t)plen;
	return put_tlv(out, cap, off, t, b, 17);
}

/* ADDR6, GATEWAY6 and the IPv6 routes, after the IPv4 routes. */
static int encode6(const struct msg_config *m, uint8_t *out, size_t cap, size_t *off)
{
	int i, err;

	if (!m->mc_has6)
		return 0;
	if ((err = put_prefix6(out, cap, off, TLV_ADDR6, &m->mc_addr6, m->mc_plen6)) < 0 ||
	    (err = put_tlv(out, cap, off, TLV_GATEWAY6, &m->mc_gateway6, 16)) < 0)
		return err;
	for (i = 0; i < m->mc_nroutes6; i++)
		if ((err = put_prefix6(out, cap, off, TLV_ROUTE6, &m->mc_routes6[i].addr,
		    m->mc_routes6[i].plen)) < 0)
			return err;
	return 0;
}

int msg_config_encode(const struct msg_config *m, uint8_t *out, size_t cap)
{
	size_t off = 0;
	int i, err;

	if ((err = put_tlv(out, cap, &off, TLV_VERSION, &m->mc_version, 1)) < 0 ||
	    (err = put_prefix(out, cap, &off, TLV_ADDR, m->mc_addr, m->mc_plen)) < 0 ||
	    (err = put_tlv(out, cap, &off, TLV_GATEWAY, &m->mc_gateway.s_addr, 4)) < 0 ||
	    (err = put_u16(out, cap, &off, TLV_MTU, m->mc_mtu)) < 0 ||
	    (err = put_u16(out, cap, &off, TLV_KEEPALIVE, m->mc_keepalive)) < 0 ||
	    (err = put_u16(out, cap, &off, TLV_DEAD, m->mc_dead_peer_timeout)) < 0)
		return err;
	for (i = 0; i < m->mc_nroutes; i++)
		if ((err = put_prefix(out, cap, &off, TLV_ROUTE,
		    m->mc_routes[i].addr, m->mc_routes[i].plen)) < 0)
			return err;
	if ((err = encode6(m, out, cap, &off)) < 0)
		return err;
	for (i = 0; i < m->mc_ndns; i++)
		if ((err = put_tlv(out, cap, &off, TLV_DNS, m->mc_dns[i].cd_addr,
		    m->mc_dns[i].cd_family == AF_INET6 ? 16 : 4)) < 0)
			return err;
	for (i = 0; i < m->mc_nsearch; i++)
		if ((err = put_tlv(out, cap, &off, TLV_DNS_SEARCH, m->mc_search[i],
		    (uint8_t)strnlen(m->mc_search[i], CONF_DOMAIN_MAX))) < 0)
			return err;
	if (m->mc_gso && (err = put_tlv(out, cap, &off, TLV_GSO, NULL, 0)) < 0)
		return err;
	return (int)off;
}

static uint16_t get_u16(const uint8_t *v)
{
	return (uint16_t)(v[0] << 8 | v[1]);
}

/* The variable-length TLVs. A domain is checked as the server's own
 * configuration is: the client hands it to resolvconf as a line of text,
 * so a newline or a space in it would be a second directive. */
static int decode_dns(uint8_t t, const uint8_t *v, uint8_t l,
    struct msg_config *m)
{
	struct conf_dns *d;
	char *name;

	if (t == TLV_DNS) {
		if ((l != 4 && l != 16) || m->mc_ndns >= CONF_MAX_DNS)
			return -EPROTO;
		d = &m->mc_dns[m->mc_ndns++];
		d->cd_family = l == 4 ? AF_INET : AF_INET6;
		memcpy(d->cd_addr, v, l);
		return 0;
	}
	if (l == 0 || l > CONF_DOMAIN_MAX || m->mc_nsearch >= CONF_MAX_SEARCH)
		return -EPROTO;
	name = m->mc_search[m->mc_nsearch];
	memcpy(name, v, l);
	name[l] = '\0';
	if (conf_check_domain(name) < 0)
		return -EPROTO;
	m->mc_nsearch++;
	return 0;
}

/* One TLV into m; lengths were checked against the buffer by the caller,
 * the value's own length is checked here. */
static int decode_tlv(uint8_t t, const uint8_t *v, uint8_t l,
    struct msg_config *m, unsigned *seen)
{
	static const uint8_t want[] = { [TLV_VERSION] = 1, [TLV_ADDR] = 5,
		[TLV_GATEWAY] = 4, [TLV_MTU] = 2, [TLV_ROUTE] = 5,
		[TLV_KEEPALIVE] = 2, [TLV_DEAD] = 2, [TLV_ADDR6] = 17,
		[TLV_GATEWAY6] = 16, [TLV_ROUTE6] = 17, [TLV_GSO] = 0xff };

	if (t == TLV_DNS || t == TLV_DNS_SEARCH)
		return decode_dns(t, v, l, m);
	if (t >= sizeof(want) || want[t] == 0)
		return 0;			/* unknown: skip */
	if (want[t] != 0xff && l != want[t])	/* 0xff: a flag, any length */
		return -EPROTO;
	if (t < 32)
		*seen |= 1u << t;	/* the ones that must be there are all below */
	switch (t) {
	case TLV_VERSION:   m->mc_version = v[0]; break;
	case TLV_ADDR:      memcpy(&m->mc_addr.s_addr, v, 4); m->mc_plen = v[4]; break;
	case TLV_GATEWAY:   memcpy(&m->mc_gateway.s_addr, v, 4); break;
	case TLV_MTU:       m->mc_mtu = get_u16(v); break;
	case TLV_KEEPALIVE: m->mc_keepalive = get_u16(v); break;
	case TLV_DEAD:      m->mc_dead_peer_timeout = get_u16(v); break;
	case TLV_GSO:       m->mc_gso = true; break;
	case TLV_ROUTE:
		if (m->mc_nroutes + m->mc_nroutes6 >= CONF_MAX_ROUTES || v[4] > 32)
			return -EPROTO;
		memcpy(&m->mc_routes[m->mc_nroutes].addr.s_addr, v, 4);
		m->mc_routes[m->mc_nroutes++].plen = v[4];
		break;
	case TLV_ADDR6:
		m->mc_has6 = true;
		memcpy(&m->mc_addr6, v, 16);
		m->mc_plen6 = v[16];
		break;
	case TLV_GATEWAY6:  memcpy(&m->mc_gateway6, v, 16); break;
	case TLV_ROUTE6:
		if (m->mc_nroutes + m->mc_nroutes6 >= CONF_MAX_ROUTES || v[16] > 128)
			return -EPROTO;
		memcpy(&m->mc_routes6[m->mc_nroutes6].addr, v, 16);
		m->mc_routes6[m->mc_nroutes6++].plen = v[16];
		break;
	}
	return 0;
}

int msg_config_decode(const uint8_t *p, size_t len, struct msg_config *m)
{
	unsigned seen = 0, need = 1u << TLV_ADDR | 1u << TLV_MTU | 1u << TLV_GATEWAY;
	size_t off = 0;
	int err;

	memset(m, 0, sizeof(*m));
	while (off < len) {
		if (len - off < 2 || len - off - 2 < p[off + 1])
			return -EPROTO;
		if ((err = decode_tlv(p[off], p + off + 2, p[off + 1], m, &seen)) < 0)
			return err;
		off += 2 + (size_t)p[off + 1];
	}
	if ((seen & need) != need || m->mc_plen < 1 || m->mc_plen > 32 ||
	    m->mc_mtu < 576 || m->mc_mtu > FRAME_DATA_MAX)
		return -EPROTO;
	/* IPv6 comes whole: an address with its prefix and the gateway, or
	 * nothing IPv6 at all */
	if (m->mc_has6 ? (!(seen & 1u << TLV_GATEWAY6) || m->mc_plen6 < 1 ||
	    m->mc_plen6 > 128) : (seen & 1u << TLV_GATEWAY6 || m->mc_nroutes6 > 0))
		return -EPROTO;
	return 0;
}
