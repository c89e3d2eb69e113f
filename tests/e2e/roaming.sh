#!/usr/bin/env bash
# roaming: the client sits behind a NAT router; when the router's UDP
# mapping changes (NAT rebinding), the session carries on after the first
# authenticated datagram from the new port. Forged datagrams from another
# endpoint, with the channel's id, are dropped and counted and never move
# the peer; datagrams for no channel are counted too.
#
#   [c1] 198.18.1.2 --- 198.18.1.1 [rtr] 198.18.3.1 --- 198.18.3.2 [srv] --- [inet]
#                                   snat: udp to port 40000-40999, later 41000-41999
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
NS_R=$TAG-rtr
CLIENT_NS+=("$TAG-c1" "$NS_R")
ip netns add "$TAG-c1"
ip netns add "$NS_R"
in_ns "$TAG-c1" ip link set lo up
in_ns "$NS_R" ip link set lo up
ip link add c0 netns "$TAG-c1" type veth peer name r0 netns "$NS_R"
ip link add r1 netns "$NS_R" type veth peer name s3 netns "$NS_S"
in_ns "$TAG-c1" ip addr add 198.18.1.2/24 dev c0
in_ns "$NS_R" ip addr add 198.18.1.1/24 dev r0
in_ns "$NS_R" ip addr add 198.18.3.1/24 dev r1
in_ns "$NS_S" ip addr add 198.18.3.2/24 dev s3
for l in "$TAG-c1 c0" "$NS_R r0" "$NS_R r1" "$NS_S s3"; do in_ns ${l% *} ip link set ${l#* } up; done
in_ns "$TAG-c1" ip route add 198.18.3.0/24 via 198.18.1.1
in_ns "$NS_R" sysctl -qw net.ipv4.ip_forward=1
snat() {	# snat LOW-HIGH: the router's UDP port range, old mappings forgotten
	in_ns "$NS_R" nft -f - <<-NFT
	table ip rtr
	delete table ip rtr
	table ip rtr {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "r1" meta l4proto udp snat to 198.18.3.1:$1
			oifname "r1" masquerade
		}
	}
	NFT
	in_ns "$NS_R" conntrack -D -p udp >/dev/null 2>&1 || true
}
snat 40000-40999

server_conf
client_conf alice 1
sed -i 's/198.18.1.1:4433/198.18.3.2:4433/' "$T/alice.conf"
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "not up on dtls"
endpoint() { ctl_s peers --json | jq -r '.[0].endpoint'; }
wait_until 5 eval '[[ $(endpoint) == 198.18.3.1:40??? ]]' || fail "endpoint $(endpoint)"
ok "on dtls from $(endpoint)"

say "NAT rebinding: new port range, conntrack flushed"
snat 41000-41999
in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "no traffic after rebinding"
wait_until 5 eval '[[ $(endpoint) == 198.18.3.1:41??? ]]' || fail "endpoint did not move: $(endpoint)"
on_dtls alice || fail "left dtls"
[[ $(ctl_s peers --json | jq -r '.[0].transport') == dtls ]] || fail "server not on dtls"
grep -q "DTLS now from 198.18.3.1:41" "$T/server.log" || fail "roaming not logged"
ok "session carried on from $(endpoint), still dtls"

say "forged datagrams from another endpoint"
id=$(ctl_s peers --json | jq -r '.[0].dtls_id')
[[ $id =~ ^[0-9a-f]{16}$ ]] || fail "no dtls_id"
before=$(ctl_s status --json | jq .dropped.dtls_bad)
unknown=$(ctl_s status --json | jq .dropped.udp_unknown)
in_ns "$NS_R" python3 - "$id" <<'PY'
import os, socket, sys
ident = bytes.fromhex(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.3.1", 5555))
for seq in range(50):
    # an application-data record of epoch 1 with a sequence far ahead
    rec = bytes([23, 0xfe, 0xfd, 0, 1]) + (1 << 40 | seq).to_bytes(6, "big")
    body = os.urandom(100)
    s.sendto(b"\xd1" + ident + rec + len(body).to_bytes(2, "big") + body, ("198.18.3.2", 4433))
for seq in range(50):
    # a vpnd record (0xd2) far ahead: had it moved the replay window before
    # failing to authenticate, every genuine record would look too old
    s.sendto(b"\xd2" + ident + (1 << 40 | seq).to_bytes(8, "big") + bytes([1]) +
             os.urandom(116), ("198.18.3.2", 4433))
for _ in range(20):
    s.sendto(b"\xd1" + os.urandom(8) + os.urandom(60), ("198.18.3.2", 4433))
# ClientHellos for the live channel: must not replace it
for seq in range(5):
    body = bytes([0xfe, 0xfd]) + os.urandom(32) + bytes([0, 0, 0x00, 0x02, 0xc0, 0x2c, 1, 0])
    hs = bytes([1]) + len(body).to_bytes(3, "big") + bytes([0, 0, 0, 0, 0]) + len(body).to_bytes(3, "big")
    rec = bytes([22, 0xfe, 0xff, 0, 0]) + seq.to_bytes(6, "big") + (len(hs) + len(body)).to_bytes(2, "big")
    s.sendto(b"\xd1" + ident + rec + hs + body, ("198.18.3.2", 4433))
PY
wait_until 5 eval '(( $(ctl_s status --json | jq .dropped.dtls_bad) >= before + 100 ))' ||
	fail "forged records not counted: $before -> $(ctl_s status --json | jq .dropped.dtls_bad)"
wait_until 5 eval '(( $(ctl_s status --json | jq .dropped.udp_unknown) >= unknown + 20 ))' ||
	fail "unknown datagrams not counted"
[[ $(endpoint) == 198.18.3.1:41??? ]] || fail "a forged datagram moved the peer to $(endpoint)"
in_ns "$TAG-c1" ping -c 2 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "traffic broken by forgeries"
on_dtls alice || fail "forgeries knocked the client off dtls"
# a window later, both ends must still be on dtls (forged ClientHellos ignored)
in_ns "$TAG-c1" ping -c 10 -i 0.3 -W 2 "$INET_IP" >/dev/null || fail "traffic broken after forged hellos"
on_dtls alice && [[ $(ctl_s peers --json | jq -r '.[0].transport') == dtls ]] ||
	fail "forged ClientHellos knocked the session off dtls"
! grep -q "DTLS channel closed" "$T/server.log" || fail "server dropped its DTLS channel"
ok "50 forged DTLS records, 50 forged vpnd records, 5 forged ClientHellos and 20 unknown datagrams: dropped, counted; endpoint and dtls unchanged"
