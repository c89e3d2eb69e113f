#!/usr/bin/env python3
"""loadgen.py - many authenticated vpnd sessions without a TUN device.

  loadgen.py HOST PORT KEYDIR N HOLD CONTROL_SOCKET VICTIM
Opens N TLS sessions with keys KEYDIR/pI.key|crt (I = 0..N-1), at most 4
handshakes at a time (the server's cap per address), retrying one the
server closes at accept (its handshake rate); speaks vpnd's framing (waits
for CONFIG, answers nothing else, sends KEEPALIVE every 2 s from then on),
holds them HOLD seconds, then sends `allow remove pVICTIM` on the server's
CONTROL_SOCKET (the request line vpnctl sends) and times how long from the
request until that session is told (BYE) or closed. Prints "key=value"
lines; exits 1 on any failure. Everything is bounded by timeouts.
"""
import asyncio, os, ssl, struct, sys, time

host, port, keydir, n, hold, ctl, victim = sys.argv[1:8]
port, n, hold, victim = int(port), int(n), float(hold), int(victim)


async def read_frame(r):
    hdr = await r.readexactly(4)
    body = await r.readexactly(struct.unpack(">H", hdr[2:])[0])
    return hdr[0], body


class Session:
    def __init__(self, i):
        self.i, self.alive, self.bye_at = i, False, None

    async def open(self, sem):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(f"{keydir}/p{self.i}.crt", f"{keydir}/p{self.i}.key")
        async with sem:
            for attempt in range(100):
                try:
                    self.r, self.w = await asyncio.wait_for(
                        asyncio.open_connection(host, port, ssl=ctx), 20)
                    break
                except (ConnectionError, ssl.SSLError):
                    # closed at accept: the server's handshake rate is
                    # spent; try again shortly, as a client would
                    await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
            else:
                raise RuntimeError(f"p{self.i}: no handshake in 100 attempts")
            t, _ = await asyncio.wait_for(read_frame(self.r), 20)
            if t != 2:
                raise RuntimeError(f"p{self.i}: frame {t}, not CONFIG")
        self.alive = True
        # Keepalives from the moment it is up: on a busy machine the
        # thousand handshakes take longer than dead_peer_timeout, and the
        # first sessions must not go silent while the last ones open.
        self.tasks = [asyncio.create_task(self.run()), asyncio.create_task(self.keepalive())]

    async def run(self):
        try:
            while True:
                t, _ = await read_frame(self.r)
                if t == 5:                      # BYE
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        self.alive, self.bye_at = False, time.monotonic()

    async def keepalive(self):
        while self.alive:
            self.w.write(bytes([4, 0, 0, 0]))
            try:
                await self.w.drain()
            except ConnectionError:
                return
            await asyncio.sleep(2)


async def revoke(path, name):
    """`vpnctl -s PATH allow remove NAME`: the request line, the answer."""
    r, w = await asyncio.open_unix_connection(path)
    w.write(f"allow\tremove\t{name}\n".encode())
    w.write_eof()
    answer = await r.read()
    w.close()
    return answer, time.monotonic()


async def main():
    sessions = [Session(i) for i in range(n)]
    sem = asyncio.Semaphore(4)      # the server's cap per source address
    t0 = time.monotonic()
    res = await asyncio.gather(*(s.open(sem) for s in sessions), return_exceptions=True)
    dt = time.monotonic() - t0
    bad = [r for r in res if isinstance(r, Exception)]
    print(f"sessions={n - len(bad)}")
    print(f"handshake_seconds={dt:.2f}")
    print(f"handshakes_per_second={(n - len(bad)) / dt:.0f}")
    if bad:
        print(f"error={bad[0]!r}")
        return 1
    tasks = [t for s in sessions for t in s.tasks]
    await asyncio.sleep(hold)
    alive = sum(s.alive for s in sessions)
    print(f"alive_after_hold={alive}")
    # The request is made here, beside the sessions: the clock starts when
    # it is sent, not when an ASan-built vpnctl has got going on a busy
    # machine (that alone took up to 2.7 s), and the loop keeps reading, so
    # the BYE is timed when it arrives.
    t1 = time.monotonic()
    req = asyncio.create_task(revoke(ctl, f"p{victim}"))
    v = sessions[victim]
    for _ in range(500):
        if v.bye_at:
            break
        await asyncio.sleep(0.01)
    answer, t2 = await asyncio.wait_for(req, 20)
    if not answer.startswith(b"ok\n"):
        raise RuntimeError(f"allow remove p{victim}: {answer!r}")
    print(f"revoke_answer_ms={(t2 - t1) * 1000:.0f}")
    print(f"revocation_ms={(v.bye_at - t1) * 1000:.0f}" if v.bye_at else "revocation_ms=none")
    others = sum(s.alive for s in sessions)
    print(f"alive_after_revoke={others}")
    for s in sessions:
        s.w.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return 0 if alive == n and v.bye_at and others == n - 1 else 1


sys.exit(asyncio.run(main()))
