#!/usr/bin/env bash
# logsafe: what a remote party sends never forges a log line, and the lines
# it can cause come within a budget. An allowed key says BYE with a newline,
# an escape and bytes that are not UTF-8 in its reason: the server logs one
# line with them escaped. 40 denied handshakes from 40 addresses: at most
# 10 denial lines in 10 s, then one "suppressed" summary.
#
#   [c1] mallet (allowed) ------.
#                               [srv] --- [inet]
#   [c2] mallory (denied), 198.18.2.10-49 -'
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
H="$E2E_DIR/hostile.py"

topo_up
client_ns 1
client_ns 2
for i in $(seq 10 49); do echo "address add 198.18.2.$i/24 dev c0"; done |
	in_ns "$TAG-c2" ip -batch -
server_conf
keygen mallet >/dev/null
keygen mallory >/dev/null
start_server
allow mallet "$("$VPNCTL" fingerprint "$T/mallet.crt")"

say "a BYE reason with a newline, an escape and non-UTF-8 bytes"
in_ns "$TAG-c1" python3 "$H" bye 198.18.1.1 4433 "$T/mallet.key" "$T/mallet.crt" \
	'gone\ninfo peer root 198.18.9.9:1 connected, 10.8.0.99, tls\e[2J'
wait_until 10 grep -q 'mallet .* disconnected: closed by peer:' "$T/server.log" ||
	fail "the BYE was not logged"
line=$(grep 'disconnected: closed by peer:' "$T/server.log")
[[ $line == *'"gone\x0ainfo peer root 198.18.9.9:1 connected, 10.8.0.99, tls\x1b[2J\xff\xfe"' ]] ||
	fail "BYE text not escaped: $line"
! grep -q '^info peer root' "$T/server.log" || fail "a peer forged a log line"
! grep -qP '\x1b' "$T/server.log" || fail "a raw escape reached the log"
ok "one line, escaped: ${line#*disconnected: }"

say "40 denied handshakes from 40 addresses"
d0=$(grep -c ' denied: ' "$T/server.log" || true)
srcs=$(seq -f '198.18.2.%g' 10 49)
out=$(in_ns "$TAG-c2" python3 "$H" denied 198.18.2.1 4433 "$T/mallory.key" "$T/mallory.crt" $srcs)
[[ $out == "denied 40" ]] || fail "expected 40 denials: $out"
(( $(ctl_s status --json | jq .handshakes.denied) == 40 )) || fail "denials not counted"
wait_until 15 grep -q 'denied peers: suppressed' "$T/server.log" ||
	fail "no summary of the suppressed denial lines"
d1=$(grep -c ' denied: ' "$T/server.log")
(( d1 - d0 <= 20 )) || fail "$(( d1 - d0 )) denial lines for 40 denials"
ok "$(( d1 - d0 )) denial lines for 40, then: $(grep -m1 'denied peers: suppressed' "$T/server.log")"
