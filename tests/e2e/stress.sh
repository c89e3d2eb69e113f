#!/usr/bin/env bash
# stress: eight clients move bulk data both ways at once through one server
# under 2% random loss on the underlay (dead_peer_timeout 6): ROUNDS rounds
# on DTLS, then ROUNDS rounds with transport = "tls". In every round every
# transfer arrives intact (sha256), no session drops or reconnects, DTLS
# does not fall silent, and no transfer waits longer than MAX_GAP ms for its
# next bytes. make check runs the short form; make stress runs ROUNDS=20.
#
#   [c1..c8] 198.18.N.2 --- sN 198.18.N.1 [srv] --- [inet] xfer.py
#                           ^ LOSS% of the tunnel's packets (port 4433)
#                             in and out of the server dropped
#
# Each round also reports what was lost where: packets the loss rules
# dropped, packets the TUN devices dropped because vpnd did not read them in
# time (the kernel's queue holds 500), and vpnd's own drop counters.
set -e
source "$(dirname "$0")/lib.sh"
need_root
# KEEP=DIR keeps the daemons' logs there (to study a failure).
keep() { [[ -z ${KEEP:-} ]] || { mkdir -p "$KEEP" && cp "$T"/*.log "$KEEP"/; }; }
trap 'keep; cleanup' EXIT

: "${ROUNDS:=1}"		# rounds per transport
: "${SIZE:=5000000}"		# bytes each client sends and receives per round
: "${MAX_GAP:=2000}"		# ms: the longest a transfer may wait for bytes
: "${LOSS:=2}"			# percent
: "${ROUND_LIMIT:=120}"		# s: a round that takes longer has hung
N=8
# Log lines that mean a session stalled: dropped, reconnecting, DTLS silent.
BAD='disconnected|lost server|reconnecting|timed out|cannot connect|DTLS silent|DTLS unanswered|DTLS channel'

topo_up
server_conf
start_server
xfer_serve
for n in $(seq $N); do
	client_ns "$n"
	client_conf "c$n" "$n"
	allow "c$n" "$("$VPNCTL" fingerprint "$T/c$n.crt")"
done
head -c "$SIZE" /dev/urandom > "$T/blob"
WANT_UP=$(sha256sum "$T/blob" | cut -d' ' -f1)
WANT_DOWN=$(python3 "$E2E_DIR/xfer.py" sum "$SIZE")

# Tunnel packets only, as the kernel sees them (a GSO run is one packet).
fw "$NS_S" "in meta l4proto { tcp, udp } th dport 4433 numgen random mod 100 < $LOSS counter drop" \
	"out meta l4proto { tcp, udp } th sport 4433 numgen random mod 100 < $LOSS counter drop"
lost() {
	in_ns "$NS_S" nft list table inet vpndtest | grep -o 'packets [0-9]*' |
		awk '{ n += $2 } END { print n + 0 }'
}
tun_drops() {	# NS: packets the TUN device could not queue for vpnd
	in_ns "$1" cat /sys/class/net/vpn0/statistics/tx_dropped
}
# lost, server TUN, clients' TUN, and vpnd's queue-full, TUN-full drops
counters() {
	local n c=0
	for n in $(seq $N); do c=$(( c + $(tun_drops "$TAG-c$n") )); done
	echo "$(lost) $(tun_drops "$NS_S") $c" \
		"$(ctl_s status --json | jq -r '.dropped | "\(.peer_full) \(.tun_full)"')"
}

clients_up() {	# TRANSPORT
	local n
	for n in $(seq $N); do
		start_client "c$n" "$n"
	done
	for n in $(seq $N); do
		wait_until 30 client_up "c$n" || fail "c$n not up"
		[[ $1 == tls ]] || wait_until 15 on_dtls "c$n" || fail "c$n not on dtls"
	done
}

clients_down() {
	local n pid
	for n in $(seq $N); do
		eval "pid=\$PID_c$n"
		stop_pid "$pid"
		[[ $STOP_RC == 0 ]] || fail "c$n exited with $STOP_RC"
	done
}

# round TRANSPORT R: every client sends and receives SIZE bytes at once.
MAX_SEEN=0 SLOWEST=0
round() {
	local tr=$1 r=$2 n f pids=() off=() got gap=0 who=- t0 ms bad c0 c1
	for f in "$T"/*.log; do off+=("$f:$(stat -c %s "$f")"); done
	read -r -a c0 < <(counters)
	t0=$(now_ms)
	for n in $(seq $N); do
		timeout "$ROUND_LIMIT" ip netns exec "$TAG-c$n" python3 "$E2E_DIR/xfer.py" \
			both "$INET_IP" 8080 "$T/blob" "$SIZE" > "$T/r$n.out" 2>&1 &
		pids+=($!)
	done
	for n in $(seq $N); do
		wait "${pids[$((n - 1))]}" ||
			fail "$tr round $r: c$n transfer failed or hung: $(cat "$T/r$n.out")"
	done
	ms=$(( $(now_ms) - t0 ))
	read -r -a c1 < <(counters)
	for n in $(seq $N); do
		read -r -a got < "$T/r$n.out"
		[[ ${got[0]} == "$WANT_UP" ]] || fail "$tr round $r: c$n upload: got '${got[0]}'"
		[[ ${got[2]} == "$WANT_DOWN" ]] || fail "$tr round $r: c$n download: got '${got[2]}'"
		(( got[1] <= gap )) || { gap=${got[1]}; who="c$n up"; }
		(( got[3] <= gap )) || { gap=${got[3]}; who="c$n down"; }
	done
	for f in "${off[@]}"; do
		bad=$(tail -c +$(( ${f##*:} + 1 )) "${f%:*}" | grep -E "$BAD" | head -n 3) || true
		[[ -z $bad ]] || fail "$tr round $r: ${f%:*}: $bad"
	done
	say "$tr round $r: $N x $SIZE bytes each way in $ms ms, longest stall $gap ms ($who);" \
		"dropped: $(( c1[0] - c0[0] )) by the loss rules, $(( c1[1] - c0[1] )) by the" \
		"server's TUN, $(( c1[2] - c0[2] )) by the clients' TUN, $(( c1[3] - c0[3] ))" \
		"queue full, $(( c1[4] - c0[4] )) TUN full"
	(( gap <= MAX_GAP )) || fail "$tr round $r: a transfer stalled for $gap ms" \
		"(limit $MAX_GAP); per client (up sha, gap, down sha, gap, ms):" \
		"$(for n in $(seq $N); do echo "c$n $(cat "$T/r$n.out")"; done)"
	(( gap <= MAX_SEEN )) || MAX_SEEN=$gap
	(( ms <= SLOWEST )) || SLOWEST=$ms
}

for tr in ${TRANSPORTS:-dtls tls}; do
	if [[ $tr == tls ]]; then
		clients_down
		for n in $(seq $N); do
			sed -i 's/^tun = .*/&\ntransport = "tls";/' "$T/c$n.conf"
		done
	fi
	clients_up "$tr"
	for r in $(seq "$ROUNDS"); do
		round "$tr" "$r"
	done
	ok "$tr: $ROUNDS round(s), $N clients x $SIZE bytes both ways at $LOSS% loss:" \
		"intact, no drop or reconnect; slowest round $SLOWEST ms, longest stall $MAX_SEEN ms"
	MAX_SEEN=0 SLOWEST=0
done
