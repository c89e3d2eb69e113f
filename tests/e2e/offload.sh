#!/usr/bin/env bash
# offload: the TUN devices run with IFF_VNET_HDR and TSO, so the kernel
# hands vpnd super-packets and takes super-packets back. Over TLS a
# super-packet crosses whole, as one GSO frame (the ends agreed on it in
# CONFIG and CAPS); over DTLS it is cut into segments and the receiver
# coalesces them again. 20 MB each way arrive intact over DTLS and TLS with
# offloads on both ends, and with the client's forced off (VPND_TUN_OFFLOAD=0)
# against a server with them; the devices' own counters show super-packets
# crossed them (average packet far above the MTU) only where offloads are
# on, and the server's GSO frame counters move only over TLS. Bursts of
# 64-byte UDP datagrams arrive intact, and with USO the server writes
# them coalesced. Over DTLS the data goes in vpnd records (magic 0xd2, as
# the test's own nft counters on the server's port see it) both ways, and
# in DTLS records only (0xd1) when the client runs with
# VPND_DTLS_RECORDS=0, as an older client would.
#
#   [c1] vpn0 (mtu 1400) ==DTLS/TLS== [srv] vpn0 -> NAT -> [inet] xfer.py
# timeout: 180
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

SIZE=20000000
# avg NS DIR: the mean packet size the device NS/vpn0 counted in DIR (rx:
# what vpnd wrote, tx: what vpnd read), over the last measurement.
declare -A BASE
snap() {	# snap NS: remember the counters
	local d
	for d in rx tx; do
		BASE[$1.$d.b]=$(in_ns "$1" cat /sys/class/net/vpn0/statistics/${d}_bytes)
		BASE[$1.$d.p]=$(in_ns "$1" cat /sys/class/net/vpn0/statistics/${d}_packets)
	done
}
avg() {
	local b p
	b=$(( $(in_ns "$1" cat /sys/class/net/vpn0/statistics/$2_bytes) - BASE[$1.$2.b] ))
	p=$(( $(in_ns "$1" cat /sys/class/net/vpn0/statistics/$2_packets) - BASE[$1.$2.p] ))
	echo $(( b / (p > 0 ? p : 1) ))
}

gso() { ctl_s status --json | jq -r ".offload.$1"; }

# kinds DIR: "D1 D2", how many datagrams on the server's UDP port went DIR
# (in, out) beginning with 0xd1 (DTLS records) and with 0xd2 (a vpnd
# record), by the counters fw set up below (GRO and GSO batches count once).
kinds() {
	in_ns "$NS_S" nft -j list chain inet vpndtest "$1" | jq -r '[.nftables[].rule? |
	    select(. != null) | [(.expr[] | .match? | select(. != null and
	    .left.payload.base == "th") | .right), (.expr[] | .counter?.packets |
	    select(. != null))]] | sort | map(.[1] | tostring) | join(" ")'
}
# records LABEL KIND: since the last call (or records_mark), data went both ways in datagrams
# of KIND (d1 or d2) and hardly any of the other kind (the handshake and
# the first probe are DTLS records).
declare -A KB
records_mark() {
	local dir a b
	for dir in in out; do
		read -r a b <<<"$(kinds $dir)"
		KB[$dir.1]=$a KB[$dir.2]=$b
	done
}
records() {
	local dir a b
	for dir in in out; do
		read -r a b <<<"$(kinds $dir)"
		local d1=$(( a - ${KB[$dir.1]:-0} )) d2=$(( b - ${KB[$dir.2]:-0} ))
		KB[$dir.1]=$a KB[$dir.2]=$b
		say "$1, server $dir: $d1 datagrams of DTLS records, $d2 of vpnd records"
		if [[ $2 == d2 ]]; then
			(( d2 >= 100 && d1 <= 10 )) || fail "$1 ($dir): $d1 DTLS, $d2 vpnd-record datagrams"
		else
			(( d1 >= 100 && d2 == 0 )) || fail "$1 ($dir): $d1 DTLS, $d2 vpnd-record datagrams"
		fi
	done
	if [[ $2 == d2 ]]; then ok "$1: data in vpnd records both ways"
	else ok "$1: data in DTLS records both ways"; fi
}

# both LABEL BIG_C BIG_S GSO_UP GSO_DOWN: 20 MB up, 20 MB down; BIG_x
# yes/no says whether that end's device should see super-packets, GSO_x
# whether GSO frames should carry that direction.
both() {
	local c s g
	snap "$TAG-c1"; snap "$NS_S"; g=$(gso gso_received)
	upload alice 1 $SIZE
	c=$(avg "$TAG-c1" tx) s=$(avg "$NS_S" rx) g=$(( $(gso gso_received) - g ))
	say "$1 upload: $XFER_MS ms; mean packet vpnd read on the client $c, wrote on the server $s bytes; $g GSO frames"
	check "$1 upload" "$2" "$c" "$3" "$s"
	gso_check "$1 upload" "$4" "$g"
	snap "$TAG-c1"; snap "$NS_S"; g=$(gso gso_sent)
	download alice 1 $SIZE
	c=$(avg "$TAG-c1" rx) s=$(avg "$NS_S" tx) g=$(( $(gso gso_sent) - g ))
	say "$1 download: $XFER_MS ms; mean packet vpnd read on the server $s, wrote on the client $c bytes; $g GSO frames"
	check "$1 download" "$2" "$c" "$3" "$s"
	gso_check "$1 download" "$5" "$g"
	ok "$1: 20 MB each way intact (sha256)"
}
gso_check() {	# gso_check WHAT yes|no FRAMES
	[[ $2 == yes ]] && { (( $3 > 100 )) || fail "$1: only $3 GSO frames"; }
	[[ $2 == no ]] && { (( $3 == 0 )) || fail "$1: $3 GSO frames where none belong"; }
	return 0
}
check() {	# check WHAT BIG_C C BIG_S S
	[[ $2 == yes ]] && { (( $3 > 3000 )) || fail "$1: client device mean $3 bytes, no super-packets"; }
	[[ $2 == no ]] && { (( $3 <= 1400 )) || fail "$1: client device mean $3 bytes with offloads off"; }
	[[ $4 == yes ]] && { (( $5 > 3000 )) || fail "$1: server device mean $5 bytes, no super-packets"; }
	return 0
}

