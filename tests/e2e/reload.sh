#!/usr/bin/env bash
# reload: `vpnctl reload` re-reads the whole configuration and keeps
# everyone connected.
#  1. routes (and the timers) change while alice is connected and a
#     transfer runs: her route table follows (198.19.5.0/24 added through
#     the tunnel, 198.19.6.0/24 removed), her session is the same one (same
#     connected_since and DTLS id, one "connected to" line), the transfer
#     completes with a matching sha256.
#  2. nat.out_interface changes: the table ip vpnd is replaced whole.
#  3. listen changes: the reply and the log name it, the server keeps
#     serving on the old port and binds no new one.
#  4. a bad value and a syntax error change nothing: the reply says
#     file:line and exits 2, the routes stay, the session stays.
#  5. the server runs as nobody throughout (its key 0600 root's): a file
#     that user cannot read is not re-read, the allow-list still is, and
#     the reply says so.
# (A reload that drops a peer from the allow-list is revoke.sh's.)
#
#   [c1 alice] c0 198.18.1.2 --- s1 [srv] s0 198.19.0.1 --- i0 198.19.0.2 [inet]
#   c0 shaped to 40 Mbit/s so the transfer is still running at the reload
# timeout: 90
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
C=$TAG-c1

set_routes() { sed -i "s|^routes = .*|routes = [ $1 ];|" "$T/server.conf"; }
rt() { in_ns "$C" ip -4 route show dev vpn0 proto 118; }
has_route() { rt | grep -q "^$1 "; }
no_route() { ! rt | grep -q "^$1 "; }
session() { ctl_s peers --json | jq -r '.[] | select(.name == "alice") | "\(.connected_since) \(.dtls_id)"'; }
connects() { grep -c "connected to 198.18.1.1" "$T/alice.log"; }
# reload_rc: vpnctl reload; its stdout in $T/out, stderr in $T/err, status in RC
reload_rc() { RC=0; ctl_s reload >"$T/out" 2>"$T/err" || RC=$?; }

chmod 711 "$T"		# nobody reads server.conf, never the key
alice_up 'user = "nobody"; group = "nogroup";'
set_routes '"0.0.0.0/0", "198.19.6.0/24"'
reload_rc
[[ $RC == 0 ]] || fail "first reload: rc $RC: $(cat "$T/err")"
wait_until 5 has_route 198.19.6.0/24 || fail "198.19.6.0/24 not pushed: $(rt)"
sess0=$(session)
[[ -n $sess0 && $(connects) == 1 ]] || fail "session: '$sess0', $(connects) connects"
ok "routes pushed to a connected client by a reload: $(rt | tr '\n' ',')"

say "1. routes and timers change during a transfer"
xfer_serve
in_ns "$C" tc qdisc add dev c0 root tbf rate 40mbit burst 64kb latency 500ms
head -c 12000000 /dev/urandom > "$T/blob"
want=$(sha256sum "$T/blob" | cut -d' ' -f1)
in_ns "$C" python3 "$E2E_DIR/xfer.py" up "$INET_IP" 8080 "$T/blob" >"$T/up.out" 2>&1 &
up_pid=$!
wait_until 10 eval "in_ns $C ss -tnH state established dst $INET_IP | grep -q 8080" ||
	fail "transfer did not start"
set_routes '"0.0.0.0/0", "198.19.5.0/24"'
sed -i 's|^keepalive = .*|keepalive = 3;|; s|^dead_peer_timeout = .*|dead_peer_timeout = 9;|' "$T/server.conf"
t0=$(now_ms)
reload_rc
[[ $RC == 0 ]] || fail "reload: rc $RC: $(cat "$T/err")"
grep -q '^routes: \[ 0.0.0.0/0, 198.19.6.0/24 \] -> \[ 0.0.0.0/0, 198.19.5.0/24 \]$' "$T/out" &&
	grep -q '^keepalive: 2 -> 3$' "$T/out" && grep -q '^sent to 1 connected peer' "$T/out" ||
	fail "reply: $(cat "$T/out")"
wait_until 5 eval 'has_route 198.19.5.0/24 && no_route 198.19.6.0/24' ||
	fail "client routes did not follow: $(rt)"
ms=$(( $(now_ms) - t0 ))
kill -0 "$up_pid" 2>/dev/null || fail "the transfer was over before the routes changed: $(cat "$T/up.out")"
has_route 0.0.0.0/1 && has_route 128.0.0.0/1 || fail "full-tunnel routes lost: $(rt)"
in_ns "$C" ip -4 route show 198.18.1.1 | grep -q "proto 118" || fail "host route to the server lost"
grep -q "updated the configuration: +198.19.5.0/24 -198.19.6.0/24; keepalive 2 -> 3 s, dead_peer_timeout 6 -> 9 s" \
	"$T/alice.log" || fail "client log: $(grep updated "$T/alice.log")"
ok "routes changed on the client $ms ms after the request, during the transfer"
wait "$up_pid" || fail "transfer failed: $(cat "$T/up.out")"
[[ $(cut -d' ' -f2 "$T/up.out") == "$want" ]] || fail "transfer sha256: $(cat "$T/up.out"), want $want"
[[ $(session) == "$sess0" && $(connects) == 1 ]] ||
	fail "session changed: '$(session)' (was '$sess0'), $(connects) connects"
