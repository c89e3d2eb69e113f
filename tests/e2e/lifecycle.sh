#!/usr/bin/env bash
# lifecycle: SIGTERM removes everything the daemons installed (TUN devices,
# the nftables table, the client's routes) and exits 0; after kill -9 a
# restarted server replaces the stale table (exactly one) and the client
# comes back by itself with the same address.
#
#   [c1] 198.18.1.2 --- 198.18.1.1 [srv] 198.19.0.1 --- [inet]
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
client_conf alice 1
routes_before=$(in_ns "$TAG-c1" ip -4 route show table main)
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice || fail "client did not come up"
addr=$(client_addr alice)
in_ns "$TAG-c1" ip -4 route | grep -q "0.0.0.0/1 dev vpn0" || fail "no 0/1 route"
in_ns "$TAG-c1" ip -4 route | grep -q "^198.18.1.1 " || fail "no host route to the server"
ok "client has its routes: 0/1, 128/1 via vpn0 and a host route to the server"

say "kill -9 the server, restart: one table, client back with $addr"
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
in_ns "$NS_S" nft list table ip vpnd >/dev/null || fail "expected a stale table after kill -9"
start_server
[[ $(in_ns "$NS_S" nft list tables | grep -c 'table ip vpnd') == 1 ]] || fail "not exactly one vpnd table"
ok "exactly one vpnd table after restart"
wait_until 30 client_up alice || fail "client did not reconnect"
[[ $(client_addr alice) == "$addr" ]] || fail "address changed: $(client_addr alice) != $addr"
wait_until 10 in_ns "$TAG-c1" ping -c 1 -W 1 "$INET_IP" || fail "no traffic after reconnect"
ok "client reconnected with $addr, traffic flows"

say "SIGTERM both: everything removed, exit 0"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit status $STOP_RC"
wait_until 2 grep -q "server shutting down" "$T/alice.log" || fail "client was not told of the shutdown"
stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit status $STOP_RC"
! in_ns "$TAG-c1" ip link show vpn0 >/dev/null 2>&1 || fail "client TUN left"
! in_ns "$NS_S" ip link show vpn0 >/dev/null 2>&1 || fail "server TUN left"
! in_ns "$NS_S" nft list table ip vpnd >/dev/null 2>&1 || fail "nft table left"
[[ $(in_ns "$TAG-c1" ip -4 route show table main) == "$routes_before" ]] || fail "client routes not restored"
[[ ! -e $T/server.sock && ! -e $T/alice.sock ]] || fail "control sockets left"
ok "no TUN, no table, routes restored, sockets gone, exit 0"
