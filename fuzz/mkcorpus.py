#!/usr/bin/env python3
"""mkcorpus.py - write the fuzzers' seed inputs into fuzz/corpus/<target>/.

A handful of small, valid inputs per harness, so each run starts from the
shapes the parsers really see: frames as a server sends them (the CONFIG
payload laid out exactly as msg_config_encode writes it, docs/protocol.md
section 4), IPv4 packets with correct headers, the example configurations
from docs/examples/ with key/cert/allow_list pointing at the harness's
dummy files "k", "c", "a", an allow-list, and vpnctl request lines.
Run from the top of the tree; it rewrites the corpus directories."""
import os
import shutil
import socket
import struct

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(TOP, "fuzz", "corpus")

FP_A = "sha256:2bd806c97f0e00af1a1fc3328fa763a9269723c8db8fac4f93af71db186d6e90"
FP_B = "sha256:81b637d8fcd2c6da6359e6963113a1170de795e4b725b84d1e0b4cfd9ec58ce9"
FP_C = "sha256:4c26d9074c27d89ede59270c0ac14b71e071b15239519f75474b2f3ba63481f5"

# tunnel/frame.h and tunnel/dchan.h
DATA, CONFIG, DENY, KEEPALIVE, BYE, DTLS = 1, 2, 3, 4, 5, 6
DC_DATA, DC_PROBE, DC_PROBE_ACK = 1, 2, 3
T_VERSION, T_ADDR, T_GATEWAY, T_MTU, T_ROUTE, T_KEEPALIVE, T_DEAD = range(1, 8)
T_DNS, T_DNS_SEARCH = 16, 17
T_ADDR6, T_GATEWAY6, T_ROUTE6 = 8, 9, 10


def ip(a):
    return socket.inet_aton(a)


def ip6(a):
    return socket.inet_pton(socket.AF_INET6, a)


def frame(t, payload=b""):
    return struct.pack(">BBH", t, 0, len(payload)) + payload


def tlv(t, v):
    return struct.pack(">BB", t, len(v)) + v


def config(addr, plen, gw, mtu=1400, keepalive=10, dead=30, routes=()):
    """The CONFIG payload in msg_config_encode's order."""
    p = tlv(T_VERSION, b"\x01") + tlv(T_ADDR, ip(addr) + bytes([plen]))
    p += tlv(T_GATEWAY, ip(gw)) + tlv(T_MTU, struct.pack(">H", mtu))
    p += tlv(T_KEEPALIVE, struct.pack(">H", keepalive))
    p += tlv(T_DEAD, struct.pack(">H", dead))
    for r in routes:
        a, n = r.split("/")
        p += tlv(T_ROUTE, ip(a) + bytes([int(n)]))
    return p


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return struct.pack("!H", ~s & 0xffff)


def ipv4(src, dst, proto=1, body=b"", options=b""):
    """An IPv4 packet with a correct header checksum (RFC 791)."""
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBB2s4s4s", 0x40 | ihl, 0, ihl * 4 + len(body),
                      0x1234, 0x4000, 64, proto, b"\0\0", ip(src), ip(dst))
    hdr += options
    return hdr[:10] + csum(hdr) + hdr[12:] + body


def icmp_echo(seq=1):
    b = struct.pack("!BBHHH", 8, 0, 0, 0x77, seq) + b"vpnd-fuzz"
    return b[:2] + csum(b) + b[4:]


UDP = struct.pack("!HHHH", 40000, 53, 8 + 4, 0) + b"ping"
TCP_SYN = struct.pack("!HHIIBBHHH", 40000, 443, 1, 0, 5 << 4, 0x02, 65535, 0, 0)

PEER, SERVER, OTHER = "10.8.0.2", "10.8.0.1", "10.8.0.3"
ECHO = ipv4(PEER, SERVER, 1, icmp_echo())
JUMBO = ipv4(PEER, OTHER, 17, UDP[:4] + struct.pack("!H", 8980) + UDP[6:8] +
             bytes(8972))  # 9000 bytes, the largest tunnel MTU

SERVER_CONF = open(os.path.join(TOP, "docs/examples/server.conf")).read()
CLIENT_CONF = open(os.path.join(TOP, "docs/examples/client.conf")).read()


def adjust(conf):
    """The examples with paths the harness provides."""
    for old, new in (("server.key", "k"), ("server.crt", "c"), ("peers.conf", "a"),
                     ("alice.key", "k"), ("alice.crt", "c")):
        conf = conf.replace('"%s"' % old, '"%s"' % new)
    return conf.encode()


