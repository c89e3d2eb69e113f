#!/usr/bin/env bash
# ipv6: IPv6 inside the tunnel (network6). Peers get an IPv6 address next
# to their IPv4 one (address6 from the allow-list, else a sticky pool
# address kept in the lease file), a full IPv6 tunnel (::/0 as ::/1 +
# 8000::/1), NAT66 out of the server's underlay with nat.ipv6, routed
# IPv6 without it; spoofed sources, link-local/multicast and peer-to-peer
# IPv6 are dropped and counted; vpnctl shows both addresses. The underlay
# stays IPv4 here; the internet link has IPv6 (2001:db8:1::/64).
#
#   [c1 alice 10.8.0.x fd00:8::2] ---+                          +--- [inet 2001:db8:1::2]
#                                    [srv 10.8.0.1 fd00:8::1] --+
#   [c2 bob   10.8.0.y fd00:8::b] ---+   s0 2001:db8:1::1
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

INET6=2001:db8:1::2
SRV6=2001:db8:1::1

topo_up
in_ns "$NS_S" ip addr add "$SRV6/64" dev s0 nodad
in_ns "$NS_I" ip addr add "$INET6/64" dev i0 nodad
client_ns 1
client_ns 2
mkdir -p "$T/state"
printf '#!/bin/sh\necho "$VPND_PEER_NAME $VPND_PEER_ADDRESS $VPND_PEER_ADDRESS6" >> "%s/hook.out"\n' "$T" > "$T/up.sh"
chmod 755 "$T/up.sh"
server_conf 'network6 = "fd00:8::/64";' 'state_dir = "state";' "on_connect = \"$T/up.sh\";"
sed -i 's|^routes = .*|routes = [ "0.0.0.0/0", "::/0" ];|; s|^nat = .*|nat = { out_interface = "s0"; ipv6 = true; };|' "$T/server.conf"
client_conf alice 1
client_conf bob 2
cat > "$T/peers.conf" <<CONF
peers = (
  { name = "alice"; fingerprint = "$("$VPNCTL" fingerprint "$T/alice.crt")"; },
  { name = "bob"; fingerprint = "$("$VPNCTL" fingerprint "$T/bob.crt")"; address6 = "fd00:8::b"; }
);
CONF
start_server
[[ $(in_ns "$NS_S" cat /proc/sys/net/ipv6/conf/all/forwarding) == 1 ]] || fail "IPv6 forwarding not enabled"
in_ns "$NS_S" nft list table ip6 vpnd | grep -q 'masquerade' || fail "no table ip6 vpnd with masquerade"
start_client alice 1
start_client bob 2
wait_until 15 client_up alice && wait_until 15 client_up bob || fail "clients did not come up"

addr6() { ctl_c "$1" status --json | jq -r .address6; }
A6=$(addr6 alice)
[[ $A6 == fd00:8::2 ]] || fail "alice address6 $A6, want the pool's first, fd00:8::2"
[[ $(addr6 bob) == fd00:8::b ]] || fail "bob address6 $(addr6 bob), want its static fd00:8::b"
in_ns "$TAG-c1" ip -6 addr show dev vpn0 | grep -q "inet6 fd00:8::2/64" || fail "alice vpn0 has no fd00:8::2/64"
for r in "::/1" "8000::/1"; do
	in_ns "$TAG-c1" ip -6 route show "$r" dev vpn0 proto 118 | grep -q . || fail "alice has no route $r via vpn0"
done
ok "addresses: alice $A6 (pool), bob fd00:8::b (allow-list); ::/0 as ::/1 + 8000::/1"

say "vpnctl peers and status show both addresses"
ctl_s peers --json > "$T/peers.json"
[[ $(jq -r '.[] | select(.name == "alice") | .addresses | join(" ")' "$T/peers.json") == "$(client_addr alice) fd00:8::2" ]] ||
	fail "peers --json: $(cat "$T/peers.json")"
[[ $(jq -r '.[] | select(.name == "bob") | .address6' "$T/peers.json") == fd00:8::b ]] || fail "peers --json bob address6"
ctl_s peers > "$T/peers.txt"
grep -q "alice .*$(client_addr alice),fd00:8::2 " "$T/peers.txt" || fail "peers table: $(cat "$T/peers.txt")"
[[ $(ctl_s status --json | jq -r .network6) == fd00:8::/64 ]] || fail "status --json network6"
ctl_s status | grep -qx 'network6: fd00:8::/64' || fail "status: no network6 line"
ctl_c alice status | grep -qx 'address6: fd00:8::2' || fail "client status: no address6 line"
[[ $(ctl_c alice peers --json | jq -r '.[0].addresses | join(" ")') == "10.8.0.1 fd00:8::1" ]] ||
	fail "client peers --json: $(ctl_c alice peers --json)"
