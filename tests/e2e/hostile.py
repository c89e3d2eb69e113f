#!/usr/bin/env python3
"""hostile.py - bounded hostile clients for tests/e2e/hostile.sh.

  hostile.py garbage HOST PORT N        N connections of random bytes
  hostile.py hellos HOST PORT N         truncated and corrupted ClientHellos
  hostile.py silent HOST PORT SRC... N  N silent connections spread over the
                                        source addresses; print how long the
                                        server took to close them
  hostile.py flood HOST PORT N          N garbage connections from one source;
                                        print how many got no answer at all
  hostile.py udp HOST PORT N            N random datagrams, some with our magic
  hostile.py frames HOST PORT KEY CRT   authenticated: unknown, oversized and
                                        zero-length frames; print what happened
  hostile.py bye HOST PORT KEY CRT TEXT authenticated, then BYE with TEXT (\n, \x1b
                                        and bytes not UTF-8 in it)
  hostile.py denied HOST PORT KEY CRT SRC...  one TLS session per source address
                                        with a key the server denies
  hostile.py stall HOST PORT KEY CRT S  authenticated, then never read for S s
                                        (keepalives go on: silence is not why it ends)
Every loop is bounded; every socket has a timeout.
"""
import os, random, select, socket, ssl, struct, sys, time


def connect(host, port, src=None, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def drain(s):
    """Read until EOF or error; return the byte count."""
    n = 0
    try:
        while True:
            b = s.recv(4096)
            if not b:
                return n
            n += len(b)
    except OSError:
        return n


def garbage(host, port, n):
    for i in range(n):
        s = connect(host, port)
        try:
            s.sendall(os.urandom(random.randint(1, 2000)))
        except OSError:
            pass
        drain(s)
        s.close()
    print(f"sent {n} garbage connections")


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out)
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def hellos(host, port, n):
    hello = client_hello()
    for i in range(n):
        if i % 2:
            data = hello[: random.randint(1, len(hello) - 1)]
        else:
            b = bytearray(hello)
            for _ in range(8):
                b[random.randrange(5, len(b))] ^= 1 << random.randrange(8)
            data = bytes(b)
        s = connect(host, port)
        try:
            s.sendall(data)
            if i % 2:        # truncated: leave it hanging briefly, then go
                time.sleep(0.01)
            else:
                drain(s)
        except OSError:
            pass
        s.close()
    print(f"sent {n} bad ClientHellos ({len(hello)} bytes each before damage)")


def silent(host, port, srcs, n):
    socks, since = [], {}
    for i in range(n):
        s = connect(host, port, srcs[i % len(srcs)], timeout=30)
        socks.append(s)
        since[s.fileno()] = time.time()   # each its own: connects take time under load
    open_ = {s.fileno(): s for s in socks}
    closed = []
    deadline = time.time() + 20
    while open_ and time.time() < deadline:
        r, _, _ = select.select(list(open_.values()), [], [], 1)
        for s in r:
            try:
                d = s.recv(4096)
            except OSError:
                d = b""
            if not d:
                closed.append(time.time() - since[s.fileno()])
                del open_[s.fileno()]
                s.close()
    for s in open_.values():
        s.close()
    if closed:
        print(f"closed {len(closed)}/{n} min {min(closed):.1f}s max {max(closed):.1f}s")
    else:
        print(f"closed 0/{n}")


def flood(host, port, n):
    silent_closes = 0
    for i in range(n):
        try:
            s = connect(host, port)
            s.sendall(os.urandom(64))
            if drain(s) == 0:
                silent_closes += 1
            s.close()
        except OSError:
            silent_closes += 1
    print(f"flood {n} unanswered {silent_closes}")


