#!/usr/bin/env bash
# underlay6: IPv6 underneath the tunnel. One "[::]:4433" listener (one TCP
# and one UDP socket) serves IPv4 and IPv6 clients, names IPv4 peers as
# plain IPv4, and answers UDP from the address each client sent to (two
# addresses per link here; the clients use the secondary ones). DTLS,
# roaming (bob's own NAT66 changes his port) and the TLS fallback work
# over IPv6. A name with a dead AAAA and a live A
# connects in well under 2 s (RFC 8305 race). A client whose underlay moves
# from IPv4 to IPv6 mid-transfer is back within a second, same tunnel
# address, same TUN device, the transfer intact (and back to IPv4). The
# listen list also has specific addresses on port 4434 the server does not
# hold yet (IP_FREEBIND): added later, clients connect to them.
# Progress is read from the daemons' logs where it can be (a cheap grep,
# not an ASan vpnctl's start-up on a busy machine).
#
#   alice c1 198.18.1.2 ---------- s1 198.18.1.1, .5        [srv] s0 --- i0 [inet]
#   bob   c2 2001:db8:2::2 ------- s2 2001:db8:2::1, ::5          198.19.0.2
#   carol c3 198.18.3.2, ::2 ----- s3 198.18.3.1, 2001:db8:3::1 (TCP dropped)
#   dan   c4 198.18.4.2 -> ::2 --- s4 198.18.4.1, 2001:db8:4::1
#   split routes: 198.19.0.0/24 through the tunnel
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
for n in 1 2 3 4; do client_ns "$n"; done
for n in 2 3 4; do underlay6 "$n"; done
in_ns "$TAG-c2" ip addr del 198.18.2.2/24 dev c0		# bob: IPv6 only
in_ns "$NS_S" ip addr add 198.18.1.5/24 dev s1			# secondaries
in_ns "$NS_S" ip -6 addr add 2001:db8:2::5/64 dev s2 nodad
in_ns "$TAG-c4" ip -6 addr del 2001:db8:4::2/64 dev c0	# dan: IPv4 for now

bg_ns "$NS_I" python3 "$E2E_DIR/xfer.py" serve 8080 >/dev/null 2>&1	# xfer_serve, later checked
PIDS+=($!)
server_conf 'routes = [ "198.19.0.0/24" ];'
sed -i 's/^listen = .*/listen = [ "[::]:4433", "198.18.1.9:4434", "[2001:db8:2::9]:4434" ];/
	/^routes = \[ "0.0.0.0\/0" \];/d' "$T/server.conf"
for c in alice:1 bob:2 carol:3 dan:4; do client_conf "${c%:*}" "${c#*:}"; done
sed -i 's/198.18.1.1:4433/198.18.1.5:4433/' "$T/alice.conf"
sed -i 's/198.18.2.1:4433/[2001:db8:2::5]:4433/' "$T/bob.conf"
sed -i 's/198.18.3.1:4433/vpn3.test:4433/' "$T/carol.conf"
sed -i 's/198.18.4.1:4433/vpn4.test:4433/' "$T/dan.conf"
printf '2001:db8:3::1 vpn3.test\n198.18.3.1 vpn3.test\n' > "$T/hosts3"
printf '2001:db8:4::1 vpn4.test\n198.18.4.1 vpn4.test\n' > "$T/hosts4"
start_server
for c in alice bob carol dan; do allow "$c" "$("$VPNCTL" fingerprint "$T/$c.crt")"; done
# logged NAME N PATTERN: NAME's log has more than N lines matching PATTERN
logged() { (( $(grep -c -- "$3" "$T/$1.log") > $2 )); }
up_on_dtls() {	# up_on_dtls NAME [N]: the (N+1)th session is up and on DTLS
	wait_until 15 logged "$1" "${2:-0}" "connected to" &&
	wait_until 10 logged "$1" "${2:-0}" "transport dtls"
}

[[ $(in_ns "$NS_S" ss -Htln 'sport = :4433' | wc -l) == 1 &&
   $(in_ns "$NS_S" ss -Huln 'sport = :4433' | wc -l) == 1 ]] ||
	fail "not one TCP and one UDP socket: $(in_ns "$NS_S" ss -Htuln)"