ctl_s status --json > "$T/s.json"
ctl_c alice status --json > "$T/c.json"
ctl_s allow list --json > "$T/a.json"
python3 - "$E2E_DIR/../../docs/schema" "$T" <<'PY' || fail "vpnctl --json output does not match docs/schema"
import json, sys, jsonschema
for schema, doc in (("peers", "peers"), ("server-status", "s"), ("client-status", "c"),
                    ("allow-list", "a")):
    jsonschema.validate(json.load(open(f"{sys.argv[2]}/{doc}.json")),
                        json.load(open(f"{sys.argv[1]}/{schema}.json")))
PY
[[ $(jq -r '.[] | select(.name == "bob") | .address6' "$T/a.json") == fd00:8::b ]] || fail "allow list --json: $(cat "$T/a.json")"
fp_x=sha256:$(printf '%064d' 7)
ctl_s allow add xavier "$fp_x" --address 10.8.0.77,fd00:8::77 >/dev/null || fail "allow add --address IPv4,IPv6"
[[ $(ctl_s allow list --json | jq -c '.[] | select(.name == "xavier") | [.address, .address6]') == '["10.8.0.77","fd00:8::77"]' ]] ||
	fail "allow add --address: $(ctl_s allow list --json)"
grep -q 'address6 = "fd00:8::77"' "$T/peers.conf" || fail "address6 not saved: $(cat "$T/peers.conf")"
rc=0; ctl_s allow add yves "sha256:$(printf '%064d' 8)" --address fd01::1 >"$T/err" 2>&1 || rc=$?
[[ $rc == 2 ]] && grep -q "outside fd00:8::/64" "$T/err" || fail "allow add outside network6: rc $rc $(cat "$T/err")"
ctl_s allow remove xavier >/dev/null
ok "allow add --address takes an IPv4 and an IPv6 address; one outside network6 is refused"
sed 's/^/# /' "$T/peers.txt"
grep -qx "alice $(client_addr alice) fd00:8::2" "$T/hook.out" || fail "on_connect saw: $(cat "$T/hook.out")"
ok "vpnctl peers (table, --json) and status show both addresses; so does on_connect (VPND_PEER_ADDRESS6)"

say "IPv6 through the tunnel, NAT66 to the internet host"
in_ns "$TAG-c1" ping -6 -c 1 -W 2 fd00:8::1 >/dev/null || fail "alice cannot ping fd00:8::1"
wait_until 10 in_ns "$TAG-c1" ping -6 -c 1 -W 1 "$INET6" || fail "alice cannot ping $INET6"
bg_ns "$NS_I" python3 "$E2E_DIR/xfer.py" serve 8080 :: >/dev/null 2>&1
PIDS+=($!)
wait_until 10 in_ns "$NS_I" python3 -c 'import socket; socket.create_connection(("::1", 8080), 1)' ||
	fail "IPv6 transfer server did not start"
who=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" who "$INET6" 8080)
[[ $who == "$SRV6" ]] || fail "internet host sees alice as '$who', want the server's $SRV6 (masquerade)"
INET_IP=$INET6 upload alice 1 $((20 * 1024 * 1024))
ok "ping and 20 MB upload (sha256 matches) over IPv6 through NAT66 in $XFER_MS ms; seen as $who"