def seeds():
    cfg = config("10.8.0.2", 24, SERVER, routes=["0.0.0.0/0"])
    split = config("10.8.0.9", 16, "10.8.0.1", 9000, 1, 3600,
                   ["192.168.0.0/16", "172.16.0.0/12", "8.8.8.8/32"])
    yield "fuzz_frame", {
        "config": frame(CONFIG, cfg),
        "session": frame(CONFIG, cfg) + frame(DTLS, bytes(range(1, 9))) +
        frame(DATA, ECHO) + frame(KEEPALIVE) + frame(DATA, ipv4(SERVER, PEER, 17, UDP)) +
        frame(BYE, b"server shutting down"),
        "split_routes": frame(CONFIG, split + tlv(99, b"future")) + frame(KEEPALIVE),
        "dns": frame(CONFIG, cfg + tlv(T_DNS, ip("10.8.0.1")) +
                     tlv(T_DNS, socket.inet_pton(socket.AF_INET6, "fd00:8::1")) +
                     tlv(T_DNS_SEARCH, b"corp.example") +
                     tlv(T_DNS_SEARCH, b"~lab.example")),
        "ipv6": frame(CONFIG, cfg + tlv(T_ADDR6, ip6("fd00:8::2") + bytes([64])) +
                      tlv(T_GATEWAY6, ip6("fd00:8::1")) +
                      tlv(T_ROUTE6, ip6("::") + bytes([0])) +
                      tlv(T_ROUTE6, ip6("2001:db8::") + bytes([32]))),
        "deny": frame(DENY, b"not on the allow-list"),
        "unknown_type": frame(9, b"skipped") + frame(KEEPALIVE) + frame(DATA, ECHO),
        "bad_flags": frame(KEEPALIVE) + b"\x04\x01\x00\x00",
        "oversized": frame(KEEPALIVE) + struct.pack(">BBH", DATA, 0, 9001),
        # more than the receive buffer (STREAM_RX_CAP) holds at once
        "jumbo": frame(CONFIG, split) + frame(DATA, JUMBO) * 2 + frame(KEEPALIVE) +
        frame(DATA, JUMBO) + frame(DATA, ECHO),
    }
    yield "fuzz_dtls_msg", {
        "data_to_server": bytes([DC_DATA]) + ECHO,
        "data_to_peer": bytes([DC_DATA]) + ipv4(PEER, OTHER, 17, UDP),
        "data_out": bytes([DC_DATA]) + ipv4(PEER, "1.1.1.1", 6, TCP_SYN),
        "spoofed": bytes([DC_DATA]) + ipv4(OTHER, SERVER, 1, icmp_echo()),
        "data_jumbo": bytes([DC_DATA]) + JUMBO,
        "probe": bytes([DC_PROBE]),
        "probe_ack": bytes([DC_PROBE_ACK]),
    }
    # fuzz_ip: net(4) plen(1) server(4) flags(1) src(4), then the packet
    rules = ip("10.8.0.0") + bytes([24]) + ip(SERVER)
    c2c, iso = rules + b"\x01" + ip(PEER), rules + b"\x00" + ip(PEER)
    yield "fuzz_ip", {
        "to_server": c2c + ECHO,
        "to_peer": c2c + ipv4(PEER, OTHER, 17, UDP),
        "isolated": iso + ipv4(PEER, OTHER, 17, UDP),
        "to_internet_options": iso + ipv4(PEER, "1.1.1.1", 6, TCP_SYN, b"\x01\x01\x01\x00"),
        "spoofed": iso + ipv4("10.8.0.77", "1.1.1.1", 1, icmp_echo()),
        "trailing_bytes": iso + ECHO + b"\0" * 8,
        "jumbo": c2c + JUMBO,
    }
    yield "fuzz_conf", {
        "server": adjust(SERVER_CONF),
        "client": adjust(CLIENT_CONF),
        "server_minimal": b'mode = "server";\nkey = "k";\ncert = "c";\n'
        b'network = "10.9.0.0/16";\nallow_list = "a";\n',
        "server_lists": b'mode = "server";\nlisten = [ "0.0.0.0:4433", "[::]:4433" ];\n'
        b'key = "k"; cert = "c"; network = "10.8.0.0/24";\nallow_list = "a";\n'
        b'routes = ( "10.0.0.0/8", "192.168.1.0/24" );\nstate_dir = "d";\n'
        b'client_to_client = true;\n@include "inc"\ndead_peer_timeout = 60;\n',
        "client_servers": b'mode = "client";\nservers = [ "vpn1.example.org:4433", '
        b'"[2001:db8::1]:443", "192.0.2.1:4433" ];\nserver_fingerprint = "'
        + FP_A.upper().replace("SHA256", "sha256").encode() +
        b'";\nkey = "k";\ncert = "c";\ntun = { name = "tun7"; mtu = 0; };\n'
        b'transport = "dtls";\nkeepalive = 3;\ndead_peer_timeout = 9;\n',
        # libconfig 1.5 exit()ed on an included directory (conf/include.c)
        "include_dir": b'mode = "client";\nserver = "192.0.2.1:4433";\n'
        b'@include "d"\n',
        # ... also when a NUL cuts the name short ("d") or it spans lines
        "include_nul": b'mode = "server";\n@include "d\0junk\n"\n',
        # ... or the include line follows a string that spans lines
        "include_in_string": b'mode = "serv\n@include "\n@include "\0d"\n',
    }
    yield "fuzz_allow", {
        "list": ('peers = (\n  { name = "alice"; fingerprint = "%s"; address = "10.8.0.10"; },\n'
                 '  { name = "bob.laptop"; fingerprint = "%s"; },\n'
                 '  { name = "carol_2-x"; fingerprint = "%s"; address = "10.8.0.200"; }\n);\n'
                 % (FP_A, FP_B.upper().replace("SHA256", "sha256"), FP_C)).encode(),
        "empty": b"# nobody yet\npeers = ( );\n",
        "one": ('peers = ( { name = "alice"; fingerprint = "%s"; } );\n' % FP_A).encode(),
        "include_dir": b'peers = ( );\n@include "/"\n',
        "include_nul": b'peers = ( );\n@include "/\0\n"\n',
    }
    peer6 = socket.inet_pton(socket.AF_INET6, "fd00:8::a")
    yield "fuzz_ip6", {
        "to_internet": b"\x02\x40" + peer6 + ipv6("fd00:8::a", "2001:db8::2"),
        "to_peer": b"\x03\x40" + peer6 + ipv6("fd00:8::a", "fd00:8::b"),
        "spoofed": b"\x03\x40" + peer6 + ipv6("fd00:8::c", "2001:db8::2"),
        "neighbour_solicit": b"\x03\x40" + peer6 + ipv6("fd00:8::a", "fd00:8::1", 58, bytes([135]) + b"\0" * 23),
        "ext_chain": b"\x02\x40" + peer6 + ipv6("fd00:8::a", "2001:db8::2", 0,
                                              bytes([60, 0]) + b"\0" * 6 + bytes([17, 0]) + b"\0" * 6 + b"\0" * 8),
        "fragment": b"\x02\x40" + peer6 + ipv6("fd00:8::a", "2001:db8::2", 44,
                                              bytes([17, 0, 0, 1]) + b"\0" * 4 + b"\0" * 8),
    }
    yield "fuzz_vnet", {
        "tcp4_tso": b"\x1c" + tcp_super(4000),
        "tcp6_tso": b"\x1c" + tcp_super(3000, v6=True),
        "tcp4_one": b"\x00" + tcp_super(100, gso=1400),
        "plain_csum": b"\x00" + vnet(1, 0, 0, 0, 20, 16) + tcp_super(50)[10:],
        "plain": b"\x00" + vnet(0, 0, 0, 0, 0, 0) + ipv4("10.8.0.10", "198.19.0.2", 1, icmp_echo()),
    }
    # fuzz_drec: byte 0 even, a datagram; odd, (seq u16, flags) triples
    rec = bytes([0xd2]) + bytes(range(9, 1, -1)) + struct.pack("!Q", 1) + b"\x01" + b"\0" * 24
    yield "fuzz_drec", {
        "datagram": b"\x00" + rec,
        "in_order": b"\x01" + b"".join(struct.pack("!HB", i, 0) for i in range(8)),
        "reordered_replayed": b"\x01" + b"".join(struct.pack("!HB", i, 0)
                                                for i in (5, 3, 5, 64, 4, 3, 2000, 1039, 1040, 1041)),
        "forged": b"\x01" + struct.pack("!HBHBHB", 1, 0x0b, 1, 0, 1, 0),
    }
    yield "fuzz_ctl", {
        "peers_json": b"peers\t--json\n",
        "status": b"status\n",
        "allow_add": ("allow\tadd\talice\t%s\t10.8.0.10\n" % FP_A).encode(),
        "allow_remove": b"allow\tremove\talice\n",
        "allow_list": b"--json\tallow\tlist\n",
        "kick": b"kick\tbob\n",
        "reload": b"reload\n",
    }