! grep -q "disconnected" "$T/server.log" || fail "server: $(grep disconnected "$T/server.log")"
ok "12 MB transfer across the reload: sha256 matches; same session ($sess0)"
in_ns "$C" tc qdisc del dev c0 root

say "2. nat.out_interface is re-installed"
sed -i 's|^nat = .*|nat = { out_interface = "s9"; };|' "$T/server.conf"
reload_rc
[[ $RC == 0 ]] && grep -q '^nat.out_interface: s0 -> s9$' "$T/out" || fail "nat reload: rc $RC: $(cat "$T/out" "$T/err")"
in_ns "$NS_S" nft list table ip vpnd | grep -q 'oifname "s9" masquerade' || fail "nat rule not replaced"
! in_ns "$NS_S" nft list table ip vpnd | grep -q 'oifname "s0"' || fail "old nat rule kept"
sed -i 's|^nat = .*|nat = { out_interface = "s0"; };|' "$T/server.conf"
reload_rc
in_ns "$NS_S" nft list table ip vpnd | grep -q 'oifname "s0" masquerade' || fail "nat rule not put back"
in_ns "$C" ping -c 1 -W 2 "$INET_IP" >/dev/null || fail "no traffic after the nat change"
ok "nat.out_interface s0 -> s9 -> s0: one table, the rule replaced each time"

say "3. listen needs a restart"
sed -i 's|^listen = .*|listen = "0.0.0.0:4434";|' "$T/server.conf"
reload_rc
[[ $RC == 0 ]] || fail "listen reload: rc $RC: $(cat "$T/err")"
grep -q '^listen changed, needs a restart; keeping 0.0.0.0:4433$' "$T/out" || fail "reply: $(cat "$T/out")"
grep -q 'reload: listen changed, needs a restart; keeping 0.0.0.0:4433' "$T/server.log" || fail "not logged"
in_ns "$NS_S" ss -tlnH | grep -q ':4433 ' && ! in_ns "$NS_S" ss -tlnH | grep -q ':4434 ' ||
	fail "listeners: $(in_ns "$NS_S" ss -tlnH)"
in_ns "$C" python3 -c 'import socket; socket.create_connection(("198.18.1.1", 4433), 2)' ||
	fail "old port does not answer"
[[ $(session) == "$sess0" ]] || fail "session changed"
sed -i 's|^listen = .*|listen = "0.0.0.0:4433";|' "$T/server.conf"
ok "listen named in the reply and the log; still serving on 4433, nothing on 4434"

say "4. a bad file changes nothing"
cp "$T/server.conf" "$T/good.conf"
set_routes '"0.0.0.0/0", "198.19.7.0/33"'
sed -i 's|^keepalive = .*|keepalive = 4;|' "$T/server.conf"
line=$(grep -n '^routes' "$T/server.conf" | cut -d: -f1)
reload_rc
[[ $RC == 2 ]] || fail "bad value: rc $RC"
grep -q "server.conf:$line: routes: \"198.19.7.0/33\" is not a CIDR prefix; nothing changed" "$T/err" ||
	fail "bad value: $(cat "$T/err")"
grep -q "reload: .*server.conf:$line: routes: .*nothing changed" "$T/server.log" || fail "not logged"
cp "$T/good.conf" "$T/server.conf"
sed -i 's|^routes = .*|routes = [ "0.0.0.0/0", "198.19.8.0/24" ;|' "$T/server.conf"
reload_rc
[[ $RC == 2 ]] && grep -q "server.conf:$line: syntax error; nothing changed" "$T/err" ||
	fail "syntax error: rc $RC: $(cat "$T/err")"
kill -HUP "$SERVER_PID"
wait_until 5 grep -q "reload: .*syntax error; nothing changed" "$T/server.log" || fail "SIGHUP: not logged"
has_route 198.19.5.0/24 && no_route 198.19.7.0/24 && no_route 198.19.8.0/24 || fail "routes changed: $(rt)"
(( $(grep -c "updated the configuration" "$T/alice.log") == 2 )) || fail "client sent a CONFIG"
[[ $(session) == "$sess0" && $(connects) == 1 ]] || fail "session changed"
cp "$T/good.conf" "$T/server.conf"
reload_rc
[[ $RC == 0 ]] && grep -q '^configuration unchanged$' "$T/out" || fail "good file again: rc $RC: $(cat "$T/out")"
ok "bad value and syntax error: exit 2 with file:line, nothing changed, same session"

say "5. a file the daemon's user cannot read"
set_routes '"0.0.0.0/0", "198.19.9.0/24"'
chmod 600 "$T/server.conf"
reload_rc
[[ $RC == 0 ]] && grep -q '^reloaded: 1 peers allowed' "$T/out" &&
	grep -q "configuration not re-read: .*server.conf: Permission denied as user nobody.*only the allow-list was reloaded" "$T/out" ||
	fail "unreadable: rc $RC: $(cat "$T/out" "$T/err")"
has_route 198.19.5.0/24 && no_route 198.19.9.0/24 || fail "routes changed: $(rt)"
chmod 644 "$T/server.conf"
ok "unreadable by nobody: only the allow-list reloaded, and said so"
