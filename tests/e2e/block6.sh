#!/usr/bin/env bash
# block6: block_ipv6. A v4-only server pushes a full IPv4 tunnel; the
# underlay also has IPv6 (the server's namespace is a plain IPv6 router to
# the internet host). nft counters on the client's underlay output count
# the IPv6 packets leaving c0, ND/MLD aside: to the server's IPv6 address
# (the tunnel's transport), all others, and of those, to the internet host.
#  1. block_ipv6 on (the default), running as user nobody: the block is up
#     (log, status, --json); ping6 and a TCP connect to the internet host
#     fail at once and nothing IPv6 leaves c0; IPv4 goes through the tunnel
#     and link-local IPv6 still works. A server reload that makes the tunnel
#     split takes the block down, one that makes it full puts it back.
#     SIGTERM: the block is gone and IPv6 to the internet host works again.
#  2. A client killed (SIGKILL) leaves its block; the next one, with
#     block_ipv6 = false, removes it at start, adds none, and its IPv6 does
#     leave c0 while the tunnel is up (so the counter does see packets).
#  3. The server dialled at an IPv6 address off the client's link: a /128
#     through the underlay lets the tunnel's own transport out (TLS and
#     DTLS over IPv6), and that is all the IPv6 that leaves c0.
#
#   [c1] c0 198.18.1.2/24 ------- s1 198.18.1.1/24 [srv] s0 198.19.0.1/24 ----- i0 [inet]
#           2001:db8:1::2/64         2001:db8:1::1/64      2001:db8:2::1/64  2001:db8:2::2/64
#           default6 via ::1         lo 2001:db8:99::1 (vpnd listens on it too)
#                                    pushes no IPv6; IPv6 forwarding on      default6 via ::1
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
C=$TAG-c1
INET6=2001:db8:2::2
SERVER6=2001:db8:99::1

topo_up
client_ns 1
in_ns "$C" ip addr add 2001:db8:1::2/64 dev c0 nodad
in_ns "$NS_S" ip addr add 2001:db8:1::1/64 dev s1 nodad
in_ns "$NS_S" ip addr add 2001:db8:2::1/64 dev s0 nodad
in_ns "$NS_I" ip addr add "$INET6/64" dev i0 nodad
in_ns "$NS_S" ip addr add "$SERVER6/128" dev lo nodad
in_ns "$NS_S" sysctl -qw net.ipv6.conf.all.forwarding=1
in_ns "$C" ip -6 route add default via 2001:db8:1::1
in_ns "$NS_I" ip -6 route add default via 2001:db8:2::1
in_ns "$C" nft -f - <<'NFT'
table inet block6 {
	counter leak6 { }
	counter transport6 { }
	counter to_inet6 { }
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname != "c0" return
		meta nfproto != ipv6 return
		icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return
		ip6 daddr 2001:db8:99::1 counter name transport6 return
		ip6 daddr 2001:db8:2::2 counter name to_inet6
		counter name leak6
	}
}
NFT
count() { in_ns "$C" nft -j list counter inet block6 "$1" | jq '.nftables[1].counter.packets'; }
zero() { in_ns "$C" nft reset counters table inet block6 >/dev/null; }
ping6_inet() { in_ns "$C" ping -6 -c 1 -W 1 "$INET6"; }
# tcp6_err: the errno name of a TCP connect to the internet host, and its ms
tcp6_err() {
	in_ns "$C" python3 -c 'import errno, socket, sys, time
t = time.monotonic()
try:
    socket.create_connection((sys.argv[1], 8080), 3); e = "OK"
except OSError as x:
    e = errno.errorcode.get(x.errno, str(x))
print(e, int((time.monotonic() - t) * 1000))' "$INET6"
}
block_json() { ctl_c alice status --json | jq -r .ipv6_block; }
ours6() { in_ns "$C" ip -6 route show table main proto 118; }
ll_server=$(in_ns "$NS_S" ip -6 -o addr show dev s1 scope link | awk '{print $4}' | cut -d/ -f1)

wait_until 10 ping6_inet || fail "no IPv6 to the internet host before the tunnel"
ok "the underlay carries IPv6 to the internet host"

say "1. block_ipv6 on (the default)"
server_conf
sed -i "s|^listen = .*|listen = [ \"0.0.0.0:4433\", \"[$SERVER6]:4433\" ];|" "$T/server.conf"
client_conf alice 1
echo 'user = "nobody";' >> "$T/alice.conf"
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice || fail "alice not up"
wait_until 5 eval '[[ $(block_json) == true ]]' || fail "status --json: ipv6_block $(block_json)"
ctl_c alice status | grep -qx "ipv6 block: on" || fail "status: $(ctl_c alice status)"
grep -q "ipv6 block up: full IPv4 tunnel without IPv6" "$T/alice.log" || fail "no log line for the block"
[[ $(ours6 | grep -c '^unreachable [:8]') == 2 ]] || fail "not two unreachable routes: $(ours6)"
ok "block up: log, status, --json, unreachable ::/1 and 8000::/1"

zero
t0=$(now_ms)
! ping6_inet 2>/dev/null || fail "ping6 to the internet host answered through the block"
ping_ms=$(( $(now_ms) - t0 ))
read -r err tcp_ms <<<"$(tcp6_err)"
[[ $err == EHOSTUNREACH ]] || fail "TCP connect to [$INET6]: $err, want EHOSTUNREACH"
(( ping_ms < 900 && tcp_ms < 500 )) || fail "IPv6 failed slowly: ping ${ping_ms} ms, connect ${tcp_ms} ms"
leak=$(count leak6) inet=$(count to_inet6)
[[ $leak == 0 && $inet == 0 ]] || fail "IPv6 left c0 under the block: $leak packets ($inet to $INET6)"
ok "blocked: ping6 failed in ${ping_ms} ms, TCP connect $err in ${tcp_ms} ms; c0 saw $leak IPv6 packets ($inet to $INET6)"
in_ns "$C" ping -c 1 -W 2 "$INET_IP" >/dev/null || fail "IPv4 through the tunnel"
in_ns "$C" ping -6 -c 1 -W 2 "$ll_server%c0" >/dev/null || fail "link-local ping6 to the server's s1"
ok "IPv4 goes through the tunnel; link-local IPv6 ($ll_server%c0) still works"