def vnet(flags, gso_type, hdr_len, gso_size, csum_start, csum_offset):
    return struct.pack("<BBHHHH", flags, gso_type, hdr_len, gso_size, csum_start, csum_offset)


def tcp_super(payload, v6=False, gso=1400):
    """A TSO super-packet as the TUN device reads it: IPv4/IPv6 + TCP."""
    body = bytes(i % 251 for i in range(payload))
    tcp = struct.pack("!HHIIBBHHH", 40000, 5201, 1, 1, 5 << 4, 0x18, 512, 0, 0)
    if v6:
        hdr = struct.pack("!IHBB", 6 << 28, len(tcp) + payload, 6, 64) + \
            socket.inet_pton(socket.AF_INET6, "fd00:8::a") + \
            socket.inet_pton(socket.AF_INET6, "2001:db8::2")
        return vnet(1, 4, 60, gso, 40, 16) + hdr + tcp + body
    return vnet(1, 1, 40, gso, 20, 16) + ipv4("10.8.0.10", "198.19.0.2", 6, tcp + body)


def ipv6(src, dst, nh=17, body=b"\0" * 8):
    return struct.pack("!IHBB", 6 << 28, len(body), nh, 64) + \
        socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + body


def main():
    for target, files in seeds():
        d = os.path.join(OUT, target)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
