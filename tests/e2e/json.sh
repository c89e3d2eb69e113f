#!/usr/bin/env bash
# json: every --json answer, server and client, is valid JSON that its
# schema in docs/schema accepts (python3-jsonschema), with TUN names out
# of the ordinary: the client's holds a quote, a backslash and UTF-8 (the
# kernel takes any byte but '/', ':' and whitespace); the server's only
# what server/nat.c lets into its nftables rules (A-Z a-z 0-9 . _ - @),
# so there '@' and '.'; the unit test covers the rest. And `vpnctl peers`
# is a table a person reads: columns aligned,
# fingerprint short (full with -l), bytes in units after a 2 MB transfer,
# durations; `vpnctl status` gives uptime as a duration.
#
#   [c1] c0 198.18.1.2 --- s1 198.18.1.1 [srv]
#        tun 't\"é'  ==DTLS==  tun 'v.pn@0' 10.8.0.1 (xfer.py on 8080)
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
SCHEMA=$E2E_DIR/../../docs/schema

# valid SCHEMA FILE: FILE is one line of JSON that docs/schema/SCHEMA accepts.
valid() {
	python3 "$E2E_DIR/vpnctl_out.py" valid "$SCHEMA/$1" "$2" || fail "$2 against $1: $(cat "$2")"
}
# js NAME SCHEMA VPNCTL-ARGS...: save the answer as $T/NAME.json and validate it.
js() {
	local name=$1 schema=$2; shift 2
	"$VPNCTL" "$@" --json > "$T/$name.json" || fail "vpnctl $* --json: exit $?"
	valid "$schema" "$T/$name.json"
}

SRV_TUN=v.pn@0
CLI_TUN=$'t\\"\xc3\xa9'
topo_up
client_ns 1
server_conf
client_conf alice 1
# libconfig strings escape " and \ like C
sed -i -e 's|name = "vpn0";|name = "v.pn@0";|' -e '/^\s*nat = /d' "$T/server.conf"
sed -i -e 's|name = "vpn0";|name = "t\\\\\\"'$'\xc3\xa9''";|' "$T/alice.conf"
grep -q 'name = "v.pn@0"' "$T/server.conf" && grep -q 'name = "t\\\\\\"' "$T/alice.conf" ||
	fail "configs not edited: $(grep name "$T/server.conf" "$T/alice.conf")"
"$VPND" -t -c "$T/server.conf" >/dev/null || fail "server config with an odd tun name rejected"

say "server: status, peers, allow list (empty and filled)"
start_server
S=(-s "$T/server.sock")
js s-status-empty server-status.json "${S[@]}" status
[[ $(jq -r .tun "$T/s-status-empty.json") == "$SRV_TUN" ]] ||
	fail "status tun: $(jq .tun "$T/s-status-empty.json"), want $SRV_TUN"
in_ns "$NS_S" ip link show dev "$SRV_TUN" >/dev/null || fail "no device named $SRV_TUN"
js s-peers-empty peers.json "${S[@]}" peers
[[ $(cat "$T/s-peers-empty.json") == "[]" ]] || fail "peers not []: $(cat "$T/s-peers-empty.json")"
js s-allow-empty allow-list.json "${S[@]}" allow list
fp_a=$("$VPNCTL" fingerprint "$T/alice.crt")
fp_b=$(keygen bob)
allow alice "$fp_a"
allow bob "$fp_b" --address 10.8.0.50
js s-allow allow-list.json "${S[@]}" allow list
[[ $(jq -c '[.[] | [.name, .fingerprint, .address]]' "$T/s-allow.json") == \
   "[[\"alice\",\"$fp_a\",null],[\"bob\",\"$fp_b\",\"10.8.0.50\"]]" ]] ||
	fail "allow list: $(cat "$T/s-allow.json")"
ok "server status (tun $(jq .tun "$T/s-status-empty.json")), empty peers, allow list: valid, values round-trip"

