#!/usr/bin/env bash
# check: `vpnd -t` on what parses but bites, inside the server's namespace,
# whose s0 holds 198.19.0.1/24. Errors (a key others can read, an
# allow-list others can write, a pool too small for the allow-list,
# `network` over an address of the host) exit 2 with FILE:LINE: KEY, and
# vpnd refuses to start on them; warnings (group-writable allow-list, NAT
# device missing, listen address not local, user nobody) exit 0 with
# "warning: FILE:LINE: KEY: ..." before "configuration OK".
#
# server_conf's lines: 2 listen, 3 key, 6 network, 8 nat, 9 allow_list.
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
topo_up
server_conf

# vpnd_t: vpnd -t in the server's namespace; OUT (stdout and stderr) and RC.
vpnd_t() { RC=0; OUT=$(in_ns "$NS_S" "$VPND" -t -c "$T/server.conf" 2>&1) || RC=$?; }
expect_ok() {	# no finding at all
	vpnd_t
	[[ $RC == 0 && $OUT == "configuration OK" ]] || fail "$1: rc $RC: $OUT"
}
expect_error() {	# expect_error LINE KEY TEXT
	vpnd_t
	[[ $RC == 2 ]] || fail "want exit 2 for $2, got $RC: $OUT"
	[[ $OUT == *"server.conf:$1: $2: "*"$3"* ]] || fail "want 'server.conf:$1: $2: ...$3', got: $OUT"
	[[ $OUT != *"configuration OK"* ]] || fail "error and OK: $OUT"
}
expect_warning() {	# expect_warning LINE KEY TEXT
	vpnd_t
	[[ $RC == 0 ]] || fail "want exit 0 for a warning on $2, got $RC: $OUT"
	[[ $OUT == *"warning: "*"server.conf:$1: $2: "*"$3"*"configuration OK" ]] ||
		fail "want 'warning: server.conf:$1: $2: ...$3' then OK, got: $OUT"
}
# refuses_start TEXT: vpnd (not -t) exits 2 naming TEXT, before any TUN.
refuses_start() {
	local rc=0 out
	out=$(timeout 30 nsenter --net="/run/netns/$NS_S" -- "$VPND" -c "$T/server.conf" 2>&1) || rc=$?
	[[ $rc == 2 && $out == *"$1"* ]] || fail "vpnd started on an error: rc $rc: $out"
	! in_ns "$NS_S" ip link show vpn0 >/dev/null 2>&1 || fail "vpnd made its TUN before refusing"
}

expect_ok "clean configuration"
ok "a clean configuration: exit 0, no findings"

say "network over an address of the server's interfaces"
in_ns "$NS_S" ip addr add 10.8.0.5/24 dev s0
expect_error 6 network "overlaps 10.8.0.5/24 on s0"
refuses_start "server.conf:6: network: "
in_ns "$NS_S" ip addr del 10.8.0.5/24 dev s0
expect_ok "address removed"
ok "10.8.0.5 on s0 with network 10.8.0.0/24: exit 2 at network's line; vpnd refuses to start"

say "key readable by others"
chmod 644 "$T/server.key"
expect_error 3 key "readable by others (mode 0644)"
refuses_start "server.conf:3: key: "
chmod 640 "$T/server.key"
expect_error 3 key "readable by its group"
chmod 600 "$T/server.key"
expect_ok "key 0600"
ok "key 0644 and 0640: exit 2; 0600 passes"

say "allow-list writable"
chmod 666 "$T/peers.conf"
expect_error 9 allow_list "writable by others"
chmod 664 "$T/peers.conf"
expect_warning 9 allow_list "writable by its group"
chmod 644 "$T/peers.conf"
expect_ok "allow-list 0644"
ok "allow-list 0666: exit 2; 0664: a warning, exit 0"

say "pool too small for the allow-list"
peers=""
for n in a b; do peers+="${peers:+,}{ name = \"$n\"; fingerprint = \"$(keygen "$n")\"; }"; done
echo "peers = ( $peers );" > "$T/peers.conf"
NETWORK=10.8.0.0/30 server_conf	# one pool address (.2) for two peers
expect_error 6 network "leaves 1 pool address (0 static) for 2 allow-list peers"
NETWORK=10.8.0.0/29 server_conf
expect_ok "two peers in a /29"
ok "two peers without address, network /30: exit 2; /29 passes"

say "warnings"
sed -i 's|out_interface = "s0"|out_interface = "eth9"|' "$T/server.conf"
expect_warning 8 nat.out_interface 'no device "eth9"'
server_conf
sed -i 's|"0.0.0.0:4433"|"198.18.77.1:4433"|' "$T/server.conf"
expect_warning 2 listen "198.18.77.1:4433 is not an address of this host"
sed -i 's|"198.18.77.1:4433"|"198.19.0.1:4433"|' "$T/server.conf"
expect_ok "listen on s0's address"
server_conf 'user = "nobody";'
expect_warning 13 user '"nobody" is shared'
ok "missing NAT device, non-local listen address, user nobody: warnings with their lines, exit 0"
