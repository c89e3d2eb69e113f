#!/usr/bin/env bash
# bench.sh - make bench: vpnd beside its peers, in one run, on one topology.
#
#   [client] c0 198.18.1.2 --- s1 198.18.1.1 [server] s0 198.19.0.1 --- i0 198.19.0.2 [inet]
#            tunnel device  ====== VPN ======  tunnel device, masquerade out of s0
#
# For each contender (plain forwarding, vpnd over DTLS, vpnd over TLS,
# OpenVPN, wireguard-go, ocserv + openconnect) the three namespaces are made
# anew, the contender is started, and from the client to the internet host
# the bench measures: 20 pings (-i 0.05), iperf3 TCP upload then download
# (-R), one stream, BENCH_SECONDS each; then the server process's VmRSS and
# the CPU time it spent per GB moved. A contender that cannot be set up is
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
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
sum_over() { # sum_over FUNC PID...
	local f=$1 t=0 p; shift
	for p in "$@"; do t=$(( t + $($f "$p") )); done
	echo "$t"
}

# measure NAME PROCS...: pings, iperf3 up and down from the client to the
# internet host; PROCS are the server's processes whose CPU and RSS count.
measure() {
	local name=$1; shift
	local procs=("$@") t0 t1 rtt up down j
	nsrun "$NS_C" ping -c 3 -i 0.2 -W 2 "$INET_IP" >/dev/null 2>&1 ||
		{ REASON="no ping through the tunnel"; return 1; }
	rtt=$(nsrun "$NS_C" ping -q -c 20 -i 0.05 -W 2 "$INET_IP" 2>/dev/null |
		awk -F/ '/^rtt|^round-trip/ { print $5 }')
	t0=$(sum_over cpu_ticks "${procs[@]}")
	for dir in up down; do
		j=$T/$name-$dir.json
		timeout -k 5 $(( BENCH_SECONDS + 30 )) nsenter --net="/run/netns/$NS_C" -- \
			iperf3 -c "$INET_IP" -p 5201 -t "$BENCH_SECONDS" -P 1 -J --connect-timeout 5000 \
			$([[ $dir == down ]] && echo -R) >"$j" 2>&1
		jq -e '.end.sum_received.bytes > 0' "$j" >/dev/null 2>&1 ||
			{ REASON="iperf3 $dir failed: $(jq -r '.error // empty' "$j" 2>/dev/null | head -c 80)"; return 1; }
	done
	t1=$(sum_over cpu_ticks "${procs[@]}")
	[[ -z $AFTER ]] || $AFTER
	jq -cn --arg name "$name" --arg rtt "${rtt:-0}" \
		--slurpfile u "$T/$name-up.json" --slurpfile d "$T/$name-down.json" \
		--argjson cpu "$(( t1 - t0 ))" --argjson hz "$CLK_TCK" \
		--argjson rss "$( (( ${#procs[@]} )) && sum_over rss_kb "${procs[@]}" || echo null)" \
		--argjson nprocs "${#procs[@]}" --arg notes "$NOTES" '
		($u[0].end.sum_received) as $U | ($d[0].end.sum_received) as $D |
		($U.bytes + $D.bytes) as $bytes | {
			name: $name, status: "ok", notes: $notes,
			up_gbps: ($U.bits_per_second / 1e9), down_gbps: ($D.bits_per_second / 1e9),
			up_retransmits: $u[0].end.sum_sent.retransmits,
			down_retransmits: $d[0].end.sum_sent.retransmits,
			rtt_ms: ($rtt | tonumber),
			bytes_moved: $bytes,
			server_rss_mb: (if $nprocs > 0 then $rss / 1024 else null end),
			server_cpu_s: (if $nprocs > 0 then $cpu / $hz else null end),
			server_cpu_s_per_gb: (if $nprocs > 0 then ($cpu / $hz) / ($bytes / 1e9) else null end)
		}' >>"$RES"
}

# ---- contenders: each sets up its VPN on a fresh topology and sets
# SERVER_PROCS (the PIDs whose CPU and memory count) and NOTES; on failure
# it sets REASON and returns 1.

c_plain() {
	up || return 1
	nat_on
	in_ns "$NS_C" ip route add 198.19.0.0/24 via "$SERVER_IP"
	SERVER_PROCS=()
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
	SERVER_PROCS=("$SERVER_PID")
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
	PIDS+=($!)
	wait_until 20 grep -q 'Initialization Sequence Completed' "$T/ovpn-client.log" ||
		{ REASON="openvpn did not connect: $(grep -E 'ERROR|error|fatal' "$T"/ovpn-*.log | tail -1 | cut -c1-120)"; return 1; }
	SERVER_PROCS=("$SERVER_PID")
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
	PIDS+=($!)
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
	SERVER_PROCS=("$SERVER_PID")
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
	PIDS+=($!)
	wait_until 20 grep -q 'Established DTLS connection' "$T/openconnect.log" ||
		{ REASON="openconnect: no DTLS: $(tail -1 "$T/openconnect.log" | cut -c1-100)"; return 1; }
	wait_until 5 eval "in_ns $NS_C ip route get $INET_IP | grep -q oc0" ||
		{ REASON="openconnect: no route through oc0"; return 1; }
	# The data path runs in ocserv's per-client worker: count ocserv's
	# whole process tree (main, sec-mod, worker).
	SERVER_PROCS=("$SERVER_PID" $(pgrep -P "$SERVER_PID"))
	local suite
	suite=$(grep -o 'Established DTLS connection.*' "$T/openconnect.log" | head -1 | grep -o '([^)]*)-([^)]*)-([^)]*)' )
	NOTES="DTLS ${suite:-?}, password auth, mtu $(in_ns "$NS_C" cat /sys/class/net/oc0/mtu 2>/dev/null); RSS and CPU: main + sec-mod + worker"
}

# ---- the run

CONTENDERS=(plain:c_plain vpnd-dtls:c_vpnd_dtls vpnd-tls:c_vpnd_tls
	openvpn:c_openvpn wireguard-go:c_wireguard_go ocserv:c_ocserv)
log "bench: ${BENCH_SECONDS}s per direction, $(nproc) cores, $(uname -r)"
for c in "${CONTENDERS[@]}"; do
	name=${c%%:*} fn=${c#*:}
	[[ -z $BENCH_ONLY || " $BENCH_ONLY " == *" $name "* ]] || continue
	log "== $name"
	REASON= NOTES= AFTER= SERVER_PROCS=()
	if $fn && measure "$name" "${SERVER_PROCS[@]}"; then
		log "$(tail -1 "$RES" | jq -r '"up \(.up_gbps*1000|round/1000) Gbit/s, down \(.down_gbps*1000|round/1000) Gbit/s, rtt \(.rtt_ms) ms"')"
	else
		log "n/a: ${REASON:-setup failed}"
		[[ -n ${BENCH_DEBUG:-} ]] && show_logs >&2
		jq -cn --arg name "$name" --arg r "${REASON:-setup failed}" \
			'{name: $name, status: "n/a", reason: $r}' >>"$RES"
	fi
	down
	rm -f "$T"/server.* "$T"/alice.* "$T"/peers.conf
done

mkdir -p "$(dirname "$BENCH_OUT")"
python3 "$BENCH_DIR/report.py" "$RES" "$BENCH_OUT" "$BENCH_SECONDS"
