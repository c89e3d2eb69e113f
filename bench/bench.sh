#!/usr/bin/env bash
# bench.sh - make bench: vpnd beside its peers, in one run, on one topology.
#
#   [client] c0 198.18.1.2 --- s1 198.18.1.1 [server] s0 198.19.0.1 --- i0 198.19.0.2 [inet]
#            tunnel device  ====== VPN ======  tunnel device, masquerade out of s0
#
# For each contender (plain forwarding, vpnd over DTLS, vpnd over TLS,
# OpenVPN, wireguard-go, ocserv + openconnect) the three namespaces are made
# anew, the contender is started, and from the client to the internet host
# the bench measures: BENCH_PINGS pings (500, -i 0.005: RTT p50 and p99),
# iperf3 TCP upload then download (-R), one stream, then 4 streams,
# BENCH_SECONDS each, 64-byte UDP; the VPN processes' peak RSS and the CPU
# time they spent per GB moved. A contender that cannot be set up is
# reported as "n/a (reason)" and the run goes on. Results: a table and the
# vpnd/best-peer ratios on stdout, JSON in $BENCH_OUT (build/bench/results.json).
#
# Everything lives in namespaces this script creates, in a temp dir, and in
# processes it started; all of it is removed on exit, also on Ctrl-C.
set -u
if [[ $(id -u) != 0 ]]; then
	echo "make bench needs root (network namespaces, TUN, nftables)" >&2
	exit 1
fi
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
: "${BIN_DIR:=$ROOT/bin}"
: "${BENCH_SECONDS:=5}"
: "${BENCH_OUT:=$ROOT/build/bench/results.json}"
: "${BENCH_ONLY:=}"		# e.g. "plain vpnd-dtls": run only these
# The documented defaults, not the tests' short timers.
KEEPALIVE=10
DEAD_PEER_TIMEOUT=30
source "$ROOT/tests/e2e/lib.sh"
unset ASAN_OPTIONS UBSAN_OPTIONS
TAG=vb$$
NS_S=$TAG-srv
NS_I=$TAG-inet
NS_C=$TAG-c1
SERVER_IP=198.18.1.1
CLK_TCK=$(getconf CLK_TCK)
RES=$T/results.jsonl
: >"$RES"

trap 'down; cleanup' EXIT
trap 'exit 130' INT TERM

log() { printf '# %s\n' "$*" >&2; }
nsrun() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }

# down: end this contender's processes (and their children) by PID, then
# delete its namespaces.
down() {
	local pid kids=() ns
	for pid in "${PIDS[@]}"; do
		kids+=($(pgrep -P "$pid" 2>/dev/null || true))
	done
	for pid in "${PIDS[@]}" "${kids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}" "${kids[@]}"; do
		wait_pid_gone "$pid" 5 || kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
	for ns in "$NS_C" "$NS_S" "$NS_I"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	CLIENT_NS=()
}

