#!/usr/bin/env bash
# routes: the client never takes over a route it did not make, and its host
# route to the server follows the underlay.
#  1. The client's table has routes equal to pushed ones (198.18.77.0/24 as
#     it is, 198.18.78.0/24 with another metric) and a host route to the
#     server: all three are left as they are while connected, across a
#     reconnect, and after the client stops; only its own routes go.
#  2. Without that host route: the underlay link flaps (the kernel drops
#     every route through it, the client's host route too) and the default
#     route comes back; then the default route moves to another gateway.
#     Each time the host route follows within 2 s and the tunnel passes a
#     ping.
#
#   [c1] c0 198.18.1.2/24 ----- s1 198.18.1.1/24, 198.18.1.254/24 [srv] --- [inet]
#        default via 198.18.1.1      lo 198.18.99.1 (the address the client dials)
#   pushed: 0.0.0.0/0, 198.18.77.0/24, 198.18.78.0/24
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
C=$TAG-c1
SERVER=198.18.99.1

topo_up
client_ns 1
in_ns "$NS_S" ip addr add "$SERVER/32" dev lo
in_ns "$NS_S" ip addr add 198.18.1.254/24 dev s1
server_conf
sed -i 's|^routes = .*|routes = [ "0.0.0.0/0", "198.18.77.0/24", "198.18.78.0/24" ];|' "$T/server.conf"
client_conf alice 1
sed -i "s|^server = .*|server = \"$SERVER:4433\";|" "$T/alice.conf"
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"

rt() { in_ns "$C" ip -4 route show table main "$@"; }
ours() { rt proto 118; }		# what vpnd adds carries protocol 118
host_route() { rt "$SERVER/32" | sed "s/ *$//"; }
connects() { grep -c "connected to $SERVER" "$T/alice.log" || true; }
tunnel_ping() { in_ns "$C" ping -c 1 -W 1 "$INET_IP"; }
# host_route_is WANT: the host route to the server is ours and goes WANT
host_route_is() { [[ $(host_route) == "$SERVER $1 proto 118" ]]; }

say "1. routes the client did not make are left alone"
in_ns "$C" ip route add default via 198.18.1.1
in_ns "$C" ip route add 198.18.77.0/24 via 198.18.1.1
in_ns "$C" ip route add 198.18.78.0/24 via 198.18.1.1 metric 100
in_ns "$C" ip route add "$SERVER/32" via 198.18.1.1
before=$(rt)
theirs() { rt 198.18.77.0/24; rt 198.18.78.0/24; host_route; }
theirs_before=$(theirs)
start_client alice 1
wait_until 15 client_up alice || fail "alice not up"
[[ $(theirs) == "$theirs_before" ]] || fail "routes not ours changed: $(theirs)"
ours | grep -q "^0.0.0.0/1 dev vpn0" && ours | grep -q "^128.0.0.0/1 dev vpn0" ||
	fail "no 0/1 and 128/1 via vpn0: $(ours)"
[[ -z $(ours | grep -e 198.18.7 -e "$SERVER") ]] || fail "routes over theirs: $(ours)"
for r in 198.18.77.0/24 198.18.78.0/24; do
	grep -q "route $r exists already: left as it is" "$T/alice.log" || fail "$r kept without a word"
done
grep -q "host route to $SERVER exists already: left as it is" "$T/alice.log" ||
	fail "host route kept without a word"
in_ns "$C" ip route get 198.18.77.9 | grep -q "via 198.18.1.1 dev c0" || fail "198.18.77.9 not via the underlay"
wait_until 10 tunnel_ping || fail "no ping through the tunnel"
ok "198.18.77.0/24, 198.18.78.0/24 (metric 100) and the host route untouched, logged; tunnel up"

kill -HUP "$CLIENT_PID"		# reconnects: routes applied again
wait_until 20 eval '(( $(connects) >= 2 ))' && wait_until 15 client_up alice || fail "no reconnect"
[[ $(theirs) == "$theirs_before" ]] || fail "routes not ours changed on reconnect: $(theirs)"
ok "still untouched after a reconnect"

stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
[[ $(rt) == "$before" ]] || fail "table not as before: $(rt)"
ok "client stopped: its own routes gone, the others still there"

say "2. the host route follows the underlay"
in_ns "$C" ip route del "$SERVER/32"
start_client alice 1
wait_until 15 client_up alice || fail "alice not up (2)"
host_route_is "via 198.18.1.1 dev c0" || fail "host route: '$(host_route)'"
wait_until 10 tunnel_ping || fail "no ping through the tunnel (2)"

in_ns "$C" ip link set c0 down		# takes every route through c0 along
[[ -z $(host_route) ]] || fail "host route survived the link going down"
in_ns "$C" ip link set c0 up
in_ns "$C" ip route add default via 198.18.1.1	# as a DHCP client would
t0=$(now_ms)
wait_until 10 host_route_is "via 198.18.1.1 dev c0" || fail "host route not back: '$(host_route)'"
back=$(( $(now_ms) - t0 ))
(( back <= 2000 )) || fail "host route back after $back ms"
t0=$(now_ms)
wait_until 20 tunnel_ping || fail "no ping through the tunnel after the flap"
ok "link flap: host route back ${back} ms after the default route, ping through the tunnel after $(( $(now_ms) - t0 )) ms"

in_ns "$C" ip route replace default via 198.18.1.254
t0=$(now_ms)
wait_until 10 host_route_is "via 198.18.1.254 dev c0" || fail "host route did not move: '$(host_route)'"
moved=$(( $(now_ms) - t0 ))
(( moved <= 2000 )) || fail "host route moved after $moved ms"
[[ $(rt "$SERVER/32" | wc -l) == 1 ]] || fail "more than one host route: $(host_route)"
wait_until 20 tunnel_ping || fail "no ping through the tunnel after the gateway change"
grep -q "host route to $SERVER follows the underlay again" "$T/alice.log" || fail "not logged"
ok "new gateway: host route moved in ${moved} ms, ping through the tunnel"

theirs_now=$(rt | grep -v -e "proto 118" -e "dev vpn0")
stop_pid "$CLIENT_PID"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC (2)"
[[ $(rt) == "$theirs_now" ]] || fail "table after stop: $(rt)"
ok "client stopped: its routes gone, the rest as it was"
