#!/usr/bin/env python3
"""udpburst.py - bounded bursts of small UDP datagrams, checked on arrival.

  udpburst.py sink PORT READY   bind PORT, touch READY, then count datagrams
                                until 2 s pass without one (at most 60 s);
                                print "RECEIVED BAD"
  udpburst.py send HOST PORT N  send N datagrams of 64 bytes, 32 at a time
                                with a 1 ms pause between bursts

Each datagram carries its sequence number and a pattern derived from it,
so one that a coalescing or segmenting step got wrong counts as BAD (the
kernel has already dropped any whose UDP checksum is wrong).
"""
import socket, struct, sys, time


def payload(seq):
    return struct.pack("!I", seq) + bytes((seq + i) % 256 for i in range(60))


def sink(port, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    open(ready, "w").close()
    got = bad = 0
    end = time.monotonic() + 60
    s.settimeout(30)
    while time.monotonic() < end:
        try:
            d = s.recv(2048)
        except socket.timeout:
            break
        s.settimeout(2)
        got += 1
        if len(d) != 64 or d != payload(struct.unpack("!I", d[:4])[0]):
            bad += 1
    print(got, bad)


def send(host, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for seq in range(n):
        s.sendto(payload(seq), (host, port))
        if seq % 32 == 31:
            time.sleep(0.001)


if sys.argv[1] == "sink":
    sink(int(sys.argv[2]), sys.argv[3])
else:
    send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