ok "listen [::]:4433: one TCP, one UDP socket"

say "alice: IPv4 to the secondary 198.18.1.5, bob: IPv6 to the secondary ::5"
snat6() {	# snat6 LOW-HIGH: bob's own NAT66 of his DTLS source port, mappings forgotten
	in_ns "$TAG-c2" nft -f - <<-NFT
	table ip6 bobnat
	delete table ip6 bobnat
	table ip6 bobnat {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "c0" udp dport 4433 snat to [2001:db8:2::2]:$1
		}
	}
	NFT
	in_ns "$TAG-c2" conntrack -D -f ipv6 -p udp >/dev/null 2>&1 || true
}
snat6 40000-40999
start_client alice 1
start_client bob 2
up_on_dtls alice || fail "alice not up on dtls"
up_on_dtls bob || fail "bob not up on dtls"
endpoint_of() { ctl_s peers --json | jq -r --arg n "$1" '.[] | select(.name == $n) | .endpoint'; }
[[ $(endpoint_of alice) == 198.18.1.2:* ]] || fail "alice's endpoint $(endpoint_of alice)"
[[ $(endpoint_of bob) == "[2001:db8:2::2]:40"??? ]] || fail "bob's endpoint $(endpoint_of bob)"
grep -q "peer alice 198.18.1.2:[0-9]* connected" "$T/server.log" || fail "log names alice mapped"
! grep -q '::ffff:' "$T/server.log" || fail "an IPv4-mapped address in the server log"
in_ns "$TAG-c1" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "alice: no traffic"
in_ns "$TAG-c2" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "bob: no traffic"
ok "both on one socket pair, on dtls from secondary addresses: $(endpoint_of alice), $(endpoint_of bob)"

say "bob roams over IPv6: his DTLS source port changes"
snat6 41000-41999
in_ns "$TAG-c2" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "bob: no traffic after roaming"
wait_until 5 grep -q "DTLS now from \[2001:db8:2::2\]:41" "$T/server.log" || fail "bob did not roam"
in_ns "$TAG-c2" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "bob: no traffic after roaming"
on_dtls bob || fail "bob left dtls"
ok "bob roamed to $(endpoint_of bob), still dtls from the secondary address"

say "bob's UDP blocked: TLS over IPv6"
fw "$NS_S" "in ip6 saddr 2001:db8:2::2 udp dport 4433 drop"
wait_until 10 on_tls bob || fail "bob not on tls with UDP blocked"
in_ns "$TAG-c2" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "bob: no traffic over tls"
fw_clear "$NS_S"
ok "bob on tls over IPv6, traffic flows"

say "carol: vpn3.test has a dead AAAA (SYNs dropped) and a live A"
fw "$NS_S" "in ip6 daddr 2001:db8:3::1 tcp dport 4433 drop"
t0=$(now_ms)
start_client_hosts carol 3 "$T/hosts3"
up_on_dtls carol || fail "carol not up on dtls (to the address TLS reached)"
START_MS=$(( $(now_ms) - t0 ))
# resolved to admitted, as the client timed it: the race, TLS and CONFIG
HE_MS=$(ctl_c carol metrics | awk '/^vpnd_handshake_duration_seconds_sum/ { printf "%d", $2 * 1000 }')
(( HE_MS >= 250 && HE_MS < 1500 && START_MS < 6000 )) ||
	fail "carol connected in $HE_MS ms ($START_MS ms from start)"
grep -q "peer carol 198.18.3.2:[0-9]* connected" "$T/server.log" || fail "carol not over IPv4"
fw_clear "$NS_S"
ok "carol connected in $HE_MS ms (up on dtls $START_MS ms after start)"

say "dan: the underlay moves from IPv4 to IPv6 in the middle of a download"
start_client_hosts dan 4 "$T/hosts4"
up_on_dtls dan || fail "dan not up on dtls"
grep -q "peer dan 198.18.4.2:[0-9]* connected" "$T/server.log" || fail "dan not over IPv4"
addr0=$(client_addr dan)
tun0=$(in_ns "$TAG-c4" cat /sys/class/net/vpn0/ifindex)
in_ns "$NS_I" tc qdisc add dev i0 root tbf rate 16mbit burst 64kb latency 500ms
wait_until 10 in_ns "$NS_I" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' ||
	fail "transfer server did not start"