def udp(host, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        d = os.urandom(random.randint(0, 1500))
        if i % 3 == 0:
            d = b"\xd1" + d
        s.sendto(d, (host, port))
    print(f"sent {n} datagrams")


def tls_session(host, port, key, crt):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(crt, key)
    s = ctx.wrap_socket(connect(host, port, timeout=10))
    return s


def read_frame(s):
    hdr = b""
    while len(hdr) < 4:
        b = s.recv(4 - len(hdr))
        if not b:
            return None
        hdr += b
    n = struct.unpack(">H", hdr[2:])[0]
    body = b""
    while len(body) < n:
        b = s.recv(n - len(body))
        if not b:
            return None
        body += b
    return hdr[0], body


def admitted(s):
    f = read_frame(s)
    return f is not None and f[0] == 2      # CONFIG


def closed_after(s, data):
    """Send data; True if the server then closes the connection."""
    s.sendall(data)
    s.settimeout(5)
    try:
        while True:
            f = read_frame(s)
            if f is None:
                return True
    except (socket.timeout, TimeoutError):
        return False
    except (OSError, ssl.SSLError):
        return True


def frames(host, port, key, crt):
    res = []
    s = tls_session(host, port, key, crt)
    assert admitted(s), "not admitted"
    s.sendall(bytes([0x7f, 0, 0, 10]) + os.urandom(10))   # unknown type: skipped
    s.sendall(bytes([4, 0, 0, 0]))                          # keepalive: fine
    s.settimeout(1)
    try:
        read_frame(s)
        res.append("unknown:kept")
    except (socket.timeout, TimeoutError):
        res.append("unknown:kept")
    except (OSError, ssl.SSLError):
        res.append("unknown:closed")
    s.close()
    for name, data in (("oversized", bytes([1, 0, 0x23, 0x29]) + os.urandom(9001)),
                       ("zero", bytes([1, 0, 0, 0])),
                       ("flags", bytes([4, 1, 0, 0])),
                       ("ctrl", bytes([3, 0, 0x04, 0x01]) + os.urandom(1025))):
        s = tls_session(host, port, key, crt)
        assert admitted(s), "not admitted"
        res.append(f"{name}:{'closed' if closed_after(s, data) else 'kept'}")
        s.close()
    print(" ".join(res))


def bye(host, port, key, crt, text):
    s = tls_session(host, port, key, crt)
    assert admitted(s), "not admitted"
    body = text.encode().replace(b"\\n", b"\n").replace(b"\\e", b"\x1b") + b"\xff\xfe"
    s.sendall(struct.pack(">BBH", 5, 0, len(body)) + body)
    closed_after(s, b"")
    s.close()


def denied(host, port, key, crt, srcs):
    n = 0
    for src in srcs:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(crt, key)
        try:
            s = ctx.wrap_socket(connect(host, port, src, timeout=10))
            f = read_frame(s)
            n += f is not None and f[0] == 3    # DENY
            s.close()
        except (OSError, ssl.SSLError):
            pass
    print(f"denied {n}")


def stall(host, port, key, crt, secs):
    s = tls_session(host, port, key, crt)
    assert admitted(s), "not admitted"
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    print("stalling", flush=True)
    end = time.time() + float(secs)
    while time.time() < end:       # alive (keepalives), but never reading
        s.sendall(b"\x04\x00\x00\x00")
        time.sleep(1)
    s.close()


def main():
    cmd, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if cmd == "garbage":
        garbage(host, port, int(a[0]))
    elif cmd == "hellos":
        hellos(host, port, int(a[0]))
    elif cmd == "silent":
        silent(host, port, a[:-1], int(a[-1]))
    elif cmd == "flood":
        flood(host, port, int(a[0]))
    elif cmd == "udp":
        udp(host, port, int(a[0]))
    elif cmd == "frames":
        frames(host, port, a[0], a[1])
    elif cmd == "bye":
        bye(host, port, a[0], a[1], a[2])
    elif cmd == "denied":
        denied(host, port, a[0], a[1], a[2:])
    elif cmd == "stall":
        stall(host, port, a[0], a[1], a[2])


if __name__ == "__main__":
    main()
