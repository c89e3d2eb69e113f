#!/usr/bin/env bash
# metrics: the server and the client serve the Prometheus text format on
# metrics_listen (/metrics, libmicrohttpd) and through `vpnctl metrics`;
# both parse with the reference parser (python3-prometheus-client), carry
# the families SPEC.md names, and move with what happens: a peer's bytes
# grow with traffic, a denied client counts as denied. Other paths get 404,
# other methods 405; a bad metrics_listen is a file:line:key error.
#
#   [c1 alice]  198.18.1.2 --- 198.18.1.1 [srv] 198.19.0.1 --- 198.19.0.2 [inet]
#   [c2 mallory] 198.18.2.2 --- 198.18.2.1      127.0.0.1:958 /metrics
# timeout: 90
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
# Debian's python3, where python3-prometheus-client is (not a pyenv's).
PY=/usr/bin/python3
PARSE=("$PY" "$E2E_DIR/promparse.py")

# Both daemons drop to nobody: the endpoint is bound before, and served
# after, under the worker's seccomp filter. The server's port is below 1024
# to show the bind happens as root.
SRV_URL=http://127.0.0.1:958
CLI_URL=http://127.0.0.1:9587
scrape_s() { in_ns "$NS_S" curl -fsS --max-time 5 "$SRV_URL/metrics"; }
scrape_c() { in_ns "$TAG-c1" curl -fsS --max-time 5 "$CLI_URL/metrics"; }
# value TEXT-COMMAND NAME [K=V...]: one sample's value from a fresh scrape.
value() { local src=$1; shift; $src | "${PARSE[@]}" get "$@"; }

topo_up
client_ns 1
client_ns 2
server_conf 'metrics_listen = "127.0.0.1:958"; user = "nobody"; group = "nogroup";'
client_conf alice 1
printf 'metrics_listen = "127.0.0.1:9587";\nuser = "nobody";\n' >> "$T/alice.conf"
client_conf mallory 2
start_server
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
start_client alice 1
wait_until 15 client_up alice || fail "alice not up"
grep -q "running as nobody" "$T/server.log" && grep -q "running as nobody" "$T/alice.log" ||
	fail "the daemons did not drop to nobody"

# --- the server's endpoint parses and has the families ---
families=(vpnd_build_info vpnd_start_time_seconds vpnd_uptime_seconds
	vpnd_peers_connected vpnd_peers_allowed
	vpnd_peer_receive_bytes_total vpnd_peer_transmit_bytes_total
	vpnd_peer_receive_packets_total vpnd_peer_transmit_packets_total
	vpnd_receive_bytes_total vpnd_transmit_bytes_total
	vpnd_handshakes_total vpnd_dropped_packets_total vpnd_transport_switches_total
	vpnd_handshake_duration_seconds_bucket vpnd_handshake_duration_seconds_sum
	vpnd_handshake_duration_seconds_count)
scrape_s > "$T/scrape.txt" || fail "curl $SRV_URL/metrics"
"${PARSE[@]}" check "${families[@]}" < "$T/scrape.txt" || fail "server scrape: $(cat "$T/scrape.txt")"
ok "curl $SRV_URL/metrics parses with prometheus_client, ${#families[@]} families there"
[[ $(value scrape_s vpnd_peers_connected) == 1 && $(value scrape_s vpnd_peers_allowed) == 1 ]] ||
	fail "peers connected/allowed"
[[ $(value scrape_s vpnd_build_info version="$("$VPND" -V | awk '{print $NF}')" mode=server) == 1 ]] ||
	fail "build_info: $(grep build_info "$T/scrape.txt")"
[[ $(value scrape_s vpnd_handshakes_total result=ok) -ge 1 &&
   $(value scrape_s vpnd_handshake_duration_seconds_count) -ge 1 ]] || fail "handshake not counted"
[[ $(value scrape_s vpnd_handshake_duration_seconds_bucket le=+Inf) == \
   $(value scrape_s vpnd_handshake_duration_seconds_count) ]] || fail "+Inf bucket is not the count"
value scrape_s vpnd_dropped_packets_total reason=spoofed >/dev/null || fail "no per-reason drops"
ok "peers 1/1, build_info, handshake ok with its latency, drops by reason"