sed -i 's|^routes = .*|routes = [ "198.19.0.0/24" ];|' "$T/server.conf"
ctl_s reload >/dev/null
wait_until 10 eval '[[ $(block_json) == false ]]' || fail "split tunnel: ipv6_block $(block_json)"
[[ -z $(ours6 | grep unreachable) ]] || fail "split tunnel: block left: $(ours6)"
ping6_inet >/dev/null || fail "split tunnel: no IPv6 to the internet host"
sed -i 's|^routes = .*|routes = [ "0.0.0.0/0" ];|' "$T/server.conf"
ctl_s reload >/dev/null
wait_until 10 eval '[[ $(block_json) == true ]]' || fail "full tunnel again: ipv6_block $(block_json)"
! ping6_inet 2>/dev/null || fail "full tunnel again: ping6 answered"
ok "CONFIG updates: split tunnel takes the block down, full tunnel puts it back"

stop_pid "$PID_alice"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
grep -q "ipv6 block down" "$T/alice.log" || fail "no log line for the block going down"
[[ -z $(ours6) ]] || fail "routes left after SIGTERM: $(ours6)"
ping6_inet >/dev/null || fail "no IPv6 to the internet host after the client stopped"
ok "SIGTERM: block down, said in the log; IPv6 to the internet host works again"

say "2. a killed client's block, and block_ipv6 = false"
start_client alice 1
wait_until 15 client_up alice && wait_until 5 eval '[[ $(block_json) == true ]]' ||
	fail "alice not up with the block"
kill -KILL "$PID_alice"
wait "$PID_alice" || true
[[ $(ours6 | grep -c '^unreachable') == 2 ]] || fail "the killed client left no block: $(ours6)"
! ping6_inet 2>/dev/null || fail "ping6 answered under the dead client's block"
echo 'block_ipv6 = false;' >> "$T/alice.conf"
: > "$T/alice.log"
start_client alice 1
wait_until 15 client_up alice || fail "alice not up with block_ipv6 = false"
grep -q "ipv6 block: removed 2 routes left by a client that is gone" "$T/alice.log" ||
	fail "the restarted client did not say it removed the old block"
[[ -z $(ours6) ]] || fail "block_ipv6 = false: routes $(ours6)"
[[ $(block_json) == false ]] && ctl_c alice status | grep -qx "ipv6 block: off" ||
	fail "status with block_ipv6 = false: $(block_json)"
zero
ping6_inet >/dev/null || fail "block_ipv6 = false: no IPv6 to the internet host"
leak=$(count leak6) inet=$(count to_inet6)
(( leak >= 1 && inet >= 1 )) || fail "block_ipv6 = false: the counter saw $leak ($inet)"
ok "restart after SIGKILL removed the old block; block_ipv6 = false: ping6 works, c0 saw $leak IPv6 packets ($inet to $INET6)"
stop_pid "$PID_alice"

say "3. an IPv6 server, off-link: its transport leaves, nothing else does"
sed -i -e '/^block_ipv6 = false;$/d' -e "s|^server = .*|server = \"[$SERVER6]:4433\";|" "$T/alice.conf"
start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice && wait_until 5 eval '[[ $(block_json) == true ]]' ||
	fail "alice not up on dtls over IPv6 with the block"
[[ $(ours6 | grep "^$SERVER6 ") == "$SERVER6 via 2001:db8:1::1 dev c0 "* ]] ||
	fail "no host route to the server through the underlay: $(ours6)"
zero
in_ns "$C" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "IPv4 through the tunnel over IPv6"
! ping6_inet 2>/dev/null || fail "ping6 to the internet host answered through the block"
leak=$(count leak6) transport=$(count transport6)
(( leak == 0 && transport >= 3 )) || fail "IPv6 server: $transport transport packets, $leak others"
ok "IPv6 server: the tunnel runs over IPv6 under the block; c0 saw $transport packets to $SERVER6, $leak other IPv6"
# the underlay's router moves to another address (a new network, a new
# gateway): the host route follows it, and the tunnel stays up under it
in_ns "$NS_S" ip addr add 2001:db8:1::3/64 dev s1 nodad
in_ns "$C" ip -6 route replace default via 2001:db8:1::3
in_ns "$NS_S" ip addr del 2001:db8:1::1/64 dev s1
wait_until 5 eval '[[ $(ours6 | grep "^$SERVER6 ") == "$SERVER6 via 2001:db8:1::3 dev c0 "* ]]' ||
	fail "the host route to the server did not follow the new gateway: $(ours6)"
grep -q "host route to $SERVER6 follows the underlay again" "$T/alice.log" || fail "no log line for the move"
wait_until 10 in_ns "$C" ping -c 1 -W 1 "$INET_IP" || fail "no IPv4 through the tunnel after the gateway moved"
ok "the underlay's IPv6 gateway moved: the host route to $SERVER6 followed it, the tunnel carries on"
stop_pid "$PID_alice"
[[ -z $(ours6) ]] || fail "routes left after SIGTERM: $(ours6)"
ok "SIGTERM: the block and the host route to $SERVER6 are gone"
