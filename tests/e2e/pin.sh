#!/usr/bin/env bash
# pin: a client refuses a server whose fingerprint is not the pinned one,
# before any tunnel traffic, and says which fingerprint it saw.
#
#   [c1] 198.18.1.2 --- 198.18.1.1 [srv]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
keygen impostor >/dev/null
wrong=$("$VPNCTL" fingerprint "$T/impostor.crt")
real=$("$VPNCTL" fingerprint "$T/server.crt")
client_conf alice 1 "$wrong"
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1

wait_until 10 grep -q "is not server_fingerprint" "$T/alice.log" || fail "no pin refusal logged"
line=$(grep -m1 "is not server_fingerprint" "$T/alice.log")
[[ $line == *"$real"* && $line == *"$wrong"* ]] || fail "refusal does not name both: $line"
ok "client refuses: $line"
[[ $(peer_count) == 0 ]] || fail "server admitted a client that refused it"
! in_ns "$TAG-c1" ip link show vpn0 >/dev/null 2>&1 || fail "TUN created despite the refusal"
! grep -q "connected to" "$T/alice.log" || fail "client claims to be connected"
ok "no session, no TUN device"