# --- a peer's bytes grow with traffic through the tunnel ---
rx0=$(value scrape_s vpnd_peer_receive_bytes_total peer=alice) || fail "no alice sample"
tx0=$(value scrape_s vpnd_peer_transmit_bytes_total peer=alice)
in_ns "$TAG-c1" ping -c 5 -i 0.2 -W 2 -s 1000 "$INET_IP" >/dev/null || fail "ping through the tunnel"
rx1=$(value scrape_s vpnd_peer_receive_bytes_total peer=alice)
tx1=$(value scrape_s vpnd_peer_transmit_bytes_total peer=alice)
(( rx1 >= rx0 + 5 * 1028 && tx1 >= tx0 + 5 * 1028 )) ||
	fail "alice's bytes did not grow with 5 pings of 1028 bytes: rx $rx0 -> $rx1, tx $tx0 -> $tx1"
ok "vpnd_peer_receive_bytes_total{peer=\"alice\"} $rx0 -> $rx1 after 5 pings (tx $tx0 -> $tx1)"
scrape_s | grep -v '^# ' | sed 's/^/#   /'	# the scrape, for the record

# --- vpnctl metrics: the same text, parsed the same way ---
ctl_s metrics > "$T/ctl.txt" || fail "vpnctl metrics"
"${PARSE[@]}" check "${families[@]}" < "$T/ctl.txt" || fail "vpnctl metrics: $(cat "$T/ctl.txt")"
diff <(grep '^# ' "$T/scrape.txt") <(grep '^# ' "$T/ctl.txt") || fail "HTTP and vpnctl differ in families"
ok "vpnctl metrics parses, same families as the endpoint"

# --- HTTP: content type, 404, 405 ---
ct=$(in_ns "$NS_S" curl -fsS -o /dev/null -w '%{content_type}' "$SRV_URL/metrics")
[[ $ct == "text/plain; version=0.0.4; charset=utf-8" ]] || fail "content type: $ct"
[[ $(in_ns "$NS_S" curl -sS -o /dev/null -w '%{http_code}' "$SRV_URL/") == 404 ]] || fail "/ not 404"
[[ $(in_ns "$NS_S" curl -sS -o /dev/null -w '%{http_code}' -X POST "$SRV_URL/metrics") == 405 ]] ||
	fail "POST not 405"
[[ $(in_ns "$NS_S" curl -sS -o /dev/null -w '%{http_code}' -I "$SRV_URL/metrics") == 200 ]] ||
	fail "HEAD not 200"
ok "content type $ct; / is 404, POST 405, HEAD 200"

# --- a scraper flood: 40 idle connections hold what MHD allows them (16,
# 8 per address), the rest are refused; the tunnel and vpnctl go on, and
# the endpoint answers again once they are gone ---
in_ns "$NS_S" "$PY" -c '
import socket, sys, time
socks = []
for i in range(40):
    s = socket.socket(); s.settimeout(2); s.connect(("127.0.0.1", 958)); socks.append(s)
open(sys.argv[1], "w").close()          # flood in place
deadline = time.time() + 20
while time.time() < deadline and not __import__("os").path.exists(sys.argv[2]):
    time.sleep(0.05)
' "$T/flood.on" "$T/flood.off" &
FLOOD=$!
PIDS+=("$FLOOD")
wait_until 10 test -e "$T/flood.on" || fail "flood did not start"
in_ns "$TAG-c1" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null || fail "tunnel stalled by a scraper flood"
ctl_s metrics | "${PARSE[@]}" check vpnd_peers_connected || fail "vpnctl metrics during a flood"
touch "$T/flood.off"
wait "$FLOOD" || fail "flood script"
wait_until 10 scrape_s || fail "endpoint did not recover after the flood"
ok "40 idle scraper connections: tunnel and vpnctl unaffected, endpoint back after"

# --- a client that is not allowed counts as denied ---
d0=$(value scrape_s vpnd_handshakes_total result=denied)
start_client mallory 2
denied_more() { (( $(value scrape_s vpnd_handshakes_total result=denied) > d0 )); }
wait_until 10 denied_more || fail "denial not counted (was $d0)"
ok "vpnd_handshakes_total{result=\"denied\"} $d0 -> $(value scrape_s vpnd_handshakes_total result=denied)"

# --- the client's endpoint and vpnctl metrics ---
cfam=(vpnd_build_info vpnd_peers_connected vpnd_peer_receive_bytes_total
	vpnd_receive_bytes_total vpnd_handshakes_total vpnd_dropped_packets_total
	vpnd_transport_switches_total vpnd_handshake_duration_seconds_count)
