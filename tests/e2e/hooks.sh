#!/usr/bin/env bash
# hooks: on_connect and on_disconnect run as root with SPEC's environment -
# on the server through the privileged helper (vpnd runs as nobody, its
# seccomp filter forbids exec), on the client in-process (it stays root).
# A server on_connect that exits 1 denies the peer: the client is told,
# gets no address. `vpnd -t` refuses a hook that is not an absolute
# executable, naming file:line:key. A hook that sleeps is killed after 10 s
# with HOOK_SLOW=1 (10 s more; test_hook covers the kill itself).
# timeout: 90
#
#   [c1 alice] 198.18.1.2 --- [srv] 198.19.0.1
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT

# hook NAME EXIT: a script that saves its uid and environment, then exits.
hook() {
	cat > "$T/$1" <<-SH
	#!/bin/sh
	{ echo "UID=\$(id -u)"; env | sort; } > "$T/$1.env.tmp"
	mv "$T/$1.env.tmp" "$T/$1.env"
	exit $2
	SH
	chmod 0755 "$T/$1"
}
var() { sed -n "s/^$2=//p" "$T/$1.env"; }

topo_up
client_ns 1
hook up.sh 0
hook down.sh 0
hook cup.sh 0
hook cdown.sh 0

say "vpnd -t: a hook must be an absolute path to an executable"
server_conf 'on_connect = "up.sh";'
set +e; out=$("$VPND" -t -c "$T/server.conf" 2>&1); rc=$?; set -e
[[ $rc == 2 && $out == *"server.conf:"*": on_connect: \"up.sh\" is not an absolute path"* ]] ||
	fail "relative hook: rc $rc: $out"
server_conf "on_disconnect = \"$T/peers.conf\";"
set +e; out=$("$VPND" -t -c "$T/server.conf" 2>&1); rc=$?; set -e
[[ $rc == 2 && $out == *"on_disconnect: $T/peers.conf is not an executable file"* ]] ||
	fail "non-executable hook: rc $rc: $out"
ok "refused with file:line:key: $out"

server_conf "user = \"nobody\"; group = \"nogroup\"; on_connect = \"$T/up.sh\"; on_disconnect = \"$T/down.sh\";"
client_conf alice 1
printf 'on_connect = "%s/cup.sh";\non_disconnect = "%s/cdown.sh";\n' "$T" "$T" >> "$T/alice.conf"
"$VPND" -t -c "$T/server.conf" >/dev/null 2>&1 || fail "vpnd -t refused good hooks"
fp=$("$VPNCTL" fingerprint "$T/alice.crt")
sfp=$("$VPNCTL" fingerprint "$T/server.crt")
start_server
allow alice "$fp"
start_client alice 1
wait_until 15 client_up alice || fail "alice did not come up"

say "server on_connect: root, SPEC's variables, clean environment"
wait_until 5 test -f "$T/up.sh.env" || fail "on_connect did not run"
[[ $(var up.sh UID) == 0 ]] || fail "on_connect not root: $(var up.sh UID)"
[[ $(var up.sh VPND_EVENT) == connect ]] || fail "VPND_EVENT"
[[ $(var up.sh VPND_PEER_NAME) == alice ]] || fail "VPND_PEER_NAME"
[[ $(var up.sh VPND_PEER_FINGERPRINT) == "$fp" ]] || fail "VPND_PEER_FINGERPRINT"
[[ $(var up.sh VPND_PEER_ADDRESS) == "$(client_addr alice)" ]] || fail "VPND_PEER_ADDRESS"
grep -qx 'VPND_PEER_ADDRESS6=' "$T/up.sh.env" || fail "VPND_PEER_ADDRESS6 (empty: no IPv6 yet)"
[[ $(var up.sh VPND_ENDPOINT) == 198.18.1.2:* ]] || fail "VPND_ENDPOINT"
[[ $(var up.sh VPND_TRANSPORT) == tls ]] || fail "VPND_TRANSPORT"
[[ -n $(var up.sh PATH) ]] || fail "no PATH"
! grep -q '^VPND_RX_BYTES' "$T/up.sh.env" || fail "byte counts on connect"
others=$(grep -v '^UID=\|^VPND_\|^PATH=\|^PWD=\|^SHLVL=\|^_=' "$T/up.sh.env" || true)
[[ -z $others ]] || fail "environment not clean: $others"
grep -q "hook on_connect alice: exit 0" "$T/server.log" || fail "no log line for on_connect"
ok "on_connect: $(grep VPND_ "$T/up.sh.env" | tr '\n' ' ')"

say "client on_connect, in-process"
wait_until 5 test -f "$T/cup.sh.env" || fail "client on_connect did not run"
[[ $(var cup.sh VPND_PEER_FINGERPRINT) == "$sfp" && $(var cup.sh VPND_PEER_ADDRESS) == "$(client_addr alice)" &&
   $(var cup.sh VPND_ENDPOINT) == 198.18.1.1:4433 ]] || fail "client hook env: $(cat "$T/cup.sh.env")"
ok "client on_connect: $(grep VPND_ "$T/cup.sh.env" | tr '\n' ' ')"