( download dan 4 4000000 ) > "$T/xfer.out" 2>&1 &
xfer=$!
tun_rx() { in_ns "$TAG-c4" cat /sys/class/net/vpn0/statistics/rx_bytes; }	# written by vpnd
wait_until 20 eval '(( $(tun_rx) > 800000 ))' || fail "download did not start"
n0=$(grep -c 'connected to' "$T/dan.log")
d0=$(grep -c 'transport dtls' "$T/dan.log")
in_ns "$TAG-c4" ip -6 addr add 2001:db8:4::2/64 dev c0 nodad
t0=$(now_ms)
in_ns "$TAG-c4" ip addr del 198.18.4.2/24 dev c0
wait_until 10 logged dan "$n0" "connected to" || fail "dan not back after the move"
MOVE_MS=$(( $(now_ms) - t0 ))
wait "$xfer" || fail "download across the move: $(cat "$T/xfer.out")"
grep -q "peer dan \[2001:db8:4::2\]:[0-9]* connected" "$T/server.log" || fail "dan not over IPv6"
[[ $(client_addr dan) == "$addr0" ]] || fail "tunnel address $addr0 -> $(client_addr dan)"
[[ $(in_ns "$TAG-c4" cat /sys/class/net/vpn0/ifindex) == "$tun0" ]] || fail "TUN device replaced"
(( MOVE_MS < 1000 )) || fail "dan back after $MOVE_MS ms"
wait_until 10 logged dan "$d0" "transport dtls" || fail "dan not on dtls over IPv6"
ok "IPv4 -> IPv6: back in $MOVE_MS ms, $addr0 kept, same vpn0, 4 MB intact, dtls"
in_ns "$NS_I" tc qdisc del dev i0 root

n0=$(grep -c 'connected to' "$T/dan.log")
in_ns "$TAG-c4" ip addr add 198.18.4.2/24 dev c0
t0=$(now_ms)
in_ns "$TAG-c4" ip -6 addr del 2001:db8:4::2/64 dev c0
wait_until 10 logged dan "$n0" "connected to" || fail "dan not back after the move back"
BACK_MS=$(( $(now_ms) - t0 ))
(( $(grep -c "peer dan 198.18.4.2:[0-9]* connected" "$T/server.log") == 2 )) ||
	fail "dan not on IPv4 again"
[[ $(client_addr dan) == "$addr0" ]] || fail "tunnel address changed on the move back"
(( BACK_MS < 1000 )) || fail "dan back after $BACK_MS ms"
ok "IPv6 -> IPv4: back in $BACK_MS ms"

say "198.18.1.9:4434 and [2001:db8:2::9]:4434 were bound before they existed"
[[ $(in_ns "$NS_S" ss -Htln 'sport = :4434' | wc -l) == 2 ]] || fail "not two listeners on 4434"
in_ns "$NS_S" ip addr add 198.18.1.9/24 dev s1
in_ns "$NS_S" ip -6 addr add 2001:db8:2::9/64 dev s2 nodad
stop_pid "$PID_alice"
stop_pid "$PID_bob"
sed -i 's/198.18.1.5:4433/198.18.1.9:4434/' "$T/alice.conf"
sed -i 's/2001:db8:2::5\]:4433/2001:db8:2::9]:4434/' "$T/bob.conf"
a0=$(grep -c 'connected to' "$T/alice.log")
b0=$(grep -c 'connected to' "$T/bob.log")
start_client alice 1
start_client bob 2
up_on_dtls alice "$a0" || fail "alice not up on 198.18.1.9:4434"
up_on_dtls bob "$b0" || fail "bob not up on [2001:db8:2::9]:4434"
ok "IP_FREEBIND: addresses added after the start, clients up on dtls to them"

say "figures: happy eyeballs $HE_MS ms, v4->v6 $MOVE_MS ms, v6->v4 $BACK_MS ms"
