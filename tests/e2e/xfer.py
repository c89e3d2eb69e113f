#!/usr/bin/env python3
"""xfer.py - a bounded TCP transfer for the end-to-end tests and the demo.

  xfer.py serve PORT            accept connections until killed; each one:
                                  "up N"   read N bytes, answer "PEER SHA256"
                                  "down N" send N bytes of seeded random data
                                  "who"    answer "PEER"
  xfer.py up HOST PORT FILE     send FILE; print "PEER SHA256" as the server saw it
  xfer.py down HOST PORT N      receive N bytes; print their sha256
  xfer.py who HOST PORT         print the address the server sees us from
"""
import hashlib, random, socket, sys, threading

TIMEOUT = 60


def data_stream(n):
    rnd = random.Random(1)
    while n > 0:
        k = min(n, 65536)
        yield rnd.randbytes(k)
        n -= k


def handle(conn, peer):
    with conn:
        conn.settimeout(TIMEOUT)
        f = conn.makefile("rb")
        words = f.readline().decode().split()
        if words[0] == "up":
            left, h = int(words[1]), hashlib.sha256()
            while left > 0:
                chunk = f.read1(min(left, 65536))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
            conn.sendall(f"{peer} {h.hexdigest()}\n".encode())
        elif words[0] == "down":
            for chunk in data_stream(int(words[1])):
                conn.sendall(chunk)
        else:
            conn.sendall(f"{peer}\n".encode())


def serve(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(16)
    while True:
        conn, addr = s.accept()
        threading.Thread(target=handle, args=(conn, addr[0]), daemon=True).start()


def main():
    cmd = sys.argv[1]
    if cmd == "serve":
        return serve(int(sys.argv[2]))
    host, port = sys.argv[2], int(sys.argv[3])
    c = socket.create_connection((host, port), timeout=TIMEOUT)
    if cmd == "up":
        data = open(sys.argv[4], "rb").read()
        c.sendall(f"up {len(data)}\n".encode() + data)
        print(c.makefile("rb").readline().decode().strip())
    elif cmd == "down":
        n, h, got = int(sys.argv[4]), hashlib.sha256(), 0
        c.sendall(f"down {n}\n".encode())
        while got < n:
            chunk = c.recv(65536)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        print(h.hexdigest() if got == n else f"short {got}")
    else:
        c.sendall(b"who\n")
        print(c.makefile("rb").readline().decode().strip())


if __name__ == "__main__":
    main()