say "client: status before it has a server, then status and peers once up"
# carol's server does not resolve (conf.c takes only host-name characters
# there, so nothing to escape): she stays unconnected, her fields null.
client_conf carol 1
CAROL_SRV=no-such-host.invalid:4433
sed -i -e "s|^server = .*|server = \"$CAROL_SRV\";|" -e 's|name = "vpn0";|name = "vpn9";|' "$T/carol.conf"
start_client carol 1
wait_until 10 test -S "$T/carol.sock" || fail "carol's socket: $(cat "$T/carol.log")"
js carol-status client-status.json -s "$T/carol.sock" status
[[ $(jq -r .server "$T/carol-status.json") == "$CAROL_SRV" ]] ||
	fail "carol's server: $(jq .server "$T/carol-status.json"), want $CAROL_SRV"
[[ $(jq -c '[.address, .network, .transport]' "$T/carol-status.json") == "[null,null,null]" ]] ||
	fail "carol's status: $(cat "$T/carol-status.json")"
js carol-peers peers.json -s "$T/carol.sock" peers
[[ $(cat "$T/carol-peers.json") == "[]" ]] || fail "carol's peers: $(cat "$T/carol-peers.json")"
ok "unconnected client ($(jq -r .state "$T/carol-status.json"), server $(jq .server "$T/carol-status.json")): status and peers valid"

start_client alice 1
wait_until 10 test -S "$T/alice.sock" || fail "client socket"
wait_until 15 client_up alice && wait_until 10 on_dtls alice || fail "alice not up on dtls"
js c-status client-status.json -s "$T/alice.sock" status
[[ $(jq -r .tun "$T/c-status.json") == "$CLI_TUN" ]] || fail "client tun: $(jq .tun "$T/c-status.json")"
in_ns "$TAG-c1" ip link show dev "$CLI_TUN" >/dev/null || fail "no client device $CLI_TUN"
js c-peers peers.json -s "$T/alice.sock" peers
[[ $(jq -r '.[0].fingerprint' "$T/c-peers.json") == "$("$VPNCTL" fingerprint "$T/server.crt")" ]] ||
	fail "client peers fingerprint: $(cat "$T/c-peers.json")"
js s-status server-status.json "${S[@]}" status
js s-peers peers.json "${S[@]}" peers
[[ $(jq -r '.[0] | "\(.name) \(.fingerprint) \(.transport) \(.transport_switches | type)"' "$T/s-peers.json") == \
   "alice $fp_a dtls number" ]] || fail "server peers: $(cat "$T/s-peers.json")"
ok "client status and peers once up, server status and peers: valid"

say "2 MB through the tunnel to the server's own address"
bg_ns "$NS_S" python3 "$E2E_DIR/xfer.py" serve 8080 >/dev/null 2>&1
PIDS+=($!)
wait_until 10 in_ns "$NS_S" python3 -c 'import socket; socket.create_connection(("127.0.0.1", 8080), 1)' ||
	fail "transfer server did not start"