# udp_burst LABEL: 3,000 datagrams of 64 bytes from the client to the
# internet host arrive intact; on a device with USO the server coalesces
# them, so it writes far fewer packets than it delivers, each far larger.
UDP_N=3000
udp_burst() {
	local w0 w b got bad sink
	rm -f "$T/udp.ready"
	bg_ns "$NS_I" python3 "$E2E_DIR/udpburst.py" sink 9001 "$T/udp.ready" >"$T/udp.out"
	sink=$!
	PIDS+=("$sink")
	wait_until 10 test -e "$T/udp.ready" || fail "udp sink did not start"
	w0=$(ctl_s status --json | jq .offload.tun_writes)
	snap "$NS_S"
	in_ns "$TAG-c1" python3 "$E2E_DIR/udpburst.py" send "$INET_IP" 9001 $UDP_N
	wait_pid_gone "$sink" 40 || fail "udp sink still running"
	read -r got bad <"$T/udp.out"
	w=$(( $(ctl_s status --json | jq .offload.tun_writes) - w0 )) b=$(avg "$NS_S" rx)
	say "$1: $got of $UDP_N datagrams arrived, $bad bad; the server wrote $w packets, $b bytes on average"
	(( bad == 0 )) || fail "$1: $bad datagrams arrived wrong"
	(( got >= UDP_N * 9 / 10 )) || fail "$1: only $got of $UDP_N datagrams arrived"
	if [[ $OFFL == *uso4* ]]; then
		(( w * 2 < got && b > 2 * 92 )) ||
			fail "$1: the server wrote $w packets of $b bytes for $got datagrams: no coalescing"
		ok "$1: $got datagrams intact in $w writes"
	else
		ok "$1: $got datagrams intact (no USO on this kernel: one write each)"
	fi
}

topo_up
client_ns 1
xfer_serve
server_conf
client_conf alice 1
start_server
fw "$NS_S" "in udp dport 4433 @th,64,8 0xd1 counter" "in udp dport 4433 @th,64,8 0xd2 counter" \
	"out udp sport 4433 @th,64,8 0xd1 counter" "out udp sport 4433 @th,64,8 0xd2 counter"
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice not up on dtls"
# USO4/USO6 where the kernel has them (Linux 6.2 and later)
OFFL=$(ctl_s status --json | jq -r .offload.tun)
[[ $OFFL == "csum tso4 tso6" || $OFFL == "csum tso4 tso6 uso4 uso6" ]] || fail "status: $(ctl_s status --json | jq -c .offload)"
grep -q "tun vpn0: offloads $OFFL\$" "$T/server.log" || fail "server: $(grep offloads "$T/server.log")"
grep -q "tun vpn0: offloads $OFFL\$" "$T/alice.log" || fail "client: $(grep offloads "$T/alice.log")"
ok "both ends: tun vpn0 with offloads $OFFL"
both "dtls, offloads on" yes yes no no
udp_burst "dtls, offloads on"
records "dtls, offloads on" d2

stop_pid "$PID_alice"
VPND_DTLS_RECORDS=0 start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice (no vpnd records) not on dtls"
records_mark
both "dtls, client without vpnd records" yes yes no no
records "dtls, client without vpnd records" d1

stop_pid "$PID_alice"
sed -i 's/^tun = .*/&\ntransport = "tls";/' "$T/alice.conf"
start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_tls alice || fail "alice not up on tls"
both "tls, offloads on" yes yes yes yes

stop_pid "$PID_alice"
: >"$T/alice.log"
VPND_TUN_OFFLOAD=0 start_client alice 1
wait_until 15 client_up alice || fail "alice (offloads off) not up"
grep -q 'tun vpn0: offloads off' "$T/alice.log" || fail "client: $(grep offloads "$T/alice.log")"
both "tls, client offloads off" no yes no yes
sed -i '/^transport = "tls";$/d' "$T/alice.conf"
stop_pid "$PID_alice"
VPND_TUN_OFFLOAD=0 start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice (offloads off) not on dtls"
both "dtls, client offloads off" no yes no no
[[ $(gso gso_bad) == 0 ]] || fail "GSO frames refused: $(gso gso_bad)"
ok "no GSO frame refused; the server's offload counters: $(ctl_s status --json | jq -c .offload)"
