#!/usr/bin/env bash
# demo.sh - make demo: a client in one namespace reaches an "internet" host
# in another through the vpnd tunnel and the server's NAT, then everything
# is torn down (also on Ctrl-C).
#
#   [client] 198.18.1.2 --- 198.18.1.1 [server] 198.19.0.1 --- 198.19.0.2 [internet]
#            vpn0 10.8.0.x ===TLS=== vpn0 10.8.0.1, masquerade out of s0
set -e
if [[ $(id -u) != 0 ]]; then
	echo "make demo needs root (network namespaces, TUN, nftables)" >&2
	exit 1
fi
source "$(dirname "$0")/e2e/lib.sh"
trap 'echo; echo "== tearing down"; cleanup; echo "done: namespaces, processes and files removed"' EXIT
trap 'exit 130' INT TERM
step() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "three network namespaces: client, server, internet"
topo_up
client_ns 1
say "client: $TAG-c1  server: $NS_S  internet: $NS_I"

step "keys (vpnctl keygen) and configuration"
server_conf
client_conf alice 1
cat "$T/server.conf" | sed 's/^/    /'
show "$VPND" -t -c "$T/server.conf"

step "start the server, allow alice, start the client"
start_server
show "$VPNCTL" -s "$T/server.sock" allow add alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice || { show_logs; exit 1; }
sed 's/^/    server: /' "$T/server.log"
sed 's/^/    client: /' "$T/alice.log"

wait_until 10 on_dtls alice || say "(still on tls: UDP may be blocked)"

step "vpnctl peers on the server: alice on dtls"
show "$VPNCTL" -s "$T/server.sock" peers

step "ping the internet host from the client, through the tunnel"
show ip netns exec "$TAG-c1" ping -c 3 -i 0.2 "$INET_IP"

step "HTTP from the client to the internet host; it sees the server's address"
mkdir -p "$T/www"
head -c 1000000 /dev/urandom > "$T/www/blob"
(cd "$T/www" && exec nsenter --net="/run/netns/$NS_I" -- python3 -m http.server 8080 \
	>"$T/http.log" 2>&1) &
PIDS+=($!)
wait_until 10 ip netns exec "$TAG-c1" python3 -c "import urllib.request as u; u.urlopen('http://$INET_IP:8080/', timeout=1)"
ip netns exec "$TAG-c1" python3 - "$INET_IP" "$T/www/blob" <<'PY'
import hashlib, sys, time, urllib.request
t = time.time()
body = urllib.request.urlopen(f"http://{sys.argv[1]}:8080/blob", timeout=10).read()
ok = hashlib.sha256(body).digest() == hashlib.sha256(open(sys.argv[2], "rb").read()).digest()
print(f"    GET /blob: {len(body)} bytes in {1000 * (time.time() - t):.0f} ms, sha256 {'matches' if ok else 'DIFFERS'}")
PY
echo "    internet host's access log:"
grep 'GET /blob' "$T/http.log" | sed 's/^/    /'

step "the server's nftables table"
ip netns exec "$NS_S" nft list table ip vpnd | sed 's/^/    /'