say "spoofed IPv6 source, peer to peer, link-local"
dropped() { ctl_s status --json | jq ".dropped.$1"; }
in_ns "$TAG-c1" ip addr add fd00:8::99/128 dev vpn0 nodad
before=$(dropped spoofed)
! in_ns "$TAG-c1" ping -6 -c 3 -i 0.2 -W 1 -I fd00:8::99 fd00:8::1 >/dev/null 2>&1 || fail "spoofed ping answered"
! in_ns "$TAG-c1" ping -6 -c 2 -i 0.2 -W 1 -I fd00:8::99 "$INET6" >/dev/null 2>&1 || fail "spoofed ping to inet answered"
after=$(dropped spoofed)
(( after - before >= 5 )) || fail "spoofed IPv6 counted $before -> $after"
ok "spoofed IPv6 source dropped and counted ($before -> $after)"
in_ns "$TAG-c1" ip addr del fd00:8::99/128 dev vpn0
before=$(dropped isolated)
! in_ns "$TAG-c1" ping -6 -c 3 -i 0.2 -W 1 fd00:8::b >/dev/null 2>&1 || fail "alice reached bob over IPv6"
after=$(dropped isolated)
(( after - before >= 3 )) || fail "isolated IPv6 counted $before -> $after: $(ctl_s status --json | jq -c .dropped)"
ok "alice cannot reach bob over IPv6 without client_to_client ($before -> $after)"
before=$(dropped link_local)
in_ns "$TAG-c1" ping -6 -c 2 -i 0.2 -W 1 -I vpn0 ff02::1 >/dev/null 2>&1 || true
after=$(dropped link_local)
(( after - before >= 2 )) || fail "multicast from a peer counted $before -> $after"
ctl_s metrics | grep -q 'vpnd_dropped_packets_total{reason="link_local"}' || fail "no link_local drop metric"
ok "multicast to ff02::1 from a peer dropped and counted ($before -> $after)"

say "reload: nat.ipv6 off (routed IPv6, the internet host routes network6 back), ::/0 -> a split IPv6 route"
in_ns "$NS_I" ip -6 route add fd00:8::/64 via "$SRV6"
sed -i 's|ipv6 = true;|ipv6 = false;|; s|"::/0"|"2001:db8:1::/64"|' "$T/server.conf"
ctl_s reload >/dev/null || fail "reload failed"
in_ns "$NS_S" nft list table ip6 vpnd | grep -q masquerade && fail "masquerade still there after nat.ipv6 = false"
split6() { in_ns "$TAG-c1" ip -6 route show 2001:db8:1::/64 dev vpn0 proto 118 | grep -q . &&
	! in_ns "$TAG-c1" ip -6 route show ::/1 dev vpn0 | grep -q .; }
wait_until 10 split6 || fail "alice's IPv6 routes after the reload: $(in_ns "$TAG-c1" ip -6 route show dev vpn0)"
grep -q 'updated the configuration: .*+2001:db8:1::/64' "$T/alice.log" || fail "alice did not log the IPv6 route update"
ok "IPv6 routes updated in place by a reload: ::/1 and 8000::/1 gone, 2001:db8:1::/64 through the tunnel"
who=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" who "$INET6" 8080)
[[ $who == "$A6" ]] || fail "internet host sees alice as '$who', want $A6 (routed, not masqueraded)"
ok "routed IPv6: the internet host sees alice's own $who"

say "sticky address6: reconnect, then a server restart (lease file)"
stop_pid "$PID_alice"
rm -f "$T/alice.sock"
start_client alice 1
wait_until 15 client_up alice || fail "alice did not reconnect"
[[ $(addr6 alice) == "$A6" ]] || fail "alice address6 after reconnect $(addr6 alice), want $A6"
grep -q "^sha256:[0-9a-f]* fd00:8::2$" "$T/state/leases" || fail "no IPv6 line in the lease file: $(cat "$T/state/leases")"
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exit status $STOP_RC"
[[ $(in_ns "$NS_S" cat /proc/sys/net/ipv6/conf/all/forwarding) == 0 ]] || fail "IPv6 forwarding not restored"
! in_ns "$NS_S" nft list table ip6 vpnd >/dev/null 2>&1 || fail "table ip6 vpnd left behind"
rm -f "$T/server.sock"
start_server
wait_until 20 client_up alice || fail "alice did not come back after the restart"
[[ $(addr6 alice) == "$A6" ]] || fail "alice address6 after restart $(addr6 alice), want $A6"
wait_until 10 in_ns "$TAG-c1" ping -6 -c 1 -W 1 "$INET6" || fail "alice cannot reach $INET6 after the restart"
ok "alice keeps $A6 across a reconnect and a server restart; forwarding restored, table removed"

say "client stop removes its IPv6 routes"
stop_pid "$PID_alice"
[[ $STOP_RC == 0 ]] || fail "client exit status $STOP_RC"
! in_ns "$TAG-c1" ip -6 route show proto 118 | grep -q . || fail "IPv6 routes left: $(in_ns "$TAG-c1" ip -6 route show proto 118)"
ok "alice's IPv6 routes gone after stop"
