#!/usr/bin/env bash
# liveness: keepalives hold an idle session open past dead_peer_timeout;
# when the path dies silently (no FIN, no RST), the server drops the peer
# and the client notices, both after dead_peer_timeout (6 s here), and the
# client comes back by itself when the path returns.
#
#   [c1] 198.18.1.2 --- s1 198.18.1.1 [srv] --- [inet]
#                       ^ nft: everything on s1 dropped for a while
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

alice_up

say "idle for longer than dead_peer_timeout"
wait_until 10 eval '[[ $(ctl_s status --json | jq ".uptime") -ge 9 ]]'
[[ $(peer_count) == 1 ]] && client_up alice && on_dtls alice || fail "idle session did not survive"
ok "idle session alive after $(ctl_s status --json | jq .uptime) s on dtls (keepalives and probes)"

say "the path dies silently"
fw "$NS_S" 'in iifname "s1" drop' 'out oifname "s1" drop'
t0=$(now_ms)
wait_until 10 eval '[[ $(peer_count) == 0 ]]' || fail "server kept a silent peer"
t1=$(now_ms)
grep -q "no packet within dead_peer_timeout" "$T/server.log" || fail "server reason not logged"
wait_until 5 grep -q "lost server" "$T/alice.log" || fail "client did not notice"
t2=$(now_ms)
ok "server dropped the peer after $((t1 - t0)) ms, client gave up after $((t2 - t0)) ms"
(( t1 - t0 >= 5000 )) || fail "server dropped the peer too early ($((t1 - t0)) ms)"

fw_clear "$NS_S"
t0=$(now_ms)
wait_until 20 client_up alice || fail "client did not come back"
wait_until 5 in_ns "$TAG-c1" ping -c 1 -W 1 "$INET_IP" || fail "no traffic after the path returned"
ok "client back $(( $(now_ms) - t0 )) ms after the path returned"
