#!/usr/bin/env bash
# flood: 24 attacker addresses in three /24s each try to hold 64 silent TCP
# connections and replay ClientHellos they abort. Throughout, a legitimate
# client (bob, again and again) must connect within 2 s, vpnd answer
# vpnctl's status request within 1 s (timed on the socket; the vpnctl
# program itself, whose start alone can take most of a second on a busy
# machine under ASan, within 3 s), the server use under half a core and
# hold no more handshakes than the per-address caps allow; alice's vpnd,
# started in the flood, must connect. Then the server runs out of
# descriptors in mid-flood: it must not spin, nor flood its log, and must
# accept again once descriptors are back.
#
#   [c1] alice, bob (legitimate) 198.18.1.2 ---- [srv] vpnd, started with a
#   [c2] attackers 198.18.16-18.10-17 ---------'       soft RLIMIT_NOFILE of 1024
# timeout: 240
# serial
set -e
source "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
F="$E2E_DIR/flood.py"
FLOOD_S=10		# seconds of flood measured

topo_up
client_ns 1
client_ns 2
SRCS=()
for n in 16 17 18; do for h in $(seq 10 17); do SRCS+=("198.18.$n.$h"); done; done
for a in "${SRCS[@]}"; do echo "address add $a/32 dev c0"; done | in_ns "$TAG-c2" ip -batch -
in_ns "$NS_S" ip route add 198.18.16.0/22 dev s2
server_conf
client_conf alice 1
keygen bob >/dev/null
ulimit -S -n 1024	# the usual soft limit: vpnd must raise it itself
start_server
ulimit -S -n "$(ulimit -H -n)"
allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
allow bob "$("$VPNCTL" fingerprint "$T/bob.crt")"

hs() { ctl_s status --json | jq ".handshakes.$1"; }
# vpnctl, timed: without the leak check at exit, which costs an ASan build
# more than the request itself on a busy machine
ctl_q() { ASAN_OPTIONS=detect_leaks=0 "$VPNCTL" -s "$T/server.sock" "$@"; }
ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }
tck=$(getconf CLK_TCK)
# cpu T0 TICKS0: cores the server used since then, e.g. 0.12
cpu() { awk -v t="$(( $(now_ms) - $1 ))" -v d="$(( $(ticks) - $2 ))" -v h="$tck" \
	'BEGIN { printf "%.2f", d / h / (t / 1000) }'; }
under() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
probe() { in_ns "$TAG-c1" python3 "$F" legit 198.18.1.1 4433 "$T/bob.key" "$T/bob.crt"; }
attack() {	# attack SECONDS: the flood, in the background
	bg_ns "$TAG-c2" python3 "$F" attack 198.18.2.1 4433 "$1" 64 "${SRCS[@]}" >>"$T/attack.out" 2>&1
	ATTACK_PID=$!
	PIDS+=("$ATTACK_PID")
}

read -r soft hard < <(awk '/^Max open files/ { print $4, $5 }' "/proc/$SERVER_PID/limits")
[[ $soft == "$hard" ]] || fail "RLIMIT_NOFILE not raised to the hard limit: soft $soft, hard $hard"
ok "RLIMIT_NOFILE raised from 1024 to the hard limit, $soft"
ms=$(probe)
[[ $ms =~ ^[0-9]+$ ]] || fail "no flood yet, and bob cannot connect: $ms"
ok "before the flood: bob connects in $ms ms"

say "the flood: ${#SRCS[@]} addresses, 64 silent connections each, aborted ClientHellos"
attack 30	# at most; stopped once measured
wait_until 10 eval '(( $(hs throttled) > 100 ))' || fail "the flood did not start"
t0=$(now_ms) c0=$(ticks)
bg_ns "$TAG-c1" python3 "$F" legit 198.18.1.1 4433 "$T/bob.key" "$T/bob.crt" "$FLOOD_S" >"$T/probe.out" 2>&1
PROBE_PID=$!
PIDS+=("$PROBE_PID")
python3 "$F" ctl "$T/server.sock" "$FLOOD_S" >"$T/ctl.out" 2>&1 &
CTL_PID=$!
PIDS+=("$CTL_PID")
worst_ctl=0 max_pending=0 calls=0 alice_ms=
while kill -0 "$PROBE_PID" 2>/dev/null; do
	s=$(now_ms)
	ctl_q status --json >"$T/status.json"
	l=$(( $(now_ms) - s ))
	(( l < 3000 )) || fail "during the flood vpnctl status took $l ms"
	(( l > worst_ctl )) && worst_ctl=$l
	p=$(jq .handshakes.pending "$T/status.json")
	(( p > max_pending )) && max_pending=$p
	calls=$(( calls + 1 ))
	if [[ -z $alice_ms ]] && (( $(now_ms) - t0 > 3000 )); then
		s=$(now_ms)
		start_client alice 1
		wait_until 10 grep -q connected "$T/alice.log" ||
			fail "alice did not connect during the flood"
		alice_ms=$(( $(now_ms) - s ))
	fi
