#!/usr/bin/env bash
# tunnel_nat: a client reaches the internet host through the tunnel and the
# server's masquerade; 20 MB each way arrive intact over DTLS, and again
# with transport = "tls"; vpnctl shows the peer on each.
#
#   [c1] c0 198.18.1.2 --- s1 198.18.1.1 [srv] s0 198.19.0.1 --- i0 198.19.0.2 [inet]
#        vpn0 10.8.0.x  ==DTLS/TLS==  vpn0 10.8.0.1   (NAT out of s0)
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

topo_up
client_ns 1
server_conf
client_conf alice 1
say "without the tunnel the internet host is unreachable"
! in_ns "$TAG-c1" ping -c 1 -W 1 "$INET_IP" >/dev/null || fail "reachable without tunnel"

start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")" --address 10.8.0.10
start_client alice 1
wait_until 15 client_up alice || fail "client did not come up"
ok "client connected"
on_dtls() { [[ $(ctl_c alice status --json | jq -r .transport) == dtls ]]; }
wait_until 10 on_dtls || fail "transport did not become dtls"
ok "transport dtls"

[[ $(client_addr alice) == 10.8.0.10 ]] || fail "static address not given"
in_ns "$TAG-c1" ip -4 addr show dev vpn0 | grep -q 'inet 10.8.0.10/24' || fail "tun address"
st=$(ctl_c alice status --json)
[[ $(jq -r .network <<<"$st") == 10.8.0.0/24 && $(jq -r .transport <<<"$st") == dtls &&
   $(jq -r .mode <<<"$st") == client ]] || fail "client status: $st"
[[ $(ctl_c alice peers --json | jq -r '.[0].address') == 10.8.0.1 ]] || fail "client peers"
ok "static address 10.8.0.10 on vpn0; client status and peers agree"

in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 10.8.0.1 >/dev/null || fail "ping server tunnel address"
in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "ping internet host"
ok "ping through tunnel and NAT"

# libnftables is loaded for each nftables transaction and unloaded after
# it, not linked: the server wrote its table (checked below) and holds no
# mapping of it now; the client never had one.
! grep -q libnftables "/proc/$SERVER_PID/maps" || fail "the server keeps libnftables mapped after writing its table"
! grep -q libnftables "/proc/$PID_alice/maps" || fail "the client mapped libnftables, which only the server uses"
ok "libnftables mapped by neither end between nftables transactions"
# Nor libsystemd: no service manager to notify (NOTIFY_SOCKET unset) and
# no DNS pushed to resolved.
if [[ -z ${NOTIFY_SOCKET:-} ]]; then
	for pid in "$SERVER_PID" "$PID_alice"; do
		! grep -q libsystemd "/proc/$pid/maps" || fail "vpnd $pid mapped libsystemd with nothing to use it for"
	done
	ok "libsystemd mapped by neither end outside systemd"
fi

bg_ns "$NS_I" python3 "$E2E_DIR/xfer.py" serve 8080 >/dev/null
PIDS+=($!)
wait_until 10 in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" who "$INET_IP" 8080 ||
	fail "transfer server not reachable"
seen=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" who "$INET_IP" 8080)
[[ $seen == "$SERVER_UNDERLAY" ]] || fail "internet host saw $seen, not the server's $SERVER_UNDERLAY"
ok "internet host sees the server's address ($seen)"

head -c 20000000 /dev/urandom > "$T/blob"
want_up=$(sha256sum "$T/blob" | cut -d' ' -f1)
want_down=$(python3 -c 'import random,hashlib
r=random.Random(1); h=hashlib.sha256(); n=20000000
while n>0:
    k=min(n,65536); h.update(r.randbytes(k)); n-=k
print(h.hexdigest())')
transfer() {	# transfer LABEL: 20 MB up and down, checked and timed
	local t0 t1 got
	t0=$(now_ms)
	got=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" up "$INET_IP" 8080 "$T/blob")
	t1=$(now_ms)
	[[ $got == "$SERVER_UNDERLAY $want_up" ]] || fail "$1 upload: got '$got'"
	ok "$1: 20 MB upload intact in $((t1 - t0)) ms"
	t0=$(now_ms)
	got=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" down "$INET_IP" 8080 20000000)
	t1=$(now_ms)
	[[ $got == "$want_down" ]] || fail "$1 download: got '$got'"
	ok "$1: 20 MB download intact in $((t1 - t0)) ms"
}
transfer dtls

peers=$(ctl_s peers --json)
[[ $(jq -r '.[0].name' <<<"$peers") == alice ]] || fail "peers: $peers"
[[ $(jq -r '.[0].transport' <<<"$peers") == dtls ]] || fail "peers transport: $peers"
[[ $(jq -r '.[0].address' <<<"$peers") == 10.8.0.10 ]] || fail "peers address: $peers"
(( $(jq -r '.[0].rx_bytes' <<<"$peers") > 20000000 )) || fail "peers rx_bytes: $peers"
ctl_s peers | grep -q '^alice ' || fail "text peers"
ok "vpnctl peers shows alice on dtls with her traffic"

in_ns "$NS_S" nft list table ip vpnd | grep -q masquerade || fail "no masquerade rule"
[[ $(in_ns "$NS_S" cat /proc/sys/net/ipv4/ip_forward) == 1 ]] || fail "forwarding off"
ok "nftables table vpnd masquerades, forwarding on"

say "the same client with transport = \"tls\""
stop_pid "$PID_alice"
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
sed -i 's/^tun = .*/&\ntransport = "tls";/' "$T/alice.conf"
start_client alice 1
wait_until 15 client_up alice || fail "tls client did not come up"
transfer tls
[[ $(ctl_s peers --json | jq -r '.[0].transport') == tls ]] || fail "peer not on tls"
ok "vpnctl peers shows tls"