say "on_disconnect (kick): byte counts"
in_ns "$TAG-c1" ping -c 2 -i 0.2 -W 2 10.8.0.1 >/dev/null || fail "no ping"
printf '#!/bin/sh\ntouch %s/gone.start\nsleep 2\n' "$T" > "$T/up.sh.new"
chmod 0755 "$T/up.sh.new"
mv "$T/up.sh.new" "$T/up.sh"	# for the next section: alice comes back to it
ctl_s kick alice
wait_until 5 test -f "$T/down.sh.env" || fail "on_disconnect did not run"
[[ $(var down.sh VPND_EVENT) == disconnect && $(var down.sh VPND_PEER_NAME) == alice ]] || fail "on_disconnect env"
(( $(var down.sh VPND_RX_BYTES) > 0 && $(var down.sh VPND_TX_BYTES) > 0 )) || fail "byte counts: $(cat "$T/down.sh.env")"
wait_until 5 test -f "$T/cdown.sh.env" || fail "client on_disconnect did not run"
ok "on_disconnect: rx $(var down.sh VPND_RX_BYTES) tx $(var down.sh VPND_TX_BYTES)"

say "the peer goes away while on_connect runs: nothing dangles"
wait_until 20 test -f "$T/gone.start" || fail "alice did not retry"
t0=$(now_ms)
allow carol "sha256:$(printf '%064d' 3)"	# hooks have a helper of their own
t1=$(now_ms)
(( t1 - t0 < 1500 )) || fail "allow add waited $((t1 - t0)) ms behind a running hook"
ok "allow add took $((t1 - t0)) ms while on_connect ran"
kill -KILL "$PID_alice"
wait_until 10 eval "[[ \$(grep -c 'hook on_connect alice: exit 0' '$T/server.log') -ge 1 ]]" ||
	fail "the hook of a peer that left did not end"
kill -0 "$SERVER_PID" || fail "server died"
[[ $(peer_count) == 0 ]] || fail "a peer that left is listed"
ok "hook ended after its peer left; server fine (ASan watching)"
rm -f "$T/up.sh.env"
hook up.sh 0
start_client alice 1

say "on_connect exits 1: the peer is denied, gets no address"
wait_until 15 test -f "$T/up.sh.env" || fail "alice did not come back"
wait_until 15 client_up alice || fail "alice not up again"
hook up.sh 1
"$VPNCTL" -s "$T/server.sock" events --json > "$T/ev.json" 2>&1 &
PIDS+=($!)
sleep 0.3
ctl_s kick alice
wait_until 15 grep -q "denied by server 198.18.1.1:4433: on_connect hook failed" "$T/alice.log" ||
	fail "alice not told she was denied"
grep -q "hook on_connect alice: exit 1" "$T/server.log" || fail "no log line for exit 1"
grep -q "peer $fp 198.18.1.2:[0-9]* denied: on_connect hook failed" "$T/server.log" || fail "no denial log line"
! client_up alice || fail "alice up though on_connect failed"
[[ $(peer_count) == 0 ]] || fail "alice listed as connected"
wait_until 5 eval "jq -e 'select(.event == \"denied\" and .reason == \"on_connect hook failed\")' '$T/ev.json'" ||
	fail "no denied event"
ok "denied: $(grep -m1 'denied:' "$T/server.log")"

say "a reload changes on_connect: the helper reads it again, as root"
hook up2.sh 0
chmod 711 "$T"; chmod 644 "$T/server.conf"	# the worker (nobody) re-reads it
sed -i "s|on_connect = \"$T/up.sh\";|on_connect = \"$T/up2.sh\";|" "$T/server.conf"
out=$(ctl_s reload) || fail "reload: $out"
[[ $out == *"on_connect: $T/up.sh -> $T/up2.sh"* ]] || fail "reload reply: $out"
wait_until 15 test -f "$T/up2.sh.env" || fail "the new on_connect did not run: $(tail -3 "$T/server.log")"
[[ $(var up2.sh UID) == 0 && $(var up2.sh VPND_PEER_NAME) == alice ]] || fail "up2.sh env: $(cat "$T/up2.sh.env")"
wait_until 15 client_up alice || fail "alice not up after the new hook"
ok "reload: on_connect $T/up.sh -> up2.sh, run as root by the helper for alice's next try"

if [[ ${HOOK_SLOW:-0} == 1 ]]; then
	say "a hook that sleeps 60 s is killed after 10 s; the peer is denied"
	printf '#!/bin/sh\ndate +%%s%%N > %s/slow.start\nsleep 60\n' "$T" > "$T/up.sh.new"
	chmod 0755 "$T/up.sh.new"
	mv "$T/up.sh.new" "$T/up.sh"
	wait_until 30 grep -q "hook on_connect alice: killed after 10 s" "$T/server.log" || fail "slow hook not killed"
	t1=$(now_ms)
	t0=$(( $(cat "$T/slow.start") / 1000000 ))
	(( t1 - t0 >= 10000 && t1 - t0 < 13000 )) || fail "killed after $((t1 - t0)) ms"
	# the client itself gives up waiting for CONFIG after 10 s too, so
	# either may end the session first: denied, or gone
	wait_until 5 eval "grep -q 'denied: on_connect hook timed out' '$T/server.log' ||
		grep -q 'cannot connect to 198.18.1.1:4433: timed out' '$T/alice.log'" ||
		fail "neither denied nor gone after the kill"
	ok "killed $((t1 - t0)) ms after it started"
fi
stop_pid "$SERVER_PID"
[[ $STOP_RC == 0 ]] || fail "server exited $STOP_RC"