done
load=$(cpu "$t0" "$c0")
wait "$PROBE_PID" || fail "probe: $(cat "$T/probe.out")"
wait "$CTL_PID" || fail "ctl: $(cat "$T/ctl.out")"
kill -0 "$SERVER_PID" || fail "server died in the flood"
! grep -v '^[0-9]*$' "$T/probe.out" || fail "during the flood bob could not connect"
! grep -v '^[0-9]*$' "$T/ctl.out" || fail "during the flood the control socket failed"
n=$(wc -l < "$T/probe.out") nc=$(wc -l < "$T/ctl.out")
worst_ms=$(sort -n "$T/probe.out" | tail -n 1)
worst_answer=$(sort -n "$T/ctl.out" | tail -n 1)
(( n >= 10 && nc >= 20 )) || fail "only $n connections by bob, $nc requests in $FLOOD_S s"
(( worst_ms < 2000 )) || fail "during the flood bob took $worst_ms ms to connect"
(( worst_answer < 1000 )) || fail "during the flood vpnd took $worst_answer ms to answer status"
under "$load" 0.5 || fail "server used $load of a core during the flood"
[[ -n $alice_ms ]] || fail "alice was not started"
# 4 per address, and bob's and alice's: the caps hold, not the server-wide one
(( max_pending <= ${#SRCS[@]} * 4 + 2 )) || fail "$max_pending handshakes pending at once"
kill -TERM "$ATTACK_PID"
wait "$ATTACK_PID" || true
read -r _ held _ opened _ closed _ hellos _ answered < "$T/attack.out" ||
	fail "attack: $(cat "$T/attack.out")"
(( closed > 1000 && hellos > 200 )) || fail "a weak flood: $(cat "$T/attack.out")"
ok "flood (${FLOOD_S} s): attackers held $held connections open at once, made $opened, of which the server closed $closed, and got $answered of $hellos ClientHellos answered"
ok "flood: bob connected $n times, slowest $worst_ms ms; vpnd answered status $nc times, slowest $worst_answer ms; vpnctl status ran $calls times, slowest $worst_ctl ms; at most $max_pending pending; server CPU $load core"
ok "flood: alice, started in the flood, connected $alice_ms ms after exec"
wait_until 10 client_up alice || fail "alice lost her session in the flood"

say "out of descriptors in mid-flood"
: > "$T/attack.out"
attack 30	# at most; stopped once measured
wait_until 10 eval '(( $(hs pending) > 20 ))' || fail "the second flood did not start"
warn0=$(grep -c '^warn accept' "$T/server.log" || true)
# room for 8 handshakes besides what the server had before the flood
cap=$(( $(ls "/proc/$SERVER_PID/fd" | wc -l) - $(hs pending) + 8 ))
prlimit --pid "$SERVER_PID" --nofile="$cap:$hard"
wait_until 5 grep -q 'accept, paused.*Too many open files' "$T/server.log" ||
	fail "no EMFILE from accept at $cap descriptors"
t1=$(now_ms) c1=$(ticks)
sleep 3			# not a wait for anything: the span CPU is measured over
load=$(cpu "$t1" "$c1")
prlimit --pid "$SERVER_PID" --nofile="$hard:$hard"
under "$load" 0.5 || fail "server used $load of a core while out of descriptors"
warns=$(( $(grep -c '^warn accept' "$T/server.log") - warn0 ))
(( warns <= 2 )) || fail "$warns accept errors logged in 3 s"
s=$(now_ms)
wait_until 10 eval '[[ $(probe) =~ ^[0-9]+$ ]]' || fail "not accepting once descriptors were back"
ok "out of descriptors: server CPU $load core, $warns line(s) logged in 3 s; bob back in $(( $(now_ms) - s )) ms once they were back"
kill -TERM "$ATTACK_PID"
wait "$ATTACK_PID" || true
kill -0 "$SERVER_PID" || fail "server died"