# up: the three namespaces, the internet host's iperf3 server, forwarding on
# the server. Masquerade for contenders that don't do their own NAT: nat_on.
up() {
	topo_up
	client_ns 1
	in_ns "$NS_S" sysctl -qw net.ipv4.ip_forward=1
	bg_ns "$NS_I" iperf3 -s -p 5201 >"$T/iperf3-server.log" 2>&1
	PIDS+=($!)
	wait_until 10 in_ns "$NS_I" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5201' ||
		{ REASON="iperf3 server did not start"; return 1; }
}
nat_on() {
	in_ns "$NS_S" nft -f - <<-NFT
	table ip vpnbench {
		chain post { type nat hook postrouting priority srcnat; policy accept; oifname "s0" masquerade; }
	}
	NFT
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# tree PID...: the PIDs and all their descendants (ocserv's workers,
# vpnd's privileged helper, openvpn's none).
tree() {
	local p
	for p in "$@"; do
		echo "$p"
		tree $(pgrep -P "$p" 2>/dev/null)
	done
}
# ticks_of PID...: the CPU ticks of each, "pid:ticks" per line.
ticks_of() { local p; for p in "$@"; do echo "$p:$(cpu_ticks "$p")"; done; }

# iperf NAME ARGS...: one iperf3 run from the client to the internet host,
# its JSON in $T/NAME.json; 1 on failure (REASON set).
iperf() {
	local name=$1 j=$T/$1.json; shift
	timeout -k 5 $(( BENCH_SECONDS + 30 )) nsenter --net="/run/netns/$NS_C" -- \
		iperf3 -c "$INET_IP" -p 5201 -t "$BENCH_SECONDS" -J --connect-timeout 5000 "$@" >"$j" 2>&1
	jq -e '(.end.sum_received.bytes // .end.sum.bytes // 0) > 0' "$j" >/dev/null 2>&1 ||
		{ REASON="iperf3 $name failed: $(jq -r '.error // empty' "$j" 2>/dev/null | head -c 80)"; return 1; }
}

# profile WHAT PID: perf record of PID (call graphs) while the next phase
# runs; PROFILE=1, vpnd only, first round only.
PERF_PIDS=()
profile() {
	[[ ${PROFILE:-0} == 1 && $ROUND == 1 ]] && command -v perf >/dev/null || return 0
	perf record -q -g -p "$2" -o "$T/perf-$1.data" -- sleep "$BENCH_SECONDS" >/dev/null 2>&1 &
	PERF_PIDS+=("$!:$1")
}
profile_done() {
	local e pid what out
	for e in "${PERF_PIDS[@]}"; do
		pid=${e%%:*} what=${e#*:}
		wait "$pid" 2>/dev/null
		out=$(dirname "$BENCH_OUT")/profile-$what.txt
		perf report -q --stdio --no-children -i "$T/perf-$what.data" --percent-limit 0.5 \
			2>/dev/null | grep -v '^$' | head -n 400 >"$out"
		log "profile: $out"
	done
	PERF_PIDS=()
}

# measure NAME PROCS...: from the client to the internet host, PINGS pings
# (RTT p50/p99), TCP one stream up then down, 4 streams up, 64-byte UDP at
# full rate; PROCS are the VPN's processes (both ends), whose CPU over the
# TCP runs and whose peak RSS count.
# 500 at 5 ms: p99 is then the fifth-worst sample, not the second.
PINGS=${BENCH_PINGS:-500}
measure() {
	local name=$1; shift
	local procs rtts t0 t1 cpu hwm p
	procs=($(tree "$@"))
	nsrun "$NS_C" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null 2>&1 ||
		{ REASON="no ping through the tunnel"; return 1; }
	rtts=$(nsrun "$NS_C" ping -n -c "$PINGS" -i 0.005 -W 2 "$INET_IP" 2>/dev/null |
		sed -n 's/.* time=\([0-9.]*\) ms$/\1/p' | sort -g | tr '\n' ' ')
	t0=$(ticks_of "${procs[@]}")
	if [[ $name == vpnd-* ]]; then
		profile "$name-server" "$SERVER_PID"
		profile "$name-client" "$CLIENT_PID"
	fi
	iperf tcp1-up -P 1 || return 1
	profile_done
	iperf tcp1-down -P 1 -R || return 1
	iperf tcp4-up -P 4 || return 1
	t1=$(ticks_of "${procs[@]}")
	iperf udp64 -u -l 64 -b 0 || return 1
	cpu=0 hwm=0
	for p in "${procs[@]}"; do
		cpu=$(( cpu + $(grep "^$p:" <<<"$t1" | cut -d: -f2) - $(grep "^$p:" <<<"$t0" | cut -d: -f2) ))
		hwm=$(( hwm + $(hwm_kb "$p") ))
	done
	[[ -z $AFTER ]] || $AFTER
	jq -cn --arg name "$name" --argjson round "$ROUND" --arg rtts "$rtts" \
		--slurpfile u "$T/tcp1-up.json" --slurpfile d "$T/tcp1-down.json" \
		--slurpfile m "$T/tcp4-up.json" --slurpfile g "$T/udp64.json" \
		--argjson cpu "$cpu" --argjson hz "$CLK_TCK" --argjson rss "$hwm" \
		--argjson nprocs "${#procs[@]}" --arg notes "$NOTES" '
		def pct($a; $q): if ($a | length) == 0 then null
			else $a[([(($a | length) * $q | ceil) - 1, 0] | max)] end;
		($rtts | split(" ") | map(select(. != "") | tonumber)) as $r |
		($u[0].end.sum_received) as $U | ($d[0].end.sum_received) as $D |
		($m[0].end.sum_received) as $M | ($g[0].end.sum) as $G |
		($U.bytes + $D.bytes + $M.bytes) as $bytes | {
			name: $name, round: $round, status: "ok", notes: $notes,
			tcp1_up_mbps: ($U.bits_per_second / 1e6),
			tcp1_down_mbps: ($D.bits_per_second / 1e6),
			tcp4_up_mbps: ($M.bits_per_second / 1e6),
			udp64_kpps: ((($G.packets - $G.lost_packets) / $G.seconds) / 1e3),
			udp64_loss_pct: $G.lost_percent,
			rtt_p50_us: (pct($r; 0.5) * 1000 | round),
			rtt_p99_us: (pct($r; 0.99) * 1000 | round),
			pings: ($r | length),
			retransmits: ($u[0].end.sum_sent.retransmits + $d[0].end.sum_sent.retransmits),
			tcp_bytes: $bytes,
			processes: $nprocs,
			cpu_s_per_gb: (if $nprocs > 0 then ($cpu / $hz) / ($bytes / 1e9) else null end),
			peak_rss_mb: (if $nprocs > 0 then $rss / 1024 else null end)
		}' >>"$RES"
}

# ---- contenders: each sets up its VPN on a fresh topology and sets
# VPN_PROCS (both ends' PIDs; their descendants count too: CPU and memory)
# and NOTES; on failure
# it sets REASON and returns 1.

c_plain() {
	up || return 1
	nat_on
	in_ns "$NS_C" ip route add 198.19.0.0/24 via "$SERVER_IP"
	VPN_PROCS=()
	NOTES="kernel forwarding and masquerade, no tunnel (the server's work is kernel time, not counted)"
}

vpnd_up() { # vpnd_up TRANSPORT
	up || return 1
	server_conf
	client_conf alice 1
	[[ $1 == tls ]] && sed -i 's/^tun = .*/&\ntransport = "tls";/' "$T/alice.conf"
	bg_ns "$NS_S" "$VPND" -c "$T/server.conf" >>"$T/server.log" 2>&1
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_until 10 test -S "$T/server.sock" || { REASON="vpnd server did not start: $(tail -1 "$T/server.log")"; return 1; }
	allow alice "$("$VPNCTL" fingerprint "$T/alice.crt")"
	start_client alice 1
	wait_until 15 client_up alice || { REASON="vpnd client did not connect: $(tail -1 "$T/alice.log")"; return 1; }
	wait_until 10 eval "[[ \$(transport_of alice) == $1 ]]" ||
		{ REASON="client transport is $(transport_of alice), not $1"; return 1; }
	VPN_PROCS=("$SERVER_PID" "$CLIENT_PID")
	NOTES="transport $1, tun mtu $(in_ns "$NS_C" cat /sys/class/net/vpn0/mtu)"
	AFTER="vpnd_check $1"
}
vpnd_check() { # after the run: still on the transport it started on?
	local now
	now=$(ctl_s peers --json 2>/dev/null | jq -r '.[0].transport')
	[[ $now == "$1" ]] || NOTES="$NOTES; server-side transport after the run: $now"
}
c_vpnd_dtls() { vpnd_up dtls; }
c_vpnd_tls() { vpnd_up tls; }
# BENCH_BASE=DIR (a bin/ of another build, e.g. the commit before a change):
# the same two contenders as base-dtls and base-tls, interleaved with the
# rest, for a before/after in one run.
base_up() {
	local v=$VPND c=$VPNCTL rc=0
	VPND=$BENCH_BASE/vpnd VPNCTL=$BENCH_BASE/vpnctl
	vpnd_up "$1" || rc=1
	VPND=$v VPNCTL=$c
	NOTES="$NOTES; binaries from $BENCH_BASE"
	return $rc
}
c_base_dtls() { base_up dtls; }
c_base_tls() { base_up tls; }

# A small PKI for OpenVPN and ocserv: a CA, a server certificate (with the
# server's underlay address), a client certificate; EC P-256.
pki() {
	[[ -f $T/pki/ca.crt ]] && return 0
	mkdir -p -m 700 "$T/pki" && (
		cd "$T/pki" || exit 1
		umask 077
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj /CN=bench-ca -keyout ca.key -out ca.crt
		for n in server client; do
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
				-subj "/CN=$n" -keyout "$n.key" -out "$n.csr"
		done
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-out server.crt -extfile <(printf '%s\n' 'subjectAltName=IP:198.18.1.1' \
			'keyUsage=critical,digitalSignature,keyAgreement' 'extendedKeyUsage=serverAuth')
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-out client.crt -extfile <(printf '%s\n' \
			'keyUsage=critical,digitalSignature,keyAgreement' 'extendedKeyUsage=clientAuth')
	) >"$T/pki.log" 2>&1 || { REASON="openssl PKI: $(tail -1 "$T/pki.log")"; return 1; }
}

c_openvpn() {
	command -v openvpn >/dev/null || { REASON="openvpn not installed"; return 1; }
	up || return 1
	pki || return 1
	nat_on
	local p=$T/pki
	cat >"$T/ovpn-server.conf" <<-EOF
	dev tun
	dev-type tun
	disable-dco
	proto udp
	local $SERVER_IP
	port 1194
	topology subnet
	server 10.9.0.0 255.255.255.0
	push "route 198.19.0.0 255.255.255.0"
	ca $p/ca.crt
	cert $p/server.crt
	key $p/server.key
	dh none
	data-ciphers AES-256-GCM
	tun-mtu 1400
	keepalive 10 30
	verb 3
	EOF
	cat >"$T/ovpn-client.conf" <<-EOF
	client
	dev tun
	dev-type tun
	disable-dco
	proto udp
	remote $SERVER_IP 1194
	nobind
	ca $p/ca.crt
	cert $p/client.crt
	key $p/client.key
	remote-cert-tls server
	data-ciphers AES-256-GCM
	tun-mtu 1400
	verb 3
	EOF
	bg_ns "$NS_S" openvpn --config "$T/ovpn-server.conf" >"$T/ovpn-server.log" 2>&1
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	bg_ns "$NS_C" openvpn --config "$T/ovpn-client.conf" >"$T/ovpn-client.log" 2>&1
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
	wait_until 20 grep -q 'Initialization Sequence Completed' "$T/ovpn-client.log" ||
		{ REASON="openvpn did not connect: $(grep -E 'ERROR|error|fatal' "$T"/ovpn-*.log | tail -1 | cut -c1-120)"; return 1; }
	VPN_PROCS=("$SERVER_PID" "$CLIENT_PID")
	local cipher
	cipher=$(grep -o "Data Channel: cipher '[^']*'" "$T/ovpn-client.log" | head -1 | cut -d"'" -f2)
	NOTES="UDP, tun, ${cipher:-AES-256-GCM}, PKI (EC P-256), tun-mtu 1400, no DCO"
}

c_wireguard_go() {
	command -v wireguard-go >/dev/null && command -v wg >/dev/null ||
		{ REASON="wireguard-go or wg not installed"; return 1; }
	up || return 1
	nat_on
	(umask 077; wg genkey >"$T/wg-s.key" && wg genkey >"$T/wg-c.key")
	local spub cpub
	spub=$(wg pubkey <"$T/wg-s.key") cpub=$(wg pubkey <"$T/wg-c.key")
	WG_PROCESS_FOREGROUND=1 bg_ns "$NS_S" wireguard-go -f wgs0 >"$T/wg-server.log" 2>&1
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	WG_PROCESS_FOREGROUND=1 bg_ns "$NS_C" wireguard-go -f wgc0 >"$T/wg-client.log" 2>&1
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
	wait_until 10 in_ns "$NS_S" wg show wgs0 && wait_until 10 in_ns "$NS_C" wg show wgc0 ||
		{ REASON="wireguard-go did not start: $(tail -1 "$T/wg-server.log")"; return 1; }
	in_ns "$NS_S" wg set wgs0 listen-port 51820 private-key "$T/wg-s.key" \
		peer "$cpub" allowed-ips 10.10.0.2/32
	in_ns "$NS_S" ip addr add 10.10.0.1/24 dev wgs0
	in_ns "$NS_S" ip link set wgs0 up
	in_ns "$NS_C" wg set wgc0 private-key "$T/wg-c.key" \
		peer "$spub" endpoint "$SERVER_IP:51820" allowed-ips 0.0.0.0/0
	in_ns "$NS_C" ip addr add 10.10.0.2/24 dev wgc0
	in_ns "$NS_C" ip link set wgc0 up
	in_ns "$NS_C" ip route add 198.19.0.0/24 dev wgc0
	VPN_PROCS=("$SERVER_PID" "$CLIENT_PID")
	NOTES="userspace wireguard-go $(dpkg-query -W -f='${Version}' wireguard-go 2>/dev/null), mtu $(in_ns "$NS_C" cat /sys/class/net/wgc0/mtu)"
}

c_ocserv() {
	command -v ocserv >/dev/null && command -v openconnect >/dev/null ||
		{ REASON="ocserv or openconnect not installed"; return 1; }
	up || return 1
	pki || return 1
	nat_on
	local pin
	printf 'bench:*:%s\n' "$(openssl passwd -6 benchpw)" >"$T/ocpasswd"
	# The workers run as nobody and connect to sec-mod's socket: let them
	# through the temp dir (not list it) to a directory of their own.
	chmod 711 "$T"
	mkdir -p -m 755 "$T/ocrun"
	cat >"$T/ocserv.conf" <<-EOF
	auth = "plain[passwd=$T/ocpasswd]"
	listen-host = $SERVER_IP
	tcp-port = 4443
	udp-port = 4443
	run-as-user = nobody
	run-as-group = nogroup
	socket-file = $T/ocrun/ocserv.sock
	pid-file = $T/ocserv.pid
	server-cert = $T/pki/server.crt
	server-key = $T/pki/server.key
	ca-cert = $T/pki/ca.crt
	isolate-workers = true
	max-clients = 4
	max-same-clients = 4
	keepalive = 300
	dpd = 60
	mobile-dpd = 300
	try-mtu-discovery = false
	tls-priorities = "NORMAL:%SERVER_PRECEDENCE:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"
	auth-timeout = 240
	cookie-timeout = 300
	deny-roaming = false
	rekey-time = 172800
	rekey-method = ssl
	use-occtl = false
	device = vpns
	predictable-ips = true
	ipv4-network = 10.11.0.0
	ipv4-netmask = 255.255.255.0
	route = 198.19.0.0/255.255.255.0
	cisco-client-compat = true
	dtls-legacy = true
	EOF
	# openconnect's own interface script: address, MTU, one route; no DNS.
	cat >"$T/oc-script.sh" <<-'EOF'
	#!/bin/sh
	case "$reason" in
	connect)
		ip link set dev "$TUNDEV" up mtu "${INTERNAL_IP4_MTU:-1400}"
		ip addr add "$INTERNAL_IP4_ADDRESS/32" dev "$TUNDEV"
		ip route add 198.19.0.0/24 dev "$TUNDEV"
		;;
	esac
	exit 0
	EOF
	chmod 755 "$T/oc-script.sh"
	bg_ns "$NS_S" ocserv -f -c "$T/ocserv.conf" >"$T/ocserv.log" 2>&1
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	wait_until 10 nsrun "$NS_C" bash -c "exec 3<>/dev/tcp/$SERVER_IP/4443" ||
		{ REASON="ocserv did not start: $(tail -1 "$T/ocserv.log")"; return 1; }
	pin=$(openssl x509 -in "$T/pki/server.crt" -pubkey -noout | openssl pkey -pubin -outform der |
		openssl dgst -sha256 -binary | base64)
	echo benchpw >"$T/ocpass"
	nsenter --net="/run/netns/$NS_C" -- openconnect --protocol=anyconnect --non-inter \
		--user=bench --passwd-on-stdin --servercert "pin-sha256:$pin" --interface oc0 \
		--script "$T/oc-script.sh" "https://$SERVER_IP:4443/" \
		<"$T/ocpass" >"$T/openconnect.log" 2>&1 &
	CLIENT_PID=$!
	PIDS+=("$CLIENT_PID")
	wait_until 20 grep -q 'Established DTLS connection' "$T/openconnect.log" ||
		{ REASON="openconnect: no DTLS: $(tail -1 "$T/openconnect.log" | cut -c1-100)"; return 1; }
	wait_until 5 eval "in_ns $NS_C ip route get $INET_IP | grep -q oc0" ||
		{ REASON="openconnect: no route through oc0"; return 1; }
	# The data path runs in ocserv's per-client worker: measure() counts
	# ocserv's whole process tree (main, sec-mod, worker) and openconnect.
	VPN_PROCS=("$SERVER_PID" "$CLIENT_PID")
	local suite
	suite=$(grep -o 'Established DTLS connection.*' "$T/openconnect.log" | head -1 | grep -o '([^)]*)-([^)]*)-([^)]*)' )
	NOTES="DTLS ${suite:-?}, password auth, mtu $(in_ns "$NS_C" cat /sys/class/net/oc0/mtu 2>/dev/null); RSS and CPU: ocserv main + sec-mod + worker, openconnect"
}

# ---- the run: ROUNDS rounds, each running every contender once in the
# same order (A B C A B C ...), so a busy spell of the machine spreads over
# all of them; the report takes medians and min-max.

: "${BENCH_ROUNDS:=3}"
CONTENDERS=(plain:c_plain vpnd-dtls:c_vpnd_dtls vpnd-tls:c_vpnd_tls
	openvpn:c_openvpn wireguard-go:c_wireguard_go ocserv:c_ocserv)
[[ -z ${BENCH_BASE:-} ]] || CONTENDERS+=(base-dtls:c_base_dtls base-tls:c_base_tls)
log "bench: $BENCH_ROUNDS rounds, ${BENCH_SECONDS}s per run, $(nproc) cores, $(uname -r)"
mkdir -p "$(dirname "$BENCH_OUT")"
START=$SECONDS
for ROUND in $(seq "$BENCH_ROUNDS"); do
	for c in "${CONTENDERS[@]}"; do
		name=${c%%:*} fn=${c#*:}
		[[ -z $BENCH_ONLY || " $BENCH_ONLY " == *" $name "* ]] || continue
		log "== round $ROUND: $name"
		REASON= NOTES= AFTER= VPN_PROCS=() CLIENT_PID= SERVER_PID=
		if $fn && measure "$name" "${VPN_PROCS[@]}"; then
			log "$(tail -1 "$RES" | jq -r '"tcp up \(.tcp1_up_mbps|round) down \(.tcp1_down_mbps|round) x4 \(.tcp4_up_mbps|round) Mbit/s, udp64 \(.udp64_kpps*10|round/10) kpps, rtt p50 \(.rtt_p50_us) p99 \(.rtt_p99_us) us"')"
		else
			log "n/a: ${REASON:-setup failed}"
			[[ -n ${BENCH_DEBUG:-} ]] && show_logs >&2
			jq -cn --arg name "$name" --argjson round "$ROUND" --arg r "${REASON:-setup failed}" \
				'{name: $name, round: $round, status: "n/a", reason: $r}' >>"$RES"
		fi
		profile_done
		down
		rm -f "$T"/server.* "$T"/alice.* "$T"/peers.conf
	done
done
log "bench: $(( SECONDS - START )) s"

python3 "$BENCH_DIR/report.py" "$RES" "$BENCH_OUT" "$BENCH_SECONDS" "$BENCH_ROUNDS" "$PINGS"
