#!/usr/bin/env python3
"""xfer.py - a bounded TCP transfer for the end-to-end tests and the demo.

  xfer.py serve PORT [HOST]     accept connections (on HOST, default 0.0.0.0;
                                an IPv6 HOST such as :: listens on IPv6) until killed; each one:
                                  "up N"   read N bytes, answer "PEER SHA256"
                                  "put N"  the same, answer "PEER SHA256 GAP"
                                  "down N" send N bytes of seeded random data
                                  "who"    answer "PEER"
  xfer.py up HOST PORT FILE     send FILE; print "PEER SHA256" as the server saw it
  xfer.py down HOST PORT N      receive N bytes; print their sha256
  xfer.py both HOST PORT FILE N send FILE and receive N bytes at the same time;
                                print "UP_SHA256 UP_GAP DOWN_SHA256 DOWN_GAP MS"
  xfer.py sum N                 print the sha256 of what "down N" sends
  xfer.py who HOST PORT         print the address the server sees us from

GAP is the longest time in ms the receiving side waited for the next bytes
once WARM bytes have arrived, so a stall shows even when the transfer
completes. Before that, a lost SYN or first flight leaves the kernel's
initial retransmission timeout (1 to 3 s) in charge: TCP's, not the tunnel's.
"""
import hashlib, random, socket, sys, threading, time

TIMEOUT = 60


def data_stream(n):
    rnd = random.Random(1)
    while n > 0:
        k = min(n, 65536)
        yield rnd.randbytes(k)
        n -= k


WARM = 256 * 1024


class Gap:
    """The longest wait between arrivals after the first WARM bytes, in ms."""

    def __init__(self):
        self.last, self.max, self.seen = time.monotonic(), 0, 0

    def tick(self, n):
        now = time.monotonic()
        if self.seen >= WARM:
            self.max = max(self.max, int((now - self.last) * 1000))
        self.last, self.seen = now, self.seen + n


def handle(conn, peer):
    with conn:
        conn.settimeout(TIMEOUT)
        f = conn.makefile("rb")
        words = f.readline().decode().split()
        if words[0] in ("up", "put"):
            left, h, gap = int(words[1]), hashlib.sha256(), Gap()
            while left > 0:
                chunk = f.read1(min(left, 65536))
                if not chunk:
                    break
                gap.tick(len(chunk))
                h.update(chunk)
                left -= len(chunk)
            extra = f" {gap.max}" if words[0] == "put" else ""
            conn.sendall(f"{peer} {h.hexdigest()}{extra}\n".encode())
        elif words[0] == "down":
            for chunk in data_stream(int(words[1])):
                conn.sendall(chunk)
        else:
            conn.sendall(f"{peer}\n".encode())


def serve(port, host="0.0.0.0"):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                      socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(16)
    while True:
        conn, addr = s.accept()
        threading.Thread(target=handle, args=(conn, addr[0]), daemon=True).start()


def receive(c, n):
    """sha256 (or "short N") of n bytes from c, and the longest gap."""
    h, got, gap = hashlib.sha256(), 0, Gap()
    while got < n:
        chunk = c.recv(65536)
        if not chunk:
            break
        gap.tick(len(chunk))
        h.update(chunk)
        got += len(chunk)
    return (h.hexdigest() if got == n else f"short {got}"), gap.max


def both(host, port, path, n):
    data, res = open(path, "rb").read(), {}

    def put():
        try:
            c = socket.create_connection((host, port), timeout=TIMEOUT)
            c.sendall(f"put {len(data)}\n".encode() + data)
            res["up"] = c.makefile("rb").readline().decode().split()[1:3]
        except OSError as e:
            res["up"] = [f"error:{e.__class__.__name__}", "-1"]

    def get():
        try:
            c = socket.create_connection((host, port), timeout=TIMEOUT)
            c.sendall(f"down {n}\n".encode())
            res["down"] = receive(c, n)
        except OSError as e:
            res["down"] = (f"error:{e.__class__.__name__}", -1)

    t0 = time.monotonic()
    th = [threading.Thread(target=put), threading.Thread(target=get)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    up = res.get("up") or ["error:none", "-1"]
    if len(up) < 2:
        up = ["error:reply", "-1"]
    print(up[0], up[1], res["down"][0], res["down"][1],
          int((time.monotonic() - t0) * 1000))


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        return serve(int(sys.argv[2]), *sys.argv[3:4])
    if cmd == "sum":
        h = hashlib.sha256()
        for chunk in data_stream(int(sys.argv[2])):
            h.update(chunk)
        return print(h.hexdigest())
    if cmd == "both":
        return both(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
    host, port = sys.argv[2], int(sys.argv[3])
    c = socket.create_connection((host, port), timeout=TIMEOUT)
    if cmd == "up":
        data = open(sys.argv[4], "rb").read()
        c.sendall(f"up {len(data)}\n".encode() + data)
        print(c.makefile("rb").readline().decode().strip())
    elif cmd == "down":
        n = int(sys.argv[4])
        c.sendall(f"down {n}\n".encode())
        print(receive(c, n)[0])
    else:
        c.sendall(b"who\n")
        print(c.makefile("rb").readline().decode().strip())


if __name__ == "__main__":
    main()
