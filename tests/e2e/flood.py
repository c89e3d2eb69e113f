#!/usr/bin/env python3
"""flood.py - the handshake flood of tests/e2e/flood.sh, and its probe.

  flood.py attack HOST PORT SECONDS HOLD SRC...
        for SECONDS or until SIGTERM, each source address tries to hold
        HOLD silent TCP connections (one the server closes is opened
        again) and, beside them, replays ClientHellos it aborts once the
        server answers; then prints what it got:
        "held MAX opened N closed N hellos N answered N"
  flood.py legit HOST PORT KEY CRT [SECONDS]
        a legitimate client: TCP, TLS 1.3 with KEY, the CONFIG frame;
        prints the milliseconds that took, or "fail REASON"; again every
        0.2 s for SECONDS
  flood.py ctl SOCKET SECONDS
        vpnctl's "status --json" on the control socket every 0.1 s for
        SECONDS; prints how many ms each answer took, or "fail ..."
Bounded in time; every socket is non-blocking or has a timeout.
"""
import resource, selectors, signal, socket, sys, time

from hostile import admitted, client_hello, tls_session

REPLAYS = 2     # ClientHellos in flight per source


class Source:
    def __init__(self, src):
        self.src = src
        self.silent = set()
        self.replays = set()


def nb_connect(src, host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close()
        return None
    return s


def attack(host, port, secs, hold, srcs):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    hello = client_hello()
    sel = selectors.DefaultSelector()
    sources = [Source(a) for a in srcs]
    st = dict(held=0, opened=0, closed=0, hellos=0, answered=0)

    def open_one(so, kind):
        s = nb_connect(so.src, host, port)
        if s is None:
            return
        st["opened"] += 1
        if kind == "silent":
            so.silent.add(s)
            sel.register(s, selectors.EVENT_READ, (so, kind, s))
        else:
            so.replays.add(s)
            sel.register(s, selectors.EVENT_WRITE, (so, kind, s))

    def drop(so, kind, s):
        sel.unregister(s)
        (so.silent if kind == "silent" else so.replays).discard(s)
        s.close()

    stop = []
    signal.signal(signal.SIGTERM, lambda sig, frame: stop.append(sig))
    end = time.time() + secs
    while time.time() < end and not stop:
        for so in sources:
            while len(so.silent) < hold:
                open_one(so, "silent")
            while len(so.replays) < REPLAYS:
                open_one(so, "replay")
        st["held"] = max(st["held"], sum(len(so.silent) for so in sources))
        for key, ev in sel.select(timeout=0.1):
            so, kind, s = key.data
            if kind == "silent":            # the server closed it, or reset
                st["closed"] += 1
                drop(so, kind, s)
            elif ev & selectors.EVENT_WRITE:  # connected: replay the hello
                try:
                    s.send(hello)
                    st["hellos"] += 1
                    sel.modify(s, selectors.EVENT_READ, key.data)
                except OSError:
                    drop(so, kind, s)
            else:                           # answered (TLS work) or closed
                try:
                    if s.recv(4096):
                        st["answered"] += 1
                except OSError:
                    pass
                drop(so, kind, s)
    print(" ".join(f"{k} {v}" for k, v in st.items()), flush=True)


def connect_once(host, port, key, crt):
    t0 = time.monotonic()
    try:
        s = tls_session(host, port, key, crt)
        s.settimeout(10)
        ok = admitted(s)
        s.close()
    except OSError as e:
        return f"fail {e}"
    ms = (time.monotonic() - t0) * 1000
    return f"{ms:.0f}" if ok else "fail not admitted"


def legit(host, port, key, crt, secs):
    end = time.monotonic() + secs
    while True:
        print(connect_once(host, port, key, crt), flush=True)
        if time.monotonic() >= end:
            break
        time.sleep(0.2)


def ctl(path, secs):
    """The daemon's own answer time: vpnctl's request on the control
    socket, without the start of a program on a busy machine."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t0 = time.monotonic()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect(path)
            s.sendall(b"status\t--json\n")
            got = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
        except OSError as e:
            got = str(e).encode()
        s.close()
        ms = (time.monotonic() - t0) * 1000
        print(f"{ms:.0f}" if got.startswith(b"ok\n") else f"fail {got[:80]!r}",
              flush=True)
        time.sleep(0.1)


def main():
    cmd = sys.argv[1]
    if cmd == "ctl":
        return ctl(sys.argv[2], float(sys.argv[3]))
    host, port, a = sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    if cmd == "attack":
        attack(host, port, float(a[0]), int(a[1]), a[2:])
    elif cmd == "legit":
        legit(host, port, a[0], a[1], float(a[2]) if len(a) > 2 else 0)


if __name__ == "__main__":
    main()