head -c 2097152 /dev/urandom > "$T/blob"
got=$(in_ns "$TAG-c1" python3 "$E2E_DIR/xfer.py" up 10.8.0.1 8080 "$T/blob")
[[ ${got#* } == "$(sha256sum "$T/blob" | cut -d' ' -f1)" ]] || fail "transfer: $got"
js s-peers2 peers.json "${S[@]}" peers
(( $(jq '.[0].rx_bytes' "$T/s-peers2.json") > 2097152 )) || fail "rx_bytes: $(cat "$T/s-peers2.json")"
ok "2 MiB moved, server peers rx_bytes $(jq '.[0].rx_bytes' "$T/s-peers2.json")"

say "vpnctl peers: a table sized to its content"
# table FILE COLUMN...: columns aligned; prints "COLUMN=cell" of row 1.
table() { python3 "$E2E_DIR/vpnctl_out.py" table "$@"; }
ctl_s peers > "$T/peers.txt"
cells=$(table "$T/peers.txt" NAME FINGERPRINT TRANSPORT RX TX SINCE LAST-SEEN) ||
	fail "peers table not aligned: $(cat "$T/peers.txt")"
cell() { sed -n "s/^$1=//p" <<<"$cells"; }
[[ $(cell NAME) == alice ]] || fail "NAME: $cells"
hex=${fp_a#sha256:}
[[ $(cell FINGERPRINT) == "${hex:0:12}" ]] || fail "short fingerprint: $(cell FINGERPRINT)"
! grep -q "$hex" "$T/peers.txt" || fail "full fingerprint without -l"
[[ $(cell RX) =~ ^[0-9]+\.[0-9]\ (KiB|MiB)$ && $(cell RX) == *MiB ]] || fail "RX not in MiB: $(cell RX)"
[[ $(cell TX) =~ ^[0-9]+(\.[0-9])?\ (B|KiB|MiB)$ ]] || fail "TX: $(cell TX)"
[[ $(cell TRANSPORT) =~ ^dtls(\ \([0-9]+\ switch(es)?\))?$ ]] || fail "TRANSPORT: $(cell TRANSPORT)"
[[ $(cell SINCE) =~ ^([0-9]+[dhms])+$ ]] || fail "SINCE: $(cell SINCE)"
[[ $(cell LAST-SEEN) =~ ^([0-9]+[dhms])+\ ago$ ]] || fail "LAST-SEEN: $(cell LAST-SEEN)"
(( $(head -1 "$T/peers.txt" | wc -c) < 120 )) || fail "header $(head -1 "$T/peers.txt" | wc -c) wide"
ok "server peers: aligned, $(head -1 "$T/peers.txt" | wc -c) wide; FINGERPRINT=$(cell FINGERPRINT) RX=$(cell RX) SINCE=$(cell SINCE) LAST-SEEN=$(cell LAST-SEEN)"
cat "$T/peers.txt"

ctl_s peers -l > "$T/peers-l.txt"
cells=$(table "$T/peers-l.txt" FINGERPRINT RX-PKTS SINCE DTLS-ID) ||
	fail "peers -l not aligned: $(cat "$T/peers-l.txt")"
[[ $(cell FINGERPRINT) == "$fp_a" ]] || fail "-l fingerprint: $(cell FINGERPRINT)"
[[ $(cell RX-PKTS) =~ ^[0-9]+$ && $(cell DTLS-ID) == $(jq -r '.[0].dtls_id' "$T/s-peers2.json") ]] ||
	fail "-l columns: $cells"
[[ $(cell SINCE) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] || fail "-l SINCE: $(cell SINCE)"
"$VPNCTL" --long peers "${S[@]}" | grep -q "$fp_a" || fail "--long before the command"
ok "peers -l: full fingerprint, packets, local time, DTLS id"
cat "$T/peers-l.txt"

ctl_c alice peers > "$T/c-peers.txt"
cells=$(table "$T/c-peers.txt" NAME ADDRESS RX) || fail "client peers not aligned: $(cat "$T/c-peers.txt")"
[[ $(cell NAME) == 198.18.1.1 && $(cell ADDRESS) == 10.8.0.1 && $(cell RX) =~ \ (B|KiB|MiB)$ ]] ||
	fail "client peers: $cells"
ok "client peers: aligned ($(tr '\n' ' ' <<<"$cells"))"

up=$(ctl_s status | sed -n 's/^uptime: //p')
[[ $up =~ ^([0-9]+[dhms])+$ ]] || fail "server uptime: $up"
cup=$(ctl_c alice status | sed -n 's/^uptime: //p')
[[ $cup =~ ^([0-9]+[dhms])+$ ]] || fail "client uptime: $cup"
ok "status uptime as a duration: server $up, client $cup"
