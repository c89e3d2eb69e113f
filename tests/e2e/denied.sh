#!/usr/bin/env bash
# denied: a client whose key is not on the allow-list gets no address and no
# packet through; the server logs one line with its fingerprint and
# endpoint; the client logs the denial and retries with backoff.
#
#   [c1] 198.18.1.2 --- 198.18.1.1 [srv] 198.19.0.1 --- 198.19.0.2 [inet]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
client_conf mallory 1
fp=$("$VPNCTL" fingerprint "$T/mallory.crt")
start_server
start_client mallory 1

wait_until 10 grep -q "denied by server" "$T/mallory.log" || fail "client did not log the denial"
ok "client logs: $(grep -m1 'denied by server' "$T/mallory.log")"
line=$(grep "denied" "$T/server.log")
[[ $(grep -c "denied" "$T/server.log") == 1 ]] || fail "expected one denial line so far"
[[ $line == *"$fp"* && $line == *"198.18.1.2:"* ]] || fail "server line lacks fingerprint/endpoint: $line"
ok "server logs one line: $line"

[[ $(peer_count) == 0 ]] || fail "a denied peer is listed"
! in_ns "$TAG-c1" ip link show vpn0 >/dev/null 2>&1 || fail "denied client created a TUN device"
! in_ns "$TAG-c1" ping -c 1 -W 1 "$INET_IP" >/dev/null 2>&1 || fail "packet got through"
ok "no address, no TUN, no packet through"

# Backoff: the second attempt comes after ~1 s, the third after ~2 s more.
denials() { (( $(grep -c 'denied by server' "$T/mallory.log") >= $1 )); }
wait_until 10 denials 3 || fail "no retries"
grep -q "reconnecting in 2s" "$T/mallory.log" || fail "backoff does not grow"
ok "client retries with growing backoff"
[[ $(ctl_s status --json | jq .handshakes.denied) -ge 3 ]] || fail "denials not counted"
ok "server counts denials"
