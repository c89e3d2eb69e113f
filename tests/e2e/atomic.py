#!/usr/bin/env python3
"""atomic.py - kill -9 the server at random moments during a loop of
allow-list edits and check, after every kill, that the file parses (vpnd -t)
and holds either the state before or the state after the edit in flight.

  atomic.py NETNS VPND VPNCTL CONF SOCK PEERS OPS SEED
Bounded: OPS edits, each with a 10 s limit; prints one summary line.
"""
import os, random, re, signal, subprocess, sys, time

ns, vpnd, vpnctl, conf, sock, peers, ops, seed = sys.argv[1:9]
ops, rnd = int(ops), random.Random(int(seed))
FPS = ["sha256:" + "%064x" % rnd.getrandbits(256) for _ in range(20)]


def start():
    p = subprocess.Popen(["nsenter", f"--net=/run/netns/{ns}", "--", vpnd, "-c", conf],
                         stdout=subprocess.DEVNULL, stderr=open(conf + ".log", "a"))
    end = time.time() + 10
    while time.time() < end:
        if subprocess.run([vpnctl, "-s", sock, "status"], capture_output=True).returncode == 0:
            return p
        time.sleep(0.02)
    sys.exit("FAIL: server did not start")


def names():
    return set(re.findall(r'name = "([^"]+)"', open(peers).read()))


def check(before, after):
    r = subprocess.run([vpnd, "-t", "-c", conf], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: allow-list does not parse after a kill: {r.stderr.strip()}")
    now = names()
    if now not in (before, after):
        sys.exit(f"FAIL: allow-list holds {sorted(now)}, neither {sorted(before)} nor {sorted(after)}")
    return now


srv, state, kills, t_ops = start(), names(), 0, time.time()
for i in range(ops):
    name = f"p{rnd.randrange(20)}"
    if name in state:
        args, after = ["allow", "remove", name], state - {name}
    else:
        args, after = ["allow", "add", name, FPS[int(name[1:])]], state | {name}
    edit = subprocess.Popen([vpnctl, "-s", sock] + args, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    if rnd.random() < 0.15:                 # kill at a random moment of this edit
        time.sleep(rnd.random() * 0.004)
        srv.send_signal(signal.SIGKILL)
        srv.wait()
        edit.wait(timeout=10)
        state = check(state, after)
        kills += 1
        srv = start()
    else:
        if edit.wait(timeout=10) != 0:
            sys.exit(f"FAIL: {' '.join(args)} failed")
        state = check(after, after)
srv.send_signal(signal.SIGTERM)
srv.wait(timeout=10)
print(f"{ops} edits, {kills} kill -9, file always parsed and old-or-new, "
      f"{time.time() - t_ops:.1f} s")
