#!/usr/bin/env bash
# loss: 5% random loss on the client's underlay (nftables numgen, both
# directions); a 10 MB transfer completes intact over DTLS, and again with
# transport = "tls".
#
#   [c1] 198.18.1.2 --- s1 198.18.1.1 [srv] --- [inet]
#                       ^ 5% of packets in and out of s1 dropped
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
client_conf alice 1
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
xfer_serve
lose() { fw "$NS_S" 'in iifname "s1" numgen random mod 100 < 5 counter drop' \
	'out oifname "s1" numgen random mod 100 < 5 counter drop'; }
# Packets as the kernel sees them: with GSO a run of datagrams (or a TCP
# burst) crosses the veth as one packet and is lost as one.
lost() {	# packets the loss rules dropped
	in_ns "$NS_S" nft list table inet vpndtest | grep -o 'packets [0-9]*' |
		awk '{ n += $2 } END { print n + 0 }'
}

start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "not up on dtls"
lose
upload alice 1 10000000
(( $(lost) > 5 )) || fail "only $(lost) packets lost"
ok "dtls, 5% loss: 10 MB intact in $XFER_MS ms ($(lost) packets dropped)"
fw_clear "$NS_S"

stop_pid "$PID_alice"
sed -i 's/^tun = .*/&\ntransport = "tls";/' "$T/alice.conf"
start_client alice 1
wait_until 15 client_up alice || fail "tls client not up"
lose
upload alice 1 10000000
(( $(lost) > 5 )) || fail "only $(lost) packets lost"
ok "tls, 5% loss: 10 MB intact in $XFER_MS ms ($(lost) packets dropped)"
