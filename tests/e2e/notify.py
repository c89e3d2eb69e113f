#!/usr/bin/env python3
"""notify.py SOCKET OUT - stand in for systemd's notify socket: bind a Unix
datagram socket at SOCKET (mode 0777, as systemd's, so a daemon that
dropped root can still send) and append each message to OUT, one per line
(newlines inside a message become spaces). Runs until killed."""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
os.chmod(path, 0o777)
with open(out, "a", buffering=1) as f:
    f.write("LISTENING\n")
    while True:
        msg = s.recv(4096).decode("utf-8", "replace")
        f.write(msg.replace("\n", " ") + "\n")
