#!/usr/bin/env bash
# isolation: the server drops and counts packets whose inner source is not
# the sending peer's address, and packets between peers while
# client_to_client is off; with it on, peers reach each other.
#
#   [c1 alice 10.8.0.2] ---+
#                          [srv 10.8.0.1]
#   [c2 bob   10.8.0.3] ---+
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
client_ns 2
server_conf
client_conf alice 1
client_conf bob 2
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")" --address 10.8.0.2
allow bob "$("$VPNCTL" fingerprint "$T/bob.crt")" --address 10.8.0.3
start_client alice 1
start_client bob 2
wait_until 15 client_up alice && wait_until 15 client_up bob || fail "clients did not come up"
in_ns "$TAG-c1" ping -c 1 -W 2 10.8.0.1 >/dev/null || fail "alice cannot reach the server"

dropped() { ctl_s status --json | jq ".dropped.$1"; }

say "spoofed inner source"
in_ns "$TAG-c1" ip addr add 10.8.0.99/32 dev vpn0
before=$(dropped spoofed)
! in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 1 -I 10.8.0.99 10.8.0.1 >/dev/null 2>&1 || fail "spoofed ping answered"
! in_ns "$TAG-c1" ping -c 2 -i 0.2 -W 1 -I 10.8.0.99 "$INET_IP" >/dev/null 2>&1 || fail "spoofed ping to inet answered"
after=$(dropped spoofed)
(( after - before >= 5 )) || fail "spoofed packets counted $before -> $after"
ok "spoofed packets dropped and counted ($before -> $after)"

say "client to client, off"
before=$(dropped isolated)
! in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 1 10.8.0.3 >/dev/null 2>&1 || fail "alice reached bob"
after=$(dropped isolated)
(( after - before >= 3 )) || fail "isolated packets counted $before -> $after"
ok "alice cannot reach bob; dropped and counted ($before -> $after)"

say "client to client, on (restart with client_to_client = true)"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit status $STOP_RC"
[[ $(in_ns "$NS_S" cat /proc/sys/net/ipv4/ip_forward) == 0 ]] || fail "ip_forward not restored to 0"
rm -f "$T/server.sock"
server_conf "client_to_client = true;"
start_server
wait_until 20 client_up alice && wait_until 20 client_up bob || fail "clients did not reconnect"
wait_until 10 in_ns "$TAG-c1" ping -c 1 -W 1 10.8.0.3 || fail "alice cannot reach bob with client_to_client"
ok "alice reaches bob with client_to_client = true"