scrape_c | "${PARSE[@]}" check "${cfam[@]}" || fail "client scrape: $(scrape_c)"
ctl_c alice metrics | "${PARSE[@]}" check "${cfam[@]}" || fail "client vpnctl metrics"
[[ $(value scrape_c vpnd_peers_connected) == 1 &&
   $(value scrape_c vpnd_handshakes_total result=ok) == 1 &&
   $(value scrape_c vpnd_build_info version="$("$VPND" -V | awk '{print $NF}')" mode=client) == 1 ]] ||
	fail "client: connected, one ok handshake, build_info"
(( $(value scrape_c vpnd_peer_receive_bytes_total peer=198.18.1.1) >= 5 * 1028 )) ||
	fail "client: bytes from the server"
ok "client: /metrics and vpnctl metrics parse; connected, 1 handshake, bytes from 198.18.1.1"

# --- a reload moves the endpoint: the new one first, then the old goes ---
chmod 711 "$T"; chmod 644 "$T/server.conf"	# nobody re-reads the file, never the key
sed -i 's/metrics_listen = "127.0.0.1:958";/metrics_listen = "127.0.0.1:9590";/' "$T/server.conf"
out=$(ctl_s reload) || fail "reload: $out"
[[ $out == *"metrics_listen: 127.0.0.1:958 -> 127.0.0.1:9590"* ]] || fail "reload reply: $out"
in_ns "$NS_S" curl -fsS --max-time 5 http://127.0.0.1:9590/metrics | grep -q '^vpnd_peers_connected ' ||
	fail "no metrics on the new port"
! in_ns "$NS_S" curl -fsS --max-time 2 "$SRV_URL/metrics" >/dev/null 2>&1 || fail "old port still served"
sed -i 's/metrics_listen = "127.0.0.1:9590";/metrics_listen = "127.0.0.1:957";/' "$T/server.conf"
out=$(ctl_s reload) || fail "reload (2): $out"
[[ $out == *"metrics_listen: cannot listen there; keeping 127.0.0.1:9590"* ]] || fail "reload reply (2): $out"
in_ns "$NS_S" curl -fsS --max-time 5 http://127.0.0.1:9590/metrics >/dev/null || fail "kept port gone"
[[ $(ctl_s status --json | jq -r .peers_connected) == 1 ]] || fail "the peer went with the reload"
ok "reload: metrics_listen moved 958 -> 9590 (old port closed); 957, which nobody may bind, refused and 9590 kept"
SRV_URL=http://127.0.0.1:9590

# --- a bad metrics_listen names file, line and key ---
cp "$T/server.conf" "$T/bad.conf"
echo 'metrics_listen = "localhost:9586";' >> "$T/bad.conf"
sed -i 's/metrics_listen = "127.0.0.1:957";//' "$T/bad.conf"
rc=0; out=$("$VPND" -t -c "$T/bad.conf" 2>&1) || rc=$?
[[ $rc == 2 && $out == *"bad.conf:"[0-9]*": metrics_listen: \"localhost:9586\" is not a numeric address:port"* ]] ||
	fail "bad metrics_listen: rc $rc: $out"
ok "vpnd -t: $out"

# --- shutdown closes the endpoint, leaves nothing open ---
# stopped within 10 s: an endpoint left open would keep the loop running
exited() { [[ ! -e /proc/$1 || $(awk '{print $3}' "/proc/$1/stat") == Z ]]; }
stop_in() {
	kill -TERM "$1"
	wait_until 10 exited "$1" || fail "$2 did not exit within 10 s of SIGTERM"
	STOP_RC=0
	wait "$1" || STOP_RC=$?
}
stop_in "$SERVER_PID" server
[[ $STOP_RC == 0 ]] || fail "server exit $STOP_RC"
! grep -q "handles left open" "$T/server.log" || fail "server left handles open"
! in_ns "$NS_S" curl -fsS --max-time 2 "$SRV_URL/metrics" >/dev/null 2>&1 || fail "endpoint still up"
stop_in "$PID_alice" client
[[ $STOP_RC == 0 ]] || fail "client exit $STOP_RC"
! grep -q "handles left open" "$T/alice.log" || fail "client left handles open"
! in_ns "$TAG-c1" curl -fsS --max-time 2 "$CLI_URL/metrics" >/dev/null 2>&1 || fail "client endpoint still up"
ok "server and client stopped: exit 0, no handle left, endpoints gone"
