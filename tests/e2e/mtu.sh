#!/usr/bin/env bash
# mtu: packets up to the tunnel MTU (1400) pass intact both ways with DF
# set, over DTLS and over TLS; one byte more does not leave the client; the
# server clamps TCP MSS for tunnel traffic.
#
#   [c1] --- [srv] --- [inet]      tunnel MTU 1400 on a 1500-byte underlay
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

alice_up
[[ $(in_ns "$TAG-c1" cat /sys/class/net/vpn0/mtu) == 1400 ]] || fail "client tun mtu"

full() {	# full LABEL: 1400-byte packets with DF to the server and beyond
	in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 -M do -s 1372 10.8.0.1 >/dev/null ||
		fail "$1: 1400-byte ping to the server failed"
	in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 -M do -s 1372 "$INET_IP" >/dev/null ||
		fail "$1: 1400-byte ping to the internet host failed"
	ok "$1: 1400-byte packets pass both ways with DF"
}
full dtls
! in_ns "$TAG-c1" ping -c 1 -W 1 -M do -s 1373 10.8.0.1 >/dev/null 2>&1 || fail "1401 bytes passed"
ok "1401 bytes refused at the client (MTU 1400)"

block_udp
wait_until 5 on_tls alice || fail "no fallback"
full tls
fw_clear "$NS_S"

in_ns "$NS_S" nft list chain ip vpnd forward | grep -q 'maxseg size set rt mtu' || fail "no MSS clamp"
ok "MSS clamp in table ip vpnd"
