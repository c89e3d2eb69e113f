#!/usr/bin/env bash
# sessions1000: a load generator speaking vpnd's protocol (no TUN) opens
# 1,000 authenticated sessions against one server and holds them HOLD
# seconds with keepalives (20 in make check: three dead_peer_timeouts); one of them is revoked; then the server stops
# cleanly (under ASan, with the leak check). Reports handshakes per second,
# server RSS per session and the revocation time.
# Under ASan it took 87 s on a loaded 2-core machine and 133 s with a CPU
# hog besides (the handshakes: 9 s and 43 s); the limit is three times that:
# timeout: 420
# serial
#
#   [c1] loadgen.py (1000 keys) --- [srv] network 10.8.0.0/22
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
N=${SESSIONS:-1000}
HOLD=${HOLD:-20}

topo_up
client_ns 1
NETWORK=10.8.0.0/22 server_conf
# The keys in one process: 1,000 `vpnctl keygen` runs under ASan took most
# of the time limit on a busy machine. One is checked against vpnctl's own
# fingerprint, so the generator cannot drift from what vpnd computes.
mkdir "$T/keys"
t0=$(now_ms)
python3 "$E2E_DIR/mkkeys.py" "$T/keys" "$N" p > "$T/entries" || fail "mkkeys.py"
[[ $(wc -l < "$T/entries") == "$N" ]] || fail "mkkeys.py made $(wc -l < "$T/entries") keys"
read -r name fp < "$T/entries"
[[ $("$VPNCTL" fingerprint "$T/keys/$name.crt") == "$fp" ]] || fail "mkkeys.py: $name's fingerprint is not vpnctl's"
{ echo "peers = ("; sed 's/^\(.*\) \(.*\)$/  { name = "\1"; fingerprint = "\2"; },/; $ s/,$//' "$T/entries"; echo ");"; } > "$T/peers.conf"
ok "$N keys made in $(( $(now_ms) - t0 )) ms"
t0=$(now_ms)
start_server
[[ $(ctl_s allow list --json | jq length) == "$N" ]] || fail "allow-list not loaded"
ok "server up with $N peers allowed in $(( $(now_ms) - t0 )) ms"
rss() { awk '/VmRSS/ { print $2 }' "/proc/$SERVER_PID/status"; }
rss0=$(rss)

out=$(in_ns "$TAG-c1" python3 "$E2E_DIR/loadgen.py" 198.18.1.1 4433 "$T/keys" "$N" "$HOLD" \
	"$T/server.sock" $((N / 2)) 2>&1) ||
	fail "load generator: $(tr '\n' ' ' <<<"$out")"
eval "$(grep -E '^[a-z_]+=[0-9.]+$' <<<"$out")"
[[ $sessions == "$N" && $alive_after_hold == "$N" && $alive_after_revoke == $((N - 1)) ]] ||
	fail "sessions: $(tr '\n' ' ' <<<"$out")"
ok "$N sessions up in ${handshake_seconds}s (${handshakes_per_second} handshakes/s), all alive after ${HOLD}s"
(( revocation_ms <= 1000 )) || fail "revocation took $revocation_ms ms"
[[ $(ctl_s allow list --json | jq length) == $((N - 1)) ]] || fail "p$((N / 2)) still in the allow-list"
ok "one revoked among $N in ${revocation_ms} ms (answered in ${revoke_answer_ms} ms), the others untouched"
rss1=$(rss)
ok "server RSS ${rss0} kB idle, ${rss1} kB with $N sessions: $(( (rss1 - rss0) / N )) kB per session"

stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit $STOP_RC (a leak report exits non-zero under ASan)"
ok "server stopped cleanly (exit 0, leak check included under ASan)"
